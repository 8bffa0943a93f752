/* SPDX-License-Identifier: MIT */
/*
 * session: the life of one run of a tracing command, the same for every
 * command (states, funcgraph, and those to come).  A command's main is a
 * short list of steps; the shared ones are here, the command supplies what
 * is its own (its BPF object, its probes, its events, its report):
 *
 *	gt_session_open()     signals, libbpf's messages, the target (attach to
 *	                      -p PID, or launch the program held before exec),
 *	                      its symbols (gosym), its runtime offsets; --stack
 *	gt_session_load()     the command's BPF object, with the uprobe_multi
 *	                      programs if this kernel takes them, else without
 *	gt_session_ring()     the ring buffer reader on the object's ring map
 *	gt_session_attach()   --stack's tables loaded (and with -p the maps
 *	                      read), then the command's probes, as uprobe_multi
 *	                      links or (falling back in --attach auto) one
 *	                      uprobe each; the trace starts (t0) once they are in
 *	gt_session_run()      gt_session_start(): the -d deadline, the launched
 *	                      program released;
 *	                      gt_session_loop(): drain the ring until the end
 *	                      (below); gt_session_detach(): every probe
 *	                      detached, the ring drained
 *	gt_session_finish()   launch mode: wait for the program; exit status
 *	gt_session_release()  everything, on every path (also after a failure
 *	                      at any step: probes are never left attached)
 *
 * When tracing ends (one rule for every command): the -d deadline; the
 * target's exit; a live output that fails (a full disk: the trace stops
 * instead of going on into the void); an error from the command's event
 * callback; or SIGINT/SIGTERM.  A stop signal in attach mode ends tracing
 * and leaves the process running; in launch mode it is passed on to the
 * program, whose exit then ends tracing (a second signal kills it), so
 * the program's own shutdown is traced too.
 *
 * The steps print their own errors ("gotrace: CMD: ...") and progress
 * (silenced by -q), and return 0 or 1 (after printing); a command only
 * reports what is its own.
 */
#ifndef GOTRACE_SESSION_H
#define GOTRACE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "go_runtime.h"
#include "gosym.h"
#include "tracing/options.h"
#include "tracing/ring.h"
#include "tracing/stacks.h"
#include "tracing/target.h"

struct uprobes;
struct gt_outfile;

struct gt_session {
	const char *cmd;			/* messages: "gotrace: CMD: ..." */
	const struct gt_trace_opts *opts;
	struct gt_target target;
	struct gosym *gs;			/* the target's executable */
	const struct gosym_info *info;
	struct gosym_runtime_offsets ro;
	struct gt_stacks *stacks;		/* --stack; NULL without */
	struct gt_ring *ring;
	struct uprobes *ups;			/* every probe attached */
	bool multi;				/* loaded for / attached as uprobe_multi */
	char attach_note[96];			/* set by the attach callback: what the
						 * probes cost ("3 emulated, 2
						 * single-stepped"), in the attached line */
	uint64_t t0_ns;				/* the trace's start: probes in place */
	uint64_t end_ns;			/* tracing ended (before detaching) */
	bool target_gone;			/* the target exited while traced */
	/* live outputs whose failure ends the trace (gt_session_watch) */
	const struct gt_outfile *watch[4];
	int nwatch;
};

#define GT_SESSION_INIT { .target = GT_TARGET_INIT }

/* The target and its symbols: attach to opts->pid or launch opts->argv
 * (held before exec), open its executable with gosym, check it is a Go
 * program for this gotrace's architecture, read its runtime offsets, and
 * with opts->stack create the stack unwinder.  Also installs the stop
 * signals' handler and libbpf's message callback.  0 or 1. */
int gt_session_open(struct gt_session *s, const char *cmd, const struct gt_trace_opts *opts);

/* Load the command's BPF object: load(ctx, s, multi) opens, configures
 * and loads it, with the programs meant for uprobe_multi links when multi is
 * set, and returns 0 or -errno (leaving nothing loaded on failure).  Tried
 * with multi unless --attach single; without, when that fails in --attach
 * auto.  Sets s->multi.  0 or 1. */
int gt_session_load(struct gt_session *s,
		    int (*load)(void *ctx, struct gt_session *s, bool multi), void *ctx);

/* The ring buffer reader on map_fd (a BPF_MAP_TYPE_RINGBUF).  0 or 1. */
int gt_session_ring(struct gt_session *s, int map_fd);

/* Attach the command's probes: attach(ctx, s, multi) attaches them all into
 * s->ups as uprobe_multi links (multi) or one perf-event uprobe each, and
 * returns 0 or -errno.  Multi first when the object was loaded for it; in
 * --attach auto a failure falls back to single uprobes (with a warning:
 * detaching them costs an RCU grace period each).  Then says how many
 * probes are attached and sets s->t0_ns, the trace's start.  With --stack,
 * the unwind tables are compiled and a running program's (-p) maps read
 * first.  0 or 1. */
