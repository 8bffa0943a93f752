/* SPDX-License-Identifier: MIT */
/*
 * signals: how a tracing command learns that the user wants it to stop.
 *
 * gt_signals_install() makes SIGINT and SIGTERM set a flag and nothing
 * else (the handler is async-signal-safe by doing no work); the command's
 * event loop polls gt_stop_requested() and ends tracing from normal
 * context, so probes are detached and output files completed on every
 * stop.  The handlers are installed without SA_RESTART, so a blocking
 * poll() or epoll_wait() returns EINTR at once.
 *
 * The signal number and a count are kept for launch mode: the target
 * forwards the first stop signal to the program it launched and escalates
 * to SIGKILL on the next one (tracing/target.h, gt_target_forward_stop()).
 */
#ifndef GOTRACE_SIGNALS_H
#define GOTRACE_SIGNALS_H

#include <stdbool.h>

/* SIGINT/SIGTERM -> set a flag.  Idempotent.  0 or -errno. */
int gt_signals_install(void);

/* True once SIGINT or SIGTERM arrived. */
bool gt_stop_requested(void);

/* The latest signal that requested the stop (SIGINT/SIGTERM), 0 if none. */
int gt_stop_signal(void);

/* How many stop signals arrived so far. */
unsigned gt_stop_count(void);

#endif /* GOTRACE_SIGNALS_H */
