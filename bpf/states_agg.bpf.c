// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Goroutine states aggregated in BPF maps (gotrace states --aggregate):
 * the probes of bpf/states.bpf.c (runtime.casgstatus, the CAS helpers
 * that bypass it, the Go 1.26+ syscall fast path; docs/go-runtime.md),
 * but instead of a ring buffer record per transition, each transition
 * updates its goroutine's entry in a hash map and the latency histograms
 * (bpf/states_agg.h describes the maps).  User space reads the maps at
 * intervals.
 *
 * The accounting is user space's (gotrace/states/model.c), done here:
 * time in the state being left goes to that state (and, for waiting, to
 * the wait reason); casGFromPreempted counts only when the goroutine is
 * preempted; a transition equal to the goroutine's previous one into the
 * state it is in is the syscall fast path's fallback, dropped; a creation
 * whose goid is written after it (before Go 1.24) is held per g address
 * until the g's next transition; a goroutine first seen by a transition
 * that is not its creation existed when tracing began, in the state that
 * transition leaves (since t0_ns), unless user space seeded it from the
 * attach snapshot first; only whole intervals go into histograms.
 */
#include "vmlinux.h"
#include "go_runtime.h"
#include "states_agg.h"
#include "states_probe.h"
#include "agg.h"

_Static_assert(SA_CNT_MAX <= GR_NR_COUNTERS, "counters map too small");

/* Set by user space before load (from gosym and the options). */
const volatile bool late_goid = true;		/* gosym_go_facts().late_goid */
const volatile bool goroutine_hists = false;	/* --group: fill ghists */
const volatile bool want_labels = false;	/* --group-by label: keep g.labels */

/* Set by user space when tracing begins (its t0, CLOCK_MONOTONIC): the
 * goroutines there before are accounted from it.  0 until then. */
__u64 t0_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_GOROUTINES_DEFAULT);
	__type(key, __s64);
	__type(value, struct sa_goroutine);
} goroutines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SA_PENDING_MAX);
	__type(key, __u64);
	__type(value, struct sa_pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HIST_NB);
	__type(key, __u32);
	__type(value, __u64);
} sched_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SA_MAX_REASONS * HIST_NB);
	__type(key, __u32);
	__type(value, __u64);
} wait_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SA_GHISTS_MAX);
	__type(key, struct sa_hkey);
	__type(value, __u64);
} ghists SEC(".maps");

/* Where a new goroutine entry is built (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_goroutine);
} scratch SEC(".maps");

/* The run-time address of the runtime.casgstatus probe, set by its first
 * hit: user space's load bias (PIE) for naming start functions. */
__u64 casg_ip = 0;

/* One value of a goroutine's histogram of kind (SA_HIST_*). */
static __always_inline void goroutine_hist(__s64 goid, __u32 kind, __u64 d)
{
	struct sa_hkey k = { .goid = goid,
			     .kind_bucket = kind << SA_HIST_BUCKET_BITS | hist_bucket(d) };

	if (goroutine_hists && !agg_hash_add(&ghists, &k, 1))
		gr_count(SA_CNT_HIST_FULL);
}

/* A whole runnable -> running interval of d ns ended at ts: the
 * goroutine's and the process's latency. */
static __always_inline void sched_latency(__s64 goid, struct sa_goroutine *r, __u64 d, __u64 ts)
{
	__u32 s = hist_log2_slot(d);

	if (s < HIST_LOG2_SLOTS)
		r->sched_log2[s]++;
	r->sched_sum_ns += d;
	if (d >= r->sched_max_ns) {
		r->sched_max_ns = d;
		r->sched_max_ts = ts;
	}
	agg_array_inc(&sched_hist, hist_bucket(d));
	goroutine_hist(goid, SA_HIST_SCHED, d);
}

/* The slot of wait reason `reason` in r->waits, claimed if new; NULL when
 * all are taken by other reasons. */
