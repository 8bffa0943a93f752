// SPDX-License-Identifier: MIT
/* The reader of states --aggregate's maps (see states/agg_read.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "aggregate/histogram.h"
#include "aggregate/maps.h"
#include "states/agg_read.h"

/* A goroutine's values at the last interval. */
struct sa_prev {
	uint64_t ns[ST_NSTATES];
	uint64_t transitions;
	uint64_t wait_ns[SA_WAIT_SLOTS];
	uint32_t wait_count[SA_WAIT_SLOTS];
	bool created_counted;
};

struct sa_reader {
	struct sa_reader_opts o;
	uint64_t probe_ip;
	struct sa_gor **gors;
	size_t ngors, capgors;
	/* goid -> index + 1 (0: empty), open addressing */
	int64_t *keys;
	size_t *vals;
	size_t capmap;
	uint64_t now, prev_now;
	uint64_t *sched, *sched_prev;	/* HIST_NB */
	uint64_t *wait;			/* SA_MAX_REASONS * HIST_NB */
	uint64_t wait_max[SA_MAX_REASONS];
	uint64_t reaped;
};

int sa_reader_new(const struct sa_reader_opts *o, struct sa_reader **out)
{
	struct sa_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->o = *o;
	r->sched = calloc(HIST_NB, sizeof(uint64_t));
	r->sched_prev = calloc(HIST_NB, sizeof(uint64_t));
	r->wait = calloc((size_t)SA_MAX_REASONS * HIST_NB, sizeof(uint64_t));
	if (!r->sched || !r->sched_prev || !r->wait) {
		sa_reader_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void sa_reader_free(struct sa_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ngors; i++) {
		free(r->gors[i]->g.waits);
		st_hist_release(&r->gors[i]->g.hist);
		free(r->gors[i]->prev);
		free(r->gors[i]);
	}
	free(r->gors);
	free(r->keys);
	free(r->vals);
	free(r->sched);
	free(r->sched_prev);
	free(r->wait);
	free(r);
}

void sa_reader_set_probe_ip(struct sa_reader *r, uint64_t ip)
{
	r->probe_ip = ip;
}

static size_t home(int64_t goid, size_t cap)
{
	uint64_t k = (uint64_t)goid * 0x9e3779b97f4a7c15ULL;

	return (k ^ (k >> 29)) & (cap - 1);
}

static int map_grow(struct sa_reader *r)
{
	size_t cap = r->capmap ? r->capmap * 2 : 4096;
	int64_t *k = calloc(cap, sizeof(*k));
	size_t *v = calloc(cap, sizeof(*v));

	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->capmap; i++) {
		size_t j;

		if (!r->vals[i])
			continue;
		for (j = home(r->keys[i], cap); v[j]; j = (j + 1) & (cap - 1))
			;
		k[j] = r->keys[i];
		v[j] = r->vals[i];
	}
	free(r->keys);
	free(r->vals);
	r->keys = k;
	r->vals = v;
	r->capmap = cap;
	return 0;
}

/* The goroutine of goid, NULL if unknown. */
static struct sa_gor *gor_find(const struct sa_reader *r, int64_t goid)
{
	if (!r->capmap)
		return NULL;
	for (size_t j = home(goid, r->capmap); r->vals[j]; j = (j + 1) & (r->capmap - 1))
		if (r->keys[j] == goid)
			return r->gors[r->vals[j] - 1];
	return NULL;
}

/* The goroutine of goid, created if new; NULL when out of memory. */
static struct sa_gor *gor_of(struct sa_reader *r, int64_t goid)
{
	struct sa_gor *g;
	size_t j;

	if ((r->ngors + 1) * 2 > r->capmap && map_grow(r))
		return NULL;
	for (j = home(goid, r->capmap); r->vals[j]; j = (j + 1) & (r->capmap - 1))
		if (r->keys[j] == goid)
			return r->gors[r->vals[j] - 1];
	if (r->ngors == r->capgors) {
		size_t nc = r->capgors ? r->capgors * 2 : 1024;
		struct sa_gor **n = realloc(r->gors, nc * sizeof(*n));

		if (!n)
			return NULL;
		r->gors = n;
		r->capgors = nc;
	}
	g = calloc(1, sizeof(*g));
	if (g) {
		g->prev = calloc(1, sizeof(*g->prev));
		g->g.waits = calloc(SA_WAIT_SLOTS, sizeof(*g->g.waits));
	}
	if (!g || !g->prev || !g->g.waits) {
		if (g) {
			free(g->prev);
			free(g->g.waits);
		}
		free(g);
		return NULL;
	}
	g->g.capwait = SA_WAIT_SLOTS;
	r->gors[r->ngors++] = g;
	r->keys[j] = goid;
	r->vals[j] = r->ngors;
	return g;
}

