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
 * until the g's next transition.
 */
#include "vmlinux.h"
#include "go_runtime.h"
#include "states_agg.h"
#include "states_probe.h"

_Static_assert(SA_CNT_MAX <= GR_NR_COUNTERS, "counters map too small");

/* Set by user space before load (from gosym and the options). */
const volatile bool late_goid = true;		/* gosym_go_facts().late_goid */
const volatile bool goid_filter = false;	/* --goid */
const volatile __u32 group_by = SA_GROUP_NONE;

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
	__uint(max_entries, SA_GROUPS_MAX);
	__type(key, __u64);
	__type(value, struct sa_group);
} group_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __s64);
	__type(value, __u8);
} goids SEC(".maps");

/* Where a new goroutine entry is built (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_goroutine);
} scratch SEC(".maps");

static struct sa_group zero_group;

/* The run-time address of the runtime.casgstatus probe, set by its first
 * hit: user space's load bias (PIE) for naming start functions. */
__u64 casg_ip = 0;

#define E_EXIST 17	/* EEXIST: no errno.h in BPF */

static __always_inline void hist_add(void *map, __u32 key)
{
	__u64 *b = bpf_map_lookup_elem(map, &key);

	if (b)
		__sync_fetch_and_add(b, 1);
}

/* runnable -> running after d ns: the goroutine's, the process's and its
 * group's latency. */
static __always_inline void sched_latency(struct sa_goroutine *r, __u64 d)
{
	__u32 s = hist_log2_slot(d);
	__u64 key;
	struct sa_group *g;

	if (s < HIST_LOG2_SLOTS)
		r->sched_log2[s]++;
	if (d > r->sched_max_ns)
		r->sched_max_ns = d;
	hist_add(&sched_hist, hist_bucket(d));
	if (group_by == SA_GROUP_NONE)
		return;
	key = group_by == SA_GROUP_GOPC ? r->gopc : r->startpc;
	g = bpf_map_lookup_elem(&group_hist, &key);
	if (!g) {
		long err = bpf_map_update_elem(&group_hist, &key, &zero_group, BPF_NOEXIST);

		if (err && err != -E_EXIST) {
			gr_count(SA_CNT_GROUPS_FULL);
			return;
		}
		g = bpf_map_lookup_elem(&group_hist, &key);
	}
	if (g) {
		__u32 b = hist_bucket(d);

		if (b < HIST_NB)
			__sync_fetch_and_add(&g->hist[b], 1);
	}
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

/* A wait of d ns for r->reason ended. */
static __always_inline void wait_ended(struct sa_goroutine *r, __u64 d)
{
	struct sa_wait *w = wait_slot(r, r->reason);
	__u32 reason = r->reason < SA_MAX_REASONS ? r->reason : SA_MAX_REASONS - 1;

	if (w) {
		w->ns += d;
		if (d > w->max_ns)
			w->max_ns = d;
	} else {
		r->wait_other_ns += d;
	}
	hist_add(&wait_hist, reason * HIST_NB + hist_bucket(d));
}

/* One transition of a goroutine already known (model.c's apply()). */
static __always_inline void apply(struct sa_goroutine *r, __u32 from, __u32 to, __u32 reason,
				  __u64 ts, __u32 flags)
{
	__u64 d = ts > r->since_ns ? ts - r->since_ns : 0;
	__u32 st = r->state;

	if ((flags & STATES_F_MAYFAIL) && st != STATES_G_PREEMPTED) {
		gr_count(SA_CNT_FAILED_CAS);
		return;
	}
	if (r->transitions && st == to && r->last_from == from && r->last_to == to) {
		gr_count(SA_CNT_DUPLICATES);
		return;
	}
	r->ns[st & (SA_NSTATES - 1)] += d;
	if (st == STATES_G_WAITING)
		wait_ended(r, d);
	else if (st == STATES_G_RUNNABLE && to == STATES_G_RUNNING)
		sched_latency(r, d);
	r->state = to;
	r->since_ns = ts;
	r->last_from = from;
	r->last_to = to;
	r->transitions++;
	r->count[to & (SA_NSTATES - 1)]++;
	if (to == STATES_G_WAITING) {
		struct sa_wait *w = wait_slot(r, reason);

		r->reason = reason;
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
		gr_count(SA_CNT_EXITED);
	}
	gr_count(SA_CNT_TRANSITIONS);
}

/* A new entry for goid: from its held creation p, or, seen for the first
 * time, named from its g.  Its first state is the creation's (then the
 * caller applies the transition at hand) or the transition's own. */
static __always_inline struct sa_goroutine *new_goroutine(__s64 goid, __u64 gp, __u64 reg_g,
							  const struct sa_pending *p, __u32 from,
							  __u32 to, __u32 reason, __u64 ts)
{
	__u32 zero = 0;
	struct sa_goroutine *r = bpf_map_lookup_elem(&scratch, &zero);
	long err;

	if (!r)
		return NULL;
	__builtin_memset(r, 0, sizeof(*r));
	r->gp = gp;
	r->flags = SA_F_NAMED;
	if (p) {
		r->startpc = p->startpc;
		r->gopc = p->gopc;
		r->parent_goid = p->parent_goid;
		r->flags |= SA_F_CREATED;
		from = STATES_G_DEAD;
		to = p->to;
		reason = p->reason;
		ts = p->ts_ns;
	} else {
		r->startpc = gr_read_ptr(gp, off_startpc);
		r->gopc = gr_read_ptr(gp, off_gopc);
		r->parent_goid = off_parentgoid >= 0 ? (__s64)gr_read_ptr(gp, off_parentgoid) : -1;
		if (from == STATES_G_DEAD) {
			/* a creation with its goid (Go 1.24+) */
			r->flags |= SA_F_CREATED;
			if (off_parentgoid < 0)
				r->parent_goid = gr_goid(gr_curg(gr_current_g(reg_g, !regabi)));
		}
	}
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
	err = bpf_map_update_elem(&goroutines, &goid, r, BPF_NOEXIST);
	if (err && err != -E_EXIST) {
		gr_count(SA_CNT_UNTRACKED);
		return NULL;
	}
	if (r->flags & SA_F_CREATED)
		gr_count(SA_CNT_CREATED);
	gr_count(SA_CNT_TRANSITIONS);
	return bpf_map_lookup_elem(&goroutines, &goid);
}

/* A creation before its goid is written: held by g address. */
static __always_inline void hold_creation(__u64 gp, __u64 reg_g, __u32 to, __u32 reason, __u64 ts)
{
	struct sa_pending p = {
		.ts_ns = ts,
		.startpc = gr_read_ptr(gp, off_startpc),
		.gopc = gr_read_ptr(gp, off_gopc),
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
	if (goid_filter && !bpf_map_lookup_elem(&goids, &goid)) {
		if (late_goid)
			bpf_map_delete_elem(&pending, &gp);
		return 0;
	}
	r = bpf_map_lookup_elem(&goroutines, &goid);
	if (!r) {
		/* first seen: created (its creation held), or older than the trace */
		if (late_goid)
			p = bpf_map_lookup_elem(&pending, &gp);
		r = new_goroutine(goid, gp, reg_g, p, from, to, reason, ts);
		if (p)
			bpf_map_delete_elem(&pending, &gp);
		if (!r || !p)
			return 0;	/* its state from now on */
	}
	apply(r, from, to, reason, ts, flags);
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
