/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * go_runtime.h: reading the Go runtime from a uprobe, shared by every BPF
 * program of gotrace (states.bpf.c, funcgraph.bpf.c, bench_count.bpf.c and
 * the ones to come).  The facts behind each function (where g lives, g0,
 * the offsets, why the reader is woken the way it is) are in
 * docs/go-runtime.md; this header only says how to use them.
 *
 * A program includes it after vmlinux.h and gets:
 *
 *   rodata (user space sets every one before load, from gosym):
 *     targ_tgid        the traced process; 0 traces every process
 *     off_goid, off_g_m, off_stack_lo, off_stack_hi, off_sched_sp,
 *     off_sched_pc, off_sched_bp, off_m_g0, off_m_curg
 *                      gosym_runtime_offsets(): g.goid, g.m, g.stack.lo/hi,
 *                      g.sched.sp/pc/bp, m.g0, m.curg; -1 = unknown (the
 *                      reads then fail cleanly)
 *     tls_g            amd64: g is at fs_base + tls_g in code that does not
 *                      keep it in R14 (gosym_runtime_offsets().tls_g; 0 =
 *                      unknown)
 *     wake_bytes       the ring buffer's wake-up step, GR_WAKE_BYTES(size
 *                      of the ring); 0 = never wake the reader (it polls)
 *
 *   maps:
 *     events           the BPF_MAP_TYPE_RINGBUF every record goes through;
 *                      its size has no default: user space must set it
 *                      with bpf_map__set_max_entries() (a named constant
 *                      of the program's header, or --buffer-size) or turn
 *                      the map off with bpf_map__set_autocreate(), else
 *                      the load fails with EINVAL
 *     counters         BPF_MAP_TYPE_PERCPU_ARRAY of GR_NR_COUNTERS __u64;
 *                      each program's header names its indexes; user space
 *                      sums the CPUs' values
 *
 *   functions (all __always_inline; g pointers are user addresses, 0 means
 *   "none"; nothing here faults: a failed read gives 0 / -1):
 *     GR_REG_G(ctx)            the register Go keeps g in (R14 / R28)
 *     GR_REG_ARG(ctx, i)       Go register-ABI integer argument i (constant)
 *     gr_in_target(pid_tgid)   the tgid filter
 *     gr_current_g(reg_g, tls) the g of the probed thread
 *     gr_goid(g)               g.goid, -1 if unreadable
 *     gr_stack_hi(g, &hi), gr_stack(g, &lo, &hi)   g.stack bounds
 *     gr_sched(g, &buf)        g.sched: where a parked goroutine resumes
 *     gr_g_m(g), gr_curg(g), gr_on_g0(g, &curg)    g.m, g.m.curg, g0 test
 *     gr_count(idx)            counters[idx] += 1 on this CPU
 *     gr_reserve(size, drop)   ring buffer record, or NULL and
 *                              counters[drop] += 1
 *     gr_submit(rec, size)     submit, waking the reader by the policy
 *     gr_output(data, size, drop)  copy a record in, the same way
 *
 * User space (no __bpf__) sees only the constants: GR_NR_COUNTERS,
 * GR_WAKE_BYTES().
 */
#ifndef GOTRACE_GO_RUNTIME_H
#define GOTRACE_GO_RUNTIME_H

/* Slots of the counters map: enough for every program's indexes
 * (each program's .bpf.c checks its own *_CNT_MAX against it). */
#define GR_NR_COUNTERS		16

/*
 * The wake-up step for a ring buffer of ring_bytes (a power of two): a
 * quarter of it.  The reader drains on a timer and is woken early once per
 * step of unread data crossed, and by every record past half the buffer
 * (gr_submit).  docs/go-runtime.md, "Waking the reader", says why.
 */
#define GR_WAKE_BYTES(ring_bytes)	((ring_bytes) / 4)

#ifdef __bpf__
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

const volatile __u32 targ_tgid = 0;
const volatile __s32 off_goid = -1;
const volatile __s32 off_g_m = -1;
const volatile __s32 off_stack_lo = -1;
const volatile __s32 off_stack_hi = -1;
const volatile __s32 off_sched_sp = -1;
const volatile __s32 off_sched_pc = -1;
const volatile __s32 off_sched_bp = -1;
const volatile __s32 off_m_g0 = -1;
const volatile __s32 off_m_curg = -1;
const volatile __s64 tls_g = 0;
const volatile __u64 wake_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GR_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Registers.  Read them at the top of the program, before any branch:
 * the verifier rejects a ctx load through a computed pointer, which clang
 * may produce for a read inside a branch.  GR_REG_ARG's i must be a
 * constant: amd64 passes integer arguments in RAX, RBX, RCX, RDI, RSI, R8,
 * R9, R10, R11; arm64 in R0-R15 (Go's internal ABI, docs/go-runtime.md).
 */
#if defined(__TARGET_ARCH_x86)
#define GR_REG_G(ctx)		((ctx)->r14)
#define GR_REG_ARG(ctx, i)						\
	((i) == 0 ? (ctx)->ax : (i) == 1 ? (ctx)->bx : (i) == 2 ? (ctx)->cx :	\
	 (i) == 3 ? (ctx)->di : (i) == 4 ? (ctx)->si : (i) == 5 ? (ctx)->r8 :	\
	 (i) == 6 ? (ctx)->r9 : (i) == 7 ? (ctx)->r10 : (i) == 8 ? (ctx)->r11 : 0)
#elif defined(__TARGET_ARCH_arm64)
#define GR_REG_G(ctx)		((ctx)->regs[28])
#define GR_REG_ARG(ctx, i)	((i) < 16 ? (ctx)->regs[(i)] : 0)
#else
#error "go_runtime.h: amd64 (__TARGET_ARCH_x86) or arm64 (__TARGET_ARCH_arm64) only"
#endif

/* Whether the probed task belongs to the traced process. */
static __always_inline bool gr_in_target(__u64 pid_tgid)
{
	return !targ_tgid || (pid_tgid >> 32) == targ_tgid;
}

static __always_inline void gr_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/*
 * The g of the probed thread.  reg_g: GR_REG_G(ctx).  tls: the probed code
 * does not keep g in a register (amd64 before the register ABI, and ABI0
 * assembly functions): then it is read from fs_base + tls_g.  arm64 keeps
 * g in R28 in all Go code, so tls changes nothing there.  Inside Go code
 * this is the user goroutine, or g0 on the scheduler stack (gr_on_g0).
 */
static __always_inline __u64 gr_current_g(__u64 reg_g, bool tls)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task;
	__u64 g = 0;

	if (!tls)
		return reg_g;
	if (!tls_g)
		return 0;
	task = (void *)bpf_get_current_task();
	if (bpf_probe_read_user(&g, sizeof(g), (void *)(BPF_CORE_READ(task, thread.fsbase) + tls_g)))
		return 0;
	return g;
#else
	return reg_g;
#endif
}

/* A pointer-sized field of a runtime struct at base + off; 0 if off is
 * unknown or the read fails. */
static __always_inline __u64 gr_read_ptr(__u64 base, __s32 off)
{
	__u64 v = 0;

	if (!base || off < 0 || bpf_probe_read_user(&v, sizeof(v), (void *)(base + off)))
		return 0;
	return v;
}

/* g.goid, -1 if g is 0 or the read fails. */
static __always_inline __s64 gr_goid(__u64 g)
{
	__s64 goid = -1;

	if (!g || off_goid < 0 || bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + off_goid)))
		return -1;
	return goid;
}

