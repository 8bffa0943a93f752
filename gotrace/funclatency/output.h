/* SPDX-License-Identifier: MIT */
/*
 * funclatency's rows in the aggregating commands' report frame
 * (output/agg_report.h): per interval and for the whole trace, a table of
 * the functions' calls and latency percentiles and (text, unless
 * --no-hist) each function's log2 histogram as bcc's funclatency prints
 * it; JSON Lines (--format=jsonl, with the log2 slots) or CSV (--csv FILE).
 * Formats in docs/funclatency.md.
 */
#ifndef GOTRACE_FUNCLATENCY_OUTPUT_H
#define GOTRACE_FUNCLATENCY_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "funclatency/hists.h"
#include "output/agg_report.h"

/* The report's ctx (struct gt_agg_report.ctx). */
struct fl_output_ctx {
	bool no_hist;			/* text: the table only */
	const char *const *names;	/* function names by index */
};

/* Rows: struct fl_row; stats: struct fl_output_stats. */
extern const struct gt_agg_rows_fmt fl_output_fmt;

/* What the end reports besides the table: the FL_CNT_* counters. */
struct fl_output_stats {
	uint64_t dur_ns;
	uint64_t dup, unmatched, evicted, notrack, readfail, tracks, gexits, unwound;
};

#endif /* GOTRACE_FUNCLATENCY_OUTPUT_H */
