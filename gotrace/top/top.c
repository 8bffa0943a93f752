// SPDX-License-Identifier: MIT
/*
 * gotrace top: the command (top/top.h has the design).  Options, the
 * event loop (keys, refreshes, the source polled in between), --batch.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gotrace.h"
#include "output/outfile.h"
#include "top/model.h"
#include "top/source.h"
#include "top/text.h"
#include "top/view.h"
#include "tracing/clock.h"
#include "tracing/options.h"
#include "tracing/signals.h"

static const char usage_text[] =
"usage: gotrace top [OPTIONS] -p PID\n"
"\n"
"A live view of a Go process's goroutines, refreshed every second: how many\n"
"are running, runnable, in system calls and waiting, and per goroutine (or\n"
"per group of goroutines with the same start function or creation site)\n"
"the time it spent in each state in the last interval, the wait reason it\n"
"waited with most, and its lifetime.  Enter shows the selected row's state\n"
"history, its wait reasons and its current stack.  The process is not\n"
"stopped: its transitions come from the states probes (docs/top.md).\n"
"\n"
"Options:\n"
"  -p, --pid PID          the Go process\n"
"  -i, --interval DUR     refresh interval (default 1s; 100ms to 1h)\n"
"  -d, --duration DUR     quit after DUR\n"
"      --batch N          no terminal UI: print N snapshots, one per interval\n"
"                         (like top -b), as text or with --format jsonl one\n"
"                         JSON object per line; -o FILE writes them there\n"
"      --format FMT       --batch: text (default) or jsonl\n"
"  -o, --output FILE      --batch: write the snapshots to FILE\n"
"      --group BY         start with goroutines grouped: none (default),\n"
"                         start (start function), created (creation site)\n"
"      --sort COL         goid (count for groups), state, run, rnbl, sys,\n"
"                         wait, life, name (default run)\n"
"      --filter TEXT      only rows whose function or creation site contains\n"
"                         TEXT (case-insensitive)\n"
"      --system           also the runtime's own goroutines\n"
"      --buffer-size SIZE --source ring: the ring buffer (default 16M)\n"
"      --attach MODE      auto (default), multi, single\n"
"      --source SRC       where the numbers come from: aggregate (default: the\n"
"                         states probes aggregating in BPF maps, read once per\n"
"                         refresh) or ring (every transition through the ring\n"
"                         buffer, as gotrace states)\n"
"  -q, --quiet            no progress messages\n"
"  -h, --help             this help\n"
"\n"
"Keys:\n"
"  Up/Down, j/k           move the selection (PgUp/PgDn, Home/End)\n"
"  s / S                  sort by the next column / reverse the order\n"
"  g                      goroutines -> groups by start function -> groups\n"
"                         by creation site -> goroutines\n"
"  /                      filter by function name (Enter keeps, Esc cancels)\n"
"  p                      pause / resume refreshing\n"
"  Enter                  the detail pane of the selected row\n"
"  ?                      this key list on screen\n"
"  q                      quit (Ctrl-C too); the terminal is restored\n"
"\n"
"Examples:\n"
"  sudo gotrace top -p $(pidof server)\n"
"  sudo gotrace top -p 1234 --group start --sort wait\n"
"  sudo gotrace top -p 1234 --batch 5 -i 2s --format jsonl -o top.jsonl\n"
"  sudo gotrace top -p 1234 --source ring\n";

static const char short_usage[] =
"usage: gotrace top [OPTIONS] -p PID   (gotrace top --help for more)\n";

struct top_opts {
	struct gt_trace_opts t;
	uint64_t interval_ns;
	long batch;
	const char *filter;
	bool system;
	int sort;
	int view;
	bool ring;		/* --source ring */
};

static int parse_sort(const char *s, void *dst)
{
	int c = top_col_parse(s);

	if (c < 0)
		return -EINVAL;
	*(int *)dst = c;
	return 0;
}

