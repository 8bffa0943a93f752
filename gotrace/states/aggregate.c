// SPDX-License-Identifier: MIT
/*
 * gotrace states --aggregate: load, attach, interval reports, the end's
 * sections.  See states/aggregate.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gotrace.h"
#include "goruntime/allgs.h"
#include "probes/uprobe_multi.h"
#include "states/agg_output.h"
#include "states/agg_read.h"
#include "states/aggregate.h"
#include "states/output.h"
#include "tracing/session.h"
#include "bpf/states_agg.skel.h"

#define POLL_MS 100

struct agg_run {
	const struct st_agg_opts *o;
	struct gt_session *s;
	struct st_probes *p;
	struct sa_reader *rd;
	struct st_out out;
};

/* The target's runtime offsets and the options, as the programs read them. */
static void set_rodata(struct states_agg_bpf *skel, const struct gt_session *s,
		       const struct st_probes *p, const struct st_agg_opts *o)
{
	/* no ring buffer: every record stays in the maps */
	GT_SESSION_RUNTIME_RODATA(skel->rodata, s, 0);
	skel->rodata->regabi = p->regabi;
	skel->rodata->off_waitreason = s->ro.g_waitreason;
	skel->rodata->off_startpc = s->ro.g_startpc;
	skel->rodata->off_gopc = s->ro.g_gopc;
	skel->rodata->off_parentgoid = s->ro.g_parentgoid;
	skel->rodata->off_labels = s->ro.g_labels;
	skel->rodata->late_goid = o->late_goid;
	skel->rodata->goid_filter = o->ngoids > 0;
	skel->rodata->goroutine_hists = o->groups != NULL;
	skel->rodata->want_labels = o->groups && o->groups->by == ST_GROUP_LABEL;
}

/* The programs for uprobe_multi links or for single uprobes. */
static int choose_programs(struct states_agg_bpf *skel, struct st_probes *p, bool multi)
{
	int err;

	bpf_program__set_autoload(skel->progs.sa_transition, !multi);
	bpf_program__set_autoload(skel->progs.sa_syscall_fast, !multi);
	bpf_program__set_autoload(skel->progs.sa_transition_m, multi);
	err = bpf_program__set_autoload(skel->progs.sa_syscall_fast_m, multi);
	p->trans = multi ? skel->progs.sa_transition_m : skel->progs.sa_transition;
	p->sys = multi ? skel->progs.sa_syscall_fast_m : skel->progs.sa_syscall_fast;
	if (!err && multi)
		err = uprobes_prepare_multi(p->trans);
	if (!err && multi)
		err = uprobes_prepare_multi(p->sys);
	return err;
}

int st_agg_load(struct st_probes *p, struct gt_session *s, const struct st_agg_opts *o,
		bool multi)
{
	struct states_agg_bpf *skel;
	int err;

	states_agg_bpf__destroy(p->agg);
	p->agg = skel = states_agg_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	set_rodata(skel, s, p, o);
	err = bpf_map__set_autocreate(skel->maps.events, false);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.goroutines, o->max_goroutines);
	/* without --group the goroutines' histograms are not kept */
	if (!err && !o->groups)
		err = bpf_map__set_max_entries(skel->maps.ghists, 1);
	if (!err)
		err = choose_programs(skel, p, multi);
	if (!err)
		err = states_agg_bpf__load(skel);
	for (size_t i = 0; !err && i < o->ngoids; i++) {
		uint8_t one = 1;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.goids), &o->goids[i], &one,
					BPF_ANY))
			err = -errno;
	}
	if (err) {
		states_agg_bpf__destroy(skel);
		p->agg = NULL;
	}
	return err;
}

/* gt_session_load()'s callback. */
static int load(void *ctx, struct gt_session *s, bool multi)
{
	struct agg_run *a = ctx;

	return st_agg_load(a->p, s, a->o, multi);
}

