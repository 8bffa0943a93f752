// SPDX-License-Identifier: MIT
/*
 * session: the steps every tracing command shares, from the target to its
 * exit status.  See session.h.
 */
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gotrace.h"
#include "output/outfile.h"
#include "probes/uprobe_multi.h"
#include "tracing/clock.h"
#include "tracing/session.h"
#include "tracing/signals.h"

/* libbpf's own messages: the commands report failures themselves, in one
 * line; GOTRACE_DEBUG=1 shows libbpf's warnings and details too. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !getenv("GOTRACE_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char *errstr(int err)
{
	return strerror(err < 0 ? -err : err);
}

static int open_target(struct gt_session *s)
{
	const struct gt_trace_opts *o = s->opts;
	int err;

	if (o->pid)
		err = gt_target_attach(o->pid, &s->target);
	else
		err = gt_target_launch(o->argv, &s->target);
	if (err)
		return gt_error("%s: %s", s->cmd, gt_target_errmsg());
	return 0;
}

/* The target's executable: a Go program of this architecture, with runtime
 * offsets the BPF programs can use. */
static int open_symbols(struct gt_session *s)
{
	const char *exe = s->target.exe;
	int err;

	gt_progress("loading symbols of %s", exe);
	err = gosym_open(s->target.exe_open, &s->gs);
	if (err == -ENOEXEC)
		return gt_error("%s: '%s'%s is not a Go program (%s)", s->cmd, exe,
				s->opts->pid ? " (the target's executable)" : "", gosym_errmsg());
	if (err)
		return gt_error("%s: cannot read '%s': %s", s->cmd, exe, gosym_errmsg());
	s->info = gosym_info(s->gs);
	if (strcmp(s->info->arch, GOTRACE_ARCH))
		return gt_error("%s: '%s' is a %s binary; this gotrace traces %s", s->cmd, exe,
				s->info->arch, GOTRACE_ARCH);
	if (gosym_runtime_offsets(s->gs, &s->ro))
		return gt_error("%s: '%s' (%s): no runtime.g offsets: %s", s->cmd, exe,
				s->info->goversion[0] ? s->info->goversion : "unknown Go version",
				gosym_errmsg());
	return 0;
}

