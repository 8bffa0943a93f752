// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Goroutine state transitions from uprobes on the Go runtime.
 *
 *   runtime.casgstatus(gp *g, oldval, newval uint32)   program on_transition(_m)
 *   runtime.casGToPreemptScan / casGFromPreempted      (same signature, same
 *                                                      program; the cookie
 *                                                      says which)
 *   runtime.reentersyscall / runtime.exitsyscall       program on_syscall_fast(_m)
 *     (Go 1.26+: a raw CAS running<->syscall bypasses casgstatus; the
 *      cookie carries the from/to states, gp is the current g)
 *
 * Arguments: Go >= 1.17 amd64 / 1.18 arm64 pass them in registers (amd64
 * RAX, RBX, RCX; arm64 R0-R2) and keep the current g in R14 / R28; older
 * toolchains pass them on the stack at sp+8, sp+16, sp+20 and keep g in TLS.
 * Entry probes only: never a uretprobe on Go code (BRIEF 3).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "states.h"

/* Set by user space before load (from gosym). */
const volatile __u32 targ_tgid = 0;
const volatile bool regabi = true;
const volatile __s32 off_goid = 152;
const volatile __s32 off_waitreason = 176;
const volatile __s32 off_startpc = -1;
const volatile __s32 off_gopc = -1;
const volatile __s32 off_parentgoid = -1;
const volatile __s32 off_g_m = 48;
const volatile __s32 off_m_curg = -1;
const volatile __s64 tls_g = 0;	/* g at fs_base + tls_g (stack ABI only) */
const volatile __u64 wake_bytes = 0;	/* wake the reader past this much unread (a power of
					 * two: a quarter of the buffer) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STATES_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STATES_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* No wakeup per event: a wakeup (irq_work + scheduling the reader) costs
 * several times the uprobe itself.  User space drains every STATES_POLL_MS
 * instead, and is woken early when the unread data crosses a multiple of
 * wake_bytes (a quarter of the buffer): once per crossing, by the record
 * (size bytes with its header) that crossed it, since waking on every
 * record past the mark costs an irq_work each until the reader runs.
 * Past half the buffer every record wakes it, in case a crossing was seen
 * by no one (other CPUs reserved in between). */
static __always_inline __u64 submit_flags(__u64 size)
{
	__u64 avail;

	if (!wake_bytes)
		return BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail >= 2 * wake_bytes ||
	    (avail >= size && (avail & ~(wake_bytes - 1)) != ((avail - size) & ~(wake_bytes - 1))))
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* A record's bytes in the ring: data + 8-byte header, 8-aligned. */
#define RB_SPAN(n)	((((__u64)(n)) + 8 + 7) & ~7ULL)

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/* The g running on this thread (for a newproc1 on the system stack, g0).
 * reg_g is R14 (amd64) / R28 (arm64), read by the caller at the top of the
 * program: the verifier rejects ctx loads through a computed pointer, which
 * clang produces when the read sits in a branch. */
static __always_inline __u64 current_g(__u64 reg_g)
{
	__u64 g = 0;

	if (regabi)
		return reg_g;
#if defined(__TARGET_ARCH_x86)
	if (tls_g) {
		struct task_struct *task = (void *)bpf_get_current_task();
		__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);

		bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase + tls_g));
	}
#endif
	return g;
}

#if defined(__TARGET_ARCH_x86)
#define REG_G(ctx)	((ctx)->r14)
#define REG_ARG0(ctx)	((ctx)->ax)
#define REG_ARG1(ctx)	((ctx)->bx)
#define REG_ARG2(ctx)	((ctx)->cx)
#elif defined(__TARGET_ARCH_arm64)
#define REG_G(ctx)	((ctx)->regs[28])
#define REG_ARG0(ctx)	((ctx)->regs[0])
#define REG_ARG1(ctx)	((ctx)->regs[1])
#define REG_ARG2(ctx)	((ctx)->regs[2])
#endif

static __always_inline __s64 read_goid(__u64 gp)
{
	__s64 goid = -1;

	if (!gp || bpf_probe_read_user(&goid, sizeof(goid), (void *)(gp + off_goid)))
		return -1;
	return goid;
}