/* The maps at now (the resolver needs casgstatus's run-time address,
 * which the first hit records). */
static int read_maps(struct agg_run *a, uint64_t now)
{
	int err;

	sa_reader_set_probe_ip(a->rd, a->p->agg->bss->casg_ip);
	err = sa_reader_update(a->rd, now);
	return err ? gt_error("states: reading the BPF maps: %s", strerror(-err)) : 0;
}

/* One interval's report.  0, or 1 after a failure (reported). */
static int report_interval(struct agg_run *a, uint64_t now)
{
	struct sa_interval iv;

	if (read_maps(a, now) || sa_reader_interval(a->rd, &iv))
		return 1;
	/* a failed write is the session's to report (the output is watched) */
	return sa_out_interval(&a->out, a->o->out, &iv, now - a->s->t0_ns) ? 1 : 0;
}

static int tick(void *ctx, uint64_t now)
{
	return report_interval(ctx, now);
}

/* What BPF could not account, as warnings. */
static void warn_counters(const struct sa_counts *c)
{
	const uint64_t *v = c->v;

	if (v[SA_CNT_UNTRACKED])
		gt_warn("%" PRIu64 " transitions of goroutines past --max-goroutines are in the "
			"process-wide histograms only", v[SA_CNT_UNTRACKED]);
	if (v[SA_CNT_PENDING_FULL])
		gt_warn("%" PRIu64 " goroutine creations not held: those goroutines are counted "
			"from their next transition", v[SA_CNT_PENDING_FULL]);
	if (v[SA_CNT_HIST_FULL])
		gt_warn("%" PRIu64 " latencies are not in their goroutine's histogram (the map of "
			"them was full): the groups' distributions undercount", v[SA_CNT_HIST_FULL]);
	if (v[SA_CNT_NOGOID] || v[SA_CNT_READFAIL])
		gt_warn("%" PRIu64 " transitions without a readable goroutine were skipped",
			v[SA_CNT_NOGOID] + v[SA_CNT_READFAIL]);
}

/* --group: the goroutines as states --group groups them (the labels of
 * those still alive read now, as states does).  0 or 1. */
static int report_groups(struct agg_run *a, struct st_goroutine **all, size_t n)
{
	const struct st_agg_opts *o = a->o;
	struct st_groups_opts go = *o->groups;

	go.t0_ns = a->s->t0_ns;
	if (o->proc && !a->s->target_gone && o->groups->by == ST_GROUP_LABEL)
		st_procread_labels_alive(o->proc, all, n);
	if (!o->no_summary && !o->jsonl)
		fputc('\n', o->out);
	if (st_out_groups_report(&a->out, o->out, o->csv, &go, all, n, o->sort,
				 (size_t)o->top, o->no_summary))
		return gt_error("states: out of memory");
	return 0;
}

/* The per-goroutine summary, CSV and the latency sections. */
static void report_goroutines(struct agg_run *a, struct st_goroutine **all, size_t n)
{
	const struct st_agg_opts *o = a->o;

	if (!o->no_summary || o->csv)
		st_sort_goroutines(all, n, o->sort);
	if (!o->no_summary && o->jsonl)
		st_out_summary_jsonl(&a->out, o->out, all, n, o->top);
	else if (!o->no_summary)
		st_out_summary_text(&a->out, o->out, all, n, o->top);
	if (o->csv)
		st_out_summary_csv(&a->out, o->csv, all, n, o->top);
	if (!o->no_summary)
		sa_out_latency(&a->out, o->out, a->rd);
}

/* After the detach: the last interval, the summary or the groups, the
 * stats.  0 or 1. */
