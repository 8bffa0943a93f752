// SPDX-License-Identifier: MIT
/*
 * gotrace funclatency: latency histograms of Go functions, each call's
 * entry paired with its return per goroutine in BPF (bpf/funclatency.h):
 * no event per call reaches user space.
 *
 * The steps are the aggregating commands' (aggregate/command.h);
 * funclatency's own: the entry and RET probes of the functions that have a
 * RET plus runtime.morestack and runtime.goexit0, bpf/funclatency.bpf.c,
 * the tally (funclatency/hists.h) and its rows (funclatency/output.h).
 * docs/funclatency.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "funclatency.h"
#include "aggregate/command.h"
#include "bpf/funclatency.skel.h"
#include "funclatency/hists.h"
#include "funclatency/output.h"
#include "gosym.h"
#include "gotrace.h"

#define DEFAULT_MAX_PROBES 5000
#define MAX_FUNCS 20000		/* histograms: 4.7 KiB each in one BPF array */

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

/* Everything one run holds besides the shared part. */
struct fl_run {
	struct gt_agg a;
	bool no_hist;			/* --no-hist */
	struct funclatency_bpf *skel;
	bool markers;			/* runtime.morestack is probed */
	const char **names;		/* by function index */
	struct fl_hists *hists;
	struct fl_output_ctx out;
};

static struct fl_run *run_of(struct gt_agg *a)
{
	return gt_agg_container(a, struct fl_run, a);
}

/* The probes read g from R14: the binary must keep it there. */
static int check_binary(struct gt_agg *a)
{
	struct gosym_go_facts facts;

	gosym_go_facts(a->s.gs, &facts);
	if (!facts.g_in_register)
		return gt_error("funclatency: '%s' was built by %s; funclatency needs Go >= 1.17 "
				"(the register ABI keeps g in R14)", a->s.target.exe,
				a->s.info->goversion);
	return 0;
}

/* After the entries and RETs of the functions that have a RET:
 * runtime.morestack (the prologue runs again after stack growth) and
 * runtime.goexit0 (a goroutine's open calls end with it). */
static int add_probes(struct gt_agg *a)
{
	struct fl_run *run = run_of(a);
	struct func_probes *pr = &a->pr;

	if (pr->noret)
		gt_progress("%zu functions without a RET instruction left out (tail calls: "
			    "nothing to time)", pr->noret);
	if (pr->nfuncs > MAX_FUNCS)
		return gt_error("funclatency: %u functions is more than %d histograms; narrow the "
				"patterns", pr->nfuncs, MAX_FUNCS);
	run->markers = !func_probes_add_special(a->s.gs, pr, "runtime.morestack",
						FP_KIND_MORESTACK, FP_COOKIE_TLS);
	if (!run->markers)
		gt_warn("no runtime.morestack: duplicate entries are dropped by identity");
	if (func_probes_add_special(a->s.gs, pr, "runtime.goexit0", FP_KIND_GEXIT, FP_COOKIE_G0))
		gt_warn("no runtime.goexit0: calls left by runtime.Goexit end at the goroutine's "
			"next call");
	run->names = calloc(pr->nfuncs, sizeof(*run->names));
	if (!run->names)
		return gt_error("funclatency: out of memory");
	for (uint32_t i = 0; i < pr->nfuncs; i++)
		run->names[i] = pr->funcs[i].name;
	return 0;
}

/* Open, size and configure, load. */
static int load_bpf(struct gt_agg *a, bool multi)
{
	struct fl_run *run = run_of(a);
	struct funclatency_bpf *skel;
	int err;

	funclatency_bpf__destroy(run->skel);
	run->skel = skel = funclatency_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	GT_SESSION_RUNTIME_RODATA(skel->rodata, &a->s, 0);
	skel->rodata->goid_filter = a->o.t.ngoids > 0;
	skel->rodata->ms_markers = run->markers;
	a->progs = (struct gt_agg_progs){ skel->progs.fl_single, skel->progs.fl_multi,
					  skel->progs.fl_empty_multi };
	/* no ring buffer: every call stays in the maps */
	err = bpf_map__set_autocreate(skel->maps.events, false);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.stats, a->pr.nfuncs);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.hists, a->pr.nfuncs * HIST_NB);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.tracks, a->o.max_goroutines);
	if (!err)
		err = gt_agg_select_progs(&a->progs, multi);
	if (!err)
		err = funclatency_bpf__load(skel);
	if (!err)
		err = gt_agg_load_goids(a, bpf_map__fd(skel->maps.goids));
	if (err) {
		funclatency_bpf__destroy(skel);
		run->skel = NULL;
	}
	return err;
}

