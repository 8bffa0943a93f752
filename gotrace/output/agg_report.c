// SPDX-License-Identifier: MIT
/* The aggregating commands' report frame (see output/agg_report.h). */
#include <errno.h>
#include <time.h>

#include "aggregate/histogram.h"
#include "output/agg_report.h"

static int status(FILE *f)
{
	return f && ferror(f) ? -EIO : 0;
}

static int both_status(const struct gt_agg_report *r)
{
	int err = status(r->out);

	return err ? err : status(r->csv);
}

size_t gt_agg_report_shown(const struct gt_agg_report *r, size_t n)
{
	return r->top > 0 && (size_t)r->top < n ? (size_t)r->top : n;
}

int gt_agg_report_csv_header(const struct gt_agg_report *r)
{
	if (!r->csv)
		return 0;
	fputs(r->fmt->csv_header, r->csv);
	return status(r->csv);
}

int gt_agg_report_interval(const struct gt_agg_report *r, const void *rows, size_t n,
			   uint64_t t_ns, uint64_t dur_ns)
{
	if (r->out && r->jsonl) {
		r->fmt->json(r, "interval", rows, n, t_ns, dur_ns);
	} else if (r->out) {
		char clock[16], d[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
		fprintf(r->out, "%s  %s in the last %s\n", clock, r->fmt->interval_title,
			gt_fmt_ns(dur_ns, d, sizeof(d)));
		r->fmt->text(r, rows, n);
		fputc('\n', r->out);
	}
	if (r->csv)
		r->fmt->csv(r, "interval", rows, n, t_ns, dur_ns);
	return both_status(r);
}

int gt_agg_report_total(const struct gt_agg_report *r, const void *rows, size_t n,
			uint64_t dur_ns, const void *stats)
{
	if (r->out && r->jsonl) {
		r->fmt->json(r, "total", rows, n, dur_ns, dur_ns);
		r->fmt->json_stats(r, stats);
	} else if (r->out) {
		char d[32];

		fprintf(r->out, "total over %s:\n", gt_fmt_ns(dur_ns, d, sizeof(d)));
		r->fmt->text(r, rows, n);
	}
	if (r->csv)
		r->fmt->csv(r, "total", rows, n, dur_ns, dur_ns);
	return both_status(r);
}
