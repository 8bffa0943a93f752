/* SPDX-License-Identifier: MIT */
/*
 * funccount's tally: calls per function (and per goroutine) from the BPF
 * maps of bpf/funccount.h, with stack growth's second entry taken out
 * (calls = entry hits - runtime.morestack hits from the function), per
 * interval and in total.
 *
 * Update order: the entry counters are read before the morestack
 * counters, so a call whose stack is growing while the maps are read is
 * counted late, never twice: totals never go down from one update to the
 * next, and once the probes are gone (tracing over) they are exact.
 *
 * --per-goroutine: the (goroutine, function) counts of goroutines that
 * exited (the `dead` map) are read one last time, kept here, and deleted
 * from the BPF maps, so those stay as small as the live goroutines.
 *
 * Functions return 0 or a negative errno and never print.
 */
#ifndef GOTRACE_FUNCCOUNT_COUNTS_H
#define GOTRACE_FUNCCOUNT_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fc_func {
	const char *name;
	uint64_t entry, end;		/* link-time [entry, end) */
};

struct fc_counts_opts {
	const struct fc_func *funcs;	/* by the cookies' function index */
	uint32_t nfuncs;
	bool per_goroutine;
	int counts_fd, ms_fd;		/* the maps of bpf/funccount.bpf.c */
	int gcounts_fd, dead_fd;	/* --per-goroutine; else -1 */
};

/* One line of a table: a function's calls (goid -1), or one goroutine's. */
struct fc_row {
	int64_t goid;
	uint32_t func;
	uint64_t calls;
};

struct fc_counts_stats {
	uint64_t ms_untraced;		/* morestack hits from untraced functions */
	uint64_t goroutines;		/* --per-goroutine: goroutines seen */
	uint64_t reaped;		/* ... that exited and were moved out of BPF */
};

struct fc_counts;

int fc_counts_new(const struct fc_counts_opts *o, struct fc_counts **out);
void fc_counts_free(struct fc_counts *c);

/* Read the maps (and reap exited goroutines). */
int fc_counts_update(struct fc_counts *c);

/* The calls since the previous call of fc_counts_interval() (or since the
 * start): rows with calls > 0, per function or, with per_goroutine, per
 * (goroutine, function); most calls first, then by goid and function.
 * *rows is allocated (free() it).  Starts the next interval. */
int fc_counts_interval(struct fc_counts *c, struct fc_row **rows, size_t *n);

/* The same since the start (does not start an interval); per_goroutine
 * false gives per-function rows even when goroutines are counted. */
int fc_counts_total(struct fc_counts *c, bool per_goroutine, struct fc_row **rows, size_t *n);

void fc_counts_stats(const struct fc_counts *c, struct fc_counts_stats *s);

/* The function of index i (for the writers). */
const struct fc_func *fc_counts_func(const struct fc_counts *c, uint32_t i);

#endif /* GOTRACE_FUNCCOUNT_COUNTS_H */
