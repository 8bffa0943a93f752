// SPDX-License-Identifier: MIT
/*
 * pprof labels of the goroutines of a snapshot (g.labels, set by
 * runtime/pprof.SetGoroutineLabels / pprof.Do).  Two layouts
 * (gosym_goroutine_facts().labels):
 *
 *   LIST (Go 1.24+): g.labels points to a labelMap, a struct whose first
 *     field is a []struct{key, value string}, sorted by key;
 *   MAP (Go 1.17-1.23): g.labels points to a labelMap variable, a
 *     map[string]string: a pointer to the runtime's hmap {count int; flags,
 *     B uint8; noverflow uint16; hash0 uint32; buckets, oldbuckets ptr...},
 *     2^B buckets of {tophash [8]uint8; keys [8]string; values [8]string;
 *     overflow *bucket} (272 bytes for string keys and values; a slot is
 *     full when its tophash is at least 5, minTopHash).
 *
 * pprof builds a label set once and never changes it, so a set is read
 * without synchronisation; a map caught growing (oldbuckets set) is
 * counted as unreadable rather than half read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goruntime/allgs.h"
#include "goruntime/internal.h"

#define MAX_LABELS 256
#define MAX_STRING 4096
#define MAP_BUCKET 272
#define MAP_MAX_B 8
#define MIN_TOPHASH 5

static const char *strdup_arena(struct gr_snapshot *s, const char *src, size_t len)
{
	size_t off;

	if (s->strings_len + len + 1 > s->strings_cap) {
		size_t cap = s->strings_cap ? s->strings_cap * 2 : 4096;
		char *p;

		while (cap < s->strings_len + len + 1)
			cap *= 2;
		p = realloc(s->strings, cap);
		if (!p)
			return NULL;
		s->strings = p;
		s->strings_cap = cap;
	}
	off = s->strings_len;
	memcpy(s->strings + off, src, len);
	s->strings[off + len] = '\0';
	s->strings_len += len + 1;
	return (const char *)(uintptr_t)(off + 1); /* an offset until the end (realloc) */
}

/* A Go string {ptr, len} of the target, copied into the arena. */
static const char *read_string(struct gr_target *t, struct gr_snapshot *s, const uint8_t *hdr)
{
	uint64_t p, len;
	char buf[MAX_STRING];

	memcpy(&p, hdr, 8);
	memcpy(&len, hdr + 8, 8);
	if (len > MAX_STRING || (len && !p))
		return NULL;
	if (len && gr_mem_read(t->mem, p, buf, len))
		return NULL;
	return strdup_arena(s, buf, len);
}

static int add_label(struct gr_snapshot *s, const char *k, const char *v)
{
	if (!k || !v)
		return -EFAULT;
	if (s->nlabels == s->labels_cap) {
		size_t cap = s->labels_cap ? s->labels_cap * 2 : 64;
		struct gr_label *l = realloc(s->labels, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		s->labels = l;
		s->labels_cap = cap;
	}
	s->labels[s->nlabels++] = (struct gr_label){ k, v };
	return 0;
}

static int read_list(struct gr_target *t, struct gr_snapshot *s, uint64_t p)
{
	uint8_t hdr[24], kv[32];
	uint64_t arr, n;
	int err;

	if (gr_mem_read(t->mem, p, hdr, sizeof(hdr)))
		return -EFAULT;
	memcpy(&arr, hdr, 8);
	memcpy(&n, hdr + 8, 8);
	if (n > MAX_LABELS)
		return -EPROTO;
	for (uint64_t i = 0; i < n; i++) {
		if (gr_mem_read(t->mem, arr + i * 32, kv, sizeof(kv)))
			return -EFAULT;
		if ((err = add_label(s, read_string(t, s, kv), read_string(t, s, kv + 16))))
			return err;
	}
	return 0;
}

static int read_map(struct gr_target *t, struct gr_snapshot *s, uint64_t p)
{
	uint8_t h[48], b[MAP_BUCKET];
	uint64_t hmap, count, buckets, old;
	int err, nread = 0;

	if (gr_mem_read(t->mem, p, &hmap, 8))
		return -EFAULT;
	if (!hmap)
		return 0;
	if (gr_mem_read(t->mem, hmap, h, sizeof(h)))
		return -EFAULT;
	memcpy(&count, h, 8);
	memcpy(&buckets, h + 16, 8);
	memcpy(&old, h + 24, 8);
	if (count > MAX_LABELS || h[9] > MAP_MAX_B || old)
		return -EPROTO;
	for (uint64_t i = 0; i < (1ull << h[9]) && count; i++) {
		uint64_t bp = buckets + i * MAP_BUCKET;

		for (int chain = 0; bp && chain < MAX_LABELS; chain++) {
			if (gr_mem_read(t->mem, bp, b, sizeof(b)))
				return -EFAULT;
			for (int j = 0; j < 8; j++) {
				if (b[j] < MIN_TOPHASH)
					continue;
				if (++nread > MAX_LABELS)
					return -EPROTO;
				err = add_label(s, read_string(t, s, b + 8 + j * 16),
						read_string(t, s, b + 136 + j * 16));
				if (err)
					return err;
			}
			memcpy(&bp, b + 264, 8);
		}
	}
	return nread == (int)count ? 0 : -EPROTO;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct gr_label *)a)->key, ((const struct gr_label *)b)->key);
}

