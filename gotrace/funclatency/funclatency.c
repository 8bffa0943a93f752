// SPDX-License-Identifier: MIT
/*
 * gotrace funclatency: latency histograms of Go functions, each call's
 * entry paired with its return per goroutine in BPF (bpf/funclatency.h):
 * no event per call reaches user space.
 *
 * The steps (cmd_funclatency): options -> outputs opened -> the session's
 * target, symbols and offsets -> the entry and RET probes the patterns
 * select (and runtime.morestack, runtime.goexit0) -> BPF object loaded ->
 * probes attached -> the program released -> a report every -i interval
 * until the end (tracing/session.h) -> probes detached -> the last interval
 * and the totals -> outputs committed -> exit status.  docs/funclatency.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "funclatency.h"
#include "bpf/funclatency.skel.h"
#include "funclatency/hists.h"
#include "funclatency/output.h"
#include "gosym.h"
#include "gotrace.h"
#include "output/outfile.h"
#include "probes/funcs.h"
#include "probes/uprobe_multi.h"
#include "tracing/options.h"
#include "tracing/session.h"

#define DEFAULT_MAX_PROBES 5000
#define MAX_FUNCS 20000		/* histograms: 4.7 KiB each in one BPF array */
#define POLL_MS 100

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_text[] =
"usage: gotrace funclatency [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funclatency [OPTIONS] PATTERN PROGRAM [ARGS...]\n"
"       gotrace funclatency [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"\n"
"Latency of the Go functions matching PATTERN: per function, the calls that\n"
"returned, their log2 histogram (as bcc's funclatency prints it), mean, p50,\n"
"p90, p99 and maximum, and the calls a panic or runtime.Goexit ended.  Each\n"
"call's entry is paired with its return in BPF, per goroutine (by its depth\n"
"on the goroutine's stack, which survives stack growth); nothing per call\n"
"goes to user space.  Prints every -i interval and at the end.  Patterns are\n"
"globs over function names.  PROGRAM is launched and traced from its first\n"
"instruction; -p attaches to a running process.  Needs Go >= 1.17 (amd64).\n"
"\n"
"Options:\n"
"  -p, --pid PID            trace a running process\n"
"  -i, --interval D         report each interval D (1s, 500ms); default: only\n"
"                           the totals at the end\n"
"  -d, --duration D         stop after D\n"
"      --goid N[,N...]      only these goroutines\n"
"  -x, --exclude PATTERN    leave out functions matching PATTERN (repeatable)\n"
"      --format text|jsonl  jsonl: one {\"type\":\"interval\"|\"total\",...} object\n"
"                           per function (with its log2 slots), then stats\n"
"  -o, --output FILE        write the reports to FILE, not stdout\n"
"      --csv FILE           the same rows as CSV\n"
"      --no-hist            text: the table without the histograms\n"
"      --top N              functions per report, most time first (default all)\n"
"      --max-goroutines N   goroutines with calls in flight at once (default\n"
"                           " STR(FL_TRACKS_DEFAULT) "); calls of others are not timed, and counted\n"
"      --max-probes N       ask for --yes above N probes (default " STR(DEFAULT_MAX_PROBES) ")\n"
"  -y, --yes                attach even above --max-probes\n"
"      --attach MODE        auto (default), multi (uprobe_multi), single\n"
"  -q, --quiet              no progress messages\n"
"  -h, --help               this help\n"
"\n"
"A goroutine's innermost " STR(FL_DEPTH) " traced calls are timed; deeper recursion evicts\n"
"the outermost (counted).  Functions without a RET instruction (tail-call\n"
"wrappers) are left out.  In launch mode gotrace exits with the program's\n"
"exit status.\n"
"\n"
"Examples:\n"
"  gotrace funclatency 'main.(*Store).Get' ./server        # at exit\n"
"  gotrace funclatency -p 1234 -i 5s 'database/sql.(*DB).*'\n"
"  gotrace funclatency -p 1234 -d 30s --no-hist --top 10 'github.com/me/srv/*'\n"
"  gotrace funclatency --format=jsonl -o lat.jsonl 'main.*' -- ./bin\n"
"  gotrace funclatency --csv lat.csv -i 1s -p 1234 'net/http.(*conn).serve'\n";

static const char short_usage[] =
"usage: gotrace funclatency [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funclatency [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"'gotrace funclatency --help' for the options and examples.\n";

