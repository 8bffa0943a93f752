// SPDX-License-Identifier: MIT
/*
 * top_source_states (top/source.h): every transition from the states
 * probes into the states model, and the goroutine list read at each
 * sample for the goroutines the probes have not seen move.
 *
 * Per goroutine the cumulative times are:
 *   - created while traced: the model's (from its creation);
 *   - existed before and never moved since: the whole time since the
 *     source began, in the state the goroutine list shows;
 *   - existed before and moved since: the time before its first
 *     transition in the state the goroutine list showed last, then the
 *     model's.
 * So a goroutine's time is accounted from the start of the source to now
 * whichever way it is known.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "gosym.h"
#include "gotrace.h"
#include "goruntime/allgs.h"
#include "goruntime/traceback.h"
#include "states/agg_read.h"
#include "states/aggregate.h"
#include "states/model.h"
#include "states/probes.h"
#include "states/resolve.h"
#include "top/source.h"
#include "tracing/clock.h"
#include "tracing/session.h"
#include "bpf/states.skel.h"
#include "bpf/states_agg.skel.h"

/* What the source knows of a goroutine besides the model's record. */
struct rec {
	int64_t goid, parent;
	const char *start, *created;
	struct st_goroutine *mg;	/* the model's, once it saw a transition */
	uint64_t seen_ns;		/* accounted from (goroutines the list showed) */
	uint64_t snap_gen;		/* the last sample whose list showed it */
	uint32_t snap_reason;
	uint8_t snap_cls;		/* its state in the list before the model saw it */
	uint8_t flags;			/* TOP_G_* */
	bool named, told;		/* told: its exit was reported */
};

struct ssrc {
	struct top_source base;
	struct gt_session s;
	struct st_probes probes;
	/* the records: the in-kernel aggregation's reader (agg), or the
	 * states model fed by the ring buffer */
	bool agg;
	struct st_agg_opts ao;
	struct sa_reader *rd;
	struct st_model *model;
	struct st_resolver res;
	bool res_init;
	struct gr_target *gt;
	struct gr_tb *tb;
	uint64_t casg_rt;		/* casgstatus's probe, run-time (resolver bias) */
	uint64_t t0;
	uint64_t gen;			/* samples taken */
	struct rec *r;
	size_t nr, capr;
	uint32_t *h;			/* goid -> index + 1, open addressing */
	size_t hcap;
	struct top_gsample *g;
	size_t capg;
	struct top_sample smp;
};

/* ---- goroutine records by goid ---- */

static size_t goid_slot(const struct ssrc *x, int64_t goid)
{
	size_t k = ((uint64_t)goid * 0x9E3779B97F4A7C15ULL >> 20) & (x->hcap - 1);

	while (x->h[k] && x->r[x->h[k] - 1].goid != goid)
		k = (k + 1) & (x->hcap - 1);
	return k;
}

static int grow(struct ssrc *x)
{
	size_t cap = x->hcap ? x->hcap * 2 : 1024;
	uint32_t *h = calloc(cap, sizeof(*h));
	struct rec *r;

	if (!h)
		return -ENOMEM;
	free(x->h);
	x->h = h;
	x->hcap = cap;
	for (size_t i = 0; i < x->nr; i++)
		x->h[goid_slot(x, x->r[i].goid)] = (uint32_t)i + 1;
	if (!(r = realloc(x->r, cap / 2 * sizeof(*r))))
		return -ENOMEM;
	x->r = r;
	x->capr = cap / 2;
	return 0;
}

static struct rec *rec_get(struct ssrc *x, int64_t goid)
{
	size_t k;

	if (x->nr + 1 > x->hcap / 2 && grow(x))
		return NULL;
	k = goid_slot(x, goid);
	if (!x->h[k]) {
		x->r[x->nr] = (struct rec){ .goid = goid, .parent = -1, .snap_cls = TOP_DEAD };
		x->h[k] = (uint32_t)++x->nr;
	}
	return &x->r[x->h[k] - 1];
}

