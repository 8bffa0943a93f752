// SPDX-License-Identifier: MIT
/*
 * The PC -> result cache behind gosym_lookup_pc_line().
 *
 * A tracer symbolizes the same PCs over and over (hot loops, the same call
 * stacks).  An uncached lookup touches a dozen cache lines spread over the
 * binary's tables (function index, _func record, two pc-value tables, the
 * file table), each a likely cache and TLB miss in a big binary; a cached
 * one reads one 64-byte entry from a 1 MiB table.
 *
 * Layout: PCC_SETS sets of 2 ways, one cache line per way.  A new result
 * goes into way 0 and moves way 0's old result to way 1 (so two PCs that
 * share a set both stay cached).  Concurrency: each set has a sequence
 * counter (in way 0), odd while a writer updates the set.  Readers copy
 * the entry and retry-free check the counter didn't move (a moved counter
 * is a miss, not a retry: the caller just does the real lookup).  Writers
 * that find the set busy skip caching.  All fields are accessed with
 * relaxed atomics so there is no data race in the C11 sense.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "internal.h"

#define PCC_SETS_LOG2 13
#define PCC_SETS (1u << PCC_SETS_LOG2)
#define PCC_WAYS 2

struct pcc_way {
	uint64_t pc;
	const char *func, *file;
	uint64_t entry, end;
	uint32_t index;
	int32_t line;
	uint32_t seq; /* way 0 only: the set's sequence counter */
	uint8_t funcid, flag, special, valid;
} __attribute__((aligned(64)));

struct gosym_pccache_set {
	struct pcc_way way[PCC_WAYS];
};

#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static struct gosym_pccache_set *pcc_set(struct gosym_pccache_set *c, uint64_t pc)
{
	/* Fibonacci hashing: PCs of one function differ in low bits only. */
	return &c[(pc * 0x9e3779b97f4a7c15ull) >> (64 - PCC_SETS_LOG2)];
}

bool gosym__pccache_get(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out)
{
	struct gosym_pccache_set *c = __atomic_load_n(&g->pccache, __ATOMIC_ACQUIRE), *s;
	uint32_t seq;

	if (!c)
		return false;
	s = pcc_set(c, pc);
	seq = __atomic_load_n(&s->way[0].seq, __ATOMIC_ACQUIRE);
	if (seq & 1)
		return false;
	for (int w = 0; w < PCC_WAYS; w++) {
		struct pcc_way *e = &s->way[w];

		if (!LD(e->valid) || LD(e->pc) != pc)
			continue;
		out->func = LD(e->func);
		out->file = LD(e->file);
		out->entry = LD(e->entry);
		out->end = LD(e->end);
		out->index = LD(e->index);
		out->line = LD(e->line);
		out->funcid = LD(e->funcid);
		out->flag = LD(e->flag);
		out->special = (enum gosym_special)LD(e->special);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		return __atomic_load_n(&s->way[0].seq, __ATOMIC_RELAXED) == seq;
	}
	return false;
}

static void way_copy(struct pcc_way *d, struct pcc_way *s)
{
	ST(d->pc, LD(s->pc));
	ST(d->func, LD(s->func));
	ST(d->file, LD(s->file));
	ST(d->entry, LD(s->entry));
	ST(d->end, LD(s->end));
	ST(d->index, LD(s->index));
	ST(d->line, LD(s->line));
	ST(d->funcid, LD(s->funcid));
	ST(d->flag, LD(s->flag));
	ST(d->special, LD(s->special));
	ST(d->valid, LD(s->valid));
}

/* The cache, mapped on first use.  NULL if it is off or can't be mapped. */
static struct gosym_pccache_set *pcc_get_or_map(const struct gosym *g)
{
	struct gosym_pccache_set *c = __atomic_load_n(&g->pccache, __ATOMIC_ACQUIRE), *expected = NULL;
	size_t len = PCC_SETS * sizeof(*c);

	if (c || g->pccache_off)
		return c;
	/* Anonymous memory: zeroed (all entries invalid), page aligned, and
	 * faulted in only where entries get written. */
	c = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	/* The handle is logically const: the cache is invisible state. */
	if (!__atomic_compare_exchange_n((struct gosym_pccache_set **)&g->pccache, &expected, c,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(c, len);
		c = expected;
	}
	return c;
}

void gosym__pccache_put(const struct gosym *g, uint64_t pc, const struct gosym_pcinfo *in)
{
	struct gosym_pccache_set *c = pcc_get_or_map(g), *s;
	struct pcc_way *e;
	uint32_t seq;

	if (!c)
		return;
	s = pcc_set(c, pc);
	seq = __atomic_load_n(&s->way[0].seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !__atomic_compare_exchange_n(&s->way[0].seq, &seq, seq + 1, false,
						      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return; /* another thread is writing this set: don't wait */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (LD(s->way[0].valid))
		way_copy(&s->way[1], &s->way[0]);
	e = &s->way[0];
	ST(e->pc, pc);
	ST(e->func, in->func);
	ST(e->file, in->file);
	ST(e->entry, in->entry);
	ST(e->end, in->end);
	ST(e->index, in->index);
	ST(e->line, (int32_t)in->line);
	ST(e->funcid, in->funcid);
	ST(e->flag, in->flag);
	ST(e->special, (uint8_t)in->special);
	ST(e->valid, 1);
	__atomic_store_n(&s->way[0].seq, seq + 2, __ATOMIC_RELEASE);
}

void gosym__pccache_free(struct gosym *g)
{
	if (g->pccache)
		munmap(g->pccache, PCC_SETS * sizeof(*g->pccache));
	g->pccache = NULL;
}

void gosym_set_pc_cache(struct gosym *g, bool enabled)
{
	g->pccache_off = !enabled;
	if (!enabled)
		gosym__pccache_free(g);
}