struct fl_opts {
	struct gt_trace_opts t;		/* the shared options; patterns in t.patterns */
	struct gt_strlist exclude;	/* -x */
	struct gt_outfile *csv;		/* --csv */
	uint64_t interval_ns;		/* -i */
	long top, max_probes;
	uint32_t max_goroutines;
	bool no_hist, yes;
};

/* Everything one run holds. */
struct fl_run {
	const struct fl_opts *o;
	struct gt_session s;
	struct func_probes pr;
	struct funclatency_bpf *skel;
	bool markers;			/* runtime.morestack is probed */
	const char **names;		/* by function index */
	struct fl_hists *hists;
	struct fl_output_opts out;
	uint64_t last_tick;
};

/* GT_OPTS_RUN, or the exit status. */
static int parse_args(int argc, char **argv, struct fl_opts *o)
{
	const struct gt_opt own[] = {
		{ "interval", 'i', GT_OPT_DURATION, &o->interval_ns, "e.g. 1s, 500ms" },
		{ "exclude", 'x', GT_OPT_LIST, &o->exclude },
		{ "csv", 0, GT_OPT_OUTPUT, &o->csv },
		{ "no-hist", 0, GT_OPT_FLAG, &o->no_hist },
		{ "top", 0, GT_OPT_UINT, &o->top, "a number of functions", 0, LONG_MAX },
		{ "max-goroutines", 0, GT_OPT_U32, &o->max_goroutines, "1 to 1048576", 1, 1 << 20 },
		{ "max-probes", 0, GT_OPT_UINT, &o->max_probes, "a number from 1", 1, LONG_MAX },
		{ "yes", 'y', GT_OPT_FLAG, &o->yes },
		{ 0 }
	};
	const struct gt_cmd cmd = { "funclatency", usage_text, short_usage,
				    GT_OPTS_TARGET | GT_OPTS_DURATION | GT_OPTS_GOID |
				    GT_OPTS_OUTPUT | GT_OPTS_ATTACH | GT_OPTS_PATTERNS, own };

	o->max_probes = DEFAULT_MAX_PROBES;
	o->max_goroutines = FL_TRACKS_DEFAULT;
	return gt_opts_parse(&cmd, argc, argv, &o->t);
}

/* The probes read g from R14: the binary must keep it there. */
static int check_binary(struct fl_run *run)
{
	struct gosym_go_facts facts;

	gosym_go_facts(run->s.gs, &facts);
	if (!facts.g_in_register)
		return gt_error("funclatency: '%s' was built by %s; funclatency needs Go >= 1.17 "
				"(the register ABI keeps g in R14)", run->s.target.exe,
				run->s.info->goversion);
	return 0;
}

/* Entries and RETs of the functions that have a RET, runtime.morestack
 * (the prologue runs again after stack growth) and runtime.goexit0 (a
 * goroutine's open calls end with it). */
static int build_probes(struct fl_run *run)
{
	const struct fl_opts *o = run->o;
	struct func_probes *pr = &run->pr;
	const struct func_select sel = { "funclatency", o->t.patterns, o->t.npatterns,
					 o->exclude.v, o->exclude.n, o->max_probes, o->yes };

	pr->need_ret = true;
	if (func_probes_select(run->s.gs, run->s.target.exe, run->s.info->goversion, &sel, pr)) {
		gt_session_interrupted(&run->s);	/* says so after a stop signal */
		return 1;
	}
	if (pr->noret)
		gt_progress("%zu functions without a RET instruction left out (tail calls: "
			    "nothing to time)", pr->noret);
	if (pr->nfuncs > MAX_FUNCS)
		return gt_error("funclatency: %u functions is more than %d histograms; narrow the "
				"patterns", pr->nfuncs, MAX_FUNCS);
	run->markers = !func_probes_add_special(run->s.gs, pr, "runtime.morestack",
						FP_KIND_MORESTACK, FP_COOKIE_TLS);
	if (!run->markers)
		gt_warn("no runtime.morestack: duplicate entries are dropped by identity");
	if (func_probes_add_special(run->s.gs, pr, "runtime.goexit0", FP_KIND_GEXIT, FP_COOKIE_G0))
		gt_warn("no runtime.goexit0: calls left by runtime.Goexit end at the goroutine's "
			"next call");
	run->names = calloc(pr->nfuncs, sizeof(*run->names));
	if (!run->names)
		return gt_error("funclatency: out of memory");
	for (uint32_t i = 0; i < pr->nfuncs; i++)
		run->names[i] = pr->funcs[i].name;
	return 0;
}

