/* SPDX-License-Identifier: MIT */
/*
 * target: the process a tracing subcommand (states, funcgraph) looks at.
 *
 * Two ways to get one:
 *
 *   launch:  gt_target_launch() forks; the child blocks on a pipe *before*
 *            exec, so the caller learns the pid and the resolved executable
 *            path, attaches its uprobes (binary file + offset, pid filter =
 *            that pid; the pid survives exec) and only then calls
 *            gt_target_release(), which lets the child execv() the program.
 *            Probes are therefore in place before the program's first
 *            instruction.  An exec failure is reported by release().
 *   attach:  gt_target_attach() checks that the pid exists and that we may
 *            trace it, and resolves its executable.
 *
 * Lifecycle: zero-initialise with GT_TARGET_INIT (or gt_target_init()),
 * launch or attach, release (launch only), poll gt_target_exited() and
 * gt_stop_requested() in the event loop, then gt_target_finish() which, for
 * a launched target, waits for it and returns the exit status gotrace should
 * exit with.  gt_target_free() releases the descriptors and, for a launched
 * child that was never released, makes it exit without running the program.
 *
 * Signals (tracing/signals.h) are the caller's: gt_target_forward_stop()
 * passes the stop signal the caller received on to a launched child.
 *
 * Errors: negative errno, and the functions never print; gt_target_errmsg()
 * returns a one-line description of the last failure ("no process with pid
 * 1234", "cannot trace pid 1: permission denied", ...) for gt_error().
 */
#ifndef GOTRACE_TARGET_H
#define GOTRACE_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct gt_target {
	pid_t pid;		/* 0 until launched/attached */
	bool launched;		/* true: our child (launch mode) */
	bool released;		/* launch: the child was allowed to exec */
	bool exited;		/* the process is gone (seen by gt_target_exited) */
	int wait_status;	/* launch: waitpid() status once exited */
	char exe[PATH_MAX];	/* resolved executable, for display and symbols */
	char exe_open[PATH_MAX];/* path to open/probe: exe for launch,
				 * /proc/PID/exe for attach (works across mount
				 * namespaces and for deleted files) */
	int pidfd;		/* pidfd_open() of pid, -1 if unavailable */
	int hold_fd;		/* launch: write end of the hold pipe, -1 after release */
	int err_fd;		/* launch: read end of the CLOEXEC exec-error pipe */
};

#define GT_TARGET_INIT { .pidfd = -1, .hold_fd = -1, .err_fd = -1 }

void gt_target_init(struct gt_target *t);

/* Fork a child that waits to exec argv[0] (searched in PATH like execvp;
 * the path is resolved in the parent so t->exe is what will run).  stdin,
 * stdout and stderr are inherited.  -ENOENT/-EACCES when argv[0] can't be
 * found or executed. */
int gt_target_launch(char *const argv[], struct gt_target *t);

/* Check pid exists (-ESRCH), that we may trace it (-EPERM/-EACCES), that it
 * isn't ourselves (-EINVAL), and resolve its executable.  A thread id is
 * replaced by its process id (t->pid is always a tgid). */
int gt_target_attach(pid_t pid, struct gt_target *t);

/* Launch mode: let the child exec.  Returns 0 when exec succeeded, or the
 * child's exec errno negated (the child has then exited; it is reaped).
 * No-op (0) in attach mode or when already released. */
int gt_target_release(struct gt_target *t);

/* Non-blocking: has the target exited?  For a launched child this reaps it
 * and records wait_status.  Once true, stays true. */
bool gt_target_exited(struct gt_target *t);

/* A file descriptor that becomes readable when the target exits (pidfd),
 * for poll/epoll; -1 if unavailable (then poll gt_target_exited()). */
int gt_target_fd(const struct gt_target *t);

/* Launch mode after a stop request: send the stop signal (SIGINT/SIGTERM)
 * on to the child.  Call it as often as convenient (e.g. while waiting in
 * gt_target_finish() with a timeout): each stop signal is passed on once,
 * and a stop signal arriving after one was passed on sends SIGKILL (the
 * program did not stop; a second Ctrl-C ends it).  No-op in attach mode. */
void gt_target_forward_stop(struct gt_target *t);

/* End of tracing.  Launch mode: wait for the child (if timeout_ms >= 0, at
 * most that long; -1 waits forever) and return the exit status gotrace
 * should propagate: the child's exit code, or 128 + signal number.  If it
 * did not exit in time, returns -ETIMEDOUT.  Attach mode: returns 0; the
 * target is left running. */
int gt_target_finish(struct gt_target *t, int timeout_ms);

/* Launch mode: gt_target_finish() without a time limit, passing stop
 * signals on while waiting (a second one kills the program).  Returns what
 * gt_target_finish() returns.  Attach mode: 0 at once. */
int gt_target_wait(struct gt_target *t);

/* Close descriptors; an unreleased launched child is made to _exit(127)
 * without exec'ing and is reaped.  Safe on a zeroed/initialised target. */
void gt_target_free(struct gt_target *t);

const char *gt_target_errmsg(void);

/* /proc/PID/NAME opened for reading ("status", "maps"), NULL if it cannot
 * be (errno set).  Inline: stacks.c is also compiled alone into a bench. */
static inline FILE *gt_proc_fopen(pid_t pid, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return fopen(path, "r");
}

#endif /* GOTRACE_TARGET_H */
