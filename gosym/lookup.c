// SPDX-License-Identifier: MIT
/*
 * Lookups over an opened binary: functions by index, PC and name; pc-value
 * tables (file, line, SP delta, inline tree index); the inline tree.
 * Nothing here allocates, except a large function's slice index on its
 * first position lookup (see struct gosym_fnidx).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3	/* Go 1.16+ */
#define FUNCDATA_INLTREE_OLD 4	/* Go 1.13-1.15 (pclntab format 1.2) */
#define MAX_INLINE_DEPTH 64

bool gosym__pcvalue(const struct gosym *g, uint32_t off, uint64_t entry, uint64_t pc, int32_t *val)
{
	if (!off || off >= g->pcln.pctab_size)
		return false;
	return gosym__pcvalue_from(g, g->pcln.pctab + off, entry, -1, true, pc, val);
}

/* Smaller functions decode from the entry: in a big binary that costs less
 * than the index's own cache miss (measured: 128 -> 256 took ~20 ns off
 * random lookups on terraform, the 4096-PC working set unchanged). */
#define FNIDX_MIN_FUNC_SIZE 256
#define FNIDX_MAX_FUNC_SIZE (1u << 24) /* larger: corrupted; decode from the entry */

/* Fill column kind of x: one pass over the table at off. */
static void fnidx_fill(const struct gosym *g, struct gosym_fnidx *x, int kind, uint32_t off,
		       uint64_t entry)
{
	const uint8_t *p = g->pcln.pctab + off, *end = g->pcln.pctab + g->pcln.pctab_size;
	struct gosym_tabstate st = { off, 0, -1 };
	uint64_t cur = entry;
	int32_t v = -1;
	uint32_t k = 0;

	while (k < x->n) {
		const uint8_t *q = p;
		uint64_t ncur = cur;
		int32_t nv = v;

		/* Past the table's end (or corrupted): the remaining slices
		 * resume from the last state, where decoding fails again. */
		if (!gosym__pcvalue_step(&q, end, p == g->pcln.pctab + off, g->pcln.quantum, &ncur, &nv))
			break;
		/* The state before this step serves every slice starting
		 * before the step's end. */
		while (k < x->n && entry + ((uint64_t)k << GOSYM_SLICE_LOG2) < ncur)
			x->s[k++][kind] = st;
		p = q;
		cur = ncur;
		v = nv;
		st.taboff = p - g->pcln.pctab;
		st.pcoff = cur - entry;
		st.val = v;
	}
	while (k < x->n)
		x->s[k++][kind] = st;
}

/* Offset of f's inline tree index table (pcdata[2]), 0 if none. */
static uint32_t inline_tab_off(const struct gosym *g, const struct gosym_rawfunc *f)
{
	return f->npcdata > PCDATA_INLTREEINDEX ? gosym__u32(g, f->pcdata + PCDATA_INLTREEINDEX * 4) : 0;
}

/* The slice index of function idx, built on first use; NULL for small
 * functions (or when out of memory: callers then decode from the entry). */