/* gt_session_load()'s callback: open, size and configure, load. */
static int load_bpf(void *ctx, struct gt_session *s, bool multi)
{
	struct fl_run *run = ctx;
	const struct fl_opts *o = run->o;
	struct funclatency_bpf *skel;
	int err;

	funclatency_bpf__destroy(run->skel);
	run->skel = skel = funclatency_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	GT_SESSION_RUNTIME_RODATA(skel->rodata, s, 0);
	skel->rodata->goid_filter = o->t.ngoids > 0;
	skel->rodata->ms_markers = run->markers;
	/* no ring buffer: every call stays in the maps */
	err = bpf_map__set_autocreate(skel->maps.events, false);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stats, run->pr.nfuncs);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.hists, run->pr.nfuncs * HIST_NB);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.tracks, o->max_goroutines);
	if (!err && multi) {
		err = bpf_program__set_autoload(skel->progs.fl_single, false);
		if (!err)
			err = uprobes_prepare_multi(skel->progs.fl_multi);
		if (!err)
			err = uprobes_prepare_multi(skel->progs.fl_empty_multi);
	} else if (!err) {
		bpf_program__set_autoload(skel->progs.fl_multi, false);
		err = bpf_program__set_autoload(skel->progs.fl_empty_multi, false);
	}
	if (!err)
		err = funclatency_bpf__load(skel);
	for (size_t i = 0; !err && i < o->t.ngoids; i++) {
		uint8_t one = 1;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.goids), &o->t.goids[i], &one, BPF_ANY))
			err = -errno;
	}
	if (err) {
		funclatency_bpf__destroy(skel);
		run->skel = NULL;
	}
	return err;
}

/* gt_session_attach()'s callback. */
static int attach_probes(void *ctx, struct gt_session *s, bool multi)
{
	struct fl_run *run = ctx;
	struct func_probes *pr = &run->pr;
	int err;

	err = func_probes_attach(pr, &s->ups, multi,
				 multi ? run->skel->progs.fl_multi : run->skel->progs.fl_single,
				 run->skel->progs.fl_empty_multi, s->target.exe_open, s->target.pid);
	snprintf(s->attach_note, sizeof(s->attach_note), "%zu emulated, %zu single-stepped",
		 func_probes_count(pr, PROBE_EMULATED, false), func_probes_count(pr, PROBE_SSTEP, false));
	return err;
}

/* The tally and the writers. */
static int open_tally(struct fl_run *run)
{
	const struct fl_opts *o = run->o;
	int err = fl_hists_new(run->pr.nfuncs, bpf_map__fd(run->skel->maps.stats),
			       bpf_map__fd(run->skel->maps.hists), &run->hists);

	if (err)
		return gt_error("funclatency: out of memory");
	run->out = (struct fl_output_opts){
		.out = gt_outfile_stdio(o->t.out), .jsonl = o->t.jsonl,
		.csv = o->csv ? gt_outfile_stdio(o->csv) : NULL,
		.no_hist = o->no_hist, .top = o->top, .names = run->names,
	};
	if (!run->out.out || (o->csv && !run->out.csv))
		return gt_error("funclatency: out of memory");
	gt_session_watch(&run->s, o->t.out);
	gt_session_watch(&run->s, o->csv);
	if (fl_output_csv_header(&run->out))
		return gt_error("funclatency: cannot write '%s'", gt_outfile_path(o->csv));
	return 0;
}

static void started(void *ctx)
{
	struct fl_run *run = ctx;

	run->last_tick = run->s.t0_ns;
}

/* One interval's report; 0, or 1 after a failure (reported). */
static int interval(struct fl_run *run, uint64_t now)
{
	struct fl_row *rows = NULL;
	size_t n = 0;
	int err = fl_hists_update(run->hists);

	if (!err)
		err = fl_hists_interval(run->hists, &rows, &n);
	if (!err)
		err = fl_output_interval(&run->out, rows, n, now - run->s.t0_ns, now - run->last_tick);
	free(rows);
	run->last_tick = now;
	if (err == -EIO)
		return 1;	/* the session reports the failed output */
	return err ? gt_error("funclatency: reading the histograms: %s", strerror(-err)) : 0;
}

