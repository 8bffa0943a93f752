// SPDX-License-Identifier: MIT
/*
 * gotrace states: goroutine state transitions of an unmodified Go program,
 * from uprobes on runtime.casgstatus (and the paths that bypass it), with a
 * live stream, a per-goroutine summary, CSV and a Chrome trace.
 *
 * The steps (cmd_states): options -> outputs opened -> the session's
 * target, symbols and offsets -> what the binary has to probe -> BPF object
 * loaded -> the model and its writers -> probes attached -> the program
 * released -> events until the end (tracing/session.h) -> probes detached
 * -> summary, CSV, trace -> outputs committed -> exit status.
 * docs/states.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "gosym.h"
#include "gotrace.h"
#include "goruntime/allgs.h"
#include "output/chrome_trace.h"
#include "output/outfile.h"
#include "output/trace_report.h"
#include "states/groups.h"
#include "states/aggregate.h"
#include "states/model.h"
#include "states/output.h"
#include "states/probes.h"
#include "states/procread.h"
#include "states/resolve.h"
#include "tracing/options.h"
#include "tracing/session.h"
#include "tracing/stacks.h"
#include "bpf/states.skel.h"
#include "states_agg.h"

_Static_assert(sizeof(struct states_rec) == 32, "struct states_rec is the 32-byte wire record");

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_text[] =
"usage: gotrace states [OPTIONS] -p PID\n"
"       gotrace states [OPTIONS] -- PROGRAM [ARGS...]\n"
"\n"
"Trace goroutine state transitions (running, runnable, waiting with its\n"
"reason, syscall, ...) of a running Go program, or of a program launched\n"
"under gotrace from its first instruction.  Prints one line per transition\n"
"and a per-goroutine summary when tracing stops (Ctrl-C, SIGTERM, -d, or the\n"
"target's exit).  In launch mode gotrace exits with the program's status.\n"
"\n"
"Options:\n"
"  -p, --pid PID          attach to a running process\n"
"  -d, --duration DUR     stop after DUR (10, 500ms, 2s, 1m)\n"
"  -q, --quiet            no live stream and no progress messages\n"
"      --format FMT       stream and summary format: text (default) or jsonl\n"
"  -o, --output FILE      write the stream and summary to FILE, not stdout\n"
"      --goid N[,N...]    only these goroutines (stream, summary, trace)\n"
"      --state S[,S...]   stream only transitions into these states\n"
"                         (idle, runnable, running, syscall, waiting, dead,\n"
"                         copystack, preempted)\n"
"      --sort COL         summary order: goid, running, runnable, syscall,\n"
"                         waiting, transitions, lifetime, latency (default\n"
"                         running); with --group also count, name\n"
"      --top N            summary: only the first N goroutines (groups)\n"
"      --group            summarise groups of goroutines, not each one: by\n"
"                         start function, with counts, totals and p50/p90/p99\n"
"                         per goroutine, waits, scheduler latency; then the\n"
"                         process's scheduler latency and waits per reason\n"
"      --group-by BY      --group by: start (function, default), creation\n"
"                         (the go statement's file:line) or label:KEY (the\n"
"                         value of pprof label KEY)\n"
"      --no-summary       no summary on exit\n"
"      --csv FILE         write the summary as CSV to FILE\n"
"      --json FILE        write a Chrome trace (Perfetto, chrome://tracing);\n"
"                         gzipped when FILE ends in .gz\n"
"      --json-gz FILE     the same, gzipped whatever FILE's name\n"
"      --min-duration D   trace: leave out state slices shorter than D\n"
"                         (e.g. 10us, 1ms) to keep big traces loadable\n"
"      --speedscope FILE  with --json: also speedscope's own format (exact ns edges)\n"
"      --buffer-size SIZE ring buffer between BPF and gotrace (default 16M, 64M\n"
"                         with --stack; a power of two from 4K to 1G); raise it\n"
"                         if events are reported dropped\n"
"      --attach MODE      auto (default: uprobe_multi links if the kernel has\n"
"                         them, else one uprobe per function), multi, single\n"
"                         (single: detaching takes ~35-170 ms per function)\n"
"      --raw FILE         also record the raw BPF events to FILE (for\n"
"                         tests/bench/bench_states_replay)\n"
"      --stack            the goroutine's own stack whenever it stops running\n"
"                         (running -> waiting, runnable, syscall, preempted):\n"
"                         where it blocked, unwound from its saved context;\n"
"                         printed under the transition (text) or as \"stack\"\n"
"      --stack-size N     bytes of stack copied per transition (default 16k,\n"
"                         512 to 64k); the copy stops at the goroutine's stack end\n"
"      --unwind METHOD    auto (default: DWARF CFI, Go pclntab, frame pointers),\n"
"                         dwarf, pclntab or fp only\n"
"      --aggregate        keep the per-goroutine times and counts, wait reasons\n"
"                         and latency histograms in BPF maps: no event per\n"
"                         transition, for busy servers; no live stream, trace,\n"
"                         --stack, --state or --raw; --group works (docs/states.md)\n"
"  -i, --interval D       --aggregate: a report every D (1s, 500ms): goroutines,\n"
"                         transitions, time per state, scheduler latency, waits\n"
"      --max-goroutines N --aggregate: goroutines held at once (default " STR(SA_GOROUTINES_DEFAULT) ")\n"
"  -h, --help             this help\n"
"\n"
"Examples:\n"
"  gotrace states -p 1234                       # live stream until Ctrl-C\n"
"  gotrace states -q -d 10s -p 1234 --top 20    # 10 s, then the top 20 by running time\n"
"  gotrace states --format=jsonl -o t.jsonl -- ./server -addr :8080\n"
"  gotrace states --json trace.json --csv sum.csv -- ./bin args\n"
"  gotrace states --goid 1,18 --state waiting -p 1234\n"
"  gotrace states -q -d 5s --group --top 10 -p 1234  # goroutines by start function\n"
"  gotrace states -q -d 5s --group-by label:tenant --csv g.csv -p 1234\n"
"  gotrace states --stack --state waiting -- ./bin   # where goroutines block\n"
"  gotrace states --aggregate -i 1s -p 1234          # busy server: a report a second\n"
"  gotrace states --aggregate --group -d 10s -p 1234 # the groups, aggregated in BPF\n";


static const char short_usage[] =
"usage: gotrace states [OPTIONS] -p PID\n"
"       gotrace states [OPTIONS] -- PROGRAM [ARGS...]\n"
"'gotrace states --help' for the options and examples.\n";

struct states_opts {
	struct gt_trace_opts t;		/* the shared options */
	struct gt_outfile *csv;		/* --csv */
	struct gt_outfile *raw;		/* --raw */
	uint64_t min_dur_ns;		/* --min-duration (trace only) */
	uint32_t state_mask;		/* --state */
	int sort;			/* --sort: enum st_sort */
	long top;			/* --top */
	bool no_summary;
	bool group;			/* --group, --group-by */
	enum st_group_by group_by;
	const char *label_key;		/* --group-by label:KEY */
	bool aggregate;			/* --aggregate */
	uint64_t interval_ns;		/* -i (--aggregate) */
	uint32_t max_goroutines;	/* --max-goroutines (--aggregate) */
};

