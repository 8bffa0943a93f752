// SPDX-License-Identifier: MIT
/*
 * gotrace funccount: how many times Go functions are called, per function
 * (and per goroutine), counted in BPF maps: no event per call reaches user
 * space, so it costs a busy server about one emulated probe hit per call.
 *
 * The steps (cmd_funccount): options -> outputs opened -> the session's
 * target, symbols and offsets -> the entry probes the patterns select (and
 * runtime.morestack, runtime.goexit0) -> BPF object loaded -> probes
 * attached -> the program released -> a table every -i interval until the
 * end (tracing/session.h) -> probes detached -> the last interval and the
 * totals -> outputs committed -> exit status.  docs/funccount.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "funccount.h"
#include "bpf/funccount.skel.h"
#include "funccount/counts.h"
#include "funccount/output.h"
#include "gosym.h"
#include "gotrace.h"
#include "output/outfile.h"
#include "probes/funcs.h"
#include "probes/uprobe_multi.h"
#include "tracing/options.h"
#include "tracing/session.h"

#define DEFAULT_MAX_PROBES 20000
#define POLL_MS 100

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_text[] =
"usage: gotrace funccount [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funccount [OPTIONS] PATTERN PROGRAM [ARGS...]\n"
"       gotrace funccount [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"\n"
"Count the calls of the Go functions matching PATTERN, per function (and per\n"
"goroutine with --per-goroutine), in BPF maps: nothing per call goes to user\n"
"space, so the cost is about one probe hit per call (gotrace doctor measures\n"
"it), low enough for busy servers.  Prints the counts every -i interval and\n"
"at the end.  Patterns are globs over function names ('*' also matches '/'\n"
"and '.').  PROGRAM is launched and counted from its first instruction; -p\n"
"attaches to a running process.\n"
"\n"
"Options:\n"
"  -p, --pid PID            count in a running process\n"
"  -i, --interval D         print the calls of each interval D (1s, 500ms);\n"
"                           default: only the totals at the end\n"
"  -d, --duration D         stop after D\n"
"      --per-goroutine      count per (goroutine, function)\n"
"      --goid N[,N...]      only these goroutines\n"
"  -x, --exclude PATTERN    leave out functions matching PATTERN (repeatable)\n"
"      --format text|jsonl  jsonl: one {\"type\":\"interval\"|\"total\",...} object\n"
"                           per row, then a {\"type\":\"stats\",...} object\n"
"  -o, --output FILE        write the tables to FILE, not stdout\n"
"      --csv FILE           the same rows as CSV\n"
"      --top N              rows per table (default all)\n"
"      --max-goroutines N   --per-goroutine: (goroutine, function) pairs counted\n"
"                           at once (default " STR(FC_GCOUNTS_DEFAULT) "); more are counted per\n"
"                           function only, and reported\n"
"      --max-probes N       ask for --yes above N probes (default " STR(DEFAULT_MAX_PROBES) ")\n"
"  -y, --yes                attach even above --max-probes\n"
"      --attach MODE        auto (default), multi (uprobe_multi), single\n"
"  -q, --quiet              no progress messages\n"
"  -h, --help               this help\n"
"\n"
"A call is counted once even when its stack grows (the prologue runs again):\n"
"runtime.morestack is probed too and its hits are taken off.  In launch mode\n"
"gotrace exits with the program's exit status.\n"
"\n"
"Examples:\n"
"  gotrace funccount 'main.*' ./bin args          # totals when it exits\n"
"  gotrace funccount -p 1234 -i 1s 'net/http.*'   # every second, Ctrl-C to stop\n"
"  gotrace funccount -p 1234 -d 10s --top 20 'github.com/me/srv/*'\n"
"  gotrace funccount --per-goroutine --format=jsonl -o c.jsonl 'main.*' -- ./bin\n"
"  gotrace funccount --goid 1 --csv calls.csv 'main.*' ./bin\n";

static const char short_usage[] =
"usage: gotrace funccount [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funccount [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"'gotrace funccount --help' for the options and examples.\n";

struct fc_opts {
	struct gt_trace_opts t;		/* the shared options; patterns in t.patterns */
	struct gt_strlist exclude;	/* -x */
	struct gt_outfile *csv;		/* --csv */
	uint64_t interval_ns;		/* -i */
	long top, max_probes;
	uint32_t max_goroutines;
	bool per_goroutine, yes;
};

