// SPDX-License-Identifier: MIT
/*
 * Outstanding allocations and call sites for bpf_memleak (see track.h).
 *
 * Both tables are open-addressing hash tables with linear probing; the
 * allocation table deletes by backward shift (no tombstones), because a
 * long-running target frees as often as it allocates.
 */
#include "track.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memleak.h"
#include "srcline.h"

struct alloc_slot {
	uint64_t addr;		/* 0 = empty (allocators never return 0 for a block) */
	uint64_t size;
	int32_t site;
};

struct track {
	struct alloc_slot *allocs;
	size_t acap, alen;	/* capacity (power of two), used */
	struct site *sites;
	size_t nsites, sites_cap;
	int32_t *site_index;	/* hash of site stacks -> index, -1 empty */
	size_t icap;
	uint64_t unknown_frees;
	uint64_t bytes;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p) {
		fprintf(stderr, "bpf_memleak: out of memory\n");
		exit(1);
	}
	return p;
}

struct track *track_new(void)
{
	struct track *t = xcalloc(1, sizeof(*t));

	t->acap = 1024;
	t->allocs = xcalloc(t->acap, sizeof(*t->allocs));
	t->icap = 256;
	t->site_index = xcalloc(t->icap, sizeof(*t->site_index));
	memset(t->site_index, 0xff, t->icap * sizeof(*t->site_index));
	return t;
}

void track_free(struct track *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsites; i++) {
		free(t->sites[i].frames);
		free(t->sites[i].files);
		free(t->sites[i].lines);
		free(t->sites[i].fp_frames);
	}
	free(t->sites);
	free(t->site_index);
	free(t->allocs);
	free(t);
}

/* ---- sites ---- */

static uint64_t stack_hash(uint32_t kind, const struct dwunw_frame *f, int n)
{
	uint64_t h = mix(kind + 1);

	for (int i = 0; i < n; i++)
		h = mix(h ^ f[i].pc);
	return h;
}

static bool same_stack(const struct site *s, uint32_t kind, const struct dwunw_frame *f, int n)
{
	if (s->kind != kind || s->nframes != (uint32_t)n)
		return false;
	for (int i = 0; i < n; i++)
		if (s->frames[i].pc != f[i].pc)
			return false;
	return true;
}

static void index_grow(struct track *t)
{
	size_t ncap = t->icap * 2;
	int32_t *ni = xcalloc(ncap, sizeof(*ni));

	memset(ni, 0xff, ncap * sizeof(*ni));
	for (size_t i = 0; i < t->nsites; i++) {
		struct site *s = &t->sites[i];
		size_t j = stack_hash(s->kind, s->frames, s->nframes) & (ncap - 1);

		while (ni[j] >= 0)
			j = (j + 1) & (ncap - 1);
		ni[j] = (int32_t)i;
	}
	free(t->site_index);
	t->site_index = ni;
	t->icap = ncap;
}

/* link-time address to look up: a return address's call instruction */
static uint64_t lookup_vaddr(const struct dwunw_frame *f)
{
	return (f->flags & DWUNW_F_RETADDR) && f->vaddr ? f->vaddr - 1 : f->vaddr;
}

int track_site(struct track *t, uint32_t kind, const struct dwunw_frame *frames, int n,
	       enum dwunw_stop stop, const struct dwunw_frame *fp_frames, int fp_n,
	       enum dwunw_stop fp_stop)
{
	size_t j;
	struct site *s;

	if (n < 0)
		n = 0;
	if ((t->nsites + 1) * 2 > t->icap)
		index_grow(t);
	j = stack_hash(kind, frames, n) & (t->icap - 1);
	for (; t->site_index[j] >= 0; j = (j + 1) & (t->icap - 1))
		if (same_stack(&t->sites[t->site_index[j]], kind, frames, n))
			return t->site_index[j];
	if (t->nsites == t->sites_cap) {
		size_t nc = t->sites_cap ? t->sites_cap * 2 : 64;
		struct site *ns = realloc(t->sites, nc * sizeof(*ns));

		if (!ns) {
			fprintf(stderr, "bpf_memleak: out of memory\n");
			exit(1);
		}
		t->sites = ns;
		t->sites_cap = nc;
	}
	s = &t->sites[t->nsites];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->nframes = n;
	s->stop = stop;
	s->frames = xcalloc(n ? n : 1, sizeof(*frames));
	memcpy(s->frames, frames, n * sizeof(*frames));
	s->files = xcalloc(n ? n : 1, sizeof(*s->files));
	s->lines = xcalloc(n ? n : 1, sizeof(*s->lines));
	for (int i = 0; i < n; i++)
		if (frames[i].module &&
		    srcline(frames[i].module, lookup_vaddr(&frames[i]), &s->files[i], &s->lines[i]))
			s->files[i] = NULL;
	if (fp_n < 0)
		fp_n = 0;
	s->fp_frames = xcalloc(fp_n ? fp_n : 1, sizeof(*fp_frames));
	memcpy(s->fp_frames, fp_frames, fp_n * sizeof(*fp_frames));
	s->fp_nframes = fp_n;
	s->fp_stop = fp_stop;
	t->site_index[j] = (int32_t)t->nsites;
	return (int)t->nsites++;
}

