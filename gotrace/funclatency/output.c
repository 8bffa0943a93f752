// SPDX-License-Identifier: MIT
/* funclatency's rows (see funclatency/output.h). */
#include <inttypes.h>

#include "aggregate/histogram.h"
#include "funclatency/output.h"
#include "output/csv.h"
#include "output/json_out.h"

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

static void text_rows(const struct gt_agg_report *o, const void *rows_, size_t n)
{
	const struct fl_output_ctx *c = o->ctx;
	const struct fl_row *rows = rows_;
	size_t k = gt_agg_report_shown(o, n);
	char b[5][32];

	fprintf(o->out, "%10s %8s %10s %10s %10s %10s %10s  %s\n", "CALLS", "UNWOUND", "MEAN", "P50",
		"P90", "P99", "MAX", "FUNCTION");
	for (size_t i = 0; i < k; i++) {
		struct figures f = figures_of(&rows[i]);

		fprintf(o->out, "%10" PRIu64 " %8" PRIu64 " %10s %10s %10s %10s %10s  %s\n",
			rows[i].t.calls, rows[i].t.unwound, gt_fmt_ns(f.mean, b[0], 32),
			gt_fmt_ns(f.p50, b[1], 32), gt_fmt_ns(f.p90, b[2], 32),
			gt_fmt_ns(f.p99, b[3], 32), gt_fmt_ns(f.max, b[4], 32),
			c->names[rows[i].func]);
	}
	if (k < n)
		fprintf(o->out, "(%zu of %zu functions; --top 0 for all)\n", k, n);
	for (size_t i = 0; i < k && !c->no_hist; i++) {
		uint64_t slots[HIST_LOG2_SLOTS];

		if (!rows[i].t.calls)
			continue;
		gt_hist_log2(rows[i].hist, slots);
		fprintf(o->out, "\n%s\n", c->names[rows[i].func]);
		gt_hist_print_log2(o->out, slots, 0);
	}
}

static void json_rows(const struct gt_agg_report *o, const char *type, const void *rows_, size_t n,
		      uint64_t t_ns, uint64_t dur_ns)
{
	const struct fl_output_ctx *c = o->ctx;
	const struct fl_row *rows = rows_;
	size_t k = gt_agg_report_shown(o, n);

	for (size_t i = 0; i < k; i++) {
		const struct fl_row *r = &rows[i];
		struct figures f = figures_of(r);
		uint64_t slots[HIST_LOG2_SLOTS];
		bool first = true;

		fprintf(o->out, "{\"type\":\"%s\",\"t_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"func\":",
			type, t_ns, dur_ns);
		fputc('"', o->out);
		gt_json_str(o->out, c->names[r->func]);
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

static void csv_rows(const struct gt_agg_report *o, const char *type, const void *rows_, size_t n,
		     uint64_t t_ns, uint64_t dur_ns)
{
	const struct fl_output_ctx *c = o->ctx;
	const struct fl_row *rows = rows_;

	for (size_t i = 0; i < n; i++) {
		const struct fl_row *r = &rows[i];
		struct figures f = figures_of(r);

		fprintf(o->csv, "%s,%" PRIu64 ",%" PRIu64 ",", type, t_ns, dur_ns);
		gt_csv_str(o->csv, c->names[r->func]);
		fprintf(o->csv, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", r->t.calls, r->t.unwound, r->t.evicted,
			r->t.sum_ns, f.mean, f.p50, f.p90, f.p99, f.max);
	}
}

static void json_stats(const struct gt_agg_report *o, const void *stats)
{
	const struct fl_output_stats *st = stats;

	fprintf(o->out, "{\"type\":\"stats\",\"dur_ns\":%" PRIu64 ",\"unwound\":%" PRIu64
		",\"dup_entries\":%" PRIu64 ",\"unmatched_returns\":%" PRIu64
		",\"evicted\":%" PRIu64 ",\"untracked_entries\":%" PRIu64
		",\"read_failures\":%" PRIu64 ",\"tracks\":%" PRIu64 ",\"goroutine_exits\":%" PRIu64
		"}\n", st->dur_ns, st->unwound, st->dup, st->unmatched, st->evicted, st->notrack,
		st->readfail, st->tracks, st->gexits);
}

const struct gt_agg_rows_fmt fl_output_fmt = {
	.interval_title = "calls that returned",
	.csv_header = "type,t_ns,dur_ns,func,calls,unwound,evicted,sum_ns,mean_ns,p50_ns,p90_ns,"
		      "p99_ns,max_ns\n",
	.text = text_rows,
	.json = json_rows,
	.csv = csv_rows,
	.json_stats = json_stats,
};