/* Everything one run holds, from the BPF object to the writers. */
struct run {
	const struct states_opts *o;
	struct gt_session s;
	struct st_probes probes;
	const char *const *reasons;	/* wait reason names */
	int nreasons;
	const char *reasons_src;
	uint64_t casg_entry;		/* runtime.casgstatus's probe, link time */
	uint64_t last_ts;		/* newest event seen */
	FILE *stream;			/* -o: the stream and summary */
	FILE *raw;			/* --raw: events as struct states_event records */
	struct st_model *model;
	struct st_out out;
	struct st_resolver res;
	struct st_procread proc;	/* the attach snapshot, label sets */
};

static int parse_states(const char *s, void *dst)
{
	uint32_t *mask = dst;
	char *copy = strdup(s), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int st = st_state_parse(tok);

		if (st < 0) {
			err = -EINVAL;
			break;
		}
		*mask |= 1u << st;
	}
	free(copy);
	return err;
}

static int parse_sort(const char *s, void *dst)
{
	int v = st_sort_parse(s);

	if (v < 0)
		return -EINVAL;
	*(int *)dst = v;
	return 0;
}

/* --group-by: dst is the struct states_opts. */
static int parse_group_by(const char *s, void *dst)
{
	struct states_opts *o = dst;

	o->group = true;
	return st_group_by_parse(s, &o->group_by, &o->label_key);
}

