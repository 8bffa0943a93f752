// SPDX-License-Identifier: MIT
/*
 * states_groups_out: the writers of the group summary and of the latency
 * view (text, JSON Lines, CSV).  See output.h; the numbers come from
 * states/groups.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/histogram.h"
#include "output/csv.h"
#include "output/json_out.h"
#include "states/groups.h"
#include "states/output.h"

static const char *key_text(const struct st_groups *gs, const struct st_group *g, char *buf,
			    size_t len)
{
	char by[64];

	if (g->key)
		return g->key;
	/* goroutines none of whose kind could be read */
	snprintf(buf, len, "(no %s)", st_group_by_name(gs, by, sizeof(by)));
	return buf;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* "p50 12.3us, p90 45.0us, p99 1.20ms, max 3.41ms" */
static void dist_text(FILE *f, const struct st_dist *d)
{
	char b[4][32];

	fprintf(f, "%" PRIu64 " waits, p50 %s, p90 %s, p99 %s, max %s", d->count,
		gt_fmt_ns(st_dist_percentile(d, 0.50), b[0], sizeof(b[0])),
		gt_fmt_ns(st_dist_percentile(d, 0.90), b[1], sizeof(b[1])),
		gt_fmt_ns(st_dist_percentile(d, 0.99), b[2], sizeof(b[2])),
		gt_fmt_ns(d->max, b[3], sizeof(b[3])));
}

static void group_text(struct st_out *o, FILE *f, const struct st_groups *gs,
		       const struct st_group *g)
{
	char b[4][32], key[96];
	int shown = 0;

	fprintf(f, "%s: %zu goroutine%s (%zu at start, %zu created, %zu exited), %" PRIu64
		   " transitions\n", key_text(gs, g, key, sizeof(key)), g->n, g->n == 1 ? "" : "s",
		g->at_start, g->created, g->exited, g->transitions);
	fprintf(f, "  %-9s %10s %10s %10s %10s\n", "", "total", "p50", "p90", "p99");
	for (int s = 0; s < ST_NGS; s++)
		if (g->ns[s])	/* the states none of them was in: no row */
			fprintf(f, "  %-9s %10s %10s %10s %10s\n", st_gstate_name(s),
			gt_fmt_ns(g->ns[s], b[0], sizeof(b[0])),
			gt_fmt_ns(g->p50[s], b[1], sizeof(b[1])),
			gt_fmt_ns(g->p90[s], b[2], sizeof(b[2])),
			gt_fmt_ns(g->p99[s], b[3], sizeof(b[3])));
	if (g->nwaits) {
		fputs("  waits:", f);
		for (size_t i = 0; i < g->nwaits && i < 4; i++)
			fprintf(f, "%s %s %.1f%%", i ? "," : "", st_reason_name(o, g->waits[i].reason),
				share(g->waits[i].ns, g->ns[ST_GS_WAITING]));
		if (g->nwaits > 4)
			fprintf(f, ", %zu more", g->nwaits - 4);
		fputc('\n', f);
	}
	fputs("  time:", f);
	for (int pass = 0; pass < ST_NCAT; pass++) {
		/* largest first, those under 0.05% left out */
		int best = -1;

		for (int c = 0; c < ST_NCAT; c++)
			if ((best < 0 || g->cat[c] > g->cat[best]) &&
			    !(shown & (1 << c)))
				best = c;
		if (best < 0 || share(g->cat[best], g->lifetime_ns) < 0.05)
			break;
		fprintf(f, "%s %s %.1f%%", pass ? "," : "", st_cat_name(best),
			share(g->cat[best], g->lifetime_ns));
		shown |= 1 << best;
	}
	if (!shown)
		fputs(" -", f);
	fputc('\n', f);
	if (g->sched.count) {
		fputs("  scheduler latency: ", f);
		dist_text(f, &g->sched);
		fprintf(f, " (G%" PRId64 ")\n", g->sched.max_goid);
	}
}

void st_out_groups_text(struct st_out *o, FILE *f, struct st_groups *gs, size_t top,
			const char *sort)
{
	size_t n, shown = 0;
	struct st_group *const *list = st_groups_list(gs, &n);
	char by[64];

	fprintf(f, "GROUPS by %s: %zu group%s of %zu goroutines, sorted by %s\n",
		st_group_by_name(gs, by, sizeof(by)), n, n == 1 ? "" : "s", st_groups_all(gs)->n,
		sort);
	for (size_t i = 0; i < n && (!top || i < top); i++, shown++) {
		fputc('\n', f);
		group_text(o, f, gs, list[i]);
	}
	if (shown < n)
		fprintf(f, "\n(%zu of %zu groups; --top 0 for all)\n", shown, n);
	if (ferror(f))
		o->write_error = true;
}

