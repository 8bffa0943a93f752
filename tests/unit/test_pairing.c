// SPDX-License-Identifier: MIT
/*
 * Unit tests of the goroutine pairing engine (gotrace/funcgraph/pairing.c).
 *
 * Hand-written scenarios for each rule, then a randomized model: goroutines
 * run a random call tree whose truth (every call's function, depth and how
 * it ended) is recorded by the simulator itself while it generates the
 * probe events the BPF side would send, including duplicate entries after
 * morestack, panics that skip RETs, Goexit, and several goroutines
 * interleaved.  The engine's output must equal the simulator's record.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "funcgraph/pairing.h"

struct rec {
	int64_t goid;
	uint32_t func;
	int depth;
	enum pairing_end end;
	uint64_t start, dur, self;
	uint32_t parent;	/* stack[depth-1] or ~0 */
};

struct sink {
	struct rec *r;
	size_t n, cap;
	int idles;
};

static void on_call(const struct pairing_call *c, void *arg)
{
	struct sink *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->r = realloc(s->r, s->cap * sizeof(*s->r));
	}
	s->r[s->n++] = (struct rec){ c->goid, c->func, c->depth, c->end, c->start_ns,
				     c->end_ns - c->start_ns, c->self_ns,
				     c->depth ? c->stack[c->depth - 1] : ~0u };
	if (c->stack[c->depth] != c->func)
		CHECK_FAIL("stack", "stack[depth] %u != func %u", c->stack[c->depth], c->func);
}

static void on_idle(int64_t goid, bool g0, void *arg)
{
	((struct sink *)arg)->idles++;
}

static struct pairing *mk(struct sink *s, bool markers)
{
	struct pairing_opts o = { .morestack_markers = markers, .on_call = on_call,
				  .on_idle = on_idle, .arg = s };

	memset(s, 0, sizeof(*s));
	return pairing_new(&o);
}

