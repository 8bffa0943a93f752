// SPDX-License-Identifier: MIT
/* The goroutine pairing engine (see pairing.h for the rules). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "funcgraph/pairing.h"

struct frame {
	uint64_t dist;
	uint64_t start;
	uint64_t child_ns;
	uint64_t seq;
	void *data;		/* pairing_entry_data()'s, until the call closes */
};

struct track {
	uint64_t key;		/* goid << 1 | g0 */
	struct frame *frames;
	uint32_t *funcs;	/* funcs[i] is frames[i]'s function */
	int n, cap;
	uint64_t next_seq;
	uint64_t ms_dist;	/* morestack seen at this dist... */
	bool ms_pending;	/* ...and nothing else since */
};

struct pairing {
	struct pairing_opts opts;
	struct pairing_stats stats;
	/* open addressing, linear probing, backward-shift deletion */
	struct track **slots;
	size_t nslots, used;
	uint32_t unwind_func;
};

#define KEY(goid, g0) (((uint64_t)(goid) << 1) | (g0 ? 1 : 0))

static size_t slot_of(uint64_t key, size_t nslots)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return key & (nslots - 1);
}

struct pairing *pairing_new(const struct pairing_opts *opts)
{
	struct pairing *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->opts = *opts;
	p->unwind_func = ~0u;
	p->nslots = 1024;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return NULL;
	}
	return p;
}

static void drop_data(const struct pairing *p, void *data)
{
	if (data && p->opts.free_data)
		p->opts.free_data(data);
}

static void track_free(const struct pairing *p, struct track *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++)
		drop_data(p, t->frames[i].data);
	free(t->frames);
	free(t->funcs);
	free(t);
}

void pairing_free(struct pairing *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nslots; i++)
		track_free(p, p->slots[i]);
	free(p->slots);
	free(p);
}

static struct track *lookup(const struct pairing *p, uint64_t key)
{
	for (size_t i = slot_of(key, p->nslots);; i = (i + 1) & (p->nslots - 1)) {
		struct track *t = p->slots[i];

		if (!t)
			return NULL;
		if (t->key == key)
			return t;
	}
}

/* Boilerplate: the open-addressing rehash of this table; pprof.c keeps its
 * own for its samples (a shared one would hash through a callback). */
static int rehash(struct pairing *p)
{
	size_t n = p->nslots * 2;
	struct track **s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < p->nslots; i++) {
		struct track *t = p->slots[i];
		size_t j;

		if (!t)
			continue;
		for (j = slot_of(t->key, n); s[j]; j = (j + 1) & (n - 1))
			;
		s[j] = t;
	}
	free(p->slots);
	p->slots = s;
	p->nslots = n;
	return 0;
}

static struct track *get(struct pairing *p, uint64_t key)
{
	struct track *t = lookup(p, key);
	size_t i;

	if (t)
		return t;
	if ((p->used + 1) * 4 > p->nslots * 3 && rehash(p))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key = key;
	for (i = slot_of(key, p->nslots); p->slots[i]; i = (i + 1) & (p->nslots - 1))
		;
	p->slots[i] = t;
	p->used++;
	if (p->used > p->stats.max_goroutines)
		p->stats.max_goroutines = p->used;
	return t;
}

static void drop(struct pairing *p, uint64_t key)
{
	size_t mask = p->nslots - 1, i, j;

	for (i = slot_of(key, p->nslots); p->slots[i]; i = (i + 1) & mask)
		if (p->slots[i]->key == key)
			break;
	if (!p->slots[i])
		return;
	track_free(p, p->slots[i]);
	p->slots[i] = NULL;
	p->used--;
	/* Backward-shift: move later members of the run into the hole when
	 * their home slot doesn't lie cyclically in (hole, j]. */
	for (j = (i + 1) & mask; p->slots[j]; j = (j + 1) & mask) {
		size_t home = slot_of(p->slots[j]->key, p->nslots);
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (!between) {
			p->slots[i] = p->slots[j];
			p->slots[j] = NULL;
			i = j;
		}
	}
}