static int report_end(struct agg_run *a)
{
	const struct st_agg_opts *o = a->o;
	int cfd = bpf_map__fd(a->p->agg->maps.counters);
	struct st_goroutine **all;
	struct sa_counts c;
	int ret = 0;
	size_t n;

	if (o->interval_ns ? report_interval(a, a->s->end_ns) : read_maps(a, a->s->end_ns))
		return 1;
	for (uint32_t i = 0; i < SA_CNT_MAX; i++)
		c.v[i] = gt_bpf_counter_sum(cfd, i);
	/* the live goroutines' states end at the end, as the event model's */
	sa_reader_finish(a->rd);
	all = sa_reader_summaries(a->rd, &n);
	if (!all)
		return gt_error("states: out of memory");
	if (o->groups)
		ret = report_groups(a, all, n);
	else
		report_goroutines(a, all, n);
	free(all);
	sa_out_stats(&a->out, o->out, a->s->end_ns - a->s->t0_ns, &c, a->rd);
	gt_progress("%" PRIu64 " transitions, %zu goroutines (aggregated in BPF)",
		    c.v[SA_CNT_TRANSITIONS], n);
	warn_counters(&c);
	return ret;
}

static int seed_one(void *ctx, const struct st_seed *s)
{
	struct agg_run *a = ctx;

	return sa_reader_seed(a->rd, bpf_map__fd(a->p->agg->maps.goroutines), s, a->s->t0_ns);
}

/* -p: the goroutines already there, from the runtime's own list, written
 * into the map at t0 unless a probe saw them first (then a goroutine's
 * first transition corrects what the snapshot saw, in BPF). */
static void seed(struct agg_run *a)
{
	struct st_seed_stats st;
	int err = st_procread_seed(a->o->proc, seed_one, a, a->o->res, a->o->casg_entry, &st);

	if (err) {
		gt_warn("cannot read the goroutines of pid %d (%s): those that do not change "
			"state while traced are left out, the others named from their g",
			(int)a->s->target.pid, err == -ENOMEM ? strerror(ENOMEM) : gr_errmsg());
		return;
	}
	gt_progress("%" PRIu64 " goroutines there at attach (read in %.1f ms%s)", st.seeded,
		    (double)st.read_ns / 1e6, st.skipped ? ", some changing: left to their events" : "");
}

static void started(void *ctx)
{
	struct agg_run *a = ctx;

	a->out.t0_ns = a->s->t0_ns;
	/* the goroutines there before are accounted from t0 */
	a->p->agg->bss->t0_ns = a->s->t0_ns;
	if (a->o->seed && a->o->proc)
		seed(a);
	/* the first interval starts at t0 (a failure shows at the next read) */
	sa_reader_update(a->rd, a->s->t0_ns);
}

int st_aggregate(struct gt_session *s, struct st_probes *p, const struct st_agg_opts *o)
{
	struct agg_run a = { .o = o, .s = s, .p = p };
	struct sa_reader_opts ro = { .ghists_fd = -1, .resolve = st_resolver_resolve,
				     .resolve_ctx = o->res };
	int ret;

	a.out = (struct st_out){ .jsonl = o->jsonl, .reasons = o->reasons,
				 .nreasons = o->nreasons, .goids = o->goids, .ngoids = o->ngoids };
	if (gt_session_load(s, load, &a))
		return 1;
	ro.goroutines_fd = bpf_map__fd(p->agg->maps.goroutines);
	ro.sched_fd = bpf_map__fd(p->agg->maps.sched_hist);
	ro.wait_fd = bpf_map__fd(p->agg->maps.wait_hist);
	if (o->groups)
		ro.ghists_fd = bpf_map__fd(p->agg->maps.ghists);
	if (o->proc) {
		ro.labels = st_procread_labels;
		ro.labels_ctx = o->proc;
	}
	if (sa_reader_new(&ro, &a.rd))
		return gt_error("states: out of memory");
	ret = gt_session_attach(s, st_probes_attach, p);
	if (!ret) {
		ret = gt_session_run_ticks(s, started, tick, &a, o->interval_ns, POLL_MS);
		ret |= report_end(&a);
	}
	sa_reader_free(a.rd);
	return ret;
}
