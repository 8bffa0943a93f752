// SPDX-License-Identifier: MIT
/*
 * --watch INTERVAL: a goroutine leak detector for a live process.  Every
 * INTERVAL a snapshot; goroutines are grouped by stack (the goroutine
 * profile's PCs and labels, as --group), and a group whose count grew at
 * each of the last GROW_STEPS intervals is reported with where its
 * goroutines wait and what created them.  With --blocked-over D, a
 * goroutine blocked (waiting or in a system call) longer than D is reported
 * once, with its creation site.  How long a goroutine has been blocked is
 * the longer of what the runtime knows (now - g.waitsince, set by the
 * first GC that saw it blocked) and what the watch saw (the same goroutine
 * in the same state at the same saved pc and sp since an earlier
 * snapshot).
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goroutines/goroutines.h"
#include "gotrace.h"

#define GROW_STEPS 3		/* consecutive growths that make a leak */
#define HIST 8

struct wgroup {
	uint64_t key;
	uint32_t hist[HIST];	/* counts of the last snapshots, hist[0] newest */
	int nhist;
	bool seen;		/* present in the current snapshot */
	uint32_t reported_at;	/* count when last reported as growing */
	char *where, *created, *status;
};

struct wg {			/* a goroutine seen blocked */
	int64_t goid;		/* key; 0 = empty */
	uint64_t pc, sp, since;
	uint32_t status;
	uint8_t seq;		/* g.trackingSeq: it parked again if this moved */
	bool reported, seen;
};

struct watch {
	struct wgroup *g;
	size_t ng, gcap;
	uint32_t *gh;		/* key -> index + 1, open addressing */
	size_t ghcap;
	struct wg *b;
	size_t bcap, nb;
	uint64_t snapshots;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* "func (file:line)" of the first frame the dump shows. */
static char *where_of(struct gr_tb *tb, const struct gr_stack *st)
{
	char *s = NULL;

	if (st->running)
		return strdup("(running)");
	for (int k = 0; k < st->n; k++) {
		if (!st->f[k].shown)
			continue;
		if (asprintf(&s, "%s (%s:%d)", gr_tb_func_name(tb, st->f[k].func, st->f[k].inlined),
			     st->f[k].file, st->f[k].line) < 0)
			s = NULL;
		return s;
	}
	return strdup("?");
}

static char *created_of(struct gr_tb *tb, const struct gr_stack *st)
{
	const struct gr_created *c = &st->created;
	char *s = NULL;

	int r;

	if (!c->func || !c->shown)
		return strdup("");
	if (c->goid)
		r = asprintf(&s, "%s in goroutine %lld (%s:%d)", gr_tb_func_name(tb, c->func, false),
			     (long long)c->goid, c->file, c->line);
	else
		r = asprintf(&s, "%s (%s:%d)", gr_tb_func_name(tb, c->func, false), c->file, c->line);
	return r < 0 ? NULL : s;
}

static size_t gh_slot(const uint32_t *h, size_t cap, const struct wgroup *g, uint64_t key)
{
	size_t k = (key * 0x9e3779b97f4a7c15ULL) >> 20 & (cap - 1);

	while (h[k] && g[h[k] - 1].key != key)
		k = (k + 1) & (cap - 1);
	return k;
}

static struct wgroup *group_get(struct watch *w, uint64_t key)
{
	size_t k;

