// SPDX-License-Identifier: MIT
/* The aggregating commands' skeleton (see aggregate/command.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate/command.h"
#include "gotrace.h"
#include "output/outfile.h"
#include "probes/uprobe_multi.h"

#define POLL_MS 100
#define MAX_OWN 8

/* GT_OPTS_RUN, or the exit status. */
static int parse_args(struct gt_agg *a, const struct gt_opt *own, int argc, char **argv)
{
	const struct gt_agg_cmd *c = a->cmd;
	struct gt_agg_opts *o = &a->o;
	struct gt_opt opts[8 + MAX_OWN] = {
		{ "interval", 'i', GT_OPT_DURATION, &o->interval_ns, "e.g. 1s, 500ms" },
		{ "exclude", 'x', GT_OPT_LIST, &o->exclude },
		{ "csv", 0, GT_OPT_OUTPUT, &o->csv },
		{ "top", 0, GT_OPT_UINT, &o->top, c->top_accepted, 0, LONG_MAX },
		{ "max-goroutines", 0, GT_OPT_U32, &o->max_goroutines, c->max_goroutines_accepted,
		  1, c->max_goroutines_max },
		{ "max-probes", 0, GT_OPT_UINT, &o->max_probes, "a number from 1", 1, LONG_MAX },
		{ "yes", 'y', GT_OPT_FLAG, &o->yes },
	};
	const struct gt_cmd cmd = { c->name, c->usage, c->short_usage,
				    GT_OPTS_TARGET | GT_OPTS_DURATION | GT_OPTS_GOID |
				    GT_OPTS_OUTPUT | GT_OPTS_ATTACH | GT_OPTS_PATTERNS, opts };
	size_t k = 7;

	for (size_t i = 0; own && own[i].name; i++) {
		if (i == MAX_OWN)
			return gt_error("%s: more than %d options of its own", c->name, MAX_OWN);
		opts[k++] = own[i];
	}
	o->max_probes = c->max_probes_default;
	o->max_goroutines = c->max_goroutines_default;
	return gt_opts_parse(&cmd, argc, argv, &o->t);
}

/* The functions the patterns select (probes/funcs.h). */
static int select_probes(struct gt_agg *a)
{
	const struct gt_agg_opts *o = &a->o;
	const struct func_select sel = { a->cmd->name, o->t.patterns, o->t.npatterns,
					 o->exclude.v, o->exclude.n, o->max_probes, o->yes };

	a->pr.entries_only = !a->cmd->need_ret;
	a->pr.need_ret = a->cmd->need_ret;
	if (func_probes_select(a->s.gs, a->s.target.exe, a->s.info->goversion, &sel, &a->pr)) {
		gt_session_interrupted(&a->s);	/* says so after a stop signal */
		return 1;
	}
	return 0;
}

int gt_agg_select_progs(const struct gt_agg_progs *p, bool multi)
{
	int err;

	if (multi) {
		err = bpf_program__set_autoload(p->single, false);
		if (!err)
			err = uprobes_prepare_multi(p->multi);
		if (!err)
			err = uprobes_prepare_multi(p->empty_multi);
		return err;
	}
	bpf_program__set_autoload(p->multi, false);
	return bpf_program__set_autoload(p->empty_multi, false);
}