/* Everything one run holds. */
struct fc_run {
	const struct fc_opts *o;
	struct gt_session s;
	struct func_probes pr;
	struct funccount_bpf *skel;
	struct fc_func *funcs;		/* by function index, for the tally */
	struct fc_counts *counts;
	struct fc_output_opts out;
	uint64_t ms_site;		/* runtime.morestack's probe, link time */
	uint64_t last_tick;
};

/* GT_OPTS_RUN, or the exit status. */
static int parse_args(int argc, char **argv, struct fc_opts *o)
{
	const struct gt_opt own[] = {
		{ "interval", 'i', GT_OPT_DURATION, &o->interval_ns, "e.g. 1s, 500ms" },
		{ "per-goroutine", 0, GT_OPT_FLAG, &o->per_goroutine },
		{ "exclude", 'x', GT_OPT_LIST, &o->exclude },
		{ "csv", 0, GT_OPT_OUTPUT, &o->csv },
		{ "top", 0, GT_OPT_UINT, &o->top, "a number of rows", 0, LONG_MAX },
		{ "max-goroutines", 0, GT_OPT_U32, &o->max_goroutines, "1 to 16777216", 1,
		  1 << 24 },
		{ "max-probes", 0, GT_OPT_UINT, &o->max_probes, "a number from 1", 1, LONG_MAX },
		{ "yes", 'y', GT_OPT_FLAG, &o->yes },
		{ 0 }
	};
	const struct gt_cmd cmd = { "funccount", usage_text, short_usage,
				    GT_OPTS_TARGET | GT_OPTS_DURATION | GT_OPTS_GOID |
				    GT_OPTS_OUTPUT | GT_OPTS_ATTACH | GT_OPTS_PATTERNS, own };

	o->max_probes = DEFAULT_MAX_PROBES;
	o->max_goroutines = FC_GCOUNTS_DEFAULT;
	return gt_opts_parse(&cmd, argc, argv, &o->t);
}

/* Counting per goroutine reads g: the binary must keep it in a register. */
static int check_binary(struct fc_run *run)
{
	const struct fc_opts *o = run->o;
	struct gosym_go_facts facts;

	gosym_go_facts(run->s.gs, &facts);
	if ((o->per_goroutine || o->t.ngoids) && !facts.g_in_register)
		return gt_error("funccount: '%s' was built by %s; --per-goroutine and --goid need "
				"Go >= 1.17 (the register ABI keeps g in R14)", run->s.target.exe,
				run->s.info->goversion);
	return 0;
}

/* The entry probes, runtime.morestack (its hits are the duplicate
 * entries) and, per goroutine, runtime.goexit0 (exits reaped). */
static int build_probes(struct fc_run *run)
{
	const struct fc_opts *o = run->o;
	struct func_probes *pr = &run->pr;
	const struct func_select sel = { "funccount", o->t.patterns, o->t.npatterns, o->exclude.v,
					 o->exclude.n, o->max_probes, o->yes };

	pr->entries_only = true;
	if (func_probes_select(run->s.gs, run->s.target.exe, run->s.info->goversion, &sel, pr)) {
		gt_session_interrupted(&run->s);	/* says so after a stop signal */
		return 1;
	}
	if (func_probes_add_special(run->s.gs, pr, "runtime.morestack", FP_KIND_MORESTACK,
				    FP_COOKIE_TLS) ||
	    gosym_offset_to_vaddr(run->s.gs, pr->offsets[pr->n - 1], &run->ms_site))
		return gt_error("funccount: '%s' has no runtime.morestack to probe: calls whose "
				"stack grows would count twice", run->s.target.exe);
	if (o->per_goroutine &&
	    func_probes_add_special(run->s.gs, pr, "runtime.goexit0", FP_KIND_GEXIT, FP_COOKIE_G0))
		gt_warn("funccount: no runtime.goexit0: exited goroutines stay in the BPF map "
			"until the end");
	run->funcs = calloc(pr->nfuncs, sizeof(*run->funcs));
	if (!run->funcs)
		return gt_error("funccount: out of memory");
	for (uint32_t i = 0; i < pr->nfuncs; i++)
		run->funcs[i] = (struct fc_func){ pr->funcs[i].name, pr->funcs[i].entry,
						  pr->funcs[i].end };
	return 0;
}