int gt_session_attach(struct gt_session *s,
		      int (*attach)(void *ctx, struct gt_session *s, bool multi), void *ctx);

/* A stop signal (SIGINT, SIGTERM, SIGHUP) arrived before tracing started:
 * says so ("stopped by SIGINT before tracing started: nothing attached")
 * and returns 1; else 0.  The steps up to gt_session_attach() check it
 * (the launched program then never runs); a command checks it between
 * steps of its own that take long (decoding every function). */
int gt_session_interrupted(const struct gt_session *s);

/* A live output whose first write error ends the trace (at most 4). */
void gt_session_watch(struct gt_session *s, const struct gt_outfile *f);

/* Tracing starts (t0 was set by gt_session_attach(): events arrive from
 * the attach on): the launched program released (probes are in place
 * before its first instruction), its memory maps read for --stack.  0 or
 * 1. */
int gt_session_start(struct gt_session *s);

/* Drain the ring into fn(ctx, record, len) every poll_ms (or sooner when
 * the BPF side wakes the reader) until tracing ends (see above).  0, or 1
 * after fn returned non-zero (fn reports its own error) or reading failed. */
int gt_session_loop(struct gt_session *s, gt_ring_fn fn, void *ctx, int poll_ms);

/* Tracing ended: s->end_ns, the stop signal passed on to a launched
 * program, every probe detached, the ring drained into fn (the events of
 * the last moments).  0, or 1 when fn failed. */
int gt_session_detach(struct gt_session *s, gt_ring_fn fn, void *ctx);

/* The command's exit status: status (0 or 1) in attach mode; in launch
 * mode gotrace waits for the program (passing stop signals on) and exits
 * with its status when the command succeeded, 1 otherwise.  A program
 * never released is not waited for. */
int gt_session_finish(struct gt_session *s, int status);

/* gt_session_start(), then started(ctx) (the writers learn t0 before the
 * first event), gt_session_loop() and gt_session_detach().  0 or 1; the
 * probes are detached in every case. */
int gt_session_run(struct gt_session *s, void (*started)(void *ctx), gt_ring_fn fn, void *ctx,
		   int poll_ms);

/* A periodic callback of the aggregating commands (their data stays in
 * BPF maps: no ring buffer): now_ns is CLOCK_MONOTONIC; 0, or non-zero to
 * end tracing as failed (the callback reports its own error). */
typedef int (*gt_tick_fn)(void *ctx, uint64_t now_ns);

/* gt_session_loop() for a session without a ring buffer: tick(ctx, now)
 * every interval_ns from t0 (0: never) until tracing ends (the same
 * rules), which is checked every poll_ms (and at once on a signal).
 * 0, or 1 after tick returned non-zero. */
int gt_session_loop_ticks(struct gt_session *s, gt_tick_fn tick, void *ctx, uint64_t interval_ns,
			  int poll_ms);

/* gt_session_run() with gt_session_loop_ticks(): start, started(ctx),
 * ticks until the end, detach.  0 or 1; the probes are detached in every
 * case. */
int gt_session_run_ticks(struct gt_session *s, void (*started)(void *ctx), gt_tick_fn tick,
			 void *ctx, uint64_t interval_ns, int poll_ms);

/* Detach what is attached, free everything; safe after any step. */
void gt_session_release(struct gt_session *s);

/* The rodata every gotrace BPF program has (bpf/go_runtime.h), set from
 * the session: the target's tgid, the runtime offsets gosym found, and the
 * ring's wake-up step for a ring buffer of ring_bytes.  A macro: each
 * skeleton has a rodata type of its own. */
#define GT_SESSION_RUNTIME_RODATA(rodata, s, ring_bytes)			\
	do {									\
		(rodata)->targ_tgid = (uint32_t)(s)->target.pid;		\
		(rodata)->off_goid = (s)->ro.g_goid;				\
		(rodata)->off_g_m = (s)->ro.g_m;				\
		(rodata)->off_stack_lo = (s)->ro.g_stack_lo;			\
		(rodata)->off_stack_hi = (s)->ro.g_stack_hi;			\
		(rodata)->off_sched_sp = (s)->ro.g_sched_sp;			\
		(rodata)->off_sched_pc = (s)->ro.g_sched_pc;			\
		(rodata)->off_sched_bp = (s)->ro.g_sched_bp;			\
		(rodata)->off_m_g0 = (s)->ro.m_g0;				\
		(rodata)->off_m_curg = (s)->ro.m_curg;				\
		(rodata)->tls_g = (s)->ro.tls_g;				\
		(rodata)->wake_bytes = GR_WAKE_BYTES(ring_bytes);		\
	} while (0)

/* The sum over CPUs of slot idx of a BPF_MAP_TYPE_PERCPU_ARRAY of u64
 * counters; 0 if it cannot be read. */
uint64_t gt_bpf_counter_sum(int map_fd, uint32_t idx);

#endif /* GOTRACE_SESSION_H */
