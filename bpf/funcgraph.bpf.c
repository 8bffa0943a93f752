// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * funcgraph: entry and RET-site uprobes on Go functions.
 *
 * One program body for every probe; the attach cookie (funcgraph.h) says
 * which function and which kind of site.  The event carries the goroutine id
 * and the distance from the goroutine's stack top to the function's entry
 * SP, which is the same at the entry and at every RET of one activation and
 * survives stack copying; user space pairs entries and returns with it
 * (gotrace/funcgraph/pairing.c).  Never a uretprobe on Go code, and why
 * the distance survives stack growth: docs/go-runtime.md.
 *
 * g: from R14 (arm64: R28), or from TLS for assembly functions (cookie
 * FG_COOKIE_TLS); on g0 the goroutine is g.m.curg (FG_COOKIE_G0): see
 * go_runtime.h and docs/go-runtime.md, "Where g is".
 *
 * Two copies of the program: fg_multi is loaded with expected attach type
 * BPF_TRACE_UPROBE_MULTI for uprobe_multi links, fg_single for one
 * perf-event uprobe per offset.  fg_empty* are the benchmark floor: a bare
 * uprobe that does nothing.
 */
#include "vmlinux.h"
#include "go_runtime.h"
#include "funcgraph.h"

_Static_assert(FG_CNT_MAX <= GR_NR_COUNTERS, "counters map too small");

/* --stack: bytes of user stack copied at each function entry; 0 = off
 * (the verifier then drops the stack code: no cost without --stack) */
const volatile __u32 stack_size = 0;
/* --args: the argument area's offset from SP at a function's first
 * instruction (gosym_abi.stack_args); plans are off when 0 */
const volatile __u32 args_area = 0;
/* --bench-timing: add up the program's own time (a benchmark of what a
 * probe hit costs in BPF, robust to a busy machine); off: compiled out */
const volatile bool bench_timing = false;

/* --args: the read plans (index 0 unused), a per-thread buffer to read
 * into (a thread runs one probe at a time; a per-CPU buffer could be
 * reused by a probe on a thread that preempted this one), and the calls
 * --filter left out, so that their RET isn't sent either. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set by user space */
	__type(key, __u32);
	__type(value, struct ga_plan);
} plans SEC(".maps");

struct fg_args_buf {
	struct fg_event ev;
	struct ga_hdr h;
	__u8 blob[GA_BUF_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fg_args_buf);
} args_buf SEC(".maps");

struct fg_frame_key {
	__s64 goid;
	__u64 dist;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fg_frame_key);
	__type(value, __u8);
} filtered SEC(".maps");

/* a stack-carrying entry event; stack_size bytes follow */
struct fg_stack_rec {
	struct fg_event ev;
	struct gt_stack_hdr h;
	__u8 stack[];
};

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

static __always_inline void submit(void *rec, __u64 size)
{
	gr_submit(rec, size);
	gr_count(FG_CNT_EVENTS);
}

/* --stack: the entry event with registers and the stack from SP up to the
 * current g's stack.hi (the stack we are on: on g0 that is g0's).  1 if
 * sent, 0 if the ring buffer had no room (the caller sends the plain event). */
static __always_inline int emit_stack(struct pt_regs *ctx, __s64 goid, __u64 dist, __u64 cookie,
				      __u64 pid_tgid, __u8 flags, __u64 hi)
{
	__u32 sflags = 0, size = sc_class(PT_REGS_SP(ctx), hi, stack_size);
	struct fg_stack_rec *r = gr_reserve(sizeof(*r) + size, FG_CNT_STACK_DROPS);

	if (!r)
		return 0;
	fill(&r->ev, goid, dist, cookie, pid_tgid, FG_KIND_ENTRY, flags | FG_F_STACK);
	sc_fill_regs(&r->h.regs, ctx);
	r->h.len = sc_copy_stack(r->stack, size, PT_REGS_SP(ctx), hi, &sflags);
	r->h.flags = sflags;
	if (sflags & GT_SF_PAGED)
		gr_count(FG_CNT_STACK_PAGED);
	submit(r, sizeof(*r) + size);
	return 1;
}

/* --args: the event with the values the plan reads.  0 if sent (or left
 * out by --filter, or dropped: counted), -1 if the values could not be
 * read (the caller sends the plain event). */
