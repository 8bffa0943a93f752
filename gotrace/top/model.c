// SPDX-License-Identifier: MIT
/*
 * top_model: rows of goroutines and groups from samples, and the keys
 * that change what is shown (model.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "top/model.h"

/* A table of rows with an index by key (goid, or the group's key string). */
struct rowtab {
	struct top_row *r;
	size_t n, cap;
	uint32_t *h;		/* open addressing: index + 1, 0 empty */
	size_t hcap;
};

struct top_model {
	struct top_ui ui;
	struct top_header hdr;
	struct rowtab gs;			/* goroutines */
	struct rowtab grp[2];			/* TOP_VIEW_START, TOP_VIEW_CREATED */
	struct top_row **vis;			/* the current view's rows */
	size_t nvis, viscap;
	uint64_t tick;				/* intervals applied */
	uint64_t gen;				/* samples applied (baselines too) */
	uint64_t prev_now, prev_trans, prev_lost;
	bool have_prev;
	/* the selected row, kept across refreshes and sorts */
	int64_t sel_goid;
	const char *sel_key;
	char saved_filter[TOP_FILTER_MAX];	/* restored by Esc while editing */
};

/* ---- columns ---- */

static const char *const col_names[TOP_NCOLS] = {
	"GOID", "STATE", "RUN", "RNBL", "SYS", "WAIT", "TOP WAIT", "LIFE", "START FUNCTION",
};

const char *top_col_name(enum top_view v, enum top_col c)
{
	if (v != TOP_VIEW_GOROUTINES) {
		if (c == TOP_COL_ID)
			return "COUNT";
		if (c == TOP_COL_NAME)
			return v == TOP_VIEW_START ? "START FUNCTION" : "CREATION SITE";
	}
	return c < TOP_NCOLS ? col_names[c] : "?";
}

bool top_col_shown(enum top_view v, enum top_col c)
{
	return c < TOP_NCOLS && !(c == TOP_COL_STATE && v != TOP_VIEW_GOROUTINES);
}

bool top_col_sortable(enum top_view v, enum top_col c)
{
	return top_col_shown(v, c) && c != TOP_COL_REASON;
}

const char *top_view_name(enum top_view v)
{
	switch (v) {
	case TOP_VIEW_GOROUTINES: return "goroutines";
	case TOP_VIEW_START: return "groups by start function";
	case TOP_VIEW_CREATED: return "groups by creation site";
	default: return "?";
	}
}

int top_col_parse(const char *s)
{
	static const char *const names[TOP_NCOLS] = {
		"goid", "state", "run", "rnbl", "sys", "wait", NULL, "life", "name",
	};

	if (!strcmp(s, "count"))
		return TOP_COL_ID;
	for (int c = 0; c < TOP_NCOLS; c++)
		if (names[c] && !strcmp(s, names[c]))
			return c;
	return -1;
}

uint8_t top_cls_of_status(uint32_t status)
{
	switch (status & ~0x1000u) {	/* _Gscan */
	case 1: case 9: return TOP_RNBL;	/* runnable, preempted */
	case 2: case 8: return TOP_RUN;		/* running, copystack */
	case 3: return TOP_SYS;
	case 4: case 10: return TOP_WAIT;	/* waiting, leaked (1.26+) */
	default: return TOP_DEAD;
	}
}

const char *top_cls_name(uint8_t cls)
{
	static const char *const n[TOP_NCLS] = { "running", "runnable", "syscall", "waiting" };

	return cls < TOP_NCLS ? n[cls] : "dead";
}

/* ---- row tables ---- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (s = s ? s : ""; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static bool same_key(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static uint64_t row_hash(const struct top_row *r, bool group)
{
	return group ? str_hash(r->name) : (uint64_t)r->goid * 0x9E3779B97F4A7C15ULL;
}

/* The slot of key (goid, or name for groups) in t->h. */
static size_t slot_of(const struct rowtab *t, bool group, int64_t goid, const char *name)
{
	uint64_t h = group ? str_hash(name) : (uint64_t)goid * 0x9E3779B97F4A7C15ULL;
	size_t k = (h >> 17) & (t->hcap - 1);

	while (t->h[k]) {
		const struct top_row *r = &t->r[t->h[k] - 1];

		if (group ? same_key(r->name, name) : r->goid == goid)
			break;
		k = (k + 1) & (t->hcap - 1);
	}
	return k;
}

