// SPDX-License-Identifier: MIT
/*
 * Unit tests of the states Chrome trace's unblock arrows
 * (gotrace/states/chrome.c): synthetic transitions on known threads go
 * through the model into a real trace file, which is read back with
 * jansson; the arrows found in the file (s/f pairs, each end's goroutine
 * taken from the X slices' "goid" args on its track) must be exactly the
 * wakes made by a goroutine running on the waking thread:
 *  - a wake on a thread where a goroutine runs: an arrow from it;
 *  - a wake on a thread whose goroutine has left running (g0): none;
 *  - two threads sharing a slot of st_out.running_on: the evicted thread's
 *    wake gets no arrow, never one from the other thread's goroutine;
 *  - --goid keeping only the woken goroutine: no arrow (both ends needed).
 * The end-to-end truth (a real Go program) is test_exports.py's handoff test.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "output/chrome_trace.h"
#include "output/outfile.h"
#include "states/model.h"
#include "states/output.h"

enum { RUNNABLE = STATES_G_RUNNABLE, RUNNING = STATES_G_RUNNING, WAITING = STATES_G_WAITING };

struct tr {
	uint64_t ts;
	int64_t goid;
	uint32_t tid, from, to;
};

/* The scenario, in time order.  tid 612 = 100 + ST_RUNNING_SLOTS: the same
 * slot as tid 100. */
static const struct tr script[] = {
	/* G20, G40, G50 run once and park */
	{ 10, 20, 101, RUNNABLE, RUNNING },
	{ 50, 20, 101, RUNNING, WAITING },
	{ 20, 40, 200, RUNNABLE, RUNNING },
	{ 30, 40, 200, RUNNING, WAITING },
	{ 21, 50, 201, RUNNABLE, RUNNING },
	{ 31, 50, 201, RUNNING, WAITING },
	/* 1. G10 runs on tid 100 and wakes G20: arrow G10 -> G20 */
	{ 100, 10, 100, RUNNABLE, RUNNING },
	{ 200, 20, 100, WAITING, RUNNABLE },
	{ 250, 20, 101, RUNNABLE, RUNNING },
	{ 280, 20, 101, RUNNING, WAITING },
	{ 300, 10, 100, RUNNING, WAITING },
	/* 2. tid 100 on g0 (G10 left running) wakes G20: no arrow */
	{ 400, 20, 100, WAITING, RUNNABLE },
	/* 3. G10 runs on tid 100, then G30 on tid 612 takes the slot: tid
	 * 100's wake of G40 gets no arrow (not one from G30); tid 612's wake
	 * of G50 is G30's */
	{ 500, 10, 100, WAITING, RUNNABLE },
	{ 505, 10, 100, RUNNABLE, RUNNING },
	{ 510, 30, 612, RUNNABLE, RUNNING },
	{ 520, 40, 100, WAITING, RUNNABLE },
	{ 530, 50, 612, WAITING, RUNNABLE },
	{ 600, 10, 100, RUNNING, WAITING },
	{ 610, 30, 612, RUNNING, WAITING },
};

static void feed_all(struct st_model *m)
{
	/* the model wants each goroutine's events in order, not global order */
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		struct states_event e = { .ts_ns = script[i].ts, .gp = 0x1000 + script[i].goid,
					  .goid = script[i].goid, .tid = script[i].tid,
					  .from = script[i].from, .to = script[i].to,
					  .reason = script[i].to == WAITING ? 7 : 0,
					  .parent_goid = -1 };

		st_model_feed(m, &e);
	}
}

