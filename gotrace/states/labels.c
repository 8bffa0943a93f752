// SPDX-License-Identifier: MIT
/* Interned pprof label sets.  See labels.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "states/labels.h"

struct st_label_table {
	struct st_labels **slot;	/* open addressing by content hash */
	uint64_t *hash;
	size_t cap, n;
};

struct st_label_table *st_label_table_new(void)
{
	return calloc(1, sizeof(struct st_label_table));
}

void st_label_table_free(struct st_label_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->slot[i]);
	free(t->slot);
	free(t->hash);
	free(t);
}

size_t st_label_table_count(const struct st_label_table *t)
{
	return t->n;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;	/* end of string */
}

static uint64_t hash_set(const struct st_label *kv, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h = fnv(fnv(h, kv[i].key), kv[i].value);
	return h ? h : 1;
}

static bool same(const struct st_labels *l, const struct st_label *kv, size_t n)
{
	if (l->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->kv[i].key, kv[i].key) || strcmp(l->kv[i].value, kv[i].value))
			return false;
	return true;
}

static int grow(struct st_label_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct st_labels **ns = calloc(ncap, sizeof(*ns));
	uint64_t *nh = calloc(ncap, sizeof(*nh));

	if (!ns || !nh) {
		free(ns);
		free(nh);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->slot[i])
			continue;
		for (j = t->hash[i] & (ncap - 1); ns[j]; j = (j + 1) & (ncap - 1))
			;
		ns[j] = t->slot[i];
		nh[j] = t->hash[i];
	}
	free(t->slot);
	free(t->hash);
	t->slot = ns;
	t->hash = nh;
	t->cap = ncap;
	return 0;
}

/* One allocation: the header, the pairs, then the strings. */
static struct st_labels *copy_set(const struct st_label *kv, size_t n)
{
	size_t bytes = sizeof(struct st_labels) + n * sizeof(kv[0]);
	struct st_labels *l;
	char *p;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(kv[i].key) + strlen(kv[i].value) + 2;
	l = malloc(bytes);
	if (!l)
		return NULL;
	l->n = (uint32_t)n;
	p = (char *)&l->kv[n];
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(kv[i].key) + 1, vl = strlen(kv[i].value) + 1;

		l->kv[i].key = memcpy(p, kv[i].key, kl);
		p += kl;
		l->kv[i].value = memcpy(p, kv[i].value, vl);
		p += vl;
	}
	return l;
}

const struct st_labels *st_label_intern(struct st_label_table *t, const struct st_label *kv,
					size_t n)
{
	uint64_t h = hash_set(kv, n);
	size_t j;

	if ((t->n + 1) * 2 > t->cap && grow(t))
		return NULL;
	for (j = h & (t->cap - 1); t->slot[j]; j = (j + 1) & (t->cap - 1))
		if (t->hash[j] == h && same(t->slot[j], kv, n))
			return t->slot[j];
	t->slot[j] = copy_set(kv, n);
	if (!t->slot[j])
		return NULL;
	t->hash[j] = h;
	t->n++;
	return t->slot[j];
}