static int rehash(struct rowtab *t, bool group, size_t want)
{
	size_t cap = 64;

	while (cap < want * 2)
		cap *= 2;
	if (cap != t->hcap) {
		uint32_t *h = calloc(cap, sizeof(*h));

		if (!h)
			return -ENOMEM;
		free(t->h);
		t->h = h;
		t->hcap = cap;
	} else {
		memset(t->h, 0, cap * sizeof(*t->h));
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t k = (row_hash(&t->r[i], group) >> 17) & (t->hcap - 1);

		while (t->h[k])
			k = (k + 1) & (t->hcap - 1);
		t->h[k] = (uint32_t)i + 1;
	}
	return 0;
}

/* The row of key, created (zeroed, key set) if missing; NULL on ENOMEM. */
static struct top_row *row_get(struct rowtab *t, bool group, int64_t goid, const char *name,
			       bool *isnew)
{
	struct top_row *r;
	size_t k;

	*isnew = false;
	if ((t->n + 1) * 2 > t->hcap && rehash(t, group, t->n + 1))
		return NULL;
	k = slot_of(t, group, goid, name);
	if (t->h[k])
		return &t->r[t->h[k] - 1];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct top_row *nr = realloc(t->r, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		t->r = nr;
		t->cap = cap;
	}
	r = &t->r[t->n];
	memset(r, 0, sizeof(*r));
	r->goid = goid;
	r->name = name;
	r->parent = -1;
	t->h[k] = (uint32_t)++t->n;
	*isnew = true;
	return r;
}

/* Drop the rows the last apply (generation gen) did not see, then index
 * the rest again. */
static int rowtab_compact(struct rowtab *t, bool group, uint64_t gen)
{
	size_t j = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (t->r[i].gen != gen)
			continue;
		if (i != j)
			t->r[j] = t->r[i];
		j++;
	}
	t->n = j;
	return rehash(t, group, j);
}

static void rowtab_free(struct rowtab *t)
{
	free(t->r);
	free(t->h);
}

/* ---- waits ---- */

/* Add ns (and count) for reason to list w of *n entries (TOP_WAITS at
 * most: a reason past them is dropped). */
static void wait_add(struct top_wait *w, uint8_t *n, uint32_t reason, uint64_t ns, uint32_t count)
{
	for (uint8_t i = 0; i < *n; i++) {
		if (w[i].reason == reason) {
			w[i].ns += ns;
			w[i].count += count;
			return;
		}
	}
	if (*n < TOP_WAITS)
		w[(*n)++] = (struct top_wait){ .ns = ns, .reason = reason, .count = count };
}

