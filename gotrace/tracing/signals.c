// SPDX-License-Identifier: MIT
/* SIGINT/SIGTERM -> a flag the event loops poll.  See signals.h. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "tracing/signals.h"

static volatile sig_atomic_t stop_sig, stop_count;

static void on_stop(int sig)
{
	stop_sig = sig;
	stop_count++;
}

int gt_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: let poll() return EINTR */
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
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