static void test_nesting(void)
{
	const char *n = "nesting";
	struct sink s;
	struct pairing *p = mk(&s, true);

	/* a(d=100) { b(d=200) { } c(d=200) { } } */
	pairing_entry(p, 1, false, 100, 1, 10);
	pairing_entry(p, 1, false, 200, 2, 20);
	pairing_ret(p, 1, false, 200, 2, 25);
	pairing_entry(p, 1, false, 200, 3, 30);
	pairing_ret(p, 1, false, 200, 3, 40);
	pairing_ret(p, 1, false, 100, 1, 50);
	if (ASSERT_EQ(n, s.n, 3) && ASSERT_EQ(n, s.r[0].func, 2) && ASSERT_EQ(n, s.r[0].depth, 1) &&
	    ASSERT_EQ(n, s.r[0].dur, 5) && ASSERT_EQ(n, s.r[1].func, 3) &&
	    ASSERT_EQ(n, s.r[1].dur, 10) && ASSERT_EQ(n, s.r[2].func, 1) &&
	    ASSERT_EQ(n, s.r[2].depth, 0) && ASSERT_EQ(n, s.r[2].dur, 40) &&
	    ASSERT_EQ(n, s.r[2].self, 25) && ASSERT_EQ(n, s.r[2].end, PAIRING_RET) &&
	    ASSERT_EQ(n, s.idles, 1) && ASSERT_EQ(n, pairing_stats(p)->rets, 3))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_morestack_dup(void)
{
	const char *n = "morestack_dup";
	struct sink s;
	struct pairing *p = mk(&s, true);

	/* f entry, morestack at f's dist, f entry again (prologue re-run) */
	pairing_entry(p, 7, false, 100, 1, 10);
	pairing_entry(p, 7, false, 300, 2, 11);
	pairing_morestack(p, 7, false, 300, 12);
	pairing_entry(p, 7, false, 300, 2, 13);
	pairing_ret(p, 7, false, 300, 2, 20);
	pairing_ret(p, 7, false, 100, 1, 30);
	if (ASSERT_EQ(n, s.n, 2) && ASSERT_EQ(n, s.r[0].end, PAIRING_RET) &&
	    ASSERT_EQ(n, s.r[0].start, 11) && ASSERT_EQ(n, s.r[1].depth, 0) &&
	    ASSERT_EQ(n, pairing_stats(p)->dup_entries, 1) &&
	    ASSERT_EQ(n, pairing_stats(p)->unwound, 0))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

/* With markers, a same-dist re-entry without morestack is a new call (the
 * previous one was left by a panic recovered in an untraced caller). */
static void test_reentry_not_dup(void)
{
	const char *n = "reentry_not_dup";
	struct sink s;
	struct pairing *p = mk(&s, true);

	pairing_entry(p, 3, false, 100, 5, 10);
	pairing_entry(p, 3, false, 100, 5, 20);
	pairing_ret(p, 3, false, 100, 5, 30);
	if (ASSERT_EQ(n, s.n, 2) && ASSERT_EQ(n, s.r[0].end, PAIRING_UNWOUND) &&
	    ASSERT_EQ(n, s.r[0].dur, 10) && ASSERT_EQ(n, s.r[1].end, PAIRING_RET) &&
	    ASSERT_EQ(n, s.r[1].depth, 0))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);

	n = "no_markers_dedupe";
	p = mk(&s, false);
	pairing_entry(p, 3, false, 100, 5, 10);
	pairing_entry(p, 3, false, 100, 5, 20);
	pairing_ret(p, 3, false, 100, 5, 30);
	if (ASSERT_EQ(n, s.n, 1) && ASSERT_EQ(n, s.r[0].dur, 20))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_panic_unwind(void)
{
	const char *n = "panic_unwind";
	struct sink s;
	struct pairing *p = mk(&s, true);

	/* catch(100) { p1(200) { p2(300) { p3(400) panic } } } recovered in catch */
	pairing_entry(p, 9, false, 100, 1, 10);
	pairing_entry(p, 9, false, 200, 2, 11);
	pairing_entry(p, 9, false, 300, 2, 12);
	pairing_entry(p, 9, false, 400, 2, 13);
	/* deferred recover closure runs deeper than the panicking frames */
	pairing_entry(p, 9, false, 900, 3, 14);
	pairing_ret(p, 9, false, 900, 3, 15);
	pairing_ret(p, 9, false, 100, 1, 20);
	if (ASSERT_EQ(n, s.n, 5) && ASSERT_EQ(n, s.r[0].func, 3) && ASSERT_EQ(n, s.r[0].depth, 4) &&
	    ASSERT_EQ(n, s.r[1].end, PAIRING_UNWOUND) && ASSERT_EQ(n, s.r[1].depth, 3) &&
	    ASSERT_EQ(n, s.r[3].depth, 1) && ASSERT_EQ(n, s.r[3].end, PAIRING_UNWOUND) &&
	    ASSERT_EQ(n, s.r[4].end, PAIRING_RET) && ASSERT_EQ(n, pairing_stats(p)->unwound, 3))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_untraced_recover(void)
{
	const char *n = "untraced_recover";
	struct sink s;
	struct pairing *p = mk(&s, true);

	/* untraced catcher(100) -> p1(200) -> p2(300) panic, recovered in the
	 * catcher, which calls deferreturn (dist 200), then an untraced g
	 * (dist 200) calls traced h at 400 */
	pairing_entry(p, 9, false, 200, 1, 10);
	pairing_entry(p, 9, false, 300, 2, 11);
	pairing_unwind_to(p, 9, false, 200, 15);
	pairing_entry(p, 9, false, 400, 3, 20);
	pairing_ret(p, 9, false, 400, 3, 21);
	if (ASSERT_EQ(n, s.n, 3) && ASSERT_EQ(n, s.r[0].func, 2) &&
	    ASSERT_EQ(n, s.r[0].end, PAIRING_UNWOUND) && ASSERT_EQ(n, s.r[0].dur, 4) &&
	    ASSERT_EQ(n, s.r[1].func, 1) && ASSERT_EQ(n, s.r[1].end, PAIRING_UNWOUND) &&
	    ASSERT_EQ(n, s.r[2].func, 3) && ASSERT_EQ(n, s.r[2].depth, 0) &&
	    ASSERT_EQ(n, s.r[2].end, PAIRING_RET) && ASSERT_EQ(n, s.idles, 2))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_unwind_func_traced(void)
{
	const char *n = "unwind_func_traced";
	struct sink s;
	struct pairing *p = mk(&s, true);

	/* deferreturn (func 7) traced: its entry and the unwind event at the
	 * same dist, in both orders; a stale sibling at that dist is closed */
	pairing_set_unwind_func(p, 7);
	pairing_entry(p, 2, false, 100, 1, 10);
	pairing_entry(p, 2, false, 200, 3, 11);	/* stale: left by a panic */
	pairing_entry(p, 2, false, 200, 7, 12);	/* closes it, pushes deferreturn */
	pairing_unwind_to(p, 2, false, 200, 12);	/* keeps deferreturn */
	pairing_ret(p, 2, false, 200, 7, 13);
	pairing_unwind_to(p, 2, false, 200, 14);	/* other order */
	pairing_entry(p, 2, false, 200, 7, 14);
	pairing_ret(p, 2, false, 200, 7, 15);
	pairing_ret(p, 2, false, 100, 1, 16);
	if (ASSERT_EQ(n, s.n, 4) && ASSERT_EQ(n, s.r[0].func, 3) &&
	    ASSERT_EQ(n, s.r[0].end, PAIRING_UNWOUND) && ASSERT_EQ(n, s.r[1].func, 7) &&
	    ASSERT_EQ(n, s.r[1].end, PAIRING_RET) && ASSERT_EQ(n, s.r[2].end, PAIRING_RET) &&
	    ASSERT_EQ(n, s.r[3].func, 1) && ASSERT_EQ(n, s.r[3].end, PAIRING_RET))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_goexit_and_finish(void)
{
	const char *n = "goexit_finish";
	struct sink s;
	struct pairing *p = mk(&s, true);

	pairing_entry(p, 4, false, 100, 1, 10);
	pairing_entry(p, 4, false, 200, 1, 11);
	pairing_entry(p, 5, false, 100, 1, 12);
	pairing_gexit(p, 4, 20);
	pairing_ret(p, 4, false, 200, 1, 21);	/* goroutine gone: unmatched */
	pairing_finish(p, 30);
	if (ASSERT_EQ(n, s.n, 3) && ASSERT_EQ(n, s.r[0].end, PAIRING_UNWOUND) &&
	    ASSERT_EQ(n, s.r[1].end, PAIRING_UNWOUND) && ASSERT_EQ(n, s.r[2].goid, 5) &&
	    ASSERT_EQ(n, s.r[2].end, PAIRING_OPEN) && ASSERT_EQ(n, s.r[2].dur, 18) &&
	    ASSERT_EQ(n, pairing_stats(p)->unmatched_rets, 1) &&
	    ASSERT_EQ(n, pairing_open_depth(p, 5, false), 0))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_unmatched_and_g0(void)
{
	const char *n = "unmatched_g0";
	struct sink s;
	struct pairing *p = mk(&s, true);

	/* attach mode: a RET of a call that began before tracing */
	pairing_ret(p, 2, false, 100, 1, 5);
	pairing_entry(p, 2, false, 300, 2, 10);
	pairing_entry(p, 2, true, 50, 8, 11);	/* on g0 for goroutine 2 */
	pairing_ret(p, 2, true, 50, 8, 12);
	pairing_ret(p, 2, false, 300, 2, 13);
	pairing_entry(p, -1, false, 1, 1, 14);
	if (ASSERT_EQ(n, s.n, 2) && ASSERT_EQ(n, s.r[0].func, 8) && ASSERT_EQ(n, s.r[0].depth, 0) &&
	    ASSERT_EQ(n, s.r[1].depth, 0) && ASSERT_EQ(n, pairing_stats(p)->unmatched_rets, 1) &&
	    ASSERT_EQ(n, pairing_stats(p)->bad_goid, 1))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

static void test_tailcall(void)
{
	const char *n = "tailcall";
	static const bool noret[3] = { false, true, false };
	struct pairing_opts o = { .morestack_markers = true, .noret = noret, .nfuncs = 3,
				  .on_call = on_call };
	struct sink s;
	struct pairing *p;

	memset(&s, 0, sizeof(s));
	o.arg = &s;
	p = pairing_new(&o);
	/* caller(0) -> wrapper(1, no RET) tail-jumps to target(2) at its dist */
	pairing_entry(p, 1, false, 100, 0, 10);
	pairing_entry(p, 1, false, 200, 1, 11);
	pairing_entry(p, 1, false, 200, 2, 12);
	pairing_ret(p, 1, false, 200, 2, 15);
	pairing_ret(p, 1, false, 100, 0, 20);
	if (ASSERT_EQ(n, s.n, 3) && ASSERT_EQ(n, s.r[0].func, 1) &&
	    ASSERT_EQ(n, s.r[0].end, PAIRING_RET) && ASSERT_EQ(n, s.r[0].dur, 1) &&
	    ASSERT_EQ(n, s.r[1].func, 2) && ASSERT_EQ(n, s.r[1].depth, 1) &&
	    ASSERT_EQ(n, s.r[2].end, PAIRING_RET))
		CHECK_PASS(n);
	pairing_free(p);
	free(s.r);
}

/* --- randomized model ---------------------------------------------------- */

#define NG 40
#define MAXD 64

struct sim_frame {
	uint32_t func;
	uint64_t dist;
	size_t rec;	/* index of its truth record */
	bool traced;
};

struct sim_g {
	int64_t goid;
	struct sim_frame st[MAXD];
	int n;
	int traced_depth;
	bool dead;
};

static struct rec *truth;
static size_t ntruth, captruth;

static size_t truth_add(int64_t goid, uint32_t func, int depth)
{
	if (ntruth == captruth) {
		captruth = captruth ? captruth * 2 : 1024;
		truth = realloc(truth, captruth * sizeof(*truth));
	}
	truth[ntruth] = (struct rec){ .goid = goid, .func = func, .depth = depth };
	return ntruth++;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->goid != y->goid)
		return x->goid < y->goid ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->depth - y->depth;
}

static const uint64_t fsize[6] = { 24, 200, 8, 1024, 56, 4096 };

static void test_random(bool markers)
{
	const char *n = markers ? "random_model" : "random_model_nomarkers";
	struct sim_g gs[NG];
	struct sink s;
	struct pairing *p = mk(&s, markers);
	uint64_t ts = 1;
	int alive = NG, bad = 0;

	srand(markers ? 12345 : 777);
	ntruth = 0;
	memset(gs, 0, sizeof(gs));
	for (int i = 0; i < NG; i++)
		gs[i].goid = 100 + i;
	for (long step = 0; step < 400000 && alive; step++) {
		struct sim_g *g = &gs[rand() % NG];
		int r = rand() % 100;

		if (g->dead)
			continue;
		ts++;
		if ((r < 45 && g->n < MAXD - 1) || g->n == 0) {
			/* call: traced or untraced function; frame size varies */
			struct sim_frame *f = &g->st[g->n];
			uint64_t parent = g->n ? g->st[g->n - 1].dist : 0;

			f->func = rand() % 6;
			f->traced = f->func < 4;
			/* Go frames have a fixed size per function, so every
			 * callee of one frame starts at the same dist. */
			f->dist = parent + 8 + (g->n ? fsize[g->st[g->n - 1].func] : 0);
			if (f->traced) {
				f->rec = truth_add(g->goid, f->func, g->traced_depth++);
				truth[f->rec].start = ts;
				pairing_entry(p, g->goid, false, f->dist, f->func, ts);
				/* stack growth: morestack then the prologue again */
				if (rand() % 5 == 0) {
					if (markers)
						pairing_morestack(p, g->goid, false, f->dist, ++ts);
					pairing_entry(p, g->goid, false, f->dist, f->func, ++ts);
				}
			} else if (markers && rand() % 3 == 0) {
				/* untraced function growing the stack */
				pairing_morestack(p, g->goid, false, f->dist, ts);
			}
			g->n++;
		} else if (r < 90) {
			/* return from the top frame */
			struct sim_frame *f = &g->st[--g->n];

			if (f->traced) {
				truth[f->rec].end = PAIRING_RET;
				g->traced_depth--;
				pairing_ret(p, g->goid, false, f->dist, f->func, ts);
			}
		} else if (r < 97 && markers) {
			/* a panic unwinding to a random frame (traced or not)
			 * that recovers.  Without morestack markers a re-call
			 * at the same dist after a panic is taken for a
			 * duplicate: no panics there. */
			int to = rand() % g->n;

			while (g->n > to + 1) {
				struct sim_frame *f = &g->st[--g->n];

				if (f->traced) {
					truth[f->rec].end = PAIRING_UNWOUND;
					g->traced_depth--;
				}
			}
			/* the recovering function resumes at its deferreturn
			 * call: runtime.deferreturn's entry, one frame below */
			pairing_unwind_to(p, g->goid, false,
					  g->st[to].dist + 8 + fsize[g->st[to].func], ts);
		} else if (r < 98) {
			/* Goexit */
			while (g->n > 0) {
				struct sim_frame *f = &g->st[--g->n];

				if (f->traced)
					truth[f->rec].end = PAIRING_UNWOUND;
			}
			g->traced_depth = 0;
			g->dead = true;
			alive--;
			pairing_gexit(p, g->goid, ts);
		}
	}
	/* leftover: open */
	for (int i = 0; i < NG; i++)
		for (int k = 0; k < gs[i].n; k++)
			if (gs[i].st[k].traced)
				truth[gs[i].st[k].rec].end = PAIRING_OPEN;
	pairing_finish(p, ts + 1);

	/* Every function, depth, start and end kind must match. */
	qsort(truth, ntruth, sizeof(*truth), cmp_rec);
	qsort(s.r, s.n, sizeof(*s.r), cmp_rec);
	if (!ASSERT_EQ(n, s.n, ntruth))
		goto out;
	for (size_t i = 0; i < ntruth && bad < 5; i++) {
		if (s.r[i].goid != truth[i].goid || s.r[i].func != truth[i].func ||
		    s.r[i].depth != truth[i].depth || s.r[i].start != truth[i].start ||
		    s.r[i].end != truth[i].end) {
			CHECK_FAIL(n, "call %zu: got g%lld f%u d%d t%llu %s, want g%lld f%u d%d t%llu %s",
				   i, (long long)s.r[i].goid, s.r[i].func, s.r[i].depth,
				   (unsigned long long)s.r[i].start, pairing_end_name(s.r[i].end),
				   (long long)truth[i].goid, truth[i].func, truth[i].depth,
				   (unsigned long long)truth[i].start, pairing_end_name(truth[i].end));
			bad++;
		}
	}
	if (!bad)
		CHECK_PASS(n);
out:
	pairing_free(p);
	free(s.r);
}

int main(void)
{
	test_nesting();
	test_morestack_dup();
	test_reentry_not_dup();
	test_panic_unwind();
	test_untraced_recover();
	test_unwind_func_traced();
	test_goexit_and_finish();
	test_unmatched_and_g0();
	test_tailcall();
	test_random(true);
	test_random(false);
	free(truth);
	return check_failures ? 1 : 0;
}
