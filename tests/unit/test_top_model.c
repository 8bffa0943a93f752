// SPDX-License-Identifier: MIT
/*
 * Unit tests of gotrace top's model (gotrace/top/model.c): made-up
 * samples of cumulative times with hand-computed intervals, groups,
 * exits, the header's shares, sort, filter, selection and the history;
 * and the text cells (top/text.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "top/model.h"
#include "top/text.h"

#define MS 1000000ULL

static const char *reason_name(struct top_source *s, uint32_t r)
{
	return r == 7 ? "chan receive" : r == 13 ? "sleep" : "?";
}

static struct top_source src = { .reason = reason_name };

static struct top_gsample G(int64_t goid, const char *start, uint8_t state, uint64_t run,
			    uint64_t rnbl, uint64_t sys, uint64_t wait)
{
	struct top_gsample g = { .goid = goid, .parent = 1, .start = start, .created = "main.go:1",
				 .state = state, .first_ns = 0 };

	g.ns[TOP_RUN] = run;
	g.ns[TOP_RNBL] = rnbl;
	g.ns[TOP_SYS] = sys;
	g.ns[TOP_WAIT] = wait;
	if (wait) {
		g.waits[0] = (struct top_wait){ .ns = wait, .reason = start[5] == 'c' ? 7 : 13 };
		g.nwaits = 1;
		g.reason = g.waits[0].reason;
	}
	return g;
}

static const struct top_row *row_of(struct top_model *m, int64_t goid, const char *name)
{
	size_t n;
	struct top_row *const *r = top_model_rows(m, &n);

	for (size_t i = 0; i < n; i++)
		if (goid ? r[i]->goid == goid : !strcmp(r[i]->name, name))
			return r[i];
	return NULL;
}

/* Two samples one second apart: the rows hold the differences. */
static void test_interval(void)
{
	const char *name = "top_model/interval";
	struct top_gsample a[] = {
		G(10, "main.spin", TOP_RUN, 100 * MS, 50 * MS, 0, 0),
		G(11, "main.chanwait", TOP_WAIT, 0, 0, 0, 100 * MS),
		G(12, "main.sys", TOP_SYS, 1 * MS, 0, 90 * MS, 0),
	};
	struct top_gsample b[] = {
		G(10, "main.spin", TOP_RNBL, 800 * MS, 300 * MS, 0, 0),
		G(11, "main.chanwait", TOP_WAIT, 0, 0, 0, 1100 * MS),
		G(12, "main.sys", TOP_SYS, 2 * MS, 9 * MS, 1080 * MS, 0),
	};
	struct top_sample s1 = { .now_ns = 1000 * MS, .g = a, .n = 3, .have_transitions = true,
				 .transitions = 100 };
	struct top_sample s2 = { .now_ns = 2000 * MS, .g = b, .n = 3, .have_transitions = true,
				 .transitions = 600, .lost = 3 };
	struct top_ui ui = { .sort = TOP_COL_RUN };
	struct top_model *m = top_model_new(&ui);
	const struct top_header *h;
	const struct top_row *r;
	char buf[64];
	bool ok = true;

	ok &= ASSERT_EQ(name, top_model_apply(m, &s1, false), 0);	/* the first: a baseline */
	ok &= ASSERT_EQ(name, top_model_header(m)->ticks, 0);
	ok &= ASSERT_EQ(name, top_model_apply(m, &s2, false), 0);
	h = top_model_header(m);
	ok &= ASSERT_EQ(name, h->interval_ns, 1000 * MS);
	ok &= ASSERT_EQ(name, h->total, 3);
	ok &= ASSERT_EQ(name, h->nstate[TOP_RNBL], 1);
	ok &= ASSERT_EQ(name, h->nstate[TOP_WAIT], 1);
	ok &= ASSERT_EQ(name, h->nstate[TOP_SYS], 1);
	ok &= ASSERT_EQ(name, (long long)h->trans_per_s, 500);
	ok &= ASSERT_EQ(name, h->lost_d, 3);
	/* syscall 990 ms of running 701 + syscall 990 */
	ok &= ASSERT_EQ(name, (long long)(h->sys_share * 1000), 990 * 1000 / 1691);
	r = row_of(m, 10, NULL);
	ok &= ASSERT_TRUE(name, r != NULL) && ASSERT_EQ(name, r->d[TOP_RUN], 700 * MS) &&
	      ASSERT_EQ(name, r->d[TOP_RNBL], 250 * MS) &&
	      ASSERT_EQ(name, top_row_hist(m, r, 0, TOP_RUN), 700 * 255 / 1000);
	r = row_of(m, 11, NULL);
	ok &= ASSERT_TRUE(name, r != NULL) && ASSERT_EQ(name, r->d[TOP_WAIT], 1000 * MS) &&
	      ASSERT_EQ(name, r->ndwaits, 1) && ASSERT_EQ(name, r->dwaits[0].ns, 1000 * MS) &&
	      ASSERT_STREQ(name, top_cell(buf, sizeof(buf), &src, TOP_VIEW_GOROUTINES, r,
					  TOP_COL_REASON), "chan receive") &&
	      ASSERT_STREQ(name, top_cell(buf, sizeof(buf), &src, TOP_VIEW_GOROUTINES, r,
					  TOP_COL_WAIT), "1.00s") &&
	      ASSERT_EQ(name, top_row_hist(m, r, 0, TOP_WAIT), 255) &&
	      ASSERT_EQ(name, top_row_hist(m, r, 1, TOP_WAIT), -1);
	/* by RUN, largest first */
	size_t n;
	struct top_row *const *rows = top_model_rows(m, &n);

	ok &= ASSERT_EQ(name, n, 3) && ASSERT_EQ(name, rows[0]->goid, 10) &&
	      ASSERT_EQ(name, rows[1]->goid, 12) && ASSERT_EQ(name, rows[2]->goid, 11);
	top_model_free(m);
	if (ok)
		CHECK_PASS(name);
}

