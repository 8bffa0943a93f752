// SPDX-License-Identifier: MIT
/*
 * states_groups: goroutines by start function, creation site or pprof
 * label, with per-group and process-wide distributions.  See groups.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/histogram.h"
#include "states/groups.h"

struct st_groups {
	struct st_groups_opts o;
	struct st_group **list;		/* every group, in display order */
	size_t n, cap;
	struct st_group **tab;		/* open addressing by key */
	size_t tabcap;
	struct st_group *nokey;		/* the group of unknown keys */
	struct st_group all;
	struct st_latency lat;
	struct st_reason_lat *rl[ST_MAX_REASONS];	/* process-wide, by reason */
	uint8_t cat_of[ST_MAX_REASONS];
	bool finished;
};

static const char *const cat_names[ST_NCAT] = {
	[ST_CAT_EXEC] = "execution", [ST_CAT_SCHED] = "sched wait", [ST_CAT_SYSCALL] = "syscall",
	[ST_CAT_NET] = "network", [ST_CAT_SYNC] = "sync", [ST_CAT_SLEEP] = "sleep",
	[ST_CAT_GC] = "GC", [ST_CAT_OTHER] = "other",
};

const char *st_cat_name(enum st_cat c)
{
	return c < ST_NCAT ? cat_names[c] : "other";
}

const char *st_gstate_name(enum st_gstate s)
{
	static const char *const names[ST_NGS] = { "running", "runnable", "syscall", "waiting" };

	return s < ST_NGS ? names[s] : "?";
}

static bool prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* By the runtime's own strings (runtime2.go waitReasonStrings), which the
 * binary carries: the same words in every Go release, whatever the enum's
 * numbering. */
enum st_cat st_reason_category(const char *r)
{
	if (!r || !r[0])
		return ST_CAT_OTHER;
	if (!strcmp(r, "IO wait"))
		return ST_CAT_NET;
	if (!strcmp(r, "sleep"))
		return ST_CAT_SLEEP;
	if (prefix(r, "chan ") || prefix(r, "select") || prefix(r, "sync.") ||
	    prefix(r, "semacquire") || prefix(r, "coroutine"))
		return ST_CAT_SYNC;
	if (prefix(r, "GC") || prefix(r, "garbage collection") || prefix(r, "force gc") ||
	    prefix(r, "wait for GC cycle"))
		return ST_CAT_GC;
	return ST_CAT_OTHER;
}

int st_group_by_parse(const char *s, enum st_group_by *by, const char **label_key)
{
	if (!strcmp(s, "start") || !strcmp(s, "start-function")) {
		*by = ST_GROUP_START;
	} else if (!strcmp(s, "creation") || !strcmp(s, "creation-site")) {
		*by = ST_GROUP_CREATION;
	} else if (prefix(s, "label:") && s[6]) {
		*by = ST_GROUP_LABEL;
		*label_key = s + 6;
	} else {
		return -EINVAL;
	}
	return 0;
}

const char *st_group_by_name(const struct st_groups *gs, char *buf, size_t len)
{
	switch (gs->o.by) {
	case ST_GROUP_START:
		return "start function";
	case ST_GROUP_CREATION:
		return "creation site";
	case ST_GROUP_LABEL:
		snprintf(buf, len, "label %s", gs->o.label_key ? gs->o.label_key : "?");
		return buf;
	}
	return "?";
}

uint64_t st_dist_percentile(const struct st_dist *d, double p)
{
	return d->hist && d->count ? gt_hist_percentile(d->hist, p, d->max) : 0;
}

struct st_groups *st_groups_new(const struct st_groups_opts *o)
{
	struct st_groups *gs = calloc(1, sizeof(*gs));

	if (!gs)
		return NULL;
	gs->o = *o;
	for (int r = 0; r < ST_MAX_REASONS; r++)
		gs->cat_of[r] = r < o->nreasons && o->reasons ? st_reason_category(o->reasons[r])
							       : ST_CAT_OTHER;
	return gs;
}

static void group_release(struct st_group *g)
{
	for (int s = 0; s < ST_NGS; s++)
		free(g->vals[s]);
	free(g->waits);
	free(g->sched.hist);
}

