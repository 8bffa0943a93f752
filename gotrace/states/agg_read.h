/* SPDX-License-Identifier: MIT */
/*
 * agg_read: the reader of `gotrace states --aggregate`'s BPF maps
 * (bpf/states_agg.h), for its writers and for any live view built on
 * them (`gotrace top`, the goroutine groups).
 *
 * Each sa_reader_update() reads every goroutine's entry, the latency
 * histograms and the counters, adds the time of each goroutine's current
 * state up to `now` (BPF only adds a state's time when it ends), names
 * the goroutines (start function and creation site through the states
 * resolver, pprof labels through the labels callback), reads each
 * goroutine's sparse histograms when the program keeps them (the
 * goroutines' g.hist, as the event model fills it), and reaps the goroutines that exited: their entries are
 * read one last time and deleted from the BPF map, their summary stays
 * here.  sa_reader_interval() gives what happened since the previous
 * interval, process-wide.
 *
 * The goroutines are struct st_goroutine (states/model.h), the form the
 * states summary writers take (states/output.h), so `states` and
 * `states --aggregate` print the same tables.
 *
 * Functions return 0 or a negative errno and never print.
 */
#ifndef GOTRACE_STATES_AGG_READ_H
#define GOTRACE_STATES_AGG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "states_agg.h"
#include "states/model.h"

struct sa_reader_opts {
	int goroutines_fd;	/* the maps of bpf/states_agg.bpf.c */
	int sched_fd, wait_fd;
	int ghists_fd;		/* each goroutine's histograms; -1: not kept */
	/* names start functions and creation sites (states/resolve.h);
	 * NULL: left unnamed.  probe_ip: see sa_reader_set_probe_ip() */
	st_resolve_fn resolve;
	void *resolve_ctx;
	/* the pprof label set at a g.labels pointer (entries keep it when
	 * the program was loaded with want_labels); NULL: none */
	st_labels_fn labels;
	void *labels_ctx;
};

/* A goroutine as read: its summary, and its latencies. */
struct sa_gor {
	struct st_goroutine g;		/* times include the current state up to
					 * the last update (or to its exit) */
	uint64_t sched_max_ns;		/* its longest runnable -> running */
	uint64_t wait_max_ns;		/* its longest single wait */
	uint32_t sched_log2[HIST_LOG2_SLOTS];	/* its runnable -> running latencies */
	uint64_t labels_ptr;		/* the g.labels its label set was read from */
	bool reaped;
	bool hist_final;		/* its histograms read for the last time */			/* exited, gone from the BPF map */
	struct sa_prev *prev;		/* the last interval's values (private) */
};

/* What happened in one interval, summed over the goroutines. */
struct sa_interval {
	uint64_t dur_ns;
	uint64_t ns[ST_NSTATES];	/* time in each state */
	uint64_t transitions, created, exited;
	uint64_t alive;			/* goroutines known and alive at its end */
	uint64_t in_state[ST_NSTATES];	/* ... by their current state */
	uint64_t sched[HIST_NB];	/* runnable -> running latencies in it */
	uint64_t wait_ns[ST_MAX_REASONS];	/* waiting time by wait reason */
	uint64_t wait_count[ST_MAX_REASONS];	/* waits begun */
};

struct sa_reader;

int sa_reader_new(const struct sa_reader_opts *o, struct sa_reader **out);
void sa_reader_free(struct sa_reader *r);

/* The run-time address of the probe on runtime.casgstatus (the BPF
 * program's casg_ip), which gives the resolver the load bias. */
void sa_reader_set_probe_ip(struct sa_reader *r, uint64_t ip);

/* Read the maps at now_ns (CLOCK_MONOTONIC; after the probes are gone,
 * the end of tracing). */
int sa_reader_update(struct sa_reader *r, uint64_t now_ns);

/* Since the previous call (or the first update). */
int sa_reader_interval(struct sa_reader *r, struct sa_interval *iv);

/* Every goroutine seen, alive or exited, in no order: *n of them.  Valid
 * until the next update. */
struct sa_gor *sa_reader_goroutine(struct sa_reader *r, size_t i);
size_t sa_reader_count(const struct sa_reader *r);

/* The same as an array of summaries for the states writers (allocated:
 * free() the array, not the goroutines). */
struct st_goroutine **sa_reader_summaries(struct sa_reader *r, size_t *n);

/* Cumulative process-wide histograms (HIST_NB buckets): runnable ->
 * running, and the waits of one reason (reasons from SA_MAX_REASONS - 1
 * on share one). */
const uint64_t *sa_reader_sched_hist(const struct sa_reader *r);
const uint64_t *sa_reader_wait_hist(const struct sa_reader *r, uint32_t reason);
/* The longest wait of a reason seen so far (over the goroutines). */
uint64_t sa_reader_wait_max(const struct sa_reader *r, uint32_t reason);

/* A goroutine there at attach, from the snapshot (st_seed, states/model.h:
 * names, labels, since when it waits), before the first update: written
 * into the goroutines map (fd) unless a probe made its entry first, at
 * t0_ns.  0, or -errno (-ENOMEM). */
int sa_reader_seed(struct sa_reader *r, int goroutines_fd, const struct st_seed *s,
		   uint64_t t0_ns);

/* After the last update (at the end of tracing): the goroutines alive
 * then as states/model.h's st_model_finish() leaves them (since is the
 * end, open_ns how long the current state had lasted). */
void sa_reader_finish(struct sa_reader *r);

/* Goroutines reaped so far. */
uint64_t sa_reader_reaped(const struct sa_reader *r);

#endif /* GOTRACE_STATES_AGG_READ_H */