/* gt_session_load()'s callback: open, size and configure, load. */
static int load_bpf(void *ctx, struct gt_session *s, bool multi)
{
	struct fc_run *run = ctx;
	const struct fc_opts *o = run->o;
	struct funccount_bpf *skel;
	int err;

	funccount_bpf__destroy(run->skel);
	run->skel = skel = funccount_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	GT_SESSION_RUNTIME_RODATA(skel->rodata, s, 0);
	skel->rodata->per_goroutine = o->per_goroutine;
	skel->rodata->goid_filter = o->t.ngoids > 0;
	skel->rodata->ms_site = run->ms_site;
	/* no ring buffer: every count stays in the maps */
	err = bpf_map__set_autocreate(skel->maps.events, false);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.counts, run->pr.nfuncs);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.gcounts, o->max_goroutines);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dead, o->max_goroutines);
	if (!err && multi) {
		err = bpf_program__set_autoload(skel->progs.fc_single, false);
		if (!err)
			err = uprobes_prepare_multi(skel->progs.fc_multi);
		if (!err)
			err = uprobes_prepare_multi(skel->progs.fc_empty_multi);
	} else if (!err) {
		bpf_program__set_autoload(skel->progs.fc_multi, false);
		err = bpf_program__set_autoload(skel->progs.fc_empty_multi, false);
	}
	if (!err)
		err = funccount_bpf__load(skel);
	for (size_t i = 0; !err && i < o->t.ngoids; i++) {
		uint8_t one = 1;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.goids), &o->t.goids[i], &one, BPF_ANY))
			err = -errno;
	}
	if (err) {
		funccount_bpf__destroy(skel);
		run->skel = NULL;
	}
	return err;
}

/* gt_session_attach()'s callback. */
static int attach_probes(void *ctx, struct gt_session *s, bool multi)
{
	struct fc_run *run = ctx;
	struct func_probes *pr = &run->pr;
	int err;

	err = func_probes_attach(pr, &s->ups, multi,
				 multi ? run->skel->progs.fc_multi : run->skel->progs.fc_single,
				 run->skel->progs.fc_empty_multi, s->target.exe_open, s->target.pid);
	snprintf(s->attach_note, sizeof(s->attach_note), "%zu emulated, %zu single-stepped",
		 func_probes_count(pr, PROBE_EMULATED, false), func_probes_count(pr, PROBE_SSTEP, false));
	return err;
}

/* The tally and the writers. */
static int open_tally(struct fc_run *run)
{
	const struct fc_opts *o = run->o;
	struct fc_counts_opts co = {
		.funcs = run->funcs, .nfuncs = run->pr.nfuncs, .per_goroutine = o->per_goroutine,
		.counts_fd = bpf_map__fd(run->skel->maps.counts),
		.ms_fd = bpf_map__fd(run->skel->maps.ms_hits),
		.gcounts_fd = bpf_map__fd(run->skel->maps.gcounts),
		.dead_fd = bpf_map__fd(run->skel->maps.dead),
	};
	int err = fc_counts_new(&co, &run->counts);

	if (err)
		return gt_error("funccount: out of memory");
	run->out = (struct fc_output_opts){
		.out = gt_outfile_stdio(o->t.out), .jsonl = o->t.jsonl,
		.csv = o->csv ? gt_outfile_stdio(o->csv) : NULL,
		.per_goroutine = o->per_goroutine, .top = o->top, .counts = run->counts,
	};
	if (!run->out.out || (o->csv && !run->out.csv))
		return gt_error("funccount: out of memory");
	gt_session_watch(&run->s, o->t.out);
	gt_session_watch(&run->s, o->csv);
	if (fc_output_csv_header(&run->out))
		return gt_error("funccount: cannot write '%s'", gt_outfile_path(o->csv));
	return 0;
}

static void started(void *ctx)
{
	struct fc_run *run = ctx;

	run->last_tick = run->s.t0_ns;
}

/* One interval's table; 0, or 1 after a failure (reported). */
static int interval(struct fc_run *run, uint64_t now)
{
	struct fc_row *rows = NULL;
	size_t n = 0;
	int err = fc_counts_update(run->counts);

	if (!err)
		err = fc_counts_interval(run->counts, &rows, &n);
	if (!err)
		err = fc_output_interval(&run->out, rows, n, now - run->s.t0_ns, now - run->last_tick);
	free(rows);
	run->last_tick = now;
	if (err == -EIO)
		return 1;	/* the session reports the failed output */
	return err ? gt_error("funccount: reading the counts: %s", strerror(-err)) : 0;
}

