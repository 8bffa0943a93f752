// SPDX-License-Identifier: MIT
/* The reader of states --aggregate's maps (see states/agg_read.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	uint64_t *gkeys, *ghists;	/* groups */
	size_t ngroups;
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
		free(r->gors[i]->prev);
		free(r->gors[i]);
	}
	free(r->gors);
	free(r->keys);
	free(r->vals);
	free(r->sched);
	free(r->sched_prev);
	free(r->wait);
	free(r->gkeys);
	free(r->ghists);
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
	g->state = e->state;
	g->reason = e->state == STATES_G_WAITING ? e->reason : 0;
	g->since = e->since_ns;
	g->first_ns = e->first_ns;
	g->last_ns = e->since_ns;
	g->transitions = e->transitions;
	for (int st = 0; st < ST_NSTATES; st++) {
		g->ns[st] = e->ns[st] + (st == e->state ? open : 0);
		g->nstate[st] = e->count[st];
	}
	g->nwait = e->nwaits < SA_WAIT_SLOTS ? e->nwaits : SA_WAIT_SLOTS;
	s->wait_max_ns = 0;
	for (uint32_t i = 0; i < g->nwait; i++) {
		const struct sa_wait *w = &e->waits[i];
		bool current = e->state == STATES_G_WAITING && w->reason == e->reason;

		g->waits[i] = (struct st_wait){ .reason = w->reason, .count = w->count,
						.ns = w->ns + (current ? open : 0) };
		if (w->max_ns > s->wait_max_ns)
			s->wait_max_ns = w->max_ns;
		if (w->reason < SA_MAX_REASONS && w->max_ns > r->wait_max[w->reason])
			r->wait_max[w->reason] = w->max_ns;
	}
	s->sched_max_ns = e->sched_max_ns;
	memcpy(s->sched_log2, e->sched_log2, sizeof(s->sched_log2));
	if (!g->start_func && r->o.resolve && (e->flags & SA_F_NAMED) && e->startpc)
		r->o.resolve(r->o.resolve_ctx, r->probe_ip, e->startpc, e->gopc, &g->start_func,
			     &g->created_at);
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

static int read_groups(struct sa_reader *r)
{
	void *k = NULL, *v = NULL;
	size_t n = 0;
	int err;

	if (r->o.group_fd < 0)
		return 0;
	err = gt_map_dump(r->o.group_fd, sizeof(uint64_t), sizeof(struct sa_group), &k, &v, &n);
	if (err)
		return err;
	free(r->gkeys);
	free(r->ghists);
	r->gkeys = k;
	r->ghists = v;
	r->ngroups = n;
	return 0;
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
		err = read_groups(r);
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

int sa_reader_groups(const struct sa_reader *r, const uint64_t **keys, const uint64_t **hists,
		     size_t *n)
{
	*keys = r->gkeys;
	*hists = r->ghists;
	*n = r->ngroups;
	return 0;
}

uint64_t sa_reader_reaped(const struct sa_reader *r)
{
	return r->reaped;
}
