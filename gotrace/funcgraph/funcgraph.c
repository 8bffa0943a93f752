// SPDX-License-Identifier: MIT
/*
 * gotrace funcgraph: per-goroutine call graphs of Go functions.
 *
 * An entry uprobe on every matched function and a uprobe on each of its RET
 * instructions (never a uretprobe: docs/go-runtime.md), one BPF program
 * that sends (goid, g.stack.hi - SP, cookie) per hit through a ring
 * buffer, and the pairing engine (pairing.c) that turns hits into calls.  Probes attach as
 * uprobe_multi links when the kernel has them, else one perf-event uprobe
 * each.  docs/funcgraph.md has the user's view.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "funcgraph.h"
#include "go_runtime.h"
#include "bpf/funcgraph.skel.h"
#include "funcgraph/output.h"
#include "funcgraph/probes.h"
#include "gosym.h"
#include "gotrace.h"
#include "funcgraph/pairing.h"
#include "args/session.h"
#include "tracing/stacks.h"
#include "tracing/clock.h"
#include "tracing/signals.h"
#include "tracing/target.h"
#include "probes/sites.h"
#include "probes/uprobe_multi.h"
#include "output/outfile.h"

#define DEFAULT_MAX_PROBES 5000

enum fg_mode_opt { MODE_AUTO, MODE_MULTI, MODE_SINGLE };

struct fg_args {
	pid_t pid;
	char **inc;
	int ninc;
	char **exc;
	int nexc;
	char **cmd;
	const char *out_path, *folded, *json, *pprof, *speedscope;
	bool jsonl, yes, summary;
	bool json_gz;		/* --json-gz: gzip the Chrome trace */
	bool floor;		/* benchmark: bare uprobes at the same sites */
	bool timing;		/* benchmark: time spent in BPF and in the reader */
	bool stack;		/* --stack */
	uint32_t stack_size;	/* --stack-size */
	enum gt_unwind unwind;	/* --unwind */
	int64_t *goids;
	size_t ngoids;
	uint64_t min_dur, duration;
	int depth;
	long max_probes;
	enum fg_mode_opt mode;
	struct ga_config args;	/* --args, --filter and their limits */
	char **arg_specs, **filters;
	char **inc_owned;	/* inc, selections taken off (ninc, owned) */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: gotrace funcgraph [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funcgraph [OPTIONS] PATTERN PROGRAM [ARGS...]\n"
"       gotrace funcgraph [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"\n"
"Per-goroutine call graphs of the Go functions matching PATTERN, with entry\n"
"time, duration and self time of every call, and a per-function summary.\n"
"PROGRAM is launched and traced from its first instruction; -p attaches to a\n"
"running process.  Patterns are globs over function names ('*' also matches\n"
"'/' and '.'): 'main.*', 'net/http.(*Server).*'.  Needs Go >= 1.17 (amd64).\n"
"\n"
"Options:\n"
"  -p, --pid PID            trace a running process\n"
"  -x, --exclude PATTERN    leave out functions matching PATTERN (repeatable)\n"
"  -o, --output FILE        write the call graph / jsonl to FILE\n"
"      --format text|jsonl  jsonl: one {\"type\":\"call\",...} object per call\n"
"      --goid N[,N...]      only these goroutines\n"
"      --min-duration D     only calls lasting at least D (e.g. 10us, 2ms)\n"
"      --depth N            only calls at depth < N (0 = outermost traced call)\n"
"      --folded FILE        folded stacks weighted by self time (flame graphs)\n"
"      --json FILE          Chrome trace (Perfetto, chrome://tracing);\n"
"                           gzipped when FILE ends in .gz\n"
"      --json-gz FILE       the same, gzipped whatever FILE's name\n"
"      --speedscope FILE    with --json: also speedscope's own format\n"
"      --pprof FILE         gzipped pprof profile: self time and calls per\n"
"                           stack, labeled by goroutine (go tool pprof)\n"
"      --no-summary         no per-function summary at the end\n"
"      --stack              the user stack at every traced call's entry,\n"
"                           unwound and symbolized (inlined frames included):\n"
"                           printed under the call (text) or as \"stack\" (jsonl)\n"
"      --stack-size N       bytes of stack copied per call (default %d, %d\n"
"                           to %d; suffix k for KiB); the copy stops at the\n"
"                           goroutine's stack end, deeper stacks are truncated\n"
"      --unwind METHOD      auto (default: DWARF CFI, then the Go pclntab, then\n"
"                           frame pointers), dwarf, pclntab or fp only\n"
"      --args[=SPEC]        arguments at entry and results at return, read by\n"
"                           their DWARF types (docs/args.md).  SPEC: 'all'\n"
"                           (the default), 'raw' (the integer argument\n"
"                           registers: binaries without DWARF), or 'GLOB' or\n"
"                           'GLOB(name, name.field, $ret, result)' to read only\n"
"                           those of the matching functions (repeatable); a\n"
"                           PATTERN may end in such a selection too\n"
"      --filter EXPR        only calls whose arguments match, tested in BPF:\n"
"                           'key == \"user:42\"', 'n > 10 && ok == true',\n"
"                           'path ^= \"/api/\"' (prefix); == != < <= > >= on\n"
"                           integers and bools; applies to functions that have\n"
"                           what it names (repeatable)\n"
"      --string-size N      bytes of each string read (default 64)\n"
"      --elems N            elements of each slice or array (default 8)\n"
"      --args-depth N       pointer levels followed (default 1)\n"
"      --args-size N        bytes of values per event, at most (default 1024,\n"
"                           64 to 4096)\n"
"  -d, --duration D         stop after D (e.g. 10s, 1m)\n"
"      --max-probes N       ask for --yes above N probes (default %d)\n"
"  -y, --yes                attach even above --max-probes\n"
"      --attach MODE        auto (default), multi (uprobe_multi), single\n"
"                           (one perf-event uprobe per probe)\n"
"  -q, --quiet              no progress messages\n"
"  -h, --help               this help\n"
"\n"
"Output: calls ended by a panic or runtime.Goexit are marked [unwound];\n"
"calls still running when tracing stops are marked [open].  In launch mode\n"
"gotrace exits with the program's exit status.\n"
"\n"
"Examples:\n"
"  gotrace funcgraph 'main.*' ./server -port 8080\n"
"  gotrace funcgraph -o calls.jsonl --format=jsonl 'main.*' -- ./bin -n 3\n"
"  gotrace funcgraph -p 1234 -d 10s --min-duration 1ms 'net/http.*'\n"
"  gotrace funcgraph -x 'main.init*' --folded out.folded 'main.*' ./bin\n"
"  gotrace funcgraph --json trace.json --goid 1,18 'main.(*Cache).*' ./bin\n"
"  gotrace funcgraph --pprof fg.pb.gz 'main.*' ./bin && go tool pprof -top fg.pb.gz\n"
"  gotrace funcgraph --stack 'main.(*DB).Query' -- ./server   # who calls it\n"
"  gotrace funcgraph --stack --format=jsonl --unwind=fp 'main.marker' ./bin\n"
"  gotrace funcgraph --args 'main.(*Store).*' ./server\n"
"  gotrace funcgraph --args='main.parse(b, $ret)' --string-size 256 'main.*' ./bin\n"
"  gotrace funcgraph 'main.(*Store).Get(key, opts.TTL, $ret)' -- ./server\n"
"  gotrace funcgraph --args --filter 'key ^= \"user:\"' 'main.(*Store).Get' ./bin\n",
		GT_STACK_DEFAULT, GT_STACK_MIN, GT_STACK_MAX, DEFAULT_MAX_PROBES);
}

