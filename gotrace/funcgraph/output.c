// SPDX-License-Identifier: MIT
/*
 * funcgraph writers (see output.h).
 *
 * Text: calls arrive in completion order (children first); each goroutine's
 * calls are buffered until its outermost traced call ends (the track goes
 * idle), then printed in entry order, indented by depth, ftrace
 * function_graph style.  jsonl: one line per call as it completes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>

#include "args/session.h"
#include "output/chrome_trace.h"
#include "funcgraph/output.h"
#include "output/json_out.h"
#include "output/trace_report.h"

/* The Chrome trace writer is another module; link without it if absent. */

struct bcall {
	uint64_t seq, start, dur, self;
	uint32_t func;
	int depth;
	enum pairing_end end;
	struct gt_stack *stack;	/* --stack, owned */
	char *vals;		/* --args: "(a=1) -> (r=2)", owned */
};

struct tbuf {
	uint64_t key;		/* goid << 1 | g0 */
	struct bcall *c;
	size_t n, cap;
};

/* text mode: calls buffered per goroutine before printing anyway */
#define TEXT_FLUSH_CALLS 65536

/* log-linear histogram: exact below 16, then 16 steps per power of two */
#define HBUCKETS (16 + 60 * 16)

struct fstat {
	uint64_t calls, total, max, unwound, open;
	uint32_t *hist;		/* HBUCKETS, allocated on first call */
};

struct folded {
	char *stack;
	uint64_t ns;
	struct folded *next;
};

struct fg_output {
	struct fg_output_opts o;
	struct tbuf *tb;	/* open addressing by key; key 0 = empty, so +1 */
	size_t ntb;
	struct fstat *fs;
	struct folded **fold;
	size_t nfold;
	struct chrome_trace *ct;
	char *json_path;	/* the trace's, for messages */
	struct pprof *pp;
	uint64_t last_end;	/* pprof: latest call end, for its duration */
	uint64_t drops;		/* events the ring buffer dropped */
	char pp_comment[2][512];
	const char *pp_comments[2];
	bool header_done;	/* text: column titles printed */
	FILE *ms;		/* --args: one memstream reused for every call */
	char *ms_buf;
	size_t ms_len;
	uint64_t last_key;	/* text: track of the last block printed */
	int err;
};

static int hbucket(uint64_t v)
{
	int e;

	if (v < 16)
		return (int)v;
	e = 63 - __builtin_clzll(v);
	return 16 + (e - 4) * 16 + (int)((v >> (e - 4)) & 15);
}

static uint64_t hbucket_hi(int b)
{
	int e;

	if (b < 16)
		return b;
	e = (b - 16) / 16 + 4;
	return ((uint64_t)(16 + (b - 16) % 16 + 1) << (e - 4)) - 1;
}

/* The files opts hands over, when fg_output_new() cannot take them. */
static void abort_files(const struct fg_output_opts *opts)
{
	gt_outfile_abort(opts->folded);
	gt_outfile_abort(opts->json);
	gt_outfile_abort(opts->speedscope);
	gt_outfile_abort(opts->pprof);
}

