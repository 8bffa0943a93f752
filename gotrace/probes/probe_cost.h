/* SPDX-License-Identifier: MIT */
/*
 * probe_cost: what one uprobe hit costs on this machine, for each class of
 * probed instruction (probe_class.h), so a user can predict a trace's
 * overhead before attaching to production.
 *
 * The self-test probes a tiny function compiled into gotrace itself
 * (known instructions: a compare, a conditional jump the kernel emulates,
 * a register move it single-steps, a return), in the calling process only,
 * with a BPF program that does nothing: the floor every gotrace probe pays
 * before its own work.  Each class is timed over repeated calls against
 * the same calls unprobed.  The classes of the two sites are checked with
 * probe_class before anything is attached.
 *
 * uprobe_multi links where the kernel has them, else one perf-event uprobe.
 * Needs the privileges of tracing (CAP_BPF + CAP_PERFMON or root).
 * Returns 0 or a negative errno; never prints.
 */
#ifndef GOTRACE_PROBE_COST_H
#define GOTRACE_PROBE_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/probe_class.h"

struct probe_cost {
	double call_ns;			/* one call of the test function, unprobed */
	double hit_ns[2];		/* extra per hit: [PROBE_EMULATED], [PROBE_SSTEP] */
	uint64_t hits[2];		/* hits timed for each */
	const char *insn[2];		/* the probed instructions, e.g. "jne" */
	bool multi;			/* attached with uprobe_multi links */
};

/*
 * Run the self-test, spending about budget_ms (at least 50) in the timed
 * loops: a quarter on the emulated site, the rest on the single-stepped
 * one.  -EOPNOTSUPP on an architecture without a test function.
 */
int probe_cost_measure(unsigned int budget_ms, struct probe_cost *out);

#endif /* GOTRACE_PROBE_COST_H */
