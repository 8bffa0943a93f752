/* SPDX-License-Identifier: MIT */
/*
 * Shared between bpf/states.bpf.c and gotrace/states*.c: the event the BPF
 * side sends for every goroutine state transition, and the probe kinds.
 * Fixed-width fields only, 8-byte fields first.
 */
#ifndef GOTRACE_STATES_H
#define GOTRACE_STATES_H

/* runtime.g.atomicstatus values (runtime2.go), stable since Go 1.0 except
 * the two 1.26 additions. */
#define STATES_G_IDLE		0
#define STATES_G_RUNNABLE	1
#define STATES_G_RUNNING	2
#define STATES_G_SYSCALL	3
#define STATES_G_WAITING	4
#define STATES_G_MORIBUND	5 /* unused by the runtime */
#define STATES_G_DEAD		6
#define STATES_G_ENQUEUE	7 /* unused by the runtime */
#define STATES_G_COPYSTACK	8
#define STATES_G_PREEMPTED	9
#define STATES_G_LEAKED		10 /* Go 1.26+ */
#define STATES_G_DEADEXTRA	11 /* Go 1.26+ */
#define STATES_G_SCAN		0x1000

/* states_event.flags */
#define STATES_F_CREATE		0x1 /* dead -> runnable/waiting: startpc/gopc/parent filled */
#define STATES_F_SYNTH		0x2 /* from a probe on a path that bypasses casgstatus */
#define STATES_F_MAYFAIL	0x4 /* entry of a CAS that may fail (casGFromPreempted) */
#define STATES_F_NOGOID		0x8 /* goid could not be read */
#define STATES_F_STACK		0x10 /* --stack: the full struct, then a struct
				      * gt_stack_hdr and the stack bytes */
#define STATES_F_EXIT		0x20 /* running -> dead: startpc/gopc/parent/labels
				      * filled, so a goroutine that existed before
				      * tracing began is named even if it exits
				      * before the attach snapshot reads it */

/* Attach cookies of the transition program: which function it is on. */
#define STATES_COOKIE_CASGSTATUS	0
#define STATES_COOKIE_PREEMPTSCAN	STATES_F_SYNTH
#define STATES_COOKIE_FROMPREEMPTED	(STATES_F_SYNTH | STATES_F_MAYFAIL)

/* Attach cookies of the syscall fast-path program (Go 1.26+, where
 * reentersyscall/exitsyscall CAS the status themselves): from << 16 | to. */
#define STATES_SYSCALL_COOKIE(from, to) (((from) << 16) | (to))

/* Index in the `counters` per-CPU array. */
#define STATES_CNT_DROPS	0 /* ring buffer full: event lost */
#define STATES_CNT_READFAIL	1 /* user memory read failed */
#define STATES_CNT_STACK_DROPS	2 /* --stack: no room for the stack record; the
				   * transition went out without its stack */
#define STATES_CNT_MAX		3

/* Ring buffer: 16 MiB (~400k plain transitions, 40 ms at 10M transitions/s),
 * or --buffer-size.  The reader drains every STATES_POLL_MS and the BPF
 * side wakes it early only as the unread data grows (go_runtime.h,
 * gr_submit; docs/go-runtime.md, "Waking the reader"). */
#define STATES_RINGBUF_BYTES	(1 << 24)
#define STATES_POLL_MS		50

/*
 * One transition, as user space sees it (and as --raw records it).
 * Creations (STATES_F_CREATE), exits (STATES_F_EXIT) and --stack records
 * carry this whole struct on the ring buffer; every other transition
 * travels as the 32-byte struct states_rec below and the reader fills in
 * the rest (startpc = gopc = probe_ip = labels = 0, parent_goid = -1).
 */
struct states_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 gp;		/* address of the runtime.g changing state */
	__s64 goid;		/* g.goid; may be stale on creation before Go 1.24 */
	__u32 tid;		/* thread (kernel tid) that performed the change */
	__u32 from;		/* raw status, may include STATES_G_SCAN */
	__u32 to;
	__u32 reason;		/* g.waitreason when to is waiting, else 0 */
	__u32 flags;		/* STATES_F_* */
	__u32 pad;
	/* creation and exit only: */
	__u64 startpc;		/* g.startpc (the go statement's target) */
	__u64 gopc;		/* g.gopc (PC of the go statement) */
	__s64 parent_goid;	/* creator's goid, -1 if unknown */
	__u64 probe_ip;		/* run-time address of the probed function
				 * (casgstatus): gives the PIE load bias */
	__u64 labels;		/* g.labels: its pprof label set, 0 if none */
};

/*
 * Every other transition on the ring buffer: 32 bytes, 40 with the ring
 * buffer's 8-byte header (against 56 for the first 48 bytes of
 * states_event): at millions of events a second the bytes written per
 * event are a large part of the cost (docs/states.md, Benchmarks).
 * Statuses fit a byte: the value (0..11) with STATES_REC_SCAN for the
 * _Gscan bit; the wait reason is a uint8 in the runtime; flags < 0x100.
 */
struct states_rec {
	__u64 ts_ns;
	__u64 gp;
	__s64 goid;
	__u32 tid;
	__u8 from;
	__u8 to;
	__u8 reason;
	__u8 flags;
};

#define STATES_REC_SCAN		0x80
/* status <-> byte (the _Gscan bit is 0x1000 in the runtime) */
#define STATES_REC_STATUS(s)	((__u8)(((s) & 0x7f) | (((s) & STATES_G_SCAN) ? STATES_REC_SCAN : 0)))
#define STATES_REC_UNSTATUS(b)	((__u32)(((b) & 0x7f) | (((b) & STATES_REC_SCAN) ? STATES_G_SCAN : 0)))

/* Direct-mapped cache of gp -> goid in the BPF program (a user
 * read costs ~30 ns; a goroutine's goid only changes when its g is reused,
 * which always goes through a transition out of _Gdead). */
#define STATES_GOID_CACHE	512	/* entries, a power of two */

/*
 * --stack (programs on_transition_stack / _m, loaded instead of
 * on_transition / _m): a goroutine leaving `running` for waiting, runnable,
 * syscall or preempted is sent as
 *   struct states_event (flags has STATES_F_STACK; probe_ip set, the other
 *   creation fields zero) | struct gt_stack_hdr | stack bytes
 * The stack is the goroutine's own: when gp is not the current g (the
 * runtime parks and preempts goroutines from g0, in park_m/gosched_m via
 * mcall), it is unwound from gp->sched (pc, sp, bp saved by mcall) over a
 * copy from sched.sp up to gp's stack.hi; when gp is the current g
 * (entersyscall), from the probe's own registers.
 */
#include "stack_capture.h"

#endif /* GOTRACE_STATES_H */
