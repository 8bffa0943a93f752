// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * funcgraph: entry and RET-site uprobes on Go functions.
 *
 * One program body for every probe; the attach cookie (funcgraph.h) says
 * which function and which kind of site.  The event carries the goroutine id
 * and the distance from the goroutine's stack top to the function's entry
 * SP, which is the same at the entry and at every RET of one activation and
 * survives stack copying; user space pairs entries and returns with it
 * (gotrace/funcgraph/pairing.c).  Never a uretprobe on Go code (BRIEF 3).
 *
 * g: ABIInternal code (Go >= 1.17 amd64) keeps it in R14 (arm64: R28);
 * ABI0/assembly functions get it from TLS (fs_base + tls_g).  On g0 the
 * goroutine is g.m.curg.
 *
 * Two copies of the program: fg_multi is loaded with expected attach type
 * BPF_TRACE_UPROBE_MULTI for uprobe_multi links, fg_single for one
 * perf-event uprobe per offset.  fg_empty* are the benchmark floor: a bare
 * uprobe that does nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "funcgraph.h"

/* Set by user space before load (from gosym_runtime_offsets). */
const volatile __u32 targ_tgid = 0;
const volatile __s32 off_stack_hi = 8;
const volatile __s32 off_goid = 152;
const volatile __s32 off_g_m = 48;
const volatile __s32 off_m_g0 = 0;
const volatile __s32 off_m_curg = 192;
const volatile __s64 tls_g = -8;
const volatile __u64 wakeup_bytes = 256 * 1024;
/* --stack: bytes of user stack copied at each function entry; 0 = off
 * (the verifier then drops the stack code: no cost without --stack) */
const volatile __u32 stack_size = 0;

/* a stack-carrying entry event; stack_size bytes follow */
struct fg_stack_rec {
	struct fg_event ev;
	struct gt_stack_hdr h;
	__u8 stack[];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 26);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u64 current_g(struct pt_regs *ctx, bool tls)
{
	__u64 g = 0;

	if (!tls) {
#if defined(__TARGET_ARCH_x86)
		return ctx->r14;
#elif defined(__TARGET_ARCH_arm64)
		return ctx->regs[28];
#endif
	}
#if defined(__TARGET_ARCH_x86)
	{
		struct task_struct *task = (void *)bpf_get_current_task();
		__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);

		if (bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase + tls_g)))
			return 0;
	}
#elif defined(__TARGET_ARCH_arm64)
	g = ctx->regs[28];	/* Go keeps g in R28 in all Go code on arm64 */
#endif
	return g;
}

static __always_inline void fill(struct fg_event *e, __s64 goid, __u64 dist, __u64 cookie,
				 __u64 pid_tgid, __u8 kind, __u8 flags)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->goid = goid;
	e->dist = dist;
	e->func = (__u32)cookie;
	e->tid = (__u32)pid_tgid;
	e->kind = kind;
	e->flags = flags;
	e->pad = 0;
	e->pad2 = 0;
}

static __always_inline void submit(void *rec)
{
	/* Wake the reader only when there is a batch worth reading; it also
	 * polls with a short timeout. */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(rec, avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	count(FG_CNT_EVENTS);
}

/* --stack: the entry event with registers and the stack from SP up to the
 * current g's stack.hi (the stack we are on: on g0 that is g0's).  1 if
 * sent, 0 if the ring buffer had no room (the caller sends the plain event). */
static __always_inline int emit_stack(struct pt_regs *ctx, __s64 goid, __u64 dist, __u64 cookie,
				      __u64 pid_tgid, __u8 flags, __u64 hi)
{
	struct fg_stack_rec *r;
	__u32 sflags = 0, size = sc_class(PT_REGS_SP(ctx), hi, stack_size);

	r = bpf_ringbuf_reserve(&events, sizeof(*r) + size, 0);
	if (!r) {
		count(FG_CNT_STACK_DROPS);
		return 0;
	}
	fill(&r->ev, goid, dist, cookie, pid_tgid, FG_KIND_ENTRY, flags | FG_F_STACK);
	sc_fill_regs(&r->h.regs, ctx);
	r->h.len = sc_copy_stack(r->stack, size, PT_REGS_SP(ctx), hi, &sflags);
	r->h.flags = sflags;
	if (sflags & GT_SF_PAGED)
		count(FG_CNT_STACK_PAGED);
	submit(r);
	return 1;
}

static __always_inline int handle(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cookie, g, gid_g, sp, hi = 0;
	struct fg_event *e;
	__u8 kind, flags = 0;
	__s64 goid = -1;

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return 0;
	cookie = bpf_get_attach_cookie(ctx);
	kind = (cookie >> FG_COOKIE_KIND_SHIFT) & 0xff;
	g = current_g(ctx, cookie & FG_COOKIE_TLS);
	sp = PT_REGS_SP(ctx);
#if defined(__TARGET_ARCH_x86)
	/* morestack is called from the prologue: its caller's entry SP is
	 * one return address above. */
	if (kind == FG_KIND_MORESTACK)
		sp += 8;
#endif
	gid_g = g;
	if (!g || bpf_probe_read_user(&hi, sizeof(hi), (void *)(g + off_stack_hi))) {
		flags |= FG_F_NOGOID;
		count(FG_CNT_READFAIL);
		goto emit;
	}
	if (cookie & FG_COOKIE_G0) {
		__u64 m = 0, g0 = 0, curg = 0;

		if (!bpf_probe_read_user(&m, sizeof(m), (void *)(g + off_g_m)) && m &&
		    !bpf_probe_read_user(&g0, sizeof(g0), (void *)(m + off_m_g0)) &&
		    g0 == g) {
			flags |= FG_F_G0;
			bpf_probe_read_user(&curg, sizeof(curg), (void *)(m + off_m_curg));
			gid_g = curg;
		}
	}
	if (!gid_g) {
		/* g0 with no user goroutine (scheduler, GC workers' system
		 * stacks): nothing to attribute the call to */
		flags |= FG_F_NOGOID;
	} else if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(gid_g + off_goid))) {
		goid = -1;
		flags |= FG_F_NOGOID;
		count(FG_CNT_READFAIL);
	}
emit:
	if (stack_size && kind == FG_KIND_ENTRY &&
	    emit_stack(ctx, goid, hi - sp, cookie, pid_tgid, flags, hi))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(FG_CNT_DROPS);
		return 0;
	}
	fill(e, goid, hi - sp, cookie, pid_tgid, kind, flags);
	submit(e);
	return 0;
}

SEC("uprobe")
int fg_multi(struct pt_regs *ctx)
{
	return handle(ctx);
}

SEC("uprobe")
int fg_single(struct pt_regs *ctx)
{
	return handle(ctx);
}

/* Benchmark floor: a bare uprobe. */
SEC("uprobe")
int fg_empty_multi(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int fg_empty_single(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
