// SPDX-License-Identifier: MIT
/* Messages on stderr for every subcommand: progress (silenced by -q),
 * warnings and errors; the last error message of the CLI's modules.  See
 * gotrace.h. */
#include <stdarg.h>
#include <stdio.h>

#include "gotrace.h"

bool gt_quiet;

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void gt_progress(const char *fmt, ...)
{
	va_list ap;

	if (gt_quiet)
		return;
	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void gt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("gotrace: warning: ", fmt, ap);
	va_end(ap);
}

int gt_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("gotrace: ", fmt, ap);
	va_end(ap);
	return 1;
}

static _Thread_local char errbuf[4096 + 128];

int gt_set_errmsg(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *gt_errmsg(void)
{
	return errbuf;
}
