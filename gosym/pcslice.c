// SPDX-License-Identifier: MIT
/*
 * gosym_lookup_pc_line() for a random pc in a big binary: the slice table.
 *
 * A lookup's cost there is its chain of dependent cache (and TLB) misses,
 * each far dearer than the decoding (docs/gosym.md has the numbers).
 * Through the hot records alone (the fallback) the chain is bucket -> hot
 * record -> the function's slice index -> pc-value table bytes -> the
 * compilation unit's file table.  The slice table puts what
 * the common case needs in one 32-byte record per 64 bytes of text, found
 * from the pc by arithmetic: the function's index and the decoder states
 * of its line and file tables at the slice's start, or the line / file
 * name itself when it doesn't change inside the slice (the file name then
 * resolved through the file table when the slice is built; up to three
 * names when the file changes inside the slice).  After that
 * one miss, the hot record (name, bounds, flags), the line table bytes and
 * the file table bytes are independent loads, issued before any decoding
 * so they overlap.
 *
 * The table covers the text (32 bytes per 64 bytes of code: 22 MB of
 * address space for terraform's 45 MB), is mmap'ed on the first lookup and
 * filled one function at a time on its first lookup, so only the pages of
 * functions looked up are ever touched (huge pages: 2 MiB at a time).  Concurrency: a record's fields are
 * written with relaxed atomic stores (its flags with atomic ORs), then
 * its fn with a release store; a reader loads fn with acquire.  Two
 * threads filling the same function write identical values, and neither
 * ever stores a flags byte it read earlier (see fill()).
 */
#include <errno.h>
#include <sys/mman.h>

#include "internal.h"

#define SL_LOG2 6
#define SL_SIZE (1u << SL_LOG2)

#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static size_t nslices(const struct gosym *g)
{
	return ((size_t)g->hot[g->pcln.nfunc].entry_off + SL_SIZE - 1) >> SL_LOG2;
}

/* The table, mapped on first use; NULL if it can't be. */
static struct gosym_slice *slices_get_or_map(const struct gosym *g)
{
	struct gosym_slice *t = __atomic_load_n(&g->slices, __ATOMIC_ACQUIRE), *expected = NULL;
	size_t len;