void st_groups_free(struct st_groups *gs)
{
	if (!gs)
		return;
	for (size_t i = 0; i < gs->n; i++) {
		group_release(gs->list[i]);
		free(gs->list[i]);
	}
	group_release(&gs->all);
	for (int r = 0; r < ST_MAX_REASONS; r++) {
		if (gs->rl[r])
			free(gs->rl[r]->d.hist);
		free(gs->rl[r]);
	}
	free(gs->lat.reasons);
	free(gs->list);
	free(gs->tab);
	free(gs);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int tab_grow(struct st_groups *gs)
{
	size_t ncap = gs->tabcap ? gs->tabcap * 2 : 256;
	struct st_group **nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < gs->n; i++) {
		struct st_group *g = gs->list[i];
		size_t j;

		if (!g->key)
			continue;
		for (j = hash_str(g->key) & (ncap - 1); nt[j]; j = (j + 1) & (ncap - 1))
			;
		nt[j] = g;
	}
	free(gs->tab);
	gs->tab = nt;
	gs->tabcap = ncap;
	return 0;
}

static struct st_group *new_group(struct st_groups *gs, const char *key)
{
	struct st_group *g;

	if (gs->n == gs->cap) {
		size_t nc = gs->cap ? gs->cap * 2 : 64;
		struct st_group **nl = realloc(gs->list, nc * sizeof(*nl));

		if (!nl)
			return NULL;
		gs->list = nl;
		gs->cap = nc;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = key;
	gs->list[gs->n++] = g;
	return g;
}

static struct st_group *group_of(struct st_groups *gs, const char *key)
{
	size_t j;