/* goid of the user goroutine of the current thread: g.m.curg.goid. */
static __always_inline __s64 creator_goid(__u64 reg_g)
{
	__u64 g = current_g(reg_g), m = 0, curg = 0;

	if (!g || off_m_curg < 0)
		return -1;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)(g + off_g_m)) || !m)
		return -1;
	if (bpf_probe_read_user(&curg, sizeof(curg), (void *)(m + off_m_curg)) || !curg)
		return -1;
	return read_goid(curg);
}

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
		goid = read_goid(gp);
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

/* The fields every struct states_event has (creations, --stack). */
static __always_inline void fill(struct states_event *e, __u64 pid_tgid, __u64 gp, __u32 from,
				 __u32 to, __u32 flags)
{
	__u32 reason;

	e->ts_ns = bpf_ktime_get_ns();
	e->gp = gp;
	e->tid = (__u32)pid_tgid;
	e->from = from;
	e->to = to;
	e->flags = flags;
	e->pad = 0;
	e->goid = g_fields(gp, from, to, &reason);
	e->reason = reason;
	if (e->goid < 0) {
		e->flags |= STATES_F_NOGOID;
		count(STATES_CNT_READFAIL);
	}
}

static __always_inline int emit(__u64 ip, __u64 reg_g, __u64 gp, __u32 from, __u32 to,
				__u32 flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct states_event *e;
	struct states_rec *r;
	__u32 reason;

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return 0;
	/* newproc1: dead -> runnable, or -> waiting for a goroutine created
	 * parked (Go 1.24+): the full event. */
	if ((from & ~STATES_G_SCAN) == STATES_G_DEAD &&
	    ((to & ~STATES_G_SCAN) == STATES_G_RUNNABLE ||
	     (to & ~STATES_G_SCAN) == STATES_G_WAITING)) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(STATES_CNT_DROPS);
			return 0;
		}
		fill(e, pid_tgid, gp, from, to, flags | STATES_F_CREATE);
		e->probe_ip = ip;
		e->startpc = 0;
		e->gopc = 0;
		e->parent_goid = -1;
		if (off_startpc >= 0)
			bpf_probe_read_user(&e->startpc, 8, (void *)(gp + off_startpc));
		if (off_gopc >= 0)
			bpf_probe_read_user(&e->gopc, 8, (void *)(gp + off_gopc));
		if (off_parentgoid >= 0)
			bpf_probe_read_user(&e->parent_goid, 8, (void *)(gp + off_parentgoid));
		else
			e->parent_goid = creator_goid(reg_g);
		bpf_ringbuf_submit(e, submit_flags(RB_SPAN(sizeof(*e))));
		return 0;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(STATES_CNT_DROPS);
		return 0;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->gp = gp;
	r->tid = (__u32)pid_tgid;
	r->from = STATES_REC_STATUS(from);
	r->to = STATES_REC_STATUS(to);
	r->goid = g_fields(gp, from, to, &reason);
	r->reason = (__u8)reason;
	if (r->goid < 0) {
		flags |= STATES_F_NOGOID;
		count(STATES_CNT_READFAIL);
	}
	r->flags = (__u8)flags;
	bpf_ringbuf_submit(r, submit_flags(RB_SPAN(sizeof(*r))));
	return 0;
}

/* ---- --stack: the stack record, sent only by the _stack programs below
 * (loaded instead of on_transition(_m) and on_syscall_fast(_m) with
 * --stack; the plain programs compile without this path).  See states.h
 * for the record and for which stack is taken. ---- */
