// SPDX-License-Identifier: MIT
/*
 * Unit tests of funclatency's in-BPF pairing (bpf/funclatency.h), compiled
 * here as plain C: the same functions the BPF program runs.
 *
 * The truth is funcgraph's pairing engine (gotrace/funcgraph/pairing.c,
 * itself tested against a simulator in test_pairing.c): random goroutine
 * call trees (nested calls, duplicate entries after runtime.morestack,
 * morestack in untraced functions, panics that skip RETs and are
 * recovered at random depths, Goexit, returns of calls that began before
 * tracing, several goroutines interleaved) are fed to both, and every
 * call either one closes (function, how it ended, duration) must be the
 * same, in the same order, as long as no goroutine is deeper than
 * FL_DEPTH.  Then the bound: a recursion deeper than FL_DEPTH times the
 * innermost FL_DEPTH calls and counts the others as evicted, and their
 * returns as unmatched.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "check.h"

#define FL_INLINE inline __attribute__((always_inline))
struct done {
	int64_t goid;
	uint32_t func;
	int end;		/* FL_END_* */
	uint64_t dur;
};

struct fl_sink {
	struct done *d;
	size_t n, cap;
	int64_t goid;		/* the track being fed */
};

static void push_done(struct fl_sink *s, int64_t goid, uint32_t func, int end, uint64_t dur)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->d = realloc(s->d, s->cap * sizeof(*s->d));
	}
	s->d[s->n++] = (struct done){ goid, func, end, dur };
}

static FL_INLINE void fl_done(void *ctx, __u32 func, __u64 dur_ns, int end)
{
	struct fl_sink *s = ctx;

	push_done(s, s->goid, func, end, dur_ns);
}

#include "funclatency.h"
#include "funcgraph/pairing.h"

static void on_call(const struct pairing_call *c, void *arg)
{
	/* pairing's ret/unwound are fl's FL_END_RET/UNWOUND; open is left */
	if (c->end != PAIRING_OPEN)
		push_done(arg, c->goid, c->func, c->end == PAIRING_RET ? FL_END_RET : FL_END_UNWOUND,
			  c->end_ns - c->start_ns);
}

#define NGOR 6

struct sim {
	struct fl_track tracks[NGOR];
	struct pairing *p;
	struct fl_sink fl, pr;
	uint64_t ts;
	long dups, unmatched;
	/* the simulated goroutines: their stacks of (func, dist) */
	struct {
		uint32_t func[80];
		uint64_t dist[80];
		int n;
		bool alive;
	} g[NGOR];
};

static void ev_entry(struct sim *s, int gi, uint64_t d, uint32_t f)
{
	s->ts += 1 + rand() % 50;
	s->fl.goid = gi + 1;
	if (fl_entry(&s->tracks[gi], d, f, s->ts, 1, &s->fl) == FL_DUP)
		s->dups++;
	pairing_entry(s->p, gi + 1, false, d, f, s->ts);
}

static void ev_ret(struct sim *s, int gi, uint64_t d, uint32_t f)
{
	s->ts += 1 + rand() % 50;
	s->fl.goid = gi + 1;
	if (fl_ret(&s->tracks[gi], d, f, s->ts, &s->fl) == FL_UNMATCHED)
		s->unmatched++;
	pairing_ret(s->p, gi + 1, false, d, f, s->ts);
}

static void ev_morestack(struct sim *s, int gi, uint64_t d)
{
	s->ts += 1;
	fl_morestack(&s->tracks[gi], d);
	pairing_morestack(s->p, gi + 1, false, d, s->ts);
}

/* One random step of goroutine gi. */
static void step(struct sim *s, int gi)
{
	int r = rand() % 100, n = s->g[gi].n;
	uint64_t top = n ? s->g[gi].dist[n - 1] : 64;

	if (!s->g[gi].alive)
		return;
	if (n < 60 && (r < 45 || n == 0)) {
		/* a call, sometimes through an untraced function, sometimes
		 * growing the stack; recursion gives equal funcs at many dists */
		uint32_t f = rand() % 7;
		uint64_t d = top + 8 + rand() % 300;

		if (rand() % 10 == 0) {
			/* untraced code grows the stack, then calls deeper */
			ev_morestack(s, gi, d);
			d += 8 + rand() % 100;
		}
		ev_entry(s, gi, d, f);
		if (rand() % 8 == 0) {
			ev_morestack(s, gi, d);
			ev_entry(s, gi, d, f);	/* the prologue again */
		}
		s->g[gi].func[n] = f;
		s->g[gi].dist[n] = d;
		s->g[gi].n++;
	} else if (r < 85 && n > 0) {
		ev_ret(s, gi, top, s->g[gi].func[n - 1]);
		s->g[gi].n--;
	} else if (r < 93 && n > 1) {
		/* a panic unwinds k frames, recovered below them: no RETs */
		s->g[gi].n -= 1 + rand() % (n - 1);
	} else if (r < 96) {
		/* the return of a call that began before tracing */
		ev_ret(s, gi, n ? s->g[gi].dist[0] - 4 : 32, rand() % 7);
		s->g[gi].n = 0;
	} else if (r < 97) {
		/* Goexit: everything unwound, the track freed */
		s->ts += 3;
		s->fl.goid = gi + 1;
		fl_gexit(&s->tracks[gi], s->ts, &s->fl);
		memset(&s->tracks[gi], 0, sizeof(s->tracks[gi]));
		pairing_gexit(s->p, gi + 1, s->ts);
		s->g[gi].alive = false;
	}
}

