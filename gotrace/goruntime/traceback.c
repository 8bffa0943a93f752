// SPDX-License-Identifier: MIT
/*
 * Goroutine stacks in the runtime's traceback form (see traceback.h).
 * The rules mirror runtime/traceback.go: traceback1/traceback2 (1.21+) and
 * gentraceback (1.17-1.20) for which frames print and how, showframe /
 * showfuncinfo / isExportedRuntime for which frames are hidden,
 * printArgs for the argument words, printcreatedby1 for the last line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goruntime/traceback.h"
#include "goruntime/internal.h"

#define MAX_INLINE 64
#define MAX_PHYS (1 << 20)
#define SYM_BUCKETS_LOG2 16

int gr_tb_new(struct gr_target *t, struct gr_tb **out)
{
	struct gr_tb *tb = calloc(1, sizeof(*tb));

	*out = NULL;
	if (!tb)
		return -ENOMEM;
	tb->t = t;
	tb->in = gr_target_info(t);
	tb->sym_mask = (1u << SYM_BUCKETS_LOG2) - 1;
	tb->sym = calloc(tb->sym_mask + 1, sizeof(*tb->sym));
	tb->created = calloc(CREATED_CACHE, sizeof(*tb->created));
	tb->args = calloc(ARGS_CACHE, sizeof(*tb->args));
	if (!tb->sym || !tb->created || !tb->args || dwunw_go_cache_new(1 << 16, &tb->cache)) {
		gr_tb_free(tb);
		return -ENOMEM;
	}
	*out = tb;
	return 0;
}

void gr_tb_free(struct gr_tb *tb)
{
	if (!tb)
		return;
	dwunw_go_cache_free(tb->cache);
	free(tb->created);
	free(tb->args);
	free(tb->sym);
	free(tb->pool);
	free(tb->phys);
	free(tb->f);
	free(tb);
}

const struct gosym_goroutine_facts *gr_tb_facts(const struct gr_tb *tb)
{
	return &tb->in->facts;
}

void gr_tb_stats(const struct gr_tb *tb, uint64_t out[4])
{
	dwunw_go_cache_stats(tb->cache, &out[0], &out[1]);
	out[2] = tb->sym_hits;
	out[3] = tb->sym_misses;
}

static int sym_grow(struct gr_tb *tb)
{
	size_t n = (tb->sym_mask + 1) * 2;
	struct sym_ent *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i <= tb->sym_mask; i++) {
		struct sym_ent *e = &tb->sym[i];
		size_t h;

		if (!e->sympc)
			continue;
		for (h = (e->sympc * 0x9E3779B97F4A7C15ULL) >> 20 & (n - 1); s[h].sympc;
		     h = (h + 1) & (n - 1))
			;
		s[h] = *e;
	}
	free(tb->sym);
	tb->sym = s;
	tb->sym_mask = n - 1;
	return 0;
}

/* The logical frames at link-time pc, innermost first (cached). */
static const struct sym_ent *symbolize(struct gr_tb *tb, uint64_t sympc)
{
	struct gosym_frame gf[MAX_INLINE];
	struct sym_ent *e;
	size_t h;
	int n;

	for (h = (sympc * 0x9E3779B97F4A7C15ULL) >> 20 & tb->sym_mask; tb->sym[h].sympc;
	     h = (h + 1) & tb->sym_mask) {
		if (tb->sym[h].sympc == sympc) {
			tb->sym_hits++;
			return &tb->sym[h];
		}
	}
	tb->sym_misses++;
	if (tb->sym_used * 2 >= tb->sym_mask && !sym_grow(tb))
		return symbolize(tb, sympc);
	n = gosym_pc_frames(tb->in->go, sympc, gf, MAX_INLINE);
	if (n > MAX_INLINE)
		n = MAX_INLINE;
	if (n < 0)
		n = 0;
	if (tb->npool + n > tb->pool_cap) {
		size_t cap = tb->pool_cap ? tb->pool_cap * 2 : 4096;
		struct pool_ent *p;

		while (cap < tb->npool + n)
			cap *= 2;
		p = realloc(tb->pool, cap * sizeof(*p));
		if (!p)
			return NULL;
		tb->pool = p;
		tb->pool_cap = cap;
	}
	for (h = (sympc * 0x9E3779B97F4A7C15ULL) >> 20 & tb->sym_mask; tb->sym[h].sympc;
	     h = (h + 1) & tb->sym_mask)
		;
	e = &tb->sym[h];
	e->sympc = sympc;
	e->first = (uint32_t)tb->npool;
	e->n = (uint32_t)n;
	tb->sym_used++;
	for (int k = 0; k < n; k++) {
		struct pool_ent *p = &tb->pool[tb->npool++];

		p->func = gf[k].func;
		p->file = gf[k].file;
		p->line = gf[k].line;
		p->inlined = gf[k].inlined;
		p->wrapper = gf[k].wrapper;
		p->special = (uint8_t)gosym_frame_special(tb->in->go, &gf[k]);
		p->sympc = gf[k].pc;
	}
	return e;
}