int fg_output_new(const struct fg_output_opts *opts, struct fg_output **out)
{
	struct fg_output *o = calloc(1, sizeof(*o));
	int err;

	*out = NULL;
	if (!o) {
		abort_files(opts);
		return -ENOMEM;
	}
	o->o = *opts;
	o->ntb = 256;
	o->tb = calloc(o->ntb, sizeof(*o->tb));
	o->fs = calloc(opts->nfuncs ? opts->nfuncs : 1, sizeof(*o->fs));
	if (!o->tb || !o->fs) {
		fg_output_free(o);
		return -ENOMEM;
	}
	if (opts->folded) {
		o->nfold = 4096;
		o->fold = calloc(o->nfold, sizeof(*o->fold));
		if (!o->fold) {
			fg_output_free(o);
			return -ENOMEM;
		}
	}
	if (opts->pprof) {
		struct pprof_opts po = {
			.funcs = opts->pprof_funcs, .nfuncs = opts->pprof_funcs ? opts->nfuncs : 0,
			.comments = o->pp_comments, .binary = opts->binary,
		};
		struct timespec ts;

		if (!clock_gettime(CLOCK_REALTIME, &ts))
			po.time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		snprintf(o->pp_comment[0], sizeof(o->pp_comment[0]), "gotrace funcgraph: %s",
			 opts->binary ? opts->binary : "?");
		o->pp_comments[po.ncomments++] = o->pp_comment[0];
		if (opts->go_version) {
			snprintf(o->pp_comment[1], sizeof(o->pp_comment[1]), "built by %s",
				 opts->go_version);
			o->pp_comments[po.ncomments++] = o->pp_comment[1];
		}
		err = pprof_new(&po, &o->pp);
		if (err) {
			fg_output_free(o);
			return err;
		}
	}
	if (opts->json) {
		struct chrome_trace_opts co = {
			.start_ns = opts->t0,
			.min_dur_ns = opts->min_dur_ns,
			.binary = opts->binary,
			.go_version = opts->go_version,
			.command_line = opts->command_line,
			.max_events = GT_TRACE_MAX_EVENTS,
			.speedscope = opts->speedscope,
			.gzip = opts->json_gzip,
		};

		if (opts->goids) {
			/* chrome_trace takes uint64 goids */
			co.goids = (const uint64_t *)opts->goids;
			co.nr_goids = opts->ngoids;
		}
		o->json_path = strdup(gt_outfile_path(opts->json));
		/* the trace owns both files from here on */
		o->o.json = o->o.speedscope = NULL;
		err = chrome_trace_open(&o->ct, opts->json, &co);
		if (!err && !o->json_path)
			err = -ENOMEM;
		if (err) {
			fg_output_free(o);
			return err;
		}
	}
	*out = o;
	return 0;
}

static bool want_goid(const struct fg_output *o, int64_t goid)
{
	if (!o->o.goids)
		return true;
	for (size_t i = 0; i < o->o.ngoids; i++)
		if (o->o.goids[i] == goid)
			return true;
	return false;
}

static struct tbuf *tbuf_get(struct fg_output *o, uint64_t key, bool create)
{
	size_t i, used = 0;

	key += 1;
	for (i = (key * 0x9e3779b97f4a7c15ULL) >> 40 & (o->ntb - 1);; i = (i + 1) & (o->ntb - 1)) {
		if (o->tb[i].key == key)
			return &o->tb[i];
		if (!o->tb[i].key)
			break;
	}
	if (!create)
		return NULL;
	for (size_t j = 0; j < o->ntb; j++)
		used += o->tb[j].key != 0;
	if ((used + 1) * 2 > o->ntb) {
		size_t n = o->ntb * 2;
		struct tbuf *t = calloc(n, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t j = 0; j < o->ntb; j++) {
			size_t k;

			if (!o->tb[j].key)
				continue;
			for (k = (o->tb[j].key * 0x9e3779b97f4a7c15ULL) >> 40 & (n - 1); t[k].key;
			     k = (k + 1) & (n - 1))
				;
			t[k] = o->tb[j];
		}
		free(o->tb);
		o->tb = t;
		o->ntb = n;
		return tbuf_get(o, key - 1, true);
	}
	o->tb[i].key = key;
	return &o->tb[i];
}

static const char *fname(const struct fg_output *o, uint32_t func)
{
	return func < o->o.nfuncs ? o->o.names[func] : "?";
}

static void fold_add(struct fg_output *o, const struct pairing_call *c)
{
	size_t len = 0, h = 5381;
	struct folded *f;
	char *s, *p;

	for (int i = 0; i <= c->depth; i++)
		len += strlen(fname(o, c->stack[i])) + 1;
	s = malloc(len + 32);	/* + "G<goid>" */
	if (!s) {
		o->err = -ENOMEM;
		return;
	}
	p = s;
	p += sprintf(p, "G%" PRId64, c->goid);
	for (int i = 0; i <= c->depth; i++)
		p += sprintf(p, ";%s", fname(o, c->stack[i]));
	for (p = s; *p; p++)
		h = h * 33 + (unsigned char)*p;
	h &= o->nfold - 1;
	for (f = o->fold[h]; f; f = f->next) {
		if (!strcmp(f->stack, s)) {
			f->ns += c->self_ns;
			free(s);
			return;
		}
	}
	f = malloc(sizeof(*f));
	if (!f) {
		free(s);
		o->err = -ENOMEM;
		return;
	}
	f->stack = s;
	f->ns = c->self_ns;
	f->next = o->fold[h];
	o->fold[h] = f;
}

static void flush_track(struct fg_output *o, struct tbuf *t);

/* The memstream the values of one call are written to (rewound each
 * time: opening one per call costs more than the formatting). */
