/* SPDX-License-Identifier: MIT */
/*
 * histogram: the user-space side of the latency histograms the aggregating BPF
 * programs fill (bucket layout in bpf/hist.h): bucket bounds, totals,
 * percentiles, bcc-style log2 folding and printing, interval deltas.
 *
 * A histogram is an array of HIST_NB uint64_t counters, bucket b counting
 * the values v with hist_bucket(v) == b.  Nothing here allocates; the
 * caller owns every array.
 *
 * Percentiles are upper bounds: the p-th percentile is reported as the
 * highest value of the bucket that holds the value of rank ceil(p * N)
 * (at most 1/16 = 6.25 % above the true value, bpf/hist.h), and never more
 * than the largest value seen when the caller knows it.
 */
#ifndef GOTRACE_AGGREGATE_HISTOGRAM_H
#define GOTRACE_AGGREGATE_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "hist.h"	/* bpf/hist.h */

/* The smallest and the largest value of bucket b (inclusive); the overflow
 * bucket's largest is UINT64_MAX. */
uint64_t gt_hist_lo(uint32_t b);
uint64_t gt_hist_hi(uint32_t b);

/* Number of values counted. */
uint64_t gt_hist_count(const uint64_t *h);

/* The p-th percentile (0 < p <= 1) as an upper bound (above); max: the
 * largest value seen, or 0 if unknown.  0 for an empty histogram. */
uint64_t gt_hist_percentile(const uint64_t *h, double p, uint64_t max);

/* A lower bound of the sum of the values (each counted at its bucket's
 * smallest value): a mean for callers that did not keep the sum. */
uint64_t gt_hist_sum_lo(const uint64_t *h);

/* Fold into bcc's log2 slots (HIST_LOG2_SLOTS entries, bpf/hist.h):
 * exact, since powers of two are bucket boundaries. */
void gt_hist_log2(const uint64_t *h, uint64_t *slots);

/* dst = cur - prev, bucket by bucket (an interval's values); a bucket
 * that went down (a histogram reset under the reader) counts as 0.  dst
 * may be cur. */
void gt_hist_delta(uint64_t *dst, const uint64_t *cur, const uint64_t *prev);

/* dst += src. */
void gt_hist_add(uint64_t *dst, const uint64_t *src);

/* Print the log2 slots as bcc's tools do:
 *
 *            nsecs               : count     distribution
 *         1024 -> 2047           : 12       |****                    |
 *
 * from the first to the last non-empty slot; `indent` spaces before each
 * line.  Returns 0, or -EIO if a write failed. */
int gt_hist_print_log2(FILE *f, const uint64_t *slots, int indent);

/* ns in a short human form, the one every command prints: "812ns",
 * "12.3us", "4.56ms", "1.234s" (buf >= 16). */
const char *gt_fmt_ns(uint64_t ns, char *buf, size_t len);

#endif /* GOTRACE_AGGREGATE_HISTOGRAM_H */