static int wait_cmp(const void *a, const void *b)
{
	const struct top_wait *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

static void wait_sort(struct top_wait *w, uint8_t n)
{
	qsort(w, n, sizeof(*w), wait_cmp);
}

/* ---- samples ---- */

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void hist_push(const struct top_model *m, struct top_row *r)
{
	uint64_t whole = (m->hdr.interval_ns ? m->hdr.interval_ns : 1) * (r->count ? r->count : 1);
	uint8_t *h = r->hist[m->tick % TOP_HIST];

	for (int c = 0; c < TOP_NCLS; c++) {
		uint64_t v = r->d[c] * 255 / whole;

		/* a share too small to round up still shows as a trace */
		h[c] = v > 255 ? 255 : v ? (uint8_t)v : r->d[c] ? 1 : 0;
	}
}

/* The interval's waits of a goroutine: its cumulative waits minus those
 * of the previous sample. */
static void goroutine_dwaits(struct top_row *r, const struct top_gsample *g)
{
	r->ndwaits = 0;
	for (uint8_t i = 0; i < g->nwaits; i++) {
		uint64_t ns = g->waits[i].ns;
		uint32_t cnt = g->waits[i].count;

		for (uint8_t k = 0; k < r->nprev_waits; k++) {
			if (r->prev_waits[k].reason == g->waits[i].reason) {
				ns = sub0(ns, r->prev_waits[k].ns);
				cnt = cnt > r->prev_waits[k].count ? cnt - r->prev_waits[k].count : 0;
				break;
			}
		}
		if (ns || cnt)
			wait_add(r->dwaits, &r->ndwaits, g->waits[i].reason, ns, cnt);
	}
	wait_sort(r->dwaits, r->ndwaits);
	memcpy(r->prev_waits, g->waits, sizeof(r->prev_waits));
	r->nprev_waits = g->nwaits;
}

/* One goroutine of a sample into its row. */
static void goroutine_apply(struct top_model *m, struct top_row *r, const struct top_gsample *g,
			    bool isnew, bool baseline)
{
	uint64_t now = m->hdr.now_ns;

	r->start = g->start;
	r->name = g->start;
	r->created = g->created;
	r->parent = g->parent;
	r->state = g->end_ns ? TOP_DEAD : g->state;
	r->reason = g->reason;
	r->flags = g->flags;
	r->count = 1;
	r->first_ns = g->first_ns;
	r->end_ns = g->end_ns;
	r->life_lower = g->flags & TOP_G_BEFORE;
	r->life_ns = sub0(g->end_ns ? g->end_ns : now, g->first_ns);
	memset(r->nstate, 0, sizeof(r->nstate));
	if (r->state < TOP_NCLS)
		r->nstate[r->state] = 1;
	if (isnew)
		r->hist_from = baseline ? m->tick + 1 : m->tick;
	for (int c = 0; c < TOP_NCLS; c++) {
		r->d[c] = baseline ? 0 : sub0(g->ns[c], r->prev[c]);
		r->prev[c] = r->cum[c] = g->ns[c];
	}
	r->dtrans = baseline ? 0 : sub0(g->transitions, r->prev_trans);
	r->prev_trans = r->transitions = g->transitions;
	if (baseline) {
		r->ndwaits = 0;
		memcpy(r->prev_waits, g->waits, sizeof(r->prev_waits));
		r->nprev_waits = g->nwaits;
	} else {
		goroutine_dwaits(r, g);
	}
	memcpy(r->waits, g->waits, sizeof(r->waits));
	r->nwaits = g->nwaits;
	wait_sort(r->waits, r->nwaits);
	r->gen = m->gen;
	if (g->end_ns && !r->exited) {
		r->exited = true;
		m->hdr.exited += !baseline;
	}
	if (!baseline && isnew && !(g->flags & TOP_G_BEFORE) && g->first_ns > m->prev_now)
		m->hdr.created++;
	if (!baseline)
		hist_push(m, r);
}

static bool shown_goroutine(const struct top_model *m, const struct top_row *r)
{
	return m->ui.system || !(r->flags & TOP_G_SYSTEM);
}

/* One goroutine into its group (of view v).  A group lives as long as it
 * has a member alive or exited in the interval. */
static int group_add(struct top_model *m, int v, const struct top_row *g, bool baseline)
{
	const char *key = v == 0 ? g->start : g->created;
	struct top_row *r;
	bool isnew;

	if (!(r = row_get(&m->grp[v], true, 0, key, &isnew)))
		return -ENOMEM;
	if (isnew)
		r->hist_from = baseline ? m->tick + 1 : m->tick;
	if (r->gen != m->gen) {		/* its first member in this sample: start over */
		uint8_t hist[TOP_HIST][TOP_NCLS];
		uint64_t from = r->hist_from;

		memcpy(hist, r->hist, sizeof(hist));
		memset(r, 0, sizeof(*r));
		memcpy(r->hist, hist, sizeof(hist));
		r->hist_from = from;
		r->name = key;
		r->start = g->start;
		r->created = g->created;
		r->parent = -1;
		r->gen = m->gen;
	}
	for (int c = 0; c < TOP_NCLS; c++)
		r->d[c] += g->d[c];
	r->dtrans += g->dtrans;
	for (uint8_t i = 0; i < g->ndwaits; i++)
		wait_add(r->dwaits, &r->ndwaits, g->dwaits[i].reason, g->dwaits[i].ns,
			 g->dwaits[i].count);
	if (g->exited)
		return 0;
	r->count++;
	if (g->state < TOP_NCLS)
		r->nstate[g->state]++;
	for (int c = 0; c < TOP_NCLS; c++)
		r->cum[c] += g->cum[c];
	r->transitions += g->transitions;
	for (uint8_t i = 0; i < g->nwaits; i++)
		wait_add(r->waits, &r->nwaits, g->waits[i].reason, g->waits[i].ns, g->waits[i].count);
	if (!r->first_goid || g->goid < r->first_goid)
		r->first_goid = g->goid;
	if (g->life_ns > r->life_ns || (g->life_lower && !r->life_lower)) {
		r->life_ns = g->life_ns;
		r->life_lower = g->life_lower;
		r->first_ns = g->first_ns;
	}
	return 0;
}

static int groups_build(struct top_model *m, bool baseline)
{
	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < m->gs.n; i++) {
			const struct top_row *g = &m->gs.r[i];

			if (shown_goroutine(m, g) && group_add(m, v, g, baseline))
				return -ENOMEM;
		}
		if (rowtab_compact(&m->grp[v], true, m->gen))
			return -ENOMEM;
		for (size_t i = 0; i < m->grp[v].n; i++) {
			struct top_row *r = &m->grp[v].r[i];

			wait_sort(r->dwaits, r->ndwaits);
			wait_sort(r->waits, r->nwaits);
			if (!baseline)
				hist_push(m, r);
		}
	}
	return 0;
}

