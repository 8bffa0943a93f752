/* SPDX-License-Identifier: MIT */
/*
 * funclatency's writers: per interval and for the whole trace, a table of
 * the functions' calls and latency percentiles and (text, unless
 * --no-hist) each function's log2 histogram as bcc's funclatency prints
 * it; JSON Lines (--format=jsonl, with the log2 slots) or CSV (--csv FILE).
 * Formats in docs/funclatency.md.  Errors are negative errno; nothing here
 * prints except to the outputs.
 */
#ifndef GOTRACE_FUNCLATENCY_OUTPUT_H
#define GOTRACE_FUNCLATENCY_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "funclatency/hists.h"

struct fl_output_opts {
	FILE *out;			/* text or jsonl; NULL: none */
	bool jsonl;
	FILE *csv;			/* --csv; NULL: none */
	bool no_hist;			/* text: the table only */
	long top;			/* rows per table; 0: all */
	const char *const *names;	/* function names by index */
};

/* What the end reports besides the table: the FL_CNT_* counters. */
struct fl_output_stats {
	uint64_t dur_ns;
	uint64_t dup, unmatched, evicted, notrack, readfail, tracks, gexits, unwound;
};

int fl_output_csv_header(const struct fl_output_opts *o);

/* One interval (t_ns: its end relative to the trace start). */
int fl_output_interval(const struct fl_output_opts *o, const struct fl_row *rows, size_t n,
		       uint64_t t_ns, uint64_t dur_ns);

/* The whole trace, then (jsonl) the stats object. */
int fl_output_total(const struct fl_output_opts *o, const struct fl_row *rows, size_t n,
		    const struct fl_output_stats *st);

#endif /* GOTRACE_FUNCLATENCY_OUTPUT_H */
