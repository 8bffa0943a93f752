/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared between bpf/states_agg.bpf.c and its readers in user space
 * (gotrace/states/agg_read.c; `gotrace top` and the goroutine groups build
 * on the same maps): goroutine states aggregated in BPF maps, no event per
 * transition.  Fixed-width fields only, 8-byte fields first.
 *
 * The maps (docs/states.md, "Aggregated mode"):
 *
 *   goroutines    hash goid -> struct sa_goroutine: per goroutine, its
 *                 identity (g address, start pc, go statement pc, parent
 *                 goid: from its creation, or read from its g the first
 *                 time a probe sees it), time and transitions per state,
 *                 waiting time per wait reason, its runnable -> running
 *                 latencies (count, sum, maximum, log2 histogram), and its
 *                 current state since when.  Times of the current state
 *                 are not in ns[] yet: a reader adds now - since_ns.  An
 *                 exited goroutine (SA_F_EXITED) stays until user space
 *                 reads it one last time and deletes it ("reaping":
 *                 nothing else ever removes an entry, so nothing is lost
 *                 unread).  Full map: the goroutine's transitions are
 *                 counted in SA_CNT_UNTRACKED and in the process-wide
 *                 histograms only.  User space may write entries before
 *                 the first transition (SA_F_SEEDED: the goroutines there
 *                 at attach, states/procread.h).
 *   pending       hash g address -> struct sa_pending: a creation whose
 *                 goid is not written yet (before Go 1.24,
 *                 gosym_go_facts().late_goid), until the g's next
 *                 transition gives it
 *   sched_hist    array of HIST_NB __u64: runnable -> running latency of
 *                 every goroutine (bpf/hist.h buckets)
 *   wait_hist     array of SA_MAX_REASONS * HIST_NB __u64: how long each
 *                 wait lasted, per wait reason (reasons from
 *                 SA_MAX_REASONS - 1 on share the last histogram)
 *   ghists        (rodata goroutine_hists: --group) hash struct sa_hkey
 *                 -> __u64: each goroutine's histograms, sparse (the
 *                 buckets it used): its runnable -> running latency, and
 *                 the length of its waits per wait reason, the sparse
 *                 histograms of states/model.h, so that groups of any key
 *                 (start function, creation site, a label known only at
 *                 the end) get exact distributions.  Entries of a reaped
 *                 goroutine are deleted with it.
 *   goids         --goid (bpf/agg.h)
 *   counters      (go_runtime.h) SA_CNT_*
 *
 * Only whole intervals go into histograms and maxima (both ends seen
 * while tracing), as in states/model.h: the state a goroutine was in when
 * tracing began (SA_F_SINCE_START) counts as time only.
 */
#ifndef GOTRACE_STATES_AGG_H
#define GOTRACE_STATES_AGG_H

#include "states.h"
#include "hist.h"

#define SA_NSTATES		16	/* ns[] and count[] by status (0..11 used) */
#define SA_WAIT_SLOTS		8	/* wait reasons kept per goroutine */
#define SA_MAX_REASONS		64	/* per-reason histograms (Go 1.27 has 47 reasons) */
#define SA_GOROUTINES_DEFAULT	65536	/* --max-goroutines */
#define SA_PENDING_MAX		16384
#define SA_GHISTS_MAX		(1 << 18)	/* ghists buckets held at once */

/* sa_hkey.kind_bucket: kind << SA_HIST_BUCKET_BITS | bucket (states/model.h
 * ST_HIST_*: kind 0 the scheduler latency, 1 + reason a wait's length) */
#define SA_HIST_BUCKET_BITS	10
#define SA_HIST_SCHED		0u
#define SA_HIST_WAIT(reason)	(1u + (reason))

/* sa_goroutine.flags */
#define SA_F_CREATED		0x1 /* its creation was seen while tracing */
#define SA_F_EXITED		0x2 /* -> dead seen: end_ns is set */
#define SA_F_NAMED		0x4 /* startpc, gopc, parent_goid are known */
#define SA_F_AT_START		0x8 /* alive when tracing began */
#define SA_F_SINCE_START	0x10 /* its current state began before tracing */
#define SA_F_SEEDED		0x20 /* written by user space from the attach
				      * snapshot, no transition seen yet */

