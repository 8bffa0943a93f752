/* SPDX-License-Identifier: MIT */
/*
 * agg_report: the frame of the aggregating commands' reports (funccount,
 * funclatency): a table every -i interval and one for the whole trace, as
 * text, JSON Lines (--format=jsonl) or CSV (--csv FILE).  The frame is
 * the same for every such command; the rows are the command's own and
 * written by its struct gt_agg_rows_fmt.
 *
 *   text    interval: "HH:MM:SS  <TITLE> in the last 1 s", the table, a
 *           blank line; total: "total over 10 s:" and the table
 *   jsonl   the rows as objects of "type" "interval" or "total"; after the
 *           total, the command's "stats" object
 *   csv     the header once (gt_agg_report_csv_header), then the rows of
 *           every table, the type in the first column
 *
 * Rows are passed as the command's array (const void *), written in its
 * order; text and jsonl write at most `top` of them (csv all of them).
 * Writers return 0, or -EIO when a stream has its error flag set; they
 * print nothing but the outputs.
 */
#ifndef GOTRACE_AGG_REPORT_H
#define GOTRACE_AGG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gt_agg_report;

/* A command's rows: how they are written.  rows: its array of n rows. */
struct gt_agg_rows_fmt {
	const char *interval_title;	/* text: "calls", "calls that returned" */
	const char *csv_header;		/* the CSV header line, with its '\n' */
	/* the text table (header line, at most gt_agg_report_shown() rows,
	 * a note of those left out) on r->out */
	void (*text)(const struct gt_agg_report *r, const void *rows, size_t n);
	/* type: "interval" or "total"; t_ns: the table's end relative to
	 * the trace start, dur_ns: its length */
	void (*json)(const struct gt_agg_report *r, const char *type, const void *rows, size_t n,
		     uint64_t t_ns, uint64_t dur_ns);
	void (*csv)(const struct gt_agg_report *r, const char *type, const void *rows, size_t n,
		    uint64_t t_ns, uint64_t dur_ns);
	/* jsonl: the {"type":"stats",...} line after the total */
	void (*json_stats)(const struct gt_agg_report *r, const void *stats);
};

struct gt_agg_report {
	FILE *out;			/* text or jsonl; NULL: none */
	bool jsonl;
	FILE *csv;			/* NULL: none */
	long top;			/* rows per text/jsonl table; 0: all */
	const struct gt_agg_rows_fmt *fmt;
	const void *ctx;		/* the command's own (names, flags) for fmt */
};

/* How many of n rows a text or jsonl table shows (--top). */
size_t gt_agg_report_shown(const struct gt_agg_report *r, size_t n);

/* The CSV header (once, before the first table); 0 without --csv. */
int gt_agg_report_csv_header(const struct gt_agg_report *r);

/* One interval's table. */
int gt_agg_report_interval(const struct gt_agg_report *r, const void *rows, size_t n,
			   uint64_t t_ns, uint64_t dur_ns);

/* The whole trace's table (dur_ns: the trace's length), then (jsonl) the
 * stats object. */
int gt_agg_report_total(const struct gt_agg_report *r, const void *rows, size_t n,
			uint64_t dur_ns, const void *stats);

#endif /* GOTRACE_AGG_REPORT_H */
