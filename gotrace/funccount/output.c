// SPDX-License-Identifier: MIT
/* funccount's rows (see funccount/output.h). */
#include <inttypes.h>

#include "funccount/output.h"
#include "output/csv.h"
#include "output/json_out.h"

static const char *name_of(const struct gt_agg_report *r, uint32_t func)
{
	const struct fc_output_ctx *c = r->ctx;
	const struct fc_func *f = fc_counts_func(c->counts, func);

	return f && f->name ? f->name : "?";
}

static void text_table(const struct gt_agg_report *r, const void *rows_, size_t n)
{
	const struct fc_output_ctx *c = r->ctx;
	const struct fc_row *rows = rows_;
	size_t k = gt_agg_report_shown(r, n);

	if (c->per_goroutine)
		fprintf(r->out, "%12s  %8s  %s\n", "CALLS", "GOID", "FUNCTION");
	else
		fprintf(r->out, "%12s  %s\n", "CALLS", "FUNCTION");
	for (size_t i = 0; i < k; i++) {
		if (c->per_goroutine)
			fprintf(r->out, "%12" PRIu64 "  %8" PRId64 "  %s\n", rows[i].calls,
				rows[i].goid, name_of(r, rows[i].func));
		else
			fprintf(r->out, "%12" PRIu64 "  %s\n", rows[i].calls, name_of(r, rows[i].func));
	}
	if (k < n)
		fprintf(r->out, "(%zu of %zu rows; --top 0 for all)\n", k, n);
}

static void json_rows(const struct gt_agg_report *r, const char *type, const void *rows_, size_t n,
		      uint64_t t_ns, uint64_t dur_ns)
{
	const struct fc_row *rows = rows_;
	size_t k = gt_agg_report_shown(r, n);

	for (size_t i = 0; i < k; i++) {
		fprintf(r->out, "{\"type\":\"%s\",\"t_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64, type, t_ns,
			dur_ns);
		if (rows[i].goid >= 0)
			fprintf(r->out, ",\"goid\":%" PRId64, rows[i].goid);
		fputs(",\"func\":", r->out);
		fputc('"', r->out);
		gt_json_str(r->out, name_of(r, rows[i].func));
		fputc('"', r->out);
		fprintf(r->out, ",\"calls\":%" PRIu64 "}\n", rows[i].calls);
	}
}

static void csv_rows(const struct gt_agg_report *r, const char *type, const void *rows_, size_t n,
		     uint64_t t_ns, uint64_t dur_ns)
{
	const struct fc_row *rows = rows_;

	for (size_t i = 0; i < n; i++) {
		fprintf(r->csv, "%s,%" PRIu64 ",%" PRIu64 ",", type, t_ns, dur_ns);
		if (rows[i].goid >= 0)
			fprintf(r->csv, "%" PRId64, rows[i].goid);
		fputc(',', r->csv);
		gt_csv_str(r->csv, name_of(r, rows[i].func));
		fprintf(r->csv, ",%" PRIu64 "\n", rows[i].calls);
	}
}

static void json_stats(const struct gt_agg_report *r, const void *stats)
{
	const struct fc_output_stats *st = stats;
	const struct fc_counts_stats *c = &st->c;

	fprintf(r->out, "{\"type\":\"stats\",\"dur_ns\":%" PRIu64 ",\"goroutines\":%" PRIu64
		",\"goroutines_exited\":%" PRIu64 ",\"morestack_untraced\":%" PRIu64
		",\"read_failures\":%" PRIu64 ",\"goroutine_map_full\":%" PRIu64
		",\"morestack_map_full\":%" PRIu64 ",\"exit_map_full\":%" PRIu64 "}\n",
		st->dur_ns, c->goroutines, c->reaped, c->ms_untraced, st->readfail, st->gfull,
		st->msfull, st->deadfull);
}

const struct gt_agg_rows_fmt fc_output_fmt = {
	.interval_title = "calls",
	.csv_header = "type,t_ns,dur_ns,goid,func,calls\n",
	.text = text_table,
	.json = json_rows,
	.csv = csv_rows,
	.json_stats = json_stats,
};