static void short_usage(void)
{
	fprintf(stderr,
		"usage: gotrace funcgraph [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
		"       gotrace funcgraph [OPTIONS] -p PID PATTERN [PATTERN...]\n"
		"'gotrace funcgraph --help' for the options and examples.\n");
}

static int parse_goids(const char *s, struct fg_args *a)
{
	char *copy = strdup(s), *tok, *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long long v = strtoll(tok, &end, 10);
		int64_t *n;

		if (*end || end == tok || v < 0) {
			free(copy);
			return -EINVAL;
		}
		n = realloc(a->goids, (a->ngoids + 1) * sizeof(*n));
		if (!n) {
			free(copy);
			return -ENOMEM;
		}
		a->goids = n;
		a->goids[a->ngoids++] = v;
	}
	free(copy);
	return a->ngoids ? 0 : -EINVAL;
}

enum fg_opt { O_FORMAT = 256, O_GOID, O_MINDUR, O_DEPTH, O_FOLDED, O_JSON, O_JSONGZ, O_SPEEDSCOPE, O_MAXP, O_NOSUM,
       O_ATTACH, O_FLOOR, O_PPROF, O_STACK, O_STACK_SIZE, O_UNWIND, O_ARGS, O_FILTER,
       O_STRSIZE, O_ELEMS, O_ARGS_DEPTH, O_ARGS_SIZE, O_TIMING };

static int push_str(char ***v, int *n, char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v < lo || v > hi)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* --args[=all|raw|SPEC], --filter and the limits; 0 or -1 (reported). */
static int parse_args_opt(int c, const char *arg, struct fg_args *a)
{
	struct ga_config *g = &a->args;
	enum ga_mode m;
	int err = 0;

	switch (c) {
	case O_ARGS:
		m = !arg || !strcmp(arg, "all") ? GA_MODE_ALL : !strcmp(arg, "raw") ? GA_MODE_RAW :
		    GA_MODE_SELECT;
		if (g->mode != GA_MODE_OFF && g->mode != m)
			return gt_error("funcgraph: --args: give one of --args, --args=raw and "
					"--args=SPEC (repeatable)");
		g->mode = m;
		if (m == GA_MODE_SELECT)
			err = push_str(&a->arg_specs, &g->nspecs, (char *)arg);
		break;
	case O_FILTER: {
		char why[256];

		if (ga_filter_check(arg, why, sizeof(why)))
			return gt_error("funcgraph: %s", why);
		err = push_str(&a->filters, &g->nfilters, (char *)arg);
		break;
	}
	case O_STRSIZE:
		if (!parse_u32(arg, 1, GA_READ_MAX, &g->opts.string_size))
			return gt_error("funcgraph: invalid --string-size '%s' (1 to %d bytes)", arg,
					GA_READ_MAX);
		break;
	case O_ELEMS:
		if (!parse_u32(arg, 0, 1024, &g->opts.elems))
			return gt_error("funcgraph: invalid --elems '%s' (0 to 1024)", arg);
		break;
	case O_ARGS_DEPTH:
		if (!parse_u32(arg, 0, 8, &g->opts.depth))
			return gt_error("funcgraph: invalid --args-depth '%s' (0 to 8)", arg);
		break;
	case O_ARGS_SIZE:
		if (!parse_u32(arg, 64, GA_BLOB_MAX, &g->opts.blob_max))
			return gt_error("funcgraph: invalid --args-size '%s' (64 to %d bytes)", arg,
					GA_BLOB_MAX);
		break;
	}
	if (err)
		return gt_error("funcgraph: out of memory");
	g->specs = a->arg_specs;
	g->filters = a->filters;
	return 0;
}

/* A pattern with a selection, 'main.F(key, opts.TTL, $ret)', is the
 * pattern 'main.F' plus --args='main.F(...)'.  0 or -1 (reported). */
static int split_selections(struct fg_args *a)
{
	char **inc;

	for (int k = 0; k < a->ninc; k++)
		if (ga_spec_glob_len(a->inc[k]) < strlen(a->inc[k]) && a->args.mode == GA_MODE_RAW)
			return gt_error("funcgraph: '%s': --args=raw has no names to select",
					a->inc[k]);
	inc = calloc(a->ninc, sizeof(*inc));
	if (!inc)
		return gt_error("funcgraph: out of memory");
	for (int k = 0; k < a->ninc; k++) {
		size_t gl = ga_spec_glob_len(a->inc[k]);

		inc[k] = strndup(a->inc[k], gl);
		if (!inc[k] || (gl < strlen(a->inc[k]) &&
				push_str(&a->arg_specs, &a->args.nspecs, a->inc[k]))) {
			for (int j = 0; j <= k; j++)
				free(inc[j]);
			free(inc);
			return gt_error("funcgraph: out of memory");
		}
		if (gl < strlen(a->inc[k]) && a->args.mode == GA_MODE_OFF)
			a->args.mode = GA_MODE_SELECT;
	}
	a->inc = a->inc_owned = inc;
	a->args.specs = a->arg_specs;
	return 0;
}

