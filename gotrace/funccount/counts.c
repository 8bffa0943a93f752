// SPDX-License-Identifier: MIT
/* funccount's tally from its BPF maps (see funccount/counts.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "funccount.h"
#include "aggregate/maps.h"
#include "funccount/counts.h"

/* One (goroutine, function) pair, cumulative. */
struct gcell {
	int64_t goid;		/* 0: empty slot (goid 0 is no goroutine) */
	uint32_t func;
	uint64_t entries, dups, prev;
};

struct fc_counts {
	struct fc_counts_opts o;
	uint32_t *by_entry;	/* function indexes sorted by entry (pc lookups) */
	uint64_t *entries;	/* per function, from `counts` */
	uint64_t *dups;		/* morestack hits from it, live keys */
	uint64_t *reaped_dups;	/* ... of goroutines reaped */
	uint64_t *prev;		/* calls at the last interval */
	uint64_t ms_untraced, reaped_untraced;
	struct gcell *cells;	/* open addressing */
	size_t ncells, capcells;
	struct fc_counts_stats stats;
};

static const struct fc_func *sort_funcs;

static int cmp_entry(const void *a, const void *b)
{
	uint64_t x = sort_funcs[*(const uint32_t *)a].entry, y = sort_funcs[*(const uint32_t *)b].entry;

	return x < y ? -1 : x > y;
}

int fc_counts_new(const struct fc_counts_opts *o, struct fc_counts **out)
{
	struct fc_counts *c = calloc(1, sizeof(*c));
	uint32_t n = o->nfuncs ? o->nfuncs : 1;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->o = *o;
	c->by_entry = calloc(n, sizeof(*c->by_entry));
	c->entries = calloc(n, sizeof(uint64_t));
	c->dups = calloc(n, sizeof(uint64_t));
	c->reaped_dups = calloc(n, sizeof(uint64_t));
	c->prev = calloc(n, sizeof(uint64_t));
	if (!c->by_entry || !c->entries || !c->dups || !c->reaped_dups || !c->prev) {
		fc_counts_free(c);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->nfuncs; i++)
		c->by_entry[i] = i;
	sort_funcs = o->funcs;
	qsort(c->by_entry, o->nfuncs, sizeof(*c->by_entry), cmp_entry);
	*out = c;
	return 0;
}

void fc_counts_free(struct fc_counts *c)
{
	if (!c)
		return;
	free(c->by_entry);
	free(c->entries);
	free(c->dups);
	free(c->reaped_dups);
	free(c->prev);
	free(c->cells);
	free(c);
}

const struct fc_func *fc_counts_func(const struct fc_counts *c, uint32_t i)
{
	return i < c->o.nfuncs ? &c->o.funcs[i] : NULL;
}

/* The traced function whose code holds pc (link-time), or -1. */
static int64_t func_of(const struct fc_counts *c, uint64_t pc)
{
	size_t lo = 0, hi = c->o.nfuncs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->o.funcs[c->by_entry[mid]].entry <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo = c->by_entry[lo - 1];
	return pc < c->o.funcs[lo].end ? (int64_t)lo : -1;
}

static size_t slot_of(int64_t goid, uint32_t func, size_t cap)
{
	uint64_t k = (uint64_t)goid * 0x9e3779b97f4a7c15ULL ^ func * 0xff51afd7ed558ccdULL;

	return (k ^ (k >> 31)) & (cap - 1);
}

static int grow(struct fc_counts *c)
{
	size_t cap = c->capcells ? c->capcells * 2 : 1024;
	struct gcell *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < c->capcells; i++) {
		struct gcell *g = &c->cells[i];
		size_t j;

		if (!g->goid)
			continue;
		for (j = slot_of(g->goid, g->func, cap); n[j].goid; j = (j + 1) & (cap - 1))
			;
		n[j] = *g;
	}
	free(c->cells);
	c->cells = n;
	c->capcells = cap;
	return 0;
}

static struct gcell *cell(struct fc_counts *c, int64_t goid, uint32_t func)
{
	size_t j;

	if ((c->ncells + 1) * 4 > c->capcells * 3 && grow(c))
		return NULL;
	for (j = slot_of(goid, func, c->capcells); c->cells[j].goid; j = (j + 1) & (c->capcells - 1))
		if (c->cells[j].goid == goid && c->cells[j].func == func)
			return &c->cells[j];
	c->cells[j] = (struct gcell){ .goid = goid, .func = func };
	c->ncells++;
	return &c->cells[j];
}

static bool is_dead(const int64_t *dead, size_t ndead, int64_t goid)
{
	for (size_t i = 0; i < ndead; i++)	/* few per interval */
		if (dead[i] == goid)
			return true;
	return false;
}

/* Per goroutine: the (goroutine, function) entry counts, those of exited
 * goroutines deleted from the map once read. */
static int read_gcounts(struct fc_counts *c, const int64_t *dead, size_t ndead)
{
	struct fc_gkey *keys = NULL;
	uint64_t *vals = NULL;
	size_t n = 0, w = 0;
	int err = gt_map_dump(c->o.gcounts_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			      (void **)&vals, &n);

	for (size_t i = 0; !err && i < n; i++) {
		struct gcell *g = keys[i].goid > 0 ? cell(c, keys[i].goid, keys[i].func) : NULL;

		if (keys[i].goid > 0 && !g)
			err = -ENOMEM;
		else if (g)
			g->entries = vals[i];
		if (ndead && is_dead(dead, ndead, keys[i].goid))
			keys[w++] = keys[i];
	}
	if (!err && w)
		err = gt_map_delete_keys(c->o.gcounts_fd, keys, sizeof(*keys), w);
	free(keys);
	free(vals);
	return err;
}

