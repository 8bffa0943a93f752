// SPDX-License-Identifier: MIT
/*
 * The pclntab: locating it, validating its header, the function table and
 * the _func records, for every format from Go 1.2 to today (gosym.h's
 * enum gosym_pcln_format names them; docs/gosym.md describes each).
 *
 * Everything read from the file is bounds-checked: a corrupted table makes
 * gosym_open() fail with -EPROTO at load time, or a lookup return -ENOENT,
 * never an out-of-bounds read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAGIC_12  0xfffffffbu
#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u

/* Indices (in pointer-sized words) of moduledata fields, Go 1.16+. */
#define MD_PCHEADER	 0
#define MD_FUNCNAMETAB	 1
#define MD_TEXT		 22
#define MD_GOFUNC_118	 38
#define MD_GOFUNC_120	 40 /* covctrs/ecovctrs were added in 1.20 */
#define MD_GOFUNC_127	 43 /* typedesclen, itaboffset, itabsize in 1.27 */

static enum gosym_pcln_format format_of(uint32_t magic)
{
	switch (magic) {
	case MAGIC_12: return GOSYM_PCLN_12;
	case MAGIC_116: return GOSYM_PCLN_116;
	case MAGIC_118: return GOSYM_PCLN_118;
	case MAGIC_120: return GOSYM_PCLN_120;
	default: return GOSYM_PCLN_UNKNOWN;
	}
}

const char *gosym_pcln_format_name(enum gosym_pcln_format f)
{
	switch (f) {
	case GOSYM_PCLN_12: return "go1.2";
	case GOSYM_PCLN_116: return "go1.16";
	case GOSYM_PCLN_118: return "go1.18";
	case GOSYM_PCLN_120: return "go1.20";
	default: return "unknown";
	}
}

static bool sub_table(const struct gosym_pcln *t, uint64_t off, const uint8_t **p, size_t *size)
{
	if (off > t->size)
		return false;
	*p = t->data + off;
	*size = t->size - off;
	return true;
}

/* Parse and validate the header at data; fills g->pcln on success. */
static int parse_header(struct gosym *g, const uint8_t *data, size_t size)
{
	struct gosym_pcln *t = &g->pcln;
	uint32_t magic;
	int ps;

	if (size < 16)
		return -EPROTO;
	magic = gosym__u32(g, data);
	memset(t, 0, sizeof(*t));
	t->format = format_of(magic);
	if (t->format == GOSYM_PCLN_UNKNOWN || data[4] || data[5])
		return -EPROTO;
	t->quantum = data[6];
	ps = data[7];
	if ((t->quantum != 1 && t->quantum != 2 && t->quantum != 4) || ps != g->info.ptr_size)
		return -EPROTO;
	t->ptrsize = ps;
	t->data = data;
	t->size = size;

	if (t->format == GOSYM_PCLN_12) {
		t->nfunc = gosym__uptr(g, data + 8);
		t->functab = data + 8 + ps;
		t->functab_size = size - 8 - ps;
		t->funcdata = data;
		t->funcdata_size = size;
		t->funcnametab = data;
		t->funcnametab_size = size;
		t->pctab = data;
		t->pctab_size = size;
		/* The file table's offset follows the function table. */
		uint64_t ftoff = 8 + ps + (t->nfunc * 2 + 1) * (uint64_t)ps;

		if (t->nfunc > size / (2 * ps) || ftoff + 4 > size)
			return -EPROTO;
		uint32_t filetab = gosym__u32(g, data + ftoff);

		if (!sub_table(t, filetab, &t->filetab, &t->filetab_size) || t->filetab_size < 4)
			return -EPROTO;
		t->nfiles = gosym__u32(g, t->filetab);
		return 0;
	}

	const uint8_t *w = data + 8;
	int nwords = t->format == GOSYM_PCLN_116 ? 7 : 8;
	uint64_t v[8];

	if (size < 8 + (size_t)nwords * ps)
		return -EPROTO;
	for (int i = 0; i < nwords; i++)
		v[i] = gosym__uptr(g, w + i * ps);
	t->nfunc = v[0];
	t->nfiles = v[1];
	int k = 2;

	if (t->format != GOSYM_PCLN_116)
		t->textstart = v[k++];
	if (!sub_table(t, v[k], &t->funcnametab, &t->funcnametab_size) ||
	    !sub_table(t, v[k + 1], &t->cutab, &t->cutab_size) ||
	    !sub_table(t, v[k + 2], &t->filetab, &t->filetab_size) ||
	    !sub_table(t, v[k + 3], &t->pctab, &t->pctab_size) ||
	    !sub_table(t, v[k + 4], &t->funcdata, &t->funcdata_size))
		return -EPROTO;
	t->functab = t->funcdata;
	t->functab_size = t->funcdata_size;
	/* The sub-tables end where the next one starts. */
	if (v[k + 1] >= v[k]) t->funcnametab_size = v[k + 1] - v[k];
	if (v[k + 2] >= v[k + 1]) t->cutab_size = v[k + 2] - v[k + 1];
	if (v[k + 3] >= v[k + 2]) t->filetab_size = v[k + 3] - v[k + 2];
	if (v[k + 4] >= v[k + 3]) t->pctab_size = v[k + 4] - v[k + 3];
	return 0;
}