static void close_top(struct pairing *p, struct track *t, enum pairing_end end, uint64_t ts,
		      void *ret_data)
{
	struct frame *f = &t->frames[t->n - 1];
	struct pairing_call c;
	uint64_t dur = ts > f->start ? ts - f->start : 0;

	c.goid = (int64_t)(t->key >> 1);
	c.g0 = t->key & 1;
	c.func = t->funcs[t->n - 1];
	c.depth = t->n - 1;
	c.end = end;
	c.start_ns = f->start;
	c.end_ns = f->start + dur;
	c.self_ns = dur > f->child_ns ? dur - f->child_ns : 0;
	c.seq = f->seq;
	c.stack = t->funcs;
	c.entry_data = f->data;
	c.ret_data = ret_data;
	f->data = NULL;
	/* counted by how the call ended (stacks.c counts its own enum alike) */
	switch (end) {
	case PAIRING_RET:
		p->stats.rets++;
		break;
	case PAIRING_UNWOUND:
		p->stats.unwound++;
		break;
	case PAIRING_OPEN:
		p->stats.open++;
		break;
	}
	if (p->opts.on_call) {
		p->opts.on_call(&c, p->opts.arg);
	} else {
		drop_data(p, c.entry_data);
		drop_data(p, ret_data);
	}
	t->n--;
	if (t->n > 0)
		t->frames[t->n - 1].child_ns += dur;
}

static void idle(struct pairing *p, struct track *t)
{
	if (p->opts.on_idle)
		p->opts.on_idle((int64_t)(t->key >> 1), t->key & 1, p->opts.arg);
}

/* A hit with no goroutine (the BPF side could not read one): counted, its
 * data dropped, and ignored by every entry point. */
static bool bad_goid(struct pairing *p, int64_t goid, void *data)
{
	if (goid >= 0)
		return false;
	p->stats.bad_goid++;
	drop_data(p, data);
	return true;
}

int pairing_entry(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		  uint64_t ts)
{
	return pairing_entry_data(p, goid, g0, dist, func, ts, NULL);
}

int pairing_entry_data(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		       uint64_t ts, void *data)
{
	struct track *t;
	bool pending;

	if (bad_goid(p, goid, data))
		return 0;
	t = get(p, KEY(goid, g0));
	if (!t) {
		drop_data(p, data);
		return -ENOMEM;
	}
	pending = t->ms_pending && t->ms_dist == dist;
	t->ms_pending = false;
	if (t->n > 0 && t->frames[t->n - 1].dist == dist && t->funcs[t->n - 1] == func &&
	    (pending || !p->opts.morestack_markers)) {
		/* the prologue again: the first entry's values stand */
		p->stats.dup_entries++;
		drop_data(p, data);
		return 0;
	}
	while (t->n > 0 && t->frames[t->n - 1].dist >= dist) {
		uint32_t top = t->funcs[t->n - 1];
		bool tail = t->frames[t->n - 1].dist == dist && p->opts.noret &&
			    top < p->opts.nfuncs && p->opts.noret[top];

		close_top(p, t, tail ? PAIRING_RET : PAIRING_UNWOUND, ts, NULL);
	}
	/* two parallel arrays grown together (element types differ) */
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct frame *f = realloc(t->frames, cap * sizeof(*f));
		uint32_t *fn;

		if (!f) {
			drop_data(p, data);
			return -ENOMEM;
		}
		t->frames = f;
		fn = realloc(t->funcs, cap * sizeof(*fn));
		if (!fn) {
			drop_data(p, data);
			return -ENOMEM;
		}
		t->funcs = fn;
		t->cap = cap;
	}
	t->frames[t->n] = (struct frame){ .dist = dist, .start = ts, .seq = t->next_seq++,
					  .data = data };
	t->funcs[t->n] = func;
	t->n++;
	p->stats.entries++;
	return 0;
}

