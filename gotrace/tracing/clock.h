/* SPDX-License-Identifier: MIT */
/*
 * clock: the one clock of a trace, and durations as the user writes them.
 *
 * Every timestamp gotrace compares is CLOCK_MONOTONIC in nanoseconds: the
 * clock bpf_ktime_get_ns() reads in the BPF programs, so event times, the
 * trace start and the -d deadline are on one axis.
 */
#ifndef GOTRACE_CLOCK_H
#define GOTRACE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t gt_now_ns(void);

/* Parse a duration: "10" (seconds), "500ms", "2s", "1.5m", "1h", "250us",
 * "100ns".  -EINVAL on bad input, zero, or more than 1e18 ns. */
int gt_parse_duration(const char *s, uint64_t *ns);

#endif /* GOTRACE_CLOCK_H */