/* --aggregate keeps no transition: the options that need them are refused. */
static int check_aggregate(const struct states_opts *o)
{
	const char *bad = o->t.json ? "--json" : o->t.stack ? "--stack" : o->raw ? "--raw" :
			  o->state_mask ? "--state" : o->t.buffer_size ? "--buffer-size" : NULL;

	if (bad)
		return gt_opts_usage_error(&o->t, "%s needs the transitions: not with --aggregate",
					   bad);
	return GT_OPTS_RUN;
}

/* GT_OPTS_RUN, or the exit status. */
static int parse_args(int argc, char **argv, struct states_opts *o)
{
	const struct gt_opt own[] = {
		{ "csv", 0, GT_OPT_OUTPUT, &o->csv },
		{ "raw", 0, GT_OPT_OUTPUT, &o->raw },
		{ "min-duration", 0, GT_OPT_DURATION, &o->min_dur_ns, "e.g. 10us, 1ms" },
		{ "state", 0, GT_OPT_FUNC, &o->state_mask,
		  "idle, runnable, running, syscall, waiting, dead, copystack, preempted",
		  .parse = parse_states },
		{ "sort", 0, GT_OPT_FUNC, &o->sort, st_sort_names, .parse = parse_sort },
		{ "top", 0, GT_OPT_UINT, &o->top, "a number of goroutines", 0, LONG_MAX },
		{ "no-summary", 0, GT_OPT_FLAG, &o->no_summary },
		{ "group", 0, GT_OPT_FLAG, &o->group },
		{ "group-by", 0, GT_OPT_FUNC, o, "start, creation, label:KEY",
		  .parse = parse_group_by },
		{ "aggregate", 0, GT_OPT_FLAG, &o->aggregate },
		{ "interval", 'i', GT_OPT_DURATION, &o->interval_ns, "e.g. 1s, 500ms" },
		{ "max-goroutines", 0, GT_OPT_U32, &o->max_goroutines, "1 to 16777216", 1,
		  1 << 24 },
		{ 0 }
	};
	const struct gt_cmd cmd = { "states", usage_text, short_usage, GT_OPTS_ALL, own };
	int ret;

	o->sort = ST_SORT_RUNNING;
	o->max_goroutines = SA_GOROUTINES_DEFAULT;
	ret = gt_opts_parse(&cmd, argc, argv, &o->t);
	if (ret != GT_OPTS_RUN)
		return ret;
	if (o->min_dur_ns && !o->t.json)
		return gt_opts_usage_error(&o->t, "--min-duration needs --json FILE");
	if (o->group && st_sort_groups_col(o->sort) < 0)
		return gt_opts_usage_error(&o->t, "--sort goid: groups have no goid");
	if (!o->group && (o->sort == ST_SORT_COUNT || o->sort == ST_SORT_NAME))
		return gt_opts_usage_error(&o->t, "--sort count and name need --group");
	if (o->aggregate)
		return check_aggregate(o);
	if (o->interval_ns || o->max_goroutines != SA_GOROUTINES_DEFAULT)
		return gt_opts_usage_error(&o->t, "%s needs --aggregate",
					   o->interval_ns ? "--interval" : "--max-goroutines");
	return GT_OPTS_RUN;
}

/* Every record: into the model, whose sink writes the stream and trace. */
static int on_event(void *ctx, const void *data, size_t len)
{
	struct run *run = ctx;
	struct states_event e;

	if (st_decode_record(data, len, &e))
		return 0;
	if (run->raw)
		fwrite(&e, sizeof(e), 1, run->raw);
	if ((e.flags & STATES_F_STACK) && run->s.stacks &&
	    len >= sizeof(e) + sizeof(struct gt_stack_hdr)) {
		/* --stack: unwound now (the maps are the capture's), printed
		 * with the transition by the sink, during st_model_feed */
		const struct gt_stack_hdr *h = (const void *)((const char *)data + sizeof(e));
		uint64_t pv = run->probes.probe_vaddr[e.flags & (STATES_F_SYNTH | STATES_F_MAYFAIL)];
		struct gt_stack *st = gt_stacks_unwind(run->s.stacks, h,
						       len - sizeof(e) - sizeof(*h), e.ts_ns,
						       pv ? e.probe_ip : 0, pv);

		e.flags &= ~STATES_F_STACK;
		run->out.stack = st;
		st_model_feed(run->model, &e);
		run->out.stack = NULL;
		free(st);
	} else {
		e.flags &= ~STATES_F_STACK;	/* a record too short for its stack */
		st_model_feed(run->model, &e);
	}
	if (e.ts_ns > run->last_ts)
		run->last_ts = e.ts_ns;
	return 0;
}

