// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Goroutine state transitions from uprobes on the Go runtime.
 *
 *   runtime.casgstatus(gp *g, oldval, newval uint32)   program on_transition(_m)
 *   runtime.casGToPreemptScan / casGFromPreempted      (same signature, same
 *                                                      program; the cookie
 *                                                      says which)
 *   runtime.reentersyscall / runtime.exitsyscall       program on_syscall_fast(_m)
 *     (the syscall fast path: their own CAS running<->syscall bypasses
 *      casgstatus; the cookie carries the from/to states, gp is the
 *      current g)
 *
 * The facts behind it are in docs/go-runtime.md: which transitions bypass
 * casgstatus and the syscall fast path, where the arguments are (rodata
 * regabi, from gosym_go_facts(): registers, else the stack from SP+8),
 * where g is, and why entry probes only (never a uretprobe on Go code).
 */
#include "vmlinux.h"
#include "go_runtime.h"
#include "states.h"

_Static_assert(STATES_CNT_MAX <= GR_NR_COUNTERS, "counters map too small");

#include "states_probe.h"

/* gp's goid and, going to waiting, its wait reason; a goid that cannot
 * be read sets STATES_F_NOGOID in *flags and is counted. */
static __always_inline __s64 goid_of(__u64 gp, __u32 from, __u32 to, __u32 *flags, __u32 *reason)
{
	__s64 goid = g_fields(gp, from, to, reason);

	if (goid < 0) {
		*flags |= STATES_F_NOGOID;
		gr_count(STATES_CNT_READFAIL);
	}
	return goid;
}

/* The fields every struct states_event has (creations, --stack); the
 * creation fields are left empty. */
static __always_inline void fill(struct states_event *e, __u64 pid_tgid, __u64 gp, __u32 from,
				 __u32 to, __u32 flags, __u64 probe_ip)
{
	__u32 reason;

	e->ts_ns = bpf_ktime_get_ns();
	e->gp = gp;
	e->tid = (__u32)pid_tgid;
	e->from = from;
	e->to = to;
	e->pad = 0;
	e->goid = goid_of(gp, from, to, &flags, &reason);
	e->flags = flags;
	e->reason = reason;
	e->startpc = 0;
	e->gopc = 0;
	e->parent_goid = -1;
	e->probe_ip = probe_ip;
	e->labels = 0;
}


/* goexit0 / gdestroy: running -> dead, before the runtime clears g.labels
 * (startpc, gopc and parentGoid stay until the g is reused). */
static __always_inline bool is_exit(__u32 from, __u32 to)
{
	return (from & ~STATES_G_SCAN) == STATES_G_RUNNING && (to & ~STATES_G_SCAN) == STATES_G_DEAD;
}

/* A creation or an exit (flag STATES_F_CREATE or STATES_F_EXIT): the full
 * event, with where the goroutine starts, who made it and its pprof labels
 * (at creation, those it inherits from its creator).  Before Go 1.21
 * g.parentGoid does not exist: at a creation the creator is the goroutine
 * newproc1 runs for, g.m.curg of the current g; at an exit it is unknown.
 * Exits carry the names too so that a goroutine that was there before
 * tracing began is named even when it exits before user space reads the
 * process's goroutine list; they are rare next to the other transitions. */
static __always_inline void emit_full(__u64 pid_tgid, __u64 ip, __u64 reg_g, __u64 gp,
				      __u32 from, __u32 to, __u32 flags)
{
	struct states_event *e = gr_reserve(sizeof(*e), STATES_CNT_DROPS);

	if (!e)
		return;
	fill(e, pid_tgid, gp, from, to, flags, ip);
	e->startpc = gr_read_ptr(gp, off_startpc);
	e->gopc = gr_read_ptr(gp, off_gopc);
	if (off_labels >= 0)
		e->labels = gr_read_ptr(gp, off_labels);
	if (off_parentgoid >= 0)
		e->parent_goid = (__s64)gr_read_ptr(gp, off_parentgoid);
	else if (flags & STATES_F_CREATE)
		e->parent_goid = gr_goid(gr_curg(gr_current_g(reg_g, !regabi)));
	gr_submit(e, sizeof(*e));
}

/* Every other transition: the 32-byte record. */
static __always_inline void emit_rec(__u64 pid_tgid, __u64 gp, __u32 from, __u32 to, __u32 flags)
{
	struct states_rec *r = gr_reserve(sizeof(*r), STATES_CNT_DROPS);
	__u32 reason;

	if (!r)
		return;
	r->ts_ns = bpf_ktime_get_ns();
	r->gp = gp;
	r->tid = (__u32)pid_tgid;
	r->from = STATES_REC_STATUS(from);
	r->to = STATES_REC_STATUS(to);
	r->goid = goid_of(gp, from, to, &flags, &reason);
	r->reason = (__u8)reason;
	r->flags = (__u8)flags;
	gr_submit(r, sizeof(*r));
}

static __always_inline int emit(__u64 ip, __u64 reg_g, __u64 gp, __u32 from, __u32 to,
				__u32 flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!gr_in_target(pid_tgid))
		return 0;
	if (is_creation(from, to))
		emit_full(pid_tgid, ip, reg_g, gp, from, to, flags | STATES_F_CREATE);
	else if (is_exit(from, to))
		emit_full(pid_tgid, ip, reg_g, gp, from, to, flags | STATES_F_EXIT);
	else
		emit_rec(pid_tgid, gp, from, to, flags);
	return 0;
}

/* ---- --stack: the stack record, sent only by the _stack programs below
 * (loaded instead of on_transition(_m) and on_syscall_fast(_m) with
 * --stack; the plain programs compile without this path).  See states.h
 * for the record and for which stack is taken. ---- */
const volatile __u32 stack_size = 0;

