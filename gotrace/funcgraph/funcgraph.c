// SPDX-License-Identifier: MIT
/*
 * gotrace funcgraph: per-goroutine call graphs of Go functions.
 *
 * An entry uprobe on every matched function and a uprobe on each of its RET
 * instructions (never a uretprobe: docs/go-runtime.md), one BPF program that sends (goid,
 * g.stack.hi - SP, cookie) per hit through a ring buffer, and the pairing
 * engine (pairing.c) that turns hits into calls.
 *
 * The steps (cmd_funcgraph): options -> outputs opened -> the session's
 * target, symbols and offsets -> the probes the patterns select -> BPF
 * object loaded -> writers and pairing -> probes attached -> the program
 * released -> events until the end (tracing/session.h) -> probes detached
 * -> graphs, summary and files written -> exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "funcgraph.h"
#include "bpf/funcgraph.skel.h"
#include "funcgraph/output.h"
#include "funcgraph/pairing.h"
#include "probes/funcs.h"
#include "args/session.h"
#include "gosym.h"
#include "gotrace.h"
#include "output/outfile.h"
#include "probes/sites.h"
#include "probes/uprobe_multi.h"
#include "tracing/clock.h"
#include "tracing/options.h"
#include "tracing/session.h"
#include "tracing/signals.h"
#include "tracing/stacks.h"

#define DEFAULT_MAX_PROBES 5000
#define FG_POLL_MS 50

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_text[] =
"usage: gotrace funcgraph [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funcgraph [OPTIONS] PATTERN PROGRAM [ARGS...]\n"
"       gotrace funcgraph [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"\n"
"Per-goroutine call graphs of the Go functions matching PATTERN, with entry\n"
"time, duration and self time of every call, and a per-function summary.\n"
"PROGRAM is launched and traced from its first instruction; -p attaches to a\n"
"running process.  Patterns are globs over function names ('*' also matches\n"
"'/' and '.'): 'main.*', 'net/http.(*Server).*'.  Needs Go >= 1.17 (amd64).\n"
"Options may also follow the patterns.\n"
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
"      --stack-size N       bytes of stack copied per call (default " STR(GT_STACK_DEFAULT) ", "
STR(GT_STACK_MIN) "\n"
"                           to " STR(GT_STACK_MAX) "; suffix k for KiB); the copy stops at the\n"
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
"                           64 to " STR(GA_BLOB_MAX) ")\n"
"  -d, --duration D         stop after D (e.g. 10s, 1m)\n"
"      --max-probes N       ask for --yes above N probes (default " STR(DEFAULT_MAX_PROBES) ")\n"
"  -y, --yes                attach even above --max-probes\n"
"      --attach MODE        auto (default), multi (uprobe_multi), single\n"
"                           (one perf-event uprobe per probe, the only way\n"
"                           before Linux 6.6: the kernel detaches those one at\n"
"                           a time, ~35-170 ms each: 1,000 probes take minutes)\n"
"      --buffer-size SIZE   ring buffer between BPF and gotrace (a power of two\n"
"                           from 4K to 1G); raise it if events are reported\n"
"                           dropped\n"
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
"  gotrace funcgraph --args --filter 'key ^= \"user:\"' 'main.(*Store).Get' ./bin\n"
"  gotrace funcgraph 'main.(*Store).Get(key, opts.TTL, $ret)' -- ./server\n";

static const char short_usage[] =
"usage: gotrace funcgraph [OPTIONS] PATTERN [PATTERN...] -- PROGRAM [ARGS...]\n"
"       gotrace funcgraph [OPTIONS] -p PID PATTERN [PATTERN...]\n"
"'gotrace funcgraph --help' for the options and examples.\n";

struct fg_opts {
	struct gt_trace_opts t;		/* the shared options; patterns in t.patterns */
	struct gt_strlist exclude;	/* -x */
	struct gt_outfile *folded, *pprof;
	uint64_t min_dur;		/* --min-duration */
	long depth;			/* --depth; 0: all */
	long max_probes;
	bool yes, no_summary;
	bool floor;			/* benchmark: bare uprobes at the same sites */
	bool timing;			/* benchmark: time spent in BPF and in the reader */
	struct ga_config args;		/* --args, --filter and their limits */
	struct gt_strlist specs, filters;
	char **patterns;		/* t.patterns, selections taken off (owned) */
};

