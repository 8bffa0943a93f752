// SPDX-License-Identifier: MIT
/* What states reads from the process itself.  See procread.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goruntime/allgs.h"
#include "states/labels.h"
#include "states/procread.h"
#include "tracing/clock.h"

int st_procread_init(struct st_procread *r, pid_t pid)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->labels = st_label_table_new();
	return r->labels ? 0 : -ENOMEM;
}

void st_procread_release(struct st_procread *r)
{
	gr_target_free(r->t);
	st_label_table_free(r->labels);
	memset(r, 0, sizeof(*r));
}

static int open_target(struct st_procread *r)
{
	if (r->t)
		return 0;
	if (r->open_err)
		return r->open_err;
	r->open_err = gr_target_open(r->pid, &r->t);
	if (r->open_err) {
		r->t = NULL;
		return r->open_err;
	}
	r->want_labels = gr_target_info(r->t)->facts.labels != GOSYM_LABELS_UNKNOWN &&
			 gr_target_info(r->t)->off.g_labels >= 0;
	return 0;
}

/* The snapshot's labels of goroutine g, interned; NULL for none. */
static const struct st_labels *seed_labels(struct st_procread *r, const struct gr_snapshot *s,
					   const struct gr_g *g)
{
	struct st_label kv[64];
	uint32_t n = g->nlabels < 64 ? g->nlabels : 64;

	if (!n)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		kv[i].key = s->labels[g->label_idx + i].key;
		kv[i].value = s->labels[g->label_idx + i].value;
	}
	return st_label_intern(r->labels, kv, n);
}

int st_procread_seed(struct st_procread *r, st_seed_fn seed_fn, void *ctx, struct st_resolver *res,
		     uint64_t casg_vaddr, struct st_seed_stats *st)
{
	struct gr_snapshot_opts so = { .stacks = false, .labels = true };	/* default retries */
	struct gr_snapshot *s;
	uint64_t probe_ip;
	int err;

	memset(st, 0, sizeof(*st));
	err = open_target(r);
	if (err)
		return err;
	so.labels = r->want_labels;
	err = gr_snapshot_take(r->t, &so, &s);
	if (err)
		return err;
	/* the resolver's bias comes from the probe's run-time address */
	probe_ip = casg_vaddr + gr_target_info(r->t)->bias;
	st->allglen = s->stats.allglen;
	st->skipped = s->stats.inconsistent;
	st->read_ns = s->stats.read_ns;
	for (size_t i = 0; i < s->n && !err; i++) {
		const struct gr_g *g = &s->g[i];
		struct st_seed seed = {
			.goid = g->goid, .gp = g->addr,
			.state = (int)(g->status & ~(uint32_t)GOSYM_G_SCAN),
			.reason = g->waitreason,
			.waitsince = g->waitsince > 0 ? (uint64_t)g->waitsince : 0,
			.parent = g->parent_goid, .startpc = g->startpc, .gopc = g->gopc,
		};

		if (g->state != GR_G_OK)
			continue;
		st_resolver_resolve(res, probe_ip, g->startpc, g->gopc, &seed.start_func,
				    &seed.created_at);
		seed.labels = seed_labels(r, s, g);
		err = seed_fn(ctx, &seed);
		st->seeded += !err;
	}
	gr_snapshot_free(s);
	return err;
}

/* One field of the g at gp, 8 bytes at offset off (< 0: the release has
 * no such field). */
static int g_field(struct gr_mem *mem, uint64_t gp, int off, uint64_t *v)
{
	*v = 0;
	return off < 0 ? -ENOENT : gr_mem_read(mem, gp + (uint64_t)off, v, sizeof(*v));
}

size_t st_procread_name_missing(struct st_procread *r, struct st_model *m,
				struct st_resolver *res, uint64_t casg_vaddr)
{
	const struct gosym_runtime_offsets *off;
	struct st_goroutine **gs;
	struct gr_mem *mem;
	size_t n, named = 0;

	gs = st_model_goroutines(m, &n);
	for (size_t i = 0; i < n; i++) {
		struct st_goroutine *g = gs[i];
		uint64_t goid, parent, labels;

		if (g->start_func || g->created || g->exited || !g->gp || open_target(r))
			continue;
		mem = gr_target_mem(r->t);
		off = &gr_target_info(r->t)->off;
		/* the g may hold another goroutine by now: same goid or nothing */
		if (g_field(mem, g->gp, off->g_goid, &goid) || (int64_t)goid != g->goid ||
		    g_field(mem, g->gp, off->g_startpc, &g->startpc) ||
		    g_field(mem, g->gp, off->g_gopc, &g->gopc))
			continue;
		if (g->parent < 0 && !g_field(mem, g->gp, off->g_parentgoid, &parent) && parent)
			g->parent = (int64_t)parent;
		st_resolver_resolve(res, casg_vaddr + gr_target_info(r->t)->bias, g->startpc,
				    g->gopc, &g->start_func, &g->created_at);
		if (!g->labels && r->want_labels && !g_field(mem, g->gp, off->g_labels, &labels))
			g->labels = st_procread_labels(r, labels);
		named++;
	}
	return named;
}

size_t st_procread_labels_alive(struct st_procread *r, struct st_goroutine **gs, size_t n)
{
	const struct gosym_runtime_offsets *off;
	struct gr_mem *mem;
	size_t done = 0;

	if (open_target(r) || !r->want_labels)
		return 0;
	mem = gr_target_mem(r->t);
	off = &gr_target_info(r->t)->off;
	for (size_t i = 0; i < n; i++) {
		struct st_goroutine *g = gs[i];
		uint64_t goid, labels;

		if (g->exited || !g->gp)
			continue;
		/* the g may hold another goroutine by now: same goid or nothing */
		if (g_field(mem, g->gp, off->g_goid, &goid) || (int64_t)goid != g->goid ||
		    g_field(mem, g->gp, off->g_labels, &labels))
			continue;
		g->labels = labels ? st_procread_labels(r, labels) : NULL;
		done++;
	}
	return done;
}

const struct st_labels *st_procread_labels(void *ctx, uint64_t labels_ptr)
{
	struct st_procread *r = ctx;
	struct gr_labelset *set;
	const struct st_labels *l;
	struct st_label kv[64];
	uint64_t t0;
	size_t n;
	int err;

	if (!labels_ptr || open_target(r) || !r->want_labels)
		return NULL;
	r->label_reads++;
	t0 = gt_now_ns();
	err = gr_labels_at(r->t, labels_ptr, &set);
	r->label_ns += gt_now_ns() - t0;
	if (err) {
		r->label_fails++;
		return NULL;
	}
	n = set->n < 64 ? set->n : 64;
	for (size_t i = 0; i < n; i++) {
		kv[i].key = set->kv[i].key;
		kv[i].value = set->kv[i].value;
	}
	l = n ? st_label_intern(r->labels, kv, n) : NULL;
	free(set);
	return l;
}
