// SPDX-License-Identifier: MIT
/* SIGINT/SIGTERM/SIGHUP -> a flag the event loops poll.  See signals.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tracing/signals.h"

static volatile sig_atomic_t stop_sig, stop_count;

static void on_stop(int sig)
{
	stop_sig = sig;
	stop_count++;
}

/* SIGPIPE: nothing; the write that raised it fails with EPIPE instead. */
static void on_pipe(int sig)
{
	(void)sig;
}

int gt_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: let poll() return EINTR */
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -errno;
	/* a handler, not SIG_IGN: an ignored signal stays ignored across
	 * exec, and a launched program must get the default SIGPIPE */
	sa.sa_handler = on_pipe;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;
	return 0;
}

bool gt_stop_requested(void)
{
	return stop_sig != 0;
}

int gt_stop_signal(void)
{
	return stop_sig;
}

unsigned gt_stop_count(void)
{
	return (unsigned)stop_count;
}

void gt_fault_point(const char *phase)
{
	const char *f = getenv("GOTRACE_FAULT_SIGNAL");
	size_t n = strlen(phase);

	if (!f || strncmp(f, phase, n) || (f[n] && f[n] != ':'))
		return;
	f += f[n] ? n + 1 : n;
	raise(!strcmp(f, "TERM") ? SIGTERM : !strcmp(f, "HUP") ? SIGHUP :
	      !strcmp(f, "KILL") ? SIGKILL : !strcmp(f, "STOP") ? SIGSTOP : SIGINT);
}
