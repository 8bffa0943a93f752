/* SPDX-License-Identifier: MIT */
/*
 * funccount's writers: a table per interval and one for the whole trace,
 * as text, JSON Lines (--format=jsonl) or CSV (--csv FILE); formats in
 * docs/funccount.md.  Errors are negative errno (a failed write: -EIO or
 * the stream's errno); nothing here prints except to the outputs.
 */
#ifndef GOTRACE_FUNCCOUNT_OUTPUT_H
#define GOTRACE_FUNCCOUNT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "funccount/counts.h"

struct fc_output_opts {
	FILE *out;			/* text or jsonl; NULL: none */
	bool jsonl;
	FILE *csv;			/* --csv; NULL: none */
	bool per_goroutine;
	long top;			/* rows per table; 0: all */
	const struct fc_counts *counts;	/* the function names */
};

/* The stats line of the end: what BPF could not count, and how. */
struct fc_output_stats {
	uint64_t dur_ns;		/* traced */
	uint64_t readfail, gfull, msfull, deadfull;	/* FC_CNT_* */
	struct fc_counts_stats c;
};

/* One interval's table: t_ns its end relative to the trace start,
 * dur_ns its length. */
int fc_output_interval(const struct fc_output_opts *o, const struct fc_row *rows, size_t n,
		       uint64_t t_ns, uint64_t dur_ns);

/* The whole trace's table, then (jsonl) the stats object. */
int fc_output_total(const struct fc_output_opts *o, const struct fc_row *rows, size_t n,
		    const struct fc_output_stats *st);

/* The CSV header line (once, before the first table). */
int fc_output_csv_header(const struct fc_output_opts *o);

#endif /* GOTRACE_FUNCCOUNT_OUTPUT_H */