static void worst_line(struct st_out *o, FILE *f, const struct st_worst *w)
{
	char b[2][32];
	uint64_t rel = w->ts >= o->t0_ns ? w->ts - o->t0_ns : 0;

	fprintf(f, "  G%-7" PRId64 " %10s  ", w->g->goid, gt_fmt_ns(w->ns, b[0], sizeof(b[0])));
	if (w->ongoing)
		fputs("ongoing at the end", f);
	else
		fprintf(f, "ended at %" PRIu64 ".%06" PRIu64, rel / 1000000000,
			rel / 1000 % 1000000);
	if (w->before_ns)
		fprintf(f, ", began %s before tracing", gt_fmt_ns(w->before_ns, b[1], sizeof(b[1])));
	fprintf(f, "  %s\n", w->g->start_func ? w->g->start_func : "?");
}

static void log2_text(FILE *f, const struct st_dist *d)
{
	uint64_t slots[HIST_LOG2_SLOTS];

	if (!d->hist)
		return;
	gt_hist_log2(d->hist, slots);
	gt_hist_print_log2(f, slots, 2);
}

void st_out_latency_text(struct st_out *o, FILE *f, const struct st_groups *gs)
{
	const struct st_latency *lat = st_groups_latency(gs);
	char b[4][32];

	fputs("\nSCHEDULER LATENCY (runnable -> running): ", f);
	if (lat->sched.count) {
		dist_text(f, &lat->sched);
		fputc('\n', f);
		log2_text(f, &lat->sched);
	} else {
		fputs("no whole runnable interval seen\n", f);
	}
	if (lat->nworst) {
		fputs("longest single waits for a CPU:\n", f);
		for (size_t i = 0; i < lat->nworst && i < 5; i++)
			worst_line(o, f, &lat->worst[i]);
	}
	if (!lat->nreasons)
		goto out;
	fprintf(f, "\nTIME BLOCKED PER WAIT REASON (whole waits)\n  %-28s %8s %10s %10s %10s %10s\n",
		"REASON", "WAITS", "p50", "p90", "p99", "max");
	for (size_t i = 0; i < lat->nreasons; i++) {
		const struct st_reason_lat *r = &lat->reasons[i];

		if (!r->d.count)	/* only ongoing waits: in the list below */
			continue;
		fprintf(f, "  %-28.28s %8" PRIu64 " %10s %10s %10s %10s\n", st_reason_name(o, r->reason),
			r->d.count, gt_fmt_ns(st_dist_percentile(&r->d, 0.50), b[0], sizeof(b[0])),
			gt_fmt_ns(st_dist_percentile(&r->d, 0.90), b[1], sizeof(b[1])),
			gt_fmt_ns(st_dist_percentile(&r->d, 0.99), b[2], sizeof(b[2])),
			gt_fmt_ns(r->d.max, b[3], sizeof(b[3])));
	}
	fputs("longest single waits per reason (ongoing ones are still waiting: lower bounds):\n", f);
	for (size_t i = 0; i < lat->nreasons; i++) {
		const struct st_reason_lat *r = &lat->reasons[i];

		if (!r->nworst)
			continue;
		fprintf(f, " %s\n", st_reason_name(o, r->reason));
		for (size_t k = 0; k < r->nworst && k < 3; k++)
			worst_line(o, f, &r->worst[k]);
	}
out:
	if (ferror(f))
		o->write_error = true;
}

/* ---- JSON Lines ---- */

static void dist_jsonl(FILE *f, const struct st_dist *d, bool log2)
{
	fprintf(f, "{\"count\":%" PRIu64, d->count);
	if (d->sum)
		fprintf(f, ",\"sum_ns\":%" PRIu64, d->sum);
	fprintf(f, ",\"p50_ns\":%" PRIu64 ",\"p90_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
		   ",\"max_ns\":%" PRIu64, st_dist_percentile(d, 0.50), st_dist_percentile(d, 0.90),
		st_dist_percentile(d, 0.99), d->max);
	if (d->count)
		fprintf(f, ",\"max_goid\":%" PRId64, d->max_goid);
	if (log2 && d->hist) {
		uint64_t slots[HIST_LOG2_SLOTS];
		bool first = true;

		gt_hist_log2(d->hist, slots);
		fputs(",\"log2\":[", f);
		for (int s = 0; s < HIST_LOG2_SLOTS; s++) {
			if (!slots[s])
				continue;
			fprintf(f, "%s{\"lo_ns\":%" PRIu64 ",\"count\":%" PRIu64 "}", first ? "" : ",",
				s ? (uint64_t)1 << (s - 1) : 0, slots[s]);
			first = false;
		}
		fputc(']', f);
	}
	fputc('}', f);
}