int gt_agg_load_goids(const struct gt_agg *a, int fd)
{
	for (size_t i = 0; i < a->o.t.ngoids; i++) {
		uint8_t one = 1;

		if (bpf_map_update_elem(fd, &a->o.t.goids[i], &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* gt_session_load()'s callback. */
static int load(void *ctx, struct gt_session *s, bool multi)
{
	struct gt_agg *a = ctx;

	(void)s;
	return a->cmd->load(a, multi);
}

/* gt_session_attach()'s callback. */
static int attach(void *ctx, struct gt_session *s, bool multi)
{
	struct gt_agg *a = ctx;
	struct func_probes *pr = &a->pr;
	int err;

	err = func_probes_attach(pr, &s->ups, multi, multi ? a->progs.multi : a->progs.single,
				 a->progs.empty_multi, s->target.exe_open, s->target.pid);
	snprintf(s->attach_note, sizeof(s->attach_note), "%zu emulated, %zu single-stepped",
		 func_probes_count(pr, PROBE_EMULATED, false), func_probes_count(pr, PROBE_SSTEP, false));
	return err;
}

/* The command's tally, then the report's outputs. */
static int open_tally(struct gt_agg *a)
{
	const struct gt_agg_opts *o = &a->o;
	struct gt_agg_report *r = &a->report;

	if (a->cmd->open_tally(a))
		return 1;
	r->out = gt_outfile_stdio(o->t.out);
	r->jsonl = o->t.jsonl;
	r->csv = o->csv ? gt_outfile_stdio(o->csv) : NULL;
	r->top = o->top;
	if (!r->out || (o->csv && !r->csv))
		return gt_error("%s: out of memory", a->cmd->name);
	gt_session_watch(&a->s, o->t.out);
	gt_session_watch(&a->s, o->csv);
	if (gt_agg_report_csv_header(r))
		return gt_error("%s: cannot write '%s'", a->cmd->name, gt_outfile_path(o->csv));
	return 0;
}

static void started(void *ctx)
{
	struct gt_agg *a = ctx;

	a->last_tick = a->s.t0_ns;
}

/* One interval's table; 0, or 1 after a failure (reported). */
static int interval(struct gt_agg *a, uint64_t now)
{
	void *rows = NULL;
	size_t n = 0;
	int err = a->cmd->rows(a, false, &rows, &n);

	if (!err)
		err = gt_agg_report_interval(&a->report, rows, n, now - a->s.t0_ns,
					     now - a->last_tick);
	free(rows);
	a->last_tick = now;
	if (err == -EIO)
		return 1;	/* the session reports the failed output */
	return err ? gt_error("%s: reading the %s: %s", a->cmd->name, a->cmd->reading,
			      strerror(-err)) : 0;
}

static int tick(void *ctx, uint64_t now)
{
	return interval(ctx, now);
}

/* After the detach: the last interval, then the totals.  0 or 1. */
static int report(struct gt_agg *a)
{
	void *rows = NULL;
	size_t n = 0;
	int err;

	if (a->o.interval_ns && interval(a, a->s.end_ns))
		return 1;
	err = a->cmd->rows(a, true, &rows, &n);
	if (err)
		return gt_error("%s: reading the %s: %s", a->cmd->name, a->cmd->reading,
				strerror(-err));
	a->cmd->total(a, rows, n);
	free(rows);
	return 0;
}

/* Every output committed.  0 or 1. */
static int commit_outputs(struct gt_agg *a)
{
	struct gt_outfile **files[] = { &a->o.t.out, &a->o.csv };
	int ret = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = *files[i] ? gt_outfile_path(*files[i]) : "";
		char what[PATH_MAX];

		snprintf(what, sizeof(what), "%s", strcmp(path, "-") ? path : "stdout");
		if (gt_outfile_commit(*files[i]) && !ret)
			ret = gt_error("%s: cannot write '%s': %s", a->cmd->name, what,
				       gt_outfile_errmsg());
		*files[i] = NULL;
	}
	return ret;
}

/* From the probes attached to every output written. */
static int trace(struct gt_agg *a)
{
	int failed = gt_session_run_ticks(&a->s, started, tick, a, a->o.interval_ns, POLL_MS);

	return (report(a) | failed) | commit_outputs(a);
}

int gt_agg_main(struct gt_agg *a, const struct gt_opt *own, int argc, char **argv)
{
	const struct gt_agg_cmd *c = a->cmd;
	int ret;

	ret = parse_args(a, own, argc, argv);
	if (ret != GT_OPTS_RUN)
		goto out;
	ret = gt_opts_open_outputs(&a->o.t) || gt_session_open(&a->s, c->name, &a->o.t) ||
	      c->check_binary(a) || select_probes(a) || c->add_probes(a) ||
	      gt_session_load(&a->s, load, a) || open_tally(a) ||
	      gt_session_attach(&a->s, attach, a) || trace(a);
	ret = gt_session_finish(&a->s, ret);
out:
	gt_session_release(&a->s);
	c->release(a);
	func_probes_release(&a->pr);
	gt_trace_opts_release(&a->o.t);
	return ret;
}