static FILE *ms_begin(struct fg_output *o)
{
	if (!o->ms && !(o->ms = open_memstream(&o->ms_buf, &o->ms_len)))
		return NULL;
	rewind(o->ms);
	return o->ms;
}

/* What was written since ms_begin(), as a new string (NULL on failure). */
static char *ms_take(struct fg_output *o)
{
	long n;

	if (fflush(o->ms) || (n = ftell(o->ms)) < 0)
		return NULL;
	return strndup(o->ms_buf, (size_t)n);
}

/* --args, text: "(a=1, b=\"x\") -> (r=2)"; NULL when the function shows
 * no values (or on allocation failure). */
static char *vals_text(struct fg_output *o, const struct pairing_call *c)
{
	const struct fg_vals *in = c->entry_data, *out = c->ret_data;
	const char *why = ga_session_unsupported(o->o.args, c->func);
	FILE *f;

	if (!ga_session_selected(o->o.args, c->func))
		return NULL;
	f = ms_begin(o);
	if (!f)
		return NULL;
	fputc('(', f);
	if (why)
		fprintf(f, "<unsupported: %s>", why);
	else if (ga_session_shows(o->o.args, c->func, false) &&
		 (!in || ga_session_text(o->o.args, f, in->bytes, in->len)))
		fputs("<values lost>", f);
	fputc(')', f);
	if (c->end == PAIRING_RET && ga_session_ret_unknown(o->o.args, c->func)) {
		fputs(" -> (?)", f);
	} else if (c->end == PAIRING_RET && ga_session_shows(o->o.args, c->func, true)) {
		fputs(" -> (", f);
		if (!out || ga_session_text(o->o.args, f, out->bytes, out->len))
			fputs("<values lost>", f);
		fputc(')', f);
	}
	return ms_take(o);
}

/* --args, JSON: the "args" or "ret" array ([] when there is nothing to
 * read, null when the values were lost). */
static void vals_json(struct fg_output *o, const struct pairing_call *c, FILE *f, bool with_keys,
		      const char *which)
{
	bool ret = strcmp(which, "args") != 0;
	const struct fg_vals *v = ret ? c->ret_data : c->entry_data;

	if (with_keys)
		fprintf(f, ",\"%s\":", which);
	if (!ga_session_shows(o->o.args, c->func, ret))
		fputs("[]", f);
	else if (!v || ga_session_json(o->o.args, f, v->bytes, v->len))
		fputs("null", f);
}

static char *vals_json_str(struct fg_output *o, const struct pairing_call *c, const char *which)
{
	FILE *f = ms_begin(o);

	if (!f)
		return NULL;
	vals_json(o, c, f, false, which);
	return ms_take(o);
}

static void free_vals(const struct pairing_call *c)
{
	free(c->entry_data);
	free(c->ret_data);
}

/* The per-function summary: counts, total, max, the duration histogram. */
static void count_call(struct fg_output *o, const struct pairing_call *c, uint64_t dur)
{
	struct fstat *fs = &o->fs[c->func];

	if (c->end == PAIRING_OPEN) {
		fs->open++;
		return;
	}
	if (!fs->hist)
		fs->hist = calloc(HBUCKETS, sizeof(*fs->hist));
	if (fs->hist)
		fs->hist[hbucket(dur)]++;
	fs->calls++;
	fs->total += dur;
	if (dur > fs->max)
		fs->max = dur;
	if (c->end == PAIRING_UNWOUND)
		fs->unwound++;
}

/* The call's slice in the Chrome trace, with its values (--args). */
static void trace_call(struct fg_output *o, const struct pairing_call *c)
{
	char nm[512];
	char *ja = NULL, *jr = NULL;
	struct chrome_trace_arg args[] = {
		{ .key = "depth", .num = c->depth },
		{ .key = "self_ns", .num = (int64_t)c->self_ns },
		{ .key = "end", .str = pairing_end_name(c->end) },
		{ .key = "args" }, { .key = "ret" },
	};
	size_t nargs = 3;

	snprintf(nm, sizeof(nm), "%s%s", fname(o, c->func),
		 c->end == PAIRING_UNWOUND ? " [unwound]" : "");
	if (o->o.args && c->entry_data && (ja = vals_json_str(o, c, "args")))
		args[nargs++].json = ja;
	if (o->o.args && c->ret_data && (jr = vals_json_str(o, c, "ret"))) {
		args[nargs] = args[4];
		args[nargs++].json = jr;
	}
	chrome_trace_slice(o->ct, (uint64_t)c->goid, CHROME_TRACE_CALLS, c->start_ns, c->end_ns,
			   nm, NULL, args, nargs);
	free(ja);
	free(jr);
}

