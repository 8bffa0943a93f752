// SPDX-License-Identifier: MIT
/*
 * states/model: raw casgstatus events -> transitions + per-goroutine
 * accounting.  See model.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "states/model.h"

/* Open-addressing map from a 64-bit key to a pointer; key 0 is reserved as
 * "empty" so callers map 0 to a sentinel (goids start at 1; g addresses are
 * never 0). */
struct ptrmap {
	uint64_t *keys;
	void **vals;
	size_t cap, len; /* cap is a power of two */
};

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static int ptrmap_grow(struct ptrmap *pm)
{
	size_t ncap = pm->cap ? pm->cap * 2 : 1024;
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	void **nv = calloc(ncap, sizeof(*nv));

	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pm->cap; i++) {
		size_t j;

		if (!pm->keys[i])
			continue;
		for (j = mix(pm->keys[i]) & (ncap - 1); nk[j]; j = (j + 1) & (ncap - 1))
			;
		nk[j] = pm->keys[i];
		nv[j] = pm->vals[i];
	}
	free(pm->keys);
	free(pm->vals);
	pm->keys = nk;
	pm->vals = nv;
	pm->cap = ncap;
	return 0;
}

static void **ptrmap_slot(struct ptrmap *pm, uint64_t key, bool create)
{
	size_t j;

	if (!key)
		key = ~0ULL;
	if (create && (pm->len + 1) * 4 > pm->cap * 3 && ptrmap_grow(pm))
		return NULL;
	if (!pm->cap)
		return NULL;
	for (j = mix(key) & (pm->cap - 1); pm->keys[j]; j = (j + 1) & (pm->cap - 1))
		if (pm->keys[j] == key)
			return &pm->vals[j];
	if (!create)
		return NULL;
	pm->keys[j] = key;
	pm->vals[j] = NULL;
	pm->len++;
	return &pm->vals[j];
}

/* Backward-shift deletion keeps probe chains intact. */
static void ptrmap_del(struct ptrmap *pm, uint64_t key)
{
	size_t i, j, k;

	if (!key)
		key = ~0ULL;
	if (!pm->cap)
		return;
	for (i = mix(key) & (pm->cap - 1); pm->keys[i]; i = (i + 1) & (pm->cap - 1))
		if (pm->keys[i] == key)
			break;
	if (!pm->keys[i])
		return;
	pm->keys[i] = 0;
	pm->len--;
	for (j = (i + 1) & (pm->cap - 1); pm->keys[j]; j = (j + 1) & (pm->cap - 1)) {
		k = mix(pm->keys[j]) & (pm->cap - 1);
		/* move j back to i if its home k is not cyclically in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			pm->keys[i] = pm->keys[j];
			pm->vals[i] = pm->vals[j];
			pm->keys[j] = 0;
			i = j;
		}
	}
}

static void ptrmap_free(struct ptrmap *pm)
{
	free(pm->keys);
	free(pm->vals);
	memset(pm, 0, sizeof(*pm));
}

struct st_model {
	struct st_model_opts opts;
	struct ptrmap by_goid;		/* goid -> struct st_goroutine */
	struct ptrmap pending;		/* gp -> struct states_event (held creation) */
	struct st_goroutine **all;
	size_t nall, capall;
	struct st_model_stats stats;
};

struct st_model *st_model_new(const struct st_model_opts *opts)
{
	struct st_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (opts)
		m->opts = *opts;
	return m;
}

void st_model_free(struct st_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nall; i++) {
		free(m->all[i]->waits);
		st_hist_release(&m->all[i]->hist);
		free(m->all[i]);
	}
	for (size_t i = 0; i < m->pending.cap; i++)
		if (m->pending.keys[i])
			free(m->pending.vals[i]);
	ptrmap_free(&m->by_goid);
	ptrmap_free(&m->pending);
	free(m->all);
	free(m);
}

static struct st_goroutine *get_g(struct st_model *m, int64_t goid)
{
	void **slot = ptrmap_slot(&m->by_goid, (uint64_t)goid, true);
	struct st_goroutine *g;