/* g.stack.hi (the top: stacks grow down from it), 0 on success. */
static __always_inline int gr_stack_hi(__u64 g, __u64 *hi)
{
	*hi = 0;
	if (!g || off_stack_hi < 0 || bpf_probe_read_user(hi, sizeof(*hi), (void *)(g + off_stack_hi)))
		return -1;
	return 0;
}

/* The most bytes gr_stack_hi_goid() reads at once (g.stack.hi at 8 and
 * g.goid at 152 or 160 in every Go release so far: 160). */
#define GR_HI_GOID_SPAN 192

/* g.stack.hi and g.goid, 0 on success (else -1, *hi 0 and *goid -1).
 * One user-memory read covers both when they are at most
 * GR_HI_GOID_SPAN bytes apart: a bpf_probe_read_user() costs about as
 * much as the rest of a small probe program (its fixed part: the fault
 * handling set-up and the hardened-usercopy checks, docs/probes.md), so
 * reading ~150 bytes once is cheaper than 8 bytes twice.  Both fields are
 * in one object (g), so the wide read fails exactly when one of the
 * narrow ones would.  Otherwise two reads. */
static __always_inline int gr_stack_hi_goid(__u64 g, __u64 *hi, __s64 *goid)
{
	__u64 b[GR_HI_GOID_SPAN / 8];	/* written by the read */
	__s32 span = off_goid - off_stack_hi;
	__u32 n = (__u32)span + 8;

	*hi = 0;
	*goid = -1;
	if (!g || off_stack_hi < 0 || off_goid < 0)
		return -1;
	if (span > 0 && !(span & 7) && n <= sizeof(b)) {
		__u32 i = (__u32)span / 8;

		if (i >= GR_HI_GOID_SPAN / 8 ||
		    bpf_probe_read_user(b, n, (void *)(g + off_stack_hi)))
			return -1;
		*hi = b[0];
		*goid = (__s64)b[i];
		return 0;
	}
	if (gr_stack_hi(g, hi))
		return -1;
	*goid = gr_goid(g);
	return *goid < 0 ? -1 : 0;
}