int gr_labels__read(struct gr_target *t, struct gr_snapshot *s)
{
	enum gosym_labels_kind kind = t->info.facts.labels;

	for (size_t i = 0; i < s->n; i++) {
		struct gr_g *g = &s->g[i];
		size_t first = s->nlabels;
		int err;

		if (g->state != GR_G_OK || !g->labels)
			continue;
		err = kind == GOSYM_LABELS_LIST ? read_list(t, s, g->labels) :
		      kind == GOSYM_LABELS_MAP ? read_map(t, s, g->labels) : -EOPNOTSUPP;
		if (err) {
			s->nlabels = first;
			g->label_err = 1;
			s->stats.label_errors++;
			continue;
		}
		g->label_idx = (uint32_t)first;
		g->nlabels = (uint32_t)(s->nlabels - first);
	}
	/* Strings were stored as arena offsets + 1 (the arena moves while
	 * growing); now it is final. */
	for (size_t i = 0; i < s->nlabels; i++) {
		s->labels[i].key = s->strings + ((uintptr_t)s->labels[i].key - 1);
		s->labels[i].value = s->strings + ((uintptr_t)s->labels[i].value - 1);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->g[i].nlabels > 1 && kind == GOSYM_LABELS_MAP)
			qsort(s->labels + s->g[i].label_idx, s->g[i].nlabels, sizeof(*s->labels),
			      cmp_label);
	return 0;
}

/* A label set at p on its own (gr_labels_at): read into a scratch
 * snapshot's arena, then packed into one allocation. */
int gr_labels_at(struct gr_target *t, uint64_t p, struct gr_labelset **out)
{
	enum gosym_labels_kind kind = t->info.facts.labels;
	struct gr_snapshot s = { 0 };
	struct gr_labelset *set;
	char *strings;
	int err;

	*out = NULL;
	if (!p)
		return -ENOENT;
	err = kind == GOSYM_LABELS_LIST ? read_list(t, &s, p) :
	      kind == GOSYM_LABELS_MAP ? read_map(t, &s, p) : -EOPNOTSUPP;
	if (!err && !(set = malloc(sizeof(*set) + s.nlabels * sizeof(set->kv[0]) + s.strings_len)))
		err = -ENOMEM;
	if (err) {
		free(s.labels);
		free(s.strings);
		return err;
	}
	set->n = s.nlabels;
	strings = (char *)&set->kv[s.nlabels];
	if (s.strings_len)
		memcpy(strings, s.strings, s.strings_len);
	/* arena offsets + 1 (strdup_arena) into pointers */
	for (size_t i = 0; i < s.nlabels; i++) {
		set->kv[i].key = strings + ((uintptr_t)s.labels[i].key - 1);
		set->kv[i].value = strings + ((uintptr_t)s.labels[i].value - 1);
	}
	if (set->n > 1 && kind == GOSYM_LABELS_MAP)
		qsort(set->kv, set->n, sizeof(set->kv[0]), cmp_label);
	free(s.labels);
	free(s.strings);
	*out = set;
	return 0;
}
