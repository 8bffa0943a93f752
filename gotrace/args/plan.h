/* SPDX-License-Identifier: MIT */
/*
 * Compiling read plans (bpf/args.h) for one probe site: which registers,
 * stack slots and pointees to copy, where each lands in the blob, and what
 * the decoder needs to turn the blob back into values (format.h).
 *
 * A site shows a list of values: the arguments at a function's entry, its
 * results at a RET, or selected parts of them ("opts.TTL", "n.Next.Name").
 * Each value's own bytes come first (registers in its memory layout,
 * or one stack read); then, within the limits of struct ga_opts, what it
 * points to: string bytes, slice and array elements, pointees to
 * opts.depth levels, a map's length, a chan's length and capacity, a
 * func's code pointer, an interface's dynamic type and value (and, as a
 * guess checked later against the type, the string that value starts
 * with: the message of errors.New and fmt.Errorf values).  Reads that
 * don't fit the limits are left out, and the decoder says "truncated".
 *
 * Libraries don't print: errors are negative errno with a message in the
 * caller's buffer.
 */
#ifndef GOTRACE_ARGS_PLAN_H
#define GOTRACE_ARGS_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "args.h"
#include "gosym.h"
#include "args/abi.h"
#include "args/types.h"

struct ga_opts {
	uint32_t string_size;	/* bytes of a string (--string-size) */
	uint32_t elems;		/* elements of a slice or array (--elems) */
	uint32_t depth;		/* pointer levels followed (--args-depth) */
	uint32_t blob_max;	/* bytes per event (--args-size), <= GA_BLOB_MAX */
	uint32_t iface_bytes;	/* bytes of an interface's dynamic value */
};

#define GA_OPTS_DEFAULT { .string_size = 64, .elems = 8, .depth = 1, .blob_max = 1024, \
			  .iface_bytes = 64 }

/* One value to show: a parameter (or a register, raw mode), and
 * optionally a path of fields below it ("TTL", "Next.Name"; through
 * pointers). */
struct ga_input {
	const char *name;
	const struct ga_type *type;
	const struct ga_loc *loc;
	const char *path;	/* NULL: the whole value */
};

/* A value as compiled. */
struct ga_value {
	char *name;			/* "key", "opts.TTL" (owned) */
	const struct ga_type *type;
	uint16_t at;			/* blob offset of its bytes */
	uint16_t op;			/* the read of those bytes; GA_NONE: registers */
	bool cut;			/* its own bytes were not all read (budget) */
};

/* Bytes of a value that were in a floating-point register: BPF programs
 * see only the integer registers. */
struct ga_hole {
	uint16_t at, size;
	const char *reg;		/* "X0" */
};

struct ga_site {
	struct ga_plan plan;
	struct ga_value *vals;
	uint32_t nvals;
	struct ga_hole *holes;
	uint32_t nholes;
	bool cut;			/* some reads were left out (limits) */
	uint8_t ptr_size;
};

/* Compile the plan of n inputs.  On error (a path naming no field:
 * -ENOENT; a value too big for any plan: -E2BIG) why says what. */
int ga_site_compile(const struct gosym_abi *abi, const struct ga_opts *o,
		    const struct ga_input *in, uint32_t n, struct ga_site *s, char *why, size_t whylen);

/* Add a --filter condition on value v of the site: "== 42", "^= \"pre\"".
 * cmp/operand parsed by ga_filter_parse().  -EINVAL (why) when the
 * value's type can't be compared that way. */
struct ga_filter_term {
	char path[128];			/* "key", "opts.TTL" */
	enum ga_cmp cmp;
	bool is_string;
	__u64 ival;
	bool negative;
	char str[GA_COND_STR + 1];
};
int ga_site_add_cond(struct ga_site *s, const struct ga_value *v, const struct ga_filter_term *t,
		     char *why, size_t whylen);

/* Parse one term "PATH OP VALUE" (OP: == != < <= > >= ^=; VALUE: an
 * integer, true/false, or a "string" of at most GA_COND_STR bytes).
 * -EINVAL with why. */
int ga_filter_parse(const char *s, struct ga_filter_term *t, char *why, size_t whylen);

void ga_site_release(struct ga_site *s);

/* The DEREF op whose pointer is at blob offset base; -1 if none. */
int ga_site_deref(const struct ga_site *s, uint16_t base);

/* Two sites with the same plan and layout can share a plan slot. */
bool ga_site_same_plan(const struct ga_site *a, const struct ga_site *b);

#endif /* GOTRACE_ARGS_PLAN_H */
