// SPDX-License-Identifier: MIT
/*
 * Unit tests of what issue 17 added to the states model and of the groups
 * (gotrace/states/model.c, groups.c, groups_out.c): goroutines seeded from
 * an attach snapshot, goroutines first seen mid-trace counted from t0,
 * names from exit records, labels, the sparse histograms against dense
 * ones, and groups, percentiles, categories and worst-wait lists against
 * values computed here by hand or by brute force.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "aggregate/histogram.h"
#include "states/groups.h"
#include "states/model.h"
#include "states/output.h"

static void resolve(void *ctx, uint64_t ip, uint64_t startpc, uint64_t gopc, const char **fn,
		    const char **at)
{
	*fn = startpc == 0x1000 ? "main.worker" : startpc == 0x2000 ? "main.other" : NULL;
	*at = gopc ? "main.go:42" : NULL;
}

static struct {
	struct st_labels l;
	struct st_label kv[1];
} tenant_a = { { 1 }, { { "tenant", "a" } } };

static const struct st_labels *labels(void *ctx, uint64_t p)
{
	return p == 0xabc ? &tenant_a.l : NULL;
}

static struct states_event ev(uint64_t ts, uint64_t gp, int64_t goid, uint32_t from, uint32_t to)
{
	struct states_event e = { .ts_ns = ts, .gp = gp, .goid = goid, .from = from, .to = to,
				  .tid = 77, .parent_goid = -1 };
	return e;
}

static struct st_goroutine *find(struct st_model *m, int64_t goid)
{
	size_t n;
	struct st_goroutine **all = st_model_goroutines(m, &n);

	for (size_t i = 0; i < n; i++)
		if (all[i]->goid == goid)
			return all[i];
	return NULL;
}

static struct st_model *model(uint64_t t0)
{
	struct st_model_opts o = { .resolve = resolve, .labels = labels, .t0_ns = t0 };

	return st_model_new(&o);
}

static void feed(struct st_model *m, uint64_t ts, int64_t goid, uint32_t from, uint32_t to,
		 uint32_t reason)
{
	struct states_event e = ev(ts, 0x100 + goid, goid, from, to);

	e.reason = reason;
	st_model_feed(m, &e);
}

/* A goroutine blocked for the whole trace: its state from the snapshot,
 * all of the trace in it, an open wait that is not a whole one. */