static size_t functab_entsize(const struct gosym_pcln *t)
{
	return t->format >= GOSYM_PCLN_118 ? 8 : 2 * (size_t)t->ptrsize;
}

uint64_t gosym__func_entry(const struct gosym *g, size_t idx)
{
	const struct gosym_pcln *t = &g->pcln;
	const uint8_t *e = t->functab + idx * functab_entsize(t);

	if (t->format >= GOSYM_PCLN_118)
		return t->textstart + gosym__u32(g, e);
	return gosym__uptr(g, e);
}

static uint64_t functab_funcoff(const struct gosym *g, size_t idx)
{
	const struct gosym_pcln *t = &g->pcln;
	const uint8_t *e = t->functab + idx * functab_entsize(t);

	if (t->format >= GOSYM_PCLN_118)
		return gosym__u32(g, e + 4);
	return gosym__uptr(g, e + t->ptrsize);
}

long gosym__find_func(const struct gosym *g, uint64_t pc)
{
	size_t lo = 0, hi = g->pcln.nfunc;

	if (!hi || pc < gosym__func_entry(g, 0) || pc >= gosym__func_entry(g, hi))
		return -1;
	if (g->bucket) {
		uint64_t b = (pc - gosym__func_entry(g, 0)) / GOSYM_BUCKET;

		if (b < g->nbuckets) {
			/* The bucket gives the function at its start; walk the
			 * few entries up to pc. */
			lo = g->bucket[b];
			while (lo + 1 < g->pcln.nfunc && gosym__func_entry(g, lo + 1) <= pc)
				lo++;
			return (long)lo;
		}
	}
	/* Largest idx with entry(idx) <= pc. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (gosym__func_entry(g, mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

int gosym__func_raw(const struct gosym *g, size_t idx, struct gosym_rawfunc *f)
{
	const struct gosym_pcln *t = &g->pcln;
	uint64_t off = functab_funcoff(g, idx);
	const uint8_t *p;
	size_t avail, fixed;
	int ps = t->ptrsize;

	if (idx >= t->nfunc || off >= t->funcdata_size)
		return -EPROTO;
	p = t->funcdata + off;
	avail = t->funcdata_size - off;
	memset(f, 0, sizeof(*f));

	switch (t->format) {
	case GOSYM_PCLN_12:
	case GOSYM_PCLN_116:
		fixed = ps + (t->format == GOSYM_PCLN_12 ? 32 : 36);
		if (avail < fixed)
			return -EPROTO;
		f->entry = gosym__uptr(g, p);
		p += ps;
		f->nameoff = gosym__u32(g, p);
		f->args = (int32_t)gosym__u32(g, p + 4);
		f->pcsp = gosym__u32(g, p + 12);
		f->pcfile = gosym__u32(g, p + 16);
		f->pcln = gosym__u32(g, p + 20);
		f->npcdata = gosym__u32(g, p + 24);
		if (t->format == GOSYM_PCLN_116) {
			f->cuoff = gosym__u32(g, p + 28);
			f->funcid = p[32];
			f->flag = p[33];
			f->nfuncdata = p[35];
			p += 36;
		} else if (g->info.go_minor >= 12 || !g->info.go_major) {
			/* Go 1.12-1.15: funcID, 2 pad bytes, nfuncdata (u8). */
			f->funcid = p[28];
			f->nfuncdata = p[31];
			p += 32;
		} else {
			f->nfuncdata = gosym__u32(g, p + 28);
			p += 32;
		}
		break;
	case GOSYM_PCLN_118:
	case GOSYM_PCLN_120:
		fixed = t->format == GOSYM_PCLN_120 ? 44 : 40;
		if (avail < fixed)
			return -EPROTO;
		f->entry = t->textstart + gosym__u32(g, p);
		f->nameoff = gosym__u32(g, p + 4);
		f->args = (int32_t)gosym__u32(g, p + 8);
		f->pcsp = gosym__u32(g, p + 16);
		f->pcfile = gosym__u32(g, p + 20);
		f->pcln = gosym__u32(g, p + 24);
		f->npcdata = gosym__u32(g, p + 28);
		f->cuoff = gosym__u32(g, p + 32);
		p += fixed - 4;
		f->funcid = p[0];
		f->flag = p[1];
		f->nfuncdata = p[3];
		p += 4;
		break;
	default:
		return -EOPNOTSUPP;
	}
	avail -= fixed;
	if (f->npcdata > avail / 4)
		return -EPROTO;
	f->pcdata = p;
	p += f->npcdata * 4;
	avail -= f->npcdata * 4;
	if (t->format < GOSYM_PCLN_118) {
		/* funcdata pointers are pointer-aligned in memory. */
		uint64_t va = g->info.pcln_vaddr + (p - t->data);

		if (ps == 8 && (va & 4)) {
			if (avail < 4)
				return -EPROTO;
			p += 4;
			avail -= 4;
		}
		if (f->nfuncdata > avail / ps)
			f->nfuncdata = 0;
	} else if (f->nfuncdata > avail / 4) {
		f->nfuncdata = 0;
	}
	f->funcdata = p;
	return 0;
}

