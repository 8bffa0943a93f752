// SPDX-License-Identifier: MIT
/* The interval, latency and stats writers of states --aggregate (see
 * states/agg_output.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate/histogram.h"
#include "output/json_out.h"
#include "states/agg_output.h"

#define TOP_REASONS 4

/* The states an interval reports (the others are rare and short). */
static const int shown_states[] = { STATES_G_RUNNING, STATES_G_RUNNABLE, STATES_G_SYSCALL,
				    STATES_G_WAITING, STATES_G_PREEMPTED };
#define NSHOWN (sizeof(shown_states) / sizeof(shown_states[0]))

static int status(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

/* The reasons with the most waiting time in iv, most first: up to max
 * (insertion into a short sorted list). */
static int top_reasons(const struct sa_interval *iv, uint32_t *out, int max)
{
	int n = 0;

	for (uint32_t r = 0; r < ST_MAX_REASONS; r++) {
		int k;

		if (!iv->wait_ns[r] && !iv->wait_count[r])
			continue;
		if (n == max && iv->wait_ns[out[n - 1]] >= iv->wait_ns[r])
			continue;
		k = n < max ? n++ : n - 1;
		while (k > 0 && iv->wait_ns[out[k - 1]] < iv->wait_ns[r]) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = r;
	}
	return n;
}

static void interval_text(const struct st_out *o, FILE *f, const struct sa_interval *iv)
{
	uint64_t n = gt_hist_count(iv->sched);
	uint32_t top[TOP_REASONS];
	int nt = top_reasons(iv, top, TOP_REASONS);
	char clock[16], b[6][32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "%s  %s: %" PRIu64 " goroutines (+%" PRIu64 " created, -%" PRIu64
		" exited), %" PRIu64 " transitions\n", clock, gt_fmt_ns(iv->dur_ns, b[0], 32),
		iv->alive, iv->created, iv->exited, iv->transitions);
	fprintf(f, "          time in state: running %s, runnable %s, syscall %s, waiting %s\n",
		gt_fmt_ns(iv->ns[STATES_G_RUNNING], b[0], 32),
		gt_fmt_ns(iv->ns[STATES_G_RUNNABLE], b[1], 32),
		gt_fmt_ns(iv->ns[STATES_G_SYSCALL], b[2], 32),
		gt_fmt_ns(iv->ns[STATES_G_WAITING], b[3], 32));
	if (n)
		fprintf(f, "          scheduler latency: %" PRIu64 " runs, p50 %s, p90 %s, p99 %s, "
			"max %s\n", n, gt_fmt_ns(gt_hist_percentile(iv->sched, 0.5, 0), b[0], 32),
			gt_fmt_ns(gt_hist_percentile(iv->sched, 0.9, 0), b[1], 32),
			gt_fmt_ns(gt_hist_percentile(iv->sched, 0.99, 0), b[2], 32),
			gt_fmt_ns(gt_hist_percentile(iv->sched, 1.0, 0), b[3], 32));
	for (int i = 0; i < nt; i++)
		fprintf(f, "%s%s %s (%" PRIu64 ")%s", i ? ", " : "          waiting on: ",
			st_reason_name(o, top[i]), gt_fmt_ns(iv->wait_ns[top[i]], b[0], 32),
			iv->wait_count[top[i]], i == nt - 1 ? "\n" : "");
	fputc('\n', f);
}

static void interval_jsonl(const struct st_out *o, FILE *f, const struct sa_interval *iv,
			   uint64_t t_ns)
{
	bool first = true;

	fprintf(f, "{\"type\":\"interval\",\"t_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64
		",\"goroutines\":%" PRIu64 ",\"created\":%" PRIu64 ",\"exited\":%" PRIu64
		",\"transitions\":%" PRIu64 ",\"ns\":{", t_ns, iv->dur_ns, iv->alive, iv->created,
		iv->exited, iv->transitions);
	for (size_t i = 0; i < NSHOWN; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", st_state_name(shown_states[i]),
			iv->ns[shown_states[i]]);
	fputs("},\"in_state\":{", f);
	for (size_t i = 0; i < NSHOWN; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", st_state_name(shown_states[i]),
			iv->in_state[shown_states[i]]);
	fprintf(f, "},\"sched_latency\":{\"count\":%" PRIu64 ",\"p50_ns\":%" PRIu64
		",\"p90_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64 "},\"waiting\":{",
		gt_hist_count(iv->sched), gt_hist_percentile(iv->sched, 0.5, 0),
		gt_hist_percentile(iv->sched, 0.9, 0), gt_hist_percentile(iv->sched, 0.99, 0),
		gt_hist_percentile(iv->sched, 1.0, 0));
	for (uint32_t r = 0; r < ST_MAX_REASONS; r++) {
		if (!iv->wait_ns[r] && !iv->wait_count[r])
			continue;
		fputs(first ? "\"" : ",\"", f);
		gt_json_str(f, st_reason_name(o, r));
		fprintf(f, "\":{\"ns\":%" PRIu64 ",\"count\":%" PRIu64 "}", iv->wait_ns[r],
			iv->wait_count[r]);
		first = false;
	}
	fputs("}}\n", f);
}

