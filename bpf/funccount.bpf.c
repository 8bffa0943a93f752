// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * funccount: calls per Go function (and per goroutine), counted in BPF
 * maps; nothing is sent to user space per call.
 *
 * Entry probes only, on each function's cheapest equivalent site
 * (docs/probes.md), with the cookie of bpf/func_probe.h.  Without
 * --per-goroutine or --goid an entry hit is one array increment: no user
 * memory is read.  Stack growth runs a function's prologue twice, so its
 * entry probe fires twice for one call: the probe on runtime.morestack
 * counts, per calling function (its return address), what user space
 * subtracts (bpf/funccount.h).
 *
 * Two copies of the program (uprobe_multi links and perf-event uprobes
 * need different expected attach types), and an empty one for the trial
 * links that find sites the kernel refuses.
 */
#include "vmlinux.h"
#include "go_runtime.h"
#include "funccount.h"
#define AGG_GOIDS_MAX FC_GOIDS_MAX
#include "agg.h"

_Static_assert(FC_CNT_MAX <= GR_NR_COUNTERS, "counters map too small");

/* Set by user space before load. */
const volatile bool per_goroutine = false;	/* --per-goroutine */
const volatile __u64 ms_site = 0;	/* link-time address of the morestack probe */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);		/* set by user space: functions */
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_MS_MAX);
	__type(key, struct fc_mskey);
	__type(value, __u64);
} ms_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_GCOUNTS_DEFAULT);
	__type(key, struct fc_gkey);
	__type(value, __u64);
} gcounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_GCOUNTS_DEFAULT);
	__type(key, __s64);
	__type(value, __u8);
} dead SEC(".maps");

static __always_inline void count_entry(__u32 func)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &func);

	if (v)
		*v += 1;
}

/* runtime.morestack: its return address is in the function whose prologue
 * will run again; ra: where it is (amd64: the stack slot at SP; arm64: the
 * link register's value), ip - ms_site: the load bias (PIE). */
static __always_inline void count_morestack(__s64 goid, __u64 ra, __u64 ip)
{
	struct fc_mskey k = { .goid = per_goroutine ? goid : 0 };
	__u64 ret = ra;

#if defined(__TARGET_ARCH_x86)
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)ra)) {
		gr_count(FC_CNT_READFAIL);
		return;
	}
#endif
	k.pc = ret - (ip - ms_site);
	if (!agg_hash_add(&ms_hits, &k, 1))
		gr_count(FC_CNT_MSFULL);
}

static __always_inline int hit(struct pt_regs *ctx)
{
	/* Registers first (go_runtime.h, Registers). */
	__u64 reg_g = GR_REG_G(ctx), ip = PT_REGS_IP(ctx);
#if defined(__TARGET_ARCH_x86)
	__u64 ra = PT_REGS_SP(ctx);
#else
	__u64 ra = ctx->regs[30];
#endif
	__u64 cookie, hi;
	__u32 kind, func;
	__s64 goid;
	bool g0;

	if (!gr_in_target(bpf_get_current_pid_tgid()))
		return 0;
	cookie = bpf_get_attach_cookie(ctx);
	kind = FP_COOKIE_KIND(cookie);
	func = (__u32)cookie;
	if (kind == FP_KIND_ENTRY && !per_goroutine && !goid_filter) {
		count_entry(func);
		return 0;
	}
	goid = fp_goroutine(reg_g, cookie, &hi, &g0);
	if (goid < 0) {
		if (goid != FP_NO_GOROUTINE)
			gr_count(FC_CNT_READFAIL);
		if (kind == FP_KIND_ENTRY && !goid_filter)
			count_entry(func);
		return 0;
	}
	if (!agg_want_goid(goid))
		return 0;
	if (kind == FP_KIND_ENTRY) {
		struct fc_gkey k = { .goid = goid, .func = func };

		count_entry(func);
		if (per_goroutine && !agg_hash_add(&gcounts, &k, 1))
			gr_count(FC_CNT_GFULL);
	} else if (kind == FP_KIND_MORESTACK) {
		count_morestack(goid, ra, ip);
	} else if (kind == FP_KIND_GEXIT && per_goroutine) {
		__u8 one = 1;

		if (bpf_map_update_elem(&dead, &goid, &one, BPF_ANY))
			gr_count(FC_CNT_DEADFULL);
	}
	return 0;
}

SEC("uprobe")
int fc_multi(struct pt_regs *ctx)
{
	return hit(ctx);
}

SEC("uprobe")
int fc_single(struct pt_regs *ctx)
{
	return hit(ctx);
}

/* Trial links (uprobe_multi_find_refused) attach a program that does nothing. */
SEC("uprobe")
int fc_empty_multi(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
