/* SPDX-License-Identifier: MIT */
/*
 * states/output: the writers of `gotrace states`.
 *
 *   stream   one line per transition, text or JSON Lines (--format=jsonl):
 *              "   12.345678 G18  tid 4321  running -> waiting (chan receive)"
 *              {"type":"state","ts_ns":N,"goid":18,"tid":4321,"from":"running",
 *               "to":"waiting","reason":"chan receive"}
 *            ts is relative to the trace start (st_out.t0_ns).
 *   summary  per goroutine: a text table sorted by a column (--sort,
 *            --top), CSV (--csv FILE), or JSON Lines {"type":"goroutine",...}
 *   chrome   state slices, creation and unblock flows into a chrome_trace (--json)
 *
 * The writers never fail the trace: a write error is remembered in
 * st_out.write_error and reported by the caller at the end.
 */
#ifndef GOTRACE_STATES_OUTPUT_H
#define GOTRACE_STATES_OUTPUT_H

#include <stdio.h>

#include "states/model.h"
#include "tracing/stacks.h"

struct chrome_trace;
struct st_groups;

#define ST_RUNNING_SLOTS 512	/* st_out.running_on */

enum st_sort {
	ST_SORT_GOID,
	ST_SORT_RUNNING,
	ST_SORT_RUNNABLE,
	ST_SORT_SYSCALL,
	ST_SORT_WAITING,
	ST_SORT_TRANSITIONS,
	ST_SORT_LIFETIME,
	ST_SORT_LATENCY,	/* goroutines: the longest single wait for a CPU;
				 * groups: p99 scheduler latency */
	ST_SORT_COUNT,		/* groups only: goroutines in the group */
	ST_SORT_NAME,		/* groups only: the key, ascending */
};

struct st_out {
	FILE *stream;			/* live stream; NULL = none (-q) */
	bool jsonl;
	uint64_t t0_ns;			/* trace start (CLOCK_MONOTONIC) */
	const char *const *reasons;	/* waitReason -> string */
	int nreasons;
	const int64_t *goids;		/* --goid filter (NULL: all) */
	size_t ngoids;
	uint32_t state_mask;		/* --state filter on the new state; 0: all */
	struct chrome_trace *ct;	/* --json; NULL: none */
	/* st_out_chrome_transition when ct is set (a hook, so that the
	 * stream writers link without the trace writer) */
	void (*chrome)(struct st_out *o, const struct st_transition *t);
	/* states/chrome.c: per thread, the goroutine running on it, for the
	 * unblock flows.  Direct-mapped by tid: a collision only loses a flow
	 * (the tid is checked), never attributes one to the wrong goroutine. */
	struct st_running_on {
		uint32_t tid;
		int64_t goid;		/* 0: none */
	} running_on[ST_RUNNING_SLOTS];
	bool write_error;
	/* --stack: the stack of the transition being fed, set by the caller
	 * around st_model_feed; printed under / inside its stream line */
	const struct gt_stack *stack;
};

/* "chan receive", or "reason<N>" for values the table doesn't name. */
const char *st_reason_name(const struct st_out *o, uint32_t reason);

/* Parse a state name (as st_state_name() prints it) -> value, -1 if unknown. */
int st_state_parse(const char *name);

/* Parse a --sort column name; -1 if unknown.  st_sort_names lists them. */
int st_sort_parse(const char *name);
extern const char st_sort_names[];
/* The name of a --sort column. */
const char *st_sort_name(enum st_sort col);

bool st_out_wants_goid(const struct st_out *o, int64_t goid);

/* The model's sink: stream line and chrome slices for one transition. */
void st_out_transition(void *ctx, const struct st_transition *t);

/* states/chrome.c: the slice that `t` closes, and the creation or unblock flow. */
void st_out_chrome_transition(struct st_out *o, const struct st_transition *t);

/* After st_model_finish(end_ns): close the chrome trace's open slices. */
void st_out_chrome_finish(struct st_out *o, struct st_goroutine **gs, size_t n,
			  uint64_t end_ns);

/* The groups' order for a --sort column; -1 for goid, which groups have
 * not. */
int st_sort_groups_col(enum st_sort col);

/* Sort gs in place by col (descending, goid ascending for ST_SORT_GOID;
 * count and name, which only groups have, sort by goid). */
void st_sort_goroutines(struct st_goroutine **gs, size_t n, enum st_sort col);

/* The summary; top = 0 means all.  Goroutines filtered by --goid are left out. */
void st_out_summary_text(struct st_out *o, FILE *f, struct st_goroutine **gs, size_t n,
			 size_t top);
void st_out_summary_jsonl(struct st_out *o, FILE *f, struct st_goroutine **gs, size_t n,
			  size_t top);
/* CSV: one column per state and one per wait reason seen anywhere. */
void st_out_summary_csv(struct st_out *o, FILE *f, struct st_goroutine **gs, size_t n,
			size_t top);

/* The goroutines alive when tracing began, as the attach snapshot or
 * their first transition showed them: one stream line each, before the
 * first transition ("initial" objects with --format=jsonl). */
void st_out_initial(struct st_out *o, struct st_goroutine **gs, size_t n);

/* groups_out.c: the group summary (--group, states/groups.h), after
 * st_groups_finish() and st_groups_sort(); top = 0 means all.  sort names
 * the order for the text header. */
void st_out_groups_text(struct st_out *o, FILE *f, struct st_groups *gs, size_t top,
			const char *sort);
void st_out_groups_jsonl(struct st_out *o, FILE *f, struct st_groups *gs, size_t top);
void st_out_groups_csv(struct st_out *o, FILE *f, struct st_groups *gs, size_t top);
/* The process-wide scheduler latency and waits per reason: distributions
 * (text: the log2 histogram of the scheduler latency), the longest single
 * waits. */
void st_out_latency_text(struct st_out *o, FILE *f, const struct st_groups *gs);
void st_out_latency_jsonl(struct st_out *o, FILE *f, const struct st_groups *gs);

/* --group, whatever the source of the goroutines (the event model or the
 * in-kernel aggregation): the goroutines o keeps (--goid) grouped as go
 * asks, sorted by the --sort column sort, written to f (text, or jsonl
 * with o->jsonl; nothing with no_summary) with the latency view, and as
 * CSV to csv (NULL: none).  0, or -ENOMEM (nothing written). */
struct st_groups_opts;
int st_out_groups_report(struct st_out *o, FILE *f, FILE *csv, const struct st_groups_opts *go,
			 struct st_goroutine **all, size_t n, int sort, size_t top, bool no_summary);
/* The goroutines o keeps grouped, finished and sorted by gsort (enum
 * st_group_sort); NULL when out of memory.  st_groups_free() it. */
struct st_groups *st_out_groups_make(struct st_out *o, const struct st_groups_opts *go,
				     struct st_goroutine **all, size_t n, int gsort);

#endif /* GOTRACE_STATES_OUTPUT_H */