static __always_inline struct sa_wait *wait_slot(struct sa_goroutine *r, __u32 reason)
{
	for (int i = 0; i < SA_WAIT_SLOTS; i++) {
		if (i == r->nwaits) {
			r->nwaits++;
			r->waits[i].reason = reason;
			return &r->waits[i];
		}
		if (r->waits[i].reason == reason)
			return &r->waits[i];
	}
	return NULL;
}

/* A wait of d ns for r->reason ended at ts (whole: both ends seen). */
static __always_inline void wait_ended(__s64 goid, struct sa_goroutine *r, __u64 d, __u64 ts,
				       bool whole)
{
	struct sa_wait *w = wait_slot(r, r->reason);
	__u32 reason = r->reason < SA_MAX_REASONS ? r->reason : SA_MAX_REASONS - 1;

	if (w) {
		w->ns += d;
		if (whole && d >= w->max_ns) {
			w->max_ns = d;
			w->max_ts = ts;
		}
	} else {
		r->wait_other_ns += d;
	}
	if (!whole)
		return;
	agg_array_inc(&wait_hist, reason * HIST_NB + hist_bucket(d));
	goroutine_hist(goid, SA_HIST_WAIT(r->reason & 0xff), d);
}

/* The first transition of a goroutine seeded from the attach snapshot:
 * it existed at t0 in the state this transition leaves (the snapshot,
 * read a little after t0, may have seen a later one: the transition is
 * the truth; the wait reason only the snapshot knows). */
static __always_inline void seed_corrected(struct sa_goroutine *r, __u32 from)
{
	r->flags &= ~SA_F_SEEDED;
	if (from == STATES_G_DEAD || from == STATES_G_IDLE || from == STATES_G_DEADEXTRA)
		return;
	if (r->state != from || from != STATES_G_WAITING)
		r->reason = r->start_reason = 0;
	r->state = r->start_state = from;
}

/* One transition of a goroutine already known (model.c's apply()). */
static __always_inline void apply(__s64 goid, struct sa_goroutine *r, __u32 from, __u32 to,
				  __u32 reason, __u64 ts, __u32 flags)
{
	__u64 d = ts > r->since_ns ? ts - r->since_ns : 0;
	bool whole = !(r->flags & SA_F_SINCE_START);
	__u32 st;

	if ((flags & STATES_F_MAYFAIL) && r->state != STATES_G_PREEMPTED) {
		gr_count(SA_CNT_FAILED_CAS);
		return;
	}
	if (r->transitions && r->state == to && r->last_from == from && r->last_to == to) {
		gr_count(SA_CNT_DUPLICATES);
		return;
	}
	if (r->flags & SA_F_SEEDED)
		seed_corrected(r, from);
	st = r->state;
	r->ns[st & (SA_NSTATES - 1)] += d;
	if (st == STATES_G_WAITING)
		wait_ended(goid, r, d, ts, whole);
	else if (st == STATES_G_RUNNABLE && to == STATES_G_RUNNING && whole)
		sched_latency(goid, r, d, ts);
	r->flags &= ~SA_F_SINCE_START;
	r->state = to;
	r->since_ns = ts;
	r->last_from = from;
	r->last_to = to;
	r->transitions++;
	r->count[to & (SA_NSTATES - 1)]++;
	r->reason = to == STATES_G_WAITING ? reason : 0;
	if (to == STATES_G_WAITING) {
		struct sa_wait *w = wait_slot(r, reason);

		if (w) {
			w->count++;
		} else {
			r->wait_other_count++;
			gr_count(SA_CNT_WAIT_OTHER);
		}
	}
	if (to == STATES_G_DEAD) {
		r->end_ns = ts;
		r->flags |= SA_F_EXITED;
		if (want_labels && off_labels >= 0)
			r->labels = gr_read_ptr(r->gp, off_labels);
		gr_count(SA_CNT_EXITED);
	}
	gr_count(SA_CNT_TRANSITIONS);
}

/* g.labels when the options keep them. */
static __always_inline __u64 labels_of(__u64 gp)
{
	return want_labels && off_labels >= 0 ? gr_read_ptr(gp, off_labels) : 0;
}