	if (t)
		return t;
	len = nslices(g) * sizeof(*t);
	if (!len)
		return NULL;
	/* Anonymous memory: zeroed (nothing built), faulted in page by page. */
	t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	/* Huge pages where the system allows them (THP "madvise" mode): a
	 * random lookup's first load then misses the TLB less (docs/gosym.md,
	 * Measured); the cost is memory in 2 MiB steps, at most the table's
	 * size.  Advice only: errors don't matter. */
	madvise(t, len, MADV_HUGEPAGE);
	/* The handle is logically const: the table is invisible state. */
	if (!__atomic_compare_exchange_n((struct gosym_slice **)&g->slices, &expected, t, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(t, len);
		t = expected;
	}
	return t;
}

void gosym__pcslice_free(struct gosym *g)
{
	if (g->slices)
		munmap(g->slices, nslices(g) * sizeof(*g->slices));
	g->slices = NULL;
}

static bool tab_ok(const struct gosym *g, uint32_t off)
{
	return off && off < g->pcln.pctab_size;
}

/* The file name of file number fileno of a function in compilation unit
 * cuoff, as a slice stores it: its offset from pcln.data, UINT32_MAX for
 * "?".  false if the name lies outside the table (then the slice keeps the
 * decoder state instead). */
static bool file_ref(const struct gosym *g, uint32_t cuoff, int32_t fileno, uint32_t *ref)
{
	struct gosym_rawfunc f = { .cuoff = cuoff };
	const char *s = gosym__filename(g, &f, fileno);
	const char *lo = (const char *)g->pcln.data;

	if (s >= lo && s < lo + g->pcln.size && (uint64_t)(s - lo) < UINT32_MAX)
		*ref = s - lo;
	else if (s[0] == '?' && !s[1])
		*ref = UINT32_MAX; /* gosym__filename's own "?" */
	else
		return false;
	return true;
}

/* The file table over [at, e) (offsets from base) from the decoder state
 * (p, cur, v, first) at or before at, as up to three runs of file names
 * (see struct gosym_slice); false if it takes more. */
static bool file_runs(const struct gosym *g, const uint8_t *p, uint64_t cur, int32_t v, bool first,
		      uint64_t at, uint64_t e, uint32_t cuoff, uint32_t ref[3], uint8_t b[2])
{
	const uint8_t *end = g->pcln.pctab + g->pcln.pctab_size;
	uint64_t s = at;
	int nr = 0;

	while (at < e) {
		uint64_t ncur = cur;
		int32_t nv = v;
		bool ok = gosym__pcvalue_step(&p, end, first, g->pcln.quantum, &ncur, &nv);
		uint32_t r = GOSYM_SL_NOFILE;

		if (ok && !file_ref(g, cuoff, nv, &r))
			return false;
		if (ok && ncur <= at) { /* a step ending before at */
			cur = ncur, v = nv, first = false;
			continue;
		}
		if (!nr || ref[nr - 1] != r) {
			if (nr == 3)
				return false;
			if (nr)
				b[nr - 1] = at - s;
			ref[nr++] = r;
		}
		if (!ok) /* no position from here on */
			break;
		at = ncur, cur = ncur, v = nv, first = false;
	}
	for (int i = nr; i < 3; i++) {
		ref[i] = ref[nr - 1];
		b[i - 1] = SL_SIZE;
	}
	return true;
}

/* Fill the line (file = false) or file columns of slices k0..k1 of the
 * function [entry_off, end_off) whose table is at pctab offset off: one
 * pass over the table. */
static void fill(const struct gosym *g, struct gosym_slice *t, uint32_t k0, uint32_t k1, uint32_t off,
		 uint32_t entry_off, uint32_t end_off, bool file, uint32_t cuoff)
{
	const uint8_t *tab = g->pcln.pctab, *p = tab + off, *end = tab + g->pcln.pctab_size;
	uint64_t cur = entry_off;
	int32_t v = -1;
	bool first = true;
	uint32_t k = k0;

	while (k <= k1) {
		const uint8_t *q = p;
		uint64_t ncur = cur;
		int32_t nv = v;
		bool ok = gosym__pcvalue_step(&q, end, first, g->pcln.quantum, &ncur, &nv);

		/* The state before this step serves every slice starting
		 * before the step's end; past the table's end (or on
		 * corruption) every remaining slice resumes from it, where
		 * decoding fails again, as it does from the entry. */
		while (k <= k1 && (!ok || ((uint64_t)k << SL_LOG2) < ncur)) {
			struct gosym_slice *s = &t[k];
			uint64_t sk = (uint64_t)k << SL_LOG2, e = sk + SL_SIZE;
			uint8_t fl;

			if (e > end_off)
				e = end_off;
			if (file) {
				/* The file names themselves when few: no decoding
				 * and no file table row at lookup. */
				uint32_t ref[3];
				uint8_t b[2];
				bool runs = file_runs(g, p, cur, v, first, sk, e, cuoff, ref, b);

				ST(s->file[0], runs ? ref[0] : (uint32_t)(p - tab));
				ST(s->file[1], runs ? ref[1] : (uint32_t)cur);
				ST(s->file[2], runs ? ref[2] : (uint32_t)v);
				ST(s->file_b[0], runs ? b[0] : 0);
				ST(s->file_b[1], runs ? b[1] : 0);
				fl = (first ? GOSYM_SL_FILE_FIRST : 0) | (runs ? GOSYM_SL_FILE_RUNS : 0);
			} else {
				/* The step's value holds over the slice's part of
				 * the function: store the line, not a state. */
				bool cst = ok && ncur >= e;

				ST(s->line_off, (uint32_t)(p - tab));
				ST(s->line_pc, (uint32_t)cur);
				ST(s->line_val, cst ? nv : v);
				fl = (first ? GOSYM_SL_LINE_FIRST : 0) | (cst ? GOSYM_SL_LINE_CONST : 0);
			}
			/* One atomic OR, not a load and a store: the line
			 * and file passes each own half of the bits, and a
			 * second thread building the same function must not
			 * write back a flags byte it read before the first
			 * thread's other pass set its half (that lost the
			 * file bits of a slice already published by the
			 * first thread's fn store).  The record starts
			 * zeroed and every builder sets the same bits, so
			 * no bit ever needs clearing. */
			__atomic_fetch_or(&s->flags, fl, __ATOMIC_RELAXED);
			k++;
		}
		if (!ok)
			break;
		p = q;
		cur = ncur;
		v = nv;
		first = false;
	}
}

/* Fill the slices starting inside function idx.  Functions with a bad
 * record or invalid table offsets are left out: their pcs take
 * from_entry() every time, which answers as the old path did. */
static void build(const struct gosym *g, struct gosym_slice *t, size_t idx)
{
	const struct gosym_hot *h = &g->hot[idx];
	uint32_t entry_off = h->entry_off, end_off = h[1].entry_off, k0, k1;

	if (h->bad || !tab_ok(g, h->pcln) || !tab_ok(g, h->pcfile) || end_off <= entry_off)
		return;
	k0 = (uint32_t)(((uint64_t)entry_off + SL_SIZE - 1) >> SL_LOG2);
	k1 = (end_off - 1) >> SL_LOG2;
	if ((uint64_t)k0 << SL_LOG2 >= end_off)
		return; /* no slice starts inside it */
	fill(g, t, k0, k1, h->pcln, entry_off, end_off, false, 0);
	fill(g, t, k0, k1, h->pcfile, entry_off, end_off, true, h->cuoff);
	for (uint32_t k = k0; k <= k1; k++) {
		uint64_t s = (uint64_t)k << SL_LOG2, e = end_off - s;

		ST(t[k].fn_bytes, (uint8_t)(e < SL_SIZE ? e : SL_SIZE));
		__atomic_store_n(&t[k].fn, (uint32_t)idx + 1, __ATOMIC_RELEASE);
	}
}

/* The answer's function fields from hot record h (index idx). */
static void fill_func(const struct gosym *g, const struct gosym_hot *h, size_t idx, uint64_t base,
		      struct gosym_pcinfo *out)
{
	out->func = gosym__funcname(g, h->nameoff);
	out->entry = base + h->entry_off;
	out->end = base + h[1].entry_off;
	out->index = idx;
	out->funcid = h->funcid;
	out->flag = h->flag;
	out->special = h->special;
}

/* pc in function idx, decoding its tables from the entry: for a pc past
 * the end of its slice's function, in a function that starts inside the
 * slice (so pc is less than 64 bytes past that entry), or in a function
 * build() leaves out. */
static int from_entry(const struct gosym *g, size_t idx, uint64_t base, uint64_t pc,
		      struct gosym_pcinfo *out)
{
	const struct gosym_hot *h = &g->hot[idx];
	uint64_t entry = base + h->entry_off;
	int32_t fileno, ln;

