/* SPDX-License-Identifier: MIT */
/*
 * `gotrace states --aggregate`: the same probes as states (states/probes.h)
 * running bpf/states_agg.bpf.c, which keeps per-goroutine and per-state
 * times and counts, wait reasons and latency histograms in BPF maps
 * instead of sending an event per transition.  User space reads the maps
 * every -i interval (states/agg_read.h) and at the end, and writes the
 * interval reports, the states summary (states/output.h: the same tables
 * as states) or, with --group, the groups (states/groups.h: the same as
 * states --group, from the same per-goroutine records), and the latency
 * sections (states/agg_output.h).  With -p the goroutines there at attach
 * are seeded from the runtime's own list (states/procread.h), as states
 * does.
 * docs/states.md, "Aggregated mode".
 */
#ifndef GOTRACE_STATES_AGGREGATE_H
#define GOTRACE_STATES_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "states/groups.h"
#include "states/probes.h"
#include "states/procread.h"
#include "states/resolve.h"

struct gt_session;

struct st_agg_opts {
	uint64_t interval_ns;		/* -i; 0: only the end */
	uint32_t max_goroutines;	/* --max-goroutines: the goroutines map */
	const int64_t *goids;		/* --goid */
	size_t ngoids;
	bool late_goid;			/* gosym_go_facts().late_goid */
	FILE *out;			/* intervals, summary, latency, stats */
	bool jsonl;
	FILE *csv;			/* --csv summary; NULL: none */
	int sort;			/* enum st_sort */
	long top;
	bool no_summary;
	const char *const *reasons;	/* wait reason names */
	int nreasons;
	struct st_resolver *res;	/* names start functions, creation sites */
	/* --group: the groups (by, label_key) instead of the per-goroutine
	 * summary; BPF then keeps each goroutine's histograms (and, by
	 * label, its g.labels).  NULL: no groups */
	const struct st_groups_opts *groups;
	/* what is read from the process itself: with seed (-p), the attach
	 * snapshot; labels by address; the labels of goroutines alive at the
	 * end.  NULL: nothing */
	struct st_procread *proc;
	bool seed;
	uint64_t casg_entry;		/* runtime.casgstatus's probe, link time */
};

/* Open, configure (the session's runtime offsets, o's late_goid,
 * max_goroutines and goids) and load the aggregating BPF object into
 * p->agg, with the programs for uprobe_multi links when multi is set;
 * for gt_session_load() callbacks (a live view reading the maps itself:
 * `gotrace top`).  0 or -errno, nothing left loaded on failure. */
int st_agg_load(struct st_probes *p, struct gt_session *s, const struct st_agg_opts *o,
		bool multi);

/* Load the aggregating BPF object (p's probe lists resolved by
 * st_probes_resolve()), attach, trace until the end with the interval
 * reports, detach, and write the end's sections.  The session is open;
 * the caller commits the outputs and releases p (st_probes_release()).
 * 0 or 1 (after printing the error). */
int st_aggregate(struct gt_session *s, struct st_probes *p, const struct st_agg_opts *o);

#endif /* GOTRACE_STATES_AGGREGATE_H */
