// SPDX-License-Identifier: MIT
/*
 * gotrace funccount: how many times Go functions are called, per function
 * (and per goroutine), counted in BPF maps: no event per call reaches user
 * space, so it costs a busy server about one emulated probe hit per call.
 *
 * The steps are the aggregating commands' (aggregate/command.h); funccount's
 * own: the entry probes the patterns select plus runtime.morestack and
 * runtime.goexit0, bpf/funccount.bpf.c, the tally (funccount/counts.h) and
 * its rows (funccount/output.h).  docs/funccount.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "funccount.h"
#include "aggregate/command.h"
#include "bpf/funccount.skel.h"
#include "funccount/counts.h"
#include "funccount/output.h"
#include "gosym.h"
#include "gotrace.h"

#define DEFAULT_MAX_PROBES 20000

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

/* Everything one run holds besides the shared part. */
struct fc_run {
	struct gt_agg a;
	bool per_goroutine;		/* --per-goroutine */
	struct funccount_bpf *skel;
	struct fc_func *funcs;		/* by function index, for the tally */
	struct fc_counts *counts;
	struct fc_output_ctx out;
	uint64_t ms_site;		/* runtime.morestack's probe, link time */
};

static struct fc_run *run_of(struct gt_agg *a)
{
	return gt_agg_container(a, struct fc_run, a);
}

/* Counting per goroutine reads g: the binary must keep it in a register. */
static int check_binary(struct gt_agg *a)
{
	struct gosym_go_facts facts;

	gosym_go_facts(a->s.gs, &facts);
	if ((run_of(a)->per_goroutine || a->o.t.ngoids) && !facts.g_in_register)
		return gt_error("funccount: '%s' was built by %s; --per-goroutine and --goid need "
				"Go >= 1.17 (the register ABI keeps g in R14)", a->s.target.exe,
				a->s.info->goversion);
	return 0;
}

/* After the entry probes: runtime.morestack (its hits are the duplicate
 * entries) and, per goroutine, runtime.goexit0 (exits reaped). */
static int add_probes(struct gt_agg *a)
{
	struct fc_run *run = run_of(a);
	struct func_probes *pr = &a->pr;

	if (func_probes_add_special(a->s.gs, pr, "runtime.morestack", FP_KIND_MORESTACK,
				    FP_COOKIE_TLS) ||
	    gosym_offset_to_vaddr(a->s.gs, pr->offsets[pr->n - 1], &run->ms_site))
		return gt_error("funccount: '%s' has no runtime.morestack to probe: calls whose "
				"stack grows would count twice", a->s.target.exe);
	if (run->per_goroutine &&
	    func_probes_add_special(a->s.gs, pr, "runtime.goexit0", FP_KIND_GEXIT, FP_COOKIE_G0))
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

/* Open, size and configure, load. */
static int load_bpf(struct gt_agg *a, bool multi)
{
	struct fc_run *run = run_of(a);
	struct funccount_bpf *skel;
	int err;

	funccount_bpf__destroy(run->skel);
	run->skel = skel = funccount_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	GT_SESSION_RUNTIME_RODATA(skel->rodata, &a->s, 0);
	skel->rodata->per_goroutine = run->per_goroutine;
	skel->rodata->goid_filter = a->o.t.ngoids > 0;
	skel->rodata->ms_site = run->ms_site;
	a->progs = (struct gt_agg_progs){ skel->progs.fc_single, skel->progs.fc_multi,
					  skel->progs.fc_empty_multi };
	/* no ring buffer: every count stays in the maps */
	err = bpf_map__set_autocreate(skel->maps.events, false);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.counts, a->pr.nfuncs);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.gcounts, a->o.max_goroutines);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dead, a->o.max_goroutines);
	if (!err)
		err = gt_agg_select_progs(&a->progs, multi);
	if (!err)
		err = funccount_bpf__load(skel);
	if (!err)
		err = gt_agg_load_goids(a, bpf_map__fd(skel->maps.goids));
	if (err) {
		funccount_bpf__destroy(skel);
		run->skel = NULL;
	}
	return err;
}

