// SPDX-License-Identifier: MIT
/*
 * --pprof FILE: the snapshot as a goroutine profile (profile.proto,
 * gzipped; sample type goroutine/count as the runtime's own), one sample
 * per goroutine with the frames its goroutine profile records (every
 * logical frame but elided wrappers, runtime ones included), labelled
 * with its goid, its state words and its pprof labels.  Locations are
 * link-time pcs of the executable, one Line each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goroutines/goroutines.h"
#include "output/outfile.h"
#include "output/pprof.h"

#define MAX_LABELS 64

struct positions {
	struct pprof_func *f;
	uint64_t *pc;		/* key of f[i] */
	uint32_t n, cap;
	uint32_t *h;		/* open addressing: index + 1 */
	size_t hcap;
};

static int64_t pos_id(struct positions *p, struct gr_tb *tb, const struct gr_frame *fr,
		      uint64_t link_pc)
{
	size_t k;

	if ((p->n + 1) * 2 > p->hcap) {
		size_t cap = p->hcap ? p->hcap * 2 : 1024;
		uint32_t *h = calloc(cap, sizeof(*h));

		if (!h)
			return -ENOMEM;
		for (uint32_t i = 0; i < p->n; i++) {
			for (k = (p->pc[i] * 0x9e3779b97f4a7c15ULL) >> 17 & (cap - 1); h[k];
			     k = (k + 1) & (cap - 1))
				;
			h[k] = i + 1;
		}
		free(p->h);
		p->h = h;
		p->hcap = cap;
	}
	for (k = (link_pc * 0x9e3779b97f4a7c15ULL) >> 17 & (p->hcap - 1); p->h[k];
	     k = (k + 1) & (p->hcap - 1))
		if (p->pc[p->h[k] - 1] == link_pc)
			return p->h[k] - 1;
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 1024;
		struct pprof_func *f = realloc(p->f, cap * sizeof(*f));
		uint64_t *pc;

		if (!f)
			return -ENOMEM;
		p->f = f;
		pc = realloc(p->pc, cap * sizeof(*pc));
		if (!pc)
			return -ENOMEM;
		p->pc = pc;
		p->cap = cap;
	}
	/* The name is copied: gr_tb_func_name() reuses its buffer. */
	p->f[p->n] = (struct pprof_func){ strdup(gr_tb_func_name(tb, fr->func, fr->inlined)),
					  fr->file, fr->line, link_pc };
	if (!p->f[p->n].name)
		return -ENOMEM;
	p->pc[p->n] = link_pc;
	p->h[k] = p->n + 1;
	return p->n++;
}

static void positions_free(struct positions *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		free((char *)p->f[i].name);
	free(p->f);
	free(p->pc);
	free(p->h);
}

/* The sample of goroutine i: ids of its profile frames, outermost first. */
static int add_goroutine(struct pprof *pp, struct positions *pos, struct gr_tb *tb,
			 struct gr_target *t, const struct gr_snapshot *s, size_t i,
			 uint32_t **ids, int *cap)
{
	const struct gr_g *g = &s->g[i];
	const struct gr_stack *st;
	const char *labels[2 * (MAX_LABELS + 1)];
	uint64_t bias = gr_target_info(t)->bias;
	int n = 0, nl = 0;

	if (gr_tb_stack(tb, s, i, &st) || st->running)
		return 0;
	if (*cap < st->n) {
		uint32_t *p = realloc(*ids, st->n * sizeof(**ids));

		if (!p)
			return -ENOMEM;
		*ids = p;
		*cap = st->n;
	}
	for (int k = st->n - 1; k >= 0; k--) {
		struct gosym_frame gf = { .wrapper = st->f[k].wrapper };
		uint8_t c = k ? st->f[k - 1].special : GOSYM_FN_NORMAL;
		int64_t id;

		if (gosym_elide_wrapper(&gf, (enum gosym_special)c))
			continue;
		id = pos_id(pos, tb, &st->f[k], st->f[k].sympc - bias);
		if (id < 0)
			return (int)id;
		(*ids)[n++] = (uint32_t)id;
	}
	labels[nl++] = "state";
	labels[nl++] = gr_status_string(t, g);
	for (uint32_t k = 0; k < g->nlabels && k < MAX_LABELS; k++) {
		labels[nl++] = s->labels[g->label_idx + k].key;
		labels[nl++] = s->labels[g->label_idx + k].value;
	}
	return n ? pprof_add_labeled(pp, g->goid, *ids, n, 1, 0, labels, nl / 2) : 0;
}

int gor_pprof_write(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
		    const struct gor_opts *o, struct gt_outfile *f)
{
	struct positions pos = { 0 };
	struct pprof *pp = NULL;
	struct pprof_opts po = { 0 };
	struct timespec now;
	uint32_t *ids = NULL;
	int cap = 0, err = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	/* First pass: the positions (the writer borrows the array). */
	for (size_t i = 0; i < s->n && !err; i++) {
		const struct gr_stack *st;

		if (!gor_listed(t, s, i, o->system) || gr_tb_stack(tb, s, i, &st))
			continue;
		for (int k = 0; k < st->n && !err; k++) {
			int64_t id = pos_id(&pos, tb, &st->f[k],
					    st->f[k].sympc - gr_target_info(t)->bias);

			if (id < 0)
				err = (int)id;
		}
	}
	po.funcs = pos.f;
	po.nfuncs = pos.n;
	po.sample_type = "goroutine";
	po.sample_unit = "count";
	po.positions = true;
	po.time_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	po.binary = gr_target_info(t)->exe;
	if (!err)
		err = pprof_new(&po, &pp);
	for (size_t i = 0; i < s->n && !err; i++)
		if (gor_listed(t, s, i, o->system))
			err = add_goroutine(pp, &pos, tb, t, s, i, &ids, &cap);
	if (!err)
		err = pprof_write(pp, f);
	else
		gt_outfile_abort(f);
	pprof_free(pp);
	positions_free(&pos);
	free(ids);
	return err;
}
