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

struct fg_func {
	const char *name;	/* points into the gosym handle */
	uint64_t entry, end;
	uint8_t flag;		/* GOSYM_FLAG_* */
	uint32_t nrets;
};

struct fg_probes {
	struct fg_func *funcs;	/* index = cookie's function index */
	uint32_t nfuncs;
	uint64_t *offsets, *cookies;
	size_t n, cap;
	size_t skipped;		/* functions that failed to decode */
	size_t matched;		/* functions the patterns matched */
	size_t *pattern_hits;	/* per include pattern */
};

/*
 * Select the functions matching any of inc[] and none of exc[]; decode
 * each one's RET sites; fill offsets/cookies.  Decode failures are skipped
 * with a warning (gt_warn).  Returns 0 or a negative errno; -ENOENT with
 * p->pattern_hits telling which pattern matched nothing.
 */
int fg_probes_build(struct gosym *gs, char *const *inc, int ninc, char *const *exc, int nexc,
		    struct fg_probes *p);

/* Add one special probe (runtime.morestack, goexit0) by function name. */
int fg_probes_add_special(struct gosym *gs, struct fg_probes *p, const char *name,
			  uint32_t kind, uint64_t flags);

/* Remove every probe of the functions that have a bad[i] probe (and bad
 * special probes); warns; returns how many functions were dropped.  The
 * function table keeps its indices (cookies stay valid). */
size_t fg_probes_drop(struct fg_probes *p, const bool *bad);

void fg_probes_release(struct fg_probes *p);

/* Print (stderr) up to `max` function names close to pattern. */
void fg_suggest(struct gosym *gs, const char *pattern, int max);

/* Print (stderr) the packages with the most probes. */
void fg_heaviest_packages(const struct fg_probes *p, int max);

#endif