/* One {"type":"call",...} line. */
static void jsonl_call(struct fg_output *o, const struct pairing_call *c, uint64_t dur,
		       const struct gt_stack *stack)
{
	FILE *f = o->o.out;

	fprintf(f, "{\"type\":\"call\",\"goid\":%" PRId64 ",\"func\":\"", c->goid);
	gt_json_str(f, fname(o, c->func));
	fprintf(f, "\",\"depth\":%d,\"start_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64
		   ",\"self_ns\":%" PRIu64 ",\"end\":\"%s\"%s",
		c->depth, c->start_ns > o->o.t0 ? c->start_ns - o->o.t0 : 0, dur, c->self_ns,
		pairing_end_name(c->end), c->g0 ? ",\"g0\":true" : "");
	if (o->o.args && ga_session_selected(o->o.args, c->func)) {
		const char *why = ga_session_unsupported(o->o.args, c->func);

		if (why) {
			fputs(",\"args_unsupported\":", f);
			gt_json_qstr(f, why);
		}
		vals_json(o, c, f, true, "args");
		why = ga_session_ret_unknown(o->o.args, c->func);
		if (c->end == PAIRING_RET && why) {
			fputs(",\"ret\":null,\"ret_unsupported\":", f);
			gt_json_qstr(f, why);
		} else if (c->end == PAIRING_RET) {
			vals_json(o, c, f, true, "ret");
		}
	}
	if (stack)
		gt_stack_print_json(f, stack);
	fputs("}\n", f);
}

/* Text: the call joins its goroutine's block until the block prints
 * (owning stack).  0 or -ENOMEM (stack then freed). */
static int buffer_call(struct fg_output *o, const struct pairing_call *c, uint64_t dur,
		       struct gt_stack *stack)
{
	struct tbuf *t = tbuf_get(o, ((uint64_t)c->goid << 1) | c->g0, true);

	if (t && t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct bcall *b = realloc(t->c, cap * sizeof(*b));

		if (!b)
			t = NULL;
		else
			t->c = b, t->cap = cap;
	}
	if (!t) {
		free(stack);
		return -ENOMEM;
	}
	t->c[t->n++] = (struct bcall){ c->seq, c->start_ns, dur, c->self_ns, c->func, c->depth,
				       c->end, stack, o->o.args ? vals_text(o, c) : NULL };
	/* A goroutine whose outermost traced call runs for long (a server
	 * loop) would buffer without bound: print the complete subtrees so
	 * far; their open ancestors follow later. */
	if (t->n >= TEXT_FLUSH_CALLS)
		flush_track(o, t);
	return 0;
}

void fg_output_call(const struct pairing_call *c, void *arg)
{
	struct fg_output *o = arg;
	uint64_t dur = c->end_ns - c->start_ns;
	struct gt_stack *stack = NULL;

	/* taken first, so that calls filtered out below free theirs */
	if (o->o.stacks)
		stack = gt_stacks_take(o->o.stacks, ((uint64_t)c->goid << 1) | c->g0, c->start_ns);
	if (!want_goid(o, c->goid))
		goto done;
	if (c->func < o->o.nfuncs)
		count_call(o, c, dur);
	if (o->fold)
		fold_add(o, c);
	if (o->pp) {
		/* the folded weighting: self time, one sample per stack and
		 * goroutine; and the number of calls that ended that stack */
		int e = pprof_add(o->pp, c->goid, c->stack, c->depth + 1, 1, (int64_t)c->self_ns);

		if (e)
			o->err = e;
		if (c->end_ns > o->last_end)
			o->last_end = c->end_ns;
	}
	if (o->ct)
		trace_call(o, c);
	if ((o->o.max_depth > 0 && c->depth >= o->o.max_depth) || dur < o->o.min_dur_ns)
		goto done;
	if (o->o.jsonl) {
		jsonl_call(o, c, dur, stack);
		goto done;
	}
	if (buffer_call(o, c, dur, stack))
		o->err = -ENOMEM;
	stack = NULL;	/* buffered with the call, or freed */
done:
	free(stack);
	free_vals(c);
}