/* The waits of entry e into g (model.h's: the current wait's time so far
 * under its reason, as st_model_finish() adds it). */
static void fill_waits(struct sa_reader *r, struct sa_gor *s, const struct sa_goroutine *e,
		       uint64_t open)
{
	struct st_goroutine *g = &s->g;
	bool waiting = e->state == STATES_G_WAITING, current = false;

	g->nwait = e->nwaits < SA_WAIT_SLOTS ? e->nwaits : SA_WAIT_SLOTS;
	s->wait_max_ns = 0;
	for (uint32_t i = 0; i < g->nwait; i++) {
		const struct sa_wait *w = &e->waits[i];
		bool cur = waiting && w->reason == e->reason;

		g->waits[i] = (struct st_wait){ .reason = w->reason, .count = w->count,
						.ns = w->ns + (cur ? open : 0),
						.max_ns = w->max_ns, .max_ts = w->max_ts };
		current |= cur;
		if (w->max_ns > s->wait_max_ns)
			s->wait_max_ns = w->max_ns;
		if (w->reason < SA_MAX_REASONS && w->max_ns > r->wait_max[w->reason])
			r->wait_max[w->reason] = w->max_ns;
	}
	/* waiting since before tracing with no slot yet (a seed) */
	if (waiting && !current && open && g->nwait < SA_WAIT_SLOTS)
		g->waits[g->nwait++] = (struct st_wait){ .reason = e->reason, .ns = open };
}

/* The runnable -> running latencies of e into g. */
static void fill_sched(struct sa_gor *s, const struct sa_goroutine *e)
{
	struct st_goroutine *g = &s->g;

	s->sched_max_ns = e->sched_max_ns;
	memcpy(s->sched_log2, e->sched_log2, sizeof(s->sched_log2));
	g->lat_count = 0;
	for (int i = 0; i < HIST_LOG2_SLOTS; i++)
		g->lat_count += e->sched_log2[i];
	g->lat_sum = e->sched_sum_ns;
	g->lat_max = e->sched_max_ns;
	g->lat_max_ts = e->sched_max_ts;
}

/* The summary of one BPF entry at now. */
static void fill(struct sa_reader *r, struct sa_gor *s, int64_t goid, const struct sa_goroutine *e)
{
	struct st_goroutine *g = &s->g;
	bool exited = e->flags & SA_F_EXITED;
	uint64_t open = !exited && r->now > e->since_ns ? r->now - e->since_ns : 0;

	g->goid = goid;
	g->gp = e->gp;
	g->startpc = e->startpc;
	g->gopc = e->gopc;
	g->parent = e->parent_goid > 0 ? e->parent_goid : -1;
	g->created = e->flags & SA_F_CREATED;
	g->exited = exited;
	g->at_start = e->flags & SA_F_AT_START;
	g->since_start = e->flags & SA_F_SINCE_START;
	g->start_state = g->at_start ? e->start_state : -1;
	g->start_reason = e->start_reason;
	g->state = e->state;
	g->reason = e->state == STATES_G_WAITING ? e->reason : 0;
	g->since = e->since_ns;
	g->open_ns = open;
	g->first_ns = e->first_ns;
	g->last_ns = e->since_ns;
	g->transitions = e->transitions;
	for (int st = 0; st < ST_NSTATES; st++) {
		g->ns[st] = e->ns[st] + (st == e->state ? open : 0);
		g->nstate[st] = e->count[st];
	}
	fill_waits(r, s, e, open);
	fill_sched(s, e);
	if (!g->start_func && r->o.resolve && (e->flags & SA_F_NAMED) && e->startpc)
		r->o.resolve(r->o.resolve_ctx, r->probe_ip, e->startpc, e->gopc, &g->start_func,
			     &g->created_at);
	if (e->labels && e->labels != s->labels_ptr && r->o.labels) {
		const struct st_labels *l = r->o.labels(r->o.labels_ctx, e->labels);

		s->labels_ptr = e->labels;
		if (l)
			g->labels = l;
	}
}