/* The header's numbers from the goroutine rows. */
static void header_sum(struct top_model *m, const struct top_sample *s, bool baseline)
{
	struct top_header *h = &m->hdr;
	uint64_t run = 0, sys = 0, gc = 0;

	memset(h->nstate, 0, sizeof(h->nstate));
	h->total = h->system = 0;
	for (size_t i = 0; i < m->gs.n; i++) {
		const struct top_row *r = &m->gs.r[i];

		run += r->d[TOP_RUN];
		sys += r->d[TOP_SYS];
		if (r->flags & TOP_G_GCWORKER)
			gc += r->d[TOP_RUN];
		if (r->exited)
			continue;
		if (r->flags & TOP_G_SYSTEM)
			h->system++;
		if (!shown_goroutine(m, r))
			continue;
		h->total++;
		if (r->state < TOP_NCLS)
			h->nstate[r->state]++;
	}
	h->gc_share = run + sys ? (double)gc / (double)(run + sys) : 0;
	h->sys_share = run + sys ? (double)sys / (double)(run + sys) : 0;
	h->trans_per_s = -1;
	if (s->have_transitions && !baseline)
		h->trans_per_s = (double)sub0(s->transitions, m->prev_trans) * 1e9 /
				 (double)h->interval_ns;
	h->lost_d = baseline ? 0 : sub0(s->lost, m->prev_lost);
	h->lost = s->lost;
	h->unreadable = s->unreadable;
}

static void visible_build(struct top_model *m);

int top_model_apply(struct top_model *m, const struct top_sample *s, bool baseline)
{
	struct top_header *h = &m->hdr;

	if (!m->have_prev)
		baseline = true;
	m->gen++;
	if (!baseline)
		m->tick++;
	h->now_ns = s->now_ns;
	h->interval_ns = baseline ? 0 : (s->now_ns > m->prev_now ? s->now_ns - m->prev_now : 1);
	h->created = h->exited = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct top_gsample *g = &s->g[i];
		struct top_row *r;
		bool isnew;

		if (!(r = row_get(&m->gs, false, g->goid, NULL, &isnew)))
			return -ENOMEM;
		if (!isnew && r->exited)
			continue;	/* its exit was applied: it leaves now */
		goroutine_apply(m, r, g, isnew, baseline);
	}
	/* goroutines not in the sample, and those whose exit was applied
	 * at the last one, leave */
	if (rowtab_compact(&m->gs, false, m->gen))
		return -ENOMEM;
	if (groups_build(m, baseline))
		return -ENOMEM;
	header_sum(m, s, baseline);
	h->ticks = m->tick;
	m->prev_now = s->now_ns;
	m->prev_trans = s->transitions;
	m->prev_lost = s->lost;
	m->have_prev = true;
	visible_build(m);
	return 0;
}

/* ---- the table: filter, sort, selection ---- */

bool top_row_matches(const struct top_row *r, const char *filter)
{
	if (!filter || !*filter)
		return true;
	return (r->name && strcasestr(r->name, filter)) ||
	       (r->start && strcasestr(r->start, filter)) ||
	       (r->created && strcasestr(r->created, filter));
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;	/* unknown names last */
	return strcmp(a, b);
}

/* Each column's natural order: numbers largest first, ids and names
 * ascending; ties by goid or name so the order is stable. */