struct site *track_site_at(struct track *t, int idx)
{
	return idx >= 0 && (size_t)idx < t->nsites ? &t->sites[idx] : NULL;
}

/* ---- allocations ---- */

static size_t slot_of(const struct track *t, uint64_t addr)
{
	size_t j = mix(addr) & (t->acap - 1);

	while (t->allocs[j].addr && t->allocs[j].addr != addr)
		j = (j + 1) & (t->acap - 1);
	return j;
}

static void allocs_grow(struct track *t)
{
	struct alloc_slot *old = t->allocs;
	size_t ocap = t->acap;

	t->acap *= 2;
	t->allocs = xcalloc(t->acap, sizeof(*t->allocs));
	for (size_t i = 0; i < ocap; i++)
		if (old[i].addr)
			t->allocs[slot_of(t, old[i].addr)] = old[i];
	free(old);
}

/* Remove slot j, shifting later members of its probe run back. */
static void slot_delete(struct track *t, size_t j)
{
	size_t mask = t->acap - 1, i = j;

	t->allocs[j].addr = 0;
	for (;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!t->allocs[i].addr)
			return;
		home = mix(t->allocs[i].addr) & mask;
		/* move i into the hole j when its home is not in (j, i] */
		if ((i > j && (home <= j || home > i)) || (i < j && home <= j && home > i)) {
			t->allocs[j] = t->allocs[i];
			t->allocs[i].addr = 0;
			j = i;
		}
	}
}

static void account(struct track *t, const struct alloc_slot *a, int sign)
{
	struct site *s = &t->sites[a->site];

	if (sign > 0) {
		s->bytes += a->size;
		s->count++;
		t->bytes += a->size;
	} else {
		s->bytes -= a->size;
		s->count--;
		t->bytes -= a->size;
	}
}

void track_alloc(struct track *t, uint64_t addr, uint64_t size, int site)
{
	size_t j;

	if (!addr)
		return;
	if ((t->alen + 1) * 4 > t->acap * 3)
		allocs_grow(t);
	j = slot_of(t, addr);
	if (t->allocs[j].addr)
		account(t, &t->allocs[j], -1);	/* we missed its free */
	else
		t->alen++;
	t->allocs[j] = (struct alloc_slot){addr, size, site};
	account(t, &t->allocs[j], +1);
	t->sites[site].total_count++;
}

bool track_release(struct track *t, uint64_t addr)
{
	size_t j = slot_of(t, addr);

	if (!t->allocs[j].addr) {
		t->unknown_frees++;
		return false;
	}
	account(t, &t->allocs[j], -1);
	slot_delete(t, j);
	t->alen--;
	return true;
}

uint64_t track_outstanding_bytes(const struct track *t)
{
	return t->bytes;
}

uint64_t track_outstanding_count(const struct track *t)
{
	return t->alen;
}

uint64_t track_unknown_frees(const struct track *t)
{
	return t->unknown_frees;
}

/* ---- statistics and report ---- */

bool frames_reach_main(const struct dwunw_frame *frames, int n)
{
	for (int i = 0; i < n; i++) {
		const char *name;
		uint64_t off, va = frames[i].vaddr;

		if (!frames[i].module)
			continue;
		if ((frames[i].flags & DWUNW_F_RETADDR) && va)
			va--;
		if (dwunw_module_symbol(frames[i].module, va, &name, &off) == 0 && !strcmp(name, "main"))
			return true;
	}
	return false;
}

bool frames_prefix(const struct dwunw_frame *a, int na, const struct dwunw_frame *b, int nb)
{
	if (nb > na)
		return false;
	for (int i = 0; i < nb; i++)
		if (a[i].pc != b[i].pc)
			return false;
	return true;
}

void walk_stats_add(struct walk_stats *s, const struct dwunw_frame *frames, int n,
		    enum dwunw_stop stop, bool main, bool agree)
{
	s->walks++;
	s->agree += agree;
	if (stop == DWUNW_STOP_END || stop == DWUNW_STOP_TOPFRAME)
		s->complete++;
	if (main)
		s->reached_main++;
	if ((unsigned)stop < DWUNW_STOP__COUNT)
		s->stops[stop]++;
	s->frames += n > 0 ? n : 0;
}