	if (!slot)
		return NULL;
	if (*slot)
		return *slot;
	if (m->nall == m->capall) {
		size_t nc = m->capall ? m->capall * 2 : 256;
		struct st_goroutine **na = realloc(m->all, nc * sizeof(*na));

		if (!na)
			return NULL;
		m->all = na;
		m->capall = nc;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->goid = goid;
	g->parent = -1;
	g->state = -1;
	g->start_state = -1;
	m->all[m->nall++] = g;
	*slot = g;
	return g;
}

static struct st_wait *wait_slot(struct st_goroutine *g, uint32_t reason)
{
	for (uint32_t i = 0; i < g->nwait; i++)
		if (g->waits[i].reason == reason)
			return &g->waits[i];
	if (g->nwait == g->capwait) {
		uint32_t nc = g->capwait ? g->capwait * 2 : 2;
		struct st_wait *nw = realloc(g->waits, nc * sizeof(*nw));

		if (!nw)
			return NULL;
		g->waits = nw;
		g->capwait = nc;
	}
	g->waits[g->nwait] = (struct st_wait){ .reason = reason };
	return &g->waits[g->nwait++];
}

static void add_wait(struct st_goroutine *g, uint32_t reason, uint64_t ns, uint32_t count)
{
	struct st_wait *w = wait_slot(g, reason);

	if (w) {
		w->ns += ns;
		w->count += count;
	}
}

uint64_t st_wait_ns(const struct st_goroutine *g, uint32_t reason)
{
	for (uint32_t i = 0; i < g->nwait; i++)
		if (g->waits[i].reason == reason)
			return g->waits[i].ns;
	return 0;
}

uint64_t st_wait_count(const struct st_goroutine *g, uint32_t reason)
{
	for (uint32_t i = 0; i < g->nwait; i++)
		if (g->waits[i].reason == reason)
			return g->waits[i].count;
	return 0;
}

/* ---- sparse histograms (model.h) ---- */

#define HIST_KEY_SHIFT ST_HIST_COUNT_BITS
#define HIST_COUNT_MASK ((1ULL << ST_HIST_COUNT_BITS) - 1)

int st_hist_add_bucket(struct st_hist *h, uint32_t kind, uint32_t b, uint64_t count)
{
	uint64_t key;

	if (b >= HIST_NB)
		b = HIST_NB - 1;
	key = ((uint64_t)kind << ST_HIST_BUCKET_BITS) | b;
	for (uint32_t i = 0; i < h->n; i++) {
		if (h->v[i] >> HIST_KEY_SHIFT != key)
			continue;
		/* saturate rather than carry into the key */
		if ((h->v[i] & HIST_COUNT_MASK) + count > HIST_COUNT_MASK)
			h->v[i] |= HIST_COUNT_MASK;
		else
			h->v[i] += count;
		return 0;
	}
	if (h->n == h->cap) {
		uint32_t nc = h->cap ? h->cap * 2 : 4;
		uint64_t *nv = realloc(h->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = nc;
	}
	h->v[h->n++] = key << HIST_KEY_SHIFT | (count & HIST_COUNT_MASK);
	return 0;
}

int st_hist_add(struct st_hist *h, uint32_t kind, uint64_t ns)
{
	return st_hist_add_bucket(h, kind, hist_bucket(ns), 1);
}

uint64_t st_hist_merge(const struct st_hist *h, uint32_t kind, uint64_t *dense)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < h->n; i++) {
		uint64_t key = h->v[i] >> HIST_KEY_SHIFT, c = h->v[i] & HIST_COUNT_MASK;

		if (key >> ST_HIST_BUCKET_BITS != kind)
			continue;
		dense[key & ((1u << ST_HIST_BUCKET_BITS) - 1)] += c;
		n += c;
	}
	return n;
}

void st_hist_release(struct st_hist *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

const char *st_labels_get(const struct st_labels *l, const char *key)
{
	for (uint32_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->kv[i].key, key))
			return l->kv[i].value;
	return NULL;
}

static int clean(uint32_t s)
{
	return (int)(s & ~(uint32_t)STATES_G_SCAN);
}

/* Before the first transition of g is accounted: a goroutine that was not
 * created while tracing existed when tracing began, in the state this
 * transition leaves (the snapshot, read a little after t0, may have seen
 * a later state: the transition is the truth).  A creation of a seeded
 * goid: the snapshot saw the goroutine just after it was made. */
static void first_seen(struct st_model *m, struct st_goroutine *g, const struct states_event *e,
		       int from)
{
	uint32_t reason = 0;

	if (e->flags & STATES_F_CREATE) {
		g->seeded = g->at_start = g->since_start = false;
		g->state = g->start_state = -1;
		g->waitsince = 0;
		return;
	}
	if (!m->opts.t0_ns || from == STATES_G_DEAD || from == STATES_G_IDLE ||
	    from == STATES_G_DEADEXTRA)
		return;
	/* the wait reason at the start is only known from the snapshot */
	if (g->seeded && g->state == from && from == STATES_G_WAITING)
		reason = g->reason;
	else
		g->waitsince = 0;
	g->at_start = g->since_start = true;
	g->start_state = g->state = from;
	g->start_reason = g->reason = reason;
	g->since = g->first_ns = m->opts.t0_ns;
}

/* The state g was in ended at ts after d ns: its time, and if both of its
 * ends were seen, the histograms (scheduler latency when it goes from
 * runnable to running, the wait's length by reason). */