const char *gosym__funcname(const struct gosym *g, uint32_t nameoff)
{
	const struct gosym_pcln *t = &g->pcln;
	const char *s;

	if (nameoff >= t->funcnametab_size)
		return "?";
	s = (const char *)t->funcnametab + nameoff;
	if (t->names_nul)
		return s;
	return memchr(s, '\0', t->funcnametab_size - nameoff) ? s : "?";
}

/* --- locating the table and moduledata --------------------------------- */

static bool try_at(struct gosym *g, const uint8_t *p, size_t size, const char *where)
{
	if (parse_header(g, p, size))
		return false;
	g->info.pcln_where = where;
	return true;
}

static int find_pclntab(struct gosym *g)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	const uint8_t *d;
	size_t n, avail;
	uint64_t addr, end, size;
	const char *corrupt = NULL;	/* a named table whose header is bad */
	uint32_t magic = 0;

	for (int i = 0; i < 2; i++) {
		if (gosym__section(g, names[i], &d, &n, NULL) || !d)
			continue;
		if (try_at(g, d, n, names[i]))
			return 0;
		corrupt = names[i];
		magic = n >= 4 ? gosym__u32(g, d) : 0;
	}
	if (!gosym_symbol(g, "runtime.pclntab", &addr, &size) &&
	    (d = gosym__vaddr_ptr(g, addr, &avail))) {
		if (!gosym_symbol(g, "runtime.epclntab", &end, NULL) && end > addr && end - addr <= avail)
			avail = end - addr;
		if (try_at(g, d, avail, "runtime.pclntab symbol"))
			return 0;
	}
	/* Scan for a header that validates: read-only segments first, then
	 * writable ones (stripped cgo PIE builds before Go 1.26 keep the
	 * table in .data.rel.ro, the RELRO part of the RW segment). */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < g->nsegs; i++) {
			const struct gosym_seg *s = &g->segs[i];

			if (!!(s->flags & PF_W) != pass)
				continue;
			for (uint64_t o = 0; o + 64 <= s->filesz; o += 4) {
				const uint8_t *p = g->image + s->offset + o;

				if (p[4] || p[5] || p[7] != g->info.ptr_size)
					continue;
				if (format_of(gosym__u32(g, p)) == GOSYM_PCLN_UNKNOWN)
					continue;
				/* A stray magic rarely passes the header check;
				 * the function table check decides later. */
				if (try_at(g, p, s->filesz - o, "magic scan"))
					return 0;
			}
		}
	}
	/* the section is there but unreadable: say that, not "no section" */
	if (corrupt)
		return gosym__err(-EBADMSG, "corrupt Go symbol table: section %s has no valid "
					    "pclntab header (magic 0x%08x, and no other copy found)",
				  corrupt, magic);
	return gosym__err(-ENOEXEC, "not a Go binary (no .gopclntab section, no runtime.pclntab "
				    "symbol, no pclntab magic in read-only segments)");
}