static void test_seed_blocked(void)
{
	const char *name = "seed-blocked-whole-trace";
	struct st_model *m = model(1000);
	struct st_seed s = { .goid = 10, .gp = 0x110, .state = STATES_G_WAITING, .reason = 3,
			     .waitsince = 400, .parent = 1, .start_func = "main.park",
			     .created_at = "main.go:7", .labels = &tenant_a.l };
	struct st_goroutine *g;
	bool ok = true;

	ok &= ASSERT_EQ(name, st_model_seed(m, &s), 0);
	s.goid = 11;
	s.state = STATES_G_DEAD;	/* dead seeds are ignored */
	st_model_seed(m, &s);
	st_model_finish(m, 5000);
	g = find(m, 10);
	ok &= ASSERT_TRUE(name, g && !find(m, 11));
	if (g) {
		ok &= ASSERT_TRUE(name, g->at_start && g->seeded && !g->created && !g->exited);
		ok &= ASSERT_EQ(name, g->ns[STATES_G_WAITING], 4000);
		ok &= ASSERT_EQ(name, st_wait_ns(g, 3), 4000);
		ok &= ASSERT_EQ(name, g->open_ns, 4000);
		ok &= ASSERT_EQ(name, g->start_state, STATES_G_WAITING);
		ok &= ASSERT_EQ(name, g->start_reason, 3);
		ok &= ASSERT_EQ(name, g->waitsince, 400);
		ok &= ASSERT_EQ(name, g->hist.n, 0);	/* not a whole wait */
		ok &= ASSERT_EQ(name, g->transitions, 0);
		ok &= ASSERT_STREQ(name, g->start_func, "main.park");
		ok &= ASSERT_STREQ(name, st_labels_get(g->labels, "tenant"), "a");
	}
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* A seeded goroutine that then moves: the first transition closes the
 * state it had since t0; whole intervals go into the histograms. */
static void test_seed_moves(void)
{
	const char *name = "seed-then-transitions";
	struct st_model *m = model(1000);
	struct st_seed s = { .goid = 11, .state = STATES_G_WAITING, .reason = 3, .parent = -1 };
	struct st_goroutine *g;
	uint64_t dense[HIST_NB] = { 0 };
	bool ok = true;

	st_model_seed(m, &s);
	feed(m, 2000, 11, STATES_G_WAITING, STATES_G_RUNNABLE, 0);
	feed(m, 2500, 11, STATES_G_RUNNABLE, STATES_G_RUNNING, 0);
	feed(m, 3000, 11, STATES_G_RUNNING, STATES_G_WAITING, 4);
	feed(m, 3600, 11, STATES_G_WAITING, STATES_G_RUNNABLE, 0);
	feed(m, 3700, 11, STATES_G_RUNNABLE, STATES_G_RUNNING, 0);
	st_model_finish(m, 5000);
	g = find(m, 11);
	ok &= ASSERT_TRUE(name, g != NULL);
	if (!g)
		goto out;
	ok &= ASSERT_EQ(name, st_wait_ns(g, 3), 1000);
	ok &= ASSERT_EQ(name, st_wait_ns(g, 4), 600);
	ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNABLE], 600);
	ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNING], 500 + 1300);
	ok &= ASSERT_EQ(name, g->lat_count, 2);
	ok &= ASSERT_EQ(name, g->lat_sum, 600);
	ok &= ASSERT_EQ(name, g->lat_max, 500);
	ok &= ASSERT_EQ(name, g->lat_max_ts, 2500);
	ok &= ASSERT_EQ(name, g->open_ns, 1300);
	for (uint32_t i = 0; i < g->nwait; i++)
		if (g->waits[i].reason == 4)
			ok &= ASSERT_EQ(name, g->waits[i].max_ns, 600);
		else
			ok &= ASSERT_EQ(name, g->waits[i].max_ns, 0); /* began before t0 */
	ok &= ASSERT_EQ(name, st_hist_merge(&g->hist, ST_HIST_SCHED, dense), 2);
	ok &= ASSERT_EQ(name, dense[hist_bucket(500)] + dense[hist_bucket(100)], 2);
	ok &= ASSERT_EQ(name, st_hist_merge(&g->hist, ST_HIST_WAIT(4), dense), 1);
	ok &= ASSERT_EQ(name, st_hist_merge(&g->hist, ST_HIST_WAIT(3), dense), 0);
out:
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* The snapshot is read after t0: a transition that contradicts it wins;
 * a goroutine the snapshot missed is counted from t0 in the state its
 * first transition leaves; a creation of a seeded goid drops the seed. */
static void test_first_seen(void)
{
	const char *name = "first-transition-is-the-truth";
	struct st_model *m = model(1000);
	struct st_seed s = { .goid = 20, .state = STATES_G_WAITING, .reason = 3, .waitsince = 10,
			     .parent = -1 };
	struct states_event e;
	struct st_goroutine *g;
	bool ok = true;

	st_model_seed(m, &s);
	s.goid = 22;
	st_model_seed(m, &s);
	feed(m, 2000, 20, STATES_G_RUNNING, STATES_G_WAITING, 5);	/* not waiting after all */
	feed(m, 3000, 21, STATES_G_SYSCALL, STATES_G_RUNNING, 0);	/* not in the snapshot */
	e = ev(1500, 0x200, 22, STATES_G_DEAD, STATES_G_RUNNABLE);	/* made after t0 */
	e.flags = STATES_F_CREATE;
	e.startpc = 0x2000;
	e.parent_goid = 1;
	st_model_feed(m, &e);
	st_model_finish(m, 4000);
	if ((g = find(m, 20))) {
		ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNING], 1000);
		ok &= ASSERT_EQ(name, st_wait_ns(g, 3), 0);
		ok &= ASSERT_EQ(name, g->start_state, STATES_G_RUNNING);
		ok &= ASSERT_EQ(name, g->waitsince, 0);
		ok &= ASSERT_TRUE(name, g->at_start);
	}
	if ((g = find(m, 21))) {
		ok &= ASSERT_TRUE(name, g->at_start && !g->seeded && !g->created);
		ok &= ASSERT_EQ(name, g->ns[STATES_G_SYSCALL], 2000);
		ok &= ASSERT_EQ(name, g->start_state, STATES_G_SYSCALL);
		ok &= ASSERT_EQ(name, g->first_ns, 1000);
	}
	if ((g = find(m, 22))) {
		ok &= ASSERT_TRUE(name, !g->at_start && !g->seeded && g->created);
		ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNABLE], 2500);
		ok &= ASSERT_EQ(name, st_wait_ns(g, 3), 0);
		ok &= ASSERT_STREQ(name, g->start_func, "main.other");
		ok &= ASSERT_EQ(name, g->parent, 1);
	}
	ok &= ASSERT_TRUE(name, find(m, 20) && find(m, 21) && find(m, 22));
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* An exit record names a goroutine nothing named (it existed before the
 * trace and exited before the snapshot reached it), and never renames
 * one; creations and exits carry labels. */