int sa_out_interval(const struct st_out *o, FILE *f, const struct sa_interval *iv, uint64_t t_ns)
{
	if (o->jsonl)
		interval_jsonl(o, f, iv, t_ns);
	else
		interval_text(o, f, iv);
	return status(f);
}

/* A latency line's figures: count, p50, p90, p99, max (max: known, or 0). */
static void figures(const uint64_t *h, uint64_t max, uint64_t out[5])
{
	out[0] = gt_hist_count(h);
	out[1] = gt_hist_percentile(h, 0.5, max);
	out[2] = gt_hist_percentile(h, 0.9, max);
	out[3] = gt_hist_percentile(h, 0.99, max);
	out[4] = max ? max : gt_hist_percentile(h, 1.0, 0);
}

static uint64_t sched_max(struct sa_reader *r)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sa_reader_count(r); i++)
		if (sa_reader_goroutine(r, i)->sched_max_ns > m)
			m = sa_reader_goroutine(r, i)->sched_max_ns;
	return m;
}

static void latency_text(const struct st_out *o, FILE *f, struct sa_reader *r)
{
	uint64_t fig[5], slots[HIST_LOG2_SLOTS];
	char b[4][32];

	figures(sa_reader_sched_hist(r), sched_max(r), fig);
	fprintf(f, "\nscheduler latency (runnable -> running): %" PRIu64 " runs, p50 %s, p90 %s, "
		"p99 %s, max %s\n", fig[0], gt_fmt_ns(fig[1], b[0], 32), gt_fmt_ns(fig[2], b[1], 32),
		gt_fmt_ns(fig[3], b[2], 32), gt_fmt_ns(fig[4], b[3], 32));
	gt_hist_log2(sa_reader_sched_hist(r), slots);
	gt_hist_print_log2(f, slots, 0);
	fprintf(f, "\n%-32s %10s %10s %10s %10s %10s\n", "WAIT REASON", "WAITS", "P50", "P90", "P99",
		"MAX");
	for (uint32_t reason = 0; reason < SA_MAX_REASONS; reason++) {
		const uint64_t *h = sa_reader_wait_hist(r, reason);

		figures(h, sa_reader_wait_max(r, reason), fig);
		if (!fig[0])
			continue;
		fprintf(f, "%-32s %10" PRIu64 " %10s %10s %10s %10s\n",
			reason == SA_MAX_REASONS - 1 ? "(others)" : st_reason_name(o, reason), fig[0],
			gt_fmt_ns(fig[1], b[0], 32), gt_fmt_ns(fig[2], b[1], 32),
			gt_fmt_ns(fig[3], b[2], 32), gt_fmt_ns(fig[4], b[3], 32));
	}
}

