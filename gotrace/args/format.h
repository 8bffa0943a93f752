/* SPDX-License-Identifier: MIT */
/*
 * Turning an event's blob back into values (docs/args.md): as text
 * ("key=\"user:42\", opts=main.Opts{TTL:30s, Fresh:true}") or as the JSON
 * array of docs/formats.md ([{"name","type","value","status"}...]).
 *
 * Only bytes a read of the plan completed are decoded; every value gets a
 * status: ok, nil, truncated (a limit cut it: string or slice longer than
 * read, elements, pointer depth, --args-size), unreadable (a read faulted,
 * or the value was in a floating-point register, which BPF programs
 * can't see), unsupported (a type or location this decoder doesn't know).
 *
 * Interfaces and funcs need the binary: the dynamic type's descriptor
 * (its name, kind, and the DWARF type to decode its value with) and the
 * name of a code address come from a resolver, which also undoes the load
 * bias of PIE binaries.
 */
#ifndef GOTRACE_ARGS_FORMAT_H
#define GOTRACE_ARGS_FORMAT_H

#include <stdio.h>

#include "args/plan.h"

/* A dynamic type, resolved from its runtime descriptor address. */
struct ga_rt {
	char name[256];			/* as %T prints it */
	uint8_t kind;			/* enum gosym_kind */
	bool direct;			/* the interface holds the value itself */
	const struct ga_type *type;	/* DWARF type; NULL if none */
};

struct ga_resolver {
	void *arg;
	/* runtime address of a type descriptor -> 0 or -errno */
	int (*rtype)(void *arg, uint64_t addr, struct ga_rt *out);
	/* runtime code address -> function name, or NULL */
	const char *(*func)(void *arg, uint64_t pc);
};

enum ga_status {
	GA_ST_OK,
	GA_ST_NIL,
	GA_ST_TRUNCATED,
	GA_ST_UNREADABLE,
	GA_ST_UNSUPPORTED,
};

const char *ga_status_name(enum ga_status st);

/* What one event says about a site. */
struct ga_event {
	const struct ga_site *site;
	const struct ga_hdr *h;
	const uint8_t *blob;
	uint32_t len;		/* bytes of blob present */
};

/* "name=value, name=value" (no parentheses). */
void ga_format_text(FILE *f, const struct ga_event *e, const struct ga_resolver *r);

/* [{"name":..,"type":..,"value":..,"status":..},...] */
void ga_format_json(FILE *f, const struct ga_event *e, const struct ga_resolver *r);

/* The status of value i alone (tests). */
enum ga_status ga_value_status(const struct ga_event *e, uint32_t i, const struct ga_resolver *r);

#endif /* GOTRACE_ARGS_FORMAT_H */