/* A new entry for goid (replace: over a seed the snapshot wrote, which
 * saw the goroutine just after its creation).  A creation (p: held; or
 * dead -> runnable/waiting with its goid, Go 1.24+) starts in the
 * creation's state; any other first transition from a live state finds a
 * goroutine that existed when tracing began, in the state the transition
 * leaves since t0 (model.c's first_seen()).  *done: the transition at
 * hand is accounted (else the caller applies it).  NULL when full. */
static __always_inline struct sa_goroutine *new_goroutine(__s64 goid, __u64 gp, __u64 reg_g,
							  const struct sa_pending *p, __u32 from,
							  __u32 to, __u32 reason, __u64 ts,
							  bool replace, bool *done)
{
	__u32 zero = 0;
	struct sa_goroutine *r = bpf_map_lookup_elem(&scratch, &zero);
	bool created = p || is_creation(from, to), born;
	long err;

	*done = false;
	if (!r)
		return NULL;
	__builtin_memset(r, 0, sizeof(*r));
	r->gp = gp;
	r->flags = SA_F_NAMED;
	if (p) {
		r->startpc = p->startpc;
		r->gopc = p->gopc;
		r->parent_goid = p->parent_goid;
		r->labels = p->labels;
		from = STATES_G_DEAD;
		to = p->to;
		reason = p->reason;
		ts = p->ts_ns;
	} else {
		r->startpc = gr_read_ptr(gp, off_startpc);
		r->gopc = gr_read_ptr(gp, off_gopc);
		r->parent_goid = off_parentgoid >= 0 ? (__s64)gr_read_ptr(gp, off_parentgoid) : -1;
		if (created && off_parentgoid < 0)
			r->parent_goid = gr_goid(gr_curg(gr_current_g(reg_g, !regabi)));
		if (created)
			r->labels = labels_of(gp);
	}
	born = created || from == STATES_G_DEAD || from == STATES_G_IDLE ||
	       from == STATES_G_DEADEXTRA;
	if (born) {
		if (created)
			r->flags |= SA_F_CREATED;
		r->first_ns = r->since_ns = ts;
		r->state = to;
		r->last_from = from;
		r->last_to = to;
		r->transitions = 1;
		r->count[to & (SA_NSTATES - 1)] = 1;
		if (to == STATES_G_WAITING) {
			r->reason = reason;
			r->nwaits = 1;
			r->waits[0].reason = reason;
			r->waits[0].count = 1;
		}
		if (to == STATES_G_DEAD) {
			r->end_ns = ts;
			r->flags |= SA_F_EXITED;
		}
	} else {
		__u64 t0 = t0_ns;

		r->flags |= SA_F_AT_START | SA_F_SINCE_START;
		r->first_ns = r->since_ns = t0 && t0 <= ts ? t0 : ts;
		r->state = r->start_state = from;
	}
	err = bpf_map_update_elem(&goroutines, &goid, r, replace ? BPF_ANY : BPF_NOEXIST);
	if (err && err != -E_EXIST) {
		gr_count(SA_CNT_UNTRACKED);
		return NULL;
	}
	if (born)
		gr_count(SA_CNT_TRANSITIONS);	/* the creation (or birth) held in the entry */
	*done = born && !p;
	if (created)
		gr_count(SA_CNT_CREATED);
	return bpf_map_lookup_elem(&goroutines, &goid);
}

/* A creation before its goid is written: held by g address. */
static __always_inline void hold_creation(__u64 gp, __u64 reg_g, __u32 to, __u32 reason, __u64 ts)
{
	struct sa_pending p = {
		.ts_ns = ts,
		.startpc = gr_read_ptr(gp, off_startpc),
		.gopc = gr_read_ptr(gp, off_gopc),
		.labels = labels_of(gp),
		.to = to,
		.reason = reason,
	};

	p.parent_goid = off_parentgoid >= 0 ? (__s64)gr_read_ptr(gp, off_parentgoid) :
			gr_goid(gr_curg(gr_current_g(reg_g, !regabi)));
	if (bpf_map_update_elem(&pending, &gp, &p, BPF_ANY))
		gr_count(SA_CNT_PENDING_FULL);
}

