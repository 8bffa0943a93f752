// SPDX-License-Identifier: MIT
/*
 * states/output: live stream, summary table/CSV/JSON Lines, Chrome trace
 * slices for `gotrace states`.  See output.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "states/groups.h"
#include "aggregate/histogram.h"
#include "states/output.h"
#include "output/csv.h"
#include "output/json_out.h"

const char st_sort_names[] = "goid, running, runnable, syscall, waiting, transitions, lifetime, "
			     "latency; with --group also count, name";

/* A name table per enum, as model.c's states: data, not logic. */
static const char *const sort_names[] = {
	[ST_SORT_GOID] = "goid",
	[ST_SORT_RUNNING] = "running",
	[ST_SORT_RUNNABLE] = "runnable",
	[ST_SORT_SYSCALL] = "syscall",
	[ST_SORT_WAITING] = "waiting",
	[ST_SORT_TRANSITIONS] = "transitions",
	[ST_SORT_LIFETIME] = "lifetime",
	[ST_SORT_LATENCY] = "latency",
	[ST_SORT_COUNT] = "count",
	[ST_SORT_NAME] = "name",
};

int st_sort_groups_col(enum st_sort col)
{
	static const int map[] = {
		[ST_SORT_GOID] = -1,
		[ST_SORT_RUNNING] = ST_GSORT_RUNNING,
		[ST_SORT_RUNNABLE] = ST_GSORT_RUNNABLE,
		[ST_SORT_SYSCALL] = ST_GSORT_SYSCALL,
		[ST_SORT_WAITING] = ST_GSORT_WAITING,
		[ST_SORT_TRANSITIONS] = ST_GSORT_TRANSITIONS,
		[ST_SORT_LIFETIME] = ST_GSORT_LIFETIME,
		[ST_SORT_LATENCY] = ST_GSORT_LATENCY,
		[ST_SORT_COUNT] = ST_GSORT_COUNT,
		[ST_SORT_NAME] = ST_GSORT_NAME,
	};

	return col < sizeof(map) / sizeof(map[0]) ? map[col] : -1;
}

const char *st_sort_name(enum st_sort col)
{
	return col < sizeof(sort_names) / sizeof(sort_names[0]) && sort_names[col] ?
	       sort_names[col] : "?";
}

int st_sort_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (!strcmp(name, sort_names[i]))
			return (int)i;
	return -1;
}

int st_state_parse(const char *name)
{
	for (int i = 0; i < ST_NSTATES; i++)
		if (!strcmp(name, st_state_name(i)))
			return i;
	return -1;
}

const char *st_reason_name(const struct st_out *o, uint32_t reason)
{
	static _Thread_local char buf[32];

	if ((int)reason < o->nreasons && o->reasons[reason] && o->reasons[reason][0])
		return o->reasons[reason];
	snprintf(buf, sizeof(buf), "reason%u", reason);
	return buf;
}

bool st_out_wants_goid(const struct st_out *o, int64_t goid)
{
	if (!o->goids)
		return true;
	for (size_t i = 0; i < o->ngoids; i++)
		if (o->goids[i] == goid)
			return true;
	return false;
}

/* A line under construction: the stream writes ~50 bytes per transition
 * millions of times a second, so it formats by hand into a buffer and
 * writes once, instead of a printf per field. */
struct line {
	char buf[1024];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(l->buf) - l->len - 1)
		n = sizeof(l->buf) - l->len - 1;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put_json_str(struct line *l, const char *s)
{
	for (; *s && l->len < sizeof(l->buf) - 8; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			l->buf[l->len++] = '\\';
			l->buf[l->len++] = (char)c;
		} else if (c < 0x20) {
			l->len += snprintf(l->buf + l->len, 8, "\\u%04x", c);
		} else {
			l->buf[l->len++] = (char)c;
		}
	}
}