/* Everything one run holds. */
struct fg_run {
	const struct fg_opts *o;
	struct gt_session s;
	struct func_probes pr;
	struct funcgraph_bpf *skel;
	bool morestack_ok;		/* runtime.morestack probed */
	const char **names;		/* by function index */
	bool *noret;			/* functions without a RET site */
	struct pprof_func *ppf;		/* --pprof locations */
	struct fg_output *out;
	struct pairing *pairing;
	struct gt_outfile *dump_file;	/* GOTRACE_FG_DUMP=FILE: every raw event, */
	FILE *dump;			/* one line (ts kind goid dist func tid flags) */
	struct ga_session *args;	/* --args */
	uint64_t *entry_site;		/* --args: link-time address of each entry probe */
	struct rusage ru0;		/* --bench-timing: at the start */
	uint64_t events;
	int err;
};

/* --args[=all|raw|SPEC]: a mode, and SPECs (repeatable). */
static int parse_args_mode(const char *v, void *dst)
{
	struct fg_opts *o = dst;
	enum ga_mode m = !v || !strcmp(v, "all") ? GA_MODE_ALL :
			 !strcmp(v, "raw") ? GA_MODE_RAW : GA_MODE_SELECT;

	if (o->args.mode != GA_MODE_OFF && o->args.mode != m)
		return gt_set_errmsg(-EINVAL, "give one of --args, --args=raw and --args=SPEC "
					      "(repeatable)");
	o->args.mode = m;
	if (m == GA_MODE_SELECT && gt_strlist_push(&o->specs, (char *)v))
		return gt_set_errmsg(-EINVAL, "out of memory");
	o->args.specs = o->specs.v;
	o->args.nspecs = o->specs.n;
	return 0;
}

/* --filter EXPR (repeatable), checked here: a usage error, not a late one. */
static int parse_filter(const char *v, void *dst)
{
	struct fg_opts *o = dst;
	char why[256];

	if (ga_filter_check(v, why, sizeof(why)))
		return gt_set_errmsg(-EINVAL, "%s", why);
	if (gt_strlist_push(&o->filters, (char *)v))
		return gt_set_errmsg(-EINVAL, "out of memory");
	o->args.filters = o->filters.v;
	o->args.nfilters = o->filters.n;
	return 0;
}

/* A pattern with a selection, 'main.F(key, opts.TTL, $ret)', is the
 * pattern 'main.F' plus --args='main.F(...)'.  0 or 1 (reported). */
static int split_selections(struct fg_opts *o)
{
	int n = o->t.npatterns;

	o->patterns = calloc(n + 1, sizeof(*o->patterns));
	if (!o->patterns)
		return gt_error("funcgraph: out of memory");
	for (int k = 0; k < n; k++) {
		const char *p = o->t.patterns[k];
		size_t gl = ga_spec_glob_len(p);

		if (gl < strlen(p) && o->args.mode == GA_MODE_RAW)
			return gt_error("funcgraph: '%s': --args=raw has no names to select", p);
		o->patterns[k] = strndup(p, gl);
		if (!o->patterns[k] || (gl < strlen(p) && gt_strlist_push(&o->specs, (char *)p)))
			return gt_error("funcgraph: out of memory");
		if (gl < strlen(p) && o->args.mode == GA_MODE_OFF)
			o->args.mode = GA_MODE_SELECT;
	}
	o->args.specs = o->specs.v;
	o->args.nspecs = o->specs.n;
	return 0;
}