/* ---- the ring and the goroutine list ---- */

static int on_record(void *ctx, const void *data, size_t len)
{
	struct ssrc *x = ctx;
	struct states_event e;

	if (st_decode_record(data, len, &e))
		return 0;
	e.flags &= ~STATES_F_STACK;	/* no --stack here */
	st_model_feed(x->model, &e);
	return 0;
}

static int drain(struct ssrc *x)
{
	return gt_ring_drain(x->s.ring, on_record, x) < 0 ? -EIO : 0;
}

/* The records up to now: the maps read, or the ring drained. */
static int update(struct ssrc *x, uint64_t now)
{
	if (!x->agg)
		return drain(x);
	/* the resolver's load bias: casgstatus's run-time address, which
	 * the first probe hit records */
	sa_reader_set_probe_ip(x->rd, x->probes.agg->bss->casg_ip);
	return sa_reader_update(x->rd, now);
}

/* Transitions accounted, and those lost (cumulative). */
static void counts(struct ssrc *x, uint64_t *trans, uint64_t *lost)
{
	struct st_model_stats ms;
	int map;

	if (x->agg) {
		map = bpf_map__fd(x->probes.agg->maps.counters);
		*trans = gt_bpf_counter_sum(map, SA_CNT_TRANSITIONS);
		*lost = gt_bpf_counter_sum(map, SA_CNT_NOGOID) +
			gt_bpf_counter_sum(map, SA_CNT_UNTRACKED) +
			gt_bpf_counter_sum(map, SA_CNT_READFAIL);
		return;
	}
	map = bpf_map__fd(x->probes.skel->maps.counters);
	st_model_stats(x->model, &ms);
	*trans = ms.transitions;
	*lost = gt_bpf_counter_sum(map, STATES_CNT_DROPS) +
		gt_bpf_counter_sum(map, STATES_CNT_READFAIL);
}

static uint8_t g_flags(const char *start, bool system)
{
	return (system ? TOP_G_SYSTEM : 0) |
	       (start && !strcmp(start, "runtime.gcBgMarkWorker") ? TOP_G_GCWORKER : 0);
}

/* The model's goroutines onto their records. */
static int link_model(struct ssrc *x)
{
	bool first;
	size_t n;
	struct st_goroutine **all = x->agg ? sa_reader_summaries(x->rd, &n) :
				    st_model_goroutines(x->model, &n);
	int err = 0;

	if (!all && x->agg && n)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rec *r = rec_get(x, all[i]->goid);

		if (!r) {
			err = -ENOMEM;
			break;
		}
		first = !r->mg;
		r->mg = all[i];	/* again each time: a reader may move its records */
		if (first && (all[i]->created || !r->named)) {
			const char *s = all[i]->start_func;

			r->start = s ? s : r->start;
			r->created = all[i]->created_at ? all[i]->created_at : r->created;
			r->parent = all[i]->parent;
			r->named = s != NULL;
			/* the runtime's own rule needs the g: a runtime.*
			 * start function other than runtime.main */
			r->flags = g_flags(s, s && !strncmp(s, "runtime.", 8) &&
						 strcmp(s, "runtime.main"));
		}
	}
	if (x->agg)
		free(all);	/* the array, not the records */
	return err;
}