/* The tally, and the report's rows. */
static int open_tally(struct gt_agg *a)
{
	struct fc_run *run = run_of(a);
	struct fc_counts_opts co = {
		.funcs = run->funcs, .nfuncs = a->pr.nfuncs, .per_goroutine = run->per_goroutine,
		.counts_fd = bpf_map__fd(run->skel->maps.counts),
		.ms_fd = bpf_map__fd(run->skel->maps.ms_hits),
		.gcounts_fd = bpf_map__fd(run->skel->maps.gcounts),
		.dead_fd = bpf_map__fd(run->skel->maps.dead),
	};

	if (fc_counts_new(&co, &run->counts))
		return gt_error("funccount: out of memory");
	run->out = (struct fc_output_ctx){ run->per_goroutine, run->counts };
	a->report.fmt = &fc_output_fmt;
	a->report.ctx = &run->out;
	return 0;
}

static int rows(struct gt_agg *a, bool total, void **rows, size_t *n)
{
	struct fc_run *run = run_of(a);
	int err = fc_counts_update(run->counts);

	if (err)
		return err;
	if (total)
		return fc_counts_total(run->counts, run->per_goroutine, (struct fc_row **)rows, n);
	return fc_counts_interval(run->counts, (struct fc_row **)rows, n);
}

/* The totals and what could not be counted. */
static void total(struct gt_agg *a, const void *rows_, size_t n)
{
	struct fc_run *run = run_of(a);
	const struct fc_row *rows = rows_;
	int cfd = bpf_map__fd(run->skel->maps.counters);
	struct fc_output_stats st = {
		.dur_ns = a->s.end_ns - a->s.t0_ns,
		.readfail = gt_bpf_counter_sum(cfd, FC_CNT_READFAIL),
		.gfull = gt_bpf_counter_sum(cfd, FC_CNT_GFULL),
		.msfull = gt_bpf_counter_sum(cfd, FC_CNT_MSFULL),
		.deadfull = gt_bpf_counter_sum(cfd, FC_CNT_DEADFULL),
	};
	uint64_t calls = 0;

	fc_counts_stats(run->counts, &st.c);
	gt_agg_report_total(&a->report, rows, n, st.dur_ns, &st);
	for (size_t i = 0; i < n; i++)
		calls += rows[i].calls;
	gt_progress("%" PRIu64 " calls of %zu functions counted", calls, n);
	if (st.gfull)
		gt_warn("%" PRIu64 " calls not counted per goroutine (more than --max-goroutines "
			"%" PRIu32 " pairs); the per-function totals have them", st.gfull,
			a->o.max_goroutines);
	if (st.msfull)
		gt_warn("%" PRIu64 " stack growths not recorded: as many calls may count twice",
			st.msfull);
	if (st.readfail)
		gt_warn("%" PRIu64 " calls whose goroutine could not be read%s", st.readfail,
			a->o.t.ngoids ? " were not counted" : " are counted per function only");
	if (st.deadfull)
		gt_warn("%" PRIu64 " goroutine exits not recorded", st.deadfull);
}

static void release(struct gt_agg *a)
{
	struct fc_run *run = run_of(a);

	funccount_bpf__destroy(run->skel);
	fc_counts_free(run->counts);
	free(run->funcs);
}

static const struct gt_agg_cmd funccount_cmd = {
	.name = "funccount",
	.usage = usage_text,
	.short_usage = short_usage,
	.top_accepted = "a number of rows",
	.max_goroutines_max = 1 << 24,
	.max_goroutines_accepted = "1 to 16777216",
	.max_goroutines_default = FC_GCOUNTS_DEFAULT,
	.max_probes_default = DEFAULT_MAX_PROBES,
	.need_ret = false,
	.reading = "counts",
	.check_binary = check_binary,
	.add_probes = add_probes,
	.load = load_bpf,
	.open_tally = open_tally,
	.rows = rows,
	.total = total,
	.release = release,
};

int cmd_funccount(int argc, char **argv)
{
	struct fc_run run = { .a = GT_AGG_INIT(&funccount_cmd) };
	const struct gt_opt own[] = {
		{ "per-goroutine", 0, GT_OPT_FLAG, &run.per_goroutine },
		{ 0 }
	};

	return gt_agg_main(&run.a, own, argc, argv);
}
