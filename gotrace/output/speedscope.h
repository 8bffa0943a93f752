/* SPDX-License-Identifier: MIT */
/*
 * speedscope: the slices of a Chrome trace (chrome_trace.h) in
 * speedscope's own file format (https://www.speedscope.app/file-format-schema.json),
 * written when chrome_trace_opts.speedscope is set.
 *
 * One "evented" profile per track (a goroutine's states, or its calls),
 * with open/close events at integer nanoseconds.  speedscope's importer of
 * Chrome JSON adds ts + dur in floating point and mis-nests slices that
 * touch (every state change does); its own format is exact.  Instants,
 * flows and args have no place in it.  Private to gotrace/output/.
 */
#ifndef GOTRACE_SPEEDSCOPE_H
#define GOTRACE_SPEEDSCOPE_H

#include <stdint.h>

struct ct_sorted;
struct ct_gor;

/* Write the sorted, nested tracks of s to ct->opts.speedscope and commit
 * it (times relative to origin; pname names the file's profile set).  The
 * outfile is consumed (committed, or aborted on failure).  0 or -errno. */
int speedscope_write(struct ct_sorted *s, struct ct_gor **by_goid, uint64_t origin,
		     const char *pname);

#endif /* GOTRACE_SPEEDSCOPE_H */