/* Every entry; those of goroutines that exited are deleted once read. */
static int read_goroutines(struct sa_reader *r)
{
	int64_t *keys = NULL;
	struct sa_goroutine *vals = NULL;
	size_t n = 0, ndead = 0;
	int err = gt_map_dump(r->o.goroutines_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			      (void **)&vals, &n);

	for (size_t i = 0; !err && i < n; i++) {
		struct sa_gor *s = gor_of(r, keys[i]);

		if (!s) {
			err = -ENOMEM;
			break;
		}
		fill(r, s, keys[i], &vals[i]);
		if (vals[i].flags & SA_F_EXITED) {
			s->reaped = true;
			keys[ndead++] = keys[i];
		}
	}
	if (!err && ndead) {
		err = gt_map_delete_keys(r->o.goroutines_fd, keys, sizeof(*keys), ndead);
		r->reaped += ndead;
	}
	free(keys);
	free(vals);
	return err;
}

/* Each goroutine's histograms, read whole every time (the map holds only
 * what was used); those of goroutines reaped by this update are read for
 * the last time and deleted. */
static int read_ghists(struct sa_reader *r)
{
	struct sa_hkey *keys = NULL, *dead;
	uint64_t *vals = NULL;
	size_t n = 0, ndead = 0;
	int err;

	if (r->o.ghists_fd < 0)
		return 0;
	err = gt_map_dump(r->o.ghists_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			  (void **)&vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < r->ngors; i++)
		if (!r->gors[i]->hist_final)
			r->gors[i]->g.hist.n = 0;
	dead = keys;
	for (size_t i = 0; i < n && !err; i++) {
		struct sa_gor *s = gor_find(r, keys[i].goid);
		uint32_t kb = keys[i].kind_bucket;

		if (!s || s->hist_final)
			continue;	/* untracked, or read already */
		err = st_hist_add_bucket(&s->g.hist, kb >> SA_HIST_BUCKET_BITS,
					 kb & ((1u << SA_HIST_BUCKET_BITS) - 1), vals[i]);
		if (s->reaped)
			dead[ndead++] = keys[i];
	}
	for (size_t i = 0; i < r->ngors; i++)
		r->gors[i]->hist_final = r->gors[i]->reaped;
	if (!err && ndead)
		err = gt_map_delete_keys(r->o.ghists_fd, dead, sizeof(*dead), ndead);
	free(keys);
	free(vals);
	return err;
}

int sa_reader_update(struct sa_reader *r, uint64_t now_ns)
{
	int err;

	if (!r->prev_now)
		r->prev_now = now_ns;
	r->now = now_ns;
	err = read_goroutines(r);
	if (!err)
		err = gt_map_read_array(r->o.sched_fd, 0, HIST_NB, sizeof(uint64_t), r->sched);
	if (!err)
		err = gt_map_read_array(r->o.wait_fd, 0, SA_MAX_REASONS * HIST_NB, sizeof(uint64_t),
					r->wait);
	if (!err)
		err = read_ghists(r);
	return err;
}

static uint64_t grew(uint64_t now, uint64_t *prev)
{
	uint64_t d = now > *prev ? now - *prev : 0;

	if (now > *prev)
		*prev = now;
	return d;
}

/* One goroutine's share of the interval. */
static void account(struct sa_gor *s, struct sa_interval *iv)
{
	struct sa_prev *p = s->prev;
	struct st_goroutine *g = &s->g;

	for (int st = 0; st < ST_NSTATES; st++)
		iv->ns[st] += grew(g->ns[st], &p->ns[st]);
	iv->transitions += grew(g->transitions, &p->transitions);
	if (g->created && !p->created_counted) {
		iv->created++;
		p->created_counted = true;
	}
	for (uint32_t i = 0; i < g->nwait; i++) {
		uint32_t reason = g->waits[i].reason < ST_MAX_REASONS ? g->waits[i].reason : 0;
		uint64_t c = g->waits[i].count;

		iv->wait_ns[reason] += grew(g->waits[i].ns, &p->wait_ns[i]);
		if (c > p->wait_count[i]) {
			iv->wait_count[reason] += c - p->wait_count[i];
			p->wait_count[i] = (uint32_t)c;
		}
	}
}

