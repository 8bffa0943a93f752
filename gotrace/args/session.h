/* SPDX-License-Identifier: MIT */
/*
 * --args for a tracing command: which functions get which values, their
 * read plans (one per distinct entry or RET site layout, shared between
 * functions with the same one), and the decoding of the events that carry
 * them (docs/args.md).
 *
 * Lifecycle: ga_session_open() (reads DWARF unless raw), then
 * ga_session_func() for each traced function (its plan indices go into
 * the probes' cookies), ga_session_finish() (checks that every --args
 * selection and --filter found something), the plans into the BPF map,
 * and for each event ga_session_text()/_json().  The load bias of a PIE
 * binary comes from the first entry event (ga_session_learn_bias()).
 */
#ifndef GOTRACE_ARGS_SESSION_H
#define GOTRACE_ARGS_SESSION_H

#include <stdio.h>

#include "args/format.h"
#include "args/plan.h"

enum ga_mode {
	GA_MODE_OFF,
	GA_MODE_ALL,		/* --args: every argument and result (of the
				 * functions no spec selects from) */
	GA_MODE_SELECT,		/* --args=SPEC: those of matching functions */
	GA_MODE_RAW,		/* --args=raw: the integer argument registers */
};

/* Check a --filter expression alone (for the command line): 0, or
 * -EINVAL with why. */
int ga_filter_check(const char *text, char *why, size_t whylen);

/* The length of the glob of a spec "GLOB(name, ...)" (the whole text when
 * it has no selection): a trailing "(...)" not right after a '.', so that
 * "main.(*T).M" is a name and "main.(*T).M(a)" a selection. */
size_t ga_spec_glob_len(const char *text);

struct ga_config {
	enum ga_mode mode;
	struct ga_opts opts;
	char *const *specs;	/* --args=SPEC: "GLOB" or "GLOB(name, name.field, $ret)" */
	int nspecs;
	char *const *filters;	/* --filter EXPR: "TERM && TERM", TERM as ga_filter_parse() */
	int nfilters;
};

struct ga_session;

/* -ENOENT (why: the binary has no DWARF) unless raw; -EINVAL (why) for a
 * malformed spec or filter; -EOPNOTSUPP for a binary whose calling
 * convention gosym doesn't know. */
int ga_session_open(struct gosym *gs, const char *path, const struct ga_config *c,
		    struct ga_session **out, char *why, size_t whylen);
void ga_session_free(struct ga_session *s);

/*
 * Plans for function f (traced with index fidx): *entry and *ret get plan
 * indices for the probes' cookies (0: nothing to read there), *filter
 * whether a --filter applies.  A function whose values can't be placed
 * gets no plans and a one-line *note (left NULL otherwise) the caller may
 * show; its calls then print "<unsupported: ...>".
 */
int ga_session_func(struct ga_session *s, uint32_t fidx, const struct gosym_func *f,
		    uint32_t *entry, uint32_t *ret, bool *filter, const char **note);

/* After every function: -ENOENT (why) if a --filter or a selection
 * named something no traced function has. */
int ga_session_finish(struct ga_session *s, char *why, size_t whylen);

/* Plans: indices 1 .. n-1 (0 is "none"). */
uint32_t ga_session_nplans(const struct ga_session *s);
const struct ga_plan *ga_session_plan(const struct ga_session *s, uint32_t idx);

/* Whether --args selected function fidx; whether it reads values at its
 * entry / at its RETs (a plan); the reason it can't when it was meant to
 * (NULL otherwise). */
bool ga_session_selected(const struct ga_session *s, uint32_t fidx);
bool ga_session_shows(const struct ga_session *s, uint32_t fidx, bool ret);
const char *ga_session_unsupported(const struct ga_session *s, uint32_t fidx);
/* Why function fidx's results can't be known (Go 1.17's DWARF has no
 * unnamed results, so a function listing none may still have some); NULL
 * when they are. */
const char *ga_session_ret_unknown(const struct ga_session *s, uint32_t fidx);

/* The first entry event of a function: its probe's runtime address ip
 * and link-time address site give the load bias. */
void ga_session_learn_bias(struct ga_session *s, uint64_t ip, uint64_t site);

/* The traceback argument layout of the function at entry (pclntab
 * FUNCDATA_ARGINFO), if it has one. */
bool ga_arginfo_of(const struct gosym *gs, const struct gosym_abi *abi, uint64_t entry,
		   struct ga_arginfo *ai);

/* Print the values of an event's payload (struct ga_hdr + blob): text
 * "a=1, b=\"x\"" or the JSON array.  -EPROTO for a payload that doesn't
 * match its plan (nothing printed). */
int ga_session_text(struct ga_session *s, FILE *f, const void *payload, size_t len);
int ga_session_json(struct ga_session *s, FILE *f, const void *payload, size_t len);

#endif /* GOTRACE_ARGS_SESSION_H */
