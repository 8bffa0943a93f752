/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared between bpf/funclatency.bpf.c and gotrace/funclatency/: the maps'
 * records, and the pairing of entries with returns that the BPF program
 * does per goroutine (compiled into the BPF program and, unchanged, into
 * tests/unit/test_fl_pair.c, which checks it against funcgraph's pairing
 * engine).  Fixed-width fields only, 8-byte fields first.
 *
 * Pairing (the rules of gotrace/funcgraph/pairing.h, docs/funclatency.md):
 * each goroutine (and the scheduler stack g0 working for it) has a track,
 * a stack of open calls keyed by dist = g.stack.hi - SP at the function's
 * entry, which is the same at the entry and at every RET of one call and
 * survives stack copying.
 *
 *   entry(F, d)   the top is (F, d) and runtime.morestack was the track's
 *                 last event, at d: the prologue running again after stack
 *                 growth, dropped.  Else every open call at dist >= d is
 *                 over without a RET (a panic or Goexit skipped it):
 *                 closed as unwound; (F, d) pushed.
 *   ret(F, d)     calls deeper than d closed as unwound; the top (F, d)
 *                 closed as returned: its latency is counted; else an
 *                 unmatched return (a call that began before tracing).
 *   morestack(d)  remembered until the track's next event.
 *   gexit         runtime.goexit0: the goroutine's calls are all unwound
 *                 and its tracks are freed.
 *
 * A track holds FL_DEPTH calls; a deeper call makes room by evicting the
 * outermost one (counted; its return is then an unmatched return), so the
 * innermost FL_DEPTH calls are always timed.
 */
#ifndef GOTRACE_FUNCLATENCY_H
#define GOTRACE_FUNCLATENCY_H

#include "func_probe.h"
#include "hist.h"

#define FL_DEPTH	64	/* calls held per track, a power of two */

/* Index in the `counters` per-CPU array. */
#define FL_CNT_DUP		0 /* entries dropped: prologue re-run after morestack */
#define FL_CNT_UNMATCHED	1 /* returns with no open call (began before tracing,
				   * or evicted) */
#define FL_CNT_EVICTED		2 /* calls evicted from a full track: not timed */
#define FL_CNT_NOTRACK		3 /* entries not timed: the tracks map was full */
#define FL_CNT_READFAIL		4 /* g, its stack or goid unreadable: hit ignored */
#define FL_CNT_TRACKS		5 /* tracks created */
#define FL_CNT_GEXITS		6 /* goroutine exits seen (tracks freed) */
#define FL_CNT_UNWOUND		7 /* calls closed without a RET */
#define FL_CNT_MAX		8

/* Default size of the tracks map (goroutines with open traced calls at
 * once, g0 tracks included); --max-goroutines. */
#define FL_TRACKS_DEFAULT	16384

/* One open call. */
struct fl_frame {
	__u64 dist;
	__u64 start_ns;
	__u32 func;
	__u32 pad;
};

/* The open calls of one goroutine (or of g0 for it); key: goid << 1 | g0. */
struct fl_track {
	__u64 ms_dist;		/* runtime.morestack seen at this dist... */
	__u32 ms_pending;	/* ...and nothing else on the track since */
	__u32 n;		/* calls held, <= FL_DEPTH */
	__u32 base;		/* ring index of the outermost call held */
	__u32 pad;
	struct fl_frame f[FL_DEPTH];
};

/* Per traced function, in a per-CPU array indexed by the cookie's
 * function index (user space sums the CPUs; max is the largest). */
struct fl_stat {
	__u64 calls;		/* returned: each one is in the histogram */
	__u64 sum_ns;
	__u64 max_ns;
	__u64 unwound;		/* left without a RET (panic, Goexit) */
	__u64 evicted;		/* pushed out of a full track */
};

/* How a call ended, for fl_done(). */
#define FL_END_RET	0
#define FL_END_UNWOUND	1
#define FL_END_EVICTED	2