static void put_u64(struct line *l, uint64_t v)
{
	static const char digits2[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[24];
	int i = sizeof(tmp);

	/* two digits per division: this runs for every field of every line */
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		tmp[--i] = digits2[2 * r + 1];
		tmp[--i] = digits2[2 * r];
	}
	if (v >= 10) {
		tmp[--i] = digits2[2 * v + 1];
		tmp[--i] = digits2[2 * v];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	if (sizeof(tmp) - i < sizeof(l->buf) - l->len) {
		memcpy(l->buf + l->len, tmp + i, sizeof(tmp) - i);
		l->len += sizeof(tmp) - i;
	}
}

static void put_i64(struct line *l, int64_t v)
{
	if (v < 0) {
		put_str(l, "-");
		put_u64(l, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(l, (uint64_t)v);
	}
}

/* Cursor helpers for the fixed-size head of a text line (the caller
 * knows it fits): digits of v; v right-aligned in width; a literal;
 * spaces after what began at start up to width. */
static char *fmt_u64_w(char *p, uint64_t v, int width)
{
	char tmp[20];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int n = (int)sizeof(tmp) - i; n < width; n++)
		*p++ = ' ';
	while (i < (int)sizeof(tmp))
		*p++ = tmp[i++];
	return p;
}

static char *fmt_u64(char *p, uint64_t v)
{
	return fmt_u64_w(p, v, 0);
}

static char *fmt_lit(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *fmt_pad(const char *start, char *p, size_t width)
{
	while ((size_t)(p - start) < width)
		*p++ = ' ';
	return p;
}

/* The text stream line, by hand for the same reason as the JSON one:
 * "%5u.%06u G%-5d tid %-6u FROM -> TO[ (REASON)][  [new goroutine F, by GP]]" */
static void stream_text(struct st_out *o, const struct st_transition *t, uint64_t rel)
{
	const struct st_goroutine *g = t->g;
	struct line l;
	char *p, *start;
	uint32_t us;

	/* The fixed part (at most ~100 bytes of the 1024) through a local
	 * cursor: the compiler keeps it in a register. */
	p = fmt_u64_w(l.buf, rel / 1000000000, 5);
	*p++ = '.';
	us = (uint32_t)(rel / 1000 % 1000000); /* always six digits */
	for (int i = 5; i >= 0; i--, us /= 10)
		p[i] = (char)('0' + us % 10);
	p += 6;
	p = fmt_lit(p, " G");
	start = p;
	if (g->goid < 0)
		*p++ = '-';
	p = fmt_pad(start, fmt_u64(p, g->goid < 0 ? 0 - (uint64_t)g->goid : (uint64_t)g->goid), 5);
	p = fmt_lit(p, " tid ");
	start = p;
	p = fmt_pad(start, fmt_u64(p, t->tid), 6);
	*p++ = ' ';
	p = fmt_lit(p, st_state_name(t->from));
	p = fmt_lit(p, " -> ");
	p = fmt_lit(p, st_state_name(t->to));
	l.len = (size_t)(p - l.buf);
	if (t->to == STATES_G_WAITING) {
		put_str(&l, " (");
		put_str(&l, st_reason_name(o, t->reason));
		put_str(&l, ")");
	}
	if (t->flags & STATES_F_CREATE) {
		put_str(&l, "  [new goroutine ");
		put_str(&l, g->start_func ? g->start_func : "?");
		if (g->parent > 0) {
			put_str(&l, ", by G");
			put_i64(&l, g->parent);
		}
		put_str(&l, "]");
	}
	put_str(&l, "\n");
	if (l.buf[l.len - 1] != '\n')
		l.buf[l.len++] = '\n'; /* truncated: put_str kept one byte free */
	fwrite_unlocked(l.buf, 1, l.len, o->stream);
}

/* The JSON form of a stream_text() line, apart from it on purpose: each is
 * the hot path of its format (docs/states.md, Benchmarks). */
static void stream_jsonl(struct st_out *o, const struct st_transition *t, uint64_t rel)
{
	const struct st_goroutine *g = t->g;
	struct line l;

	l.len = 0;
	put_str(&l, "{\"type\":\"state\",\"ts_ns\":");
	put_u64(&l, rel);
	put_str(&l, ",\"goid\":");
	put_i64(&l, g->goid);
	put_str(&l, ",\"tid\":");
	put_u64(&l, t->tid);
	put_str(&l, ",\"from\":\"");
	put_str(&l, st_state_name(t->from));
	put_str(&l, "\",\"to\":\"");
	put_str(&l, st_state_name(t->to));
	put_str(&l, "\"");
	if (t->to == STATES_G_WAITING) {
		put_str(&l, ",\"reason\":\"");
		put_json_str(&l, st_reason_name(o, t->reason));
		put_str(&l, "\"");
	}
	if (t->flags & STATES_F_CREATE) {
		put_str(&l, ",\"created\":true,\"parent\":");
		put_i64(&l, g->parent);
		if (g->start_func) {
			put_str(&l, ",\"func\":\"");
			put_json_str(&l, g->start_func);
			put_str(&l, "\"");
		}
	}
	if (o->stack) {
		/* --stack: the array goes inside the object */
		fwrite_unlocked(l.buf, 1, l.len, o->stream);
		gt_stack_print_json(o->stream, o->stack);
		fputs("}\n", o->stream);
		return;
	}
	put_str(&l, "}\n");
	fwrite_unlocked(l.buf, 1, l.len, o->stream);
}

void st_out_transition(void *ctx, const struct st_transition *t)
{
	struct st_out *o = ctx;
	const struct st_goroutine *g = t->g;
	uint64_t rel = t->ts_ns >= o->t0_ns ? t->ts_ns - o->t0_ns : 0;
	FILE *f = o->stream;

	if (o->ct && o->chrome)
		o->chrome(o, t);
	if (!f || !st_out_wants_goid(o, g->goid))
		return;
	if (o->state_mask && !(o->state_mask & (1u << t->to)))
		return;
	if (o->jsonl) {
		stream_jsonl(o, t, rel);
	} else {
		stream_text(o, t, rel);
		if (o->stack)
			gt_stack_print_text(f, o->stack, 2);
	}
	if (ferror(f))
		o->write_error = true;
}

static void json_labels(FILE *f, const struct st_labels *l);

/* "    0.000000 G20    at start: waiting (chan receive) since 1.2s before  [main.parkChan, by G1]" */
static void initial_text(struct st_out *o, FILE *f, const struct st_goroutine *g)
{
	char b[32];

	fprintf(f, "    0.000000 G%-5" PRId64 " at start: %s", g->goid, st_state_name(g->start_state));
	if (g->start_state == STATES_G_WAITING)
		fprintf(f, " (%s)", st_reason_name(o, g->start_reason));
	if (g->waitsince && o->t0_ns > g->waitsince)
		fprintf(f, " for %s already", gt_fmt_ns(o->t0_ns - g->waitsince, b, sizeof(b)));
	fprintf(f, "  [%s", g->start_func ? g->start_func : "?");
	if (g->parent > 0)
		fprintf(f, ", by G%" PRId64, g->parent);
	fputs("]\n", f);
}

/* A goroutine's start function and creation site, where known. */
static void json_names(FILE *f, const struct st_goroutine *g)
{
	if (g->start_func) {
		fputs(",\"func\":", f);
		gt_json_qstr(f, g->start_func);
	}
	if (g->created_at) {
		fputs(",\"created_at\":", f);
		gt_json_qstr(f, g->created_at);
	}
}

static void initial_jsonl(struct st_out *o, FILE *f, const struct st_goroutine *g)
{
	fprintf(f, "{\"type\":\"initial\",\"ts_ns\":0,\"goid\":%" PRId64 ",\"state\":\"%s\"",
		g->goid, st_state_name(g->start_state));
	if (g->start_state == STATES_G_WAITING) {
		fputs(",\"reason\":\"", f);
		gt_json_str(f, st_reason_name(o, g->start_reason));
		fputc('"', f);
	}
	if (g->waitsince && o->t0_ns > g->waitsince)
		fprintf(f, ",\"waiting_before_ns\":%" PRIu64, o->t0_ns - g->waitsince);
	fprintf(f, ",\"parent\":%" PRId64, g->parent);
	json_names(f, g);
	if (g->labels)
		json_labels(f, g->labels);
	fputs("}\n", f);
}

void st_out_initial(struct st_out *o, struct st_goroutine **gs, size_t n)
{
	FILE *f = o->stream;

	if (!f)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct st_goroutine *g = gs[i];

		if (!g->seeded || g->start_state < 0 || !st_out_wants_goid(o, g->goid) ||
		    (o->state_mask && !(o->state_mask & (1u << g->start_state))))
			continue;
		if (o->jsonl)
			initial_jsonl(o, f, g);
		else
			initial_text(o, f, g);
	}
	if (ferror(f))
		o->write_error = true;
}

static uint64_t lifetime(const struct st_goroutine *g)
{
	return g->since >= g->first_ns ? g->since - g->first_ns : 0;
}

static enum st_sort sort_col;

static uint64_t sort_key(const struct st_goroutine *g)
{
	switch (sort_col) {
	case ST_SORT_RUNNING: return g->ns[STATES_G_RUNNING];
	case ST_SORT_RUNNABLE: return g->ns[STATES_G_RUNNABLE];
	case ST_SORT_SYSCALL: return g->ns[STATES_G_SYSCALL];
	case ST_SORT_WAITING: return g->ns[STATES_G_WAITING];
	case ST_SORT_TRANSITIONS: return g->transitions;
	case ST_SORT_LIFETIME: return lifetime(g);
	case ST_SORT_LATENCY: return g->lat_max;
	case ST_SORT_GOID:
	case ST_SORT_COUNT:
	case ST_SORT_NAME: break;
	}
	return 0;
}

static int cmp_g(const void *a, const void *b)
{
	const struct st_goroutine *x = *(struct st_goroutine *const *)a;
	const struct st_goroutine *y = *(struct st_goroutine *const *)b;
	uint64_t kx = sort_key(x), ky = sort_key(y);

	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

void st_sort_goroutines(struct st_goroutine **gs, size_t n, enum st_sort col)
{
	sort_col = col;
	qsort(gs, n, sizeof(*gs), cmp_g);
}

/* The reason with the most waiting time, -1 if none. */
static int top_reason(const struct st_goroutine *g)
{
	int best = -1;
	uint64_t best_ns = 0;

	for (uint32_t i = 0; i < g->nwait; i++)
		if (g->waits[i].ns > best_ns) {
			best = (int)g->waits[i].reason;
			best_ns = g->waits[i].ns;
		}
	return best;
}

void st_out_summary_text(struct st_out *o, FILE *f, struct st_goroutine **gs, size_t n,
			 size_t top)
{
	char b[5][32];
	size_t shown = 0;

	fprintf(f, "%-7s %-36s %10s %10s %10s %10s %7s  %-32s %s\n", "GOID", "START FUNCTION",
		"RUNNING", "RUNNABLE", "SYSCALL", "WAITING", "TRANS", "MOST WAITING ON",
		"CREATED AT");
	for (size_t i = 0; i < n && (!top || shown < top); i++) {
		const struct st_goroutine *g = gs[i];
		int r = top_reason(g);

		if (!st_out_wants_goid(o, g->goid))
			continue;
		shown++;
		fprintf(f, "%-7" PRId64 " %-36.36s %10s %10s %10s %10s %7" PRIu64 "  ", g->goid,
			g->start_func ? g->start_func : "?",
			gt_fmt_ns(g->ns[STATES_G_RUNNING], b[0], sizeof(b[0])),
			gt_fmt_ns(g->ns[STATES_G_RUNNABLE], b[1], sizeof(b[1])),
			gt_fmt_ns(g->ns[STATES_G_SYSCALL], b[2], sizeof(b[2])),
			gt_fmt_ns(g->ns[STATES_G_WAITING], b[3], sizeof(b[3])), g->transitions);
		if (r >= 0) {
			char most[96];

			snprintf(most, sizeof(most), "%s %s", st_reason_name(o, (uint32_t)r),
				 gt_fmt_ns(st_wait_ns(g, (uint32_t)r), b[4], sizeof(b[4])));
			fprintf(f, "%-32s", most);
		} else {
			fprintf(f, "%-32s", "-");
		}
		if (g->created_at) {
			const char *base = strrchr(g->created_at, '/');

			fprintf(f, " %s", base ? base + 1 : g->created_at);
		}
		if (g->labels && g->labels->n) {
			fputs(" {", f);
			for (uint32_t k = 0; k < g->labels->n; k++)
				fprintf(f, "%s%s=%s", k ? ", " : "", g->labels->kv[k].key,
					g->labels->kv[k].value);
			fputc('}', f);
		}
		fputc('\n', f);
	}
	if (top && shown < n)
		fprintf(f, "(%zu of %zu goroutines; --top 0 for all)\n", shown, n);
	if (ferror(f))
		o->write_error = true;
}

static void json_labels(FILE *f, const struct st_labels *l)
{
	fputs(",\"labels\":{", f);
	for (uint32_t k = 0; l && k < l->n; k++) {
		fputs(k ? ",\"" : "\"", f);
		gt_json_str(f, l->kv[k].key);
		fputs("\":\"", f);
		gt_json_str(f, l->kv[k].value);
		fputc('"', f);
	}
	fputc('}', f);
}

/* What it was doing when tracing began, for those alive then. */
static void json_start(struct st_out *o, FILE *f, const struct st_goroutine *g)
{
	fprintf(f, ",\"at_start\":%s", g->at_start ? "true" : "false");
	if (!g->at_start || g->start_state < 0)
		return;
	fprintf(f, ",\"state_at_start\":\"%s\"", st_state_name(g->start_state));
	if (g->start_state == STATES_G_WAITING && g->start_reason) {
		fputs(",\"reason_at_start\":\"", f);
		gt_json_str(f, st_reason_name(o, g->start_reason));
		fputc('"', f);
	}
	if (g->waitsince && o->t0_ns > g->waitsince)
		fprintf(f, ",\"waiting_before_ns\":%" PRIu64, o->t0_ns - g->waitsince);
}

static void json_states(FILE *f, const struct st_goroutine *g)
{
	bool first = true;

	fputs(",\"ns\":{", f);
	for (int s = 0; s < ST_NSTATES; s++) {
		if (!g->ns[s] && s != STATES_G_RUNNING && s != STATES_G_RUNNABLE &&
		    s != STATES_G_SYSCALL && s != STATES_G_WAITING)
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", st_state_name(s), g->ns[s]);
		first = false;
	}
	fputs("},\"count\":{", f);
	first = true;
	for (int s = 0; s < ST_NSTATES; s++) {
		if (!g->nstate[s])
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", st_state_name(s), g->nstate[s]);
		first = false;
	}
	fputc('}', f);
}

static void json_goroutine(struct st_out *o, FILE *f, const struct st_goroutine *g)
{
	fprintf(f, "{\"type\":\"goroutine\",\"goid\":%" PRId64, g->goid);
	json_names(f, g);
	fprintf(f, ",\"parent\":%" PRId64 ",\"created\":%s,\"exited\":%s", g->parent,
		g->created ? "true" : "false", g->exited ? "true" : "false");
	json_start(o, f, g);
	if (g->labels)
		json_labels(f, g->labels);
	fprintf(f, ",\"transitions\":%" PRIu64, g->transitions);
	json_states(f, g);
	fputs(",\"waiting\":{", f);
	for (uint32_t i = 0; i < g->nwait; i++) {
		const struct st_wait *w = &g->waits[i];

		fputs(i ? ",\"" : "\"", f);
		gt_json_str(f, st_reason_name(o, w->reason));
		fprintf(f, "\":{\"ns\":%" PRIu64 ",\"count\":%" PRIu32 ",\"max_ns\":%" PRIu64 "}",
			w->ns, w->count, w->max_ns);
	}
	fprintf(f, "},\"sched_latency\":{\"count\":%" PRIu64 ",\"sum_ns\":%" PRIu64
		   ",\"max_ns\":%" PRIu64 "}}\n", g->lat_count, g->lat_sum, g->lat_max);
}

void st_out_summary_jsonl(struct st_out *o, FILE *f, struct st_goroutine **gs, size_t n,
			  size_t top)
{
	size_t shown = 0;

	for (size_t i = 0; i < n && (!top || shown < top); i++) {
		if (!st_out_wants_goid(o, gs[i]->goid))
			continue;
		shown++;
		json_goroutine(o, f, gs[i]);
	}
	if (ferror(f))
		o->write_error = true;
}

/* "k=v;k2=v2", quoted as CSV needs */
static void csv_labels(FILE *f, const struct st_labels *l)
{
	char buf[1024];
	size_t len = 0;

	buf[0] = 0;
	for (uint32_t k = 0; l && k < l->n && len < sizeof(buf); k++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%s", k ? ";" : "",
					l->kv[k].key, l->kv[k].value);
	gt_csv_str(f, buf);
}

void st_out_summary_csv(struct st_out *o, FILE *f, struct st_goroutine **gs, size_t n,
			size_t top)
{
	bool seen[ST_MAX_REASONS] = { false };
	size_t shown = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < gs[i]->nwait; k++)
			if (gs[i]->waits[k].reason < ST_MAX_REASONS)
				seen[gs[i]->waits[k].reason] = true;
	fputs("goid,start_func,created_at,parent,transitions,running_ns,runnable_ns,"
	      "syscall_ns,waiting_ns,at_start,created,exited,sched_count,sched_max_ns,labels", f);
	for (int r = 0; r < ST_MAX_REASONS; r++) {
		if (!seen[r])
			continue;
		char col[96];

		snprintf(col, sizeof(col), "waiting_ns:%s", st_reason_name(o, (uint32_t)r));
		fputc(',', f);
		gt_csv_str(f, col);
	}
	fputc('\n', f);
	for (size_t i = 0; i < n && (!top || shown < top); i++) {
		const struct st_goroutine *g = gs[i];

		if (!st_out_wants_goid(o, g->goid))
			continue;
		shown++;
		fprintf(f, "%" PRId64 ",", g->goid);
		gt_csv_str(f, g->start_func ? g->start_func : "");
		fputc(',', f);
		gt_csv_str(f, g->created_at ? g->created_at : "");
		fprintf(f, ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			g->parent, g->transitions, g->ns[STATES_G_RUNNING],
			g->ns[STATES_G_RUNNABLE], g->ns[STATES_G_SYSCALL], g->ns[STATES_G_WAITING]);
		fprintf(f, ",%d,%d,%d,%" PRIu64 ",%" PRIu64 ",", g->at_start, g->created, g->exited,
			g->lat_count, g->lat_max);
		csv_labels(f, g->labels);
		for (int r = 0; r < ST_MAX_REASONS; r++)
			if (seen[r])
				fprintf(f, ",%" PRIu64, st_wait_ns(g, (uint32_t)r));
		fputc('\n', f);
	}
	if (ferror(f))
		o->write_error = true;
}
