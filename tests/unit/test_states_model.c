// SPDX-License-Identifier: MIT
/*
 * Unit tests of the states model and writers (gotrace/states/model.c,
 * states_output.c): synthetic casgstatus event sequences with hand-computed
 * expected accounting, the pre-1.24 late-goid fix-up, duplicate and
 * failed-CAS drops, and the exact stream/CSV formats.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "states/model.h"
#include "states/output.h"

#define MAXSEEN 4096
static struct st_transition seen[MAXSEEN];
static int64_t seen_goid[MAXSEEN];
static int nseen;

static void sink(void *ctx, const struct st_transition *t)
{
	if (nseen < MAXSEEN) {
		seen[nseen] = *t;
		seen_goid[nseen] = t->g->goid;
	}
	nseen++;
}

static void resolve(void *ctx, uint64_t ip, uint64_t startpc, uint64_t gopc, const char **fn,
		    const char **at)
{
	*fn = startpc == 0x1000 ? "main.worker" : NULL;
	*at = gopc ? "main.go:42" : NULL;
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

static struct st_model *model(bool late)
{
	struct st_model_opts o = { .late_goid = late, .resolve = resolve, .sink = sink };

	nseen = 0;
	return st_model_new(&o);
}

static void test_accounting(void)
{
	const char *name = "accounting";
	struct st_model *m = model(false);
	struct states_event e = ev(100, 0xa0, 5, STATES_G_DEAD, STATES_G_RUNNABLE);
	struct st_goroutine *g;
	bool ok = true;

	e.flags = STATES_F_CREATE;
	e.parent_goid = 1;
	e.startpc = 0x1000;
	e.gopc = 0x2000;
	st_model_feed(m, &e);
	e = ev(200, 0xa0, 5, STATES_G_RUNNABLE, STATES_G_RUNNING);
	st_model_feed(m, &e);
	e = ev(500, 0xa0, 5, STATES_G_RUNNING, STATES_G_WAITING);
	e.reason = 7;
	st_model_feed(m, &e);
	e = ev(1500, 0xa0, 5, STATES_G_WAITING, STATES_G_RUNNABLE);
	st_model_feed(m, &e);
	e = ev(1600, 0xa0, 5, STATES_G_RUNNABLE, STATES_G_RUNNING);
	st_model_feed(m, &e);
	e = ev(2000, 0xa0, 5, STATES_G_RUNNING, STATES_G_DEAD);
	st_model_feed(m, &e);
	st_model_finish(m, 9999);
	g = find(m, 5);
	ok &= ASSERT_TRUE(name, g != NULL);
	if (g) {
		ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNABLE], 200);
		ok &= ASSERT_EQ(name, g->ns[STATES_G_RUNNING], 700);
		ok &= ASSERT_EQ(name, g->ns[STATES_G_WAITING], 1000);
		ok &= ASSERT_EQ(name, st_wait_ns(g, 7), 1000);
		ok &= ASSERT_EQ(name, st_wait_count(g, 7), 1);
		ok &= ASSERT_EQ(name, g->transitions, 6);
		ok &= ASSERT_EQ(name, g->parent, 1);
		ok &= ASSERT_TRUE(name, g->created && g->exited);
		ok &= ASSERT_STREQ(name, g->start_func, "main.worker");
		ok &= ASSERT_STREQ(name, g->created_at, "main.go:42");
	}
	ok &= ASSERT_EQ(name, nseen, 6);
	ok &= ASSERT_EQ(name, seen[2].reason, 7);
	ok &= ASSERT_EQ(name, seen[2].prev_since, 200);
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* Before Go 1.24 the creation event carries the g's previous goid. */
static void test_late_goid(void)
{
	const char *name = "late-goid";
	struct st_model *m = model(true);
	struct states_event e = ev(100, 0xb0, 3, STATES_G_DEAD, STATES_G_RUNNABLE);
	bool ok = true;

	e.flags = STATES_F_CREATE;
	e.startpc = 0x1000;
	ok &= ASSERT_EQ(name, st_model_feed(m, &e), 0); /* held */
	e = ev(150, 0xc0, 4, STATES_G_RUNNING, STATES_G_RUNNABLE); /* another g */
	ok &= ASSERT_EQ(name, st_model_feed(m, &e), 1);
	e = ev(200, 0xb0, 9, STATES_G_RUNNABLE, STATES_G_RUNNING);
	ok &= ASSERT_EQ(name, st_model_feed(m, &e), 2); /* creation released + this */
	ok &= ASSERT_EQ(name, nseen, 3);
	ok &= ASSERT_EQ(name, seen_goid[1], 9);
	ok &= ASSERT_TRUE(name, seen[1].flags & STATES_F_CREATE);
	ok &= ASSERT_EQ(name, seen[1].ts_ns, 100);
	ok &= ASSERT_EQ(name, seen_goid[2], 9);
	ok &= ASSERT_TRUE(name, find(m, 3) == NULL); /* the stale goid got nothing */
	ok &= ASSERT_EQ(name, find(m, 9)->ns[STATES_G_RUNNABLE], 100);
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* Many creations held at once, released in another order: exercises the
 * map's deletion (backward shift) under collisions and growth. */
static void test_late_goid_many(void)
{
	const char *name = "late-goid-many";
	struct st_model *m = model(true);
	const int n = 3000;
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct states_event e = ev(1000 + i, 0x10000 + 0x400 * (uint64_t)i, 1,
					   STATES_G_DEAD, STATES_G_RUNNABLE);

		e.flags = STATES_F_CREATE;
		st_model_feed(m, &e);
	}
	for (int k = 0; k < n; k++) {
		int i = (int)((k * 7919ULL) % n); /* a permutation: 7919 is prime, n isn't a multiple */
		struct states_event e = ev(100000 + k, 0x10000 + 0x400 * (uint64_t)i, 100 + i,
					   STATES_G_RUNNABLE, STATES_G_RUNNING);

		st_model_feed(m, &e);
	}
	for (int i = 0; i < n; i++) {
		struct st_goroutine *g = find(m, 100 + i);

		if (!g || !g->created || g->transitions != 2 ||
		    g->ns[STATES_G_RUNNABLE] == 0)
			bad++;
	}
	if (ASSERT_EQ(name, bad, 0) && ASSERT_EQ(name, nseen, 2 * n) &&
	    ASSERT_TRUE(name, find(m, 1) == NULL))
		CHECK_PASS(name);
	st_model_free(m);
}