static int row_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct top_model *m = ctx;
	const struct top_row *a = *(struct top_row *const *)pa, *b = *(struct top_row *const *)pb;
	bool groups = m->ui.view != TOP_VIEW_GOROUTINES;
	int c = 0;

	switch (m->ui.sort) {
	case TOP_COL_ID:
		c = groups ? -cmp_u64(a->count, b->count) : cmp_u64((uint64_t)a->goid, (uint64_t)b->goid);
		break;
	case TOP_COL_STATE: c = cmp_u64(a->state, b->state); break;
	case TOP_COL_RUN: c = -cmp_u64(a->d[TOP_RUN], b->d[TOP_RUN]); break;
	case TOP_COL_RNBL: c = -cmp_u64(a->d[TOP_RNBL], b->d[TOP_RNBL]); break;
	case TOP_COL_SYS: c = -cmp_u64(a->d[TOP_SYS], b->d[TOP_SYS]); break;
	case TOP_COL_WAIT: c = -cmp_u64(a->d[TOP_WAIT], b->d[TOP_WAIT]); break;
	case TOP_COL_LIFE:
		c = -cmp_u64(a->life_ns, b->life_ns);
		if (!c)
			c = (int)b->life_lower - (int)a->life_lower;
		break;
	case TOP_COL_NAME: c = cmp_str(a->name, b->name); break;
	default: break;
	}
	if (m->ui.ascending)
		c = -c;
	if (!c)
		c = groups ? cmp_str(a->name, b->name) : cmp_u64((uint64_t)a->goid, (uint64_t)b->goid);
	return c;
}

static bool is_selected(const struct top_model *m, const struct top_row *r)
{
	if (m->ui.view == TOP_VIEW_GOROUTINES)
		return m->sel_goid && r->goid == m->sel_goid;
	return m->sel_key && same_key(r->name, m->sel_key);
}

static void remember_selection(struct top_model *m)
{
	const struct top_row *r = top_model_selected(m);

	m->sel_goid = r ? r->goid : 0;
	m->sel_key = r ? r->name : NULL;
}

static void scroll_to_selection(struct top_model *m)
{
	struct top_ui *u = &m->ui;
	size_t page = u->page ? u->page : 1;

	if (u->sel >= m->nvis)
		u->sel = m->nvis ? m->nvis - 1 : 0;
	if (u->sel < u->top)
		u->top = u->sel;
	if (u->sel >= u->top + page)
		u->top = u->sel + 1 - page;
	if (u->top + page > m->nvis)
		u->top = m->nvis > page ? m->nvis - page : 0;
}

/* The rows of the current view that pass the filter, sorted; the selection
 * follows its row (by goid or key) wherever the sort puts it. */
static void visible_build(struct top_model *m)
{
	const struct rowtab *t = m->ui.view == TOP_VIEW_GOROUTINES ? &m->gs :
				 &m->grp[m->ui.view == TOP_VIEW_START ? 0 : 1];

	if (t->n > m->viscap) {
		struct top_row **v = realloc(m->vis, t->n * sizeof(*v));

		if (!v) {
			m->nvis = 0;	/* nothing shown rather than stale pointers */
			return;
		}
		m->vis = v;
		m->viscap = t->n;
	}
	m->nvis = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct top_row *r = &t->r[i];

		if (m->ui.view == TOP_VIEW_GOROUTINES && (r->exited || !shown_goroutine(m, r)))
			continue;
		if (top_row_matches(r, m->ui.filter))
			m->vis[m->nvis++] = r;
	}
	qsort_r(m->vis, m->nvis, sizeof(*m->vis), row_cmp, m);
	for (size_t i = 0; i < m->nvis; i++) {
		if (is_selected(m, m->vis[i])) {
			m->ui.sel = i;
			break;
		}
	}
	scroll_to_selection(m);
	remember_selection(m);
}

/* ---- keys ---- */

static void move_sel(struct top_model *m, long delta)
{
	long s = (long)m->ui.sel + delta;

	if (s < 0 || !m->nvis)
		s = 0;
	else if ((size_t)s >= m->nvis)
		s = (long)m->nvis - 1;
	m->ui.sel = (size_t)s;
	scroll_to_selection(m);
	remember_selection(m);
}