int gt_session_interrupted(const struct gt_session *s)
{
	int sig = gt_stop_signal();

	if (!sig)
		return 0;
	return gt_error("%s: stopped by %s before tracing started: nothing attached", s->cmd,
			sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
}

int gt_session_open(struct gt_session *s, const char *cmd, const struct gt_trace_opts *opts)
{
	int err;

	s->cmd = cmd;
	s->opts = opts;
	gt_signals_install();
	libbpf_set_print(libbpf_print);
	if (open_target(s))
		return 1;
	gt_fault_point("target");
	if (gt_session_interrupted(s) || open_symbols(s))
		return 1;
	gt_fault_point("symbols");
	if (gt_session_interrupted(s))
		return 1;
	if (opts->stack && (err = gt_stacks_new(opts->unwind, opts->stack_size, &s->stacks)))
		return gt_error("%s: --stack: %s", cmd, errstr(err));
	return 0;
}

int gt_session_load(struct gt_session *s,
		    int (*load)(void *ctx, struct gt_session *s, bool multi), void *ctx)
{
	enum gt_attach mode = s->opts->attach;
	int err;

	if (gt_session_interrupted(s))
		return 1;
	s->multi = mode != GT_ATTACH_SINGLE;
	err = load(ctx, s, s->multi);
	/* a kernel without uprobe_multi refuses the programs' attach type */
	if (err && s->multi && mode == GT_ATTACH_AUTO && err != -EPERM) {
		s->multi = false;
		err = load(ctx, s, false);
	}
	if (!err)
		gt_fault_point("load");
	if (err)
		return gt_error("%s: cannot load BPF programs: %s%s", s->cmd, errstr(err),
				err == -EPERM ? " (run as root or with CAP_BPF and CAP_PERFMON; "
						"see 'gotrace doctor')" : "");
	return 0;
}

int gt_session_ring(struct gt_session *s, int map_fd)
{
	int err = gt_ring_open(map_fd, &s->ring);

	if (err)
		return gt_error("%s: cannot map the ring buffer: %s", s->cmd, errstr(err));
	return 0;
}

/* A failed attach, said once, with its reason. */
static int attach_error(struct gt_session *s, const char *how, int err)
{
	/* the attach callback stopped at a stop signal (-EINTR) */
	if (err == -EINTR && gt_stop_requested())
		return gt_error("%s: stopped by a signal while attaching: every probe released",
				s->cmd);
	if (gt_target_exited(&s->target))
		return gt_error("%s: pid %d exited while its probes were attached", s->cmd,
				(int)s->target.pid);
	return gt_error("%s: cannot attach %s to '%s': %s%s", s->cmd, how, s->target.exe,
			errstr(err),
			err == -EPERM || err == -EACCES ? " (see 'gotrace doctor')" : "");
}

int gt_session_attach(struct gt_session *s,
		      int (*attach)(void *ctx, struct gt_session *s, bool multi), void *ctx)
{
	uint64_t t;
	int err = 0;

	if (gt_session_interrupted(s))
		return 1;
	/* --stack: compile the unwind tables, and read a running program's
	 * maps (-p), before the probes go in: events arrive from then on, and
	 * a program may be gone by the time its first stack is read. */
	if (s->stacks) {
		gt_stacks_preload(s->stacks, s->target.pid, s->target.exe_open);
		if (!s->target.launched && (err = gt_stacks_attach(s->stacks, s->target.pid, NULL)))
			gt_warn("--stack: cannot read /proc/%d/maps: %s", (int)s->target.pid,
				errstr(err));
	}
	t = gt_now_ns();
	if (s->multi) {
		err = attach(ctx, s, true);
		if (err) {
			uprobes_free(s->ups);
			s->ups = NULL;
			if (s->opts->attach == GT_ATTACH_MULTI || gt_target_exited(&s->target) ||
			    gt_stop_requested())
				return attach_error(s, "uprobe_multi links", err);
			gt_warn("%s: no uprobe_multi links (%s): one uprobe per probe, slower to "
				"detach", s->cmd, errstr(err));
			s->multi = false;
		}
	}
	if (!s->multi && (err = attach(ctx, s, false)))
		return attach_error(s, "uprobes", err);
	if (s->multi)
		gt_fault_point("attach");	/* single: after the first probe */
	if (gt_stop_requested()) {
		uprobes_free(s->ups);
		s->ups = NULL;
		return attach_error(s, "uprobes", -EINTR);
	}
	/* The trace starts now: the probes fire from here on. */
	s->t0_ns = gt_now_ns();
	/* what each hit will cost: docs/probes.md, `gotrace doctor` */
	gt_progress("attached %zu probes%s%s%s with %s in %.1f ms; tracing pid %d%s",
		    uprobes_count(s->ups), s->attach_note[0] ? " (" : "", s->attach_note,
		    s->attach_note[0] ? ")" : "",
		    uprobes_mode_name(s->multi ? UPROBES_MULTI : UPROBES_SINGLE),
		    (s->t0_ns - t) / 1e6, (int)s->target.pid, s->opts->pid ? ", Ctrl-C to stop" : "");
	return 0;
}

void gt_session_watch(struct gt_session *s, const struct gt_outfile *f)
{
	if (f && s->nwatch < (int)(sizeof(s->watch) / sizeof(s->watch[0])))
		s->watch[s->nwatch++] = f;
}

int gt_session_start(struct gt_session *s)
{
	struct gt_target *t = &s->target;
	int err;

	if (gt_target_release(t))
		return gt_error("%s: %s", s->cmd, gt_target_errmsg());
	/* --stack, launch mode: the maps of the program itself, i.e. after the
	 * exec, read before it can exit (a zombie's maps are empty) */
	if (s->stacks && t->launched && (err = gt_stacks_attach(s->stacks, t->pid, t->exe_open)))
		gt_warn("--stack: cannot read /proc/%d/maps: %s", (int)t->pid, errstr(err));
	return 0;
}

/* A watched output failed (its commit says how). */
static bool output_failed(const struct gt_session *s)
{
	for (int i = 0; i < s->nwatch; i++)
		if (gt_outfile_error(s->watch[i]))
			return true;
	return false;
}

/* Whether tracing ends now (see session.h). */
static bool trace_ends(struct gt_session *s, uint64_t deadline)
{
	if (gt_target_exited(&s->target)) {
		s->target_gone = true;
		return true;
	}
	if (gt_stop_requested()) {
		if (!s->target.launched)
			return true;
		gt_target_forward_stop(&s->target);	/* its exit ends tracing */
	}
	return (deadline && gt_now_ns() >= deadline) || output_failed(s);
}

int gt_session_loop(struct gt_session *s, gt_ring_fn fn, void *ctx, int poll_ms)
{
	uint64_t deadline = s->opts->duration_ns ? s->t0_ns + s->opts->duration_ns : 0;

	for (;;) {
		int err = gt_ring_wait(s->ring, poll_ms);

		if (err < 0 && err != -EINTR)
			return gt_error("%s: reading events: %s", s->cmd, errstr(err));
		if (gt_ring_drain(s->ring, fn, ctx) < 0)
			return 1;
		if (trace_ends(s, deadline))
			return 0;
	}
}

/* Perf-event uprobes detach slowly (docs/faults.md): after the first 20,
 * how long the rest will take; then every 1000. */
static int detach_progress(size_t done, size_t total, void *arg)
{
	uint64_t t0 = *(const uint64_t *)arg;
	double each = (gt_now_ns() - t0) / 1e6 / done;

	if (total < 200 || (done != 20 && done % 1000))
		return 0;
	if (done == 20)
		gt_progress("detaching %zu perf-event uprobes: %.0f ms each, about %.0f s more (the "
			    "kernel waits for RCU grace periods per probe, mostly one at a time; "
			    "uprobe_multi detaches all at once: docs/faults.md)", total, each,
			    each * (total - done) / 1e3);
	else
		gt_progress("detached %zu/%zu uprobes", done, total);
	return 0;
}

/* How long to sleep until the earlier of the next tick and the deadline,
 * at most poll_ms. */
static int nap_ms(uint64_t now, uint64_t next, uint64_t deadline, int poll_ms)
{
	uint64_t ms = (uint64_t)poll_ms;

	if (next && next > now && (next - now + 999999) / 1000000 < ms)
		ms = (next - now + 999999) / 1000000;
	if (deadline && deadline > now && (deadline - now + 999999) / 1000000 < ms)
		ms = (deadline - now + 999999) / 1000000;
	return (int)ms;
}

int gt_session_loop_ticks(struct gt_session *s, gt_tick_fn tick, void *ctx, uint64_t interval_ns,
			  int poll_ms)
{
	uint64_t deadline = s->opts->duration_ns ? s->t0_ns + s->opts->duration_ns : 0;
	uint64_t next = interval_ns ? s->t0_ns + interval_ns : 0;

	for (;;) {
		uint64_t now = gt_now_ns();

		/* a stop signal interrupts the sleep (no SA_RESTART) */
		poll(NULL, 0, nap_ms(now, next, deadline, poll_ms));
		if (trace_ends(s, deadline))
			return 0;
		now = gt_now_ns();
		if (next && now >= next) {
			if (tick(ctx, now))
				return 1;
			/* a late tick does not make the next ones come in a burst */
			next = now - next >= interval_ns ? now + interval_ns : next + interval_ns;
		}
	}
}

int gt_session_run_ticks(struct gt_session *s, void (*started)(void *ctx), gt_tick_fn tick,
			 void *ctx, uint64_t interval_ns, int poll_ms)
{
	int failed;

	if (gt_session_start(s))
		return 1;
	if (started)
		started(ctx);
	failed = gt_session_loop_ticks(s, tick, ctx, interval_ns, poll_ms);
	return gt_session_detach(s, NULL, NULL) | failed;
}

int gt_session_detach(struct gt_session *s, gt_ring_fn fn, void *ctx)
{
	size_t n = uprobes_count(s->ups);
	uint64_t t;

	/* detaching takes an RCU grace period per uprobe: the trace ends now */
	s->end_ns = t = gt_now_ns();
	if (gt_stop_requested())
		gt_target_forward_stop(&s->target);
	uprobes_free_progress(s->ups, detach_progress, &t);
	s->ups = NULL;
	gt_progress("detached %zu probes in %.1f ms", n, (gt_now_ns() - t) / 1e6);
	gt_fault_point("write");
	return s->ring && gt_ring_drain(s->ring, fn, ctx) < 0 ? 1 : 0;
}

int gt_session_run(struct gt_session *s, void (*started)(void *ctx), gt_ring_fn fn, void *ctx,
		   int poll_ms)
{
	int failed;

	if (gt_session_start(s))
		return 1;
	gt_fault_point("trace");
	if (started)
		started(ctx);
	failed = gt_session_loop(s, fn, ctx, poll_ms);
	return gt_session_detach(s, fn, ctx) | failed;
}

int gt_session_finish(struct gt_session *s, int status)
{
	struct gt_target *t = &s->target;
	int st;

	if (!t->launched || !t->released || t->pid <= 0)
		return status;
	/* -d, a failure or a stop: the program goes on, untraced, and
	 * gotrace waits for it like a shell would */
	if (!gt_target_exited(t))
		gt_progress("waiting for pid %d to exit", (int)t->pid);
	st = gt_target_wait(t);
	return status ? status : st < 0 ? 1 : st;
}

void gt_session_release(struct gt_session *s)
{
	uprobes_free(s->ups);
	s->ups = NULL;
	gt_ring_free(s->ring);
	s->ring = NULL;
	gt_stacks_free(s->stacks);
	s->stacks = NULL;
	gosym_free(s->gs);
	s->gs = NULL;
	gt_target_free(&s->target);
}

uint64_t gt_bpf_counter_sum(int map_fd, uint32_t idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals, total = 0;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(map_fd, &idx, vals))
		for (int i = 0; i < ncpu; i++)
			total += vals[i];
	free(vals);
	return total;
}