/* One goroutine of the list onto its record. */
static int list_one(struct ssrc *x, const struct gr_g *g, uint64_t now)
{
	struct rec *r;

	if (g->state != GR_G_OK || top_cls_of_status(g->status) == TOP_DEAD)
		return 0;
	if (!(r = rec_get(x, g->goid)))
		return -ENOMEM;
	r->snap_gen = x->gen;
	if (!r->mg) {
		if (!r->seen_ns) {
			/* the first list: it existed before; a later one: it
			 * was created since and its creation is still in the
			 * ring (accounted from now, the model takes over) */
			r->seen_ns = x->gen == 1 ? x->t0 : now;
			if (x->gen == 1)
				r->flags |= TOP_G_BEFORE;
		}
		r->snap_cls = top_cls_of_status(g->status);
		r->snap_reason = g->waitreason;
	}
	if (!r->named) {
		const char *start = NULL, *created = NULL;

		st_resolver_resolve(&x->res, x->casg_rt, g->startpc, g->gopc, &start, &created);
		r->start = start;
		r->created = created;
		r->parent = g->parent_goid;
		r->named = true;
		r->flags = (r->flags & TOP_G_BEFORE) | g_flags(start, gr_is_system(x->gt, g));
	}
	return 0;
}

static int read_list(struct ssrc *x, uint64_t now)
{
	const struct gr_snapshot_opts o = { .stacks = false, .labels = false };
	struct gr_snapshot *snap;
	int err = gr_snapshot_take(x->gt, &o, &snap);

	if (err)
		return err;
	x->smp.unreadable = snap->stats.inconsistent;
	for (size_t i = 0; i < snap->n && !err; i++)
		err = list_one(x, &snap->g[i], now);
	gr_snapshot_free(snap);
	return err;
}

/* ---- the sample ---- */

static void add_wait(struct top_gsample *o, uint32_t reason, uint64_t ns, uint32_t count)
{
	for (uint8_t i = 0; i < o->nwaits; i++) {
		if (o->waits[i].reason == reason) {
			o->waits[i].ns += ns;
			o->waits[i].count += count;
			return;
		}
	}
	if (o->nwaits < TOP_WAITS)
		o->waits[o->nwaits++] = (struct top_wait){ .ns = ns, .reason = reason, .count = count };
	else
		o->wait_other_ns += ns;
}

/* The model's times of r (with the time before its first transition).
 * to_now: they include the current state's time up to now already. */
static void from_model(const struct rec *r, struct top_gsample *o, uint64_t now, bool to_now)
{
	const struct st_goroutine *g = r->mg;

	for (int st = 0; st < ST_NSTATES; st++) {
		uint8_t c = top_cls_of_status((uint32_t)st);

		if (c < TOP_NCLS)
			o->ns[c] += g->ns[st];
	}
	for (uint32_t i = 0; i < g->nwait; i++)
		add_wait(o, g->waits[i].reason, g->waits[i].ns, g->waits[i].count);
	o->state = g->state >= 0 ? top_cls_of_status((uint32_t)g->state) : r->snap_cls;
	o->reason = g->reason;
	if (!to_now && !g->exited && g->state >= 0 && now > g->since && o->state < TOP_NCLS) {
		o->ns[o->state] += now - g->since;
		if (o->state == TOP_WAIT)
			add_wait(o, g->reason, now - g->since, 0);
	}
	if (!g->created && r->snap_cls < TOP_NCLS && g->first_ns > r->seen_ns && r->seen_ns) {
		o->ns[r->snap_cls] += g->first_ns - r->seen_ns;
		if (r->snap_cls == TOP_WAIT)
			add_wait(o, r->snap_reason, g->first_ns - r->seen_ns, 0);
	}
	o->transitions = g->transitions;
	o->first_ns = g->created ? g->first_ns : r->seen_ns ? r->seen_ns : g->first_ns;
	if (g->exited)
		o->end_ns = g->last_ns ? g->last_ns : now;
}