static __always_inline int emit_args(struct pt_regs *ctx, __s64 goid, __u64 dist, __u64 cookie,
				     __u64 pid_tgid, __u8 kind, __u8 flags, __u64 sp)
{
	__u32 plan = (__u32)(cookie >> FG_COOKIE_PLAN_SHIFT);
	struct fg_frame_key key = { goid, dist };
	struct fg_args_buf *b;
	struct ga_plan *pl;
	__u64 len;

	if ((cookie & FG_COOKIE_FILTER) && kind == FG_KIND_RET &&
	    bpf_map_lookup_elem(&filtered, &key)) {
		/* its entry was filtered out */
		bpf_map_delete_elem(&filtered, &key);
		return 0;
	}
	pl = bpf_map_lookup_elem(&plans, &plan);
	b = bpf_task_storage_get(&args_buf, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pl || !b) {
		gr_count(FG_CNT_ARGS_LOST);
		return -1;
	}
	fill(&b->ev, goid, dist, cookie, pid_tgid, kind, flags | FG_F_ARGS);
	b->h.ip = PT_REGS_IP(ctx);
	b->h.plan = plan;
	if (!ga_run(ctx, pl, b->blob, sp + args_area, &b->h)) {
		if (kind == FG_KIND_ENTRY)
			bpf_map_update_elem(&filtered, &key, &b->h.flags, BPF_ANY);
		gr_count(FG_CNT_FILTERED);
		return 0;
	}
	len = sizeof(b->ev) + sizeof(b->h) + b->h.len;
	if (len > sizeof(*b))
		len = sizeof(*b);
	if (!gr_output(b, len, FG_CNT_DROPS))
		gr_count(FG_CNT_EVENTS);
	return 0;
}

static __always_inline int handle_hit(struct pt_regs *ctx)
{
	/* Registers first (go_runtime.h, Registers). */
	__u64 reg_g = GR_REG_G(ctx), sp = PT_REGS_SP(ctx);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cookie, g, gid_g, hi, curg;
	struct fg_event *e;
	__u8 kind, flags = 0;
	__s64 goid = -1;

	if (!gr_in_target(pid_tgid))
		return 0;
	cookie = bpf_get_attach_cookie(ctx);
	kind = (cookie >> FG_COOKIE_KIND_SHIFT) & 0xff;
	g = gr_current_g(reg_g, cookie & FG_COOKIE_TLS);
#if defined(__TARGET_ARCH_x86)
	/* morestack is called from the prologue: its caller's entry SP is
	 * one return address above. */
	if (kind == FG_KIND_MORESTACK)
		sp += 8;
#endif
	/* the common case: g.stack.hi and g.goid in one read (go_runtime.h);
	 * after a failure, the reads one by one say which failed */
	if (!(cookie & FG_COOKIE_G0) && !gr_stack_hi_goid(g, &hi, &goid))
		goto emit;
	goid = -1;
	gid_g = g;
	if (gr_stack_hi(g, &hi)) {
		flags |= FG_F_NOGOID;
		gr_count(FG_CNT_READFAIL);
		goto emit;
	}
	if ((cookie & FG_COOKIE_G0) && gr_on_g0(g, &curg)) {
		flags |= FG_F_G0;
		gid_g = curg;
	}
	if (!gid_g) {
		/* g0 with no user goroutine (scheduler, GC workers' system
		 * stacks): nothing to attribute the call to */
		flags |= FG_F_NOGOID;
	} else if ((goid = gr_goid(gid_g)) < 0) {
		flags |= FG_F_NOGOID;
		gr_count(FG_CNT_READFAIL);
	}
emit:
	if (args_area && (cookie >> FG_COOKIE_PLAN_SHIFT) &&
	    (kind == FG_KIND_ENTRY || kind == FG_KIND_RET)) {
		/* sp: the entry SP (at a RET too: the frame is gone) */
		if (emit_args(ctx, goid, hi - sp, cookie, pid_tgid, kind, flags, sp) == 0)
			return 0;
		flags |= FG_F_ARGS_LOST;
	}
	if (stack_size && kind == FG_KIND_ENTRY &&
	    emit_stack(ctx, goid, hi - sp, cookie, pid_tgid, flags, hi))
		return 0;
	e = gr_reserve(sizeof(*e), FG_CNT_DROPS);
	if (!e)
		return 0;
	fill(e, goid, hi - sp, cookie, pid_tgid, kind, flags);
	submit(e, sizeof(*e));
	return 0;
}

static __always_inline int handle(struct pt_regs *ctx)
{
	__u64 t0 = bench_timing ? bpf_ktime_get_ns() : 0;
	__u32 k = FG_CNT_BENCH_NS;
	__u64 *v;

	handle_hit(ctx);
	if (bench_timing && (v = bpf_map_lookup_elem(&counters, &k))) {
		*v += bpf_ktime_get_ns() - t0;
		gr_count(FG_CNT_BENCH_HITS);
	}
	return 0;
}

/* Twice the same program: fg_multi is loaded with the uprobe_multi
 * expected attach type, fg_single for perf-event uprobes, and a program
 * has one expected attach type. */
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

/* Benchmark floor: a bare uprobe (twice, as above). */
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