	if (h->bad)
		return -EPROTO;
	fill_func(g, h, idx, base, out);
	if (tab_ok(g, h->pcfile) && tab_ok(g, h->pcln) &&
	    gosym__pcvalue_from(g, g->pcln.pctab + h->pcfile, entry, -1, true, pc, &fileno) &&
	    gosym__pcvalue_from(g, g->pcln.pctab + h->pcln, entry, -1, true, pc, &ln)) {
		struct gosym_rawfunc f = { .cuoff = h->cuoff };

		out->file = gosym__filename(g, &f, fileno);
		out->line = ln;
	} else {
		out->file = NULL;
		out->line = 0;
	}
	return 0;
}

int gosym__pcslice_lookup(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out)
{
	const struct gosym_hot *h = g->hot, *fh;
	size_t n = g->pcln.nfunc, idx;
	uint64_t base = g->hot_base, off;
	struct gosym_slice *t = slices_get_or_map(g);
	const struct gosym_slice *s;
	const uint8_t *tab = g->pcln.pctab;
	uint32_t fn, in;
	uint8_t fl;
	int32_t ln, fileno;

	if (!t)
		return 1;
	if (pc < base || (off = pc - base) >= h[n].entry_off)
		return -ENOENT;
	s = &t[off >> SL_LOG2];
	in = off & (SL_SIZE - 1);
	fn = __atomic_load_n(&s->fn, __ATOMIC_ACQUIRE);
	if (!fn) {
		/* First lookup here: find the function as lookup_hot does,
		 * and fill its slices if this one starts inside it. */
		idx = gosym__hot_walk(h, n, g->bucket[off / GOSYM_BUCKET], off);
		if (h[idx].entry_off > off - in)
			return from_entry(g, idx, base, pc, out);
		build(g, t, idx);
		fn = __atomic_load_n(&s->fn, __ATOMIC_ACQUIRE);
		if (!fn)
			return from_entry(g, idx, base, pc, out);
	}
	if (in >= LD(s->fn_bytes)) {
		/* pc is in a function starting inside this slice. */
		return from_entry(g, gosym__hot_walk(h, n, fn, off), base, pc, out);
	}
	idx = fn - 1;
	fh = &h[idx];
	fl = LD(s->flags);
	/* Issue every load whose address is known now before the first
	 * decoding branch (a mispredicted one discards younger work): the
	 * hot record and the next one (the end), the file table bytes, and
	 * the file table row the slice's file value names (usually the
	 * answer's; cuoff comes with the hot record). */
	__builtin_prefetch(fh);
	__builtin_prefetch(fh + 1);
	if (!(fl & GOSYM_SL_FILE_RUNS)) {
		__builtin_prefetch(tab + LD(s->file[0]));
		if (g->pcln.format != GOSYM_PCLN_12)
			/* (integer arithmetic: the guess may point anywhere, and
			 * a prefetch never faults) */
			__builtin_prefetch((const void *)((uintptr_t)g->pcln.cutab +
							  4 * ((uintptr_t)fh->cuoff + LD(s->file[2]))));
	}
	if (fl & GOSYM_SL_LINE_CONST)
		ln = LD(s->line_val);
	else if (!gosym__pcvalue_from(g, tab + LD(s->line_off), base + LD(s->line_pc),
				      LD(s->line_val), fl & GOSYM_SL_LINE_FIRST, pc, &ln))
		goto nopos;
	if (fl & GOSYM_SL_FILE_RUNS) {
		uint32_t ref = LD(s->file[in < LD(s->file_b[0]) ? 0 : in < LD(s->file_b[1]) ? 1 : 2]);

		if (ref == GOSYM_SL_NOFILE)
			goto nopos;
		out->file = ref == UINT32_MAX ? "?" : (const char *)g->pcln.data + ref;
	} else if (gosym__pcvalue_from(g, tab + LD(s->file[0]), base + LD(s->file[1]),
				       (int32_t)LD(s->file[2]), fl & GOSYM_SL_FILE_FIRST, pc, &fileno)) {
		struct gosym_rawfunc f = { .cuoff = fh->cuoff };

		out->file = gosym__filename(g, &f, fileno);
	} else {
		goto nopos;
	}
	out->line = ln;
	fill_func(g, fh, idx, base, out);
	return 0;
nopos:
	out->file = NULL;
	out->line = 0;
	fill_func(g, fh, idx, base, out);
	return 0;
}