	if ((w->ng + 1) * 2 > w->ghcap) {
		size_t cap = w->ghcap ? w->ghcap * 2 : 256;
		uint32_t *h = calloc(cap, sizeof(*h));

		if (!h)
			return NULL;
		for (size_t i = 0; i < w->ng; i++)
			h[gh_slot(h, cap, w->g, w->g[i].key)] = (uint32_t)i + 1;
		free(w->gh);
		w->gh = h;
		w->ghcap = cap;
	}
	k = gh_slot(w->gh, w->ghcap, w->g, key);
	if (w->gh[k])
		return &w->g[w->gh[k] - 1];
	if (w->ng == w->gcap) {
		size_t cap = w->gcap ? w->gcap * 2 : 64;
		struct wgroup *g = realloc(w->g, cap * sizeof(*g));

		if (!g)
			return NULL;
		w->g = g;
		w->gcap = cap;
	}
	memset(&w->g[w->ng], 0, sizeof(w->g[0]));
	w->g[w->ng].key = key;
	w->gh[k] = (uint32_t)++w->ng;
	return &w->g[w->ng - 1];
}

static void push(struct wgroup *g, uint32_t count)
{
	memmove(g->hist + 1, g->hist, (HIST - 1) * sizeof(g->hist[0]));
	g->hist[0] = count;
	if (g->nhist < HIST)
		g->nhist++;
}

static bool growing(const struct wgroup *g)
{
	if (g->nhist < GROW_STEPS + 1)
		return false;
	for (int k = 0; k < GROW_STEPS; k++)
		if (g->hist[k] <= g->hist[k + 1])
			return false;
	return true;
}

static void report_group(const struct gor_opts *o, const struct wgroup *g, uint64_t snap)
{
	if (o->json) {
		json_t *j = json_object(), *h = json_array();

		for (int k = g->nhist - 1; k >= 0; k--)
			json_array_append_new(h, json_integer(g->hist[k]));
		json_object_set_new(j, "type", json_string("growing"));
		json_object_set_new(j, "snapshot", json_integer(snap));
		json_object_set_new(j, "counts", h);
		json_object_set_new(j, "status", json_string(g->status));
		json_object_set_new(j, "where", json_string(g->where));
		json_object_set_new(j, "created_by", json_string(g->created));
		json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
		return;
	}
	printf("growing:");
	for (int k = g->nhist - 1; k >= 0; k--)
		printf("%s%u", k == g->nhist - 1 ? " " : " -> ", g->hist[k]);
	printf(" goroutines [%s] at %s\n", g->status, g->where);
	if (g->created[0])
		printf("    created by %s\n", g->created);
}

/* Groups of this snapshot: update the histories, report the growing. */
static int watch_groups(struct watch *w, struct gr_target *t, struct gr_tb *tb,
			const struct gr_snapshot *s, const struct gor_opts *o)
{
	struct gor_group *grp;
	size_t n;
	int err = gor_groups(t, tb, s, o->system, &grp, &n);

	if (err)
		return err;
	for (size_t i = 0; i < w->ng; i++)
		w->g[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct wgroup *g = group_get(w, grp[i].key);
		const struct gr_stack *st;

		if (!g) {
			err = -ENOMEM;
			break;
		}
		g->seen = true;
		push(g, grp[i].count);
		if (!g->where && !gr_tb_stack(tb, s, grp[i].first, &st)) {
			g->where = where_of(tb, st);
			g->created = created_of(tb, st);
			g->status = strdup(gr_status_string(t, &s->g[grp[i].first]));
		}
	}
	for (size_t i = 0; i < w->ng; i++)
		if (!w->g[i].seen)
			push(&w->g[i], 0);
	for (size_t i = 0; i < w->ng; i++) {
		struct wgroup *g = &w->g[i];

		if (growing(g) && g->where && g->hist[0] > g->reported_at) {
			report_group(o, g, w->snapshots);
			g->reported_at = g->hist[0];
		}
	}
	gor_groups_free(grp, n);
	return err;
}

static struct wg *blocked_get(struct watch *w, int64_t goid)
{
	size_t k;

	if ((w->nb + 1) * 2 > w->bcap) {
		size_t cap = w->bcap ? w->bcap * 2 : 1024;
		struct wg *b = calloc(cap, sizeof(*b));

		if (!b)
			return NULL;
		for (size_t i = 0; i < w->bcap; i++) {
			if (!w->b[i].goid)
				continue;
			for (k = (uint64_t)w->b[i].goid * 0x9e3779b97f4a7c15ULL >> 20 & (cap - 1);
			     b[k].goid; k = (k + 1) & (cap - 1))
				;
			b[k] = w->b[i];
		}
		free(w->b);
		w->b = b;
		w->bcap = cap;
	}
	for (k = (uint64_t)goid * 0x9e3779b97f4a7c15ULL >> 20 & (w->bcap - 1); w->b[k].goid;
	     k = (k + 1) & (w->bcap - 1))
		if (w->b[k].goid == goid)
			return &w->b[k];
	w->b[k].goid = goid;
	w->nb++;
	return &w->b[k];
}

static void report_blocked(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
			   size_t i, uint64_t blocked, const struct gor_opts *o)
{
	const struct gr_stack *st;
	char *where = NULL, *created = NULL;

	if (gr_tb_stack(tb, s, i, &st))
		return;
	where = where_of(tb, st);
	created = created_of(tb, st);
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "type", json_string("blocked"));
		json_object_set_new(j, "goid", json_integer(s->g[i].goid));
		json_object_set_new(j, "status", json_string(gr_status_string(t, &s->g[i])));
		json_object_set_new(j, "blocked_ns", json_integer((int64_t)blocked));
		json_object_set_new(j, "where", json_string(where ? where : ""));
		json_object_set_new(j, "created_by", json_string(created ? created : ""));
		json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		printf("blocked %.1fs: goroutine %lld [%s] at %s\n", blocked / 1e9,
		       (long long)s->g[i].goid, gr_status_string(t, &s->g[i]), where ? where : "?");
		if (created && created[0])
			printf("    created by %s\n", created);
	}
	free(where);
	free(created);
}