static void test_exit_names(void)
{
	const char *name = "exit-record-names";
	struct st_model *m = model(1000);
	struct states_event e = ev(2000, 0x300, 30, STATES_G_RUNNING, STATES_G_DEAD);
	struct st_seed s = { .goid = 31, .state = STATES_G_RUNNING, .parent = 5,
			     .start_func = "main.seeded" };
	struct st_goroutine *g;
	bool ok = true;

	e.flags = STATES_F_EXIT;
	e.startpc = 0x1000;
	e.gopc = 0x1234;
	e.parent_goid = 4;
	e.labels = 0xabc;
	st_model_feed(m, &e);
	st_model_seed(m, &s);	/* after an event of another goid: fine */
	e.goid = 31;
	e.gp = 0x310;
	e.startpc = 0x2000;
	e.labels = 0;
	st_model_feed(m, &e);
	e = ev(2500, 0x320, 32, STATES_G_DEAD, STATES_G_RUNNABLE);
	e.flags = STATES_F_CREATE;
	e.startpc = 0x2000;
	e.labels = 0xabc;
	st_model_feed(m, &e);
	st_model_finish(m, 3000);
	if ((g = find(m, 30))) {
		ok &= ASSERT_STREQ(name, g->start_func, "main.worker");
		ok &= ASSERT_STREQ(name, g->created_at, "main.go:42");
		ok &= ASSERT_EQ(name, g->parent, 4);
		ok &= ASSERT_TRUE(name, g->at_start && g->exited && !g->created);
		ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNING], 1000);
		ok &= ASSERT_STREQ(name, st_labels_get(g->labels, "tenant"), "a");
	}
	if ((g = find(m, 31))) {
		ok &= ASSERT_STREQ(name, g->start_func, "main.seeded");
		ok &= ASSERT_EQ(name, g->parent, 5);
	}
	if ((g = find(m, 32)))
		ok &= ASSERT_STREQ(name, st_labels_get(g->labels, "tenant"), "a");
	ok &= ASSERT_TRUE(name, find(m, 30) && find(m, 31) && find(m, 32));
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* The sparse histogram holds what a dense one holds, whatever the order
 * and mix of kinds. */
static void test_sparse_hist(void)
{
	const char *name = "sparse-hist-vs-dense";
	static uint64_t dense[3][HIST_NB], got[HIST_NB];
	struct st_hist h = { 0 };
	uint64_t seed = 12345;
	bool ok = true;

	for (int i = 0; i < 20000; i++) {
		uint32_t kind = (uint32_t)(seed % 3);
		uint64_t v;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		v = (seed >> 20) % ((uint64_t)1 << (seed % 41));
		if (st_hist_add(&h, kind, v))
			ok = CHECK_FAIL(name, "st_hist_add failed");
		dense[kind][hist_bucket(v)]++;
	}
	ok &= ASSERT_EQ(name, st_hist_add_bucket(&h, 2, 5, 7), 0);
	dense[2][5] += 7;
	for (uint32_t k = 0; k < 3; k++) {
		memset(got, 0, sizeof(got));
		st_hist_merge(&h, k, got);
		ok &= ASSERT_TRUE(name, !memcmp(got, dense[k], sizeof(got)));
	}
	st_hist_release(&h);
	if (ok)
		CHECK_PASS(name);
}

