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

/* Set by user space before load (from gosym); the shared ones (pid,
 * goid, g.m, m.curg, TLS, wake-up) are in go_runtime.h. */
const volatile bool regabi = true;
const volatile __s32 off_waitreason = -1;
const volatile __s32 off_startpc = -1;
const volatile __s32 off_gopc = -1;
const volatile __s32 off_parentgoid = -1;
const volatile __s32 off_labels = -1;

#define WINDOW 32 /* bytes read from g.goid on: covers g.waitreason too */

/* gp -> goid, shared by all CPUs (STATES_GOID_CACHE in states.h): a g
 * reused on one CPU must invalidate what the others cached.  Transitions
 * of one g never run concurrently (each waits for the previous one: the
 * runtime hands a g on through its status), so only entries of different
 * g's can race for a slot; check ties the three words together, so an
 * entry half-written by two CPUs at once fails it and is a miss, never a
 * wrong goid. */
struct goid_slot {
	__u64 gp;
	__s64 goid;
	__u64 check;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STATES_GOID_CACHE);
	__type(key, __u32);
	__type(value, struct goid_slot);
} goid_cache SEC(".maps");

static __always_inline __u64 slot_check(__u64 gp, __s64 goid)
{
	return gp ^ ((__u64)goid * 0x9e3779b97f4a7c15ULL) ^ 0x5bd1e9955bd1e995ULL;
}

/* What every transition needs from the g: its goid and, going to waiting,
 * g.waitreason.  A user read costs ~30 ns, so the goid comes from the
 * cache when it can: a g keeps its goid until it is reused, and reuse
 * always starts with a transition out of _Gdead, which reads the goid
 * and empties the slot (before Go 1.24 newproc1 writes the new goid only
 * after that transition: the next transition reads it again).  Going to
 * waiting the read is needed anyway for the reason, and covers both. */
static __always_inline __s64 g_fields(__u64 gp, __u32 from, __u32 to, __u32 *reason)
{
	__u32 key = (__u32)((gp * 0x9e3779b97f4a7c15ULL) >> 40) & (STATES_GOID_CACHE - 1);
	struct goid_slot *slot = bpf_map_lookup_elem(&goid_cache, &key);
	bool waiting = (to & ~STATES_G_SCAN) == STATES_G_WAITING;
	bool reborn = (from & ~STATES_G_SCAN) == STATES_G_DEAD;
	__s64 goid = -1;

	*reason = 0;
	if (!gp)
		return -1;
	if (slot && !waiting && !reborn) {
		/* One load per word: the goid returned is the one checked. */
		__u64 sgp = *(volatile __u64 *)&slot->gp;
		__s64 sgoid = *(volatile __s64 *)&slot->goid;
		__u64 scheck = *(volatile __u64 *)&slot->check;

		if (sgp == gp && scheck == slot_check(gp, sgoid))
			return sgoid;
	}
	if (waiting && off_waitreason > off_goid && off_waitreason - off_goid < WINDOW) {
		/* goid and waitreason are 24 bytes apart in every Go so far:
		 * one user read for both. */
		__u8 w[WINDOW];
		__u32 idx = (__u32)(off_waitreason - off_goid) & (WINDOW - 1);

		if (bpf_probe_read_user(w, sizeof(w), (void *)(gp + off_goid)))
			return -1;
		__builtin_memcpy(&goid, w, sizeof(goid));
		*reason = w[idx];
	} else {
		goid = gr_goid(gp);
		if (waiting && off_waitreason >= 0) {
			__u8 r = 0;

			bpf_probe_read_user(&r, sizeof(r), (void *)(gp + off_waitreason));
			*reason = r;
		}
	}
	if (slot) {
		if (reborn || goid < 0) {
			slot->gp = 0;
		} else {
			slot->gp = gp;
			slot->goid = goid;
			slot->check = slot_check(gp, goid);
		}
	}
	return goid;
}

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

/* newproc1: dead -> runnable, or -> waiting for a goroutine created
 * parked (Go 1.24+). */
static __always_inline bool is_creation(__u32 from, __u32 to)
{
	from &= ~STATES_G_SCAN;
	to &= ~STATES_G_SCAN;
	return from == STATES_G_DEAD && (to == STATES_G_RUNNABLE || to == STATES_G_WAITING);
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