/* Goroutines blocked longer than --blocked-over: report each once. */
static void watch_blocked(struct watch *w, struct gr_target *t, struct gr_tb *tb,
			  const struct gr_snapshot *s, const struct gor_opts *o)
{
	for (size_t i = 0; i < w->bcap; i++)
		w->b[i].seen = false;
	for (size_t i = 0; i < s->n; i++) {
		const struct gr_g *g = &s->g[i];
		uint32_t st = g->status & ~(uint32_t)GOSYM_G_SCAN;
		uint64_t blocked, rt;
		struct wg *b;

		if (!gor_listed(t, s, i, o->system) ||
		    (st != GOSYM_G_WAITING && st != GOSYM_G_SYSCALL) || !(b = blocked_get(w, g->goid)))
			continue;
		if (!b->since || b->status != st || b->pc != g->ctx_pc || b->sp != g->ctx_sp ||
		    b->seq != g->park_seq) {
			b->since = s->mono_ns;
			b->status = st;
			b->seq = g->park_seq;
			b->pc = g->ctx_pc;
			b->sp = g->ctx_sp;
			b->reported = false;
		}
		b->seen = true;
		blocked = s->mono_ns - b->since;
		rt = g->waitsince && (uint64_t)g->waitsince < s->mono_ns ? s->mono_ns - g->waitsince : 0;
		if (rt > blocked)
			blocked = rt;
		if (blocked > o->blocked_ns && !b->reported) {
			report_blocked(t, tb, s, i, blocked, o);
			b->reported = true;
		}
	}
	/* Forget the goroutines that are gone (or ran). */
	for (size_t i = 0; i < w->bcap; i++)
		if (w->b[i].goid && !w->b[i].seen)
			w->b[i].since = 0;
}

static void snapshot_line(const struct gor_opts *o, const struct gr_snapshot *s, size_t listed,
			  uint64_t n)
{
	if (o->json) {
		printf("{\"type\":\"snapshot\",\"snapshot\":%llu,\"goroutines\":%zu,\"skipped\":%llu,"
		       "\"read_ns\":%llu}\n", (unsigned long long)n, listed,
		       (unsigned long long)s->stats.inconsistent, (unsigned long long)s->stats.read_ns);
		return;
	}
	time_t now = time(NULL);
	char ts[32];

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	printf("--- %s snapshot %llu: %zu goroutines (%llu skipped, read in %.1f ms)\n", ts,
	       (unsigned long long)n, listed, (unsigned long long)s->stats.inconsistent,
	       s->stats.read_ns / 1e6);
}

static void watch_free(struct watch *w)
{
	for (size_t i = 0; i < w->ng; i++) {
		free(w->g[i].where);
		free(w->g[i].created);
		free(w->g[i].status);
	}
	free(w->g);
	free(w->gh);
	free(w->b);
}

int gor_watch(struct gr_target *t, const struct gor_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct watch w = { 0 };
	struct gr_tb *tb = NULL;
	int err = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (gr_tb_new(t, &tb))
		return gt_error("out of memory");
	gt_progress("goroutines: a snapshot every %.3gs; a group growing %d times in a row is "
		    "reported%s; Ctrl-C to stop", o->watch_ns / 1e9, GROW_STEPS,
		    o->blocked_ns ? ", and goroutines blocked longer than --blocked-over" : "");
	while (!stop && (!o->count || (long)w.snapshots < o->count)) {
		struct gr_snapshot *s;
		size_t listed = 0;

		if (w.snapshots) {
			struct timespec ts = { (time_t)(o->watch_ns / 1000000000ull),
					       (long)(o->watch_ns % 1000000000ull) };

			if (nanosleep(&ts, NULL) && stop)
				break;
		}
		if ((err = gr_snapshot_take(t, NULL, &s))) {
			if (err == -ESRCH)
				gt_progress("goroutines: process %d exited", (int)o->pid);
			else
				gt_error("%s", gr_errmsg());
			break;
		}
		w.snapshots++;
		for (size_t i = 0; i < s->n; i++)
			listed += gor_listed(t, s, i, o->system);
		snapshot_line(o, s, listed, w.snapshots);
		err = watch_groups(&w, t, tb, s, o);
		if (!err && o->blocked_ns)
			watch_blocked(&w, t, tb, s, o);
		gr_snapshot_free(s);
		fflush(stdout);
		if (err) {
			gt_error("out of memory");
			break;
		}
	}
	watch_free(&w);
	gr_tb_free(tb);
	return err && err != -ESRCH ? 1 : 0;
}