/* r as a sample entry; false when it is not to be reported (exit told). */
static bool fill(struct ssrc *x, struct rec *r, struct top_gsample *o, uint64_t now)
{
	bool listed = r->snap_gen == x->gen;

	if (r->told)
		return false;
	memset(o, 0, sizeof(*o));
	o->goid = r->goid;
	o->parent = r->parent;
	o->start = r->start;
	o->created = r->created;
	o->flags = r->flags;
	if (r->mg) {
		from_model(r, o, now, x->agg);
		if (!r->mg->created)
			o->flags |= TOP_G_BEFORE;
	} else if (r->snap_cls < TOP_NCLS) {
		o->first_ns = r->seen_ns;
		o->state = r->snap_cls;
		o->reason = r->snap_reason;
		o->ns[o->state] = now > r->seen_ns ? now - r->seen_ns : 0;
		if (o->state == TOP_WAIT)
			add_wait(o, r->snap_reason, o->ns[TOP_WAIT], 0);
	} else {
		return false;
	}
	if (!o->end_ns && !listed && !r->mg && x->gen > 1)
		o->end_ns = now;	/* gone from the list, exit not seen */
	if (o->end_ns) {
		o->state = TOP_DEAD;
		r->told = true;
	}
	return true;
}

static int src_sample(struct top_source *base, const struct top_sample **out)
{
	struct ssrc *x = (struct ssrc *)base;
	uint64_t now = gt_now_ns();
	size_t n = 0;
	int err;

	if ((err = update(x, now)))
		return err;
	if (gt_target_exited(&x->s.target))
		return -ESRCH;
	x->gen++;
	if ((err = link_model(x)) || (err = read_list(x, now)))
		return err;
	if (x->nr > x->capg) {
		struct top_gsample *g = realloc(x->g, x->nr * sizeof(*g));

		if (!g)
			return -ENOMEM;
		x->g = g;
		x->capg = x->nr;
	}
	for (size_t i = 0; i < x->nr; i++)
		n += fill(x, &x->r[i], &x->g[n], now);
	x->smp.now_ns = now;
	x->smp.g = x->g;
	x->smp.n = n;
	x->smp.have_transitions = true;
	counts(x, &x->smp.transitions, &x->smp.lost);
	*out = &x->smp;
	return 0;
}

static int src_poll(struct top_source *base, uint64_t now_ns)
{
	struct ssrc *x = (struct ssrc *)base;

	return x->agg ? 0 : drain(x);	/* the maps keep everything until read */
}

static const char *src_reason(struct top_source *base, uint32_t reason)
{
	const struct gr_target_info *ti = gr_target_info(((struct ssrc *)base)->gt);

	return (int)reason < ti->nwaitreasons && ti->waitreasons[reason] &&
	       ti->waitreasons[reason][0] ? ti->waitreasons[reason] : "?";
}

static const char *src_describe(struct top_source *base)
{
	return ((struct ssrc *)base)->agg ? "in-kernel aggregation" : "states ring buffer";
}

/* goid's stack, as the runtime's goroutine dump prints it. */
static int src_stack(struct top_source *base, int64_t goid, char **text)
{
	struct ssrc *x = (struct ssrc *)base;
	const struct gr_snapshot_opts o = { .stacks = true, .stack_goid = goid };
	struct gr_snapshot *snap;
	size_t len = 0;
	FILE *f;
	int err;

	*text = NULL;
	if (!x->tb && (err = gr_tb_new(x->gt, &x->tb)))
		return err;
	if ((err = gr_snapshot_take(x->gt, &o, &snap)))
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < snap->n; i++) {
		if (snap->g[i].goid != goid || snap->g[i].state != GR_G_OK)
			continue;
		if (!(f = open_memstream(text, &len))) {
			err = -ENOMEM;
			break;
		}
		err = gr_tb_print(x->tb, snap, i, f);
		if (fclose(f) && !err)
			err = -ENOMEM;
		break;
	}
	gr_snapshot_free(snap);
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}

static void src_free(struct top_source *base)
{
	struct ssrc *x = (struct ssrc *)base;

	if (!x)
		return;
	gt_session_release(&x->s);	/* the probes first */
	st_probes_release(&x->probes);
	st_model_free(x->model);
	sa_reader_free(x->rd);
	if (x->res_init)
		st_resolver_release(&x->res);
	gr_tb_free(x->tb);
	gr_target_free(x->gt);
	free(x->r);
	free(x->h);
	free(x->g);
	free(x);
}