static void test_drops(void)
{
	const char *name = "duplicates-and-failed-cas";
	struct st_model *m = model(false);
	struct states_event e;
	struct st_model_stats s;
	bool ok = true;

	e = ev(100, 0xd0, 7, STATES_G_RUNNABLE, STATES_G_RUNNING);
	st_model_feed(m, &e);
	/* Go 1.26: fast-path probe, then the casgstatus fallback. */
	e = ev(200, 0xd0, 7, STATES_G_RUNNING, STATES_G_SYSCALL);
	e.flags = STATES_F_SYNTH;
	st_model_feed(m, &e);
	e = ev(201, 0xd0, 7, STATES_G_RUNNING, STATES_G_SYSCALL);
	st_model_feed(m, &e);
	/* casGFromPreempted while not preempted: its CAS fails */
	e = ev(300, 0xd0, 7, STATES_G_PREEMPTED, STATES_G_WAITING);
	e.flags = STATES_F_SYNTH | STATES_F_MAYFAIL;
	st_model_feed(m, &e);
	/* scan bit stripped */
	e = ev(400, 0xd0, 7, STATES_G_SYSCALL, STATES_G_RUNNING);
	st_model_feed(m, &e);
	e = ev(500, 0xd0, 7, STATES_G_RUNNING, STATES_G_SCAN | STATES_G_PREEMPTED);
	st_model_feed(m, &e);
	e = ev(600, 0xd0, 7, STATES_G_PREEMPTED, STATES_G_WAITING);
	e.flags = STATES_F_SYNTH | STATES_F_MAYFAIL;
	st_model_feed(m, &e);
	/* goid 0 and unreadable goids are not goroutines we can name */
	e = ev(700, 0xe0, 0, STATES_G_IDLE, STATES_G_DEAD);
	st_model_feed(m, &e);
	e = ev(800, 0xe0, -1, STATES_G_RUNNING, STATES_G_WAITING);
	e.flags = STATES_F_NOGOID;
	st_model_feed(m, &e);
	st_model_stats(m, &s);
	ok &= ASSERT_EQ(name, s.duplicates, 1);
	ok &= ASSERT_EQ(name, s.failed_cas, 1);
	ok &= ASSERT_EQ(name, nseen, 5);
	ok &= ASSERT_EQ(name, seen[3].to, STATES_G_PREEMPTED);
	ok &= ASSERT_EQ(name, seen[4].from, STATES_G_PREEMPTED);
	ok &= ASSERT_EQ(name, find(m, 7)->ns[STATES_G_SYSCALL], 200);
	ok &= ASSERT_TRUE(name, find(m, 0) == NULL);
	st_model_finish(m, 1000);
	ok &= ASSERT_EQ(name, find(m, 7)->ns[STATES_G_WAITING], 400);
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

static void test_formats(void)
{
	const char *name = "stream-formats";
	static const char *const reasons[] = { "", "chan receive" };
	struct st_out o = { .t0_ns = 1000000000ULL, .reasons = reasons, .nreasons = 2 };
	struct st_model_opts mo = { .sink = st_out_transition, .ctx = &o };
	struct st_model *m = st_model_new(&mo);
	struct states_event e = ev(13345678000ULL, 0xf0, 18, STATES_G_RUNNING, STATES_G_WAITING);
	char *buf = NULL;
	size_t len = 0;
	bool ok = true;

	e.tid = 4321;
	e.reason = 1;
	o.stream = open_memstream(&buf, &len);
	st_model_feed(m, &e);
	o.jsonl = true;
	e.ts_ns += 1000;
	e.from = STATES_G_WAITING;
	e.to = STATES_G_RUNNABLE;
	st_model_feed(m, &e);
	fclose(o.stream);
	ok &= ASSERT_STREQ(name, buf,
			   "   12.345678 G18    tid 4321   running -> waiting (chan receive)\n"
			   "{\"type\":\"state\",\"ts_ns\":12345679000,\"goid\":18,\"tid\":4321,"
			   "\"from\":\"waiting\",\"to\":\"runnable\"}\n");
	free(buf);
	buf = NULL;
	{
		size_t n;
		struct st_goroutine **all = st_model_goroutines(m, &n);
		FILE *f = open_memstream(&buf, &len);

		st_out_summary_csv(&o, f, all, n, 0);
		fclose(f);
		ok &= ASSERT_STREQ(name, buf,
				   "goid,start_func,created_at,parent,transitions,running_ns,"
				   "runnable_ns,syscall_ns,waiting_ns,at_start,created,exited,"
				   "sched_count,sched_max_ns,labels,waiting_ns:chan receive\n"
				   "18,,,-1,2,0,0,0,1000,0,0,0,0,0,,1000\n");
		free(buf);
	}
	if (ok)
		CHECK_PASS(name);
	st_model_free(m);
}

/* The hand-written text stream against printf with the formats it replaced
 * (libc is the reference), over random field values. */
static void test_text_vs_printf(void)
{
	const char *name = "stream-text-vs-printf";
	static const char *const reasons[] = { "", "chan receive", "sleep" };
	struct st_out o = { .t0_ns = 5, .reasons = reasons, .nreasons = 3 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	bool ok = true;

	for (int i = 0; i < 20000 && ok; i++) {
		struct st_goroutine g = { 0 };
		struct st_transition t = { 0 };
		char want[512], *buf = NULL;
		size_t len = 0, n;
		uint64_t rel;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		rel = (seed >> 11) % (i % 3 ? 1000000000000ULL : 200000000000000ULL);
		t.ts_ns = o.t0_ns + rel;
		g.goid = 1 + (int64_t)((seed >> 7) % (i % 2 ? 100 : 100000000));
		t.tid = (uint32_t)(seed >> 40) % (i % 4 ? 99999 : 4194304);
		t.from = (int)((seed >> 3) % ST_NSTATES);
		t.to = (int)((seed >> 13) % ST_NSTATES);
		t.reason = (uint32_t)(seed >> 17) % 5;
		t.flags = (seed >> 23) & 1 ? STATES_F_CREATE : 0;
		g.parent = (seed >> 29) & 1 ? (int64_t)((seed >> 31) % 1000) : -1;
		g.start_func = (seed >> 37) & 1 ? "main.worker.func1" : NULL;
		t.g = &g;
		n = (size_t)snprintf(want, sizeof(want), "%5" PRIu64 ".%06" PRIu64 " G%-5" PRId64
				     " tid %-6u %s -> %s", rel / 1000000000, rel / 1000 % 1000000,
				     g.goid, t.tid, st_state_name(t.from), st_state_name(t.to));
		if (t.to == STATES_G_WAITING)
			n += (size_t)snprintf(want + n, sizeof(want) - n, " (%s)",
					      st_reason_name(&o, t.reason));
		if (t.flags & STATES_F_CREATE) {
			n += (size_t)snprintf(want + n, sizeof(want) - n, "  [new goroutine %s",
					      g.start_func ? g.start_func : "?");
			if (g.parent > 0)
				n += (size_t)snprintf(want + n, sizeof(want) - n, ", by G%" PRId64,
						      g.parent);
			n += (size_t)snprintf(want + n, sizeof(want) - n, "]");
		}
		snprintf(want + n, sizeof(want) - n, "\n");
		o.stream = open_memstream(&buf, &len);
		st_out_transition(&o, &t);
		fclose(o.stream);
		ok &= ASSERT_STREQ(name, buf, want);
		free(buf);
	}
	if (ok)
		CHECK_PASS(name);
}

static void test_parsers(void)
{
	const char *name = "parsers";
	bool ok = true;

	ok &= ASSERT_EQ(name, st_state_parse("waiting"), STATES_G_WAITING);
	ok &= ASSERT_EQ(name, st_state_parse("bogus"), -1);
	ok &= ASSERT_EQ(name, st_sort_parse("syscall"), ST_SORT_SYSCALL);
	ok &= ASSERT_EQ(name, st_sort_parse("nope"), -1);
	if (ok)
		CHECK_PASS(name);
}

int main(void)
{
	test_accounting();
	test_late_goid();
	test_late_goid_many();
	test_drops();
	test_formats();
	test_text_vs_printf();
	test_parsers();
	return check_failures ? 1 : 0;
}
