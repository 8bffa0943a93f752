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

static int clean(uint32_t s)
{
	return (int)(s & ~(uint32_t)STATES_G_SCAN);
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
	memset(&t, 0, sizeof(t));
	t.prev_since = g->state >= 0 ? g->since : 0;
	t.prev_reason = g->reason;
	if (g->state >= 0 && g->state < ST_NSTATES && e->ts_ns >= g->since) {
		uint64_t d = e->ts_ns - g->since;

		g->ns[g->state] += d;
		if (g->state == STATES_G_WAITING)
			add_wait(g, g->reason, d, 0);
	}
	if (!g->transitions)
		g->first_ns = e->ts_ns;
	g->gp = e->gp;
	g->last_ns = e->ts_ns;
	g->last_tid = e->tid;
	g->last_from = from;
	g->last_to = to;
	g->transitions++;
	g->state = to;
	g->since = e->ts_ns;
	g->reason = to == STATES_G_WAITING ? e->reason : 0;
	if (to >= 0 && to < ST_NSTATES)
		g->nstate[to]++;
	if (to == STATES_G_WAITING)
		add_wait(g, e->reason, 0, 1);
	if (to == STATES_G_DEAD)
		g->exited = true;
	if (e->flags & STATES_F_CREATE) {
		g->created = true;
		g->exited = false;
		g->startpc = e->startpc;
		g->gopc = e->gopc;
		g->parent = e->parent_goid > 0 ? e->parent_goid : -1; /* 0: none */
		if (m->opts.resolve)
			m->opts.resolve(m->opts.ctx, e->probe_ip, e->startpc, e->gopc,
					&g->start_func, &g->created_at);
	}
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

		if (g->exited || g->state < 0 || g->state >= ST_NSTATES || end_ns < g->since)
			continue;
		g->ns[g->state] += end_ns - g->since;
		if (g->state == STATES_G_WAITING)
			add_wait(g, g->reason, end_ns - g->since, 0);
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