struct states_stack_rec {
	struct states_event ev;
	struct gt_stack_hdr h;
	__u8 stack[];
};

static __always_inline bool wants_stack(__u32 from, __u32 to)
{
	from &= ~STATES_G_SCAN;
	to &= ~STATES_G_SCAN;
	return from == STATES_G_RUNNING &&
	       (to == STATES_G_WAITING || to == STATES_G_RUNNABLE || to == STATES_G_SYSCALL ||
		to == STATES_G_PREEMPTED);
}

/* probe_ip: the run-time address of a probed function whose link-time
 * address user space knows by the cookie (casgstatus and the CAS helpers),
 * 0 otherwise: it places the program when its maps are gone (stacks.h). */
static __always_inline int emit_stack(struct pt_regs *ctx, __u64 ip, __u64 reg_g, __u64 gp,
				      __u32 from, __u32 to, __u32 flags, __u64 probe_ip)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx), hi, cur = gr_current_g(reg_g, !regabi);
	struct gr_gobuf sched = {};
	bool parked = gp && gp != cur;
	struct states_stack_rec *r;
	__u32 sflags = 0, size;

	if (!gr_in_target(pid_tgid))
		return 0;
	if (parked) {
		/* parked / preempted from g0: the goroutine's own context, as
		 * mcall saved it in gp->sched */
		gr_sched(gp, &sched);
		sp = sched.sp;
	}
	gr_stack_hi(gp, &hi);
	size = sc_class(sp, hi, stack_size);
	r = gr_reserve(sizeof(*r) + size, STATES_CNT_STACK_DROPS);
	if (!r)
		return emit(ip, reg_g, gp, from, to, flags);
	fill(&r->ev, pid_tgid, gp, from, to, flags | STATES_F_STACK, probe_ip);
	sc_fill_regs(&r->h.regs, ctx);
	if (parked)
		sc_set_context(&r->h.regs, sched.pc, sched.sp, sched.bp);
	r->h.len = sp ? sc_copy_stack(r->stack, size, sp, hi, &sflags) : 0;
	r->h.flags = sflags;
	gr_submit(r, sizeof(*r) + size);
	return 0;
}

/* casgstatus(gp, oldval, newval) and the CAS helpers.  with_stack is a
 * constant per program: the plain programs compile without the --stack
 * path, which only on_transition_stack(_m) carry. */
static __always_inline int transition(struct pt_regs *ctx, bool with_stack)
{
	/* Read every register first (go_runtime.h, Registers). */
	__u64 a0 = GR_REG_ARG(ctx, 0), a1 = GR_REG_ARG(ctx, 1), a2 = GR_REG_ARG(ctx, 2);
	__u64 reg_g = GR_REG_G(ctx), ip = PT_REGS_IP(ctx), sp = PT_REGS_SP(ctx);
	__u64 gp = a0;
	__u32 from = (__u32)a1, to = (__u32)a2, flags = (__u32)bpf_get_attach_cookie(ctx);

	if (!regabi) {
		__u32 st[2];

		if (bpf_probe_read_user(&gp, sizeof(gp), (void *)(sp + 8)) ||
		    bpf_probe_read_user(st, sizeof(st), (void *)(sp + 16))) {
			gr_count(STATES_CNT_READFAIL);
			return 0;
		}
		from = st[0];
		to = st[1];
	}
	if (with_stack && stack_size && wants_stack(from, to))
		return emit_stack(ctx, ip, reg_g, gp, from, to, flags, ip);
	return emit(ip, reg_g, gp, from, to, flags);
}

/* Go 1.26+ reentersyscall's own CAS running -> syscall: it runs on the
 * goroutine's stack, so the probe's registers are the goroutine's. */
static __always_inline int syscall_fast(struct pt_regs *ctx, bool with_stack)
{
	__u64 reg_g = GR_REG_G(ctx), ip = PT_REGS_IP(ctx);
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 from = (__u32)(cookie >> 16), to = (__u32)(cookie & 0xffff);
	__u64 g = gr_current_g(reg_g, !regabi);

	if (with_stack && stack_size && wants_stack(from, to))
		return emit_stack(ctx, ip, reg_g, g, from, to, STATES_F_SYNTH, 0);
	return emit(ip, reg_g, g, from, to, STATES_F_SYNTH);
}

/* Each program twice: for one uprobe_multi link per program (Linux 6.6+:
 * one attach and one detach for all its functions; loaded with the
 * uprobe_multi expected attach type), and for one perf-event uprobe per
 * function (older kernels).  User space loads the pair it can use; with
 * --stack it loads the _stack programs instead of the plain ones.  Eight
 * separate entry points because a program has one expected attach type
 * and the plain ones must compile without the --stack path. */
SEC("uprobe")
int on_transition(struct pt_regs *ctx)
{
	return transition(ctx, false);
}

SEC("uprobe")
int on_syscall_fast(struct pt_regs *ctx)
{
	return syscall_fast(ctx, false);
}

SEC("uprobe")
int on_transition_m(struct pt_regs *ctx)
{
	return transition(ctx, false);
}

SEC("uprobe")
int on_syscall_fast_m(struct pt_regs *ctx)
{
	return syscall_fast(ctx, false);
}

SEC("uprobe")
int on_transition_stack(struct pt_regs *ctx)
{
	return transition(ctx, true);
}

SEC("uprobe")
int on_transition_stack_m(struct pt_regs *ctx)
{
	return transition(ctx, true);
}

SEC("uprobe")
int on_syscall_fast_stack(struct pt_regs *ctx)
{
	return syscall_fast(ctx, true);
}

SEC("uprobe")
int on_syscall_fast_stack_m(struct pt_regs *ctx)
{
	return syscall_fast(ctx, true);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
