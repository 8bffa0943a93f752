// SPDX-License-Identifier: MIT
/*
 * gotrace states: goroutine state transitions of an unmodified Go program,
 * from uprobes on runtime.casgstatus (and the paths that bypass it), with a
 * live stream, a per-goroutine summary, CSV and a Chrome trace.
 *
 * Flow: target (attach or launch held before exec) -> gosym (offsets, wait
 * reasons, probe file offsets) -> skeleton open -> rodata -> load -> attach
 * -> release the launched child -> poll the ring buffer until stop / target
 * exit / -d -> detach every link -> drain -> summary.  docs/states.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "go_runtime.h"
#include "gosym.h"
#include "gotrace.h"
#include "output/trace_report.h"
#include "output/chrome_trace.h"
#include "tracing/clock.h"
#include "tracing/signals.h"
#include "tracing/target.h"
#include "probes/sites.h"
#include "probes/uprobe_multi.h"
#include "output/outfile.h"
#include "states/model.h"
#include "states/output.h"
#include "states/resolve.h"
#include "tracing/ring.h"
#include "tracing/stacks.h"
#include "bpf/states.skel.h"

_Static_assert(sizeof(struct states_rec) == 32, "struct states_rec is the 32-byte wire record");

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
"                         waiting, transitions, lifetime (default running)\n"
"      --top N            summary: only the first N goroutines\n"
"      --no-summary       no summary on exit\n"
"      --csv FILE         write the summary as CSV to FILE\n"
"      --json FILE        write a Chrome trace (Perfetto, chrome://tracing);\n"
"                         gzipped when FILE ends in .gz\n"
"      --json-gz FILE     the same, gzipped whatever FILE's name\n"
"      --min-duration D   trace: leave out state slices shorter than D\n"
"                         (e.g. 10us, 1ms) to keep big traces loadable\n"
"      --speedscope FILE  with --json: also speedscope's own format (exact ns edges)\n"
"      --buffer-size SIZE ring buffer between BPF and gotrace (default 16M, 64M\n"
"                         with --stack; a power of two, 4K or more); raise it\n"
"                         if events are reported dropped\n"
"      --attach MODE      auto (default: uprobe_multi links if the kernel has\n"
"                         them, else one uprobe per function), multi, single\n"
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
"  -h, --help             this help\n"
"\n"
"Examples:\n"
"  gotrace states -p 1234                       # live stream until Ctrl-C\n"
"  gotrace states -q -d 10s -p 1234 --top 20    # 10 s, then the top 20 by running time\n"
"  gotrace states --format=jsonl -o t.jsonl -- ./server -addr :8080\n"
"  gotrace states --json trace.json --csv sum.csv -- ./bin args\n"
"  gotrace states --goid 1,18 --state waiting -p 1234\n"
"  gotrace states --stack --state waiting -- ./bin   # where goroutines block\n";

enum { ATTACH_AUTO, ATTACH_MULTI, ATTACH_SINGLE };

struct states_opts {
	pid_t pid;
	char **argv;
	uint64_t duration_ns;
	bool jsonl;
	const char *output;
	const char *csv;
	const char *json;
	bool json_gz;			/* --json-gz */
	uint64_t min_dur_ns;		/* --min-duration (trace only) */
	const char *speedscope;
	const char *raw;
	uint32_t ringbuf_bytes;
	int attach_mode;		/* ATTACH_AUTO, ATTACH_MULTI, ATTACH_SINGLE */
	int64_t *goids;
	size_t ngoids;
	uint32_t state_mask;
	enum st_sort sort;
	size_t top;
	bool no_summary;
	bool stack;			/* --stack */
	uint32_t stack_size;		/* --stack-size */
	enum gt_unwind unwind;		/* --unwind */
};

struct run {
	uint64_t last_ts;	/* newest event seen */
	FILE *raw;		/* --raw: events as struct states_event records */
	struct st_model *model;
	struct st_out out;
	struct st_resolver res;
	struct gt_stacks *stacks;	/* --stack */
	uint64_t probe_vaddr[4];	/* --stack: link-time entry by cookie
					 * (STATES_F_SYNTH | STATES_F_MAYFAIL) */
};

