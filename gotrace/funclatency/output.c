// SPDX-License-Identifier: MIT
/* funclatency's writers (see funclatency/output.h). */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "aggregate/histogram.h"
#include "funclatency/output.h"
#include "output/csv.h"
#include "output/json_out.h"

static int status(FILE *f)
{
	return f && ferror(f) ? -EIO : 0;
}

static size_t shown(const struct fl_output_opts *o, size_t n)
{
	return o->top > 0 && (size_t)o->top < n ? (size_t)o->top : n;
}

/* The figures of one row, as every format writes them. */
struct figures {
	uint64_t mean, p50, p90, p99, max;
};

static struct figures figures_of(const struct fl_row *r)
{
	struct figures f = { 0 };

	if (!r->t.calls)
		return f;
	f.mean = r->t.sum_ns / r->t.calls;
	f.p50 = gt_hist_percentile(r->hist, 0.50, r->t.max_ns);
	f.p90 = gt_hist_percentile(r->hist, 0.90, r->t.max_ns);
	f.p99 = gt_hist_percentile(r->hist, 0.99, r->t.max_ns);
	f.max = r->t.max_ns;
	return f;
}

static void text_rows(const struct fl_output_opts *o, const struct fl_row *rows, size_t n)
{
	size_t k = shown(o, n);
	char b[5][32];

	fprintf(o->out, "%10s %8s %10s %10s %10s %10s %10s  %s\n", "CALLS", "UNWOUND", "MEAN", "P50",
		"P90", "P99", "MAX", "FUNCTION");
	for (size_t i = 0; i < k; i++) {
		struct figures f = figures_of(&rows[i]);

		fprintf(o->out, "%10" PRIu64 " %8" PRIu64 " %10s %10s %10s %10s %10s  %s\n",
			rows[i].t.calls, rows[i].t.unwound, gt_fmt_ns(f.mean, b[0], 32),
			gt_fmt_ns(f.p50, b[1], 32), gt_fmt_ns(f.p90, b[2], 32),
			gt_fmt_ns(f.p99, b[3], 32), gt_fmt_ns(f.max, b[4], 32),
			o->names[rows[i].func]);
	}
	if (k < n)
		fprintf(o->out, "(%zu of %zu functions; --top 0 for all)\n", k, n);
	for (size_t i = 0; i < k && !o->no_hist; i++) {
		uint64_t slots[HIST_LOG2_SLOTS];

		if (!rows[i].t.calls)
			continue;
		gt_hist_log2(rows[i].hist, slots);
		fprintf(o->out, "\n%s\n", o->names[rows[i].func]);
		gt_hist_print_log2(o->out, slots, 0);
	}
}

static void json_rows(const struct fl_output_opts *o, const char *type, const struct fl_row *rows,
		      size_t n, uint64_t t_ns, uint64_t dur_ns)
{
	size_t k = shown(o, n);

	for (size_t i = 0; i < k; i++) {
		const struct fl_row *r = &rows[i];
		struct figures f = figures_of(r);
		uint64_t slots[HIST_LOG2_SLOTS];
		bool first = true;

		fprintf(o->out, "{\"type\":\"%s\",\"t_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"func\":",
			type, t_ns, dur_ns);
		fputc('"', o->out);
		gt_json_str(o->out, o->names[r->func]);
		fputc('"', o->out);
		fprintf(o->out, ",\"calls\":%" PRIu64 ",\"unwound\":%" PRIu64 ",\"evicted\":%" PRIu64
			",\"sum_ns\":%" PRIu64 ",\"mean_ns\":%" PRIu64 ",\"p50_ns\":%" PRIu64
			",\"p90_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64 ",\"log2\":[",
			r->t.calls, r->t.unwound, r->t.evicted, r->t.sum_ns, f.mean, f.p50, f.p90, f.p99,
			f.max);
		gt_hist_log2(r->hist, slots);
		for (int s = 0; s < HIST_LOG2_SLOTS; s++) {
			if (!slots[s])
				continue;
			fprintf(o->out, "%s{\"lo\":%" PRIu64 ",\"hi\":%" PRIu64 ",\"count\":%" PRIu64 "}",
				first ? "" : ",", (uint64_t)(s ? 1ULL << (s - 1) : 0),
				(uint64_t)(s == HIST_LOG2_SLOTS - 1 ? UINT64_MAX : s ? (1ULL << s) - 1 : 0),
				slots[s]);
			first = false;
		}
		fputs("]}\n", o->out);
	}
}

static void csv_rows(const struct fl_output_opts *o, const char *type, const struct fl_row *rows,
		     size_t n, uint64_t t_ns, uint64_t dur_ns)
{
	for (size_t i = 0; i < n; i++) {
		const struct fl_row *r = &rows[i];
		struct figures f = figures_of(r);

		fprintf(o->csv, "%s,%" PRIu64 ",%" PRIu64 ",", type, t_ns, dur_ns);
		gt_csv_str(o->csv, o->names[r->func]);
		fprintf(o->csv, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", r->t.calls, r->t.unwound, r->t.evicted,
			r->t.sum_ns, f.mean, f.p50, f.p90, f.p99, f.max);
	}
}

int fl_output_csv_header(const struct fl_output_opts *o)
{
	if (!o->csv)
		return 0;
	fputs("type,t_ns,dur_ns,func,calls,unwound,evicted,sum_ns,mean_ns,p50_ns,p90_ns,p99_ns,"
	      "max_ns\n", o->csv);
	return status(o->csv);
}

int fl_output_interval(const struct fl_output_opts *o, const struct fl_row *rows, size_t n,
		       uint64_t t_ns, uint64_t dur_ns)
{
	int err;

	if (o->out && o->jsonl) {
		json_rows(o, "interval", rows, n, t_ns, dur_ns);
	} else if (o->out) {
		char clock[16], d[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
		fprintf(o->out, "%s  calls that returned in the last %s\n", clock,
			gt_fmt_ns(dur_ns, d, sizeof(d)));
		text_rows(o, rows, n);
		fputc('\n', o->out);
	}
	if (o->csv)
		csv_rows(o, "interval", rows, n, t_ns, dur_ns);
	err = status(o->out);
	return err ? err : status(o->csv);
}

int fl_output_total(const struct fl_output_opts *o, const struct fl_row *rows, size_t n,
		    const struct fl_output_stats *st)
{
	int err;

	if (o->out && o->jsonl) {
		json_rows(o, "total", rows, n, st->dur_ns, st->dur_ns);
		fprintf(o->out, "{\"type\":\"stats\",\"dur_ns\":%" PRIu64 ",\"unwound\":%" PRIu64
			",\"dup_entries\":%" PRIu64 ",\"unmatched_returns\":%" PRIu64
			",\"evicted\":%" PRIu64 ",\"untracked_entries\":%" PRIu64
			",\"read_failures\":%" PRIu64 ",\"tracks\":%" PRIu64 ",\"goroutine_exits\":%" PRIu64
			"}\n", st->dur_ns, st->unwound, st->dup, st->unmatched, st->evicted, st->notrack,
			st->readfail, st->tracks, st->gexits);
	} else if (o->out) {
		char d[32];

		fprintf(o->out, "total over %s:\n", gt_fmt_ns(st->dur_ns, d, sizeof(d)));
		text_rows(o, rows, n);
	}
	if (o->csv)
		csv_rows(o, "total", rows, n, st->dur_ns, st->dur_ns);
	err = status(o->out);
	return err ? err : status(o->csv);
}