/* Groups by start function, a goroutine created and one exited. */
static void test_groups_exit(void)
{
	const char *name = "top_model/groups_exit";
	struct top_gsample a[] = {
		G(20, "main.chanwait", TOP_WAIT, 0, 0, 0, 100 * MS),
		G(21, "main.chanwait", TOP_WAIT, 0, 0, 0, 100 * MS),
		G(22, "main.sleeper", TOP_WAIT, 1 * MS, 0, 0, 50 * MS),
	};
	struct top_gsample b[] = {
		G(20, "main.chanwait", TOP_WAIT, 0, 0, 0, 1100 * MS),
		G(21, "main.chanwait", TOP_WAIT, 0, 0, 0, 1100 * MS),
		G(22, "main.sleeper", TOP_DEAD, 3 * MS, 0, 0, 500 * MS),
		G(23, "main.sleeper", TOP_RUN, 5 * MS, 0, 0, 0),
	};
	struct top_sample s1 = { .now_ns = 1000 * MS, .g = a, .n = 3 };
	struct top_sample s2 = { .now_ns = 2000 * MS, .g = b, .n = 4 };
	struct top_sample s3 = { .now_ns = 3000 * MS, .g = b, .n = 4 };
	struct top_ui ui = { .view = TOP_VIEW_START, .sort = TOP_COL_ID };
	struct top_model *m = top_model_new(&ui);
	const struct top_row *r;
	bool ok = true;

	b[2].end_ns = 1500 * MS;
	b[3].first_ns = 1800 * MS;
	top_model_apply(m, &s1, false);
	top_model_apply(m, &s2, false);
	ok &= ASSERT_EQ(name, top_model_header(m)->created, 1);
	ok &= ASSERT_EQ(name, top_model_header(m)->exited, 1);
	ok &= ASSERT_EQ(name, top_model_header(m)->total, 3);
	r = row_of(m, 0, "main.chanwait");
	ok &= ASSERT_TRUE(name, r != NULL) && ASSERT_EQ(name, r->count, 2) &&
	      ASSERT_EQ(name, r->nstate[TOP_WAIT], 2) && ASSERT_EQ(name, r->d[TOP_WAIT], 2000 * MS) &&
	      ASSERT_EQ(name, r->dwaits[0].reason, 7) && ASSERT_EQ(name, r->first_goid, 20);
	/* the exited goroutine's last interval counts in its group; it is
	 * no member any more */
	r = row_of(m, 0, "main.sleeper");
	ok &= ASSERT_TRUE(name, r != NULL) && ASSERT_EQ(name, r->count, 1) &&
	      ASSERT_EQ(name, r->d[TOP_RUN], 2 * MS + 5 * MS) &&
	      ASSERT_EQ(name, r->d[TOP_WAIT], 450 * MS) && ASSERT_EQ(name, r->first_goid, 23);
	/* the goroutines view: the exited one is not listed */
	ok &= ASSERT_EQ(name, top_model_key(m, 'g'), TOP_ACT_REDRAW);
	ok &= ASSERT_EQ(name, top_model_ui(m)->view, TOP_VIEW_CREATED);
	top_model_key(m, 'g');
	ok &= ASSERT_EQ(name, top_model_ui(m)->view, TOP_VIEW_GOROUTINES);
	ok &= ASSERT_TRUE(name, row_of(m, 22, NULL) == NULL && row_of(m, 23, NULL) != NULL);
	/* a source reports an exit once; the goroutine is gone after */
	top_model_apply(m, &s3, false);
	ok &= ASSERT_EQ(name, top_model_header(m)->exited, 0);
	top_model_free(m);
	if (ok)
		CHECK_PASS(name);
}

/* Keys: sort column and order, filter typing and cancel, the selection
 * following its row, pause and quit. */