/* Index in the `counters` per-CPU array. */
#define SA_CNT_TRANSITIONS	0 /* transitions accounted */
#define SA_CNT_NOGOID		1 /* goid unreadable: transition ignored */
#define SA_CNT_UNTRACKED	2 /* transitions of goroutines the map had no room for */
#define SA_CNT_PENDING_FULL	3 /* creations not held (their goroutine is then
				   * counted from its next transition, as if it had
				   * existed before tracing) */
#define SA_CNT_DUPLICATES	4 /* dropped: the syscall fast path's fallback */
#define SA_CNT_FAILED_CAS	5 /* dropped: casGFromPreempted's CAS may fail */
#define SA_CNT_CREATED		6 /* creations seen */
#define SA_CNT_EXITED		7 /* exits seen */
#define SA_CNT_WAIT_OTHER	8 /* waits of a reason past a goroutine's SA_WAIT_SLOTS */
#define SA_CNT_HIST_FULL	9 /* values not in a goroutine's histogram: ghists full */
#define SA_CNT_READFAIL		10 /* casgstatus's arguments unreadable (stack ABI) */
#define SA_CNT_MAX		11

/* One wait reason of one goroutine. */
struct sa_wait {
	__u64 ns;		/* time waiting with it */
	__u64 max_ns;		/* its longest whole wait */
	__u64 max_ts;		/* when that wait ended */
	__u32 count;		/* transitions into waiting with it */
	__u32 reason;		/* g.waitreason (the target's own numbering) */
};

struct sa_goroutine {
	__u64 gp;		/* runtime.g address (reused after exit) */
	__u64 startpc;		/* g.startpc: the go statement's target (run-time pc) */
	__u64 gopc;		/* g.gopc: the go statement (run-time pc) */
	__s64 parent_goid;	/* -1 if unknown */
	__u64 first_ns;		/* created, or first transition seen */
	__u64 since_ns;		/* the current state began */
	__u64 end_ns;		/* exited (SA_F_EXITED), else 0 */
	__u64 transitions;
	__u64 ns[SA_NSTATES];	/* time per state, current state not included */
	__u64 sched_max_ns;	/* longest runnable -> running */
	__u64 sched_max_ts;	/* when it ran after it */
	__u64 sched_sum_ns;	/* every runnable -> running, summed */
	__u64 labels;		/* g.labels at its creation or exit (rodata
				 * want_labels), else 0 */
	__u64 wait_other_ns;	/* waits of reasons past the slots */
	struct sa_wait waits[SA_WAIT_SLOTS];
	__u32 count[SA_NSTATES];	/* transitions into each state */
	__u32 sched_log2[HIST_LOG2_SLOTS];	/* its runnable -> running latencies */
	__u32 wait_other_count;
	__u32 flags;		/* SA_F_* */
	__u8 state;		/* current state (status, _Gscan stripped) */
	__u8 nwaits;		/* waits[] slots used */
	__u8 last_from, last_to;	/* the last transition (duplicate check) */
	__u32 reason;		/* wait reason of the current wait */
	__u32 start_reason;	/* SA_F_AT_START: its wait reason at t0 (0 unknown) */
	__u8 start_state;	/* SA_F_AT_START: its state at t0 */
	__u8 pad[3];
};

/* A creation held for its goid (late goid). */
struct sa_pending {
	__u64 ts_ns;
	__u64 startpc, gopc;
	__s64 parent_goid;
	__u64 labels;		/* g.labels (want_labels) */
	__u32 to;		/* dead -> runnable, or -> waiting (created parked) */
	__u32 reason;
};

/* A bucket of one goroutine's histograms (ghists). */
struct sa_hkey {
	__s64 goid;
	__u32 kind_bucket;
	__u32 pad;
};

#endif /* GOTRACE_STATES_AGG_H */