static const struct gosym_fnidx *fnidx_get(const struct gosym *g, size_t idx, uint64_t entry,
					    uint64_t end)
{
	struct gosym_fnidx *x, *expected = NULL;
	struct gosym_rawfunc f;
	uint32_t n;

	if (end - entry < FNIDX_MIN_FUNC_SIZE || end - entry > FNIDX_MAX_FUNC_SIZE || !g->hot ||
	    idx >= g->pcln.nfunc)
		return NULL;
	x = __atomic_load_n(&g->hot[idx].fnidx, __ATOMIC_ACQUIRE);
	if (x)
		return x;
	/* The callers' record may hold only the fields they need. */
	if (gosym__func_raw(g, idx, &f))
		return NULL;
	n = ((end - entry - 1) >> GOSYM_SLICE_LOG2) + 1;
	x = malloc(sizeof(*x) + n * sizeof(x->s[0]));
	if (!x)
		return NULL;
	x->n = n;
	/* Invalid table offsets are rejected by the lookup before it looks
	 * at the index; fill those columns with anything defined. */
	for (int kind = 0; kind < GOSYM_NTABS; kind++) {
		uint32_t off = kind == GOSYM_TAB_LINE ? f.pcln :
			       kind == GOSYM_TAB_FILE ? f.pcfile : inline_tab_off(g, &f);

		if (off && off < g->pcln.pctab_size)
			fnidx_fill(g, x, kind, off, entry);
		else
			for (uint32_t k = 0; k < n; k++)
				x->s[k][kind] = (struct gosym_tabstate){ off, 0, -1 };
	}
	if (!__atomic_compare_exchange_n(&g->hot[idx].fnidx, &expected, x, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(x); /* another thread published first */
		x = expected;
	}
	return x;
}

/* Where to start decoding the table at off for pc in function
 * [entry, end): pc's slice state in x, or the table's start.  false if
 * the table offset is invalid. */
static bool resume_at(const struct gosym *g, const struct gosym_fnidx *x, int kind, uint32_t off,
		      uint64_t entry, uint64_t end, uint64_t pc, struct gosym_tabstate *st)
{
	if (!off || off >= g->pcln.pctab_size)
		return false;
	if (!x || pc < entry) {
		*st = (struct gosym_tabstate){ off, 0, -1 };
		return true;
	}
	/* The slice count follows from the bounds: no need to wait for
	 * x->n to load (a likely cache miss of its own). */
	uint64_t k = (pc - entry) >> GOSYM_SLICE_LOG2, last = (end - entry - 1) >> GOSYM_SLICE_LOG2;

	*st = x->s[k < last ? k : last][kind];
	return true;
}

static bool pcvalue_resume(const struct gosym *g, uint32_t off, const struct gosym_tabstate *st,
			   uint64_t entry, uint64_t pc, int32_t *val)
{
	return gosym__pcvalue_from(g, g->pcln.pctab + st->taboff, entry + st->pcoff, st->val,
			    st->taboff == off, pc, val);
}

/* Value of the table at off (column kind of x) for pc. */
static bool pcvalue_x(const struct gosym *g, const struct gosym_fnidx *x, int kind, uint32_t off,
		      uint64_t entry, uint64_t end, uint64_t pc, int32_t *val)
{
	struct gosym_tabstate st;

	return resume_at(g, x, kind, off, entry, end, pc, &st) &&
	       pcvalue_resume(g, off, &st, entry, pc, val);
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
 * through the function's slice index.  *file is NULL when the file table has no
 * value at pc, *line 0 when the line table has none; returns true when
 * both are known.  The one place every lookup gets a position from. */
static bool position(const struct gosym *g, size_t idx, const struct gosym_rawfunc *f,
		     uint64_t entry, uint64_t end, uint64_t pc, const char **file, int *line)
{
	/* The entry's values are the tables' first steps: no index needed
	 * (and gosym_func_at() must not build one for every function). */
	const struct gosym_fnidx *x = pc == entry ? NULL : fnidx_get(g, idx, entry, end);
	struct gosym_tabstate sf, sl;
	bool okf = resume_at(g, x, GOSYM_TAB_FILE, f->pcfile, entry, end, pc, &sf);
	bool okl = resume_at(g, x, GOSYM_TAB_LINE, f->pcln, entry, end, pc, &sl);
	int32_t fileno, ln;

	/* In a big binary both table positions are cache misses; start
	 * loading the line table's while the file table decodes. */
	if (okl)
		__builtin_prefetch(g->pcln.pctab + sl.taboff);
	*file = NULL;
	*line = 0;
	if (okf && (okf = pcvalue_resume(g, f->pcfile, &sf, entry, pc, &fileno)))
		*file = gosym__filename(g, f, fileno);
	if (okl && (okl = pcvalue_resume(g, f->pcln, &sl, entry, pc, &ln)))
		*line = ln;
	return okf && okl;
}

/* by_funcid: the kind exists only where the linker gave the function a
 * funcID (the runtime of those versions looks at it); the others are
 * recognised by name alone, for the unwinder. */
static const struct {
	const char *name;
	enum gosym_special s;
	bool by_funcid;
} specials[] = {
	{ "runtime.goexit", GOSYM_FN_GOEXIT, false },
	{ "runtime.mstart", GOSYM_FN_MSTART, false },
	{ "runtime.rt0_go", GOSYM_FN_RT0_GO, false },
	{ "runtime.morestack", GOSYM_FN_MORESTACK, false },
	{ "runtime.morestack_noctxt", GOSYM_FN_MORESTACK, false },
	{ "runtime.systemstack", GOSYM_FN_SYSTEMSTACK, false },
	{ "runtime.systemstack_switch", GOSYM_FN_SYSTEMSTACK, false },
	{ "runtime.mcall", GOSYM_FN_MCALL, false },
	{ "runtime.sigpanic", GOSYM_FN_SIGPANIC, false },
	{ "runtime.asmcgocall", GOSYM_FN_ASMCGOCALL, false },
	{ "runtime.gogo", GOSYM_FN_GOGO, false },
	{ "runtime.sigtramp", GOSYM_FN_SIGTRAMP, false },
	{ "runtime.cgoSigtramp", GOSYM_FN_SIGTRAMP, false },
	{ "runtime.asyncPreempt", GOSYM_FN_ASYNCPREEMPT, true },
	{ "runtime.debugCallV2", GOSYM_FN_DEBUGCALL, true },
	{ "runtime.cgocallback", GOSYM_FN_CGOCALLBACK, true },
	{ "runtime.main", GOSYM_FN_RUNTIME_MAIN, true },
	{ "runtime.runfinq", GOSYM_FN_RUNFINQ, true },
	{ "runtime.runFinalizers", GOSYM_FN_RUNFINQ, true },
	{ "runtime.runCleanups", GOSYM_FN_RUNCLEANUPS, true },
	{ "runtime.corostart", GOSYM_FN_COROSTART, true },
	{ "runtime.handleAsyncEvent", GOSYM_FN_HANDLEASYNCEVENT, true },
	{ "runtime.gopanic", GOSYM_FN_GOPANIC, true },
	{ "runtime.panicwrap", GOSYM_FN_PANICWRAP, true },
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

enum gosym_special gosym__special_by_name_funcid(const char *n, uint8_t funcid)
{
	if (strncmp(n, "runtime.", 8))
		return GOSYM_FN_NORMAL;
	for (size_t i = 0; i < NSPECIALS; i++)
		if (!strcmp(n, specials[i].name))
			return specials[i].by_funcid && !funcid ? GOSYM_FN_NORMAL : specials[i].s;
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
			struct gosym_rawfunc f;

			if (g->nspecials == GOSYM_MAX_SPECIALS)
				return;
			if (specials[k].by_funcid &&
			    (gosym__func_raw(g, g->by_name[lo].index, &f) || !f.funcid))
				continue;
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
		"asyncpreempt", "debugcall", "cgocallback", "runtime_main", "runfinq",
		"runcleanups", "corostart", "handleasyncevent", "gopanic", "panicwrap",
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

/* The answer of gosym_lookup_pc_line() for function idx, whose record
 * fields (f: name, ids, table offsets) and bounds the caller read from
 * wherever was cheapest. */
static void pcinfo_fill(const struct gosym *g, size_t idx, const struct gosym_rawfunc *f,
			enum gosym_special special, uint64_t entry, uint64_t end, uint64_t pc,
			struct gosym_pcinfo *out)
{
	out->func = gosym__funcname(g, f->nameoff);
	out->entry = entry;
	out->end = end;
	out->index = idx;
	out->funcid = f->funcid;
	out->flag = f->flag;
	out->special = special;
	if (!position(g, idx, f, entry, end, pc, &out->file, &out->line)) {
		out->file = NULL;
		out->line = 0;
	}
}

/* gosym_lookup_pc_line() through the hot records: the bucket, then the
 * function's record (its entry, end and table offsets in one line). */
static int lookup_hot(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out)
{
	const struct gosym_hot *h = g->hot;
	size_t n = g->pcln.nfunc, idx;
	uint64_t base = g->hot_base, off;
	struct gosym_rawfunc f;

	if (pc < base || (off = pc - base) >= h[n].entry_off)
		return -ENOENT;
	idx = gosym__hot_walk(h, n, g->bucket[off / GOSYM_BUCKET], off);
	h += idx;
	if (h->bad)
		return -EPROTO;
	/* pcinfo_fill(), position() and the file name want these fields only. */
	f.nameoff = h->nameoff;
	f.funcid = h->funcid;
	f.flag = h->flag;
	f.pcfile = h->pcfile;
	f.pcln = h->pcln;
	f.cuoff = h->cuoff;
	pcinfo_fill(g, idx, &f, h->special, base + h->entry_off, base + h[1].entry_off, pc, out);
	return 0;
}

int gosym_lookup_pc_line(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out)
{
	struct gosym_rawfunc f;
	long idx;
	int err;

	gosym__pcslice_prefetch(g, pc);
	if (gosym__pccache_get(g, pc, out))
		return 0;
	if (g->hot) {
		err = gosym__pcslice_lookup(g, pc, out);
		if (err == 1) /* no slice table */
			err = lookup_hot(g, pc, out);
		if (!err)
			gosym__pccache_put(g, pc, out);
		return err;
	}
	idx = gosym__find_func(g, pc);
	if (idx < 0)
		return -ENOENT;
	if (gosym__func_raw(g, idx, &f))
		return -EPROTO;
	pcinfo_fill(g, idx, &f, gosym__special_of(g, idx), gosym__func_entry(g, idx),
		    gosym__func_entry(g, idx + 1), pc, out);
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

/* Funcdata slot of f: its bytes in the image, or NULL. */
static const uint8_t *funcdata_ptr(const struct gosym *g, const struct gosym_rawfunc *f, int slot,
				   size_t *avail)
{
	const struct gosym_pcln *t = &g->pcln;
	uint64_t va;

	if (slot < 0 || f->nfuncdata <= (uint32_t)slot)
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

/* The inline tree's base address in the image, or NULL. */
static const uint8_t *inline_tree(const struct gosym *g, const struct gosym_rawfunc *f, size_t *avail)
{
	return funcdata_ptr(g, f, g->pcln.format == GOSYM_PCLN_12 ? FUNCDATA_INLTREE_OLD :
				  FUNCDATA_INLTREE, avail);
}

int gosym_funcdata(const struct gosym *g, uint64_t pc, int slot, const uint8_t **data,
		   size_t *avail)
{
	long idx = gosym__find_func(g, pc);
	struct gosym_rawfunc f;
	const uint8_t *p;

	if (idx < 0 || gosym__func_raw(g, idx, &f))
		return -ENOENT;
	p = funcdata_ptr(g, &f, slot, avail);
	if (!p || !*avail)
		return -ENOENT;
	*data = p;
	return 0;
}

int gosym_pcdata(const struct gosym *g, uint64_t pc, int table, int32_t *val)
{
	long idx = gosym__find_func(g, pc);
	struct gosym_rawfunc f;
	uint32_t off;

	if (idx < 0 || gosym__func_raw(g, idx, &f) || table < 0 || f.npcdata <= (uint32_t)table)
		return -ENOENT;
	off = gosym__u32(g, f.pcdata + table * 4);
	if (!off)
		return -ENOENT;
	return gosym__pcvalue(g, off, gosym__func_entry(g, idx), pc, val) ? 0 : -ENOENT;
}

/* One frame of a logical call chain: name, and where pc is in function idx. */
static void set_frame(const struct gosym *g, size_t idx, const struct gosym_rawfunc *f,
		      uint64_t entry, uint64_t end, uint64_t pc, const char *name, bool inlined,
		      uint8_t funcid, struct gosym_frame *fr)
{
	fr->func = name;
	fr->inlined = inlined;
	fr->pc = pc;
	fr->funcid = funcid;
	fr->wrapper = g->funcid_wrapper > 0 && funcid == g->funcid_wrapper;
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
	const struct gosym_fnidx *x;
	uint32_t inltab = 0;
	int n = 0;
	int32_t ix = -1;

	if (idx < 0 || gosym__func_raw(g, idx, &f))
		return -ENOENT;
	entry = gosym__func_entry(g, idx);
	end = gosym__func_entry(g, idx + 1);
	x = pc == entry ? NULL : fnidx_get(g, idx, entry, end);
	recsz = g->pcln.format >= GOSYM_PCLN_120 ? 16 : 20;
	if (f.npcdata > PCDATA_INLTREEINDEX) {
		inltab = inline_tab_off(g, &f);
		if (pcvalue_x(g, x, GOSYM_TAB_INLINE, inltab, entry, end, cur, &ix) && ix >= 0)
			tree = inline_tree(g, &f, &tree_avail);
		/* Go 1.12 and older used a different record layout. */
		if (g->pcln.format == GOSYM_PCLN_12 && (g->info.go_minor < 13 || !g->info.go_major))
			tree = NULL;
	}
	while (tree && ix >= 0 && n < MAX_INLINE_DEPTH) {
		const uint8_t *r;
		uint32_t nameoff;
		int32_t parentpc;
		uint8_t funcid;

		if ((uint64_t)ix >= tree_avail / recsz)
			break;
		r = tree + (size_t)ix * recsz;
		/* 1.20+: {u8 funcID, 3 pad, nameOff, parentPc, startLine};
		 * before: {i16 parent, u8 funcID, u8, file, line, nameOff, parentPc} */
		if (recsz == 16) {
			funcid = r[0];
			nameoff = gosym__u32(g, r + 4);
			parentpc = (int32_t)gosym__u32(g, r + 8);
		} else {
			funcid = r[2];
			nameoff = gosym__u32(g, r + 12);
			parentpc = (int32_t)gosym__u32(g, r + 16);
		}
		if (n < max)
			set_frame(g, idx, &f, entry, end, cur, gosym__funcname(g, nameoff), true,
				  funcid, &frames[n]);
		n++;
		cur = entry + (uint32_t)parentpc;
		if (!pcvalue_x(g, x, GOSYM_TAB_INLINE, inltab, entry, end, cur, &ix))
			ix = -1;
	}
	if (n < max)
		set_frame(g, idx, &f, entry, end, cur, gosym__funcname(g, f.nameoff), false,
			  f.funcid, &frames[n]);
	return n + 1;
}