/* GT_OPTS_RUN, or the exit status. */
static int parse_args(int argc, char **argv, struct fg_opts *o)
{
	const struct gt_opt own[] = {
		{ "exclude", 'x', GT_OPT_LIST, &o->exclude },
		{ "min-duration", 0, GT_OPT_DURATION, &o->min_dur, "e.g. 10us, 2ms" },
		{ "depth", 0, GT_OPT_UINT, &o->depth, "a depth from 1", 1, INT_MAX },
		{ "folded", 0, GT_OPT_OUTPUT, &o->folded },
		{ "pprof", 0, GT_OPT_OUTPUT, &o->pprof },
		{ "no-summary", 0, GT_OPT_FLAG, &o->no_summary },
		{ "max-probes", 0, GT_OPT_UINT, &o->max_probes, "a number from 1", 1, LONG_MAX },
		{ "yes", 'y', GT_OPT_FLAG, &o->yes },
		{ "bench-floor", 0, GT_OPT_FLAG, &o->floor },
		{ "bench-timing", 0, GT_OPT_FLAG, &o->timing },
		{ "args", 0, GT_OPT_FUNC, o, .parse = parse_args_mode, .optional = true },
		{ "filter", 0, GT_OPT_FUNC, o, .parse = parse_filter },
		{ "string-size", 0, GT_OPT_U32, &o->args.opts.string_size,
		  "1 to " STR(GA_READ_MAX) " bytes", 1, GA_READ_MAX },
		{ "elems", 0, GT_OPT_U32, &o->args.opts.elems, "0 to 1024", 0, 1024 },
		{ "args-depth", 0, GT_OPT_U32, &o->args.opts.depth, "0 to 8", 0, 8 },
		{ "args-size", 0, GT_OPT_U32, &o->args.opts.blob_max,
		  "64 to " STR(GA_BLOB_MAX) " bytes", 64, GA_BLOB_MAX },
		{ 0 }
	};
	const struct gt_cmd cmd = { "funcgraph", usage_text, short_usage,
				    GT_OPTS_ALL | GT_OPTS_PATTERNS, own };

	int ret;

	o->max_probes = DEFAULT_MAX_PROBES;
	o->args.opts = (struct ga_opts)GA_OPTS_DEFAULT;
	ret = gt_opts_parse(&cmd, argc, argv, &o->t);
	if (ret != GT_OPTS_RUN)
		return ret;
	if (split_selections(o))
		return EXIT_USAGE;
	if (o->t.stack && (o->args.mode != GA_MODE_OFF || o->args.nfilters))
		return gt_opts_usage_error(&o->t, "--stack and --args/--filter can't be used "
					   "together yet");
	return GT_OPTS_RUN;
}

static bool want_args(const struct fg_opts *o)
{
	return o->args.mode != GA_MODE_OFF || o->args.nfilters;
}

/* Key of a held stack: the call's track and entry time (pairing_call's
 * goid, g0 and start_ns). */
#define STACK_K1(goid, g0) (((uint64_t)(goid) << 1) | (g0))

/* --stack: an entry's stack unwound now, while the process's maps are
 * those of the capture, and held until the call ends. */
static int entry_with_stack(struct fg_run *r, const struct fg_event *e, size_t size)
{
	const struct pairing_stats *ps = pairing_stats(r->pairing);
	uint64_t dups = ps->dup_entries, bad = ps->bad_goid;
	bool g0 = e->flags & FG_F_G0;
	struct gt_stack *st = gt_stacks_unwind(
		r->s.stacks, (const void *)(e + 1), size - sizeof(*e) - sizeof(struct gt_stack_hdr),
		e->ts_ns, ((const struct gt_stack_hdr *)(e + 1))->regs.pc,
		e->func < r->pr.nfuncs ? r->pr.funcs[e->func].site : 0);
	int err = pairing_entry(r->pairing, e->goid, g0, e->dist, e->func, e->ts_ns);

	if (!st)
		return err;
	/* an entry the engine dropped (the prologue re-run after morestack,
	 * no goroutine) never prints */
	if (err || ps->dup_entries != dups || ps->bad_goid != bad) {
		free(st);
		return err;
	}
	return gt_stacks_put(r->s.stacks, STACK_K1(e->goid, g0), e->ts_ns, st);
}

/* --args: a copy of the values an event carries, for the pairing engine
 * to keep with its call; NULL if it carries none.  The first entry event
 * gives the load bias (its probe's runtime vs link-time address). */
static struct fg_vals *event_vals(struct fg_run *r, const struct fg_event *e, size_t size)
{
	const struct ga_hdr *h = (const void *)(e + 1);
	struct fg_vals *v;

	if (!r->args || !(e->flags & FG_F_ARGS) || size < sizeof(*e) + sizeof(*h))
		return NULL;
	if (e->kind == FG_KIND_ENTRY && e->func < r->pr.nfuncs)
		ga_session_learn_bias(r->args, h->ip, r->entry_site[e->func]);
	v = malloc(sizeof(*v) + size - sizeof(*e));
	if (!v)
		return NULL;
	v->len = size - sizeof(*e);
	memcpy(v->bytes, h, v->len);
	return v;
}

