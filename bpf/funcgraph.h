/* SPDX-License-Identifier: MIT */
/*
 * Shared between bpf/funcgraph.bpf.c and gotrace/funcgraph*.c: the event
 * sent for every probe hit and the layout of the attach cookie that tells
 * the probes apart.  Fixed-width fields only, 8-byte fields first.
 *
 * Every probe (function entry, each RET instruction, runtime.morestack,
 * runtime.goexit0, runtime.deferreturn) runs the same program; its attach cookie says which
 * function it belongs to and what kind of site it is.  The cookie, never
 * the runtime IP, identifies the probe, so PIE and ASLR don't matter.
 */
#ifndef GOTRACE_FUNCGRAPH_H
#define GOTRACE_FUNCGRAPH_H

#include "func_probe.h"

/* Probe kinds (cookie bits 32-39, event.kind): bpf/func_probe.h's. */
#define FG_KIND_ENTRY		FP_KIND_ENTRY
#define FG_KIND_RET		FP_KIND_RET
#define FG_KIND_MORESTACK	FP_KIND_MORESTACK
#define FG_KIND_GEXIT		FP_KIND_GEXIT
#define FG_KIND_UNWIND		FP_KIND_UNWIND

/* Cookie: func index (bits 0-31) | kind << 32 | flags (func_probe.h) |
 * funcgraph's own bits. */
#define FG_COOKIE_KIND_SHIFT	FP_COOKIE_KIND_SHIFT
#define FG_COOKIE_TLS		FP_COOKIE_TLS
#define FG_COOKIE_G0		FP_COOKIE_G0
#define FG_COOKIE_FILTER	(1ULL << 42) /* --filter applies: a RET whose entry
					      * was filtered out is not sent */
#define FG_COOKIE_PLAN_SHIFT	48	     /* --args: read plan index (0 = none) */
#define FG_COOKIE_PLAN(p)	((__u64)(p) << FG_COOKIE_PLAN_SHIFT)
#define FG_COOKIE(idx, kind, flags) FP_COOKIE(idx, kind, flags)

/* fg_event.flags */
#define FG_F_G0			0x1 /* ran on the scheduler stack (g0) */
#define FG_F_NOGOID		0x2 /* g or goid could not be read */
#define FG_F_STACK		0x4 /* a struct gt_stack_hdr and the stack bytes follow */
#define FG_F_ARGS		0x8 /* a struct ga_hdr and the value bytes follow */
#define FG_F_ARGS_LOST		0x10 /* --args: the values could not be read */

/* Index in the `counters` per-CPU array. */
#define FG_CNT_EVENTS		0 /* events submitted */
#define FG_CNT_DROPS		1 /* ring buffer full: event lost */
#define FG_CNT_READFAIL		2 /* user memory read failed */
#define FG_CNT_STACK_DROPS	3 /* --stack: no room for the stack record; the
				     * event went out without its stack */
#define FG_CNT_STACK_PAGED	4 /* --stack: the one-piece copy faulted; copied
				     * page by page up to the first unreadable one */
#define FG_CNT_ARGS_LOST	5 /* --args: no buffer to read the values into */
#define FG_CNT_FILTERED		6 /* --filter: calls not sent */
#define FG_CNT_BENCH_NS		7 /* --bench-timing: ns spent in the program */
#define FG_CNT_BENCH_HITS	8 /* --bench-timing: its runs */
#define FG_CNT_MAX		9

/* Ring buffer size: 64 MiB.  The reader drains every 50 ms and is woken
 * early by the BPF side (go_runtime.h, gr_submit). */
#define FG_RINGBUF_BYTES	(1u << 26)

struct fg_event {
	__u64 ts_ns;	/* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__s64 goid;	/* -1 if unreadable */
	__u64 dist;	/* g.stack.hi - (SP at the function's entry) */
	__u32 func;	/* cookie's function index */
	__u32 tid;	/* kernel thread id */
	__u8 kind;	/* FG_KIND_* */
	__u8 flags;	/* FG_F_* */
	__u16 pad;
	__u32 pad2;
};

/*
 * --stack: entry events (FG_KIND_ENTRY) carry the register snapshot and a
 * copy of the user stack (stack_capture.h):
 *   struct fg_event (flags has FG_F_STACK) | struct gt_stack_hdr | bytes
 * reserved at its full size (rodata stack_size), hdr.len bytes valid.
 */
#include "stack_capture.h"

/*
 * --args: entry and RET events of a probe with a read plan carry the
 * values (args.h):
 *   struct fg_event (flags has FG_F_ARGS) | struct ga_hdr | hdr.len bytes
 */
#include "args.h"

#endif /* GOTRACE_FUNCGRAPH_H */