static void sink(void *ctx, const struct st_transition *t)
{
	struct run *run = ctx;

	st_out_transition(&run->out, t);
}

static void resolve_cb(void *ctx, uint64_t probe_ip, uint64_t startpc, uint64_t gopc,
		       const char **start_func, const char **created_at)
{
	struct run *run = ctx;

	st_resolver_resolve(&run->res, probe_ip, startpc, gopc, start_func, created_at);
}

static const struct st_labels *labels_cb(void *ctx, uint64_t labels_ptr)
{
	struct run *run = ctx;

	return st_procread_labels(&run->proc, labels_ptr);
}

/* What states needs from the binary besides offsets: runtime.casgstatus
 * and the other probed functions, the wait reason names.  0 or 1. */
static int check_binary(struct run *run)
{
	struct gt_session *s = &run->s;
	struct gosym_func casg;
	int err;

	if (gosym_lookup_name(s->gs, "runtime.casgstatus", &casg))
		return gt_error("states: '%s' has no runtime.casgstatus: cannot trace goroutine "
				"states", s->target.exe);
	err = st_probes_resolve(&run->probes, s);
	if (err)
		return gt_error("states: '%s': cannot probe runtime.casgstatus: %s", s->target.exe,
				strerror(-err));
	/* the resolver finds the load bias from casgstatus's probe address */
	run->casg_entry = run->probes.casg_site;
	run->nreasons = gosym_wait_reasons(s->gs, &run->reasons, &run->reasons_src);
	if (run->nreasons < 0) {
		gt_warn("no wait reason names for %s (%s): printing numbers", s->target.exe,
			gosym_errmsg());
		run->nreasons = 0;
		run->reasons = NULL;
	}
	return 0;
}

/* The Chrome trace (--json): it takes over the trace files. */
static int open_trace(struct run *run)
{
	const struct states_opts *o = run->o;
	struct gt_trace_opts *t = (struct gt_trace_opts *)&o->t;
	struct chrome_trace_opts co = {
		.binary = run->s.target.exe,
		.go_version = run->s.info->goversion,
		.command_line = t->argv ? t->argv[0] : NULL,
		.max_events = GT_TRACE_MAX_EVENTS,
		.speedscope = t->speedscope_file,
		.gzip = t->json_gz,
		.min_dur_ns = o->min_dur_ns,
		/* chrome_trace wants uint64 goids */
		.goids = (const uint64_t *)t->goids,
		.nr_goids = t->ngoids,
	};
	struct gt_outfile *f = t->json_file;
	int err;

	t->json_file = t->speedscope_file = NULL;
	run->out.chrome = st_out_chrome_transition;
	err = chrome_trace_open(&run->out.ct, f, &co);
	if (err)
		return gt_error("states: cannot create '%s': %s", t->json, strerror(-err));
	return 0;
}

/* The model and its writers: stream, summary, trace.  0 or 1. */
static int open_writers(struct run *run)
{
	const struct states_opts *o = run->o;
	struct gosym_go_facts facts;
	struct st_model_opts mo = {
		.resolve = resolve_cb,
		.sink = sink,
		.ctx = run,
	};

	gosym_go_facts(run->s.gs, &facts);
	/* before Go 1.24 the new goid is written after the creation's
	 * casgstatus (docs/go-runtime.md) */
	mo.late_goid = facts.late_goid;
	run->stream = gt_outfile_stdio(o->t.out);
	run->raw = o->raw ? gt_outfile_stdio(o->raw) : NULL;
	if (!run->stream || (o->raw && !run->raw))
		return gt_error("states: out of memory");
	gt_session_watch(&run->s, o->t.out);
	gt_session_watch(&run->s, o->raw);
	st_resolver_init(&run->res, run->s.gs, run->casg_entry);
	run->out = (struct st_out){
		.stream = gt_quiet ? NULL : run->stream, .jsonl = o->t.jsonl,
		.reasons = run->reasons, .nreasons = run->nreasons,
		.goids = o->t.goids, .ngoids = o->t.ngoids, .state_mask = o->state_mask,
	};
	if (st_procread_init(&run->proc, run->s.target.pid))
		return gt_error("states: out of memory");
	/* creations and exits carry g.labels: read when their event is */
	if (run->s.ro.g_labels >= 0)
		mo.labels = labels_cb;
	run->model = st_model_new(&mo);
	if (!run->model)
		return gt_error("states: out of memory");
	return o->t.json ? open_trace(run) : 0;
}