static int on_event(void *ctx, const void *data, size_t size)
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
		if ((e->flags & FG_F_STACK) && r->s.stacks &&
		    size >= sizeof(*e) + sizeof(struct gt_stack_hdr)) {
			err = entry_with_stack(r, e, size);
			break;
		}
		err = pairing_entry_data(r->pairing, e->goid, g0, e->dist, e->func, e->ts_ns,
					 event_vals(r, e, size));
		break;
	case FG_KIND_RET:
		err = pairing_ret_data(r->pairing, e->goid, g0, e->dist, e->func, e->ts_ns,
				       event_vals(r, e, size));
		break;
	case FG_KIND_MORESTACK:
		err = pairing_morestack(r->pairing, e->goid, false, e->dist, e->ts_ns);
		break;
	case FG_KIND_GEXIT:
		err = pairing_gexit(r->pairing, e->goid, e->ts_ns);
		break;
	case FG_KIND_UNWIND:
		err = pairing_unwind_to(r->pairing, e->goid, g0, e->dist, e->ts_ns);
		break;
	}
	if (err) {
		r->err = err;
		return err;
	}
	return 0;
}

/* The binary must keep g in a register (the program reads it from R14). */
static int check_binary(struct fg_run *run)
{
	const struct gosym_info *info = run->s.info;
	struct gosym_go_facts facts;

	gosym_go_facts(run->s.gs, &facts);
	if (!facts.g_in_register)
		return gt_error("funcgraph: '%s' was built by %s; funcgraph needs Go >= 1.17 "
				"(the register ABI keeps g in R14)", run->s.target.exe,
				info->goversion);
	return 0;
}

/*
 * --args / --filter: plans for every traced function, their indices in
 * the probes' cookies, and each function's entry probe address (for the
 * load bias).  Prints its own errors; 0 or 1.
 */
static int setup_args(const struct ga_config *cfg, struct gosym *gs, const char *exe,
		      struct func_probes *pr, struct ga_session **out, uint64_t **entry_site)
{
	uint32_t *plan_in = calloc(pr->nfuncs + 1, sizeof(*plan_in));
	uint32_t *plan_out = calloc(pr->nfuncs + 1, sizeof(*plan_out));
	bool *filt = calloc(pr->nfuncs + 1, sizeof(*filt));
	struct ga_session *s = NULL;
	char why[512] = "";
	size_t notes = 0;
	int err, ret = 1;

