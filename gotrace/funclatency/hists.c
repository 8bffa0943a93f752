// SPDX-License-Identifier: MIT
/* funclatency's tally from its BPF maps (see funclatency/hists.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "funclatency.h"
#include "aggregate/histogram.h"
#include "aggregate/maps.h"
#include "funclatency/hists.h"

#define NFIELDS (sizeof(struct fl_totals) / sizeof(uint64_t))

_Static_assert(sizeof(struct fl_totals) == sizeof(struct fl_stat), "fl_totals is fl_stat");

struct fl_hists {
	uint32_t nfuncs;
	int stats_fd, hists_fd;
	struct fl_totals *cur, *prev;	/* per function */
	uint64_t *hcur, *hprev, *hout;	/* nfuncs * HIST_NB */
	uint64_t *hcount;		/* values in hcur's histogram, per function */
};

int fl_hists_new(uint32_t nfuncs, int stats_fd, int hists_fd, struct fl_hists **out)
{
	struct fl_hists *h = calloc(1, sizeof(*h));
	size_t n = nfuncs ? nfuncs : 1;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->nfuncs = nfuncs;
	h->stats_fd = stats_fd;
	h->hists_fd = hists_fd;
	h->cur = calloc(n, sizeof(*h->cur));
	h->prev = calloc(n, sizeof(*h->prev));
	h->hcur = calloc(n * HIST_NB, sizeof(uint64_t));
	h->hprev = calloc(n * HIST_NB, sizeof(uint64_t));
	h->hout = calloc(n * HIST_NB, sizeof(uint64_t));
	h->hcount = calloc(n, sizeof(uint64_t));
	if (!h->cur || !h->prev || !h->hcur || !h->hprev || !h->hout || !h->hcount) {
		fl_hists_free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void fl_hists_free(struct fl_hists *h)
{
	if (!h)
		return;
	free(h->cur);
	free(h->prev);
	free(h->hcur);
	free(h->hprev);
	free(h->hout);
	free(h->hcount);
	free(h);
}

int fl_hists_update(struct fl_hists *h)
{
	struct fl_totals *now = calloc(h->nfuncs ? h->nfuncs : 1, sizeof(*now));
	int err;

	if (!now)
		return -ENOMEM;
	/* max_ns (field 2) is the largest over the CPUs, the rest add up */
	err = gt_map_read_percpu_fields(h->stats_fd, 0, h->nfuncs, NFIELDS, 1ULL << 2,
					(uint64_t *)now);
	for (uint32_t f = 0; !err && f < h->nfuncs; f++) {
		uint64_t *hc = h->hcur + (size_t)f * HIST_NB;

		/* the histogram moves with calls: read it when they did, or
		 * when it was read between a call's count and its bucket */
		if (now[f].calls == h->hcount[f])
			continue;
		err = gt_map_read_array(h->hists_fd, f * HIST_NB, HIST_NB, sizeof(uint64_t), hc);
		if (!err)
			h->hcount[f] = gt_hist_count(hc);
	}
	if (!err)
		memcpy(h->cur, now, h->nfuncs * sizeof(*now));
	free(now);
	return err;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct fl_row *x = a, *y = b;

	if (x->t.sum_ns != y->t.sum_ns)
		return x->t.sum_ns > y->t.sum_ns ? -1 : 1;
	if (x->t.calls != y->t.calls)
		return x->t.calls > y->t.calls ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The highest non-empty bucket's top, at most max. */
static uint64_t hist_top(const uint64_t *hb, uint64_t max)
{
	for (int b = HIST_NB - 1; b >= 0; b--)
		if (hb[b])
			return gt_hist_hi(b) < max ? gt_hist_hi(b) : max;
	return 0;
}

static int rows(struct fl_hists *h, bool interval, struct fl_row **out, size_t *n)
{
	struct fl_row *r = calloc(h->nfuncs ? h->nfuncs : 1, sizeof(*r));
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!r)
		return -ENOMEM;
	for (uint32_t f = 0; f < h->nfuncs; f++) {
		const struct fl_totals *c = &h->cur[f], *p = &h->prev[f];
		uint64_t *hc = h->hcur + (size_t)f * HIST_NB, *ho = h->hout + (size_t)f * HIST_NB;
		struct fl_totals t = *c;

		if (interval) {
			t.calls = sub(c->calls, p->calls);
			t.sum_ns = sub(c->sum_ns, p->sum_ns);
			t.unwound = sub(c->unwound, p->unwound);
			t.evicted = sub(c->evicted, p->evicted);
			gt_hist_delta(ho, hc, h->hprev + (size_t)f * HIST_NB);
			t.max_ns = hist_top(ho, c->max_ns);
			h->prev[f] = *c;
			memcpy(h->hprev + (size_t)f * HIST_NB, hc, HIST_NB * sizeof(*hc));
		} else {
			memcpy(ho, hc, HIST_NB * sizeof(*hc));
		}
		if (t.calls || t.unwound || t.evicted)
			r[k++] = (struct fl_row){ f, t, ho };
	}
	qsort(r, k, sizeof(*r), cmp_rows);
	*out = r;
	*n = k;
	return 0;
}

int fl_hists_interval(struct fl_hists *h, struct fl_row **r, size_t *n)
{
	return rows(h, true, r, n);
}

int fl_hists_total(struct fl_hists *h, struct fl_row **r, size_t *n)
{
	return rows(h, false, r, n);
}
