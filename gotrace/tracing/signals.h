/* SPDX-License-Identifier: MIT */
/*
 * signals: how a tracing command learns that the user wants it to stop.
 *
 * gt_signals_install() makes SIGINT, SIGTERM and SIGHUP set a flag and
 * nothing else (the handler is async-signal-safe by doing no work); every
 * step of a tracing command polls gt_stop_requested() (tracing/session.h:
 * before attach nothing gets attached, while attaching what was attached
 * is released, while tracing the trace ends and its outputs are written),
 * so probes are detached and output files completed or left untouched on
 * every stop.
 *
 * SIGPIPE is caught and does nothing, so a write to a closed pipe (stdout
 * piped to `head`) fails with EPIPE: output/outfile.h keeps the error,
 * tracing stops and the command says so, with its probes released, instead
 * of dying of the signal.  The handlers are installed without SA_RESTART, so a blocking
 * poll() or epoll_wait() returns EINTR at once.
 *
 * The signal number and a count are kept for launch mode: the target
 * forwards the first stop signal to the program it launched and escalates
 * to SIGKILL on the next one (tracing/target.h, gt_target_forward_stop()).
 */
#ifndef GOTRACE_SIGNALS_H
#define GOTRACE_SIGNALS_H

#include <stdbool.h>

/* SIGINT/SIGTERM/SIGHUP -> set a flag; SIGPIPE -> EPIPE.  Idempotent.
 * 0 or -errno. */
int gt_signals_install(void);

/* True once SIGINT, SIGTERM or SIGHUP arrived. */
bool gt_stop_requested(void);

/* The latest signal that requested the stop (SIGINT/SIGTERM/SIGHUP), 0 if none. */
int gt_stop_signal(void);

/* How many stop signals arrived so far. */
unsigned gt_stop_count(void);

/* Tests (tests/integration/test_faults.py): when the environment has
 * GOTRACE_FAULT_SIGNAL=PHASE[:INT|TERM|HUP|KILL|STOP], gotrace sends itself
 * that signal (SIGINT by default) when it reaches PHASE, so a signal in
 * every phase can be tried deterministically (STOP: the test looks at
 * gotrace stopped there, sends what it wants, then SIGCONT).  Phases: "target" (the target
 * found), "symbols" (its symbols read), "load" (the BPF object loaded),
 * "attach" (the first probe attached), "trace" (tracing started), "write"
 * (tracing ended, the outputs being written).  A no-op otherwise. */
void gt_fault_point(const char *phase);

#endif /* GOTRACE_SIGNALS_H */
