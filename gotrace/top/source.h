/* SPDX-License-Identifier: MIT */
/*
 * The data sources of `gotrace top` (struct top_source, top/top.h).
 *
 * top_source_states: the states probes (bpf/states.bpf.c's functions)
 * giving every goroutine's time per state, per wait reason and its
 * transitions, either
 *   - aggregated in the kernel (agg: bpf/states_agg.bpf.c, `gotrace
 *     states --aggregate`): kept in a BPF hash map per goroutine, read
 *     once per sample (states/agg_read.h); nothing per transition goes
 *     to user space: the default; or
 *   - streamed: every transition through the ring buffer into the states
 *     model (states/model.h), drained every STATES_POLL_MS;
 * plus a read of the goroutine list at every sample (goruntime/allgs.h,
 * the process is not stopped) for the goroutines that made no transition
 * since the source began (a goroutine blocked for ever on a channel is
 * never seen by a probe) and for the names of those that existed before.
 */
#ifndef GOTRACE_TOP_SOURCE_H
#define GOTRACE_TOP_SOURCE_H

#include <stdbool.h>

#include "top/top.h"
#include "tracing/options.h"

/* Attach to o->pid (the shared options: --buffer-size, --attach), agg:
 * in-kernel aggregation, else the ring buffer.  Prints its errors and
 * progress like every tracing command; 0 with *out set, or 1.  The probes
 * are released by (*out)->free(*out). */
int top_source_states_open(const struct gt_trace_opts *o, bool agg, struct top_source **out);

#endif /* GOTRACE_TOP_SOURCE_H */