static void close_state(struct st_goroutine *g, int to, uint64_t ts, uint64_t d)
{
	bool whole = !g->since_start;

	g->ns[g->state] += d;
	if (g->state == STATES_G_WAITING) {
		struct st_wait *w = wait_slot(g, g->reason);

		if (w) {
			w->ns += d;
			if (whole && d >= w->max_ns) {
				w->max_ns = d;
				w->max_ts = ts;
			}
		}
		if (whole)
			st_hist_add(&g->hist, ST_HIST_WAIT(g->reason), d);
	} else if (g->state == STATES_G_RUNNABLE && to == STATES_G_RUNNING && whole) {
		g->lat_count++;
		g->lat_sum += d;
		if (d >= g->lat_max) {
			g->lat_max = d;
			g->lat_max_ts = ts;
		}
		st_hist_add(&g->hist, ST_HIST_SCHED, d);
	}
}

/* A creation or an exit names the goroutine and gives its labels: at a
 * creation those it inherits, at an exit those it ends with.  An exit only
 * names a goroutine nothing named before (one that existed when tracing
 * began and exited before the snapshot read it). */
static void take_names(struct st_model *m, struct st_goroutine *g, const struct states_event *e)
{
	bool create = e->flags & STATES_F_CREATE;

	if (create) {
		g->created = true;
		g->exited = false;
		g->parent = e->parent_goid > 0 ? e->parent_goid : -1; /* 0: none */
	} else if (g->parent < 0 && e->parent_goid > 0) {
		g->parent = e->parent_goid;
	}
	if ((create || !g->start_func) && e->startpc) {
		g->startpc = e->startpc;
		g->gopc = e->gopc;
		if (m->opts.resolve)
			m->opts.resolve(m->opts.ctx, e->probe_ip, e->startpc, e->gopc,
					&g->start_func, &g->created_at);
	}
	if (e->labels && m->opts.labels) {
		const struct st_labels *l = m->opts.labels(m->opts.ctx, e->labels);

		if (l)
			g->labels = l;
	}
}

/* Account and emit one transition of e, with goid as its goroutine. */
static int apply(struct st_model *m, const struct states_event *e, int64_t goid)
{
	struct st_transition t;
	struct st_goroutine *g;
	int from = clean(e->from), to = clean(e->to);

	g = get_g(m, goid);
	if (!g)
		return 0;
	if (e->flags & STATES_F_MAYFAIL && g->state != STATES_G_PREEMPTED) {
		m->stats.failed_cas++;
		return 0;
	}
	if (g->transitions && g->state == to && g->last_from == (uint32_t)from &&
	    g->last_to == (uint32_t)to) {
		m->stats.duplicates++;
		return 0;
	}
	if (!g->transitions)
		first_seen(m, g, e, from);
	memset(&t, 0, sizeof(t));
	t.prev_since = g->state >= 0 ? g->since : 0;
	t.prev_reason = g->reason;
	if (g->state >= 0 && g->state < ST_NSTATES && e->ts_ns >= g->since)
		close_state(g, to, e->ts_ns, e->ts_ns - g->since);
	if (!g->transitions && !g->at_start)
		g->first_ns = e->ts_ns;
	g->gp = e->gp;
	g->last_ns = e->ts_ns;
	g->last_tid = e->tid;
	g->last_from = from;
	g->last_to = to;
	g->transitions++;
	g->state = to;
	g->since = e->ts_ns;
	g->since_start = false;
	g->reason = to == STATES_G_WAITING ? e->reason : 0;
	if (to >= 0 && to < ST_NSTATES)
		g->nstate[to]++;
	if (to == STATES_G_WAITING)
		add_wait(g, e->reason, 0, 1);
	if (to == STATES_G_DEAD)
		g->exited = true;
	if (e->flags & (STATES_F_CREATE | STATES_F_EXIT))
		take_names(m, g, e);
	t.ts_ns = e->ts_ns;
	t.tid = e->tid;
	t.from = from;
	t.to = to;
	t.reason = g->reason;
	t.flags = e->flags;
	t.g = g;
	m->stats.transitions++;
	if (m->opts.sink)
		m->opts.sink(m->opts.ctx, &t);
	return 1;
}