const char *kind_name(uint32_t kind)
{
	static const char *const names[ML_KIND__COUNT] = {
		[ML_MALLOC] = "malloc",
		[ML_CALLOC] = "calloc",
		[ML_REALLOC] = "realloc",
		[ML_REALLOCARRAY] = "reallocarray",
		[ML_POSIX_MEMALIGN] = "posix_memalign",
		[ML_MEMALIGN] = "memalign",
	};

	return kind < ML_KIND__COUNT && names[kind] ? names[kind] : "?";
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p ? p : "?";
}

static void print_frame(FILE *out, int i, const struct dwunw_frame *f, const char *file, int line)
{
	struct dwunw_sym syms[8];
	struct dwunw_module_info mi;
	const char *mod = "?", *name;
	uint64_t off, va = lookup_vaddr(f);
	int n;

	if (f->module && dwunw_module_info(f->module, &mi) == 0)
		mod = base_name(mi.path);
	fprintf(out, "    #%-2d 0x%016llx ", i, (unsigned long long)f->pc);
	if (!f->module) {
		fprintf(out, "??\n");
		return;
	}
	/* Go code and inlined frames come with file:line from the pclntab;
	 * for C the ELF symbol table gives the function and the offset, and
	 * the DWARF line table (srcline.c), when present, the position. */
	n = dwunw_symbolize(f, syms, 8);
	if (n > 0 && syms[0].file) {
		for (int k = 0; k < n && k < 8; k++)
			fprintf(out, "%s%s (%s:%d)%s", k ? " <- " : "", syms[k].func, syms[k].file,
				syms[k].line, syms[k].inlined ? " [inlined]" : "");
		fprintf(out, " [%s]\n", mod);
		return;
	}
	if (dwunw_module_symbol(f->module, va, &name, &off) == 0)
		/* off is from pc - 1 for return addresses: print the pc's own */
		fprintf(out, "%s+0x%llx", name, (unsigned long long)(off + (va != f->vaddr)));
	else
		fprintf(out, "+0x%llx", (unsigned long long)f->vaddr);
	if (file)
		fprintf(out, " (%s:%d)", file, line);
	fprintf(out, " [%s]\n", mod);
	if (f->flags & DWUNW_F_SIGNAL)
		fprintf(out, "        <signal handler called>\n");
}

static struct track *sort_t;
static int by_bytes(const void *a, const void *b)
{
	const struct site *x = &sort_t->sites[*(const int *)a], *y = &sort_t->sites[*(const int *)b];

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return *(const int *)a - *(const int *)b;
}

void track_report(struct track *t, FILE *out, int top, bool show_fp)
{
	int *order = xcalloc(t->nsites + 1, sizeof(int));
	int n = 0;

	for (size_t i = 0; i < t->nsites; i++)
		if (t->sites[i].count)
			order[n++] = (int)i;
	sort_t = t;
	qsort(order, n, sizeof(int), by_bytes);
	fprintf(out, "Outstanding: %llu bytes in %llu allocations from %d call sites%s\n",
		(unsigned long long)t->bytes, (unsigned long long)t->alen, n,
		top > 0 && n > top ? " (top ones by bytes below)" : "");
	for (int k = 0; k < n && (top <= 0 || k < top); k++) {
		struct site *s = &t->sites[order[k]];

		fprintf(out, "\n%llu bytes in %llu allocations from %s, %llu allocated in all\n",
			(unsigned long long)s->bytes, (unsigned long long)s->count, kind_name(s->kind),
			(unsigned long long)s->total_count);
		fprintf(out, "  dwarf: %u frames, stop %s | fp: reached main %llu/%llu, "
			"no frame wrong or missing %llu/%llu\n",
			s->nframes, dwunw_stop_name(s->stop), (unsigned long long)s->fp_main,
			(unsigned long long)s->fp_walks, (unsigned long long)s->fp_agree,
			(unsigned long long)s->fp_walks);
		for (uint32_t i = 0; i < s->nframes; i++)
			print_frame(out, (int)i, &s->frames[i], s->files[i], s->lines[i]);
		if (!show_fp)
			continue;
		fprintf(out, "  fp walk of the first snapshot: %u frames, stop %s\n", s->fp_nframes,
			dwunw_stop_name(s->fp_stop));
		for (uint32_t i = 0; i < s->fp_nframes; i++)
			print_frame(out, (int)i, &s->fp_frames[i], NULL, 0);
	}
	free(order);
}