	if (!key) {
		if (!gs->nokey)
			gs->nokey = new_group(gs, NULL);
		return gs->nokey;
	}
	if ((gs->n + 1) * 2 > gs->tabcap && tab_grow(gs))
		return NULL;
	for (j = hash_str(key) & (gs->tabcap - 1); gs->tab[j]; j = (j + 1) & (gs->tabcap - 1))
		if (!strcmp(gs->tab[j]->key, key))
			return gs->tab[j];
	gs->tab[j] = new_group(gs, key);
	return gs->tab[j];
}

static const char *key_of(const struct st_groups *gs, const struct st_goroutine *g)
{
	switch (gs->o.by) {
	case ST_GROUP_START:
		return g->start_func;
	case ST_GROUP_CREATION:
		return g->created_at;
	case ST_GROUP_LABEL:
		return st_labels_get(g->labels, gs->o.label_key);
	}
	return NULL;
}

static int add_wait_total(struct st_group *grp, uint32_t reason, uint64_t ns, uint64_t count)
{
	for (size_t i = 0; i < grp->nwaits; i++)
		if (grp->waits[i].reason == reason) {
			grp->waits[i].ns += ns;
			grp->waits[i].count += count;
			return 0;
		}
	/* grows one at a time: a group waits for a handful of reasons */
	struct st_group_wait *nw = realloc(grp->waits, (grp->nwaits + 1) * sizeof(*nw));

	if (!nw)
		return -ENOMEM;
	grp->waits = nw;
	grp->waits[grp->nwaits++] = (struct st_group_wait){ reason, ns, count };
	return 0;
}

static int dist_merge(struct st_dist *d, const struct st_hist *h, uint32_t kind)
{
	if (!d->hist && !(d->hist = calloc(HIST_NB, sizeof(*d->hist))))
		return -ENOMEM;
	st_hist_merge(h, kind, d->hist);
	return 0;
}

static const uint8_t gs_of_state[ST_NGS] = {
	STATES_G_RUNNING, STATES_G_RUNNABLE, STATES_G_SYSCALL, STATES_G_WAITING,
};

static int group_add(struct st_groups *gs, struct st_group *grp, const struct st_goroutine *g)
{
	uint64_t life = 0, waits = 0;
	int err = 0;

	if (grp->n == grp->cap) {
		size_t nc = grp->cap ? grp->cap * 2 : 8;

		for (int s = 0; s < ST_NGS; s++) {
			uint64_t *nv = realloc(grp->vals[s], nc * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			grp->vals[s] = nv;
		}
		grp->cap = nc;
	}
	for (int s = 0; s < ST_NGS; s++) {
		grp->ns[s] += g->ns[gs_of_state[s]];
		grp->vals[s][grp->n] = g->ns[gs_of_state[s]];
	}
	grp->n++;
	grp->at_start += g->at_start;
	grp->created += g->created;
	grp->exited += g->exited;
	grp->transitions += g->transitions;
	for (int s = 0; s < ST_NSTATES; s++)
		life += g->ns[s];
	grp->lifetime_ns += life;
	grp->cat[ST_CAT_EXEC] += g->ns[STATES_G_RUNNING];
	grp->cat[ST_CAT_SCHED] += g->ns[STATES_G_RUNNABLE] + g->ns[STATES_G_PREEMPTED];
	grp->cat[ST_CAT_SYSCALL] += g->ns[STATES_G_SYSCALL];
	for (uint32_t i = 0; i < g->nwait && !err; i++) {
		const struct st_wait *w = &g->waits[i];

		grp->cat[w->reason < ST_MAX_REASONS ? gs->cat_of[w->reason] : ST_CAT_OTHER] += w->ns;
		waits += w->ns;
		err = add_wait_total(grp, w->reason, w->ns, w->count);
	}
	/* waiting time the reasons don't cover (none recorded), other states */
	grp->cat[ST_CAT_OTHER] += (g->ns[STATES_G_WAITING] > waits ? g->ns[STATES_G_WAITING] - waits : 0) +
				  life - g->ns[STATES_G_RUNNING] - g->ns[STATES_G_RUNNABLE] -
				  g->ns[STATES_G_PREEMPTED] - g->ns[STATES_G_SYSCALL] -
				  g->ns[STATES_G_WAITING];
	if (g->lat_count && !err) {
		grp->sched.count += g->lat_count;
		grp->sched.sum += g->lat_sum;
		if (g->lat_max >= grp->sched.max) {
			grp->sched.max = g->lat_max;
			grp->sched.max_goid = g->goid;
		}
		err = dist_merge(&grp->sched, &g->hist, ST_HIST_SCHED);
	}
	return err;
}

/* Insert into a list of at most ST_WORST, longest first. */
static void worst_insert(struct st_worst *list, size_t *n, const struct st_worst *w)
{
	size_t i = *n < ST_WORST ? (*n)++ : ST_WORST;

	if (i == ST_WORST) {
		if (w->ns + w->before_ns <= list[ST_WORST - 1].ns + list[ST_WORST - 1].before_ns)
			return;
		i = ST_WORST - 1;
	}
	for (; i > 0 && list[i - 1].ns + list[i - 1].before_ns < w->ns + w->before_ns; i--)
		list[i] = list[i - 1];
	list[i] = *w;
}

static struct st_reason_lat *reason_lat(struct st_groups *gs, uint32_t reason)
{
	if (reason >= ST_MAX_REASONS)
		return NULL;
	if (!gs->rl[reason] && (gs->rl[reason] = calloc(1, sizeof(*gs->rl[reason]))))
		gs->rl[reason]->reason = reason;
	return gs->rl[reason];
}

/* The process-wide view: whole waits per reason, the worst lists. */
static int latency_add(struct st_groups *gs, const struct st_goroutine *g)
{
	bool alive = !g->exited && g->state >= 0;

	if (g->lat_max)
		worst_insert(gs->lat.worst, &gs->lat.nworst,
			     &(struct st_worst){ .g = g, .ns = g->lat_max, .ts = g->lat_max_ts });
	if (alive && g->state == STATES_G_RUNNABLE && g->open_ns)
		worst_insert(gs->lat.worst, &gs->lat.nworst,
			     &(struct st_worst){ .g = g, .ns = g->open_ns, .ts = g->since,
						 .ongoing = true });
	for (uint32_t i = 0; i < g->nwait; i++) {
		const struct st_wait *w = &g->waits[i];
		struct st_reason_lat *rl = reason_lat(gs, w->reason);
		uint64_t n;

		if (!rl)
			return -ENOMEM;
		if (!rl->d.hist && !(rl->d.hist = calloc(HIST_NB, sizeof(*rl->d.hist))))
			return -ENOMEM;
		n = st_hist_merge(&g->hist, ST_HIST_WAIT(w->reason), rl->d.hist);
		rl->d.count += n;
		if (n && w->max_ns >= rl->d.max) {
			rl->d.max = w->max_ns;
			rl->d.max_goid = g->goid;
		}
		if (w->max_ns)
			worst_insert(rl->worst, &rl->nworst,
				     &(struct st_worst){ .g = g, .ns = w->max_ns, .ts = w->max_ts });
	}
	if (alive && g->state == STATES_G_WAITING) {
		struct st_reason_lat *rl = reason_lat(gs, g->reason);
		struct st_worst w = { .g = g, .ns = g->open_ns, .ts = g->since, .ongoing = true };

		if (!rl)
			return -ENOMEM;
		if (g->since_start && g->waitsince && gs->o.t0_ns > g->waitsince)
			w.before_ns = gs->o.t0_ns - g->waitsince;
		worst_insert(rl->worst, &rl->nworst, &w);
	}
	return 0;
}

int st_groups_add(struct st_groups *gs, const struct st_goroutine *g)
{
	struct st_group *grp = group_of(gs, key_of(gs, g));
	int err;

	if (!grp)
		return -ENOMEM;
	err = group_add(gs, grp, g);
	if (!err)
		err = group_add(gs, &gs->all, g);
	if (!err)
		err = latency_add(gs, g);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the value of rank ceil(p * n). */
static uint64_t rank_of(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)(p * (double)n);

	if ((double)rank < p * (double)n)
		rank++;
	if (!rank)
		rank = 1;
	return n ? sorted[rank - 1] : 0;
}

static int cmp_wait(const void *a, const void *b)
{
	const struct st_group_wait *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

static void group_finish(struct st_group *g)
{
	for (int s = 0; s < ST_NGS; s++) {
		qsort(g->vals[s], g->n, sizeof(uint64_t), cmp_u64);
		g->p50[s] = rank_of(g->vals[s], g->n, 0.50);
		g->p90[s] = rank_of(g->vals[s], g->n, 0.90);
		g->p99[s] = rank_of(g->vals[s], g->n, 0.99);
		free(g->vals[s]);
		g->vals[s] = NULL;
	}
	g->cap = 0;
	if (g->nwaits > 1)
		qsort(g->waits, g->nwaits, sizeof(*g->waits), cmp_wait);
}

int st_groups_finish(struct st_groups *gs)
{
	struct st_latency *lat = &gs->lat;

	for (size_t i = 0; i < gs->n; i++)
		group_finish(gs->list[i]);
	group_finish(&gs->all);
	lat->sched = gs->all.sched;
	/* reasons in the order of their total waiting time */
	free(lat->reasons);
	lat->reasons = calloc(ST_MAX_REASONS, sizeof(*lat->reasons));
	if (!lat->reasons)
		return -ENOMEM;
	lat->nreasons = 0;
	for (size_t i = 0; i < gs->all.nwaits; i++) {
		uint32_t r = gs->all.waits[i].reason;

		if (r < ST_MAX_REASONS && gs->rl[r])
			lat->reasons[lat->nreasons++] = *gs->rl[r];
	}
	gs->finished = true;
	st_groups_sort(gs, ST_GSORT_RUNNING);
	return 0;
}

struct st_group *const *st_groups_list(const struct st_groups *gs, size_t *n)
{
	*n = gs->n;
	return gs->list;
}

const struct st_group *st_groups_all(const struct st_groups *gs)
{
	return &gs->all;
}

const struct st_latency *st_groups_latency(const struct st_groups *gs)
{
	return &gs->lat;
}

static uint64_t sort_key(const struct st_group *g, enum st_group_sort col)
{
	switch (col) {
	case ST_GSORT_COUNT: return g->n;
	case ST_GSORT_RUNNING: return g->ns[ST_GS_RUNNING];
	case ST_GSORT_RUNNABLE: return g->ns[ST_GS_RUNNABLE];
	case ST_GSORT_SYSCALL: return g->ns[ST_GS_SYSCALL];
	case ST_GSORT_WAITING: return g->ns[ST_GS_WAITING];
	case ST_GSORT_TRANSITIONS: return g->transitions;
	case ST_GSORT_LIFETIME: return g->lifetime_ns;
	case ST_GSORT_LATENCY: return st_dist_percentile(&g->sched, 0.99);
	case ST_GSORT_NAME: break;
	}
	return 0;
}

static int cmp_key(const struct st_group *x, const struct st_group *y)
{
	if (!x->key || !y->key)
		return !x->key - !y->key;	/* unknown last */
	return strcmp(x->key, y->key);
}

static int cmp_group(const void *a, const void *b, void *arg)
{
	const struct st_group *x = *(struct st_group *const *)a;
	const struct st_group *y = *(struct st_group *const *)b;
	enum st_group_sort col = *(const enum st_group_sort *)arg;
	uint64_t kx, ky;

	if (col == ST_GSORT_NAME)
		return cmp_key(x, y);
	kx = sort_key(x, col);
	ky = sort_key(y, col);
	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return cmp_key(x, y);
}

void st_groups_sort(struct st_groups *gs, enum st_group_sort col)
{
	qsort_r(gs->list, gs->n, sizeof(*gs->list), cmp_group, &col);
}