/* The tally, and the report's rows. */
static int open_tally(struct gt_agg *a)
{
	struct fl_run *run = run_of(a);

	if (fl_hists_new(a->pr.nfuncs, bpf_map__fd(run->skel->maps.stats),
			 bpf_map__fd(run->skel->maps.hists), &run->hists))
		return gt_error("funclatency: out of memory");
	run->out = (struct fl_output_ctx){ run->no_hist, run->names };
	a->report.fmt = &fl_output_fmt;
	a->report.ctx = &run->out;
	return 0;
}

static int rows(struct gt_agg *a, bool total, void **rows, size_t *n)
{
	struct fl_run *run = run_of(a);
	int err = fl_hists_update(run->hists);

	if (err)
		return err;
	if (total)
		return fl_hists_total(run->hists, (struct fl_row **)rows, n);
	return fl_hists_interval(run->hists, (struct fl_row **)rows, n);
}

/* The totals and what could not be timed. */
static void total(struct gt_agg *a, const void *rows_, size_t n)
{
	struct fl_run *run = run_of(a);
	const struct fl_row *rows = rows_;
	int cfd = bpf_map__fd(run->skel->maps.counters);
	struct fl_output_stats st = {
		.dur_ns = a->s.end_ns - a->s.t0_ns,
		.dup = gt_bpf_counter_sum(cfd, FL_CNT_DUP),
		.unmatched = gt_bpf_counter_sum(cfd, FL_CNT_UNMATCHED),
		.evicted = gt_bpf_counter_sum(cfd, FL_CNT_EVICTED),
		.notrack = gt_bpf_counter_sum(cfd, FL_CNT_NOTRACK),
		.readfail = gt_bpf_counter_sum(cfd, FL_CNT_READFAIL),
		.tracks = gt_bpf_counter_sum(cfd, FL_CNT_TRACKS),
		.gexits = gt_bpf_counter_sum(cfd, FL_CNT_GEXITS),
		.unwound = gt_bpf_counter_sum(cfd, FL_CNT_UNWOUND),
	};
	uint64_t calls = 0;

	gt_agg_report_total(&a->report, rows, n, st.dur_ns, &st);
	for (size_t i = 0; i < n; i++)
		calls += rows[i].t.calls;
	gt_progress("%" PRIu64 " calls timed (%zu functions), %" PRIu64 " unwound, %" PRIu64
		    " duplicate entries dropped, %" PRIu64 " unmatched returns", calls, n,
		    st.unwound, st.dup, st.unmatched);
	if (st.evicted)
		gt_warn("%" PRIu64 " calls deeper than %d on their goroutine were not timed",
			st.evicted, FL_DEPTH);
	if (st.notrack)
		gt_warn("%" PRIu64 " calls not timed: more than --max-goroutines %" PRIu32
			" goroutines had calls in flight", st.notrack, a->o.max_goroutines);
	if (st.readfail)
		gt_warn("%" PRIu64 " probe hits whose goroutine could not be read were ignored",
			st.readfail);
}

static void release(struct gt_agg *a)
{
	struct fl_run *run = run_of(a);

	funclatency_bpf__destroy(run->skel);
	fl_hists_free(run->hists);
	free(run->names);
}

static const struct gt_agg_cmd funclatency_cmd = {
	.name = "funclatency",
	.usage = usage_text,
	.short_usage = short_usage,
	.top_accepted = "a number of functions",
	.max_goroutines_max = 1 << 20,
	.max_goroutines_accepted = "1 to 1048576",
	.max_goroutines_default = FL_TRACKS_DEFAULT,
	.max_probes_default = DEFAULT_MAX_PROBES,
	.need_ret = true,
	.reading = "histograms",
	.check_binary = check_binary,
	.add_probes = add_probes,
	.load = load_bpf,
	.open_tally = open_tally,
	.rows = rows,
	.total = total,
	.release = release,
};

int cmd_funclatency(int argc, char **argv)
{
	struct fl_run run = { .a = GT_AGG_INIT(&funclatency_cmd) };
	const struct gt_opt own[] = {
		{ "no-hist", 0, GT_OPT_FLAG, &run.no_hist },
		{ 0 }
	};

	return gt_agg_main(&run.a, own, argc, argv);
}