static void test_categories(void)
{
	const char *name = "wait-reason-categories";
	static const struct { const char *r; enum st_cat c; } cases[] = {
		{ "IO wait", ST_CAT_NET }, { "chan receive", ST_CAT_SYNC },
		{ "chan send (nil chan)", ST_CAT_SYNC }, { "select", ST_CAT_SYNC },
		{ "select (no cases)", ST_CAT_SYNC }, { "sync.Mutex.Lock", ST_CAT_SYNC },
		{ "semacquire", ST_CAT_SYNC }, { "sync.WaitGroup.Wait", ST_CAT_SYNC },
		{ "sleep", ST_CAT_SLEEP }, { "GC assist marking", ST_CAT_GC },
		{ "GC worker (idle)", ST_CAT_GC }, { "garbage collection scan", ST_CAT_GC },
		{ "force gc (idle)", ST_CAT_GC }, { "wait for GC cycle", ST_CAT_GC },
		{ "finalizer wait", ST_CAT_OTHER }, { "", ST_CAT_OTHER }, { NULL, ST_CAT_OTHER },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok &= ASSERT_EQ(cases[i].r ? cases[i].r : "(null)", st_reason_category(cases[i].r),
				cases[i].c);
	if (ok)
		CHECK_PASS(name);
}

/* Records built by hand: 100 goroutines of main.a with running i*10 ns
 * (i = 1..100), 3 of main.b blocked, 1 unnamed. */
#define NA 100
static struct st_goroutine recs[NA + 4];
static struct st_wait waits_b[3];

static void build_records(void)
{
	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < NA; i++) {
		struct st_goroutine *g = &recs[i];

		g->goid = 100 + i;
		g->start_func = "main.a";
		g->created_at = "main.go:10";
		g->created = true;
		g->exited = i % 2;
		g->state = g->exited ? STATES_G_DEAD : STATES_G_RUNNING;
		g->ns[STATES_G_RUNNING] = (uint64_t)(i + 1) * 10;
		g->ns[STATES_G_RUNNABLE] = 5;
		g->transitions = 4;
		/* one whole runnable interval each, i+1 us */
		g->lat_count = 1;
		g->lat_sum = g->lat_max = (uint64_t)(i + 1) * 1000;
		g->lat_max_ts = 7;
		st_hist_add(&g->hist, ST_HIST_SCHED, g->lat_max);
		if (i < 10)
			g->labels = &tenant_a.l;
	}
	for (int i = 0; i < 3; i++) {
		struct st_goroutine *g = &recs[NA + i];

		g->goid = 10 + i;
		g->start_func = "main.b";
		g->created_at = "main.go:20";
		g->at_start = g->since_start = true;
		g->state = STATES_G_WAITING;
		g->reason = 1;
		g->ns[STATES_G_WAITING] = 1000000;
		g->open_ns = 1000000;
		g->since = 2000000;
		g->waitsince = i == 0 ? 500000 : 0;
		waits_b[i] = (struct st_wait){ .reason = 1, .ns = 1000000 };
		g->waits = &waits_b[i];
		g->nwait = 1;
	}
	recs[NA + 3].goid = 50;	/* nothing known: the unnamed group */
	recs[NA + 3].state = -1;
}

static void release_records(void)
{
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		st_hist_release(&recs[i].hist);
}

static const struct st_group *group(struct st_groups *gs, const char *key)
{
	size_t n;
	struct st_group *const *l = st_groups_list(gs, &n);

	for (size_t i = 0; i < n; i++)
		if ((!key && !l[i]->key) || (key && l[i]->key && !strcmp(key, l[i]->key)))
			return l[i];
	return NULL;
}

static const char *const reasons[] = { "", "chan receive" };

