/* SPDX-License-Identifier: MIT */
/*
 * funcs: probes on Go functions, for funcgraph, funccount and funclatency:
 * which functions a set of patterns selects, the uprobe file offsets and
 * attach cookies (bpf/func_probe.h) of their entry sites (the cheapest
 * equivalent place, probes/sites.h) and RET instructions
 * (probes/retsites.h), the runtime's special probes, and attaching them.
 * Warnings about skipped functions go to stderr (gt_warn).
 */
#ifndef GOTRACE_PROBES_FUNCS_H
#define GOTRACE_PROBES_FUNCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "gosym.h"
#include "probes/probe_class.h"

struct bpf_program;
struct uprobes;

struct probed_func {
	const char *name;	/* points into the gosym handle */
	uint64_t entry, end;
	uint64_t site;		/* where its entry probe is (probes/sites.h) */
	uint8_t flag;		/* GOSYM_FLAG_* */
	uint32_t nrets;
};

struct sites;

struct func_probes {
	struct probed_func *funcs;	/* index = cookie's function index */
	uint32_t nfuncs;
	uint64_t *offsets, *cookies;
	uint8_t *classes;	/* enum probe_class of each probe */
	size_t n, cap;
	size_t skipped;		/* functions that failed to decode */
	size_t matched;		/* functions the patterns matched, not excluded */
	size_t excluded;	/* functions the patterns matched, then -x excluded */
	size_t *pattern_hits;	/* per include pattern */
	struct sites *sites;	/* the site finder (kept for the specials) */
	/* Set before func_probes_build(): */
	unsigned int site_flags;/* SITES_* for the entry sites (--args:
				 * SITES_KEEP_ARGS) */
	bool entries_only;	/* no RET probes (funccount) */
	bool need_ret;		/* leave out functions without a RET
				 * instruction (funclatency: nothing to time) */
	size_t noret;		/* functions left out by need_ret */
};

/*
 * Select the functions matching any of inc[] and none of exc[]; decode
 * each one's RET sites and choose its entry site (the cheapest equivalent
 * place, probes/sites.h); fill offsets/cookies/classes.  Decode failures
 * are skipped with a warning (gt_warn).  Returns 0 or a negative errno;
 * -ENOENT with p->pattern_hits telling which pattern matched nothing;
 * -EINTR when a stop signal arrived (tracing/signals.h).
 */
int func_probes_build(struct gosym *gs, char *const *inc, int ninc, char *const *exc, int nexc,
		    struct func_probes *p);

/* Add one special probe (runtime.morestack, goexit0) by function name, at
 * the function's entry site (after func_probes_build). */
int func_probes_add_special(struct gosym *gs, struct func_probes *p, const char *name,
			  uint32_t kind, uint64_t flags);

/* Remove every probe of the functions that have a bad[i] probe (and bad
 * special probes); warns; returns how many functions were dropped.  The
 * function table keeps its indices (cookies stay valid). */
size_t func_probes_drop(struct func_probes *p, const bool *bad);

void func_probes_release(struct func_probes *p);

/* How many of the probes (or of the entry probes only) are of class c. */
size_t func_probes_count(const struct func_probes *p, enum probe_class c, bool entries_only);

/* Print (stderr) up to `max` function names close to pattern. */
void func_probes_suggest(struct gosym *gs, const char *pattern, int max);

/* Print (stderr) the packages with the most probes. */
void func_probes_heaviest(const struct func_probes *p, int max);

/* What a command selects, for func_probes_select(). */
struct func_select {
	const char *cmd;		/* messages: "gotrace: CMD: ..." */
	char *const *patterns;
	int npatterns;
	char *const *exclude;
	int nexclude;
	long max_probes;		/* more probes need yes */
	bool yes;
};

/*
 * func_probes_build() for a command, with its messages: progress (what is
 * decoded, how many functions and probes), and one error line (0 or 1) for
 * a pattern that matches nothing (with close names), a placement failure,
 * no function left, or more probes than sel->max_probes without sel->yes
 * (with the heaviest packages).  exe and goversion name the binary.
 */
int func_probes_select(struct gosym *gs, const char *exe, const char *goversion,
		       const struct func_select *sel, struct func_probes *p);

/*
 * Attach prog at every probe of p into *ups (in process pid): one
 * uprobe_multi link (multi), where a site the kernel refuses (one fails the
 * whole link) is found with trial links of `trial` (a program that does
 * nothing, loaded for uprobe_multi) and its function left out; or one
 * perf-event uprobe per probe, with progress above 1,000 probes.  0 or a
 * negative errno (prints nothing but progress and the dropped functions).
 */
int func_probes_attach(struct func_probes *p, struct uprobes **ups, bool multi,
		       struct bpf_program *prog, struct bpf_program *trial, const char *path,
		       pid_t pid);

#endif