/* --group: the groups and the process's latency view, in the summary's
 * format, and as the CSV.  0, or 1 when out of memory. */
static int report_groups(struct run *run, struct st_goroutine **all, size_t n)
{
	const struct states_opts *o = run->o;
	struct st_groups_opts go = {
		.by = o->group_by, .label_key = o->label_key,
		.reasons = run->reasons, .nreasons = run->nreasons, .t0_ns = run->s.t0_ns,
	};

	if (!o->no_summary && !o->t.jsonl && !gt_quiet)
		fputc('\n', run->stream);
	if (st_out_groups_report(&run->out, run->stream, o->csv ? gt_outfile_stdio(o->csv) : NULL,
				 &go, all, n, o->sort, o->top, o->no_summary))
		return gt_error("states: out of memory");
	return 0;
}

/* Past this many goroutines the text summary ends with the largest groups
 * by start function: a table of thousands of rows is not what one reads. */
#define AUTO_GROUPS_MIN 100
#define AUTO_GROUPS_TOP 10

static void auto_groups(struct run *run, struct st_goroutine **all, size_t n)
{
	struct st_groups_opts go = {
		.by = ST_GROUP_START, .reasons = run->reasons, .nreasons = run->nreasons,
		.t0_ns = run->s.t0_ns,
	};
	struct st_groups *gs = st_out_groups_make(&run->out, &go, all, n, ST_GSORT_COUNT);
	FILE *out = run->stream;

	if (!gs) {
		gt_error("states: out of memory");
		return;
	}
	fputc('\n', out);
	st_out_groups_text(&run->out, out, gs, AUTO_GROUPS_TOP, "count");
	fputs("(--group for the groups alone, with the scheduler latency and waits per "
	      "reason)\n", out);
	st_groups_free(gs);
}

/* The per-goroutine summary and CSV. */
static void report_goroutines(struct run *run, struct st_goroutine **all, size_t n)
{
	const struct states_opts *o = run->o;
	FILE *out = run->stream;

	if (o->no_summary && !o->csv)
		return;
	st_sort_goroutines(all, n, o->sort);
	if (!o->no_summary && o->t.jsonl) {
		st_out_summary_jsonl(&run->out, out, all, n, o->top);
	} else if (!o->no_summary) {
		if (!gt_quiet)
			fputc('\n', out);
		st_out_summary_text(&run->out, out, all, n, o->top);
		if (n >= AUTO_GROUPS_MIN && !o->t.ngoids)
			auto_groups(run, all, n);
	}
	if (o->csv)
		st_out_summary_csv(&run->out, gt_outfile_stdio(o->csv), all, n, o->top);
}

/* After the detach: the model closed at the trace's end, the summary (or
 * the groups), the CSV, the counters.  0, or 1 when out of memory. */
