// SPDX-License-Identifier: MIT
/* funccount's writers (see funccount/output.h). */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "aggregate/histogram.h"
#include "funccount/output.h"
#include "output/csv.h"
#include "output/json_out.h"

static int status(FILE *f)
{
	return f && ferror(f) ? -EIO : 0;
}

static size_t shown(const struct fc_output_opts *o, size_t n)
{
	return o->top > 0 && (size_t)o->top < n ? (size_t)o->top : n;
}

static const char *name_of(const struct fc_output_opts *o, uint32_t func)
{
	const struct fc_func *f = fc_counts_func(o->counts, func);

	return f && f->name ? f->name : "?";
}

static void text_table(const struct fc_output_opts *o, const struct fc_row *rows, size_t n)
{
	size_t k = shown(o, n);

	if (o->per_goroutine)
		fprintf(o->out, "%12s  %8s  %s\n", "CALLS", "GOID", "FUNCTION");
	else
		fprintf(o->out, "%12s  %s\n", "CALLS", "FUNCTION");
	for (size_t i = 0; i < k; i++) {
		if (o->per_goroutine)
			fprintf(o->out, "%12" PRIu64 "  %8" PRId64 "  %s\n", rows[i].calls,
				rows[i].goid, name_of(o, rows[i].func));
		else
			fprintf(o->out, "%12" PRIu64 "  %s\n", rows[i].calls, name_of(o, rows[i].func));
	}
	if (k < n)
		fprintf(o->out, "(%zu of %zu rows; --top 0 for all)\n", k, n);
}

static void json_rows(const struct fc_output_opts *o, const char *type, const struct fc_row *rows,
		      size_t n, uint64_t t_ns, uint64_t dur_ns)
{
	size_t k = shown(o, n);

	for (size_t i = 0; i < k; i++) {
		fprintf(o->out, "{\"type\":\"%s\",\"t_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64, type, t_ns,
			dur_ns);
		if (rows[i].goid >= 0)
			fprintf(o->out, ",\"goid\":%" PRId64, rows[i].goid);
		fputs(",\"func\":", o->out);
		fputc('"', o->out);
		gt_json_str(o->out, name_of(o, rows[i].func));
		fputc('"', o->out);
		fprintf(o->out, ",\"calls\":%" PRIu64 "}\n", rows[i].calls);
	}
}

static void csv_rows(const struct fc_output_opts *o, const char *type, const struct fc_row *rows,
		     size_t n, uint64_t t_ns, uint64_t dur_ns)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(o->csv, "%s,%" PRIu64 ",%" PRIu64 ",", type, t_ns, dur_ns);
		if (rows[i].goid >= 0)
			fprintf(o->csv, "%" PRId64, rows[i].goid);
		fputc(',', o->csv);
		gt_csv_str(o->csv, name_of(o, rows[i].func));
		fprintf(o->csv, ",%" PRIu64 "\n", rows[i].calls);
	}
}

int fc_output_csv_header(const struct fc_output_opts *o)
{
	if (!o->csv)
		return 0;
	fputs("type,t_ns,dur_ns,goid,func,calls\n", o->csv);
	return status(o->csv);
}

int fc_output_interval(const struct fc_output_opts *o, const struct fc_row *rows, size_t n,
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
		fprintf(o->out, "%s  calls in the last %s\n", clock, gt_fmt_ns(dur_ns, d, sizeof(d)));
		text_table(o, rows, n);
		fputc('\n', o->out);
	}
	if (o->csv)
		csv_rows(o, "interval", rows, n, t_ns, dur_ns);
	err = status(o->out);
	return err ? err : status(o->csv);
}

int fc_output_total(const struct fc_output_opts *o, const struct fc_row *rows, size_t n,
		    const struct fc_output_stats *st)
{
	const struct fc_counts_stats *c = &st->c;
	int err;

	if (o->out && o->jsonl) {
		json_rows(o, "total", rows, n, st->dur_ns, st->dur_ns);
		fprintf(o->out, "{\"type\":\"stats\",\"dur_ns\":%" PRIu64 ",\"goroutines\":%" PRIu64
			",\"goroutines_exited\":%" PRIu64 ",\"morestack_untraced\":%" PRIu64
			",\"read_failures\":%" PRIu64 ",\"goroutine_map_full\":%" PRIu64
			",\"morestack_map_full\":%" PRIu64 ",\"exit_map_full\":%" PRIu64 "}\n",
			st->dur_ns, c->goroutines, c->reaped, c->ms_untraced, st->readfail, st->gfull,
			st->msfull, st->deadfull);
	} else if (o->out) {
		char d[32];

		fprintf(o->out, "total over %s:\n", gt_fmt_ns(st->dur_ns, d, sizeof(d)));
		text_table(o, rows, n);
	}
	if (o->csv)
		csv_rows(o, "total", rows, n, st->dur_ns, st->dur_ns);
	err = status(o->out);
	return err ? err : status(o->csv);
}
