// SPDX-License-Identifier: MIT
/*
 * bench_states_replay: user-space throughput of `gotrace states`: raw
 * events -> model (decode, creation fix-up, accounting) -> JSON Lines
 * stream -> summary, on one core.
 *
 * Usage: bench_states_replay [-n EVENTS] [-late] [-text] [RAW_FILE]
 *
 * -text: the text stream (gotrace states' default) instead of JSON Lines.
 *
 * RAW_FILE holds struct states_event records as `gotrace states --raw FILE`
 * recorded them; they are replayed (repeated, timestamps shifted) until
 * EVENTS events were fed.  Without a file, a synthetic workload is used:
 * 1000 goroutines cycling running -> waiting -> runnable -> running with
 * rotating wait reasons, plus creations and exits.  Prints one JSON line:
 *   {"events":N,"seconds":S,"events_per_s":R,"source":"..."}
 *
 * The model and writers are compiled in from gotrace/ (the bench rule links
 * the libraries only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../gotrace/states/model.c"
#include "../../gotrace/states/output.c"
#include "../../gotrace/aggregate/histogram.c"
#include "../../gotrace/output/csv.c"
#include "../../gotrace/output/json_out.c"
#include "../../gotrace/tracing/stacks.c"

static const char *const reasons[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fake_resolve(void *ctx, uint64_t ip, uint64_t startpc, uint64_t gopc,
			 const char **fn, const char **at)
{
	*fn = "main.worker";
	*at = "main.go:42";
}

static struct states_event *synthetic(size_t *n)
{
	const size_t ng = 1000, per = 3;
	size_t cap = 300000, k = 0;
	struct states_event *ev = calloc(cap, sizeof(*ev));
	uint64_t ts = 1;

	if (!ev)
		return NULL;
	for (size_t g = 0; g < ng; g++) {
		struct states_event *e = &ev[k++];

		e->ts_ns = ts++;
		e->gp = 0xc000000000 + g * 0x200;
		e->goid = (int64_t)g + 100;
		e->from = STATES_G_DEAD;
		e->to = STATES_G_RUNNABLE;
		e->flags = STATES_F_CREATE;
		e->parent_goid = 1;
		e->startpc = 0x401000;
	}
	while (k + per <= cap - ng) {
		for (size_t g = 0; g < ng && k + per <= cap - ng; g++) {
			static const uint32_t cyc[3][2] = {
				{ STATES_G_RUNNABLE, STATES_G_RUNNING },
				{ STATES_G_RUNNING, STATES_G_WAITING },
				{ STATES_G_WAITING, STATES_G_RUNNABLE },
			};
			for (size_t c = 0; c < per; c++) {
				struct states_event *e = &ev[k++];

				e->ts_ns = ts += 100;
				e->gp = 0xc000000000 + g * 0x200;
				e->goid = (int64_t)g + 100;
				e->from = cyc[c][0];
				e->to = cyc[c][1];
				e->tid = 1000 + (uint32_t)(g % 8);
				e->reason = c == 1 ? 14 + (uint32_t)(k % 6) : 0;
				e->parent_goid = -1;
			}
		}
	}
	*n = k;
	return ev;
}

int main(int argc, char **argv)
{
	size_t want = 5000000, n = 0, fed = 0;
	struct states_event *ev = NULL;
	const char *src = "synthetic";
	bool late = false;
	struct st_out o = { .reasons = reasons, .nreasons = sizeof(reasons) / sizeof(reasons[0]),
			    .jsonl = true };
	struct st_model_opts mo = { .sink = st_out_transition, .resolve = fake_resolve, .ctx = &o };
	struct st_model *m;
	uint64_t shift = 0, span;
	double t0, t1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			want = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-late")) {
			late = true;
		} else if (!strcmp(argv[i], "-text")) {
			o.jsonl = false;
		} else {
			FILE *f = fopen(argv[i], "rb");
			long sz;

			if (!f) {
				perror(argv[i]);
				return 1;
			}
			fseek(f, 0, SEEK_END);
			sz = ftell(f);
			rewind(f);
			n = (size_t)sz / sizeof(*ev);
			ev = malloc(n * sizeof(*ev) + 1);
			if (!ev || fread(ev, sizeof(*ev), n, f) != n || !n) {
				fprintf(stderr, "%s: no events\n", argv[i]);
				return 1;
			}
			fclose(f);
			src = argv[i];
		}
	}
	if (!ev && !(ev = synthetic(&n)))
		return 1;
	mo.late_goid = late;
	o.stream = fopen("/dev/null", "w");
	if (!o.stream)
		return 1;
	setvbuf(o.stream, NULL, _IOFBF, 1 << 16);
	m = st_model_new(&mo);
	span = ev[n - 1].ts_ns - ev[0].ts_ns + 1;
	t0 = now();
	while (fed < want) {
		for (size_t i = 0; i < n && fed < want; i++, fed++) {
			struct states_event e = ev[i];

			e.ts_ns += shift;
			st_model_feed(m, &e);
		}
		shift += span;
	}
	st_model_finish(m, ev[n - 1].ts_ns + shift);
	{
		size_t ng;
		struct st_goroutine **all = st_model_goroutines(m, &ng);

		st_sort_goroutines(all, ng, ST_SORT_RUNNING);
		if (o.jsonl)
			st_out_summary_jsonl(&o, o.stream, all, ng, 0);
		else
			st_out_summary_text(&o, o.stream, all, ng, 0);
	}
	fflush(o.stream);
	t1 = now();
	printf("{\"events\":%zu,\"seconds\":%.3f,\"events_per_s\":%.0f,\"source\":\"%s\","
	       "\"stream\":\"%s\"}\n", fed, t1 - t0, fed / (t1 - t0), src, o.jsonl ? "jsonl" : "text");
	st_model_free(m);
	fclose(o.stream);
	free(ev);
	return 0;
}