static void str_field(FILE *f, const char *name, const char *v)
{
	fprintf(f, ",\"%s\":", name);
	if (!v) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	gt_json_str(f, v);
	fputc('"', f);
}

static void group_jsonl(struct st_out *o, FILE *f, const struct st_groups *gs,
			const struct st_group *g)
{
	static const char *const pn[] = { "p50_ns", "p90_ns", "p99_ns" };
	char by[64];

	fputs("{\"type\":\"group\"", f);
	str_field(f, "by", st_group_by_name(gs, by, sizeof(by)));
	str_field(f, "key", g->key);
	fprintf(f, ",\"goroutines\":%zu,\"at_start\":%zu,\"created\":%zu,\"exited\":%zu"
		   ",\"transitions\":%" PRIu64 ",\"lifetime_ns\":%" PRIu64 ",\"ns\":{",
		g->n, g->at_start, g->created, g->exited, g->transitions, g->lifetime_ns);
	for (int s = 0; s < ST_NGS; s++)
		fprintf(f, "%s\"%s\":%" PRIu64, s ? "," : "", st_gstate_name(s), g->ns[s]);
	for (int p = 0; p < 3; p++) {
		const uint64_t *v = p == 0 ? g->p50 : p == 1 ? g->p90 : g->p99;

		fprintf(f, "},\"%s\":{", pn[p]);
		for (int s = 0; s < ST_NGS; s++)
			fprintf(f, "%s\"%s\":%" PRIu64, s ? "," : "", st_gstate_name(s), v[s]);
	}
	fputs("},\"waiting\":[", f);
	for (size_t i = 0; i < g->nwaits; i++) {
		fputs(i ? ",{\"reason\":\"" : "{\"reason\":\"", f);
		gt_json_str(f, st_reason_name(o, g->waits[i].reason));
		fprintf(f, "\",\"ns\":%" PRIu64 ",\"count\":%" PRIu64 ",\"share\":%.4f}",
			g->waits[i].ns, g->waits[i].count,
			share(g->waits[i].ns, g->ns[ST_GS_WAITING]) / 100);
	}
	fputs("],\"categories\":{", f);
	for (int c = 0; c < ST_NCAT; c++)
		fprintf(f, "%s\"%s\":{\"ns\":%" PRIu64 ",\"share\":%.4f}", c ? "," : "", st_cat_name(c),
			g->cat[c], share(g->cat[c], g->lifetime_ns) / 100);
	fputs("},\"sched_latency\":", f);
	dist_jsonl(f, &g->sched, true);
	fputs("}\n", f);
}

void st_out_groups_jsonl(struct st_out *o, FILE *f, struct st_groups *gs, size_t top)
{
	size_t n;
	struct st_group *const *list = st_groups_list(gs, &n);

	for (size_t i = 0; i < n && (!top || i < top); i++)
		group_jsonl(o, f, gs, list[i]);
	if (ferror(f))
		o->write_error = true;
}

static void worst_jsonl(struct st_out *o, FILE *f, const struct st_worst *w, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"goid\":%" PRId64, i ? "," : "", w[i].g->goid);
		str_field(f, "func", w[i].g->start_func);
		fprintf(f, ",\"ns\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",\"ongoing\":%s", w[i].ns,
			w[i].ts >= o->t0_ns ? w[i].ts - o->t0_ns : 0, w[i].ongoing ? "true" : "false");
		if (w[i].before_ns)
			fprintf(f, ",\"before_ns\":%" PRIu64, w[i].before_ns);
		fputc('}', f);
	}
	fputc(']', f);
}