/* Write the scenario's trace to path (goids filter may be NULL). */
static int write_trace(const char *path, const uint64_t *goids, size_t ngoids)
{
	static struct st_out o;	/* 8 KB of thread slots: not on the stack */
	struct chrome_trace_opts co = { .goids = goids, .nr_goids = ngoids };
	struct st_model_opts mo = { .sink = st_out_transition, .ctx = &o };
	struct gt_outfile *f = NULL;
	struct st_model *m;
	size_t n;
	int err;

	memset(&o, 0, sizeof(o));
	o.chrome = st_out_chrome_transition;
	err = gt_outfile_open(path, &f);
	if (!err)
		err = chrome_trace_open(&o.ct, f, &co);
	if (err)
		return err;
	m = st_model_new(&mo);
	if (!m) {
		chrome_trace_abort(o.ct);
		return -1;
	}
	feed_all(m);
	st_model_finish(m, 1000);
	{
		struct st_goroutine **gs = st_model_goroutines(m, &n);

		st_out_chrome_finish(&o, gs, n, 1000);
	}
	err = chrome_trace_close(o.ct, NULL);
	st_model_free(m);
	return err;
}

struct arrow {
	int64_t id, from, to;
};

/* The file's unblock arrows as "from->to" goids, sorted, comma-separated. */
static int read_unblocks(const char *path, char *out, size_t len)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *evs, *e;
	int64_t goid_of[64] = { 0 };
	struct arrow fl[32];
	size_t nfl = 0, i;

	out[0] = 0;
	if (!doc)
		return -1;
	evs = json_object_get(doc, "traceEvents");
	json_array_foreach(evs, i, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		json_int_t tid = json_integer_value(json_object_get(e, "tid"));

		if (ph && !strcmp(ph, "X") && tid >= 0 && tid < 64)
			goid_of[tid] = json_integer_value(json_object_get(json_object_get(e, "args"),
									  "goid"));
	}
	json_array_foreach(evs, i, e) {
		const char *ph = json_string_value(json_object_get(e, "ph"));
		const char *name = json_string_value(json_object_get(e, "name"));
		json_int_t tid = json_integer_value(json_object_get(e, "tid"));
		json_int_t id = json_integer_value(json_object_get(e, "id"));
		size_t k;

		if (!ph || !name || strcmp(name, "unblock") || (strcmp(ph, "s") && strcmp(ph, "f")) ||
		    tid < 0 || tid >= 64)
			continue;
		for (k = 0; k < nfl && fl[k].id != id; k++)
			;
		if (k == nfl) {
			if (nfl == 32)
				break;
			fl[nfl++] = (struct arrow){ .id = id };
		}
		if (!strcmp(ph, "s"))
			fl[k].from = goid_of[tid];
		else
			fl[k].to = goid_of[tid];
	}
	json_decref(doc);
	/* sort by (from, to) for a stable string */
	for (size_t a = 0; a < nfl; a++)
		for (size_t b = a + 1; b < nfl; b++)
			if (fl[b].from < fl[a].from || (fl[b].from == fl[a].from && fl[b].to < fl[a].to)) {
				struct arrow t = fl[a];

				fl[a] = fl[b];
				fl[b] = t;
			}
	for (size_t k = 0; k < nfl; k++) {
		size_t l = strlen(out);

		snprintf(out + l, len - l, "%s%" PRId64 "->%" PRId64, k ? "," : "", fl[k].from,
			 fl[k].to);
	}
	return 0;
}

int main(void)
{
	char path[] = "/tmp/test_states_chrome.XXXXXX.json";
	char got[256];
	const uint64_t only20[] = { 20 };
	int fd = mkstemps(path, 5);

	if (fd < 0) {
		CHECK_FAIL("tmpfile", "mkstemps failed");
		return 1;
	}
	close(fd);

	if (ASSERT_EQ("write", write_trace(path, NULL, 0), 0) &&
	    ASSERT_EQ("read", read_unblocks(path, got, sizeof(got)), 0) &&
	    ASSERT_STREQ("unblock arrows", got, "10->20,30->50"))
		CHECK_PASS("unblock arrows: waker running, g0 wake, shared slot");

	if (ASSERT_EQ("write_filtered", write_trace(path, only20, 1), 0) &&
	    ASSERT_EQ("read_filtered", read_unblocks(path, got, sizeof(got)), 0) &&
	    ASSERT_STREQ("unblock arrows --goid 20", got, ""))
		CHECK_PASS("unblock arrows: waker filtered out");

	unlink(path);
	return check_failures ? 1 : 0;
}