/* The morestack hits, by function (and goroutine); those of exited
 * goroutines move to reaped_dups and are deleted. */
static int read_ms(struct fc_counts *c, const int64_t *dead, size_t ndead)
{
	struct fc_mskey *keys = NULL;
	uint64_t *vals = NULL;
	size_t n = 0, w = 0;
	int err = gt_map_dump(c->o.ms_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			      (void **)&vals, &n);

	memset(c->dups, 0, c->o.nfuncs * sizeof(*c->dups));
	c->ms_untraced = 0;
	for (size_t i = 0; !err && i < n; i++) {
		int64_t f = func_of(c, keys[i].pc);
		bool gone = ndead && keys[i].goid > 0 && is_dead(dead, ndead, keys[i].goid);

		if (f < 0) {
			if (gone)
				c->reaped_untraced += vals[i];
			else
				c->ms_untraced += vals[i];
		} else {
			struct gcell *g = keys[i].goid > 0 ? cell(c, keys[i].goid, (uint32_t)f) : NULL;

			if (g)
				g->dups = vals[i];
			if (gone)
				c->reaped_dups[f] += vals[i];
			else
				c->dups[f] += vals[i];
		}
		if (gone)
			keys[w++] = keys[i];
	}
	if (!err && w)
		err = gt_map_delete_keys(c->o.ms_fd, keys, sizeof(*keys), w);
	free(keys);
	free(vals);
	return err;
}

int fc_counts_update(struct fc_counts *c)
{
	int64_t *dead = NULL;
	uint8_t *dv = NULL;
	size_t ndead = 0;
	int err;

	/* exits first: what is read after them is those goroutines' last */
	if (c->o.per_goroutine) {
		err = gt_map_dump(c->o.dead_fd, sizeof(*dead), sizeof(*dv), (void **)&dead,
				  (void **)&dv, &ndead);
		if (err)
			return err;
	}
	/* entries before morestack hits: see counts.h */
	err = gt_map_read_percpu_u64(c->o.counts_fd, 0, c->o.nfuncs, c->entries);
	if (!err && c->o.per_goroutine)
		err = read_gcounts(c, dead, ndead);
	if (!err)
		err = read_ms(c, dead, ndead);
	if (!err && ndead) {
		err = gt_map_delete_keys(c->o.dead_fd, dead, sizeof(*dead), ndead);
		c->stats.reaped += ndead;
	}
	free(dead);
	free(dv);
	return err;
}

static uint64_t calls_of(uint64_t entries, uint64_t dups)
{
	return entries > dups ? entries - dups : 0;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct fc_row *x = a, *y = b;

	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	if (x->goid != y->goid)
		return x->goid < y->goid ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

/* The rows of calls - base (base: the previous interval, or none), with
 * mark set the interval restarts. */
static int rows(struct fc_counts *c, bool per_g, bool since_prev, bool mark, struct fc_row **out,
		size_t *n)
{
	size_t cap = per_g ? c->ncells : c->o.nfuncs, k = 0;
	struct fc_row *r = calloc(cap ? cap : 1, sizeof(*r));

	*out = NULL;
	*n = 0;
	if (!r)
		return -ENOMEM;
	if (!per_g) {
		for (uint32_t f = 0; f < c->o.nfuncs; f++) {
			uint64_t now = calls_of(c->entries[f], c->dups[f] + c->reaped_dups[f]);
			uint64_t base = since_prev && c->prev[f] <= now ? c->prev[f] : 0;

			if (now > base)
				r[k++] = (struct fc_row){ -1, f, now - base };
			if (mark && now > c->prev[f])
				c->prev[f] = now;
		}
	} else {
		for (size_t i = 0; i < c->capcells; i++) {
			struct gcell *g = &c->cells[i];
			uint64_t now, base;

			if (!g->goid)
				continue;
			now = calls_of(g->entries, g->dups);
			base = since_prev && g->prev <= now ? g->prev : 0;
			if (now > base)
				r[k++] = (struct fc_row){ g->goid, g->func, now - base };
			if (mark && now > g->prev)
				g->prev = now;
		}
	}
	qsort(r, k, sizeof(*r), cmp_rows);
	*out = r;
	*n = k;
	return 0;
}

int fc_counts_interval(struct fc_counts *c, struct fc_row **r, size_t *n)
{
	return rows(c, c->o.per_goroutine, true, true, r, n);
}

int fc_counts_total(struct fc_counts *c, bool per_goroutine, struct fc_row **r, size_t *n)
{
	return rows(c, per_goroutine && c->o.per_goroutine, false, false, r, n);
}

static int cmp_goid(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void fc_counts_stats(const struct fc_counts *c, struct fc_counts_stats *s)
{
	int64_t *ids;
	size_t k = 0;

	*s = c->stats;
	s->ms_untraced = c->ms_untraced + c->reaped_untraced;
	s->goroutines = 0;
	if (!c->o.per_goroutine || !c->ncells || !(ids = malloc(c->ncells * sizeof(*ids))))
		return;
	for (size_t i = 0; i < c->capcells; i++)
		if (c->cells[i].goid)
			ids[k++] = c->cells[i].goid;
	qsort(ids, k, sizeof(*ids), cmp_goid);
	for (size_t i = 0; i < k; i++)
		s->goroutines += !i || ids[i] != ids[i - 1];
	free(ids);
}