/* Find runtime.firstmoduledata: by symbol, by the .go.module section
 * (Go 1.26+), or by scanning writable segments for a pointer to the pclntab
 * followed by a pointer to its function name table. */
static bool find_moduledata(struct gosym *g, uint64_t *md)
{
	const uint8_t *d;
	size_t n;
	uint64_t addr, v, want = g->info.pcln_vaddr;
	int ps = g->info.ptr_size;

	if (!gosym_symbol(g, "runtime.firstmoduledata", &addr, NULL) &&
	    !gosym__read_ptr(g, addr, &v) && v == want) {
		*md = addr;
		return true;
	}
	if (!gosym__section(g, ".go.module", &d, &n, &addr) &&
	    !gosym__read_ptr(g, addr, &v) && v == want) {
		*md = addr;
		return true;
	}
	uint64_t nameptr = want + (g->pcln.funcnametab - g->pcln.data);

	/* PIE: the pointer lives in a relocation, not in the file. */
	for (size_t i = 0; i < g->nrelocs; i++) {
		if (g->relocs[i].addend == want &&
		    !gosym__read_ptr(g, g->relocs[i].vaddr + ps, &v) && v == nameptr) {
			*md = g->relocs[i].vaddr;
			return true;
		}
	}
	for (int i = 0; i < g->nsegs; i++) {
		const struct gosym_seg *s = &g->segs[i];

		if (!(s->flags & PF_W))
			continue;
		for (uint64_t o = 0; o + 2 * ps <= s->filesz; o += ps) {
			const uint8_t *p = g->image + s->offset + o;

			if (gosym__uptr(g, p) == want && gosym__uptr(g, p + ps) == nameptr) {
				*md = s->vaddr + o;
				return true;
			}
		}
	}
	return false;
}

/* Check the function table: sorted entries, records inside the table. */
static int validate_functab(struct gosym *g)
{
	struct gosym_pcln *t = &g->pcln;
	size_t es = functab_entsize(t);
	uint64_t prev = 0;

	if (!t->nfunc)
		return gosym__err(-EPROTO, "pclntab has no functions");
	if (t->nfunc >= t->functab_size / es)
		return gosym__err(-EPROTO, "pclntab function table truncated (%llu functions)",
				  (unsigned long long)t->nfunc);
	for (size_t i = 0; i <= t->nfunc; i++) {
		uint64_t e = gosym__func_entry(g, i);

		if (e < prev)
			return gosym__err(-EPROTO, "pclntab function table not sorted at entry %zu", i);
		prev = e;
		if (i < t->nfunc && functab_funcoff(g, i) >= t->funcdata_size)
			return gosym__err(-EPROTO, "pclntab function %zu points outside the table", i);
	}
	return 0;
}

/* The bucket index behind gosym__find_func: one sweep over the sorted
 * function table.  Skipped (binary search only) for absurd text sizes. */
static int build_buckets(struct gosym *g)
{
	uint64_t start = gosym__func_entry(g, 0), end = gosym__func_entry(g, g->pcln.nfunc);
	size_t n = (end - start) / GOSYM_BUCKET + 1, f = 0;

	if (end - start > (1ull << 32))
		return 0;
	g->bucket = malloc(n * sizeof(*g->bucket));
	if (!g->bucket)
		return gosym__err(-ENOMEM, "out of memory");
	for (size_t b = 0; b < n; b++) {
		uint64_t pc = start + b * GOSYM_BUCKET;

		while (f + 1 < g->pcln.nfunc && gosym__func_entry(g, f + 1) <= pc)
			f++;
		g->bucket[b] = f;
	}
	g->nbuckets = n;
	return 0;
}