/* The model's sink forwards to the output writers. */
static int on_event(void *ctx, const void *data, size_t len)
{
	struct run *run = ctx;
	struct states_event e;

	if (len == sizeof(struct states_rec)) {
		/* all but creations and --stack records: the compact form */
		const struct states_rec *r = data;

		e.ts_ns = r->ts_ns;
		e.gp = r->gp;
		e.goid = r->goid;
		e.tid = r->tid;
		e.from = STATES_REC_UNSTATUS(r->from);
		e.to = STATES_REC_UNSTATUS(r->to);
		e.reason = r->reason;
		e.flags = r->flags;
		e.pad = 0;
		e.startpc = e.gopc = e.probe_ip = 0;
		e.parent_goid = -1;
	} else if (len >= sizeof(e)) {
		memcpy(&e, data, sizeof(e));
	} else {
		return 0;
	}
	if (run->raw)
		fwrite(&e, sizeof(e), 1, run->raw);
	if ((e.flags & STATES_F_STACK) && run->stacks &&
	    len >= sizeof(e) + sizeof(struct gt_stack_hdr)) {
		/* --stack: unwound now (the maps are the capture's), printed
		 * with the transition by the sink, during st_model_feed */
		const struct gt_stack_hdr *h = (const void *)((const char *)data + sizeof(e));
		uint64_t pv = run->probe_vaddr[e.flags & (STATES_F_SYNTH | STATES_F_MAYFAIL)];
		struct gt_stack *st = gt_stacks_unwind(run->stacks, h,
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

static int parse_goids(const char *s, struct states_opts *o)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long long v = strtoll(tok, &end, 10);
		int64_t *n;

		if (*end || end == tok || v <= 0) {
			err = -EINVAL;
			break;
		}
		n = realloc(o->goids, (o->ngoids + 1) * sizeof(*n));
		if (!n) {
			err = -ENOMEM;
			break;
		}
		o->goids = n;
		o->goids[o->ngoids++] = v;
	}
	free(copy);
	return err ? err : (o->ngoids ? 0 : -EINVAL);
}

static int parse_states(const char *s, uint32_t *mask)
{
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

enum { OPT_FORMAT = 256, OPT_CSV, OPT_JSON, OPT_JSONGZ, OPT_MINDUR, OPT_SPEEDSCOPE, OPT_RAW, OPT_BUFSZ, OPT_ATTACH, OPT_GOID, OPT_STATE, OPT_SORT, OPT_TOP, OPT_NOSUM,
       OPT_STACK, OPT_STACK_SIZE, OPT_UNWIND };

static int parse_args(int argc, char **argv, struct states_opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "csv", required_argument, NULL, OPT_CSV },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "json-gz", required_argument, NULL, OPT_JSONGZ },
		{ "min-duration", required_argument, NULL, OPT_MINDUR },
		{ "speedscope", required_argument, NULL, OPT_SPEEDSCOPE },
		{ "raw", required_argument, NULL, OPT_RAW },
		{ "buffer-size", required_argument, NULL, OPT_BUFSZ },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "goid", required_argument, NULL, OPT_GOID },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "no-summary", no_argument, NULL, OPT_NOSUM },
		{ "stack", no_argument, NULL, OPT_STACK },
		{ "stack-size", required_argument, NULL, OPT_STACK_SIZE },
		{ "unwind", required_argument, NULL, OPT_UNWIND },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	o->sort = ST_SORT_RUNNING;
	o->stack_size = GT_STACK_DEFAULT;
	optind = 1;
	/* '+': stop at the first non-option (the program to launch). */
	while ((c = getopt_long(argc, argv, "+p:d:qo:h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p': {
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v <= 0 || v > 0x7fffffff) {
				gt_error("states: invalid pid '%s'", optarg);
				return EXIT_USAGE;
			}
			o->pid = (pid_t)v;
			break;
		}
		case 'd':
			if (gt_parse_duration(optarg, &o->duration_ns)) {
				gt_error("states: invalid duration '%s' (e.g. 10, 500ms, 2s, 1m)",
					 optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			gt_quiet = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json")) {
				o->jsonl = true;
			} else if (!strcmp(optarg, "text")) {
				o->jsonl = false;
			} else {
				gt_error("states: unknown format '%s' (text or jsonl)", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_CSV:
			o->csv = optarg;
			break;
		case OPT_SPEEDSCOPE:
			o->speedscope = optarg;
			break;
		case OPT_JSON:
		case OPT_JSONGZ:
			if (o->json) {
				gt_error("states: give one of --json and --json-gz, once");
				return EXIT_USAGE;
			}
			o->json = optarg;
			o->json_gz = c == OPT_JSONGZ;
			break;
		case OPT_MINDUR:
			if (gt_parse_duration(optarg, &o->min_dur_ns)) {
				gt_error("states: invalid --min-duration '%s' (e.g. 10us, 1ms)", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_RAW:
			o->raw = optarg;
			break;
		case OPT_ATTACH:
			if (!strcmp(optarg, "auto")) {
				o->attach_mode = ATTACH_AUTO;
			} else if (!strcmp(optarg, "multi")) {
				o->attach_mode = ATTACH_MULTI;
			} else if (!strcmp(optarg, "single")) {
				o->attach_mode = ATTACH_SINGLE;
			} else {
				gt_error("states: unknown --attach mode '%s' (auto, multi, single)",
					 optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_BUFSZ: {
			unsigned long long v = strtoull(optarg, &end, 10);

			if (end == optarg || optarg[0] == '-') {
				v = 0;
			} else if (*end == 'K' || *end == 'k') {
				v <<= 10;
				end++;
			} else if (*end == 'M' || *end == 'm') {
				v <<= 20;
				end++;
			}
			/* the kernel wants a power of two, at least a page */
			if (*end || v < 4096 || v > (1ULL << 30) || (v & (v - 1))) {
				gt_error("states: invalid --buffer-size '%s' (a power of two from 4K "
					 "to 1024M)", optarg);
				return EXIT_USAGE;
			}
			o->ringbuf_bytes = (uint32_t)v;
			break;
		}
		case OPT_GOID:
			if (parse_goids(optarg, o)) {
				gt_error("states: invalid goroutine id list '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_STATE:
			if (parse_states(optarg, &o->state_mask)) {
				gt_error("states: invalid state list '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_SORT: {
			int s = st_sort_parse(optarg);

			if (s < 0) {
				gt_error("states: unknown sort column '%s' (%s)", optarg,
					 st_sort_names);
				return EXIT_USAGE;
			}
			o->sort = s;
			break;
		}
		case OPT_TOP: {
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0) {
				gt_error("states: invalid --top '%s'", optarg);
				return EXIT_USAGE;
			}
			o->top = (size_t)v;
			break;
		}
		case OPT_NOSUM:
			o->no_summary = true;
			break;
		case OPT_STACK:
			o->stack = true;
			break;
		case OPT_STACK_SIZE:
			if (gt_stack_size_parse(optarg, &o->stack_size)) {
				gt_error("states: invalid --stack-size '%s' (a multiple of 8 from %d "
					 "to %d bytes)", optarg, GT_STACK_MIN, GT_STACK_MAX);
				return EXIT_USAGE;
			}
			break;
		case OPT_UNWIND:
			if (gt_unwind_parse(optarg, &o->unwind)) {
				gt_error("states: unknown --unwind '%s' (auto, dwarf, pclntab or fp)",
					 optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->argv = argv + optind;
	if (!o->pid == !o->argv) {
		gt_error("states: give either -p PID or -- PROGRAM [ARGS]");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (o->speedscope && !o->json) {
		gt_error("states: --speedscope needs --json FILE");
		return EXIT_USAGE;
	}
	if (o->min_dur_ns && !o->json) {
		gt_error("states: --min-duration needs --json FILE");
		return EXIT_USAGE;
	}
	return -1; /* continue */
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !getenv("GOTRACE_DEBUG")))
		return 0;
	if (level == LIBBPF_WARN && !getenv("GOTRACE_DEBUG"))
		return 0; /* we report failures ourselves, in one line */
	return vfprintf(stderr, fmt, ap);
}

/* The functions probed: the entry of each, with the cookie that tells the
 * program which one fired.  Only casgstatus is required. */
struct probe_spec {
	const char *func;
	uint64_t cookie;
	bool syscall;	/* on_syscall_fast (Go 1.26+ fast path), else on_transition */
	bool required;
};

static const struct probe_spec probe_specs[] = {
	{ "runtime.casgstatus", STATES_COOKIE_CASGSTATUS, false, true },
	/* transitions that bypass casgstatus; absent or inlined is not fatal */
	{ "runtime.casGToPreemptScan", STATES_COOKIE_PREEMPTSCAN, false, false },
	{ "runtime.casGFromPreempted", STATES_COOKIE_FROMPREEMPTED, false, false },
	{ "runtime.reentersyscall", STATES_SYSCALL_COOKIE(STATES_G_RUNNING, STATES_G_SYSCALL),
	  true, false },
	{ "runtime.exitsyscall", STATES_SYSCALL_COOKIE(STATES_G_SYSCALL, STATES_G_RUNNING), true,
	  false },
};
#define NR_PROBES (sizeof(probe_specs) / sizeof(probe_specs[0]))

/* Offsets and cookies of one program's probes, and their cost classes. */
struct probe_list {
	uint64_t offsets[NR_PROBES], cookies[NR_PROBES];
	const struct probe_spec *spec[NR_PROBES];
	enum probe_class cls[NR_PROBES];
	size_t n;
};

/* Where the probe of function `name` goes: its entry site (probes/sites.h),
 * the cheapest place where the arguments, g and SP are still those of the
 * entry.  regabi: the probe reads them from registers. */
static int probe_site(struct gosym *gs, const char *name, bool regabi, struct entry_site *site,
		      uint64_t *off)
{
	int err = sites_entry_of(gs, name, regabi ? SITES_KEEP_ARGS : 0, site, off);

	return err ? err : site->cls == PROBE_REFUSED ? -ENOTSUP : 0;
}

/* Fill trans/sys with the probes the binary has.  syscalls: whether the
 * fast-path functions are wanted.  A missing required function is an
 * error (-ENOENT); a missing optional one is skipped. */
static int resolve_probes(struct gosym *gs, bool syscalls, bool regabi, struct probe_list *trans,
			  struct probe_list *sys)
{
	for (size_t i = 0; i < NR_PROBES; i++) {
		const struct probe_spec *p = &probe_specs[i];
		struct probe_list *l = p->syscall ? sys : trans;
		struct entry_site site;
		uint64_t off;
		int err;

		if (p->syscall && !syscalls)
			continue;
		err = probe_site(gs, p->func, regabi, &site, &off);
		if (err == -ENOENT && !p->required) {
			if (p->syscall)
				gt_warn("no %s in the binary: syscall transitions may be missed",
					p->func);
			continue;
		}
		if (err) {
			if (p->required)
				return err;
			continue;
		}
		l->offsets[l->n] = off;
		l->cookies[l->n] = p->cookie;
		l->cls[l->n] = site.cls;
		l->spec[l->n++] = p;
	}
	return 0;
}

/* How many probes of both lists are of class c. */
static size_t count_class(const struct probe_list *a, const struct probe_list *b,
			  enum probe_class c)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->cls[i] == c;
	for (size_t i = 0; i < b->n; i++)
		n += b->cls[i] == c;
	return n;
}

/* One perf-event uprobe per function (kernels without uprobe_multi). */
static int attach_single(struct uprobes **ups, struct bpf_program *prog, const struct gt_target *t,
			 const struct probe_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int err = uprobes_attach(ups, UPROBES_SINGLE, prog, t->exe_open, &l->offsets[i],
					 &l->cookies[i], 1, t->pid, NULL, NULL);

		if (err && l->spec[i]->required)
			return err;
		if (err)
			gt_warn("cannot probe %s: %s", l->spec[i]->func, strerror(-err));
	}
	return 0;
}

static uint64_t sum_counter(struct states_bpf *skel, uint32_t idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals, total = 0;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &idx, vals))
		for (int i = 0; i < ncpu; i++)
			total += vals[i];
	free(vals);
	return total;
}

static const char *errstr(int err)
{
	return strerror(err < 0 ? -err : err);
}

int cmd_states(int argc, char **argv)
{
	struct states_opts o = { 0 };
	struct gt_target t = GT_TARGET_INIT;
	struct gosym *gs = NULL;
	const struct gosym_info *gi;
	struct gosym_runtime_offsets ro;
	struct gosym_go_facts facts;
	struct gosym_func casg;
	const char *const *reasons = NULL;
	const char *reasons_src = "";
	struct states_bpf *skel = NULL;
	struct bpf_program *prog_trans = NULL, *prog_trans_m = NULL;
	struct bpf_program *prog_sys = NULL, *prog_sys_m = NULL;
	struct gt_ring *rb = NULL;
	struct uprobes *ups = NULL;
	struct probe_list trans = { .n = 0 }, sys = { .n = 0 };
	struct run run = { 0 };
	enum { OUT_STREAM, OUT_CSV, OUT_RAW, OUT_JSON, OUT_SPEEDSCOPE, NOUT };
	struct gt_outfile *files[NOUT] = { NULL };
	FILE *out = NULL, *csvf = NULL;
	uint64_t deadline = 0, end_ns, drops, readfail;
	bool regabi, multi = false, target_gone = false;
	int nreasons, err, ret = 1, status;

	ret = parse_args(argc, argv, &o);
	if (ret >= 0)
		goto cleanup_opts;
	ret = 1;

	/* every output, before the target is touched (output/outfile.h) */
	{
		const char *paths[NOUT] = { o.output ? o.output : "-", o.csv, o.raw, o.json,
					    o.speedscope };

		for (int i = 0; i < NOUT; i++) {
			if (paths[i] && gt_outfile_open(paths[i], &files[i])) {
				gt_error("states: cannot open '%s': %s", paths[i],
					 gt_outfile_errmsg());
				goto cleanup;
			}
		}
		out = gt_outfile_stdio(files[OUT_STREAM]);
		csvf = files[OUT_CSV] ? gt_outfile_stdio(files[OUT_CSV]) : NULL;
		run.raw = files[OUT_RAW] ? gt_outfile_stdio(files[OUT_RAW]) : NULL;
		if (!out || (o.csv && !csvf) || (o.raw && !run.raw)) {
			gt_error("states: out of memory");
			goto cleanup;
		}
	}
	gt_signals_install();
	libbpf_set_print(libbpf_print);

	if (o.pid)
		err = gt_target_attach(o.pid, &t);
	else
		err = gt_target_launch(o.argv, &t);
	if (err) {
		gt_error("states: %s", gt_target_errmsg());
		goto cleanup;
	}

	gt_progress("loading symbols of %s", t.exe);
	err = gosym_open(t.exe_open, &gs);
	if (err) {
		if (err == -ENOEXEC)
			gt_error("states: '%s'%s is not a Go program (%s)", t.exe,
				 o.pid ? " (the target's executable)" : "", gosym_errmsg());
		else
			gt_error("states: cannot read '%s': %s", t.exe, gosym_errmsg());
		goto cleanup;
	}
	gi = gosym_info(gs);
	if (gosym_lookup_name(gs, "runtime.casgstatus", &casg)) {
		gt_error("states: '%s' has no runtime.casgstatus: cannot trace goroutine states",
			 t.exe);
		goto cleanup;
	}
	err = gosym_runtime_offsets(gs, &ro);
	if (err) {
		gt_error("states: '%s' (%s): no runtime.g offsets: %s", t.exe,
			 gi->goversion[0] ? gi->goversion : "unknown Go version", gosym_errmsg());
		goto cleanup;
	}
	nreasons = gosym_wait_reasons(gs, &reasons, &reasons_src);
	if (nreasons < 0) {
		gt_warn("no wait reason names for %s (%s): printing numbers", t.exe,
			gosym_errmsg());
		nreasons = 0;
		reasons = NULL;
	}
	gosym_go_facts(gs, &facts);
	regabi = facts.regabi;
	if (strcmp(gi->arch, GOTRACE_ARCH)) {
		gt_error("states: '%s' is a %s binary; this gotrace traces %s", t.exe, gi->arch,
			 GOTRACE_ARCH);
		goto cleanup;
	}

	/* Two tries: with the uprobe_multi copies of the programs, then (if
	 * this kernel refuses their attach type) without them. */
	for (int attempt = 0; attempt < 2; attempt++) {
		multi = attempt == 0 && o.attach_mode != ATTACH_SINGLE;
		states_bpf__destroy(skel);
		skel = states_bpf__open();
		if (!skel) {
			gt_error("states: cannot open BPF object: %s", strerror(errno));
			goto cleanup;
		}
		prog_trans = skel->progs.on_transition;
		prog_trans_m = skel->progs.on_transition_m;
		prog_sys = skel->progs.on_syscall_fast;
		prog_sys_m = skel->progs.on_syscall_fast_m;
		skel->rodata->targ_tgid = (uint32_t)t.pid;
		skel->rodata->regabi = regabi;
		skel->rodata->off_goid = ro.g_goid;
		skel->rodata->off_waitreason = ro.g_waitreason;
		skel->rodata->off_startpc = ro.g_startpc;
		skel->rodata->off_gopc = ro.g_gopc;
		skel->rodata->off_parentgoid = ro.g_parentgoid;
		skel->rodata->off_g_m = ro.g_m;
		skel->rodata->off_m_curg = ro.m_curg;
		skel->rodata->off_stack_lo = ro.g_stack_lo;
		skel->rodata->off_stack_hi = ro.g_stack_hi;
		skel->rodata->off_m_g0 = ro.m_g0;
		skel->rodata->tls_g = ro.tls_g;
		/* --stack: the stack-capturing copies of on_transition(_m)
		 * replace them; without it they are not loaded at all */
		if (o.stack) {
			/* stack records are tens of times bigger than the
			 * others: 64 MiB unless --buffer-size says otherwise */
			if (!o.ringbuf_bytes)
				o.ringbuf_bytes = 64u << 20;
			skel->rodata->stack_size = o.stack_size;
			skel->rodata->off_sched_sp = ro.g_sched_sp;
			skel->rodata->off_sched_pc = ro.g_sched_pc;
			skel->rodata->off_sched_bp = ro.g_sched_bp;
			prog_trans = skel->progs.on_transition_stack;
			prog_trans_m = skel->progs.on_transition_stack_m;
			prog_sys = skel->progs.on_syscall_fast_stack;
			prog_sys_m = skel->progs.on_syscall_fast_stack_m;
			bpf_program__set_autoload(skel->progs.on_transition, false);
			bpf_program__set_autoload(skel->progs.on_transition_m, false);
			bpf_program__set_autoload(skel->progs.on_syscall_fast, false);
			bpf_program__set_autoload(skel->progs.on_syscall_fast_m, false);
		} else {
			bpf_program__set_autoload(skel->progs.on_transition_stack, false);
			bpf_program__set_autoload(skel->progs.on_transition_stack_m, false);
			bpf_program__set_autoload(skel->progs.on_syscall_fast_stack, false);
			bpf_program__set_autoload(skel->progs.on_syscall_fast_stack_m, false);
		}
		if (!o.ringbuf_bytes)
			o.ringbuf_bytes = STATES_RINGBUF_BYTES;
		skel->rodata->wake_bytes = GR_WAKE_BYTES(o.ringbuf_bytes);
		if ((err = bpf_map__set_max_entries(skel->maps.events, o.ringbuf_bytes))) {
			gt_error("states: cannot size the ring buffer: %s", errstr(err));
			goto cleanup;
		}
		if (multi) {
			uprobes_prepare_multi(prog_trans_m);
			uprobes_prepare_multi(prog_sys_m);
		} else {
			bpf_program__set_autoload(prog_trans_m, false);
			bpf_program__set_autoload(prog_sys_m, false);
		}
		err = states_bpf__load(skel);
		if (!err || !multi || err == -EPERM)
			break;
		if (o.attach_mode == ATTACH_MULTI)
			break;
	}
	if (err) {
		gt_error("states: cannot load BPF programs: %s%s", errstr(err),
			 err == -EPERM ? " (run as root or with CAP_BPF and CAP_PERFMON; "
					 "see 'gotrace doctor')" : "");
		goto cleanup;
	}

	{
		/* the resolver finds the load bias from casgstatus's probe
		 * address, --stack places the program by the probes' */
		struct entry_site site;
		uint64_t off;

		err = probe_site(gs, "runtime.casgstatus", regabi, &site, &off);
		if (err) {
			gt_error("states: '%s': cannot probe runtime.casgstatus: %s", t.exe,
				 errstr(err));
			goto cleanup;
		}
		st_resolver_init(&run.res, gs, site.addr);
	}
	if (o.stack) {
		static const struct { const char *name; uint32_t cookie; } pf[] = {
			{ "runtime.casgstatus", STATES_COOKIE_CASGSTATUS },
			{ "runtime.casGToPreemptScan", STATES_COOKIE_PREEMPTSCAN },
			{ "runtime.casGFromPreempted", STATES_COOKIE_FROMPREEMPTED },
		};

		err = gt_stacks_new(o.unwind, o.stack_size, &run.stacks);
		if (err) {
			gt_error("states: --stack: %s", errstr(err));
			goto cleanup;
		}
		for (size_t i = 0; i < sizeof(pf) / sizeof(pf[0]); i++) {
			struct entry_site site;
			uint64_t off;

			if (!probe_site(gs, pf[i].name, regabi, &site, &off))
				run.probe_vaddr[pf[i].cookie & 3] = site.addr;
		}
	}
	run.out.stream = gt_quiet ? NULL : out;
	run.out.jsonl = o.jsonl;
	run.out.reasons = reasons;
	run.out.nreasons = nreasons;
	run.out.goids = o.goids;
	run.out.ngoids = o.ngoids;
	run.out.state_mask = o.state_mask;
	{
		struct st_model_opts mo = {
			.late_goid = facts.late_goid,
			.resolve = resolve_cb,
			.sink = sink,
			.ctx = &run,
		};

		run.model = st_model_new(&mo);
	}
	if (!run.model) {
		gt_error("states: out of memory");
		goto cleanup;
	}
	if (o.json) {
		struct chrome_trace_opts co = {
			.binary = t.exe,
			.go_version = gi->goversion,
			.command_line = o.argv ? o.argv[0] : NULL,
			.max_events = GT_TRACE_MAX_EVENTS,
			.speedscope = files[OUT_SPEEDSCOPE],
			.gzip = o.json_gz,
			.min_dur_ns = o.min_dur_ns,
		};

		if (o.goids) {
			/* chrome_trace wants uint64 goids */
			co.goids = (const uint64_t *)o.goids;
			co.nr_goids = o.ngoids;
		}
		run.out.chrome = st_out_chrome_transition;
		/* the trace owns both files from here on */
		err = chrome_trace_open(&run.out.ct, files[OUT_JSON], &co);
		files[OUT_JSON] = files[OUT_SPEEDSCOPE] = NULL;
		if (err) {
			gt_error("states: cannot create '%s': %s", o.json, errstr(err));
			goto cleanup;
		}
	}
	err = gt_ring_open(bpf_map__fd(skel->maps.events), &rb);
	if (err) {
		gt_error("states: cannot map the ring buffer: %s", errstr(err));
		goto cleanup;
	}

	gt_progress("attaching to %s (pid %d, %s, offsets from %s, wait reasons from %s)",
		    t.exe, (int)t.pid, gi->goversion[0] ? gi->goversion : "unknown Go",
		    ro.source ? ro.source : "?", reasons_src ? reasons_src : "?");
	/* reentersyscall/exitsyscall CAS running<->syscall themselves
	 * (docs/go-runtime.md).  Where they call casgstatus instead, the
	 * model drops the duplicate. */
	err = resolve_probes(gs, regabi && facts.syscall_fastpath, regabi, &trans, &sys);
	if (err) {
		gt_error("states: '%s': cannot locate runtime.casgstatus: %s", t.exe, errstr(err));
		goto cleanup;
	}
	if (multi) {
		err = uprobes_attach(&ups, UPROBES_MULTI, prog_trans_m, t.exe_open,
				     trans.offsets, trans.cookies, trans.n, t.pid, NULL, NULL);
		if (!err)
			err = uprobes_attach(&ups, UPROBES_MULTI, prog_sys_m,
					     t.exe_open, sys.offsets, sys.cookies, sys.n, t.pid,
					     NULL, NULL);
		if (err) {
			uprobes_free(ups);
			ups = NULL;
			if (o.attach_mode == ATTACH_MULTI) {
				gt_error("states: cannot create uprobe_multi links in '%s': %s", t.exe,
					 errstr(err));
				goto cleanup;
			}
			gt_progress("no uprobe_multi links (%s): one uprobe per function",
				    errstr(err));
			multi = false;
		}
	}
	if (!multi) {
		err = attach_single(&ups, prog_trans, &t, &trans);
		if (!err)
			err = attach_single(&ups, prog_sys, &t, &sys);
		if (err) {
			gt_error("states: cannot attach uprobe to runtime.casgstatus in '%s': %s%s",
				 t.exe, errstr(err),
				 err == -EPERM || err == -EACCES ? " (see 'gotrace doctor')" : "");
			goto cleanup;
		}
	}
	gt_progress("attached %zu probes (%s): %zu emulated, %zu single-stepped; tracing%s",
		    uprobes_count(ups), multi ? "uprobe_multi" : "one uprobe each",
		    count_class(&trans, &sys, PROBE_EMULATED), count_class(&trans, &sys, PROBE_SSTEP),
		    o.pid ? ", Ctrl-C to stop" : "");

	if (run.stacks)
		gt_stacks_preload(run.stacks, t.pid, t.exe_open);
	run.out.t0_ns = gt_now_ns();
	if (o.duration_ns)
		deadline = run.out.t0_ns + o.duration_ns;
	err = gt_target_release(&t);
	if (err) {
		gt_error("states: %s", gt_target_errmsg());
		goto cleanup;
	}
	/* --stack: the program's maps, read once it is mapped (stacks.h) */
	if (run.stacks && (err = gt_stacks_attach(run.stacks, t.pid, t.launched ? t.exe_open : NULL)))
		gt_warn("--stack: cannot read /proc/%d/maps: %s", (int)t.pid, errstr(err));

	while (!gt_stop_requested()) {
		/* Events arrive without wakeups (bpf/go_runtime.h): sleep
		 * STATES_POLL_MS unless the buffer fills up first (a signal
		 * cuts it short too), then drain. */
		gt_ring_wait(rb, STATES_POLL_MS);
		gt_ring_drain(rb, on_event, &run);
		if (gt_target_exited(&t)) {
			target_gone = true;
			break;
		}
		if (deadline && gt_now_ns() >= deadline)
			break;
		/* a live output that fails (full disk) ends the trace now;
		 * the commit below reports it */
		if (gt_outfile_error(files[OUT_STREAM]) ||
		    (files[OUT_RAW] && gt_outfile_error(files[OUT_RAW])))
			break;
	}
	/* Detaching takes an RCU grace period per probe: the trace ends now. */
	end_ns = gt_now_ns();
	if (gt_stop_requested())
		gt_target_forward_stop(&t);

	gt_progress("detaching %zu probes", uprobes_count(ups));
	uprobes_free(ups);
	ups = NULL;
	gt_ring_drain(rb, on_event, &run);
	/* A target that exited stopped at its last event, not when we noticed.
	 * (Events that arrive while detaching are kept; the accounting of a
	 * goroutine whose state began after end_ns stops at that state.) */
	if (target_gone && run.last_ts)
		end_ns = run.last_ts;
	st_model_finish(run.model, end_ns);
	drops = sum_counter(skel, STATES_CNT_DROPS);
	readfail = sum_counter(skel, STATES_CNT_READFAIL);
	if (run.stacks)
		gt_stacks_count_lost(run.stacks, sum_counter(skel, STATES_CNT_STACK_DROPS));

	{
		size_t n;
		struct st_goroutine **all = st_model_goroutines(run.model, &n);
		struct st_model_stats ms;

		st_model_stats(run.model, &ms);
		st_out_chrome_finish(&run.out, all, n, end_ns);
		if (!o.no_summary) {
			st_sort_goroutines(all, n, o.sort);
			if (o.jsonl)
				st_out_summary_jsonl(&run.out, out, all, n, o.top);
			else {
				if (!gt_quiet)
					fputc('\n', out);
				st_out_summary_text(&run.out, out, all, n, o.top);
			}
		}
		if (csvf) {
			if (o.no_summary)
				st_sort_goroutines(all, n, o.sort);
			st_out_summary_csv(&run.out, csvf, all, n, o.top);
		}
		if (o.jsonl)
			fprintf(out, "{\"type\":\"stats\",\"events\":%" PRIu64 ",\"transitions\":%" PRIu64
				     ",\"drops\":%" PRIu64 ",\"read_errors\":%" PRIu64
				     ",\"goroutines\":%zu,\"duration_ns\":%" PRIu64 "}\n",
				ms.events, ms.transitions, drops, readfail, n,
				end_ns - run.out.t0_ns);
		gt_progress("%" PRIu64 " events, %" PRIu64 " transitions, %zu goroutines", ms.events,
			    ms.transitions, n);
		if (run.stacks && !o.no_summary)
			gt_stacks_report(run.stacks, out, o.jsonl, "");
		if (run.stacks && gt_stacks_stats(run.stacks)->lost)
			gt_warn("%" PRIu64 " stacks lost (ring buffer full; their transitions are "
				"kept without a stack): a smaller --stack-size or a bigger "
				"--buffer-size helps", gt_stacks_stats(run.stacks)->lost);
	}
	if (drops)
		gt_warn("%" PRIu64 " events dropped (ring buffer full): the summary undercounts",
			drops);
	if (readfail)
		gt_warn("%" PRIu64 " events without a readable goid were skipped", readfail);
	if (run.out.ct) {
		struct chrome_trace_stats cs;

		err = chrome_trace_close(run.out.ct, &cs);
		run.out.ct = NULL;
		if (err) {
			gt_error("states: writing '%s': %s", o.json, errstr(err));
			goto cleanup;
		}
		gt_progress("wrote %s (%u goroutines, %" PRIu64 " slices)", o.json, cs.goroutines,
			    cs.slices);
		gt_trace_report("states", o.json, &cs);
	}
	for (int i = 0; i < NOUT; i++) {
		const char *path = files[i] ? gt_outfile_path(files[i]) : NULL;
		char what[PATH_MAX];

		snprintf(what, sizeof(what), "%s", path && strcmp(path, "-") ? path : "stdout");
		err = gt_outfile_commit(files[i]);
		files[i] = NULL;
		if (err) {
			gt_error("states: cannot write '%s': %s", what, gt_outfile_errmsg());
			goto cleanup;
		}
	}

	ret = 0;
	if (t.launched) {
		/* -d or a stop signal: the program goes on (or got the signal);
		 * wait for it like a shell would, and exit with its status. */
		if (!target_gone && !gt_stop_requested())
			gt_progress("detached; waiting for pid %d to exit", (int)t.pid);
		status = gt_target_wait(&t);
		ret = status < 0 ? 1 : status;
	}
cleanup:
	if (ret && t.launched && t.released && !gt_target_exited(&t)) {
		/* a failure while the program runs: it goes on untraced, and
		 * gotrace still waits for it like a shell would */
		gt_progress("waiting for pid %d to exit", (int)t.pid);
		gt_target_wait(&t);
	}
	uprobes_free(ups);
	chrome_trace_abort(run.out.ct);
	gt_ring_free(rb);
	states_bpf__destroy(skel);
	st_model_free(run.model);
	gt_stacks_free(run.stacks);
	st_resolver_release(&run.res);
	gosym_free(gs);
	gt_target_free(&t);
	for (int i = 0; i < NOUT; i++)
		gt_outfile_abort(files[i]);
cleanup_opts:
	free(o.goids);
	return ret;
}