static int parse_group(const char *s, void *dst)
{
	static const char *const names[TOP_NVIEWS] = { "none", "start", "created" };

	for (int v = 0; v < TOP_NVIEWS; v++) {
		if (!strcmp(s, names[v])) {
			*(int *)dst = v;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_source(const char *s, void *dst)
{
	if (strcmp(s, "aggregate") && strcmp(s, "ring"))
		return -EINVAL;
	*(bool *)dst = !strcmp(s, "ring");
	return 0;
}

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	const struct gt_opt own[] = {
		{ "interval", 'i', GT_OPT_DURATION, &o->interval_ns, "e.g. 500ms, 1s, 2s" },
		{ "batch", 0, GT_OPT_UINT, &o->batch, "a count from 1", 1, 1000000000 },
		{ "sort", 0, GT_OPT_FUNC, &o->sort,
		  "goid, count, state, run, rnbl, sys, wait, life, name", 0, 0, parse_sort },
		{ "group", 0, GT_OPT_FUNC, &o->view, "none, start, created", 0, 0, parse_group },
		{ "filter", 0, GT_OPT_STRING, &o->filter },
		{ "system", 0, GT_OPT_FLAG, &o->system },
		{ "source", 0, GT_OPT_FUNC, &o->ring, "aggregate, ring", 0, 0, parse_source },
		{ 0 }
	};
	const struct gt_cmd cmd = {
		"top", usage_text, short_usage,
		GT_OPTS_PID | GT_OPTS_DURATION | GT_OPTS_OUTPUT | GT_OPTS_BUFFER | GT_OPTS_ATTACH,
		own,
	};
	int ret;

	o->interval_ns = 1000000000;
	o->sort = TOP_COL_RUN;
	ret = gt_opts_parse(&cmd, argc, argv, &o->t);
	if (ret != GT_OPTS_RUN)
		return ret;
	if (!o->t.pid)
		return gt_opts_usage_error(&o->t, "-p PID is required");
	if (o->interval_ns < 100000000 || o->interval_ns > 3600000000000ULL)
		return gt_opts_usage_error(&o->t, "invalid --interval (100ms to 1h)");
	if (o->filter && strlen(o->filter) >= TOP_FILTER_MAX)
		return gt_opts_usage_error(&o->t, "--filter longer than %d characters",
					   TOP_FILTER_MAX - 1);
	if (!o->batch && (o->t.output || o->t.jsonl))
		return gt_opts_usage_error(&o->t, "-o and --format are for --batch");
	if (!o->batch && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)))
		return gt_opts_usage_error(&o->t, "stdin and stdout are not a terminal: use "
					   "--batch N for text snapshots");
	return GT_OPTS_RUN;
}

/* Wait until `until` (CLOCK_MONOTONIC), the source polled meanwhile.
 * 0, 1 when a stop was requested, or a negative errno from the source. */
static int wait_polling(struct top_source *src, uint64_t until)
{
	for (;;) {
		uint64_t now = gt_now_ns();
		int step = src->poll_ms > 0 ? src->poll_ms : 100;
		int err;

		if (gt_stop_requested())
			return 1;
		if (now >= until)
			return 0;
		if (until - now < (uint64_t)step * 1000000)
			step = (int)((until - now) / 1000000) + 1;
		poll(NULL, 0, step);
		if ((err = src->poll(src, gt_now_ns())) < 0)
			return err;
	}
}

/* A sample into the model.  0, -ESRCH (the target exited) or -errno. */
static int refresh(struct top_source *src, struct top_model *m, bool baseline)
{
	const struct top_sample *s;
	int err = src->sample(src, &s);

	return err ? err : top_model_apply(m, s, baseline);
}

/* The end of the trace in words: the target's exit is a normal end. */
static int report_end(struct top_source *src, int err, const char *what)
{
	if (err == -ESRCH) {
		gt_progress("top: pid %d exited", (int)src->pid);
		return 0;
	}
	return gt_error("top: %s: %s", what, strerror(-err));
}

static int run_batch(struct top_opts *o, struct top_source *src, struct top_model *m)
{
	FILE *f = gt_outfile_stdio(o->t.out);
	uint64_t t0 = gt_now_ns(), next = t0;
	int err = 0;

	if (!f)
		return gt_error("top: out of memory");
	for (long k = 0; k < o->batch; k++) {
		next += o->interval_ns;
		if (o->t.duration_ns && next > t0 + o->t.duration_ns)
			break;
		if ((err = wait_polling(src, next)) || (err = refresh(src, m, false)))
			break;
		err = o->t.jsonl ? top_jsonl_snapshot(f, src, m) : top_text_snapshot(f, src, m);
		if (err)
			return gt_error("top: writing the snapshots: %s", gt_outfile_errmsg());
	}
	if (err > 0)
		return 0;	/* stopped */
	return err ? report_end(src, err, "reading") : 0;
}