int st_model_seed(struct st_model *m, const struct st_seed *s)
{
	struct st_goroutine *g;
	int state = s->state;

	if (state < 0 || state >= ST_NSTATES || state == STATES_G_DEAD || state == STATES_G_IDLE ||
	    state == STATES_G_DEADEXTRA || s->goid <= 0)
		return 0;
	g = get_g(m, s->goid);
	if (!g)
		return -ENOMEM;
	if (g->transitions)
		return 0;	/* events came first: they are the truth */
	g->gp = s->gp;
	g->seeded = g->at_start = g->since_start = true;
	g->state = g->start_state = state;
	g->reason = g->start_reason = state == STATES_G_WAITING ? s->reason : 0;
	g->waitsince = state == STATES_G_WAITING ? s->waitsince : 0;
	g->since = g->first_ns = m->opts.t0_ns;
	g->parent = s->parent > 0 ? s->parent : -1;
	g->startpc = s->startpc;
	g->gopc = s->gopc;
	g->start_func = s->start_func;
	g->created_at = s->created_at;
	g->labels = s->labels;
	return 0;
}

void st_model_set_t0(struct st_model *m, uint64_t t0_ns)
{
	m->opts.t0_ns = t0_ns;
}

int st_model_feed(struct st_model *m, const struct states_event *e)
{
	void **slot;
	int n = 0;

	m->stats.events++;
	if (e->flags & STATES_F_NOGOID || e->goid < 0) {
		m->stats.no_goid++;
		return 0;
	}
	if (m->opts.late_goid) {
		slot = m->pending.len ? ptrmap_slot(&m->pending, e->gp, false) : NULL;
		if (slot && *slot) {
			/* The held creation of this g: its goid is now known. */
			struct states_event *c = *slot;

			ptrmap_del(&m->pending, e->gp);
			n += apply(m, c, e->goid);
			free(c);
		}
		if (e->flags & STATES_F_CREATE) {
			struct states_event *c = malloc(sizeof(*c));

			slot = ptrmap_slot(&m->pending, e->gp, true);
			if (!c || !slot) {
				free(c);
				return n;
			}
			*c = *e;
			*slot = c;
			return n;
		}
	}
	/* goid 0: g0-like or not yet numbered (idle -> dead of a fresh g). */
	if (!e->goid)
		return n;
	return n + apply(m, e, e->goid);
}

void st_model_finish(struct st_model *m, uint64_t end_ns)
{
	/* Held creations whose goroutine never ran again: the best goid we
	 * have is the one read at creation, which is stale before Go 1.24, so
	 * only release them when their goid is not already someone else's. */
	for (size_t i = 0; i < m->pending.cap; i++) {
		struct states_event *c;

		if (!m->pending.keys[i])
			continue;
		c = m->pending.vals[i];
		if (!ptrmap_slot(&m->by_goid, (uint64_t)c->goid, false))
			apply(m, c, c->goid);
		free(c);
		m->pending.keys[i] = 0;
	}
	m->pending.len = 0;
	for (size_t i = 0; i < m->nall; i++) {
		struct st_goroutine *g = m->all[i];

		g->open_ns = 0;
		if (g->exited || g->state < 0 || g->state >= ST_NSTATES || end_ns < g->since)
			continue;
		g->open_ns = end_ns - g->since;
		g->ns[g->state] += g->open_ns;
		if (g->state == STATES_G_WAITING)
			add_wait(g, g->reason, g->open_ns, 0);
		g->since = end_ns;
	}
}

struct st_goroutine **st_model_goroutines(struct st_model *m, size_t *n)
{
	*n = m->nall;
	return m->all;
}

void st_model_stats(const struct st_model *m, struct st_model_stats *s)
{
	*s = m->stats;
}

const char *st_state_name(int state)
{
	static const char *const names[] = {
		[STATES_G_IDLE] = "idle",
		[STATES_G_RUNNABLE] = "runnable",
		[STATES_G_RUNNING] = "running",
		[STATES_G_SYSCALL] = "syscall",
		[STATES_G_WAITING] = "waiting",
		[STATES_G_MORIBUND] = "moribund",
		[STATES_G_DEAD] = "dead",
		[STATES_G_ENQUEUE] = "enqueue",
		[STATES_G_COPYSTACK] = "copystack",
		[STATES_G_PREEMPTED] = "preempted",
		[STATES_G_LEAKED] = "leaked",
		[STATES_G_DEADEXTRA] = "deadextra",
	};

	if (state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])))
		return names[state];
	return "unknown";
}

int st_decode_record(const void *data, size_t len, struct states_event *e)
{
	if (len == sizeof(struct states_rec)) {
		const struct states_rec *r = data;

		*e = (struct states_event){
			.ts_ns = r->ts_ns, .gp = r->gp, .goid = r->goid, .tid = r->tid,
			.from = STATES_REC_UNSTATUS(r->from), .to = STATES_REC_UNSTATUS(r->to),
			.reason = r->reason, .flags = r->flags, .parent_goid = -1,
		};
		return 0;
	}
	if (len < sizeof(*e))
		return -1;
	memcpy(e, data, sizeof(*e));
	return 0;
}
