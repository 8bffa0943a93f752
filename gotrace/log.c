// SPDX-License-Identifier: MIT
/* Messages on stderr for every subcommand: progress (silenced by -q),
 * warnings and errors.  See gotrace.h. */
#include <stdarg.h>
#include <stdio.h>

#include "gotrace.h"

bool gt_quiet;

void gt_progress(const char *fmt, ...)
{
	va_list ap;

	if (gt_quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void gt_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("gotrace: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int gt_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gotrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