/* The selected row's stack, when the detail pane shows. */
static void detail_stack(struct top_source *src, struct top_model *m, char **stack, int *err)
{
	const struct top_row *r = top_model_selected(m);
	int64_t goid = r ? (r->goid ? r->goid : r->first_goid) : 0;

	free(*stack);
	*stack = NULL;
	*err = 0;
	if (!top_model_ui(m)->detail || !goid)
		return;
	*err = src->stack ? src->stack(src, goid, stack) : -ENOTSUP;
}

/* A key: 0 go on, 1 quit, or -errno. */
static int on_key(struct top_source *src, struct top_model *m, int key, bool *redraw)
{
	switch (key < 0 ? TOP_ACT_NONE : key == TOP_KEY_RESIZE ? TOP_ACT_REDRAW :
		top_model_key(m, key)) {
	case TOP_ACT_QUIT:
		return 1;
	case TOP_ACT_RESUME:
		*redraw = true;
		return refresh(src, m, true);	/* the next interval starts now */
	case TOP_ACT_PAUSE:
	case TOP_ACT_REDRAW:
		*redraw = true;
		return 0;
	default:
		return 0;
	}
}

static int run_view(struct top_opts *o, struct top_source *src, struct top_model *m)
{
	uint64_t t0 = gt_now_ns(), next = t0 + o->interval_ns, polled = t0;
	char *stack = NULL;
	int err = 0, stack_err = 0;
	bool redraw = true;

	gt_quiet = true;	/* nothing on stderr over the screen */
	if (top_view_open())
		return gt_error("top: cannot use this terminal (TERM=%s)",
				getenv("TERM") ? getenv("TERM") : "");
	for (;;) {
		int step = src->poll_ms > 0 ? src->poll_ms : 100;
		uint64_t now;
		const struct top_row *sel = top_model_selected(m);
		int64_t goid = sel ? sel->goid : 0;
		const char *key = sel ? sel->name : NULL;
		bool detail = top_model_ui(m)->detail;

		if (redraw)
			top_view_draw(src, m, stack, stack_err);
		redraw = false;
		err = on_key(src, m, top_view_key(step), &redraw);
		if (err || gt_stop_requested())
			break;
		/* another row selected, or the pane opened: its stack now */
		sel = top_model_selected(m);
		if (redraw && (detail != top_model_ui(m)->detail || !sel || sel->goid != goid ||
			       sel->name != key))
			detail_stack(src, m, &stack, &stack_err);
		now = gt_now_ns();
		if (o->t.duration_ns && now >= t0 + o->t.duration_ns)
			break;
		if (now - polled >= (uint64_t)step * 1000000) {
			polled = now;
			if ((err = src->poll(src, now)) < 0)
				break;
		}
		if (now < next)
			continue;
		next += o->interval_ns;
		if (next <= now)
			next = now + o->interval_ns;	/* a slow refresh: no catching up */
		if (top_model_ui(m)->paused)
			continue;
		if ((err = refresh(src, m, false)))
			break;
		detail_stack(src, m, &stack, &stack_err);
		redraw = true;
	}
	top_view_close();
	gt_quiet = false;
	free(stack);
	return err < 0 ? report_end(src, err, "reading") : 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = { 0 };
	struct top_source *src = NULL;
	struct top_model *m = NULL;
	struct top_ui ui = { 0 };
	int ret = parse_args(argc, argv, &o);

	if (ret != GT_OPTS_RUN)
		goto out;
	ui.view = o.view;
	ui.sort = o.sort;
	ui.system = o.system;
	if (o.filter)
		snprintf(ui.filter, sizeof(ui.filter), "%s", o.filter);
	ret = 1;
	if (gt_opts_open_outputs(&o.t) || top_source_states_open(&o.t, !o.ring, &src))
		goto out;
	if (!(m = top_model_new(&ui))) {
		gt_error("top: out of memory");
		goto out;
	}
	if ((ret = refresh(src, m, true))) {
		ret = report_end(src, ret, "first reading");
		goto out;
	}
	ret = o.batch ? run_batch(&o, src, m) : run_view(&o, src, m);
	if (o.t.out) {
		if (gt_outfile_commit(o.t.out) && !ret)
			ret = gt_error("top: cannot write the snapshots: %s", gt_outfile_errmsg());
		o.t.out = NULL;
	}
out:
	if (src)
		src->free(src);
	top_model_free(m);
	gt_trace_opts_release(&o.t);
	return ret;
}