/* 0 ok, -1 done (help), >0 usage error already reported */
static int parse_args(int argc, char **argv, struct fg_args *a)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "goid", required_argument, NULL, O_GOID },
		{ "min-duration", required_argument, NULL, O_MINDUR },
		{ "depth", required_argument, NULL, O_DEPTH },
		{ "folded", required_argument, NULL, O_FOLDED },
		{ "json", required_argument, NULL, O_JSON },
		{ "json-gz", required_argument, NULL, O_JSONGZ },
		{ "speedscope", required_argument, NULL, O_SPEEDSCOPE },
		{ "pprof", required_argument, NULL, O_PPROF },
		{ "no-summary", no_argument, NULL, O_NOSUM },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-probes", required_argument, NULL, O_MAXP },
		{ "yes", no_argument, NULL, 'y' },
		{ "attach", required_argument, NULL, O_ATTACH },
		{ "bench-floor", no_argument, NULL, O_FLOOR },
		{ "bench-timing", no_argument, NULL, O_TIMING },
		{ "stack", no_argument, NULL, O_STACK },
		{ "stack-size", required_argument, NULL, O_STACK_SIZE },
		{ "unwind", required_argument, NULL, O_UNWIND },
		{ "args", optional_argument, NULL, O_ARGS },
		{ "filter", required_argument, NULL, O_FILTER },
		{ "string-size", required_argument, NULL, O_STRSIZE },
		{ "elems", required_argument, NULL, O_ELEMS },
		{ "args-depth", required_argument, NULL, O_ARGS_DEPTH },
		{ "args-size", required_argument, NULL, O_ARGS_SIZE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, dd = -1;
	char *end;

	a->summary = true;
	a->max_probes = DEFAULT_MAX_PROBES;
	a->stack_size = GT_STACK_DEFAULT;
	a->args.opts = (struct ga_opts)GA_OPTS_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:x:o:d:yqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			long v = strtol(optarg, &end, 10);

			if (*end || v <= 0 || v > INT_MAX)
				return gt_error("funcgraph: invalid pid '%s'", optarg) + 1;
			a->pid = (pid_t)v;
			break;
		}
		case 'x':
			a->exc = realloc(a->exc, (a->nexc + 1) * sizeof(char *));
			if (!a->exc)
				return gt_error("funcgraph: out of memory");
			a->exc[a->nexc++] = optarg;
			break;
		case 'o':
			a->out_path = optarg;
			break;
		case O_FORMAT:
			if (!strcmp(optarg, "jsonl"))
				a->jsonl = true;
			else if (!strcmp(optarg, "text"))
				a->jsonl = false;
			else
				return gt_error("funcgraph: unknown format '%s' (text or jsonl)",
						optarg) + 1;
			break;
		case O_GOID:
			if (parse_goids(optarg, a))
				return gt_error("funcgraph: invalid --goid '%s'", optarg) + 1;
			break;
		case O_MINDUR:
			if (gt_parse_duration(optarg, &a->min_dur))
				return gt_error("funcgraph: invalid duration '%s'", optarg) + 1;
			break;
		case O_DEPTH: {
			long v = strtol(optarg, &end, 10);

			if (*end || v <= 0 || v > INT_MAX)
				return gt_error("funcgraph: invalid depth '%s'", optarg) + 1;
			a->depth = (int)v;
			break;
		}
		case O_FOLDED:
			a->folded = optarg;
			break;
		case O_SPEEDSCOPE:
			a->speedscope = optarg;
			break;
		case O_JSON:
		case O_JSONGZ:
			if (a->json)
				return gt_error("funcgraph: give one of --json and --json-gz, once") + 1;
			a->json = optarg;
			a->json_gz = c == O_JSONGZ;
			break;
		case O_PPROF:
			a->pprof = optarg;
			break;
		case O_NOSUM:
			a->summary = false;
			break;
		case 'd':
			if (gt_parse_duration(optarg, &a->duration))
				return gt_error("funcgraph: invalid duration '%s'", optarg) + 1;
			break;
		case O_MAXP:
			a->max_probes = strtol(optarg, &end, 10);
			if (*end || a->max_probes <= 0)
				return gt_error("funcgraph: invalid --max-probes '%s'", optarg) + 1;
			break;
		case 'y':
			a->yes = true;
			break;
		case O_ATTACH:
			if (!strcmp(optarg, "auto"))
				a->mode = MODE_AUTO;
			else if (!strcmp(optarg, "multi"))
				a->mode = MODE_MULTI;
			else if (!strcmp(optarg, "single"))
				a->mode = MODE_SINGLE;
			else
				return gt_error("funcgraph: unknown attach mode '%s'", optarg) + 1;
			break;
		case O_FLOOR:
			a->floor = true;
			break;
		case O_TIMING:
			a->timing = true;
			break;
		case O_STACK:
			a->stack = true;
			break;
		case O_STACK_SIZE:
			if (gt_stack_size_parse(optarg, &a->stack_size))
				return gt_error("funcgraph: invalid --stack-size '%s' (a multiple of 8 "
						"from %d to %d bytes)", optarg, GT_STACK_MIN,
						GT_STACK_MAX) + 1;
			break;
		case O_UNWIND:
			if (gt_unwind_parse(optarg, &a->unwind))
				return gt_error("funcgraph: unknown --unwind '%s' (auto, dwarf, "
						"pclntab or fp)", optarg) + 1;
			break;
		case O_ARGS:
		case O_FILTER:
		case O_STRSIZE:
		case O_ELEMS:
		case O_ARGS_DEPTH:
		case O_ARGS_SIZE:
			if (parse_args_opt(c, optarg, a))
				return EXIT_USAGE;
			break;
		case 'q':
			gt_quiet = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			short_usage();
			return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dd = i;
			break;
		}
	if (a->pid) {
		if (dd >= 0)
			return gt_error("funcgraph: -p PID and a program to launch are exclusive") + 1;
		a->inc = argv + optind;
		a->ninc = argc - optind;
	} else if (dd >= 0) {
		a->inc = argv + optind;
		a->ninc = dd - optind;
		a->cmd = argv + dd + 1;
		if (!a->cmd[0])
			return gt_error("funcgraph: no program after '--'") + 1;
	} else {
		a->inc = argv + optind;
		a->ninc = argc - optind > 0 ? 1 : 0;
		a->cmd = argc - optind > 1 ? argv + optind + 1 : NULL;
		if (!a->cmd && a->ninc) {
			gt_error("funcgraph: no program to launch and no -p PID");
			short_usage();
			return EXIT_USAGE;
		}
	}
	if (a->ninc <= 0) {
		gt_error("funcgraph: no function pattern");
		short_usage();
		return EXIT_USAGE;
	}
	return split_selections(a) ? EXIT_USAGE : 0;
}