const volatile __u32 stack_size = 0;
const volatile __s32 off_stack_hi = 8;
const volatile __s32 off_sched_sp = 56;
const volatile __s32 off_sched_pc = 64;
const volatile __s32 off_sched_bp = 104;	/* gobuf.bp: sched + 48 (Go <= 1.24), + 40 (1.25+) */

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
	__u64 sp = PT_REGS_SP(ctx), hi = 0, cur = current_g(reg_g);
	__u64 sched[2] = {}, bp = 0;	/* gp->sched.sp, .pc; .bp */
	bool parked = gp && gp != cur;
	struct states_stack_rec *r;
	__u32 sflags = 0, size;

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return 0;
	if (parked) {
		/* parked / preempted from g0: the goroutine's own context, as
		 * mcall saved it in gp->sched */
		if (off_sched_pc != off_sched_sp + 8 ||
		    bpf_probe_read_user(sched, sizeof(sched), (void *)(gp + off_sched_sp)))
			sched[0] = sched[1] = 0;
		bpf_probe_read_user(&bp, sizeof(bp), (void *)(gp + off_sched_bp));
		sp = sched[0];
	}
	if (gp)
		bpf_probe_read_user(&hi, sizeof(hi), (void *)(gp + off_stack_hi));
	size = sc_class(sp, hi, stack_size);
	r = bpf_ringbuf_reserve(&events, sizeof(*r) + size, 0);
	if (!r) {
		count(STATES_CNT_STACK_DROPS);
		return emit(ip, reg_g, gp, from, to, flags);
	}
	fill(&r->ev, pid_tgid, gp, from, to, flags | STATES_F_STACK);
	r->ev.startpc = 0;
	r->ev.gopc = 0;
	r->ev.parent_goid = -1;
	r->ev.probe_ip = probe_ip;
	sc_fill_regs(&r->h.regs, ctx);
	if (parked) {
		r->h.regs.pc = sched[1];
#if defined(__TARGET_ARCH_x86)
		r->h.regs.r[DWUNW_X86_64_RSP] = sched[0];
		r->h.regs.r[DWUNW_X86_64_RBP] = bp;
		r->h.regs.valid = (1ULL << DWUNW_X86_64_RSP) | (1ULL << DWUNW_X86_64_RBP);
#elif defined(__TARGET_ARCH_arm64)
		r->h.regs.r[DWUNW_ARM64_SP] = sched[0];
		r->h.regs.r[DWUNW_ARM64_FP] = bp;
		r->h.regs.valid = (1ULL << DWUNW_ARM64_SP) | (1ULL << DWUNW_ARM64_FP);
#endif
	}
	r->h.len = sp ? sc_copy_stack(r->stack, size, sp, hi, &sflags) : 0;
	r->h.flags = sflags;
	bpf_ringbuf_submit(r, submit_flags(RB_SPAN(sizeof(*r) + size)));
	return 0;
}

/* casgstatus(gp, oldval, newval) and the CAS helpers.  with_stack is a
 * constant per program: the plain programs compile without the --stack
 * path, which only on_transition_stack(_m) carry. */
static __always_inline int transition(struct pt_regs *ctx, bool with_stack)
{
	/* Read every register first (see current_g). */
	__u64 a0 = REG_ARG0(ctx), a1 = REG_ARG1(ctx), a2 = REG_ARG2(ctx);
	__u64 reg_g = REG_G(ctx), ip = PT_REGS_IP(ctx), sp = PT_REGS_SP(ctx);
	__u64 gp = a0;
	__u32 from = (__u32)a1, to = (__u32)a2, flags = (__u32)bpf_get_attach_cookie(ctx);

	if (!regabi) {
		__u32 st[2];

		if (bpf_probe_read_user(&gp, sizeof(gp), (void *)(sp + 8)) ||
		    bpf_probe_read_user(st, sizeof(st), (void *)(sp + 16))) {
			count(STATES_CNT_READFAIL);
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
	__u64 reg_g = REG_G(ctx), ip = PT_REGS_IP(ctx);
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 from = (__u32)(cookie >> 16), to = (__u32)(cookie & 0xffff);
	__u64 g = current_g(reg_g);

	if (with_stack && stack_size && wants_stack(from, to))
		return emit_stack(ctx, ip, reg_g, g, from, to, STATES_F_SYNTH, 0);
	return emit(ip, reg_g, g, from, to, STATES_F_SYNTH);
}

/* Each program twice: for one uprobe_multi link per program (Linux 6.6+:
 * one attach and one detach for all its functions; loaded with the
 * uprobe_multi expected attach type), and for one perf-event uprobe per
 * function (older kernels).  User space loads the pair it can use; with
 * --stack it loads the _stack programs instead of the plain ones. */
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