int sa_reader_interval(struct sa_reader *r, struct sa_interval *iv)
{
	memset(iv, 0, sizeof(*iv));
	iv->dur_ns = r->now > r->prev_now ? r->now - r->prev_now : 0;
	r->prev_now = r->now;
	for (size_t i = 0; i < r->ngors; i++) {
		struct sa_gor *s = r->gors[i];

		if (!s->prev)
			continue;	/* exited in an earlier interval */
		account(s, iv);
		if (s->reaped) {
			iv->exited++;
			free(s->prev);
			s->prev = NULL;
		} else {
			iv->alive++;
			if (s->g.state >= 0 && s->g.state < ST_NSTATES)
				iv->in_state[s->g.state]++;
		}
	}
	gt_hist_delta(iv->sched, r->sched, r->sched_prev);
	memcpy(r->sched_prev, r->sched, HIST_NB * sizeof(uint64_t));
	return 0;
}

struct sa_gor *sa_reader_goroutine(struct sa_reader *r, size_t i)
{
	return i < r->ngors ? r->gors[i] : NULL;
}

size_t sa_reader_count(const struct sa_reader *r)
{
	return r->ngors;
}

struct st_goroutine **sa_reader_summaries(struct sa_reader *r, size_t *n)
{
	struct st_goroutine **a = calloc(r->ngors ? r->ngors : 1, sizeof(*a));

	*n = 0;
	if (!a)
		return NULL;
	for (size_t i = 0; i < r->ngors; i++)
		a[i] = &r->gors[i]->g;
	*n = r->ngors;
	return a;
}

const uint64_t *sa_reader_sched_hist(const struct sa_reader *r)
{
	return r->sched;
}

const uint64_t *sa_reader_wait_hist(const struct sa_reader *r, uint32_t reason)
{
	if (reason >= SA_MAX_REASONS)
		reason = SA_MAX_REASONS - 1;
	return r->wait + (size_t)reason * HIST_NB;
}

uint64_t sa_reader_wait_max(const struct sa_reader *r, uint32_t reason)
{
	return reason < SA_MAX_REASONS ? r->wait_max[reason] : 0;
}

int sa_reader_seed(struct sa_reader *r, int goroutines_fd, const struct st_seed *sd,
		   uint64_t t0_ns)
{
	struct sa_goroutine e = {
		.gp = sd->gp, .startpc = sd->startpc, .gopc = sd->gopc,
		.parent_goid = sd->parent > 0 ? sd->parent : -1,
		.first_ns = t0_ns, .since_ns = t0_ns,
		.flags = SA_F_NAMED | SA_F_AT_START | SA_F_SINCE_START | SA_F_SEEDED,
		.state = (uint8_t)sd->state, .start_state = (uint8_t)sd->state,
	};
	struct sa_gor *s;

	if (sd->state < 0 || sd->state >= ST_NSTATES || sd->state == STATES_G_DEAD ||
	    sd->state == STATES_G_IDLE || sd->state == STATES_G_DEADEXTRA || sd->goid <= 0)
		return 0;
	if (sd->state == STATES_G_WAITING)
		e.reason = e.start_reason = sd->reason;
	/* a probe that saw it first made the true entry; a full map (past
	 * --max-goroutines) leaves it out, as BPF does */
	if (bpf_map_update_elem(goroutines_fd, &sd->goid, &e, BPF_NOEXIST))
		return errno == EEXIST || errno == E2BIG ? 0 : -errno;
	s = gor_of(r, sd->goid);
	if (!s)
		return -ENOMEM;
	s->g.seeded = true;
	s->g.waitsince = sd->state == STATES_G_WAITING ? sd->waitsince : 0;
	s->g.start_func = sd->start_func;
	s->g.created_at = sd->created_at;
	s->g.labels = sd->labels;
	return 0;
}

void sa_reader_finish(struct sa_reader *r)
{
	for (size_t i = 0; i < r->ngors; i++) {
		struct st_goroutine *g = &r->gors[i]->g;

		if (!g->exited && g->state >= 0 && r->now >= g->since)
			g->since = r->now;
	}
}

uint64_t sa_reader_reaped(const struct sa_reader *r)
{
	return r->reaped;
}
