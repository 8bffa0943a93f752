/* SPDX-License-Identifier: MIT */
/*
 * states_groups: goroutines grouped as `go tool trace`'s goroutine
 * analysis groups them, with distributions per group and for the whole
 * process.  Fed per-goroutine records (struct st_goroutine, model.h), so
 * any source of them works the same: the event-stream model
 * (st_model_goroutines()) or an in-kernel aggregation that fills the same
 * records (times and counts per state, waits per reason, the sparse
 * histograms with st_hist_add_bucket()).  No I/O; the writers are in
 * states/groups_out.c.
 *
 * Lifecycle:
 *
 *	struct st_groups *gs = st_groups_new(&opts);
 *	for each goroutine: st_groups_add(gs, g);
 *	st_groups_finish(gs);		percentiles, shares, worst lists
 *	list = st_groups_list(gs, &n);	the groups (sorted by st_groups_sort)
 *	all = st_groups_all(gs);	the whole process as one group
 *	lat = st_groups_latency(gs);	scheduler latency and waits per reason
 *	st_groups_free(gs);
 *
 * Records must stay valid until st_groups_finish() returns (their names
 * and labels until st_groups_free(): group keys point into them).
 *
 * What a group holds, for the goroutines in it:
 *  - counts: goroutines, those alive when tracing began, those created
 *    and those that exited while tracing;
 *  - time in running, runnable, syscall and waiting: the total, and the
 *    p50/p90/p99 of the per-goroutine times (nearest rank: the value of
 *    rank ceil(p * n) among the n goroutines, exact);
 *  - waiting time per wait reason (sorted, largest first), and the time
 *    in go tool trace's categories (st_cat);
 *  - the scheduler latency: every whole runnable -> running interval of
 *    its goroutines (count, sum, max and which goroutine, the histogram
 *    of bpf/hist.h: percentiles within 6.25 %, aggregate/histogram.h).
 * The process-wide view adds the same distribution per wait reason (how
 * long whole waits lasted) and the goroutines with the worst single
 * wait, for a CPU and per reason, including waits still going on when
 * tracing ended (flagged `ongoing`: a lower bound, the leak candidates).
 */
#ifndef GOTRACE_STATES_GROUPS_H
#define GOTRACE_STATES_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "states/model.h"

enum st_group_by {
	ST_GROUP_START,		/* start function (the go statement's target) */
	ST_GROUP_CREATION,	/* creation site: the go statement's file:line */
	ST_GROUP_LABEL,		/* the value of one pprof label */
};

/* The four states a summary shows, indices into the per-state arrays. */
enum st_gstate { ST_GS_RUNNING, ST_GS_RUNNABLE, ST_GS_SYSCALL, ST_GS_WAITING, ST_NGS };

/* go tool trace's goroutine analysis categories (cmd/trace, internal/trace
 * GExecutionStat): execution, scheduler wait, blocking syscall, network
 * wait, sync block; plus sleep, GC and other waits, which it folds into
 * its unaccounted time.  Wait reasons map to them by their runtime
 * strings (st_reason_category()). */
enum st_cat {
	ST_CAT_EXEC,		/* running */
	ST_CAT_SCHED,		/* runnable, preempted: waiting for a CPU */
	ST_CAT_SYSCALL,		/* in a system call (or cgo call) */
	ST_CAT_NET,		/* waiting: IO wait (the netpoller) */
	ST_CAT_SYNC,		/* waiting: channels, select, sync.*, semaphores */
	ST_CAT_SLEEP,		/* waiting: time.Sleep */
	ST_CAT_GC,		/* waiting: GC assists, GC workers, sweeper, scavenger */
	ST_CAT_OTHER,		/* any other wait, or state */
	ST_NCAT,
};

/* A distribution of durations (ns). */
struct st_dist {
	uint64_t count, sum, max;
	int64_t max_goid;		/* whose wait was max */
	uint64_t *hist;			/* HIST_NB buckets (bpf/hist.h), NULL while empty */
};

/* p (0 < p <= 1) of d: an upper bound within one bucket (6.25 %), at
 * most d->max; 0 when empty. */
uint64_t st_dist_percentile(const struct st_dist *d, double p);