static void latency_json(FILE *f, const char *type, const uint64_t fig[5])
{
	fprintf(f, "{\"type\":\"%s\",\"count\":%" PRIu64 ",\"p50_ns\":%" PRIu64 ",\"p90_ns\":%" PRIu64
		",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64, type, fig[0], fig[1], fig[2], fig[3],
		fig[4]);
}

static void log2_json(FILE *f, const uint64_t *h)
{
	uint64_t slots[HIST_LOG2_SLOTS];
	bool first = true;

	gt_hist_log2(h, slots);
	fputs(",\"log2\":[", f);
	for (int s = 0; s < HIST_LOG2_SLOTS; s++) {
		if (!slots[s])
			continue;
		fprintf(f, "%s{\"lo\":%" PRIu64 ",\"hi\":%" PRIu64 ",\"count\":%" PRIu64 "}",
			first ? "" : ",", (uint64_t)(s ? 1ULL << (s - 1) : 0),
			(uint64_t)(s == HIST_LOG2_SLOTS - 1 ? UINT64_MAX : s ? (1ULL << s) - 1 : 0),
			slots[s]);
		first = false;
	}
	fputc(']', f);
}

static void latency_jsonl(const struct st_out *o, FILE *f, struct sa_reader *r)
{
	uint64_t fig[5];

	figures(sa_reader_sched_hist(r), sched_max(r), fig);
	latency_json(f, "sched_latency", fig);
	log2_json(f, sa_reader_sched_hist(r));
	fputs("}\n", f);
	for (uint32_t reason = 0; reason < SA_MAX_REASONS; reason++) {
		const uint64_t *h = sa_reader_wait_hist(r, reason);

		figures(h, sa_reader_wait_max(r, reason), fig);
		if (!fig[0])
			continue;
		latency_json(f, "wait_reason", fig);
		fputs(",\"reason\":\"", f);
		gt_json_str(f, reason == SA_MAX_REASONS - 1 ? "(others)" : st_reason_name(o, reason));
		fputc('"', f);
		log2_json(f, h);
		fputs("}\n", f);
	}
}

int sa_out_latency(const struct st_out *o, FILE *f, struct sa_reader *r)
{
	if (o->jsonl)
		latency_jsonl(o, f, r);
	else
		latency_text(o, f, r);
	return status(f);
}

int sa_out_stats(const struct st_out *o, FILE *f, uint64_t dur_ns, const struct sa_counts *c,
		 struct sa_reader *r)
{
	const uint64_t *v = c->v;

	if (o->jsonl) {
		fprintf(f, "{\"type\":\"stats\",\"aggregate\":true,\"dur_ns\":%" PRIu64
			",\"transitions\":%" PRIu64 ",\"goroutines\":%zu,\"created\":%" PRIu64
			",\"exited\":%" PRIu64 ",\"reaped\":%" PRIu64 ",\"no_goid\":%" PRIu64
			",\"untracked\":%" PRIu64 ",\"pending_full\":%" PRIu64 ",\"duplicates\":%" PRIu64
			",\"failed_cas\":%" PRIu64 ",\"wait_other\":%" PRIu64 ",\"hist_full\":%" PRIu64
			",\"read_failures\":%" PRIu64 "}\n", dur_ns, v[SA_CNT_TRANSITIONS],
			sa_reader_count(r), v[SA_CNT_CREATED], v[SA_CNT_EXITED], sa_reader_reaped(r),
			v[SA_CNT_NOGOID], v[SA_CNT_UNTRACKED], v[SA_CNT_PENDING_FULL],
			v[SA_CNT_DUPLICATES], v[SA_CNT_FAILED_CAS], v[SA_CNT_WAIT_OTHER],
			v[SA_CNT_HIST_FULL], v[SA_CNT_READFAIL]);
	}
	return status(f);
}
