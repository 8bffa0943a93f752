/* SPDX-License-Identifier: MIT */
/*
 * funcgraph probe placement: which functions a set of patterns selects,
 * and the uprobe file offsets + attach cookies of their entries and RET
 * instructions (cookie layout in bpf/funcgraph.h).
 */
#ifndef GOTRACE_FUNCGRAPH_PROBES_H
#define GOTRACE_FUNCGRAPH_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gosym.h"
#include "probes/probe_class.h"

struct fg_func {
	const char *name;	/* points into the gosym handle */
	uint64_t entry, end;
	uint64_t site;		/* where its entry probe is (probes/sites.h) */
	uint8_t flag;		/* GOSYM_FLAG_* */
	uint32_t nrets;
};

struct sites;

struct fg_probes {
	struct fg_func *funcs;	/* index = cookie's function index */
	uint32_t nfuncs;
	uint64_t *offsets, *cookies;
	uint8_t *classes;	/* enum probe_class of each probe */
	size_t n, cap;
	size_t skipped;		/* functions that failed to decode */
	size_t matched;		/* functions the patterns matched, not excluded */
	size_t excluded;	/* functions the patterns matched, then -x excluded */
	size_t *pattern_hits;	/* per include pattern */
	struct sites *sites;	/* the site finder (kept for the specials) */
	unsigned int site_flags;/* SITES_* for the entry sites, set before
				 * fg_probes_build (--args: SITES_KEEP_ARGS) */
};

/*
 * Select the functions matching any of inc[] and none of exc[]; decode
 * each one's RET sites and choose its entry site (the cheapest equivalent
 * place, probes/sites.h); fill offsets/cookies/classes.  Decode failures
 * are skipped with a warning (gt_warn).  Returns 0 or a negative errno;
 * -ENOENT with p->pattern_hits telling which pattern matched nothing;
 * -EINTR when a stop signal arrived (tracing/signals.h).
 */
int fg_probes_build(struct gosym *gs, char *const *inc, int ninc, char *const *exc, int nexc,
		    struct fg_probes *p);

/* Add one special probe (runtime.morestack, goexit0) by function name, at
 * the function's entry site (after fg_probes_build). */
int fg_probes_add_special(struct gosym *gs, struct fg_probes *p, const char *name,
			  uint32_t kind, uint64_t flags);

/* Remove every probe of the functions that have a bad[i] probe (and bad
 * special probes); warns; returns how many functions were dropped.  The
 * function table keeps its indices (cookies stay valid). */
size_t fg_probes_drop(struct fg_probes *p, const bool *bad);

void fg_probes_release(struct fg_probes *p);

/* How many of the probes (or of the entry probes only) are of class c. */
size_t fg_probes_count(const struct fg_probes *p, enum probe_class c, bool entries_only);

/* Print (stderr) up to `max` function names close to pattern. */
void fg_suggest(struct gosym *gs, const char *pattern, int max);

/* Print (stderr) the packages with the most probes. */
void fg_heaviest_packages(const struct fg_probes *p, int max);

#endif