/* The model (ring buffer), the resolver and the goroutine reader, after
 * the binary is known.  0 or 1. */
static int open_readers(struct ssrc *x)
{
	struct st_model_opts mo = { .resolve = st_resolver_resolve, .ctx = &x->res,
				    .late_goid = x->ao.late_goid };
	const struct gr_target_info *ti;
	int err;

	if (st_resolver_init(&x->res, x->s.gs, x->probes.casg_site))
		return gt_error("top: out of memory");
	x->res_init = true;
	if (!x->agg && !(x->model = st_model_new(&mo)))
		return gt_error("top: out of memory");
	if ((err = gr_target_open(x->s.target.pid, &x->gt)))
		return gt_error("top: cannot read the goroutines of pid %d: %s",
				(int)x->s.target.pid, gr_errmsg());
	ti = gr_target_info(x->gt);
	x->casg_rt = x->probes.casg_site + ti->bias;
	snprintf(x->base.comm, sizeof(x->base.comm), "%s", ti->comm);
	x->base.goversion = x->s.info->goversion;
	x->base.pid = x->s.target.pid;
	return 0;
}

/* gt_session_load()'s callback for the aggregating object. */
static int agg_load(void *ctx, struct gt_session *s, bool multi)
{
	struct ssrc *x = ctx;

	return st_agg_load(&x->probes, s, &x->ao, multi);
}

/* The BPF object, and where its data is read: the maps' reader, or the
 * ring buffer.  0 or 1. */
static int load(struct ssrc *x)
{
	struct gt_session *s = &x->s;
	struct gosym_go_facts facts;
	struct sa_reader_opts ro = { .ghists_fd = -1, .resolve = st_resolver_resolve,
				     .resolve_ctx = &x->res };

	gosym_go_facts(s->gs, &facts);
	x->ao.late_goid = facts.late_goid;	/* docs/go-runtime.md */
	x->ao.max_goroutines = SA_GOROUTINES_DEFAULT;
	if (!x->agg)
		return gt_session_load(s, st_probes_load, &x->probes) ||
		       gt_session_ring(s, bpf_map__fd(x->probes.skel->maps.events));
	if (gt_session_load(s, agg_load, x))
		return 1;
	ro.goroutines_fd = bpf_map__fd(x->probes.agg->maps.goroutines);
	ro.sched_fd = bpf_map__fd(x->probes.agg->maps.sched_hist);
	ro.wait_fd = bpf_map__fd(x->probes.agg->maps.wait_hist);
	return sa_reader_new(&ro, &x->rd) ? gt_error("top: out of memory") : 0;
}

int top_source_states_open(const struct gt_trace_opts *o, bool agg, struct top_source **out)
{
	struct ssrc *x = calloc(1, sizeof(*x));
	struct gt_session *s;
	int err;

	if (!x)
		return gt_error("top: out of memory");
	x->base = (struct top_source){
		.sample = src_sample, .poll = src_poll, .reason = src_reason,
		.describe = src_describe, .stack = src_stack, .free = src_free,
		.poll_ms = STATES_POLL_MS,
	};
	x->s = (struct gt_session)GT_SESSION_INIT;
	x->agg = agg;
	s = &x->s;
	x->probes.ring_bytes = o->buffer_size;
	if (gt_session_open(s, "top", o))
		goto fail;
	if ((err = st_probes_resolve(&x->probes, s))) {
		gt_error("top: '%s': cannot probe runtime.casgstatus: %s", s->target.exe,
			 strerror(-err));
		goto fail;
	}
	if (load(x) || open_readers(x) || gt_session_attach(s, st_probes_attach, &x->probes) ||
	    gt_session_start(s))
		goto fail;
	x->t0 = s->t0_ns;
	*out = &x->base;
	return 0;
fail:
	src_free(&x->base);
	return 1;
}