static int tick(void *ctx, uint64_t now)
{
	return interval(ctx, now);
}

/* After the detach: the last interval, the totals, what could not be
 * timed.  0 or 1. */
static int report(struct fl_run *run)
{
	int cfd = bpf_map__fd(run->skel->maps.counters);
	struct fl_output_stats st = {
		.dur_ns = run->s.end_ns - run->s.t0_ns,
		.dup = gt_bpf_counter_sum(cfd, FL_CNT_DUP),
		.unmatched = gt_bpf_counter_sum(cfd, FL_CNT_UNMATCHED),
		.evicted = gt_bpf_counter_sum(cfd, FL_CNT_EVICTED),
		.notrack = gt_bpf_counter_sum(cfd, FL_CNT_NOTRACK),
		.readfail = gt_bpf_counter_sum(cfd, FL_CNT_READFAIL),
		.tracks = gt_bpf_counter_sum(cfd, FL_CNT_TRACKS),
		.gexits = gt_bpf_counter_sum(cfd, FL_CNT_GEXITS),
		.unwound = gt_bpf_counter_sum(cfd, FL_CNT_UNWOUND),
	};
	struct fl_row *rows = NULL;
	uint64_t calls = 0;
	size_t n = 0;
	int err;

	if (run->o->interval_ns && interval(run, run->s.end_ns))
		return 1;
	err = fl_hists_update(run->hists);
	if (!err)
		err = fl_hists_total(run->hists, &rows, &n);
	if (err)
		return gt_error("funclatency: reading the histograms: %s", strerror(-err));
	fl_output_total(&run->out, rows, n, &st);
	for (size_t i = 0; i < n; i++)
		calls += rows[i].t.calls;
	free(rows);
	gt_progress("%" PRIu64 " calls timed (%zu functions), %" PRIu64 " unwound, %" PRIu64
		    " duplicate entries dropped, %" PRIu64 " unmatched returns", calls, n,
		    st.unwound, st.dup, st.unmatched);
	if (st.evicted)
		gt_warn("%" PRIu64 " calls deeper than %d on their goroutine were not timed",
			st.evicted, FL_DEPTH);
	if (st.notrack)
		gt_warn("%" PRIu64 " calls not timed: more than --max-goroutines %" PRIu32
			" goroutines had calls in flight", st.notrack, run->o->max_goroutines);
	if (st.readfail)
		gt_warn("%" PRIu64 " probe hits whose goroutine could not be read were ignored",
			st.readfail);
	return 0;
}

/* Every output committed.  0 or 1. */
static int commit_outputs(struct fl_run *run)
{
	struct fl_opts *o = (struct fl_opts *)run->o;
	struct gt_outfile **files[] = { &o->t.out, &o->csv };
	int ret = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = *files[i] ? gt_outfile_path(*files[i]) : "";
		char what[PATH_MAX];

		snprintf(what, sizeof(what), "%s", strcmp(path, "-") ? path : "stdout");
		if (gt_outfile_commit(*files[i]) && !ret)
			ret = gt_error("funclatency: cannot write '%s': %s", what,
				       gt_outfile_errmsg());
		*files[i] = NULL;
	}
	return ret;
}

/* From the probes attached to every output written. */
static int trace(struct fl_run *run)
{
	int failed = gt_session_run_ticks(&run->s, started, tick, run, run->o->interval_ns,
					  POLL_MS);

	return (report(run) | failed) | commit_outputs(run);
}

int cmd_funclatency(int argc, char **argv)
{
	struct fl_opts o = { 0 };
	struct fl_run run = { .o = &o, .s = GT_SESSION_INIT };
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret != GT_OPTS_RUN)
		goto out;
	ret = gt_opts_open_outputs(&o.t) || gt_session_open(&run.s, "funclatency", &o.t) ||
	      check_binary(&run) || build_probes(&run) ||
	      gt_session_load(&run.s, load_bpf, &run) || open_tally(&run) ||
	      gt_session_attach(&run.s, attach_probes, &run) || trace(&run);
	ret = gt_session_finish(&run.s, ret);
out:
	gt_session_release(&run.s);
	funclatency_bpf__destroy(run.skel);
	fl_hists_free(run.hists);
	func_probes_release(&run.pr);
	free(run.names);
	gt_trace_opts_release(&o.t);
	return ret;
}