static int tick(void *ctx, uint64_t now)
{
	return interval(ctx, now);
}

/* After the detach: the last interval, the totals and what could not be
 * counted.  0 or 1. */
static int report(struct fc_run *run)
{
	int cfd = bpf_map__fd(run->skel->maps.counters);
	struct fc_output_stats st = {
		.dur_ns = run->s.end_ns - run->s.t0_ns,
		.readfail = gt_bpf_counter_sum(cfd, FC_CNT_READFAIL),
		.gfull = gt_bpf_counter_sum(cfd, FC_CNT_GFULL),
		.msfull = gt_bpf_counter_sum(cfd, FC_CNT_MSFULL),
		.deadfull = gt_bpf_counter_sum(cfd, FC_CNT_DEADFULL),
	};
	struct fc_row *rows = NULL;
	uint64_t calls = 0;
	size_t n = 0;
	int err;

	if (run->o->interval_ns && interval(run, run->s.end_ns))
		return 1;
	err = fc_counts_update(run->counts);
	if (!err)
		err = fc_counts_total(run->counts, run->o->per_goroutine, &rows, &n);
	if (err)
		return gt_error("funccount: reading the counts: %s", strerror(-err));
	fc_counts_stats(run->counts, &st.c);
	fc_output_total(&run->out, rows, n, &st);
	for (size_t i = 0; i < n; i++)
		calls += rows[i].calls;
	free(rows);
	gt_progress("%" PRIu64 " calls of %zu functions counted", calls, n);
	if (st.gfull)
		gt_warn("%" PRIu64 " calls not counted per goroutine (more than --max-goroutines "
			"%" PRIu32 " pairs); the per-function totals have them", st.gfull,
			run->o->max_goroutines);
	if (st.msfull)
		gt_warn("%" PRIu64 " stack growths not recorded: as many calls may count twice",
			st.msfull);
	if (st.readfail)
		gt_warn("%" PRIu64 " calls whose goroutine could not be read%s", st.readfail,
			run->o->t.ngoids ? " were not counted" : " are counted per function only");
	if (st.deadfull)
		gt_warn("%" PRIu64 " goroutine exits not recorded", st.deadfull);
	return 0;
}

/* Every output committed.  0 or 1. */
static int commit_outputs(struct fc_run *run)
{
	struct fc_opts *o = (struct fc_opts *)run->o;
	struct gt_outfile **files[] = { &o->t.out, &o->csv };
	int ret = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = *files[i] ? gt_outfile_path(*files[i]) : "";
		char what[PATH_MAX];

		snprintf(what, sizeof(what), "%s", strcmp(path, "-") ? path : "stdout");
		if (gt_outfile_commit(*files[i]) && !ret)
			ret = gt_error("funccount: cannot write '%s': %s", what, gt_outfile_errmsg());
		*files[i] = NULL;
	}
	return ret;
}

/* From the probes attached to every output written. */
static int trace(struct fc_run *run)
{
	int failed = gt_session_run_ticks(&run->s, started, tick, run, run->o->interval_ns,
					  POLL_MS);

	return (report(run) | failed) | commit_outputs(run);
}

int cmd_funccount(int argc, char **argv)
{
	struct fc_opts o = { 0 };
	struct fc_run run = { .o = &o, .s = GT_SESSION_INIT };
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret != GT_OPTS_RUN)
		goto out;
	ret = gt_opts_open_outputs(&o.t) || gt_session_open(&run.s, "funccount", &o.t) ||
	      check_binary(&run) || build_probes(&run) ||
	      gt_session_load(&run.s, load_bpf, &run) || open_tally(&run) ||
	      gt_session_attach(&run.s, attach_probes, &run) || trace(&run);
	ret = gt_session_finish(&run.s, ret);
out:
	gt_session_release(&run.s);
	funccount_bpf__destroy(run.skel);
	fc_counts_free(run.counts);
	func_probes_release(&run.pr);
	free(run.funcs);
	gt_trace_opts_release(&o.t);
	return ret;
}