struct fg_run {
	FILE *dump;		/* GOTRACE_FG_DUMP=FILE: every raw event, one line
				 * (ts kind goid dist func tid flags), for debugging */
	struct pairing *pr;
	struct gt_stacks *stacks;	/* --stack */
	const struct fg_func *funcs;	/* link-time entry sites, for --stack */
	uint32_t nfuncs;
	struct ga_session *args;	/* --args */
	uint64_t *entry_site;		/* --args: link-time address of each entry probe */
	uint64_t events;
	int err;
};

/* Key of a held stack: the call's track and entry time (pairing_call's
 * goid, g0 and start_ns). */
#define STACK_K1(goid, g0) (((uint64_t)(goid) << 1) | (g0))

/* --args: a copy of the values an event carries, for the pairing engine
 * to keep with its call; NULL if it carries none.  The first entry event
 * gives the load bias (its probe's runtime vs link-time address). */
static struct fg_vals *event_vals(struct fg_run *r, const struct fg_event *e, size_t size)
{
	const struct ga_hdr *h = (const void *)(e + 1);
	struct fg_vals *v;

	if (!r->args || !(e->flags & FG_F_ARGS) || size < sizeof(*e) + sizeof(*h))
		return NULL;
	if (e->kind == FG_KIND_ENTRY && e->func < r->nfuncs)
		ga_session_learn_bias(r->args, h->ip, r->entry_site[e->func]);
	v = malloc(sizeof(*v) + size - sizeof(*e));
	if (!v)
		return NULL;
	v->len = size - sizeof(*e);
	memcpy(v->bytes, h, v->len);
	return v;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct fg_run *r = ctx;
	const struct fg_event *e = data;
	bool g0 = e->flags & FG_F_G0;
	int err = 0;

	if (size < sizeof(*e))
		return 0;
	r->events++;
	if (r->dump)
		fprintf(r->dump, "%llu k%u g%lld d%llu f%u t%u fl%u\n", (unsigned long long)e->ts_ns,
			e->kind, (long long)e->goid, (unsigned long long)e->dist, e->func, e->tid, e->flags);
	switch (e->kind) {
	case FG_KIND_ENTRY:
		if ((e->flags & FG_F_STACK) && r->stacks &&
		    size >= sizeof(*e) + sizeof(struct gt_stack_hdr)) {
			/* unwind now, while the process's maps are those of
			 * the capture; hold the stack until the call ends */
			const struct pairing_stats *ps = pairing_stats(r->pr);
			uint64_t dups = ps->dup_entries, bad = ps->bad_goid;
			struct gt_stack *st = gt_stacks_unwind(
				r->stacks, (const void *)(e + 1),
				size - sizeof(*e) - sizeof(struct gt_stack_hdr), e->ts_ns,
				((const struct gt_stack_hdr *)(e + 1))->regs.pc,
				e->func < r->nfuncs ? r->funcs[e->func].site : 0);

			err = pairing_entry(r->pr, e->goid, g0, e->dist, e->func, e->ts_ns);
			if (!st)
				break;
			/* an entry the engine dropped (the prologue re-run
			 * after morestack, no goroutine) never prints */
			if (err || ps->dup_entries != dups || ps->bad_goid != bad)
				free(st);
			else
				err = gt_stacks_put(r->stacks, STACK_K1(e->goid, g0), e->ts_ns, st);
			break;
		}
		err = pairing_entry_data(r->pr, e->goid, g0, e->dist, e->func, e->ts_ns,
					 event_vals(r, e, size));
		break;
	case FG_KIND_RET:
		err = pairing_ret_data(r->pr, e->goid, g0, e->dist, e->func, e->ts_ns,
				       event_vals(r, e, size));
		break;
	case FG_KIND_MORESTACK:
		err = pairing_morestack(r->pr, e->goid, false, e->dist, e->ts_ns);
		break;
	case FG_KIND_GEXIT:
		err = pairing_gexit(r->pr, e->goid, e->ts_ns);
		break;
	case FG_KIND_UNWIND:
		err = pairing_unwind_to(r->pr, e->goid, g0, e->dist, e->ts_ns);
		break;
	}
	if (err) {
		r->err = err;
		return err;
	}
	return 0;
}