static bool same(const char *name, const struct fl_sink *a, const struct fl_sink *b)
{
	if (!ASSERT_EQ(name, a->n, b->n))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct done *x = &a->d[i], *y = &b->d[i];

		if (x->goid != y->goid || x->func != y->func || x->end != y->end || x->dur != y->dur)
			return CHECK_FAIL(name, "call %zu: fl g%lld f%u end %d dur %llu, pairing "
					  "g%lld f%u end %d dur %llu", i, (long long)x->goid, x->func,
					  x->end, (unsigned long long)x->dur, (long long)y->goid,
					  y->func, y->end, (unsigned long long)y->dur);
	}
	return true;
}

static void test_against_pairing(void)
{
	const char *name = "against-pairing";
	long rets = 0, unwound = 0;

	for (int round = 0; round < 300; round++) {
		struct pairing_opts po = { .morestack_markers = true, .on_call = on_call };
		struct sim *s = calloc(1, sizeof(*s));
		bool ok;

		po.arg = &s->pr;
		s->p = pairing_new(&po);
		for (int i = 0; i < NGOR; i++)
			s->g[i].alive = true;
		for (int i = 0; i < 2000; i++)
			step(s, rand() % NGOR);
		if (!ASSERT_EQ(name, pairing_stats(s->p)->dup_entries, s->dups) ||
		    !ASSERT_EQ(name, pairing_stats(s->p)->unmatched_rets, s->unmatched))
			ok = false;
		else
			ok = same(name, &s->fl, &s->pr);
		/* what is still open: the same calls on both sides */
		for (int i = 0; ok && i < NGOR; i++)
			ok = ASSERT_EQ(name, s->tracks[i].n, pairing_open_depth(s->p, i + 1, false));
		for (size_t i = 0; i < s->fl.n; i++) {
			rets += s->fl.d[i].end == FL_END_RET;
			unwound += s->fl.d[i].end == FL_END_UNWOUND;
		}
		pairing_free(s->p);
		free(s->fl.d);
		free(s->pr.d);
		free(s);
		if (!ok)
			return;
	}
	/* the model exercised every rule */
	if (!ASSERT_TRUE(name, rets > 10000) || !ASSERT_TRUE(name, unwound > 1000))
		return;
	CHECK_PASS(name);
}

/* Recursion of depth D > FL_DEPTH: the innermost FL_DEPTH calls timed, the
 * outer ones evicted, their returns unmatched. */
static void test_eviction(void)
{
	const char *name = "eviction";
	static struct fl_track t;
	struct fl_sink s = { 0 };
	const int D = FL_DEPTH + 37;
	int rets = 0, ev = 0, um = 0;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < D; i++)
		if (!ASSERT_EQ(name, fl_entry(&t, 100 + 64 * i, 5, 1000 + i, 1, &s), FL_OK))
			return;
	for (int i = D - 1; i >= 0; i--)
		um += fl_ret(&t, 100 + 64 * i, 5, 5000 + (D - 1 - i), &s) == FL_UNMATCHED;
	for (size_t i = 0; i < s.n; i++) {
		rets += s.d[i].end == FL_END_RET;
		ev += s.d[i].end == FL_END_EVICTED;
	}
	/* the innermost call: entered at 1000 + D - 1, returned at 5000 */
	if (ASSERT_EQ(name, rets, FL_DEPTH) && ASSERT_EQ(name, ev, D - FL_DEPTH) &&
	    ASSERT_EQ(name, um, D - FL_DEPTH) && ASSERT_EQ(name, t.n, 0) &&
	    ASSERT_EQ(name, s.d[D - FL_DEPTH].dur, 5000 - (1000 + D - 1)))
		CHECK_PASS(name);
	free(s.d);
}

/* A deep panic (more frames than FL_DEPTH skipped at once) is closed by
 * one entry: every held frame unwound, none left. */
static void test_deep_unwind(void)
{
	const char *name = "deep-unwind";
	static struct fl_track t;
	struct fl_sink s = { 0 };

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < FL_DEPTH; i++)
		fl_entry(&t, 200 + 16 * i, 1, i, 1, &s);
	fl_entry(&t, 100, 2, 500, 1, &s);
	if (ASSERT_EQ(name, s.n, FL_DEPTH) && ASSERT_EQ(name, t.n, 1) &&
	    ASSERT_EQ(name, s.d[0].end, FL_END_UNWOUND) &&
	    ASSERT_EQ(name, fl_ret(&t, 100, 2, 600, &s), FL_OK) &&
	    ASSERT_EQ(name, s.d[FL_DEPTH].dur, 100))
		CHECK_PASS(name);
	free(s.d);
}

int main(void)
{
	srand(4242);
	test_against_pairing();
	test_eviction();
	test_deep_unwind();
	return check_failures ? 1 : 0;
}