/* fl_entry() / fl_ret() results */
#define FL_OK		0
#define FL_DUP		1 /* entry: the prologue again, dropped */
#define FL_UNMATCHED	2 /* ret: no open call (F, d) */

#endif /* GOTRACE_FUNCLATENCY_H */

/*
 * The pairing itself, outside the include guard: the includer includes
 * this file for the types, defines, and includes it again (or defines
 * before the first include)
 *
 *   FL_INLINE   the inline attribute (__always_inline in BPF)
 *   static FL_INLINE void fl_done(void *ctx, __u32 func, __u64 dur_ns, int end);
 *
 * called for every call the track closes (end FL_END_*; dur_ns is 0 for an
 * eviction).  Loops are bounded by FL_DEPTH for the verifier.
 */
#if defined(FL_INLINE) && !defined(GOTRACE_FUNCLATENCY_PAIR)
#define GOTRACE_FUNCLATENCY_PAIR

#define FL_MASK		(FL_DEPTH - 1)

static FL_INLINE struct fl_frame *fl_at(struct fl_track *t, __u32 i)
{
	return &t->f[(t->base + i) & FL_MASK];
}

/* Close every call at dist >= d (or > d when strict) as unwound. */
static FL_INLINE void fl_pop_to(struct fl_track *t, __u64 d, int strict, __u64 ts, void *ctx)
{
	for (int i = 0; i < FL_DEPTH; i++) {
		struct fl_frame *top;

		if (t->n == 0 || t->n > FL_DEPTH)
			break;
		top = fl_at(t, t->n - 1);
		if (top->dist < d || (strict && top->dist == d))
			break;
		fl_done(ctx, top->func, ts - top->start_ns, FL_END_UNWOUND);
		t->n--;
	}
}

/* markers: runtime.morestack is probed (else a repeated top is dropped
 * whatever came before, as pairing.h's morestack_markers = false). */
static FL_INLINE int fl_entry(struct fl_track *t, __u64 d, __u32 func, __u64 ts, int markers,
			      void *ctx)
{
	int pending = t->ms_pending && t->ms_dist == d;
	struct fl_frame *f;

	t->ms_pending = 0;
	if (t->n > 0 && t->n <= FL_DEPTH) {
		f = fl_at(t, t->n - 1);
		if (f->dist == d && f->func == func && (pending || !markers))
			return FL_DUP;
	}
	fl_pop_to(t, d, 0, ts, ctx);
	if (t->n >= FL_DEPTH) {
		/* full: the outermost call makes room */
		f = fl_at(t, 0);
		fl_done(ctx, f->func, 0, FL_END_EVICTED);
		t->base = (t->base + 1) & FL_MASK;
		t->n = FL_DEPTH - 1;
	}
	f = fl_at(t, t->n);
	f->dist = d;
	f->start_ns = ts;
	f->func = func;
	f->pad = 0;
	t->n++;
	return FL_OK;
}

static FL_INLINE int fl_ret(struct fl_track *t, __u64 d, __u32 func, __u64 ts, void *ctx)
{
	struct fl_frame *f;

	t->ms_pending = 0;
	fl_pop_to(t, d, 1, ts, ctx);
	if (t->n == 0 || t->n > FL_DEPTH)
		return FL_UNMATCHED;
	f = fl_at(t, t->n - 1);
	if (f->dist != d || f->func != func)
		return FL_UNMATCHED;
	fl_done(ctx, func, ts - f->start_ns, FL_END_RET);
	t->n--;
	return FL_OK;
}

static FL_INLINE void fl_morestack(struct fl_track *t, __u64 d)
{
	t->ms_pending = 1;
	t->ms_dist = d;
}

/* The goroutine exited: all its calls unwound (the caller frees the track). */
static FL_INLINE void fl_gexit(struct fl_track *t, __u64 ts, void *ctx)
{
	fl_pop_to(t, 0, 0, ts, ctx);
}

#endif /* FL_INLINE */