static int report_summary(struct run *run)
{
	const struct states_opts *o = run->o;
	int map = bpf_map__fd(run->probes.skel->maps.counters);
	uint64_t drops = gt_bpf_counter_sum(map, STATES_CNT_DROPS);
	uint64_t readfail = gt_bpf_counter_sum(map, STATES_CNT_READFAIL);
	struct gt_stacks *stacks = run->s.stacks;
	FILE *out = run->stream;
	struct st_model_stats ms;
	struct st_goroutine **all;
	size_t n;
	int ret = 0;

	if (stacks)
		gt_stacks_count_lost(stacks, gt_bpf_counter_sum(map, STATES_CNT_STACK_DROPS));
	/* one count of dropped events in every output: stderr, the text
	 * summary, jsonl's stats, the trace's otherData (docs/formats.md) */
	chrome_trace_count_lost(run->out.ct, drops);
	all = st_model_goroutines(run->model, &n);
	st_model_stats(run->model, &ms);
	st_out_chrome_finish(&run->out, all, n, run->s.end_ns);
	if (o->group)
		ret = report_groups(run, all, n);
	else
		report_goroutines(run, all, n);
	if (!o->t.jsonl && drops)
		fprintf(out, "%" PRIu64 " events dropped (ring buffer full): the summary undercounts\n",
			drops);
	if (o->t.jsonl)
		fprintf(out, "{\"type\":\"stats\",\"events\":%" PRIu64 ",\"transitions\":%" PRIu64
			     ",\"drops\":%" PRIu64 ",\"read_errors\":%" PRIu64
			     ",\"goroutines\":%zu,\"duration_ns\":%" PRIu64 "}\n",
			ms.events, ms.transitions, drops, readfail, n, run->s.end_ns - run->s.t0_ns);
	gt_progress("%" PRIu64 " events, %" PRIu64 " transitions, %zu goroutines", ms.events,
		    ms.transitions, n);
	if (stacks && !o->no_summary)
		gt_stacks_report(stacks, out, o->t.jsonl, "");
	if (stacks && gt_stacks_stats(stacks)->lost)
		gt_warn("%" PRIu64 " stacks lost (ring buffer full; their transitions are kept "
			"without a stack): a smaller --stack-size or a bigger --buffer-size helps",
			gt_stacks_stats(stacks)->lost);
	if (drops)
		gt_warn("%" PRIu64 " events dropped (ring buffer full): the summary undercounts",
			drops);
	if (readfail)
		gt_warn("%" PRIu64 " events without a readable goid were skipped", readfail);
	if (run->proc.label_reads)
		gt_progress("%" PRIu64 " pprof label sets read from the process in %.2f ms",
			    run->proc.label_reads, (double)run->proc.label_ns / 1e6);
	if (run->proc.label_fails)
		gt_warn("%" PRIu64 " of %" PRIu64 " pprof label sets could not be read",
			run->proc.label_fails, run->proc.label_reads);
	return ret;
}

/* The trace file, then every other output, committed.  0 or 1. */
static int commit_outputs(struct run *run)
{
	struct states_opts *o = (struct states_opts *)run->o;
	struct gt_outfile **files[] = { &o->t.out, &o->csv, &o->raw };

	if (run->out.ct) {
		struct chrome_trace_stats cs;
		int err = chrome_trace_close(run->out.ct, &cs);

		run->out.ct = NULL;
		if (err)
			return gt_error("states: writing '%s': %s", o->t.json, strerror(-err));
		gt_progress("wrote %s (%u goroutines, %" PRIu64 " slices)", o->t.json, cs.goroutines,
			    cs.slices);
		gt_trace_report("states", o->t.json, &cs);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = *files[i] ? gt_outfile_path(*files[i]) : "";
		char what[PATH_MAX];
		int err;

		snprintf(what, sizeof(what), "%s", strcmp(path, "-") ? path : "stdout");
		err = gt_outfile_commit(*files[i]);
		*files[i] = NULL;
		if (err)
			return gt_error("states: cannot write '%s': %s", what, gt_outfile_errmsg());
	}
	return 0;
}

static int seed_one(void *ctx, const struct st_seed *s)
{
	return st_model_seed(ctx, s);
}

/* -p: every goroutine already there, from the runtime's own list, read
 * once the probes are in (t0), before the first event is fed: a
 * goroutine that changes state meanwhile is corrected by its first event
 * (states/model.h). */
static void seed_model(struct run *run)
{
	struct st_seed_stats st;
	struct st_goroutine **all;
	size_t n;
	int err = st_procread_seed(&run->proc, seed_one, run->model, &run->res, run->casg_entry,
				   &st);

	if (err) {
		gt_warn("cannot read the goroutines of pid %d (%s): those that do not change "
			"state while traced are left out, the others unnamed",
			(int)run->s.target.pid, err == -ENOMEM ? strerror(ENOMEM) : gr_errmsg());
		return;
	}
	gt_progress("%" PRIu64 " goroutines there at attach (read in %.1f ms%s)", st.seeded,
		    (double)st.read_ns / 1e6, st.skipped ? ", some changing: left to their events" : "");
	all = st_model_goroutines(run->model, &n);
	st_out_initial(&run->out, all, n);
}

/* --aggregate: the outputs, the resolver, then states/aggregate.c from
 * the load to the end's sections.  0 or 1. */