/* runtime isExportedRuntime(). */
static bool exported_runtime(const char *name, bool methods)
{
	const char *n, *dot;
	size_t rlen;

	if (strncmp(name, "runtime.", 8))
		return false;
	n = name + 8;
	if (!methods)
		return *n >= 'A' && *n <= 'Z';
	dot = strrchr(n, '.');
	if (!dot)
		return *n >= 'A' && *n <= 'Z';
	rlen = (size_t)(dot - n);
	if (rlen >= 3 && n[0] == '(' && n[1] == '*' && n[rlen - 1] == ')')
		n += 2;
	return dot[1] >= 'A' && dot[1] <= 'Z' && *n >= 'A' && *n <= 'Z';
}

/* runtime showfuncinfo() at GOTRACEBACK level 1. */
static bool show_frame(const struct gr_tb *tb, const struct gr_frame *fr, bool first,
		       uint8_t callee)
{
	const struct gosym_goroutine_facts *fx = &tb->in->facts;
	struct gosym_frame gf = { .wrapper = fr->wrapper };

	if (gosym_elide_wrapper(&gf, (enum gosym_special)callee))
		return false;
	if (fx->finalizer_frames_shown &&
	    (fr->special == GOSYM_FN_RUNFINQ || fr->special == GOSYM_FN_RUNCLEANUPS))
		return true;
	if (!strcmp(fr->func, "runtime.gopanic") && !first)
		return true;
	return strchr(fr->func, '.') &&
	       (strncmp(fr->func, "runtime.", 8) ||
		exported_runtime(fr->func, fx->exported_runtime_methods));
}

/* Mark the frames the dump shows; returns how many. */
static int mark_shown(struct gr_tb *tb, struct gr_stack *st, bool all)
{
	uint8_t callee = GOSYM_FN_NORMAL;
	int shown = 0;

	for (int k = 0; k < st->n; k++) {
		struct gr_frame *fr = &st->f[k];

		fr->shown = all || show_frame(tb, fr, shown == 0, callee);
		/* The callee of the next frame is this one, shown or not
		 * (u.calleeFuncID); wrappers test it by funcID. */
		callee = fr->special;
		shown += fr->shown;
	}
	return shown;
}