static void test_keys(void)
{
	const char *name = "top_model/keys";
	struct top_gsample a[] = {
		G(30, "main.alpha", TOP_RUN, 0, 0, 0, 0),
		G(31, "main.beta", TOP_RUN, 0, 0, 0, 0),
		G(32, "main.gamma", TOP_RUN, 0, 0, 0, 0),
	};
	struct top_gsample b[] = {
		G(30, "main.alpha", TOP_RUN, 300 * MS, 0, 0, 0),
		G(31, "main.beta", TOP_RUN, 200 * MS, 0, 0, 0),
		G(32, "main.gamma", TOP_RUN, 100 * MS, 900 * MS, 0, 0),
	};
	struct top_sample s1 = { .now_ns = 0, .g = a, .n = 3 };
	struct top_sample s2 = { .now_ns = 1000 * MS, .g = b, .n = 3 };
	struct top_ui ui = { .sort = TOP_COL_RUN };
	struct top_model *m = top_model_new(&ui);
	struct top_row *const *rows;
	size_t n;
	bool ok = true;

	top_model_apply(m, &s1, true);
	top_model_apply(m, &s2, false);
	rows = top_model_rows(m, &n);
	ok &= ASSERT_EQ(name, rows[0]->goid, 30);
	ok &= ASSERT_EQ(name, top_model_key(m, 'j'), TOP_ACT_REDRAW);
	ok &= ASSERT_EQ(name, top_model_selected(m)->goid, 31);
	top_model_key(m, 's');			/* RUN -> RNBL */
	ok &= ASSERT_EQ(name, top_model_ui(m)->sort, TOP_COL_RNBL);
	rows = top_model_rows(m, &n);
	ok &= ASSERT_EQ(name, rows[0]->goid, 32);
	ok &= ASSERT_EQ(name, top_model_selected(m)->goid, 31);	/* followed */
	top_model_key(m, 'S');
	rows = top_model_rows(m, &n);
	ok &= ASSERT_EQ(name, rows[2]->goid, 32);
	top_model_key(m, '/');
	ok &= ASSERT_TRUE(name, top_model_ui(m)->editing);
	ok &= ASSERT_EQ(name, top_model_key(m, 'q'), TOP_ACT_REDRAW);	/* typed, not quit */
	top_model_key(m, TOP_KEY_BACKSPACE);
	top_model_key(m, 'G');
	top_model_key(m, 'A');
	rows = top_model_rows(m, &n);
	ok &= ASSERT_EQ(name, n, 1) && ASSERT_EQ(name, rows[0]->goid, 32);
	top_model_key(m, TOP_KEY_ESC);		/* cancel: no filter again */
	top_model_rows(m, &n);
	ok &= ASSERT_EQ(name, n, 3) && ASSERT_STREQ(name, top_model_ui(m)->filter, "");
	top_model_key(m, '/');
	top_model_key(m, 'b');
	top_model_key(m, TOP_KEY_ENTER);	/* keep */
	top_model_rows(m, &n);
	ok &= ASSERT_EQ(name, n, 1) && ASSERT_STREQ(name, top_model_ui(m)->filter, "b");
	ok &= ASSERT_EQ(name, top_model_key(m, 'p'), TOP_ACT_PAUSE);
	ok &= ASSERT_EQ(name, top_model_key(m, 'p'), TOP_ACT_RESUME);
	ok &= ASSERT_EQ(name, top_model_key(m, TOP_KEY_ENTER), TOP_ACT_REDRAW);
	ok &= ASSERT_TRUE(name, top_model_ui(m)->detail);
	ok &= ASSERT_EQ(name, top_model_key(m, 'q'), TOP_ACT_QUIT);
	top_model_free(m);
	if (ok)
		CHECK_PASS(name);
}

static void test_cells(void)
{
	const char *name = "top_text/cells";
	char b[32];
	bool ok = true;

	ok &= ASSERT_STREQ(name, top_fmt_dur(b, sizeof(b), 0), "0");
	ok &= ASSERT_STREQ(name, top_fmt_dur(b, sizeof(b), 999), "<1us");
	ok &= ASSERT_STREQ(name, top_fmt_dur(b, sizeof(b), 340000), "340us");
	ok &= ASSERT_STREQ(name, top_fmt_dur(b, sizeof(b), 12 * MS), "12ms");
	ok &= ASSERT_STREQ(name, top_fmt_dur(b, sizeof(b), 1250 * MS), "1.25s");
	ok &= ASSERT_STREQ(name, top_fmt_dur(b, sizeof(b), 20100 * MS), "20.1s");
	ok &= ASSERT_STREQ(name, top_fmt_life(b, sizeof(b), 303000 * MS, false), "5m03s");
	ok &= ASSERT_STREQ(name, top_fmt_life(b, sizeof(b), 7500000 * MS, true), ">2h05m");
	ok &= ASSERT_EQ(name, top_col_parse("wait"), TOP_COL_WAIT);
	ok &= ASSERT_EQ(name, top_col_parse("count"), TOP_COL_ID);
	ok &= ASSERT_EQ(name, top_col_parse("bogus"), -1);
	ok &= ASSERT_EQ(name, top_col_width(TOP_VIEW_START, TOP_COL_STATE, 80), 0);
	ok &= ASSERT_TRUE(name, top_col_width(TOP_VIEW_GOROUTINES, TOP_COL_NAME, 80) >= 16);
	if (ok)
		CHECK_PASS(name);
}

int main(void)
{
	test_interval();
	test_groups_exit();
	test_keys();
	test_cells();
	return check_failures ? 1 : 0;
}
