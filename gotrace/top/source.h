/* SPDX-License-Identifier: MIT */
/*
 * The data sources of `gotrace top` (struct top_source, top/top.h).
 *
 * top_source_states: the states probes (bpf/states.bpf.c) streaming every
 * transition through the ring buffer into the states model
 * (states/model.h), plus a read of the goroutine list at every sample
 * (goruntime/allgs.h, the process is not stopped) for the goroutines that
 * made no transition since the source began (a goroutine blocked for
 * ever on a channel is never seen by a probe) and for the names of those
 * that existed before.  docs/top.md says why this is the source for now
 * (the in-kernel aggregation of `states --aggregate` is the intended
 * one: the same interface, less work per transition).
 */
#ifndef GOTRACE_TOP_SOURCE_H
#define GOTRACE_TOP_SOURCE_H

#include "top/top.h"
#include "tracing/options.h"

/* Attach to o->pid (the shared options: --buffer-size, --attach).  Prints
 * its errors and progress like every tracing command; 0 with *out set, or
 * 1.  The probes are released by (*out)->free(*out). */
int top_source_states_open(const struct gt_trace_opts *o, struct top_source **out);

#endif /* GOTRACE_TOP_SOURCE_H */
