/* SPDX-License-Identifier: MIT */
/*
 * funclatency's tally: per traced function, the calls that returned (with
 * their latency histogram, sum and maximum), those unwound by a panic or
 * Goexit and those evicted from a full track, read from the BPF maps of
 * bpf/funclatency.h, per interval and in total.
 *
 * The per-function totals are read first; a function's histogram only
 * when its totals moved, so a wide pattern with few busy functions costs
 * little to read.  Values are cumulative in BPF; an interval is the
 * difference between two reads.
 *
 * Functions return 0 or a negative errno and never print.
 */
#ifndef GOTRACE_FUNCLATENCY_HISTS_H
#define GOTRACE_FUNCLATENCY_HISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct fl_stat's fields, summed over CPUs (max_ns: the largest). */
struct fl_totals {
	uint64_t calls, sum_ns, max_ns, unwound, evicted;
};

/* One function's line in a report.  hist: HIST_NB buckets (bpf/hist.h),
 * valid until the next fl_hists_* call. */
struct fl_row {
	uint32_t func;
	struct fl_totals t;
	const uint64_t *hist;
};

struct fl_hists;

/* nfuncs functions; stats_fd and hists_fd: the maps `stats` and `hists`. */
int fl_hists_new(uint32_t nfuncs, int stats_fd, int hists_fd, struct fl_hists **out);
void fl_hists_free(struct fl_hists *h);

/* Read the maps. */
int fl_hists_update(struct fl_hists *h);

/* The calls since the previous fl_hists_interval() (or the start): rows of
 * the functions with calls or unwound calls in it, most time first.  The
 * interval's max_ns is an upper bound: its highest bucket's top, at most
 * the maximum so far.  *rows is allocated (free() it).  Starts the next
 * interval. */
int fl_hists_interval(struct fl_hists *h, struct fl_row **rows, size_t *n);

/* The same since the start (does not start an interval). */
int fl_hists_total(struct fl_hists *h, struct fl_row **rows, size_t *n);

#endif /* GOTRACE_FUNCLATENCY_HISTS_H */