/* Like pairing_entry(): each *_data entry point has a plain form (pairing.h);
 * the two start alike because both take a goroutine's event. */
int pairing_ret(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		uint64_t ts)
{
	return pairing_ret_data(p, goid, g0, dist, func, ts, NULL);
}

int pairing_ret_data(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		     uint64_t ts, void *data)
{
	struct track *t;

	if (bad_goid(p, goid, data))
		return 0;
	t = lookup(p, KEY(goid, g0));
	if (!t) {
		p->stats.unmatched_rets++;
		drop_data(p, data);
		return 0;
	}
	t->ms_pending = false;
	while (t->n > 0 && t->frames[t->n - 1].dist > dist)
		close_top(p, t, PAIRING_UNWOUND, ts, NULL);
	if (t->n > 0 && t->frames[t->n - 1].dist == dist && t->funcs[t->n - 1] == func) {
		close_top(p, t, PAIRING_RET, ts, data);
	} else {
		p->stats.unmatched_rets++;
		drop_data(p, data);
	}
	if (t->n == 0)
		idle(p, t);
	return 0;
}

/* The track of (goid, g0) if it has one (a bad goid counted). */
static struct track *existing(struct pairing *p, int64_t goid, bool g0)
{
	return bad_goid(p, goid, NULL) ? NULL : lookup(p, KEY(goid, g0));
}

int pairing_morestack(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint64_t ts)
{
	/* Only tracks with open frames can see a duplicate entry. */
	struct track *t = existing(p, goid, g0);

	if (t) {
		t->ms_pending = true;
		t->ms_dist = dist;
	}
	return 0;
}

int pairing_unwind_to(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint64_t ts)
{
	struct track *t = existing(p, goid, g0);

	if (!t || !t->n || t->frames[t->n - 1].dist < dist)
		return 0;
	if (t->frames[t->n - 1].dist == dist && t->funcs[t->n - 1] == p->unwind_func)
		return 0;	/* its own entry, seen first */
	while (t->n > 0 && t->frames[t->n - 1].dist >= dist)
		close_top(p, t, PAIRING_UNWOUND, ts, NULL);
	if (t->n == 0)
		idle(p, t);
	return 0;
}

void pairing_set_unwind_func(struct pairing *p, uint32_t func)
{
	p->unwind_func = func;
}

static void end_track(struct pairing *p, uint64_t key, uint64_t ts)
{
	struct track *t = lookup(p, key);

	if (!t)
		return;
	while (t->n > 0)
		close_top(p, t, PAIRING_UNWOUND, ts, NULL);
	idle(p, t);
	drop(p, key);
}

int pairing_gexit(struct pairing *p, int64_t goid, uint64_t ts)
{
	if (bad_goid(p, goid, NULL))
		return 0;
	p->stats.gexits++;
	end_track(p, KEY(goid, false), ts);
	end_track(p, KEY(goid, true), ts);
	return 0;
}

void pairing_finish(struct pairing *p, uint64_t ts)
{
	for (size_t i = 0; i < p->nslots; i++) {
		struct track *t = p->slots[i];

		if (!t)
			continue;
		if (t->n > 0) {
			while (t->n > 0)
				close_top(p, t, PAIRING_OPEN, ts, NULL);
			idle(p, t);
		}
	}
}

int pairing_open_depth(const struct pairing *p, int64_t goid, bool g0)
{
	const struct track *t = lookup(p, KEY(goid, g0));

	return t ? t->n : 0;
}

const struct pairing_stats *pairing_stats(const struct pairing *p)
{
	return &p->stats;
}

const char *pairing_end_name(enum pairing_end end)
{
	switch (end) {
	case PAIRING_RET:
		return "ret";
	case PAIRING_UNWOUND:
		return "unwound";
	case PAIRING_OPEN:
		return "open";
	}
	return "?";
}
