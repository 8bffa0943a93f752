// SPDX-License-Identifier: MIT
/*
 * Lookups over an opened binary: functions by index, PC and name; pc-value
 * tables (file, line, SP delta, inline tree index); the inline tree.
 * Nothing here allocates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3	/* Go 1.16+ */
#define FUNCDATA_INLTREE_OLD 4	/* Go 1.13-1.15 (pclntab format 1.2) */
#define MAX_INLINE_DEPTH 64

static inline bool uvarint32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint32_t r = 0;

	if (*p < end && !(**p & 0x80)) { /* most values fit one byte */
		*v = *(*p)++;
		return true;
	}
	for (int shift = 0; *p < end && shift < 35; shift += 7) {
		uint8_t b = *(*p)++;

		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/* One decoding step; false at the end of the table or on corruption. */
static inline bool pcvalue_step(const uint8_t **p, const uint8_t *end, bool first, int quantum,
			 uint64_t *cur, int32_t *v)
{
	uint32_t uv, pcd;

	if (*p >= end || (**p == 0 && !first))
		return false;
	if (!uvarint32(p, end, &uv) || !uvarint32(p, end, &pcd))
		return false;
	/* Wrapping add, as the runtime's int32 arithmetic does: a corrupted
	 * table must not be undefined behaviour. */
	*v = (int32_t)((uint32_t)*v + (-(uv & 1) ^ (uv >> 1)));
	*cur += (uint64_t)pcd * quantum;
	return pcd || first; /* no progress after the first step: corrupted */
}

static bool pcvalue_from(const struct gosym *g, const uint8_t *p, uint64_t cur, int32_t v,
			 bool first, uint64_t pc, int32_t *val)
{
	const uint8_t *end = g->pcln.pctab + g->pcln.pctab_size;

	for (;;) {
		if (!pcvalue_step(&p, end, first, g->pcln.quantum, &cur, &v))
			return false;
		first = false;
		if (pc < cur) {
			*val = v;
			return true;
		}
	}
}

bool gosym__pcvalue(const struct gosym *g, uint32_t off, uint64_t entry, uint64_t pc, int32_t *val)
{
	if (!off || off >= g->pcln.pctab_size)
		return false;
	return pcvalue_from(g, g->pcln.pctab + off, entry, -1, true, pc, val);
}

#define CKPT_MIN_FUNC_SIZE 256 /* smaller functions decode fast enough */
#define CKPT_EVERY 4		/* steps between checkpoints */

/* Decode a whole table once, keeping the state every CKPT_EVERY steps. */
static struct gosym_ckpts *ckpts_build(const struct gosym *g, uint32_t off, uint64_t entry)
{
	const uint8_t *p = g->pcln.pctab + off, *end = g->pcln.pctab + g->pcln.pctab_size;
	uint64_t cur = entry;
	int32_t v = -1;
	size_t cap = 64, steps = 0;
	struct gosym_ckpts *c = malloc(sizeof(*c) + cap * sizeof(c->c[0]));

	if (!c)
		return NULL;
	c->n = 0;
	while (pcvalue_step(&p, end, steps == 0, g->pcln.quantum, &cur, &v)) {
		if (++steps % CKPT_EVERY)
			continue;
		if (c->n == cap) {
			struct gosym_ckpts *n = realloc(c, sizeof(*c) + cap * 2 * sizeof(c->c[0]));

			if (!n) {
				free(c);
				return NULL;
			}
			c = n;
			cap *= 2;
		}
		c->c[c->n].pcoff = cur - entry;
		c->c[c->n].val = v;
		c->c[c->n].taboff = p - g->pcln.pctab;
		c->n++;
	}
	return c;
}

bool gosym__pcvalue_cached(const struct gosym *g, int kind, size_t idx, uint32_t off,
			   uint64_t entry, uint64_t end, uint64_t pc, int32_t *val)
{
	struct gosym_ckpts *c, *expected = NULL;
	size_t lo, hi;

	if (!off || off >= g->pcln.pctab_size)
		return false;
	/* The entry's value is the first step: no checkpoints needed (and
	 * gosym_func_at() must not build them for every function it sees). */
	if (pc == entry || end - entry < CKPT_MIN_FUNC_SIZE || !g->ckpts[kind] || idx >= g->pcln.nfunc)
		return gosym__pcvalue(g, off, entry, pc, val);
	c = __atomic_load_n(&g->ckpts[kind][idx], __ATOMIC_ACQUIRE);
	if (!c) {
		c = ckpts_build(g, off, entry);
		if (!c)
			return gosym__pcvalue(g, off, entry, pc, val);
		if (!__atomic_compare_exchange_n(&g->ckpts[kind][idx], &expected, c, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			free(c); /* another thread published first */
			c = expected;
		}
	}
	/* Last checkpoint whose pc is <= the target; checkpoint pcs are the
	 * end of the range decoded so far, so resume strictly before pc. */
	lo = 0;
	hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry + c->c[mid].pcoff <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return gosym__pcvalue(g, off, entry, pc, val);
	const struct gosym_ckpt *k = &c->c[lo - 1];

	return pcvalue_from(g, g->pcln.pctab + k->taboff, entry + k->pcoff, k->val, false, pc, val);
}

/* The string at off, or NULL if it isn't terminated inside the table.
 * nul: the table ends with a NUL, so no need to look (and touch it). */
static const char *cstr_in(const uint8_t *base, size_t size, uint64_t off, bool nul)
{
	const char *s;

	if (off >= size)
		return NULL;
	s = (const char *)base + off;
	return nul || memchr(s, '\0', size - off) ? s : NULL;
}

const char *gosym__filename(const struct gosym *g, const struct gosym_rawfunc *f, int32_t fileno)
{
	const struct gosym_pcln *t = &g->pcln;
	const char *s = NULL;

	if (fileno < 0)
		return "?";
	if (t->format == GOSYM_PCLN_12) {
		/* filetab: nfiles u32, then u32 offsets into the pclntab. */
		if ((uint64_t)fileno < t->nfiles && (uint64_t)(fileno + 1) * 4 + 4 <= t->filetab_size)
			s = cstr_in(t->data, t->size, gosym__u32(g, t->filetab + fileno * 4),
				    t->files_nul);
	} else {
		uint64_t ci = (uint64_t)f->cuoff + (uint32_t)fileno;

		if (ci < t->cutab_size / 4) {
			uint32_t fo = gosym__u32(g, t->cutab + ci * 4);

			if (fo != UINT32_MAX)
				s = cstr_in(t->filetab, t->filetab_size, fo, t->files_nul);
		}
	}
	return s ? s : "?";
}

/* File and line of pc inside function idx (record f, bounds [entry, end)),
 * through the checkpoint cache.  *file is NULL when the file table has no
 * value at pc, *line 0 when the line table has none; returns true when
 * both are known.  The one place every lookup gets a position from. */
static bool position(const struct gosym *g, size_t idx, const struct gosym_rawfunc *f,
		     uint64_t entry, uint64_t end, uint64_t pc, const char **file, int *line)
{
	int32_t fileno, ln;
	bool ok = true;

	*file = NULL;
	*line = 0;
	if (gosym__pcvalue_cached(g, 1, idx, f->pcfile, entry, end, pc, &fileno))
		*file = gosym__filename(g, f, fileno);
	else
		ok = false;
	if (gosym__pcvalue_cached(g, 0, idx, f->pcln, entry, end, pc, &ln))
		*line = ln;
	else
		ok = false;
	return ok;
}

static const struct {
	const char *name;
	enum gosym_special s;
} specials[] = {
	{ "runtime.goexit", GOSYM_FN_GOEXIT },
	{ "runtime.mstart", GOSYM_FN_MSTART },
	{ "runtime.rt0_go", GOSYM_FN_RT0_GO },
	{ "runtime.morestack", GOSYM_FN_MORESTACK },
	{ "runtime.morestack_noctxt", GOSYM_FN_MORESTACK },
	{ "runtime.systemstack", GOSYM_FN_SYSTEMSTACK },
	{ "runtime.systemstack_switch", GOSYM_FN_SYSTEMSTACK },
	{ "runtime.mcall", GOSYM_FN_MCALL },
	{ "runtime.sigpanic", GOSYM_FN_SIGPANIC },
	{ "runtime.asmcgocall", GOSYM_FN_ASMCGOCALL },
	{ "runtime.gogo", GOSYM_FN_GOGO },
	{ "runtime.sigtramp", GOSYM_FN_SIGTRAMP },
	{ "runtime.cgoSigtramp", GOSYM_FN_SIGTRAMP },
};
#define NSPECIALS (sizeof(specials) / sizeof(specials[0]))

enum gosym_special gosym__special_by_name(const char *n)
{
	if (strncmp(n, "runtime.", 8))
		return GOSYM_FN_NORMAL;
	for (size_t i = 0; i < NSPECIALS; i++)
		if (!strcmp(n, specials[i].name))
			return specials[i].s;
	return GOSYM_FN_NORMAL;
}

void gosym__specials_build(struct gosym *g)
{
	g->nspecials = 0;
	for (size_t k = 0; k < NSPECIALS; k++) {
		size_t lo = 0, hi = g->pcln.nfunc;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(g->by_name[mid].name, specials[k].name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Every function of that name (duplicates are possible). */
		for (; lo < g->pcln.nfunc && !strcmp(g->by_name[lo].name, specials[k].name); lo++) {
			if (g->nspecials == GOSYM_MAX_SPECIALS)
				return;
			g->specials[g->nspecials].index = g->by_name[lo].index;
			g->specials[g->nspecials].special = specials[k].s;
			g->nspecials++;
		}
	}
}

enum gosym_special gosym__special_of(const struct gosym *g, size_t idx)
{
	for (int i = 0; i < g->nspecials; i++)
		if (g->specials[i].index == idx)
			return g->specials[i].special;
	return GOSYM_FN_NORMAL;
}

const char *gosym_special_name(enum gosym_special s)
{
	static const char *const names[] = {
		"normal", "goexit", "mstart", "rt0_go", "morestack", "systemstack",
		"mcall", "sigpanic", "asmcgocall", "gogo", "sigtramp",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int gosym_func_at(const struct gosym *g, size_t index, struct gosym_func *out)
{
	struct gosym_rawfunc f;

	if (index >= g->pcln.nfunc)
		return -ENOENT;
	if (gosym__func_raw(g, index, &f))
		return -EPROTO;
	out->name = gosym__funcname(g, f.nameoff);
	/* The function table's entry is authoritative (the _func copy agrees
	 * in valid binaries). */
	out->entry = gosym__func_entry(g, index);
	out->end = gosym__func_entry(g, index + 1);
	out->index = index;
	out->funcid = f.funcid;
	out->flag = f.flag;
	out->special = gosym__special_of(g, index);
	out->args = f.args;
	position(g, index, &f, out->entry, out->end, out->entry, &out->file, &out->line);
	if (!out->file)
		out->file = "";
	return 0;
}

int gosym_lookup_pc(const struct gosym *g, uint64_t pc, struct gosym_func *out)
{
	long idx = gosym__find_func(g, pc);

	if (idx < 0)
		return -ENOENT;
	return gosym_func_at(g, idx, out);
}

int gosym_lookup_name(const struct gosym *g, const char *name, struct gosym_func *out)
{
	size_t lo = 0, hi = g->pcln.nfunc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(g->by_name[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->pcln.nfunc && !strcmp(g->by_name[lo].name, name) &&
	    !gosym_func_at(g, g->by_name[lo].index, out))
		return 0;
	return -ENOENT;
}

int gosym_pc_line(const struct gosym *g, uint64_t pc, const char **file, int *line)
{
	long idx = gosym__find_func(g, pc);
	struct gosym_rawfunc f;
	const char *fl;
	int ln;

	if (idx < 0 || gosym__func_raw(g, idx, &f) ||
	    !position(g, idx, &f, gosym__func_entry(g, idx), gosym__func_entry(g, idx + 1), pc,
		      &fl, &ln))
		return -ENOENT;
	*file = fl;
	*line = ln;
	return 0;
}

int gosym_lookup_pc_line(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out)
{
	struct gosym_rawfunc f;
	long idx;

	if (gosym__pccache_get(g, pc, out))
		return 0;
	idx = gosym__find_func(g, pc);
	if (idx < 0)
		return -ENOENT;
	if (gosym__func_raw(g, idx, &f))
		return -EPROTO;
	out->func = gosym__funcname(g, f.nameoff);
	out->entry = gosym__func_entry(g, idx);
	out->end = gosym__func_entry(g, idx + 1);
	out->index = idx;
	out->funcid = f.funcid;
	out->flag = f.flag;
	out->special = gosym__special_of(g, idx);
	if (!position(g, idx, &f, out->entry, out->end, pc, &out->file, &out->line)) {
		out->file = NULL;
		out->line = 0;
	}
	gosym__pccache_put(g, pc, out);
	return 0;
}

int gosym_pc_spdelta(const struct gosym *g, uint64_t pc, int32_t *delta)
{
	long idx = gosym__find_func(g, pc);
	struct gosym_rawfunc f;

	if (idx < 0 || gosym__func_raw(g, idx, &f))
		return -ENOENT;
	return gosym__pcvalue(g, f.pcsp, gosym__func_entry(g, idx), pc, delta) ? 0 : -ENOENT;
}

/* The inline tree's base address in the image, or NULL. */
static const uint8_t *inline_tree(const struct gosym *g, const struct gosym_rawfunc *f, size_t *avail)
{
	const struct gosym_pcln *t = &g->pcln;
	int slot = t->format == GOSYM_PCLN_12 ? FUNCDATA_INLTREE_OLD : FUNCDATA_INLTREE;
	uint64_t va;

	if (f->nfuncdata <= (uint32_t)slot)
		return NULL;
	if (t->format >= GOSYM_PCLN_118) {
		uint32_t off = gosym__u32(g, f->funcdata + slot * 4);

		if (off == UINT32_MAX || !t->gofunc)
			return NULL;
		va = t->gofunc + off;
	} else {
		uint64_t fdva = g->info.pcln_vaddr + (f->funcdata - t->data) +
				slot * (uint64_t)t->ptrsize;

		if (gosym__read_ptr(g, fdva, &va) || !va)
			return NULL;
	}
	return gosym__vaddr_ptr(g, va, avail);
}

/* One frame of a logical call chain: name, and where pc is in function idx. */
static void set_frame(const struct gosym *g, size_t idx, const struct gosym_rawfunc *f,
		      uint64_t entry, uint64_t end, uint64_t pc, const char *name, bool inlined,
		      struct gosym_frame *fr)
{
	fr->func = name;
	fr->inlined = inlined;
	position(g, idx, f, entry, end, pc, &fr->file, &fr->line);
	if (!fr->file)
		fr->file = "?";
}

int gosym_pc_frames(const struct gosym *g, uint64_t pc, struct gosym_frame *frames, int max)
{
	long idx = gosym__find_func(g, pc);
	struct gosym_rawfunc f;
	const uint8_t *tree = NULL;
	size_t tree_avail = 0, recsz;
	uint64_t entry, end, cur = pc;
	uint32_t inltab = 0;
	int n = 0;
	int32_t ix = -1;

	if (idx < 0 || gosym__func_raw(g, idx, &f))
		return -ENOENT;
	entry = gosym__func_entry(g, idx);
	end = gosym__func_entry(g, idx + 1);
	recsz = g->pcln.format >= GOSYM_PCLN_120 ? 16 : 20;
	if (f.npcdata > PCDATA_INLTREEINDEX) {
		inltab = gosym__u32(g, f.pcdata + PCDATA_INLTREEINDEX * 4);
		if (gosym__pcvalue(g, inltab, entry, cur, &ix) && ix >= 0)
			tree = inline_tree(g, &f, &tree_avail);
		/* Go 1.12 and older used a different record layout. */
		if (g->pcln.format == GOSYM_PCLN_12 && (g->info.go_minor < 13 || !g->info.go_major))
			tree = NULL;
	}
	while (tree && ix >= 0 && n < MAX_INLINE_DEPTH) {
		const uint8_t *r;
		uint32_t nameoff;
		int32_t parentpc;

		if ((uint64_t)ix >= tree_avail / recsz)
			break;
		r = tree + (size_t)ix * recsz;
		if (recsz == 16) {
			nameoff = gosym__u32(g, r + 4);
			parentpc = (int32_t)gosym__u32(g, r + 8);
		} else {
			nameoff = gosym__u32(g, r + 12);
			parentpc = (int32_t)gosym__u32(g, r + 16);
		}
		if (n < max)
			set_frame(g, idx, &f, entry, end, cur, gosym__funcname(g, nameoff), true,
				  &frames[n]);
		n++;
		cur = entry + (uint32_t)parentpc;
		if (!gosym__pcvalue(g, inltab, entry, cur, &ix))
			ix = -1;
	}
	if (n < max)
		set_frame(g, idx, &f, entry, end, cur, gosym__funcname(g, f.nameoff), false,
			  &frames[n]);
	return n + 1;
}