/* s: the next sortable column of the view, in display order. */
static void next_sort(struct top_model *m)
{
	int c = m->ui.sort;

	do
		c = (c + 1) % TOP_NCOLS;
	while (!top_col_sortable(m->ui.view, c));
	m->ui.sort = c;
	m->ui.ascending = false;
}

static enum top_action edit_key(struct top_model *m, int key)
{
	struct top_ui *u = &m->ui;
	size_t len = strlen(u->filter);

	switch (key) {
	case TOP_KEY_ENTER:
		u->editing = false;
		break;
	case TOP_KEY_ESC:
		memcpy(u->filter, m->saved_filter, sizeof(u->filter));
		u->editing = false;
		break;
	case TOP_KEY_BACKSPACE:
		if (len)
			u->filter[len - 1] = 0;
		break;
	default:
		if (key < 0x20 || key > 0x7e || len + 1 >= sizeof(u->filter))
			return TOP_ACT_NONE;
		u->filter[len] = (char)key;
		u->filter[len + 1] = 0;
	}
	visible_build(m);
	return TOP_ACT_REDRAW;
}

enum top_action top_model_key(struct top_model *m, int key)
{
	struct top_ui *u = &m->ui;
	long page = u->page ? (long)u->page : 1;

	if (u->editing)
		return edit_key(m, key);
	switch (key) {
	case 'q': return TOP_ACT_QUIT;
	case TOP_KEY_UP: case 'k': move_sel(m, -1); break;
	case TOP_KEY_DOWN: case 'j': move_sel(m, 1); break;
	case TOP_KEY_PGUP: move_sel(m, -page); break;
	case TOP_KEY_PGDN: case ' ': move_sel(m, page); break;
	case TOP_KEY_HOME: move_sel(m, -(long)m->nvis); break;
	case TOP_KEY_END: move_sel(m, (long)m->nvis); break;
	case 's': next_sort(m); visible_build(m); break;
	case 'S': u->ascending = !u->ascending; visible_build(m); break;
	case 'g':
		u->view = (u->view + 1) % TOP_NVIEWS;
		if (!top_col_sortable(u->view, u->sort))
			next_sort(m);
		u->sel = u->top = 0;
		visible_build(m);
		break;
	case '/':
		memcpy(m->saved_filter, u->filter, sizeof(u->filter));
		u->editing = true;
		break;
	case 'p':
		u->paused = !u->paused;
		return u->paused ? TOP_ACT_PAUSE : TOP_ACT_RESUME;
	case TOP_KEY_ENTER: u->detail = !u->detail; break;
	case '?': case 'h': u->help = !u->help; break;
	case TOP_KEY_ESC:
		if (!u->help && !u->detail)
			return TOP_ACT_NONE;
		u->help = u->detail = false;
		break;
	default:
		return TOP_ACT_NONE;
	}
	return TOP_ACT_REDRAW;
}

/* ---- life and accessors ---- */

struct top_model *top_model_new(const struct top_ui *ui)
{
	struct top_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (ui)
		m->ui = *ui;
	if (!top_col_sortable(m->ui.view, m->ui.sort))
		next_sort(m);
	return m;
}

void top_model_free(struct top_model *m)
{
	if (!m)
		return;
	rowtab_free(&m->gs);
	rowtab_free(&m->grp[0]);
	rowtab_free(&m->grp[1]);
	free(m->vis);
	free(m);
}

struct top_row *const *top_model_rows(const struct top_model *m, size_t *n)
{
	*n = m->nvis;
	return m->vis;
}

const struct top_row *top_model_selected(const struct top_model *m)
{
	return m->ui.sel < m->nvis ? m->vis[m->ui.sel] : NULL;
}

const struct top_header *top_model_header(const struct top_model *m)
{
	return &m->hdr;
}

struct top_ui *top_model_ui(struct top_model *m)
{
	return &m->ui;
}

void top_model_set_page(struct top_model *m, size_t rows)
{
	m->ui.page = rows;
	scroll_to_selection(m);
}

int top_row_hist(const struct top_model *m, const struct top_row *r, unsigned k, enum top_cls c)
{
	uint64_t t;

	if (k >= TOP_HIST || k >= m->tick || c >= TOP_NCLS)
		return -1;
	t = m->tick - k;
	if (t < r->hist_from)
		return -1;
	return r->hist[t % TOP_HIST][c];
}