int gosym__pcln_load(struct gosym *g)
{
	struct gosym_pcln *t = &g->pcln;
	uint64_t md = 0, v;
	int err;

	err = find_pclntab(g);
	if (err)
		return err;
	t->names_nul = t->funcnametab_size && !t->funcnametab[t->funcnametab_size - 1];
	if (t->format == GOSYM_PCLN_12)
		t->files_nul = t->size && !t->data[t->size - 1];
	else
		t->files_nul = t->filetab_size && !t->filetab[t->filetab_size - 1];
	if (gosym_offset_to_vaddr(g, t->data - g->image, &g->info.pcln_vaddr))
		g->info.pcln_vaddr = 0;
	g->info.pcln_magic = gosym__u32(g, t->data);
	g->info.pcln_format = t->format;

	if (t->format >= GOSYM_PCLN_116 && find_moduledata(g, &md)) {
		t->moduledata = md;
		/* Go 1.26 writes textStart = 0 in the header: moduledata.text is
		 * the truth (and in cgo builds not the start of .text). */
		if (!t->textstart && t->format >= GOSYM_PCLN_118 &&
		    !gosym__read_ptr(g, md + MD_TEXT * g->info.ptr_size, &v))
			t->textstart = v;
		if (t->format >= GOSYM_PCLN_118) {
			int idx = t->format == GOSYM_PCLN_118 ? MD_GOFUNC_118 :
				  g->info.go_minor >= 27 ? MD_GOFUNC_127 : MD_GOFUNC_120;

			if (!gosym__read_ptr(g, md + idx * g->info.ptr_size, &v))
				t->gofunc = v;
		}
	}
	if (!t->textstart && t->format >= GOSYM_PCLN_118) {
		const uint8_t *d;
		size_t n;
		uint64_t addr;

		if (!gosym_symbol(g, "runtime.text", &addr, NULL) ||
		    !gosym__section(g, ".text", &d, &n, &addr))
			t->textstart = addr;
		else
			return gosym__err(-EPROTO, "pclntab has no text start and no moduledata was found");
	}
	if (!t->gofunc && t->format >= GOSYM_PCLN_118) {
		uint64_t addr;

		if (!gosym_symbol(g, t->format == GOSYM_PCLN_118 ? "go.func.*" : "go:func.*", &addr, NULL))
			t->gofunc = addr;
	}
	err = validate_functab(g);
	if (err)
		return err;
	err = build_buckets(g);
	if (err)
		return err;
	g->info.nfuncs = t->nfunc;
	g->info.nfiles = t->nfiles;
	g->info.text_start = t->format >= GOSYM_PCLN_118 ? t->textstart : gosym__func_entry(g, 0);
	g->info.text_end = gosym__func_entry(g, t->nfunc);
	return 0;
}

/* --- the name index ----------------------------------------------------- */

static int by_name_cmp(const void *a, const void *b)
{
	const struct gosym_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

int gosym__name_index_build(struct gosym *g)
{
	uint64_t base = gosym__func_entry(g, 0);

	g->by_name = malloc(g->pcln.nfunc * sizeof(*g->by_name));
	if (!g->by_name)
		return gosym__err(-ENOMEM, "out of memory");
	/* The hot records need entry offsets that fit 32 bits: the bucket
	 * index exists under the same condition. */
	if (g->bucket) {
		g->hot = calloc(g->pcln.nfunc + 1, sizeof(*g->hot));
		if (!g->hot)
			return gosym__err(-ENOMEM, "out of memory");
		g->hot[g->pcln.nfunc].entry_off = gosym__func_entry(g, g->pcln.nfunc) - base;
		g->hot_base = base;
	}
	for (uint32_t i = 0; i < g->pcln.nfunc; i++) {
		struct gosym_rawfunc f;
		int bad = gosym__func_raw(g, i, &f);

		g->by_name[i].index = i;
		g->by_name[i].name = bad ? "" : gosym__funcname(g, f.nameoff);
		if (g->hot) {
			struct gosym_hot *h = &g->hot[i];

			h->entry_off = gosym__func_entry(g, i) - base;
			h->bad = !!bad;
			if (!bad) {
				h->nameoff = f.nameoff;
				h->pcfile = f.pcfile;
				h->pcln = f.pcln;
				h->cuoff = f.cuoff;
				h->funcid = f.funcid;
				h->flag = f.flag;
			}
		}
	}
	qsort(g->by_name, g->pcln.nfunc, sizeof(*g->by_name), by_name_cmp);
	gosym__specials_build(g);
	for (int i = 0; g->hot && i < g->nspecials; i++)
		g->hot[g->specials[i].index].special = g->specials[i].special;
	return 0;
}