static __always_inline int transition(__u64 reg_g, __u64 gp, __u32 raw_from, __u32 raw_to,
				      __u32 flags)
{
	__u32 from = raw_from & ~STATES_G_SCAN, to = raw_to & ~STATES_G_SCAN, reason;
	struct sa_pending *p = NULL;
	struct sa_goroutine *r;
	bool done;
	__u64 ts;
	__s64 goid;

	if (!gr_in_target(bpf_get_current_pid_tgid()))
		return 0;
	ts = bpf_ktime_get_ns();
	goid = g_fields(gp, raw_from, raw_to, &reason);
	if (goid < 0) {
		gr_count(SA_CNT_NOGOID);
		return 0;
	}
	if (is_creation(from, to) && late_goid) {
		hold_creation(gp, reg_g, to, reason, ts);
		return 0;
	}
	/* goid 0: g0-like, or a fresh g not numbered yet */
	if (!goid)
		return 0;
	if (!agg_want_goid(goid)) {
		if (late_goid)
			bpf_map_delete_elem(&pending, &gp);
		return 0;
	}
	r = bpf_map_lookup_elem(&goroutines, &goid);
	if (!r || (r->flags & SA_F_SEEDED)) {
		/* first seen: created (its creation held), or older than the
		 * trace (maybe seeded: then a creation replaces the seed) */
		if (late_goid)
			p = bpf_map_lookup_elem(&pending, &gp);
		if (!r || p || is_creation(from, to)) {
			r = new_goroutine(goid, gp, reg_g, p, from, to, reason, ts, r != NULL, &done);
			if (p)
				bpf_map_delete_elem(&pending, &gp);
			if (!r || done)
				return 0;
		}
	}
	apply(goid, r, from, to, reason, ts, flags);
	return 0;
}

/* casgstatus(gp, oldval, newval) and the CAS helpers (the cookie: flags). */
static __always_inline int on_cas(struct pt_regs *ctx)
{
	/* Read every register first (go_runtime.h, Registers). */
	__u64 a0 = GR_REG_ARG(ctx, 0), a1 = GR_REG_ARG(ctx, 1), a2 = GR_REG_ARG(ctx, 2);
	__u64 reg_g = GR_REG_G(ctx), sp = PT_REGS_SP(ctx), ip = PT_REGS_IP(ctx);
	__u32 from, to, flags = (__u32)bpf_get_attach_cookie(ctx);
	__u64 gp;

	if (flags == STATES_COOKIE_CASGSTATUS && !casg_ip)
		casg_ip = ip;
	if (st_cas_args(a0, a1, a2, sp, &gp, &from, &to)) {
		gr_count(SA_CNT_READFAIL);
		return 0;
	}
	return transition(reg_g, gp, from, to, flags);
}

/* Go 1.26+ reentersyscall / exitsyscall: gp is the current g, the cookie
 * is from << 16 | to (states.h). */
static __always_inline int on_syscall(struct pt_regs *ctx)
{
	__u64 reg_g = GR_REG_G(ctx);
	__u64 cookie = bpf_get_attach_cookie(ctx);

	return transition(reg_g, gr_current_g(reg_g, !regabi), (__u32)(cookie >> 16),
			  (__u32)(cookie & 0xffff), STATES_F_SYNTH);
}

/* Each program twice: for uprobe_multi links (_m, loaded with that
 * expected attach type) and for perf-event uprobes. */
SEC("uprobe")
int sa_transition(struct pt_regs *ctx)
{
	return on_cas(ctx);
}

SEC("uprobe")
int sa_transition_m(struct pt_regs *ctx)
{
	return on_cas(ctx);
}

SEC("uprobe")
int sa_syscall_fast(struct pt_regs *ctx)
{
	return on_syscall(ctx);
}

SEC("uprobe")
int sa_syscall_fast_m(struct pt_regs *ctx)
{
	return on_syscall(ctx);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