static int trace_aggregate(struct run *run)
{
	const struct states_opts *o = run->o;
	struct gosym_go_facts facts;
	struct st_groups_opts go = {
		.by = o->group_by, .label_key = o->label_key,
		.reasons = run->reasons, .nreasons = run->nreasons,
	};
	struct st_agg_opts ao = {
		.interval_ns = o->interval_ns, .max_goroutines = o->max_goroutines,
		.goids = o->t.goids, .ngoids = o->t.ngoids, .jsonl = o->t.jsonl,
		.sort = o->sort, .top = o->top, .no_summary = o->no_summary,
		.reasons = run->reasons, .nreasons = run->nreasons, .res = &run->res,
		.groups = o->group ? &go : NULL, .proc = &run->proc, .seed = o->t.pid != 0,
		.casg_entry = run->casg_entry,
	};
	int failed;

	gosym_go_facts(run->s.gs, &facts);
	ao.late_goid = facts.late_goid;
	ao.out = run->stream = gt_outfile_stdio(o->t.out);
	ao.csv = o->csv ? gt_outfile_stdio(o->csv) : NULL;
	if (!ao.out || (o->csv && !ao.csv) || st_procread_init(&run->proc, run->s.target.pid))
		return gt_error("states: out of memory");
	gt_session_watch(&run->s, o->t.out);
	gt_session_watch(&run->s, o->csv);
	st_resolver_init(&run->res, run->s.gs, run->casg_entry);
	failed = st_aggregate(&run->s, &run->probes, &ao);
	return failed | commit_outputs(run);
}

static void started(void *ctx)
{
	struct run *run = ctx;

	run->out.t0_ns = run->s.t0_ns;
	/* the Chrome trace counts from the same start as the stream */
	if (run->out.ct)
		chrome_trace_set_start(run->out.ct, run->out.t0_ns);
	st_model_set_t0(run->model, run->s.t0_ns);
	if (run->o->t.pid)
		seed_model(run);
}

/* From the probes attached to every output written. */
static int trace(struct run *run)
{
	struct gt_session *s = &run->s;
	int failed = gt_session_run(s, started, on_event, run, STATES_POLL_MS);

	/* A target that exited stopped at its last event, not when we noticed.
	 * (Events that arrive while detaching are kept; the accounting of a
	 * goroutine whose state began after end_ns stops at that state.) */
	if (s->target_gone && run->last_ts)
		s->end_ns = run->last_ts;
	st_model_finish(run->model, s->end_ns);
	if (run->o->t.pid)
		st_procread_name_missing(&run->proc, run->model, &run->res, run->casg_entry);
	if (!s->target_gone && run->s.ro.g_labels >= 0) {
		/* labels set while traced by goroutines that did not exit */
		size_t n;
		struct st_goroutine **all = st_model_goroutines(run->model, &n);

		st_procread_labels_alive(&run->proc, all, n);
	}
	failed |= report_summary(run);
	return failed | commit_outputs(run);
}

int cmd_states(int argc, char **argv)
{
	struct states_opts o = { 0 };
	struct run run = { .o = &o, .s = GT_SESSION_INIT };
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret != GT_OPTS_RUN)
		goto out;
	run.probes.stack = o.t.stack;
	run.probes.stack_size = o.t.stack_size;
	run.probes.ring_bytes = o.t.buffer_size;
	ret = gt_opts_open_outputs(&o.t) || gt_session_open(&run.s, "states", &o.t) ||
	      check_binary(&run);
	if (!ret && o.aggregate) {
		ret = trace_aggregate(&run);
		goto finish;
	}
	ret = ret || gt_session_load(&run.s, st_probes_load, &run.probes) ||
	      gt_session_ring(&run.s, bpf_map__fd(run.probes.skel->maps.events)) ||
	      open_writers(&run);
	if (!ret) {
		gt_progress("attaching to %s (pid %d, %s, offsets from %s, wait reasons from %s)",
			    run.s.target.exe, (int)run.s.target.pid,
			    run.s.info->goversion[0] ? run.s.info->goversion : "unknown Go",
			    run.s.ro.source ? run.s.ro.source : "?",
			    run.reasons_src ? run.reasons_src : "?");
		ret = gt_session_attach(&run.s, st_probes_attach, &run.probes) || trace(&run);
	}
finish:
	ret = gt_session_finish(&run.s, ret);
out:
	chrome_trace_abort(run.out.ct);
	gt_session_release(&run.s);
	st_probes_release(&run.probes);
	st_model_free(run.model);
	st_procread_release(&run.proc);
	st_resolver_release(&run.res);
	gt_trace_opts_release(&o.t);
	return ret;
}