static void test_groups(void)
{
	const char *name = "groups-by-start";
	struct st_groups_opts o = { .by = ST_GROUP_START, .reasons = reasons, .nreasons = 2,
				    .t0_ns = 1000000 };
	struct st_groups *gs = st_groups_new(&o);
	const struct st_group *a, *b, *none, *all;
	const struct st_latency *lat;
	bool ok = true;

	build_records();
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		ok &= ASSERT_EQ(name, st_groups_add(gs, &recs[i]), 0);
	ok &= ASSERT_EQ(name, st_groups_finish(gs), 0);
	a = group(gs, "main.a");
	b = group(gs, "main.b");
	none = group(gs, NULL);
	all = st_groups_all(gs);
	lat = st_groups_latency(gs);
	if (!ASSERT_TRUE(name, a && b && none))
		goto out;
	ok &= ASSERT_EQ(name, a->n, NA);
	ok &= ASSERT_EQ(name, a->created, NA);
	ok &= ASSERT_EQ(name, a->exited, NA / 2);
	ok &= ASSERT_EQ(name, a->at_start, 0);
	ok &= ASSERT_EQ(name, a->ns[ST_GS_RUNNING], 10 * NA * (NA + 1) / 2);
	/* nearest rank over 10, 20, ..., 1000 */
	ok &= ASSERT_EQ(name, a->p50[ST_GS_RUNNING], 500);
	ok &= ASSERT_EQ(name, a->p90[ST_GS_RUNNING], 900);
	ok &= ASSERT_EQ(name, a->p99[ST_GS_RUNNING], 990);
	ok &= ASSERT_EQ(name, a->p99[ST_GS_RUNNABLE], 5);
	ok &= ASSERT_EQ(name, a->sched.count, NA);
	ok &= ASSERT_EQ(name, a->sched.max, 100000);
	ok &= ASSERT_EQ(name, a->sched.max_goid, 100 + NA - 1);
	/* percentiles from the buckets: at or above the value, within 6.25% */
	{
		uint64_t p50 = st_dist_percentile(&a->sched, 0.5);

		ok &= ASSERT_TRUE(name, p50 >= 50000 && p50 <= 50000 + 50000 / 16);
		ok &= ASSERT_EQ(name, st_dist_percentile(&a->sched, 1.0), 100000);
	}
	ok &= ASSERT_EQ(name, a->cat[ST_CAT_EXEC], a->ns[ST_GS_RUNNING]);
	ok &= ASSERT_EQ(name, a->cat[ST_CAT_SCHED], 5 * NA);
	ok &= ASSERT_EQ(name, b->n, 3);
	ok &= ASSERT_EQ(name, b->at_start, 3);
	ok &= ASSERT_EQ(name, b->cat[ST_CAT_SYNC], 3000000);
	ok &= ASSERT_TRUE(name, b->nwaits == 1 && b->waits[0].reason == 1 &&
				b->waits[0].ns == 3000000);
	ok &= ASSERT_EQ(name, none->n, 1);
	ok &= ASSERT_EQ(name, all->n, NA + 4);
	ok &= ASSERT_EQ(name, lat->sched.count, NA);
	/* worst waits for a CPU: the 10 longest, longest first */
	ok &= ASSERT_EQ(name, lat->nworst, ST_WORST);
	for (size_t i = 0; i < lat->nworst; i++)
		ok &= ASSERT_EQ(name, lat->worst[i].ns, (uint64_t)(NA - i) * 1000);
	/* waits per reason: the three ongoing waits, the one with a known
	 * beginning first */
	ok &= ASSERT_EQ(name, lat->nreasons, 1);
	if (lat->nreasons) {
		const struct st_reason_lat *r = &lat->reasons[0];

		ok &= ASSERT_EQ(name, r->d.count, 0);
		ok &= ASSERT_EQ(name, r->nworst, 3);
		ok &= ASSERT_TRUE(name, r->worst[0].ongoing && r->worst[0].g->goid == 10);
		ok &= ASSERT_EQ(name, r->worst[0].before_ns, 500000);
	}
	st_groups_sort(gs, ST_GSORT_COUNT);
	{
		size_t n;
		struct st_group *const *l = st_groups_list(gs, &n);

		ok &= ASSERT_TRUE(name, n == 3 && l[0] == a && l[1] == b && l[2] == none);
		st_groups_sort(gs, ST_GSORT_NAME);
		ok &= ASSERT_TRUE(name, l[0] == a && l[1] == b && l[2] == none);
		st_groups_sort(gs, ST_GSORT_WAITING);
		ok &= ASSERT_TRUE(name, l[0] == b);
	}
out:
	if (ok)
		CHECK_PASS(name);
	st_groups_free(gs);
	release_records();
}