	*entry_site = calloc(pr->nfuncs + 1, sizeof(**entry_site));
	if (!plan_in || !plan_out || !filt || !*entry_site) {
		gt_error("funcgraph: out of memory");
		goto out;
	}
	err = ga_session_open(gs, exe, cfg, &s, why, sizeof(why));
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
	gt_progress("--args: %u read plans", ga_session_nplans(s) - 1);
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

/* The probes the patterns select, and the runtime's special ones. */
static int build_probes(struct fg_run *run)
{
	const struct fg_opts *o = run->o;
	struct gosym *gs = run->s.gs;
	struct func_probes *pr = &run->pr;
	const char *exe = run->s.target.exe;
	const struct func_select sel = { "funcgraph", o->patterns, o->t.npatterns, o->exclude.v,
					 o->exclude.n, o->max_probes, o->yes };

	/* --args reads the arguments at the entry probe: its site may skip no
	 * instruction that writes an argument register (docs/probes.md) */
	if (want_args(o))
		pr->site_flags = SITES_KEEP_ARGS;
	if (func_probes_select(gs, exe, run->s.info->goversion, &sel, pr)) {
		gt_session_interrupted(&run->s);	/* says so after a stop signal */
		return 1;
	}
	if (want_args(o) && setup_args(&o->args, gs, run->s.target.exe_open, pr, &run->args,
				       &run->entry_site))
		return 1;
	run->morestack_ok = !func_probes_add_special(gs, pr, "runtime.morestack", FG_KIND_MORESTACK,
						   FG_COOKIE_TLS);
	if (!run->morestack_ok)
		gt_warn("no runtime.morestack: duplicate entries are dropped by identity");
	if (func_probes_add_special(gs, pr, "runtime.goexit0", FG_KIND_GEXIT, FG_COOKIE_G0))
		gt_warn("no runtime.goexit0: calls left by runtime.Goexit show as open");
	if (func_probes_add_special(gs, pr, "runtime.deferreturn", FG_KIND_UNWIND, 0))
		gt_warn("no runtime.deferreturn: frames a panic skips close at the next shallower call");
	return 0;
}

/* --args: the plans into their map (index 0 stays unused: "no plan"). */
static int load_plans(struct funcgraph_bpf *skel, const struct ga_session *args)
{
	int fd = bpf_map__fd(skel->maps.plans);

	for (uint32_t i = 1; i < ga_session_nplans(args); i++)
		if (bpf_map_update_elem(fd, &i, ga_session_plan(args, i), BPF_ANY))
			return -errno;
	return 0;
}

/* gt_session_load()'s callback: open, configure and load the object; with
 * multi, fg_multi (and the empty program for trial links) are loaded for
 * uprobe_multi links. */
static int load_bpf(void *ctx, struct gt_session *s, bool multi)
{
	struct fg_run *run = ctx;
	bool floor = run->o->floor;
	uint32_t ring = s->opts->buffer_size ? s->opts->buffer_size : FG_RINGBUF_BYTES;
	struct bpf_program *pm, *off_m, *off_s;
	struct funcgraph_bpf *skel;
	int err = 0;

	funcgraph_bpf__destroy(run->skel);
	run->skel = skel = funcgraph_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	GT_SESSION_RUNTIME_RODATA(skel->rodata, s, ring);
	skel->rodata->stack_size = s->opts->stack ? s->opts->stack_size : 0;
	skel->rodata->bench_timing = run->o->timing;
	err = bpf_map__set_max_entries(skel->maps.events, ring);
	if (!err && run->args) {
		struct gosym_abi abi = { 0 };

		gosym_abi(s->gs, &abi);
		skel->rodata->args_area = (uint32_t)abi.stack_args;
		err = bpf_map__set_max_entries(skel->maps.plans, ga_session_nplans(run->args));
	}
	/* --bench-floor: the empty programs at the same sites */
	pm = floor ? skel->progs.fg_empty_multi : skel->progs.fg_multi;
	off_m = floor ? skel->progs.fg_multi : skel->progs.fg_empty_multi;
	off_s = floor ? skel->progs.fg_single : skel->progs.fg_empty_single;
	bpf_program__set_autoload(off_m, false);
	bpf_program__set_autoload(off_s, false);
	if (!err && multi) {
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
	if (!err && run->args)
		err = load_plans(skel, run->args);
	if (err) {
		funcgraph_bpf__destroy(skel);
		run->skel = NULL;
	}
	return err;
}

/* gt_session_attach()'s callback. */
static int attach_probes(void *ctx, struct gt_session *s, bool multi)
{
	struct fg_run *run = ctx;
	struct func_probes *pr = &run->pr;
	bool floor = run->o->floor;
	int err;

	err = func_probes_attach(pr, &s->ups, multi,
				 multi ? (floor ? run->skel->progs.fg_empty_multi : run->skel->progs.fg_multi)
				       : (floor ? run->skel->progs.fg_empty_single :
						  run->skel->progs.fg_single),
				 run->skel->progs.fg_empty_multi, s->target.exe_open, s->target.pid);
	/* what the probes attached cost (refused sites were left out) */
	snprintf(s->attach_note, sizeof(s->attach_note), "%zu emulated, %zu single-stepped",
		 func_probes_count(pr, PROBE_EMULATED, false), func_probes_count(pr, PROBE_SSTEP, false));
	return err;
}

/* Function names, RET-less functions and pprof locations by index. */
static int function_tables(struct fg_run *run)
{
	const struct func_probes *pr = &run->pr;

	run->names = calloc(pr->nfuncs, sizeof(*run->names));
	run->noret = calloc(pr->nfuncs, sizeof(*run->noret));
	if (run->o->pprof)
		run->ppf = calloc(pr->nfuncs, sizeof(*run->ppf));
	if (!run->names || !run->noret || (run->o->pprof && !run->ppf))
		return -ENOMEM;
	for (uint32_t i = 0; i < pr->nfuncs; i++) {
		struct gosym_func gf;

		run->names[i] = pr->funcs[i].name;
		run->noret[i] = pr->funcs[i].nrets == 0;
		if (!run->ppf)
			continue;
		/* pprof locations: the function's entry and its file:line */
		run->ppf[i].name = pr->funcs[i].name;
		run->ppf[i].addr = pr->funcs[i].entry;
		if (!gosym_lookup_pc(run->s.gs, pr->funcs[i].entry, &gf)) {
			run->ppf[i].file = gf.file;
			run->ppf[i].line = gf.line;
		}
	}
	return 0;
}

/* GOTRACE_FG_DUMP=FILE: every raw event, for debugging; a file like any
 * other output (docs/output-files.md), committed whatever happens. */
static int open_dump(struct fg_run *run)
{
	const char *path = getenv("GOTRACE_FG_DUMP");

	if (!path)
		return 0;
	if (gt_outfile_open(path, &run->dump_file))
		return gt_error("funcgraph: cannot open GOTRACE_FG_DUMP '%s': %s", path,
				gt_outfile_errmsg());
	run->dump = gt_outfile_stdio(run->dump_file);
	return run->dump ? 0 : gt_error("funcgraph: out of memory");
}

/* The writers (they take over the output files but -o) and the pairing
 * engine that feeds them. */
static int open_writers(struct fg_run *run)
{
	struct fg_opts *o = (struct fg_opts *)run->o;
	const struct func_probes *pr = &run->pr;
	FILE *stream = gt_outfile_stdio(o->t.out);
	struct fg_output_opts oo = {
		.out = stream, .jsonl = o->t.jsonl, .summary = !o->no_summary,
		.folded = o->folded, .json = o->t.json_file, .json_gzip = o->t.json_gz,
		.speedscope = o->t.speedscope_file, .pprof = o->pprof,
		.goids = o->t.goids, .ngoids = o->t.ngoids, .min_dur_ns = o->min_dur,
		.max_depth = (int)o->depth, .nfuncs = pr->nfuncs,
		.binary = run->s.target.exe, .go_version = run->s.info->goversion,
		.stacks = run->s.stacks, .args = run->args,
	};
	struct pairing_opts po = { .morestack_markers = run->morestack_ok,
				   .on_call = fg_output_call, .on_idle = fg_output_idle,
				   .nfuncs = pr->nfuncs, .free_data = free };
	int err;

	if (!stream || function_tables(run))
		return gt_error("funcgraph: out of memory");
	gt_session_watch(&run->s, o->t.out);
	oo.names = run->names;
	oo.pprof_funcs = run->ppf;
	o->folded = o->pprof = o->t.json_file = o->t.speedscope_file = NULL;
	err = fg_output_new(&oo, &run->out);
	if (err)
		return gt_error("funcgraph: cannot set up the outputs: %s", strerror(-err));
	po.arg = run->out;
	po.noret = run->noret;
	run->pairing = pairing_new(&po);
	if (!run->pairing)
		return gt_error("funcgraph: out of memory");
	for (uint32_t i = 0; i < pr->nfuncs; i++)
		if (!strcmp(pr->funcs[i].name, "runtime.deferreturn"))
			pairing_set_unwind_func(run->pairing, i);
	return 0;
}

/* --bench-timing: what a probe hit costs in the BPF program, and the
 * reader's CPU per event (the process's own, not the traced child's). */
static void report_timing(int counters, const struct rusage *ru0, uint64_t events)
{
	uint64_t ns = gt_bpf_counter_sum(counters, FG_CNT_BENCH_NS);
	uint64_t hits = gt_bpf_counter_sum(counters, FG_CNT_BENCH_HITS);
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

/* After the detach: open calls closed, every output written, the counts. */
static int report(struct fg_run *run)
{
	int map = bpf_map__fd(run->skel->maps.counters);
	uint64_t drops = gt_bpf_counter_sum(map, FG_CNT_DROPS);
	uint64_t rf = gt_bpf_counter_sum(map, FG_CNT_READFAIL);
	uint64_t sdrops = gt_bpf_counter_sum(map, FG_CNT_STACK_DROPS);
	const struct pairing_stats *st;
	const char *what = NULL;
	int err;

	if (run->o->timing)
		report_timing(map, &run->ru0, run->events);
	if (run->s.stacks)
		gt_stacks_count_lost(run->s.stacks, sdrops);
	pairing_finish(run->pairing, gt_now_ns());
	fg_output_set_drops(run->out, drops);
	err = fg_output_finish(run->out, &what);
	st = pairing_stats(run->pairing);
	gt_progress("%" PRIu64 " events, %" PRIu64 " calls returned, %" PRIu64 " unwound, %" PRIu64
		    " open, %" PRIu64 " duplicate entries dropped, %" PRIu64 " unmatched returns",
		    run->events, st->rets, st->unwound, st->open, st->dup_entries,
		    st->unmatched_rets);
	if (drops)
		gt_warn("%" PRIu64 " events dropped (ring buffer full): call graphs are incomplete",
			drops);
	if (rf)
		gt_warn("%" PRIu64 " probe hits could not read the goroutine id", rf);
	if (sdrops)
		gt_warn("%" PRIu64 " stacks lost (ring buffer full; their calls are kept "
			"without a stack): a smaller --stack-size helps", sdrops);
	if (st->bad_goid > rf)
		gt_progress("%" PRIu64 " probe hits on the scheduler stack with no goroutine were "
			    "ignored", st->bad_goid - rf);
	if (run->args && gt_bpf_counter_sum(map, FG_CNT_ARGS_LOST))
		gt_warn("%" PRIu64 " probe hits could not read their values (no per-thread buffer): "
			"those calls show <values lost>", gt_bpf_counter_sum(map, FG_CNT_ARGS_LOST));
	if (run->args && run->o->args.nfilters)
		gt_progress("--filter left out %" PRIu64 " calls",
			    gt_bpf_counter_sum(map, FG_CNT_FILTERED));
	if (err)
		return gt_error("funcgraph: cannot write '%s': %s", what ? what : "output",
				strerror(-err));
	return 0;
}

/* -o, committed.  0 or 1. */
static int commit_stream(struct fg_run *run)
{
	struct fg_opts *o = (struct fg_opts *)run->o;
	int err = gt_outfile_commit(o->t.out);

	o->t.out = NULL;
	if (err)
		return gt_error("funcgraph: cannot write '%s': %s",
				o->t.output && strcmp(o->t.output, "-") ? o->t.output : "stdout",
				gt_outfile_errmsg());
	return 0;
}

static void started(void *ctx)
{
	struct fg_run *run = ctx;

	fg_output_set_t0(run->out, run->s.t0_ns);
	getrusage(RUSAGE_SELF, &run->ru0);	/* --bench-timing */
}

/* From the probes attached to every output written. */
static int trace(struct fg_run *run)
{
	int failed = gt_session_run(&run->s, started, on_event, run, FG_POLL_MS);

	if (run->err)
		gt_error("funcgraph: %s", strerror(-run->err));
	failed |= report(run);
	return failed | commit_stream(run);
}

/* The steps of a tracing command (docs/architecture.md): cmd_states has
 * this shape by design, each of its steps being its own. */
int cmd_funcgraph(int argc, char **argv)
{
	struct fg_opts o = { 0 };
	struct fg_run run = { .o = &o, .s = GT_SESSION_INIT };
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret != GT_OPTS_RUN)
		goto out;
	ret = gt_opts_open_outputs(&o.t) || open_dump(&run) ||
	      gt_session_open(&run.s, "funcgraph", &o.t) ||
	      check_binary(&run) || build_probes(&run) ||
	      gt_session_load(&run.s, load_bpf, &run) ||
	      gt_session_ring(&run.s, bpf_map__fd(run.skel->maps.events)) || open_writers(&run) ||
	      gt_session_attach(&run.s, attach_probes, &run) || trace(&run);
	ret = gt_session_finish(&run.s, ret);
out:
	gt_session_release(&run.s);
	funcgraph_bpf__destroy(run.skel);
	pairing_free(run.pairing);	/* before the writers: calls hold their values */
	fg_output_free(run.out);
	ga_session_free(run.args);
	free(run.entry_site);
	gt_outfile_commit(run.dump_file);	/* debugging: what there is */
	free(run.names);
	free(run.ppf);
	free(run.noret);
	func_probes_release(&run.pr);
	for (int k = 0; o.patterns && k < o.t.npatterns; k++)
		free(o.patterns[k]);
	free(o.patterns);
	gt_trace_opts_release(&o.t);
	free(o.exclude.v);
	free(o.specs.v);
	free(o.filters.v);
	return ret;
}
