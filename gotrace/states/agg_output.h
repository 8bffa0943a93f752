/* SPDX-License-Identifier: MIT */
/*
 * agg_output: the writers of `gotrace states --aggregate` besides the
 * per-goroutine summary (which is states' own, states/output.h):
 *
 *   interval   one report per -i interval, process-wide: goroutines alive,
 *              created, exited, transitions, the time spent in each state
 *              summed over the goroutines, the scheduler latency's
 *              percentiles and the top wait reasons (text, or one
 *              {"type":"interval",...} object)
 *   latency    at the end: the scheduler latency (runnable -> running) of
 *              the whole trace with its log2 histogram, and per wait reason
 *              how long its waits lasted ({"type":"sched_latency",...},
 *              {"type":"wait_reason",...})
 *   stats      at the end: what BPF could not account ({"type":"stats"})
 *
 * Formats in docs/states.md.  Writers return 0 or -EIO.
 */
#ifndef GOTRACE_STATES_AGG_OUTPUT_H
#define GOTRACE_STATES_AGG_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "states/agg_read.h"
#include "states/output.h"

/* The SA_CNT_* counters, summed over CPUs. */
struct sa_counts {
	uint64_t v[SA_CNT_MAX];
};

/* One interval (t_ns: its end relative to the trace start). */
int sa_out_interval(const struct st_out *o, FILE *f, const struct sa_interval *iv, uint64_t t_ns);

/* The whole trace's latency sections. */
int sa_out_latency(const struct st_out *o, FILE *f, struct sa_reader *r);

/* The end's stats: dur_ns traced, the counters, goroutines seen. */
int sa_out_stats(const struct st_out *o, FILE *f, uint64_t dur_ns, const struct sa_counts *c,
		 struct sa_reader *r);

#endif /* GOTRACE_STATES_AGG_OUTPUT_H */