static void test_groups_by(void)
{
	const char *name = "groups-by-label-and-creation";
	struct st_groups_opts o = { .by = ST_GROUP_LABEL };
	struct st_groups *gs;
	const struct st_group *g;
	enum st_group_by by;
	const char *key = NULL;
	bool ok = true;

	ok &= ASSERT_EQ(name, st_group_by_parse("label:tenant", &by, &key), 0);
	ok &= ASSERT_TRUE(name, by == ST_GROUP_LABEL && key && !strcmp(key, "tenant"));
	ok &= ASSERT_EQ(name, st_group_by_parse("creation", &by, &key), 0);
	ok &= ASSERT_EQ(name, by, ST_GROUP_CREATION);
	ok &= ASSERT_EQ(name, st_group_by_parse("label:", &by, &key), -EINVAL);
	ok &= ASSERT_EQ(name, st_group_by_parse("stack", &by, &key), -EINVAL);
	build_records();
	o.label_key = "tenant";
	gs = st_groups_new(&o);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		st_groups_add(gs, &recs[i]);
	st_groups_finish(gs);
	g = group(gs, "a");
	ok &= ASSERT_TRUE(name, g && g->n == 10);
	g = group(gs, NULL);
	ok &= ASSERT_TRUE(name, g && g->n == NA + 4 - 10);
	st_groups_free(gs);
	o.by = ST_GROUP_CREATION;
	gs = st_groups_new(&o);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		st_groups_add(gs, &recs[i]);
	st_groups_finish(gs);
	g = group(gs, "main.go:20");
	ok &= ASSERT_TRUE(name, g && g->n == 3);
	st_groups_free(gs);
	release_records();
	if (ok)
		CHECK_PASS(name);
}

/* The writers: every group in each form, the numbers as computed. */
static void test_group_writers(void)
{
	const char *name = "group-writers";
	struct st_groups_opts go = { .by = ST_GROUP_START, .reasons = reasons, .nreasons = 2 };
	struct st_out o = { .reasons = reasons, .nreasons = 2 };
	struct st_groups *gs = st_groups_new(&go);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	bool ok = true;

	build_records();
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		st_groups_add(gs, &recs[i]);
	st_groups_finish(gs);
	f = open_memstream(&buf, &len);
	st_out_groups_jsonl(&o, f, gs, 0);
	st_out_latency_jsonl(&o, f, gs);
	fclose(f);
	ok &= ASSERT_TRUE(name, strstr(buf, "{\"type\":\"group\",\"by\":\"start function\","
					    "\"key\":\"main.a\",\"goroutines\":100,\"at_start\":0,"
					    "\"created\":100,\"exited\":50,"));
	ok &= ASSERT_TRUE(name, strstr(buf, "\"p50_ns\":{\"running\":500,"));
	ok &= ASSERT_TRUE(name, strstr(buf, "\"key\":null,\"goroutines\":1,"));
	ok &= ASSERT_TRUE(name, strstr(buf, "{\"reason\":\"chan receive\",\"ns\":3000000,"
					    "\"count\":0,\"share\":1.0000}"));
	ok &= ASSERT_TRUE(name, strstr(buf, "{\"type\":\"latency\",\"sched\":{\"count\":100,"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	st_out_groups_csv(&o, f, gs, 2);
	fclose(f);
	ok &= ASSERT_TRUE(name, !strncmp(buf, "by,key,goroutines,at_start,created,exited,", 42));
	ok &= ASSERT_TRUE(name, strstr(buf, ",waiting_ns:chan receive\n"));
	ok &= ASSERT_TRUE(name, strstr(buf, "\nstart function,main.a,100,0,100,50,400,"));
	ok &= ASSERT_TRUE(name, !strstr(buf, "start function,,1,"));	/* --top 2 */
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	st_out_groups_text(&o, f, gs, 0, "running");
	st_out_latency_text(&o, f, gs);
	fclose(f);
	ok &= ASSERT_TRUE(name, strstr(buf, "main.a: 100 goroutines (0 at start, 100 created, 50 exited)"));
	ok &= ASSERT_TRUE(name, strstr(buf, "main.b: 3 goroutines (3 at start, 0 created, 0 exited)"));
	ok &= ASSERT_TRUE(name, strstr(buf, "(no start function): 1 goroutine "));
	ok &= ASSERT_TRUE(name, strstr(buf, "  waits: chan receive 100.0%\n"));
	ok &= ASSERT_TRUE(name, strstr(buf, "SCHEDULER LATENCY (runnable -> running): 100 waits"));
	if (getenv("SHOW"))
		fputs(buf, stdout);
	free(buf);
	st_groups_free(gs);
	release_records();
	if (ok)
		CHECK_PASS(name);
}

int main(void)
{
	test_seed_blocked();
	test_seed_moves();
	test_first_seen();
	test_exit_names();
	test_sparse_hist();
	test_categories();
	test_groups();
	test_groups_by();
	test_group_writers();
	return check_failures ? 1 : 0;
}