static int grow(void **p, int *cap, int need, size_t size)
{
	int c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, (size_t)c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Walk the stack copy; grows the frame buffer as deep stacks need. */
static int walk(struct gr_tb *tb, const struct gr_g *g, int max, enum dwunw_stop *stop)
{
	struct dwunw_go_ctx ctx = {
		.arch = tb->in->arch, .bias = tb->in->bias, .pc = g->ctx_pc, .sp = g->ctx_sp,
		.lr = g->ctx_lr, .syscall = g->ctx_syscall,
		.debugcall_injected = tb->in->facts.debugcall_injected,
	};
	int cap = 256, n;

	for (;;) {
		if (cap > max)
			cap = max;
		if (grow((void **)&tb->phys, &tb->phys_cap, cap, sizeof(*tb->phys)))
			return -ENOMEM;
		n = dwunw_go_walk(tb->in->go, tb->cache, &ctx, tb->bytes, tb->base, tb->len,
				  tb->phys, cap, stop);
		if (n < 0 || *stop != DWUNW_STOP_MAX_FRAMES || cap >= max)
			return n;
		cap *= 2;
	}
}

/* Logical frames of the walked physical frames. */
static int expand(struct gr_tb *tb, struct gr_stack *st, int nphys)
{
	uint64_t bias = tb->in->bias;

	st->n = 0;
	for (int p = 0; p < nphys; p++) {
		const struct dwunw_go_frame *pf = &tb->phys[p];
		const struct sym_ent *e = symbolize(tb, pf->sympc);

		if (!e)
			return -ENOMEM;
		if (grow((void **)&tb->f, &tb->f_cap, st->n + (int)e->n + 1, sizeof(*tb->f)))
			return -ENOMEM;
		st->f = tb->f;
		for (uint32_t k = 0; k < e->n; k++) {
			const struct pool_ent *pe = &tb->pool[e->first + k];
			struct gr_frame *fr = &st->f[st->n++];

			*fr = (struct gr_frame){
				.func = pe->func, .file = pe->file, .line = pe->line,
				.inlined = pe->inlined, .wrapper = pe->wrapper,
				.special = pe->special, .pc = pf->pc, .entry = pf->entry + bias,
				.sympc = pe->sympc + bias, .phys = (uint32_t)p,
			};
		}
	}
	return 0;
}

/* printcreatedby() for a gopc (link-time), cached: most goroutines of a
 * process come from a few go statements. */
static const struct created_ent *created_get(struct gr_tb *tb, uint64_t pc)
{
	struct created_ent *e = &tb->created[(pc * 0x9E3779B97F4A7C15ULL) >> 52 & (CREATED_CACHE - 1)];
	struct gosym_pcinfo pi;
	struct gr_frame fr = { 0 };
	uint64_t tracepc = pc;

	if (e->pc == pc)
		return e;
	memset(e, 0, sizeof(*e));
	e->pc = pc;
	if (gosym_lookup_pc_line(tb->in->go, pc, &pi))
		return e;
	if (pc > pi.entry)
		tracepc = pc - 1;
	fr.func = pi.func;
	fr.special = (uint8_t)pi.special;
	e->ok = true;
	/* showframe(f, gp, false, normal) */
	e->shown = show_frame(tb, &fr, false, GOSYM_FN_NORMAL);
	e->func = pi.func;
	e->off = pc > pi.entry ? pc - pi.entry : 0;
	if (gosym_pc_line(tb->in->go, tracepc, &e->file, &e->line)) {
		e->file = "?";
		e->line = 0;
	}
	return e;
}

static void created_by(struct gr_tb *tb, const struct gr_g *g, struct gr_created *c)
{
	const struct created_ent *e;

	memset(c, 0, sizeof(*c));
	if (!g->gopc || !(e = created_get(tb, g->gopc - tb->in->bias))->ok)
		return;
	/* ... and not the main goroutine */
	c->shown = e->shown && g->goid != 1;
	c->func = e->func;
	c->file = e->file;
	c->line = e->line;
	c->off = e->off;
	c->goid = g->parent_goid > 0 ? g->parent_goid : 0;
}

/* Frame elision of the text, per version. */
static void elide(const struct gosym_goroutine_facts *fx, struct gr_stack *st)
{
	int shown = 0;

	st->elide_at = st->elide_n = 0;
	st->elided_tail = false;
	for (int k = 0; k < st->n; k++)
		shown += st->f[k].shown;
	if (fx->inner_frames && shown > fx->inner_frames + fx->outer_frames) {
		st->elide_at = fx->inner_frames;
		st->elide_n = shown - fx->inner_frames - fx->outer_frames;
	} else if (fx->max_frames && shown == fx->max_frames) {
		st->elided_tail = true;
	}
}

int gr_tb_stack(struct gr_tb *tb, const struct gr_snapshot *s, size_t i,
		const struct gr_stack **out)
{
	const struct gosym_goroutine_facts *fx = &tb->in->facts;
	struct gr_stack *st = &tb->st;
	const struct gr_g *g;
	int n, err;

	if (i >= s->n || s->g[i].state != GR_G_OK)
		return -ENOENT;
	g = &s->g[i];
	memset(st, 0, sizeof(*st));
	st->f = tb->f;
	created_by(tb, g, &st->created);
	*out = st;
	if (!g->ctx_sp) {
		st->running = true;
		return 0;
	}
	if (gr_snapshot_stack(s, i, &tb->bytes, &tb->base, &tb->len)) {
		tb->bytes = NULL;
		tb->len = 0;
		tb->base = g->ctx_sp;
	}
	/* 1.17-1.20 walk at most _TracebackMaxFrames physical frames. */
	n = walk(tb, g, fx->max_frames ? fx->max_frames : MAX_PHYS, &st->stop);
	if (n < 0)
		return n;
	st->nphys = n;
	st->complete = st->stop == DWUNW_STOP_TOPFRAME || st->stop == DWUNW_STOP_SPWRITE ||
		       st->stop == DWUNW_STOP_END;
	if ((err = expand(tb, st, n)))
		return err;
	if (!mark_shown(tb, st, false))
		mark_shown(tb, st, true);
	elide(fx, st);
	return 0;
}
