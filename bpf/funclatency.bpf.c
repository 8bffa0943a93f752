// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * funclatency: per-function latency histograms of Go functions, entries
 * and returns paired per goroutine in BPF (bpf/funclatency.h has the
 * rules); nothing is sent to user space per call.
 *
 * Probes: each function's entry site and every RET instruction (never a
 * uretprobe on Go code: docs/go-runtime.md), runtime.morestack (the
 * prologue runs again after stack growth) and runtime.goexit0 (a
 * goroutine's calls end with it), all with the cookie of
 * bpf/func_probe.h.  A hit reads the goroutine (g, g.stack.hi, goid),
 * finds the goroutine's track in a hash map and pushes or pops a call;
 * a return adds the call's latency to the function's histogram
 * (bpf/hist.h) and totals.
 *
 * Two copies of the program (uprobe_multi links and perf-event uprobes
 * need different expected attach types), and an empty one for the trial
 * links that find sites the kernel refuses.
 */
#include "vmlinux.h"
#include "go_runtime.h"
#include "funclatency.h"
#include "agg.h"

_Static_assert(FL_CNT_MAX <= GR_NR_COUNTERS, "counters map too small");

/* Set by user space before load. */
const volatile bool ms_markers = true;		/* runtime.morestack is probed */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FL_TRACKS_DEFAULT);	/* --max-goroutines */
	__type(key, __u64);			/* goid << 1 | g0 */
	__type(value, struct fl_track);
} tracks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);			/* set by user space: functions */
	__type(key, __u32);
	__type(value, struct fl_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);			/* set by user space: functions * HIST_NB */
	__type(key, __u32);
	__type(value, __u64);
} hists SEC(".maps");

/* The value a new track starts from (too big for the BPF stack). */
static struct fl_track zero_track;

static __always_inline void fl_done(void *ctx, __u32 func, __u64 dur_ns, int end)
{
	struct fl_stat *st = bpf_map_lookup_elem(&stats, &func);
	if (end == FL_END_UNWOUND) {
		gr_count(FL_CNT_UNWOUND);
		if (st)
			st->unwound++;
		return;
	}
	if (end == FL_END_EVICTED) {
		gr_count(FL_CNT_EVICTED);
		if (st)
			st->evicted++;
		return;
	}
	if (st) {
		st->calls++;
		st->sum_ns += dur_ns;
		if (dur_ns > st->max_ns)
			st->max_ns = dur_ns;
	}
	agg_array_inc(&hists, func * HIST_NB + hist_bucket(dur_ns));
}

#define FL_INLINE __always_inline
#include "funclatency.h"

/* The goroutine's track, created for an entry. */
static __always_inline struct fl_track *track(__u64 key, bool create)
{
	struct fl_track *t;
	bool inserted;

	if (!create)
		return bpf_map_lookup_elem(&tracks, &key);
	t = agg_hash_get(&tracks, &key, &zero_track, &inserted);
	if (!t)
		gr_count(FL_CNT_NOTRACK);
	if (inserted)
		gr_count(FL_CNT_TRACKS);
	return t;
}

/* runtime.goexit0: every call of the goroutine (and of g0 for it) is over. */
static __always_inline void gexit(__s64 goid, __u64 ts)
{
	for (int g0 = 0; g0 < 2; g0++) {
		__u64 key = ((__u64)goid << 1) | g0;
		struct fl_track *t = bpf_map_lookup_elem(&tracks, &key);

		if (!t)
			continue;
		fl_gexit(t, ts, NULL);
		bpf_map_delete_elem(&tracks, &key);
	}
	gr_count(FL_CNT_GEXITS);
}

static __always_inline int hit(struct pt_regs *ctx)
{
	/* Registers first (go_runtime.h, Registers). */
	__u64 reg_g = GR_REG_G(ctx), sp = PT_REGS_SP(ctx);
	__u64 cookie, hi, ts, key;
	struct fl_track *t;
	__u32 kind, func;
	__s64 goid;
	bool g0;

	if (!gr_in_target(bpf_get_current_pid_tgid()))
		return 0;
	ts = bpf_ktime_get_ns();
	cookie = bpf_get_attach_cookie(ctx);
	kind = FP_COOKIE_KIND(cookie);
	func = (__u32)cookie;
#if defined(__TARGET_ARCH_x86)
	/* morestack is called from the prologue: its caller's entry SP is
	 * one return address above */
	if (kind == FP_KIND_MORESTACK)
		sp += 8;
#endif
	goid = fp_goroutine(reg_g, cookie, &hi, &g0);
	if (goid < 0) {
		if (goid != FP_NO_GOROUTINE)
			gr_count(FL_CNT_READFAIL);
		return 0;
	}
	if (!agg_want_goid(goid))
		return 0;
	if (kind == FP_KIND_GEXIT) {
		gexit(goid, ts);
		return 0;
	}
	key = ((__u64)goid << 1) | g0;
	t = track(key, kind == FP_KIND_ENTRY);
	if (!t) {
		if (kind == FP_KIND_RET)
			gr_count(FL_CNT_UNMATCHED);
		return 0;
	}
	if (kind == FP_KIND_ENTRY) {
		if (fl_entry(t, hi - sp, func, ts, ms_markers, NULL) == FL_DUP)
			gr_count(FL_CNT_DUP);
	} else if (kind == FP_KIND_RET) {
		if (fl_ret(t, hi - sp, func, ts, NULL) == FL_UNMATCHED)
			gr_count(FL_CNT_UNMATCHED);
	} else if (kind == FP_KIND_MORESTACK) {
		fl_morestack(t, hi - sp);
	}
	return 0;
}

SEC("uprobe")
int fl_multi(struct pt_regs *ctx)
{
	return hit(ctx);
}

SEC("uprobe")
int fl_single(struct pt_regs *ctx)
{
	return hit(ctx);
}

/* Trial links (uprobe_multi_find_refused) attach a program that does nothing. */
SEC("uprobe")
int fl_empty_multi(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