/* g.stack.lo and .hi, 0 on success (one read: runtime.stack is
 * {lo, hi}). */
static __always_inline int gr_stack(__u64 g, __u64 *lo, __u64 *hi)
{
	__u64 b[2] = {};

	*lo = *hi = 0;
	if (!g || off_stack_lo < 0 || off_stack_hi != off_stack_lo + 8 ||
	    bpf_probe_read_user(b, sizeof(b), (void *)(g + off_stack_lo)))
		return -1;
	*lo = b[0];
	*hi = b[1];
	return 0;
}

/* The part of g.sched (a runtime.gobuf) a stack walk starts from. */
struct gr_gobuf {
	__u64 sp, pc, bp;
};

/* g.sched: where a goroutine that is not running resumes (saved when it
 * parked, yielded or was preempted); 0 on success, else all zero. */
static __always_inline int gr_sched(__u64 g, struct gr_gobuf *b)
{
	__u64 sppc[2] = {};

	b->sp = b->pc = b->bp = 0;
	if (!g || off_sched_sp < 0 || off_sched_pc != off_sched_sp + 8 ||
	    bpf_probe_read_user(sppc, sizeof(sppc), (void *)(g + off_sched_sp)))
		return -1;
	b->sp = sppc[0];
	b->pc = sppc[1];
	b->bp = gr_read_ptr(g, off_sched_bp);
	return 0;
}

/* g.m: the thread (runtime.m) g runs on; 0 if none or unreadable. */
static __always_inline __u64 gr_g_m(__u64 g)
{
	return gr_read_ptr(g, off_g_m);
}

/* g.m.curg: the user goroutine of g's thread (g itself when g is a
 * running user goroutine; on g0, the goroutine the scheduler works for);
 * 0 if none or unreadable. */
static __always_inline __u64 gr_curg(__u64 g)
{
	return gr_read_ptr(gr_g_m(g), off_m_curg);
}

/* Whether g is its thread's g0 (the scheduler stack); then *curg is the
 * thread's user goroutine (0 if none: scheduler, GC workers), else 0. */
static __always_inline bool gr_on_g0(__u64 g, __u64 *curg)
{
	__u64 m = gr_g_m(g);

	*curg = 0;
	if (!m || gr_read_ptr(m, off_m_g0) != g)
		return false;
	*curg = gr_read_ptr(m, off_m_curg);
	return true;
}

/* A record's bytes in the ring: data + 8-byte header, 8-aligned. */
#define GR_RB_SPAN(n)	((((__u64)(n)) + 8 + 7) & ~7ULL)

/* A ring buffer record of size bytes, or NULL (full) with counters[drop]
 * counted: no lost record goes uncounted. */
static __always_inline void *gr_reserve(__u64 size, __u32 drop)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		gr_count(drop);
	return r;
}

/*
 * Submit a record of size bytes (what was reserved).  The one wake-up
 * policy (docs/go-runtime.md, "Waking the reader"): no wakeup per record;
 * the reader drains on its timer, and is woken early once per multiple of
 * wake_bytes of unread data crossed, by the record that crossed it; past
 * two steps (half the buffer) every record wakes it, in case a crossing
 * was seen by no one (other CPUs reserved in between).  wake_bytes 0:
 * never.
 */
static __always_inline __u64 gr_wake_flags(__u64 avail, __u64 span)
{
	__u64 step = wake_bytes;

	if (step && (avail >= 2 * step ||
		     (avail >= span && (avail & ~(step - 1)) != ((avail - span) & ~(step - 1)))))
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void gr_submit(void *rec, __u64 size)
{
	__u64 avail = wake_bytes ? bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) : 0;

	bpf_ringbuf_submit(rec, gr_wake_flags(avail, GR_RB_SPAN(size)));
}

/* A record copied from data (size bytes, bounded for the verifier), by
 * the same policy (the unread data then includes it); 0, or -1 with
 * counters[drop] counted when the ring is full. */
static __always_inline int gr_output(void *data, __u64 size, __u32 drop)
{
	__u64 span = GR_RB_SPAN(size);
	__u64 avail = wake_bytes ? bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + span : 0;

	if (bpf_ringbuf_output(&events, data, size, gr_wake_flags(avail, span))) {
		gr_count(drop);
		return -1;
	}
	return 0;
}

#endif /* __bpf__ */

#endif /* GOTRACE_GO_RUNTIME_H */