static uint64_t counter_sum(struct funcgraph_bpf *skel, __u32 idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	__u64 *v;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &idx, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* --bench-timing: what a probe hit costs in the BPF program, and the
 * reader's CPU per event (the process's own, not the traced child's). */
static void report_timing(struct funcgraph_bpf *skel, const struct rusage *ru0, uint64_t events)
{
	uint64_t ns = counter_sum(skel, FG_CNT_BENCH_NS), hits = counter_sum(skel, FG_CNT_BENCH_HITS);
	struct rusage ru;
	double cpu;

	getrusage(RUSAGE_SELF, &ru);
	cpu = (ru.ru_utime.tv_sec - ru0->ru_utime.tv_sec + ru.ru_stime.tv_sec - ru0->ru_stime.tv_sec) *
		      1e9 +
	      (ru.ru_utime.tv_usec - ru0->ru_utime.tv_usec + ru.ru_stime.tv_usec - ru0->ru_stime.tv_usec) *
		      1e3;
	fprintf(stderr, "funcgraph: bench-timing: %" PRIu64 " probe hits, %.1f ns each in BPF; "
		"%" PRIu64 " events, %.1f ns of reader CPU each\n", hits, hits ? (double)ns / hits : 0,
		events, events ? cpu / events : 0);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("GOTRACE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void attach_progress(size_t done, size_t total, void *arg)
{
	gt_progress("funcgraph: attached %zu/%zu probes", done, total);
}

/* Open and load the BPF object; *multi says whether fg_multi was loaded
 * for uprobe_multi links. */
/* --args: the plans into their map (index 0 stays unused: "no plan"). */
static int load_plans(struct funcgraph_bpf *skel, const struct ga_session *args)
{
	int fd = bpf_map__fd(skel->maps.plans);

	for (uint32_t i = 1; i < ga_session_nplans(args); i++)
		if (bpf_map_update_elem(fd, &i, ga_session_plan(args, i), BPF_ANY))
			return -errno;
	return 0;
}

static int load_bpf(struct funcgraph_bpf **out, const struct gosym_runtime_offsets *ro,
		    pid_t pid, bool want_multi, bool floor, uint32_t stack_size,
		    const struct ga_session *args, uint32_t args_area, bool timing, bool *multi)
{
	struct bpf_program *pm, *off_m, *off_s;
	struct funcgraph_bpf *skel;
	int err;

	*out = NULL;
	skel = funcgraph_bpf__open();
	if (!skel)
		return -errno ? -errno : -EINVAL;
	skel->rodata->targ_tgid = pid;
	skel->rodata->off_stack_hi = ro->g_stack_hi;
	skel->rodata->off_goid = ro->g_goid;
	skel->rodata->off_g_m = ro->g_m;
	skel->rodata->off_m_g0 = ro->m_g0;
	skel->rodata->off_m_curg = ro->m_curg;
	skel->rodata->tls_g = ro->tls_g;
	skel->rodata->stack_size = stack_size;
	skel->rodata->wake_bytes = GR_WAKE_BYTES(FG_RINGBUF_BYTES);
	skel->rodata->bench_timing = timing;
	if (args) {
		skel->rodata->args_area = args_area;
		err = bpf_map__set_max_entries(skel->maps.plans, ga_session_nplans(args));
		if (err) {
			funcgraph_bpf__destroy(skel);
			return err;
		}
	}
	/* --bench-floor: the empty programs at the same sites */
	pm = floor ? skel->progs.fg_empty_multi : skel->progs.fg_multi;
	off_m = floor ? skel->progs.fg_multi : skel->progs.fg_empty_multi;
	off_s = floor ? skel->progs.fg_single : skel->progs.fg_empty_single;
	bpf_program__set_autoload(off_m, false);
	bpf_program__set_autoload(off_s, false);
	err = bpf_map__set_max_entries(skel->maps.events, FG_RINGBUF_BYTES);
	if (!err && want_multi) {
		err = uprobes_prepare_multi(pm);
		/* the empty program also serves for trial links */
		if (!err && !floor) {
			bpf_program__set_autoload(skel->progs.fg_empty_multi, true);
			err = uprobes_prepare_multi(skel->progs.fg_empty_multi);
		}
	} else if (!err) {
		err = bpf_program__set_autoload(pm, false);
	}
	if (!err)
		err = funcgraph_bpf__load(skel);
	if (!err && args)
		err = load_plans(skel, args);
	if (err) {
		funcgraph_bpf__destroy(skel);
		return err;
	}
	*multi = want_multi;
	*out = skel;
	return 0;
}

/*
 * Attach every probe of pr: one uprobe_multi link if the program was
 * loaded for it (*multi), else (or, in auto mode, when that fails) one
 * perf-event uprobe per probe.  Sites the kernel refuses are found and
 * their functions left out.  Prints its own error; 0 or -1.
 */
static int attach_probes(const struct fg_args *a, struct funcgraph_bpf *skel,
			 struct fg_probes *pr, const struct gt_target *t, struct uprobes **ups,
			 bool *multi)
{
	struct bpf_program *pm = a->floor ? skel->progs.fg_empty_multi : skel->progs.fg_multi;
	struct bpf_program *ps = a->floor ? skel->progs.fg_empty_single : skel->progs.fg_single;
	int err = 0;

	if (*multi) {
		err = uprobes_attach(ups, UPROBES_MULTI, pm, t->exe_open, pr->offsets, pr->cookies,
				     pr->n, t->pid, NULL, NULL);
		if (err == -524 || err == -EINVAL) {
			/* one refused site fails the whole link: find them */
			bool *bad = calloc(pr->n, sizeof(*bad));
			int nbad = -ENOMEM;

			gt_progress("funcgraph: the kernel refused a probe site; looking for it");
			if (bad)
				nbad = uprobe_multi_find_refused(
					bpf_program__fd(skel->progs.fg_empty_multi), t->exe_open,
					pr->offsets, pr->n, t->pid, bad);
			if (nbad > 0) {
				fg_probes_drop(pr, bad);
				err = pr->n ? uprobes_attach(ups, UPROBES_MULTI, pm, t->exe_open,
							     pr->offsets, pr->cookies, pr->n,
							     t->pid, NULL, NULL)
					    : -ENOENT;
			}
			free(bad);
		}
		if (err && a->mode == MODE_AUTO) {
			gt_warn("uprobe_multi attach failed (%s); one perf-event uprobe per probe",
				strerror(-err));
			*multi = false;
		}
	}
	if (!*multi) {
		if (pr->n > 1000)
			gt_progress("funcgraph: attaching %zu probes one by one (no uprobe_multi)",
				    pr->n);
		err = uprobes_attach(ups, UPROBES_SINGLE, ps, t->exe_open, pr->offsets, pr->cookies,
				     pr->n, t->pid, attach_progress, NULL);
	}
	if (err) {
		gt_error("funcgraph: cannot attach %zu uprobes to '%s': %s", pr->n, t->exe,
			 strerror(-err));
		return -1;
	}
	return 0;
}

/*
 * Read events until the target exits, a stop is requested (in launch mode:
 * passed on to the program, which then exits), the deadline passes or the
 * output stream fails.
 * 0, or -1 after printing an error.
 */
static int trace_loop(struct ring_buffer *rb, struct fg_run *run, struct gt_target *t,
		      uint64_t deadline, const struct gt_outfile *stream)
{
	int err;

	for (;;) {
		err = ring_buffer__poll(rb, 50);
		if (err < 0 && err != -EINTR) {
			gt_error("funcgraph: reading events: %s", strerror(-err));
			return -1;
		}
		if (run->err) {
			gt_error("funcgraph: %s", strerror(-run->err));
			return -1;
		}
		if (gt_target_exited(t))
			return 0;
		if (gt_stop_requested()) {
			if (!t->launched)
				return 0;
			/* launch mode: the program gets the signal too (or we
			 * forward it); keep tracing until it is gone */
			gt_target_forward_stop(t);
		}
		if (deadline && gt_now_ns() >= deadline)
			return 0;
		/* the output failed (full disk): its commit reports it */
		if (gt_outfile_error(stream))
			return 0;
	}
}

/*
 * --args / --filter: plans for every traced function, their indices in
 * the probes' cookies, and each function's entry probe address (for the
 * load bias).  Prints its own errors; 0 or -1.
 */
static int setup_args(const struct fg_args *a, struct gosym *gs, const char *exe,
		      struct fg_probes *pr, struct ga_session **out, uint64_t **entry_site)
{
	uint32_t *plan_in = calloc(pr->nfuncs + 1, sizeof(*plan_in));
	uint32_t *plan_out = calloc(pr->nfuncs + 1, sizeof(*plan_out));
	bool *filt = calloc(pr->nfuncs + 1, sizeof(*filt));
	struct ga_session *s = NULL;
	char why[512] = "";
	size_t notes = 0;
	int err, ret = -1;

	*entry_site = calloc(pr->nfuncs + 1, sizeof(**entry_site));
	if (!plan_in || !plan_out || !filt || !*entry_site) {
		gt_error("funcgraph: out of memory");
		goto out;
	}
	err = ga_session_open(gs, exe, &a->args, &s, why, sizeof(why));
	if (err) {
		gt_error("funcgraph: %s", err == -ENOMEM ? "out of memory" : why);
		goto out;
	}
	for (uint32_t i = 0; i < pr->nfuncs; i++) {
		struct gosym_func f = { .name = pr->funcs[i].name, .entry = pr->funcs[i].entry,
					.end = pr->funcs[i].end, .flag = pr->funcs[i].flag };
		const char *note;

		err = ga_session_func(s, i, &f, &plan_in[i], &plan_out[i], &filt[i], &note);
		if (err) {
			gt_error("funcgraph: --args: %s", strerror(-err));
			goto out;
		}
		if (note && notes++ < 5)
			gt_warn("--args: %s", note);
	}
	if (notes > 5)
		gt_warn("--args: %zu more functions whose values can't be shown", notes - 5);
	if (ga_session_finish(s, why, sizeof(why))) {
		gt_error("funcgraph: %s", why);
		goto out;
	}
	for (size_t k = 0; k < pr->n; k++) {
		uint32_t fi = (uint32_t)pr->cookies[k];
		unsigned kind = (pr->cookies[k] >> FG_COOKIE_KIND_SHIFT) & 0xff;

		if (fi >= pr->nfuncs || (kind != FG_KIND_ENTRY && kind != FG_KIND_RET))
			continue;
		pr->cookies[k] |= FG_COOKIE_PLAN(kind == FG_KIND_ENTRY ? plan_in[fi] : plan_out[fi]) |
				  (filt[fi] ? FG_COOKIE_FILTER : 0);
		if (kind == FG_KIND_ENTRY && gosym_offset_to_vaddr(gs, pr->offsets[k], &(*entry_site)[fi]))
			(*entry_site)[fi] = pr->funcs[fi].entry;
	}
	gt_progress("funcgraph: --args: %u read plans", ga_session_nplans(s) - 1);
	*out = s;
	s = NULL;
	ret = 0;
out:
	ga_session_free(s);
	free(plan_in);
	free(plan_out);
	free(filt);
	return ret;
}

int cmd_funcgraph(int argc, char **argv)
{
	struct fg_args a = { 0 };
	struct gt_target t = GT_TARGET_INIT;
	struct gosym *gs = NULL;
	struct gosym_runtime_offsets ro;
	struct fg_probes pr = { 0 };
	struct funcgraph_bpf *skel = NULL;
	struct uprobes *ups = NULL;
	struct ring_buffer *rb = NULL;
	struct fg_output *out = NULL;
	struct fg_run run = { 0 };
	const struct gosym_info *info;
	struct gosym_go_facts facts;
	const char **names = NULL;
	struct pprof_func *ppf = NULL;
	bool *noret = NULL;
	enum { OUT_STREAM, OUT_FOLDED, OUT_JSON, OUT_SPEEDSCOPE, OUT_PPROF, NOUT };
	struct gt_outfile *files[NOUT] = { NULL };
	FILE *outf = NULL;
	bool multi = false, ms_ok, gx_ok, failed;
	uint64_t t0, deadline = 0, tstart;
	size_t nfunc_probes;
	struct rusage ru0;
	int err, status = 1;

	err = parse_args(argc, argv, &a);
	if (err)
		return err < 0 ? 0 : EXIT_USAGE;
	if (a.speedscope && !a.json) {
		gt_error("funcgraph: --speedscope needs --json FILE");
		return EXIT_USAGE;
	}
	if (a.stack && (a.args.mode != GA_MODE_OFF || a.args.nfilters)) {
		gt_error("funcgraph: --stack and --args/--filter can't be used together yet");
		status = EXIT_USAGE;
		goto cleanup;
	}
	/* every output, before the program runs (output/outfile.h) */
	{
		const char *paths[NOUT] = { a.out_path ? a.out_path : "-", a.folded, a.json,
					    a.speedscope, a.pprof };

		for (int i = 0; i < NOUT; i++) {
			if (paths[i] && gt_outfile_open(paths[i], &files[i])) {
				gt_error("funcgraph: cannot open '%s': %s", paths[i],
					 gt_outfile_errmsg());
				goto cleanup;
			}
		}
		outf = gt_outfile_stdio(files[OUT_STREAM]);
		if (!outf) {
			gt_error("funcgraph: out of memory");
			goto cleanup;
		}
	}
	libbpf_set_print(libbpf_quiet);
	gt_signals_install();

	/* the target and its symbols */
	if (a.pid) {
		err = gt_target_attach(a.pid, &t);
		if (err) {
			gt_error("funcgraph: %s", gt_target_errmsg());
			goto cleanup;
		}
	} else {
		if (access(a.cmd[0], F_OK) == 0 && access(a.cmd[0], X_OK) != 0) {
			gt_error("funcgraph: '%s' is not executable", a.cmd[0]);
			goto cleanup;
		}
		err = gt_target_launch(a.cmd, &t);
		if (err) {
			gt_error("funcgraph: %s", gt_target_errmsg());
			goto cleanup;
		}
	}
	err = gosym_open(t.exe_open, &gs);
	if (err) {
		gt_error("funcgraph: '%s': %s", t.exe, gosym_errmsg());
		goto cleanup;
	}
	info = gosym_info(gs);
	if (strcmp(info->arch, GOTRACE_ARCH)) {
		gt_error("funcgraph: '%s' is a %s binary; this gotrace traces %s", t.exe, info->arch,
			 GOTRACE_ARCH);
		goto cleanup;
	}
	gosym_go_facts(gs, &facts);
	if (!facts.g_in_register) {
		gt_error("funcgraph: '%s' was built by %s; funcgraph needs Go >= 1.17 "
			 "(the register ABI keeps g in R14)", t.exe, info->goversion);
		goto cleanup;
	}
	err = gosym_runtime_offsets(gs, &ro);
	if (err) {
		gt_error("funcgraph: '%s': no runtime.g offsets: %s", t.exe, gosym_errmsg());
		goto cleanup;
	}

	/* probes */
	gt_progress("funcgraph: decoding functions of %s (%s)", t.exe, info->goversion);
	/* --args reads the arguments at the entry probe: its site may skip no
	 * instruction that writes an argument register (docs/probes.md) */
	if (a.args.mode != GA_MODE_OFF || a.args.nfilters)
		pr.site_flags = SITES_KEEP_ARGS;
	err = fg_probes_build(gs, a.inc, a.ninc, a.exc, a.nexc, &pr);
	if (err == -ENOENT && pr.pattern_hits) {
		for (int k = 0; k < a.ninc; k++) {
			if (pr.pattern_hits[k])
				continue;
			gt_error("funcgraph: pattern '%s' matches no function in '%s'", a.inc[k],
				 t.exe);
			fg_suggest(gs, a.inc[k], 5);
		}
		goto cleanup;
	} else if (err) {
		gt_error("funcgraph: cannot place probes: %s", strerror(-err));
		goto cleanup;
	}
	if (!pr.nfuncs) {
		gt_error("funcgraph: no traceable function left (%zu matched, %zu excluded or skipped)",
			 pr.matched, pr.skipped);
		goto cleanup;
	}
	nfunc_probes = pr.n;
	gt_progress("funcgraph: %u functions, %zu probes (%u entries, %zu RET sites)%s", pr.nfuncs,
		    nfunc_probes, pr.nfuncs, nfunc_probes - pr.nfuncs,
		    pr.skipped ? "; some skipped, see warnings" : "");
	if ((long)nfunc_probes > a.max_probes && !a.yes) {
		gt_error("funcgraph: %zu probes is more than --max-probes %ld; narrow the patterns "
			 "(-x excludes) or pass --yes.  Heaviest packages:", nfunc_probes,
			 a.max_probes);
		fg_heaviest_packages(&pr, 5);
		goto cleanup;
	}
	if ((a.args.mode != GA_MODE_OFF || a.args.nfilters) &&
	    setup_args(&a, gs, t.exe_open, &pr, &run.args, &run.entry_site))
		goto cleanup;
	ms_ok = !fg_probes_add_special(gs, &pr, "runtime.morestack", FG_KIND_MORESTACK,
				       FG_COOKIE_TLS);
	gx_ok = !fg_probes_add_special(gs, &pr, "runtime.goexit0", FG_KIND_GEXIT, FG_COOKIE_G0);
	if (fg_probes_add_special(gs, &pr, "runtime.deferreturn", FG_KIND_UNWIND, 0))
		gt_warn("no runtime.deferreturn: frames a panic skips close at the next shallower call");
	if (!ms_ok)
		gt_warn("no runtime.morestack: duplicate entries are dropped by identity");
	if (!gx_ok)
		gt_warn("no runtime.goexit0: calls left by runtime.Goexit show as open");

	run.funcs = pr.funcs;
	run.nfuncs = pr.nfuncs;

	/* BPF */
	{
		struct gosym_abi abi = { 0 };

		if (run.args)
			gosym_abi(gs, &abi);
		err = load_bpf(&skel, &ro, t.pid, a.mode != MODE_SINGLE, a.floor,
			       a.stack ? a.stack_size : 0, run.args, (uint32_t)abi.stack_args, a.timing,
			       &multi);
		if (err && a.mode == MODE_AUTO)
			err = load_bpf(&skel, &ro, t.pid, false, a.floor, a.stack ? a.stack_size : 0,
				       run.args, (uint32_t)abi.stack_args, a.timing, &multi);
	}
	if (err) {
		gt_error("funcgraph: cannot load the BPF program: %s", strerror(-err));
		goto cleanup;
	}

	/* outputs */
	names = calloc(pr.nfuncs, sizeof(*names));
	if (!names) {
		gt_error("funcgraph: out of memory");
		goto cleanup;
	}
	noret = calloc(pr.nfuncs, sizeof(*noret));
	if (!noret) {
		gt_error("funcgraph: out of memory");
		goto cleanup;
	}
	for (uint32_t i = 0; i < pr.nfuncs; i++) {
		names[i] = pr.funcs[i].name;
		noret[i] = pr.funcs[i].nrets == 0;
	}
	if (a.pprof) {
		/* pprof locations: the function's entry and its file:line */
		ppf = calloc(pr.nfuncs, sizeof(*ppf));
		if (!ppf) {
			gt_error("funcgraph: out of memory");
			goto cleanup;
		}
		for (uint32_t i = 0; i < pr.nfuncs; i++) {
			struct gosym_func gf;

			ppf[i].name = pr.funcs[i].name;
			ppf[i].addr = pr.funcs[i].entry;
			if (!gosym_lookup_pc(gs, pr.funcs[i].entry, &gf)) {
				ppf[i].file = gf.file;
				ppf[i].line = gf.line;
			}
		}
	}
	{
		struct fg_output_opts oo = {
			.out = outf, .jsonl = a.jsonl, .summary = a.summary,
			.folded = files[OUT_FOLDED], .json = files[OUT_JSON],
			.json_gzip = a.json_gz, .speedscope = files[OUT_SPEEDSCOPE],
			.pprof = files[OUT_PPROF], .pprof_funcs = ppf,
			.goids = a.goids, .ngoids = a.ngoids, .min_dur_ns = a.min_dur,
			.max_depth = a.depth, .names = names, .nfuncs = pr.nfuncs,
			.binary = t.exe, .go_version = info->goversion, .args = run.args,
		};

		if (a.stack) {
			err = gt_stacks_new(a.unwind, a.stack_size, &run.stacks);
			if (err) {
				gt_error("funcgraph: --stack: %s", strerror(-err));
				goto cleanup;
			}
			oo.stacks = run.stacks;
			run.funcs = pr.funcs;
			run.nfuncs = pr.nfuncs;
		}
		struct pairing_opts po = { .morestack_markers = ms_ok, .on_call = fg_output_call,
					   .on_idle = fg_output_idle, .noret = noret,
					   .nfuncs = pr.nfuncs, .free_data = free };

		/* the writers own these files from here on */
		files[OUT_FOLDED] = files[OUT_JSON] = files[OUT_SPEEDSCOPE] = files[OUT_PPROF] = NULL;
		err = fg_output_new(&oo, &out);
		if (err == -EOPNOTSUPP) {
			gt_error("funcgraph: --json is not available in this build (no Chrome trace writer)");
			goto cleanup;
		} else if (err) {
			gt_error("funcgraph: cannot create '%s': %s", a.json ? a.json : "output", strerror(-err));
			goto cleanup;
		}
		po.arg = out;
		run.pr = pairing_new(&po);
		if (!run.pr) {
			gt_error("funcgraph: out of memory");
			goto cleanup;
		}
		for (uint32_t i = 0; i < pr.nfuncs; i++)
			if (!strcmp(pr.funcs[i].name, "runtime.deferreturn"))
				pairing_set_unwind_func(run.pr, i);
	}
	if (getenv("GOTRACE_FG_DUMP"))
		run.dump = fopen(getenv("GOTRACE_FG_DUMP"), "w");
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &run, NULL);
	if (!rb) {
		gt_error("funcgraph: cannot create the ring buffer: %s", strerror(errno));
		goto cleanup;
	}

	/* attach */
	tstart = gt_now_ns();
	if (attach_probes(&a, skel, &pr, &t, &ups, &multi))
		goto cleanup;
	/* what each hit will cost: docs/probes.md, `gotrace doctor` */
	gt_progress("funcgraph: attached %zu probes (%zu emulated, %zu single-stepped) with %s in "
		    "%.1f ms; tracing pid %d%s", pr.n, fg_probes_count(&pr, PROBE_EMULATED, false),
		    fg_probes_count(&pr, PROBE_SSTEP, false),
		    uprobes_mode_name(multi ? UPROBES_MULTI : UPROBES_SINGLE),
		    (gt_now_ns() - tstart) / 1e6, (int)t.pid,
		    a.pid ? ", Ctrl-C to stop" : "");

	if (run.stacks)
		gt_stacks_preload(run.stacks, t.pid, t.exe_open);
	t0 = gt_now_ns();
	fg_output_set_t0(out, t0);
	if (a.duration)
		deadline = t0 + a.duration;
	if (t.launched) {
		err = gt_target_release(&t);
		if (err) {
			gt_error("funcgraph: %s", gt_target_errmsg());
			goto cleanup;
		}
	}
	/* --stack: the maps of the program itself, i.e. after the exec, read
	 * before it can exit (a zombie's maps are empty) */
	if (run.stacks && (err = gt_stacks_attach(run.stacks, t.pid, t.launched ? t.exe_open : NULL)))
		gt_warn("--stack: cannot read /proc/%d/maps: %s", (int)t.pid, strerror(-err));

	/* trace */
	getrusage(RUSAGE_SELF, &ru0);
	failed = trace_loop(rb, &run, &t, deadline, files[OUT_STREAM]) < 0;
	ring_buffer__consume(rb);
	if (a.timing)
		report_timing(skel, &ru0, run.events);
	{
		uint64_t drops = counter_sum(skel, FG_CNT_DROPS);
		uint64_t rf = counter_sum(skel, FG_CNT_READFAIL);
		uint64_t sdrops = counter_sum(skel, FG_CNT_STACK_DROPS);
		const struct pairing_stats *st;
		const char *what = NULL;
		size_t nprobes = uprobes_count(ups);

		if (run.stacks)
			gt_stacks_count_lost(run.stacks, sdrops);
		tstart = gt_now_ns();
		uprobes_free(ups);
		ups = NULL;
		gt_progress("funcgraph: detached %zu probes in %.1f ms", nprobes,
			    (gt_now_ns() - tstart) / 1e6);
		pairing_finish(run.pr, gt_now_ns());
		err = fg_output_finish(out, &what);
		st = pairing_stats(run.pr);
		gt_progress("funcgraph: %" PRIu64 " events, %" PRIu64 " calls returned, %" PRIu64
			    " unwound, %" PRIu64 " open, %" PRIu64 " duplicate entries dropped, %"
			    PRIu64 " unmatched returns",
			    run.events, st->rets, st->unwound, st->open, st->dup_entries,
			    st->unmatched_rets);
		if (drops)
			gt_warn("%" PRIu64 " events lost (ring buffer full): call graphs are incomplete",
				drops);
		if (rf)
			gt_warn("%" PRIu64 " probe hits could not read the goroutine id", rf);
		if (sdrops)
			gt_warn("%" PRIu64 " stacks lost (ring buffer full; their calls are kept "
				"without a stack): a smaller --stack-size helps", sdrops);
		if (st->bad_goid > rf)
			gt_progress("funcgraph: %" PRIu64 " probe hits on the scheduler stack with "
				    "no goroutine were ignored", st->bad_goid - rf);
		if (run.args) {
			uint64_t lost = counter_sum(skel, FG_CNT_ARGS_LOST);
			uint64_t filt = counter_sum(skel, FG_CNT_FILTERED);

			if (lost)
				gt_warn("%" PRIu64 " probe hits could not read their values (no "
					"per-thread buffer): those calls show <values lost>", lost);
			if (a.args.nfilters)
				gt_progress("funcgraph: --filter left out %" PRIu64 " calls", filt);
		}
		if (err) {
			gt_error("funcgraph: cannot write '%s': %s", what ? what : "output",
				 strerror(-err));
			goto cleanup;
		}
	}
	err = gt_outfile_commit(files[OUT_STREAM]);
	files[OUT_STREAM] = NULL;
	if (err) {
		gt_error("funcgraph: cannot write '%s': %s", a.out_path ? a.out_path : "stdout",
			 gt_outfile_errmsg());
		goto cleanup;
	}
	status = failed ? 1 : 0;
	if (t.launched) {
		int st;

		/* -d ended tracing, or the program is exiting: wait for it,
		 * still passing on Ctrl-C / SIGTERM */
		if (!gt_target_exited(&t))
			gt_progress("funcgraph: tracing stopped; waiting for pid %d to exit",
				    (int)t.pid);
		st = gt_target_wait(&t);
		if (st >= 0)
			status = st;
	}

cleanup:
	if (status && t.launched && t.released && !gt_target_exited(&t)) {
		/* a failure while the program runs: it goes on untraced, and
		 * gotrace still waits for it like a shell would */
		gt_progress("funcgraph: waiting for pid %d to exit", (int)t.pid);
		gt_target_wait(&t);
	}
	ring_buffer__free(rb);
	uprobes_free(ups);
	funcgraph_bpf__destroy(skel);
	for (int i = 0; i < NOUT; i++)
		gt_outfile_abort(files[i]);
	pairing_free(run.pr);
	fg_output_free(out);
	ga_session_free(run.args);
	free(run.entry_site);
	free(a.arg_specs);
	free(a.filters);
	for (int k = 0; a.inc_owned && k < a.ninc; k++)
		free(a.inc_owned[k]);
	free(a.inc_owned);
	gt_stacks_free(run.stacks);
	if (run.dump)
		fclose(run.dump);
	free(names);
	free(ppf);
	free(noret);
	fg_probes_release(&pr);
	gosym_free(gs);
	gt_target_free(&t);
	free(a.exc);
	free(a.goids);
	return status;
}