static int cmp_seq(const void *a, const void *b)
{
	const struct bcall *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void fmt_dur(char *buf, size_t n, uint64_t ns)
{
	if (ns < 10000)
		snprintf(buf, n, "%" PRIu64 " ns", ns);
	else if (ns < 10000000)
		snprintf(buf, n, "%.3f us", ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, n, "%.3f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.3f s", ns / 1e9);
}

static void flush_track(struct fg_output *o, struct tbuf *t)
{
	FILE *f = o->o.out;

	if (!t->n)
		return;
	qsort(t->c, t->n, sizeof(*t->c), cmp_seq);
	if (!o->header_done) {
		fprintf(f, "  %12s  %12s  %12s  %s\n", "START(us)", "DURATION", "SELF", "FUNCTION");
		o->header_done = true;
	}
	/* consecutive blocks of one goroutine share its title */
	if (t->key != o->last_key)
		fprintf(f, "goroutine %" PRId64 "%s:\n", (int64_t)((t->key - 1) >> 1),
			((t->key - 1) & 1) ? " (on g0)" : "");
	o->last_key = t->key;
	for (size_t i = 0; i < t->n; i++) {
		const struct bcall *b = &t->c[i];
		char d[32], s[32];

		fmt_dur(d, sizeof(d), b->dur);
		fmt_dur(s, sizeof(s), b->self);
		fprintf(f, "  %12.3f  %12s  %12s  %*s%s%s%s\n",
			(b->start > o->o.t0 ? b->start - o->o.t0 : 0) / 1e3, d, s, 2 * b->depth, "",
			fname(o, b->func), b->vals ? b->vals : "",
			b->end == PAIRING_UNWOUND ? "  [unwound]" :
			b->end == PAIRING_OPEN ? "  [open]" : "");
		free(b->vals);
		if (b->stack) {
			/* under the call, past the three time columns */
			gt_stack_print_text(f, b->stack, 42 + 2 * b->depth);
			free(b->stack);
		}
	}
	t->n = 0;
	free(t->c);
	t->c = NULL;
	t->cap = 0;
}

void fg_output_idle(int64_t goid, bool g0, void *arg)
{
	struct fg_output *o = arg;
	struct tbuf *t;

	if (o->o.jsonl)
		return;
	t = tbuf_get(o, ((uint64_t)goid << 1) | g0, false);
	if (t)
		flush_track(o, t);
}

static uint64_t p99(const struct fstat *fs)
{
	uint64_t want = fs->calls - fs->calls / 100, seen = 0;

	if (!fs->hist || !fs->calls)
		return 0;
	for (int b = 0; b < HBUCKETS; b++) {
		seen += fs->hist[b];
		if (seen >= want) {
			uint64_t hi = hbucket_hi(b);

			return hi < fs->max ? hi : fs->max;
		}
	}
	return fs->max;
}

static const struct fg_output *sort_ctx;

static int cmp_total(const void *a, const void *b)
{
	const struct fstat *x = &sort_ctx->fs[*(const uint32_t *)a];
	const struct fstat *y = &sort_ctx->fs[*(const uint32_t *)b];

	return x->total > y->total ? -1 : x->total < y->total;
}

static void write_summary(struct fg_output *o)
{
	FILE *f = o->o.out;
	uint32_t *idx = malloc(sizeof(*idx) * (o->o.nfuncs + 1));
	uint32_t n = 0;

	if (!idx)
		return;
	for (uint32_t i = 0; i < o->o.nfuncs; i++)
		if (o->fs[i].calls || o->fs[i].open)
			idx[n++] = i;
	sort_ctx = o;
	qsort(idx, n, sizeof(*idx), cmp_total);
	if (!o->o.jsonl)
		fprintf(f, "\n%10s %8s %8s %12s %12s %12s %12s  %s\n", "CALLS", "UNWOUND", "OPEN",
			"TOTAL", "MEAN", "MAX", "P99", "FUNCTION");
	for (uint32_t k = 0; k < n; k++) {
		const struct fstat *fs = &o->fs[idx[k]];
		uint64_t mean = fs->calls ? fs->total / fs->calls : 0;

		if (o->o.jsonl) {
			fprintf(f, "{\"type\":\"summary\",\"func\":\"");
			gt_json_str(f, fname(o, idx[k]));
			fprintf(f, "\",\"calls\":%" PRIu64 ",\"unwound\":%" PRIu64 ",\"open\":%" PRIu64
				   ",\"total_ns\":%" PRIu64 ",\"mean_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
				   ",\"p99_ns\":%" PRIu64 "}\n",
				fs->calls, fs->unwound, fs->open, fs->total, mean, fs->max, p99(fs));
		} else {
			char t[32], m[32], x[32], p[32];

			fmt_dur(t, sizeof(t), fs->total);
			fmt_dur(m, sizeof(m), mean);
			fmt_dur(x, sizeof(x), fs->max);
			fmt_dur(p, sizeof(p), p99(fs));
			fprintf(f, "%10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12s %12s %12s %12s  %s\n",
				fs->calls, fs->unwound, fs->open, t, m, x, p, fname(o, idx[k]));
		}
	}
	free(idx);
}

/* The folded stacks into their file, committed. */
static int write_folded(struct fg_output *o)
{
	struct gt_outfile *file = o->o.folded;
	FILE *f = gt_outfile_stdio(file);

	o->o.folded = NULL;
	if (!f) {
		gt_outfile_abort(file);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->nfold; i++)
		for (struct folded *x = o->fold[i]; x; x = x->next)
			if (x->ns)
				fprintf(f, "%s %" PRIu64 "\n", x->stack, x->ns);
	return gt_outfile_commit(file);
}

int fg_output_finish(struct fg_output *o, const char **what)
{
	int err = o->err;

	if (!o->o.jsonl)
		for (size_t i = 0; i < o->ntb; i++)
			if (o->tb[i].key)
				flush_track(o, &o->tb[i]);
	if (o->o.summary)
		write_summary(o);
	if (o->o.summary && o->o.stacks) {
		if (!o->o.jsonl)
			fputc('\n', o->o.out);
		gt_stacks_report(o->o.stacks, o->o.out, o->o.jsonl, "");
	}
	/* the same count as on stderr and in the trace (docs/formats.md) */
	if (o->o.jsonl)
		fprintf(o->o.out, "{\"type\":\"stats\",\"drops\":%" PRIu64 "}\n", o->drops);
	else if (o->drops)
		fprintf(o->o.out, "%" PRIu64 " events dropped (ring buffer full): call graphs are "
			"incomplete\n", o->drops);
	chrome_trace_count_lost(o->ct, o->drops);
	fflush(o->o.out);
	if (o->o.folded && !err) {
		*what = gt_outfile_path(o->o.folded);
		err = write_folded(o);
	}
	if (o->o.pprof && !err) {
		if (o->last_end > o->o.t0)
			pprof_set_duration(o->pp, (int64_t)(o->last_end - o->o.t0));
		*what = gt_outfile_path(o->o.pprof);
		err = pprof_write(o->pp, o->o.pprof);
		o->o.pprof = NULL;
	}
	if (o->ct) {
		struct chrome_trace_stats cs;
		int e = chrome_trace_close(o->ct, &cs);

		o->ct = NULL;
		if (e && !err) {
			err = e;
			*what = o->json_path;
		} else if (!e) {
			gt_trace_report("funcgraph", o->json_path, &cs);
		}
	}
	return err;
}

void fg_output_free(struct fg_output *o)
{
	if (!o)
		return;
	chrome_trace_abort(o->ct);
	abort_files(&o->o);	/* those not handed on or committed */
	free(o->json_path);
	for (size_t i = 0; i < o->ntb; i++) {
		for (size_t k = 0; k < o->tb[i].n; k++) {
			free(o->tb[i].c[k].stack);
			free(o->tb[i].c[k].vals);
		}
		free(o->tb[i].c);
	}
	free(o->tb);
	if (o->fs)
		for (uint32_t i = 0; i < o->o.nfuncs; i++)
			free(o->fs[i].hist);
	free(o->fs);
	/* the chains of a hash table of its own type (stacks.c frees its own) */
	for (size_t i = 0; i < o->nfold; i++) {
		struct folded *x = o->fold[i], *nx;

		for (; x; x = nx) {
			nx = x->next;
			free(x->stack);
			free(x);
		}
	}
	free(o->fold);
	pprof_free(o->pp);
	if (o->ms)
		fclose(o->ms);
	free(o->ms_buf);
	free(o);
}

void fg_output_set_drops(struct fg_output *o, uint64_t drops)
{
	o->drops = drops;
}

void fg_output_set_t0(struct fg_output *o, uint64_t t0)
{
	o->o.t0 = t0;
	/* the Chrome trace counts from the same start as the jsonl */
	if (o->ct)
		chrome_trace_set_start(o->ct, t0);
}
