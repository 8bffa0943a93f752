/* SPDX-License-Identifier: MIT */
/*
 * What the CLI tells the user after writing a Chrome trace: events refused
 * by the memory bound, and a warning when the file is too large for
 * browser-based viewers.  Shared by states and funcgraph.
 */
#ifndef GOTRACE_TRACE_REPORT_H
#define GOTRACE_TRACE_REPORT_H

#include "output/chrome_trace.h"

/* Bound on buffered slices (32 bytes each: ~640 MB). */
#define GT_TRACE_MAX_EVENTS 20000000u

/* Warn on stderr about dropped events and about a file larger than
 * CHROME_TRACE_BROWSER_LIMIT (with the filters that shrink it). */
void gt_trace_report(const char *cmd, const char *path, const struct chrome_trace_stats *cs);

#endif
