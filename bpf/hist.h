/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hist.h: the latency histogram every aggregating BPF program fills
 * (funclatency, states --aggregate) and user space reads
 * (gotrace/aggregate/hist.h), shared so both sides agree on the buckets.
 *
 * Log-linear buckets over nanoseconds: values below HIST_SUB have a bucket
 * each; above, every power of two [2^k, 2^(k+1)) is split into HIST_SUB
 * equal buckets, so a bucket's width is at most 1/HIST_SUB (6.25 %) of its
 * lower bound.  Powers of two are bucket boundaries, so bcc-style log2
 * buckets are exact sums of these.  Values from 2^HIST_MAX_BITS ns (about
 * 18 minutes) on share the last bucket, HIST_OVERFLOW.
 *
 * A histogram is HIST_NB __u64 counters; in a BPF array of several
 * histograms, histogram i starts at index i * HIST_NB.
 *
 * Pure integer code, no helpers: hist_bucket() is the same function in BPF
 * and in user space (tests/unit/test_hist.c checks it).
 */
#ifndef GOTRACE_BPF_HIST_H
#define GOTRACE_BPF_HIST_H

#define HIST_SUB_BITS	4
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_MAX_BITS	40
/* buckets below 2^HIST_MAX_BITS, then the overflow bucket */
#define HIST_OVERFLOW	((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)
#define HIST_NB		(HIST_OVERFLOW + 1)

/* Log2 buckets (bcc's): slot s holds [2^(s-1), 2^s), slot 0 the value 0. */
#define HIST_LOG2_SLOTS	(HIST_MAX_BITS + 2)

/* floor(log2(v)) for v > 0, without a count-leading-zeros instruction
 * (BPF has none). */
static inline __attribute__((always_inline)) __u32 hist_msb(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/* The bucket of a value in ns: 0 .. HIST_NB - 1. */
static inline __attribute__((always_inline)) __u32 hist_bucket(__u64 v)
{
	__u32 k;

	if (v < HIST_SUB)
		return (__u32)v;
	k = hist_msb(v);
	if (k >= HIST_MAX_BITS)
		return HIST_OVERFLOW;
	return (k - HIST_SUB_BITS + 1) * HIST_SUB +
	       (__u32)((v >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The log2 slot of a value (bcc's bpf_log2l + 1: 0 for 0, 1 for 1, 2 for
 * 2-3, 3 for 4-7, ...); values from 2^HIST_MAX_BITS on go to the last. */
static inline __attribute__((always_inline)) __u32 hist_log2_slot(__u64 v)
{
	__u32 s;

	if (!v)
		return 0;
	s = hist_msb(v) + 1;
	return s < HIST_LOG2_SLOTS ? s : HIST_LOG2_SLOTS - 1;
}

#endif /* GOTRACE_BPF_HIST_H */