void st_out_latency_jsonl(struct st_out *o, FILE *f, const struct st_groups *gs)
{
	const struct st_latency *lat = st_groups_latency(gs);

	fputs("{\"type\":\"latency\",\"sched\":", f);
	dist_jsonl(f, &lat->sched, true);
	fputs(",\"sched_worst\":", f);
	worst_jsonl(o, f, lat->worst, lat->nworst);
	fputs(",\"waits\":[", f);
	for (size_t i = 0; i < lat->nreasons; i++) {
		const struct st_reason_lat *r = &lat->reasons[i];

		fputs(i ? ",{\"reason\":\"" : "{\"reason\":\"", f);
		gt_json_str(f, st_reason_name(o, r->reason));
		fputs("\",\"dist\":", f);
		dist_jsonl(f, &r->d, true);
		fputs(",\"worst\":", f);
		worst_jsonl(o, f, r->worst, r->nworst);
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (ferror(f))
		o->write_error = true;
}

/* ---- CSV ---- */

void st_out_groups_csv(struct st_out *o, FILE *f, struct st_groups *gs, size_t top)
{
	size_t n;
	struct st_group *const *list = st_groups_list(gs, &n);
	const struct st_group *all = st_groups_all(gs);
	char by[64];

	fputs("by,key,goroutines,at_start,created,exited,transitions,lifetime_ns", f);
	for (int s = 0; s < ST_NGS; s++)
		fprintf(f, ",%s_ns,%s_p50_ns,%s_p90_ns,%s_p99_ns", st_gstate_name(s), st_gstate_name(s),
			st_gstate_name(s), st_gstate_name(s));
	fputs(",sched_count,sched_p50_ns,sched_p90_ns,sched_p99_ns,sched_max_ns", f);
	for (int c = 0; c < ST_NCAT; c++) {
		char col[48];

		snprintf(col, sizeof(col), "%s_ns", st_cat_name(c));
		for (char *p = col; *p; p++)
			if (*p == ' ')
				*p = '_';
		fprintf(f, ",%s", col);
	}
	/* a column per reason any goroutine waited for, in the process's order */
	for (size_t r = 0; r < all->nwaits; r++) {
		char col[96];

		snprintf(col, sizeof(col), "waiting_ns:%s", st_reason_name(o, all->waits[r].reason));
		fputc(',', f);
		gt_csv_str(f, col);
	}
	fputc('\n', f);
	for (size_t i = 0; i < n && (!top || i < top); i++) {
		const struct st_group *g = list[i];

		gt_csv_str(f, st_group_by_name(gs, by, sizeof(by)));
		fputc(',', f);
		gt_csv_str(f, g->key ? g->key : "");
		fprintf(f, ",%zu,%zu,%zu,%zu,%" PRIu64 ",%" PRIu64, g->n, g->at_start, g->created,
			g->exited, g->transitions, g->lifetime_ns);
		for (int s = 0; s < ST_NGS; s++)
			fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, g->ns[s], g->p50[s],
				g->p90[s], g->p99[s]);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, g->sched.count,
			st_dist_percentile(&g->sched, 0.50), st_dist_percentile(&g->sched, 0.90),
			st_dist_percentile(&g->sched, 0.99), g->sched.max);
		for (int c = 0; c < ST_NCAT; c++)
			fprintf(f, ",%" PRIu64, g->cat[c]);
		for (size_t r = 0; r < all->nwaits; r++) {
			uint64_t ns = 0;

			for (size_t k = 0; k < g->nwaits; k++)
				if (g->waits[k].reason == all->waits[r].reason)
					ns = g->waits[k].ns;
			fprintf(f, ",%" PRIu64, ns);
		}
		fputc('\n', f);
	}
	if (ferror(f))
		o->write_error = true;
}

struct st_groups *st_out_groups_make(struct st_out *o, const struct st_groups_opts *go,
				     struct st_goroutine **all, size_t n, int sort)
{
	struct st_groups *gs = st_groups_new(go);
	int err = gs ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !err; i++)
		if (st_out_wants_goid(o, all[i]->goid))
			err = st_groups_add(gs, all[i]);
	if (!err)
		err = st_groups_finish(gs);
	if (err) {
		st_groups_free(gs);
		return NULL;
	}
	st_groups_sort(gs, (enum st_group_sort)sort);
	return gs;
}

int st_out_groups_report(struct st_out *o, FILE *f, FILE *csv, const struct st_groups_opts *go,
			 struct st_goroutine **all, size_t n, int sort, size_t top, bool no_summary)
{
	int col = st_sort_groups_col(sort);
	struct st_groups *gs = st_out_groups_make(o, go, all, n, col < 0 ? ST_GSORT_COUNT : col);

	if (!gs)
		return -ENOMEM;
	if (!no_summary && o->jsonl) {
		st_out_groups_jsonl(o, f, gs, top);
		st_out_latency_jsonl(o, f, gs);
	} else if (!no_summary) {
		st_out_groups_text(o, f, gs, top, st_sort_name(sort));
		st_out_latency_text(o, f, gs);
	}
	if (csv)
		st_out_groups_csv(o, csv, gs, top);
	st_groups_free(gs);
	return 0;
}