struct st_group_wait {
	uint32_t reason;
	uint64_t ns;			/* waiting time with it */
	uint64_t count;			/* waits begun with it */
};

struct st_group {
	const char *key;		/* NULL: the goroutines whose key is unknown
					 * (no start function / creation site read,
					 * or no such label) */
	size_t n, at_start, created, exited;
	uint64_t transitions;
	uint64_t lifetime_ns;		/* sum over its goroutines */
	uint64_t ns[ST_NGS];		/* totals */
	uint64_t p50[ST_NGS], p90[ST_NGS], p99[ST_NGS];	/* per goroutine */
	uint64_t cat[ST_NCAT];		/* time per category */
	struct st_group_wait *waits;	/* largest first */
	size_t nwaits;
	struct st_dist sched;		/* scheduler latency */
	/* private */
	uint64_t *vals[ST_NGS];
	size_t cap;
};

/* One entry of a worst-waits list. */
struct st_worst {
	const struct st_goroutine *g;
	uint64_t ns;			/* the wait's length (ongoing: so far, in the trace) */
	uint64_t ts;			/* when it ended (ongoing: the end of tracing) */
	uint64_t before_ns;		/* ongoing since before tracing began: how long
					 * before (from g.waitsince), 0 unknown */
	bool ongoing;			/* still waiting when tracing ended */
};

#define ST_WORST 10

struct st_reason_lat {
	uint32_t reason;
	struct st_dist d;		/* whole waits with this reason */
	struct st_worst worst[ST_WORST];
	size_t nworst;
};

/* The whole process: scheduler latency and waits per reason. */
struct st_latency {
	struct st_dist sched;
	struct st_worst worst[ST_WORST];	/* the worst single waits for a CPU */
	size_t nworst;
	struct st_reason_lat *reasons;		/* by total time waited, largest first */
	size_t nreasons;
};

struct st_groups_opts {
	enum st_group_by by;
	const char *label_key;		/* ST_GROUP_LABEL */
	const char *const *reasons;	/* wait reason strings (categories) */
	int nreasons;
	uint64_t t0_ns;			/* tracing began: "waiting since" of ongoing waits */
};

struct st_groups;

struct st_groups *st_groups_new(const struct st_groups_opts *o);
void st_groups_free(struct st_groups *gs);

/* Count one goroutine.  0 or -ENOMEM. */
int st_groups_add(struct st_groups *gs, const struct st_goroutine *g);

/* After the last add: percentiles, sorted waits, the worst lists.  0 or
 * -ENOMEM. */
int st_groups_finish(struct st_groups *gs);

/* The groups, in st_groups_sort()'s order (largest key first). */
struct st_group *const *st_groups_list(const struct st_groups *gs, size_t *n);

/* The whole process as one group, and its latency view. */
const struct st_group *st_groups_all(const struct st_groups *gs);
const struct st_latency *st_groups_latency(const struct st_groups *gs);

enum st_group_sort {
	ST_GSORT_COUNT,			/* goroutines */
	ST_GSORT_RUNNING,		/* total time running */
	ST_GSORT_RUNNABLE,
	ST_GSORT_SYSCALL,
	ST_GSORT_WAITING,
	ST_GSORT_TRANSITIONS,
	ST_GSORT_LIFETIME,		/* total lifetime */
	ST_GSORT_LATENCY,		/* p99 scheduler latency */
	ST_GSORT_NAME,			/* key, ascending */
};
void st_groups_sort(struct st_groups *gs, enum st_group_sort col);

/* The category of a wait reason string ("IO wait" -> ST_CAT_NET...). */
enum st_cat st_reason_category(const char *reason);
/* "execution", "sched wait", "syscall", "network", "sync", "sleep", "GC", "other" */
const char *st_cat_name(enum st_cat c);
/* The state names of enum st_gstate ("running"...). */
const char *st_gstate_name(enum st_gstate s);

/* How groups are keyed, for messages: "start function", "creation site",
 * "label KEY". */
const char *st_group_by_name(const struct st_groups *gs, char *buf, size_t len);

/* Parse --group-by: "start", "creation", "label:KEY".  0 or -EINVAL. */
int st_group_by_parse(const char *s, enum st_group_by *by, const char **label_key);

#endif /* GOTRACE_STATES_GROUPS_H */
