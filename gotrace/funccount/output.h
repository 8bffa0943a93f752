/* SPDX-License-Identifier: MIT */
/*
 * funccount's rows in the aggregating commands' report frame
 * (output/agg_report.h): a table per interval and one for the whole
 * trace, as text, JSON Lines (--format=jsonl) or CSV (--csv FILE);
 * formats in docs/funccount.md.
 */
#ifndef GOTRACE_FUNCCOUNT_OUTPUT_H
#define GOTRACE_FUNCCOUNT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "funccount/counts.h"
#include "output/agg_report.h"

/* The report's ctx (struct gt_agg_report.ctx). */
struct fc_output_ctx {
	bool per_goroutine;
	const struct fc_counts *counts;	/* the function names */
};

/* Rows: struct fc_row; stats: struct fc_output_stats. */
extern const struct gt_agg_rows_fmt fc_output_fmt;

/* The stats line of the end: what BPF could not count, and how. */
struct fc_output_stats {
	uint64_t dur_ns;		/* traced */
	uint64_t readfail, gfull, msfull, deadfull;	/* FC_CNT_* */
	struct fc_counts_stats c;
};

#endif /* GOTRACE_FUNCCOUNT_OUTPUT_H */
