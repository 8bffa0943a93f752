/* SPDX-License-Identifier: MIT */
/*
 * gosym internals shared by the files of libgosym.  Not installed.
 *
 * Open order (open.c): ELF headers and segments (elf.c) -> buildinfo
 * (buildinfo.c) -> pclntab (pclntab.c) -> name index -> runtime offsets
 * (offsets.c) -> wait reasons (waitreason.c).  Each step may only use
 * what earlier steps filled in.
 */
#ifndef GOSYM_INTERNAL_H
#define GOSYM_INTERNAL_H

#include <gelf.h>
#include <libelf.h>

#include "gosym.h"

#define GOSYM_MAX_SEGS 32
#define GOSYM_MAX_SPECIALS 48

struct gosym_seg {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	uint32_t flags; /* PF_R/PF_W/PF_X */
};

struct gosym_pcln {
	const uint8_t *data; /* start of pclntab (the magic) */
	size_t size;	     /* bytes available from data to the end of its segment/section */
	enum gosym_pcln_format format;
	int quantum;	     /* minLC: instruction size quantum */
	int ptrsize;
	uint64_t nfunc, nfiles;
	uint64_t textstart;
	/* Sub-tables, as pointers into data with their sizes clamped to size. */
	const uint8_t *funcnametab; size_t funcnametab_size;
	const uint8_t *cutab; size_t cutab_size;
	const uint8_t *filetab; size_t filetab_size;
	const uint8_t *pctab; size_t pctab_size;
	const uint8_t *functab; size_t functab_size; /* the functab itself */
	const uint8_t *funcdata; size_t funcdata_size; /* base _func offsets are relative to */
	/* moduledata.gofunc for 1.18+ funcdata offsets; 0 if unknown */
	uint64_t gofunc;
	/* runtime.firstmoduledata's address (Go 1.16+); 0 if not found */
	uint64_t moduledata;
	/* The name table / the table file names live in end with a NUL, so
	 * any in-bounds offset starts a terminated string: lookups then skip
	 * the memchr (which would touch the string's cache line). */
	bool names_nul, files_nul;
	/* Go 1.2-1.15 file table: nfiles u32 offsets */
};

struct gosym {
	/* file image */
	const uint8_t *image;
	size_t image_size;
	int fd;			/* -1 for gosym_open_mem */
	bool mapped;		/* image came from mmap */
	Elf *elf;
	bool is64;
	struct gosym_seg segs[GOSYM_MAX_SEGS];
	int nsegs;

	struct gosym_info info;
	struct gosym_pcln pcln;

	/* Functions sorted by name. */
	struct gosym_name *by_name;

	/* Functions the unwinder treats specially (enum gosym_special), found
	 * by name once at open so lookups don't compare strings. */
	struct { uint32_t index; uint8_t special; } specials[GOSYM_MAX_SPECIALS];
	int nspecials;

	/* PC -> gosym_lookup_pc_line() result cache (pccache.c): mmap'ed on
	 * first use, published with compare-and-swap; NULL until then. */
	struct gosym_pccache_set *pccache;
	bool pccache_off;

	/* PC -> function in O(1): bucket[i] is the index of the function
	 * containing text_start + i * GOSYM_BUCKET (see pclntab.c). */
	uint32_t *bucket;
	size_t nbuckets;

	/* What a PC -> func + file:line lookup needs of each function, in
	 * one 32-byte record per function (nfunc + 1, the last one only
	 * bounds the last function): one cache miss instead of one in the
	 * function table plus one in the _func record.  Built at open (from
	 * the same pass as the name index); NULL if the text spans 4 GiB or
	 * more (then lookups use the tables directly). */
	struct gosym_hot *hot;
	uint64_t hot_base;	/* the first function's entry: entry_off's origin */

	/* PC -> position index of gosym_lookup_pc_line() (pcslice.c): one
	 * struct gosym_slice per 64 bytes of text, mmap'ed on first use and
	 * published with compare-and-swap (NULL until then), filled one
	 * function at a time on its first lookup. */
	struct gosym_slice *slices;

	/* abi.FuncIDWrapper of this binary's Go version, -1 if unknown. */
	int funcid_wrapper;

	/* Runtime offsets, computed at open. */
	struct gosym_runtime_offsets rt;
	int rt_err;

	/* Wait reason strings (owned), computed at open. */
	const char **waitreasons;
	char *waitreason_buf;
	int nwaitreasons;
	const char *waitreason_source;

	/* Owned strings for buildinfo fields. */
	char *strbuf;

	/* R_*_RELATIVE dynamic relocations sorted by address (PIE binaries
	 * leave pointers in data as 0 in the file; the addend is the value). */
	struct gosym_reloc *relocs;
	size_t nrelocs;
};

#define GOSYM_BUCKET 256

struct gosym_hot {
	uint32_t entry_off;	/* entry - text_start, as in gosym__find_func */
	uint32_t nameoff;
	uint32_t pcfile, pcln;
	uint32_t cuoff;
	uint8_t funcid, flag, special;
	uint8_t bad;		/* the _func record is unreadable */
	/* Index into the line and file tables of a large function, built
	 * on its first position lookup (lookup.c), published with
	 * compare-and-swap so concurrent lookups stay safe; NULL until. */
	struct gosym_fnidx *fnidx;
};

/* The hot record index of the function containing text offset off (from
 * hot_base; the caller checked off is inside the text): walk up from idx,
 * a function starting at or before off. */
static inline size_t gosym__hot_walk(const struct gosym_hot *h, size_t n, size_t idx, uint64_t off)
{
	while (idx + 1 < n && h[idx + 1].entry_off <= off)
		idx++;
	return idx;
}

/* Decoder state of a pc-value table between two steps. */
struct gosym_tabstate {
	uint32_t taboff; /* offset into pctab of the next step; the table's
			  * own offset = nothing decoded yet */
	uint32_t pcoff;	 /* pc - entry the decoded steps reach */
	int32_t val;
};

/* For slice k of a function's code, [entry + k*64, entry + (k+1)*64): the
 * state of its line table (s[k][GOSYM_TAB_LINE]), file table and inline
 * tree index table after the last step that ends at or before the slice's
 * start.  A lookup resumes there, so it decodes only the steps inside one
 * slice, and the states of the tables it needs are adjacent. */
#define GOSYM_SLICE_LOG2 6
enum { GOSYM_TAB_LINE, GOSYM_TAB_FILE, GOSYM_TAB_INLINE, GOSYM_NTABS };
struct gosym_fnidx {
	uint32_t n;
	struct gosym_tabstate s[][GOSYM_NTABS];
};

/* Slice k of the text, [base + k*64, base + (k+1)*64) with base the
 * first function's entry: what gosym_lookup_pc_line() needs for a pc in
 * it, in one 32-byte record found by arithmetic (no bucket, no hot record
 * and no per-function index in the dependent chain; the hot record is
 * then read in parallel with the pc-value tables).  Describes fn, the
 * function containing the slice's first byte; pc offsets are from base. */
#define GOSYM_SL_LINE_FIRST 1	/* line state is the table's start */
#define GOSYM_SL_FILE_FIRST 2	/* file state is */
#define GOSYM_SL_LINE_CONST 4	/* line_val holds over the slice's part of fn */
#define GOSYM_SL_FILE_RUNS 8	/* file[] holds the file names, not a state */
#define GOSYM_SL_NOFILE (UINT32_MAX - 1) /* a run without a position */
struct gosym_slice {
	uint32_t fn;		/* function index + 1; 0 = not built (stored last) */
	uint32_t line_off;	/* line table state: pctab offset of the next step, */
	uint32_t line_pc;	/* pc offset its decoded steps reach, */
	int32_t line_val;	/* value so far (the line itself if LINE_CONST) */
	/* FILE_RUNS: the file over the slice's part of fn in up to three
	 * runs, run i from file_b[i-1] (slice offset) on: each the name's
	 * offset from pcln.data, UINT32_MAX for "?", GOSYM_SL_NOFILE past the
	 * table's end.  Else the file table's state like the line's. */
	uint32_t file[3];
	uint8_t file_b[2];
	uint8_t fn_bytes;	/* bytes of the slice inside fn (1-64): a pc past
				 * them is in a function starting in the slice */
	uint8_t flags;		/* GOSYM_SL_* */
};

struct gosym_name {
	const char *name;
	uint32_t index;
};

struct gosym_reloc {
	uint64_t vaddr, addend;
};

/* Record a formatted error message for gosym_errmsg() and return err. */
int gosym__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Endian-aware reads from the image (inline: they are on every lookup path). */
static inline uint16_t gosym__u16(const struct gosym *g, const uint8_t *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return g->info.big_endian ? __builtin_bswap16(v) : v;
}

static inline uint32_t gosym__u32(const struct gosym *g, const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return g->info.big_endian ? __builtin_bswap32(v) : v;
}

static inline uint64_t gosym__u64(const struct gosym *g, const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return g->info.big_endian ? __builtin_bswap64(v) : v;
}

/* A pointer-sized value. */
static inline uint64_t gosym__uptr(const struct gosym *g, const uint8_t *p)
{
	return g->info.ptr_size == 8 ? gosym__u64(g, p) : gosym__u32(g, p);
}

/* pc-value table decoding (lookup.c, pcslice.c): inline, it is every
 * lookup's inner loop. */
static inline bool gosym__uvarint32(const uint8_t **p, const uint8_t *end, uint32_t *v)
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
static inline bool gosym__pcvalue_step(const uint8_t **p, const uint8_t *end, bool first, int quantum,
			 uint64_t *cur, int32_t *v)
{
	uint32_t uv, pcd;

	if (*p >= end || (**p == 0 && !first))
		return false;
	if (!gosym__uvarint32(p, end, &uv) || !gosym__uvarint32(p, end, &pcd))
		return false;
	/* Wrapping add, as the runtime's int32 arithmetic does: a corrupted
	 * table must not be undefined behaviour. */
	*v = (int32_t)((uint32_t)*v + (-(uv & 1) ^ (uv >> 1)));
	*cur += (uint64_t)pcd * quantum;
	return pcd || first; /* no progress after the first step: corrupted */
}

static inline bool gosym__pcvalue_from(const struct gosym *g, const uint8_t *p, uint64_t cur, int32_t v,
			 bool first, uint64_t pc, int32_t *val)
{
	const uint8_t *end = g->pcln.pctab + g->pcln.pctab_size;

	for (;;) {
		if (!gosym__pcvalue_step(&p, end, first, g->pcln.quantum, &cur, &v))
			return false;
		first = false;
		if (pc < cur) {
			*val = v;
			return true;
		}
	}
}

/* elf.c */
int gosym__elf_load(struct gosym *g);
/* A section by name: its data pointer into the image (NULL for SHT_NOBITS),
 * size and address.  -ENOENT if absent. */
int gosym__section(const struct gosym *g, const char *name, const uint8_t **data, size_t *size, uint64_t *addr);
/* Bytes available in the image from vaddr to the end of its segment. */
const uint8_t *gosym__vaddr_ptr(const struct gosym *g, uint64_t vaddr, size_t *avail);

/* A pointer-sized value stored at vaddr, as the loader would see it before
 * ASLR: applies R_*_RELATIVE relocations of PIE binaries.  -ENOENT if vaddr
 * isn't file-backed. */
int gosym__read_ptr(const struct gosym *g, uint64_t vaddr, uint64_t *val);

/* buildinfo.c: fills info.goversion, go_major/minor, path, mod_*, modinfo, cgo. */
int gosym__buildinfo_load(struct gosym *g);
/* Parse "go1.21.3" / "go1.22rc1" / "devel go1.23-abc" into major, minor. */
bool gosym__parse_goversion(const char *v, int *major, int *minor);

/* pclntab.c */
int gosym__pcln_load(struct gosym *g);
int gosym__name_index_build(struct gosym *g);

/* One decoded _func record; table offsets are as stored (0 = no table). */
struct gosym_rawfunc {
	uint64_t entry;
	uint32_t nameoff;
	int32_t args;
	uint32_t pcsp, pcfile, pcln;
	uint32_t npcdata, nfuncdata, cuoff;
	uint8_t funcid, flag;
	const uint8_t *pcdata;	 /* npcdata u32 table offsets */
	const uint8_t *funcdata; /* nfuncdata u32 offsets (1.18+) or pointers */
};

uint64_t gosym__func_entry(const struct gosym *g, size_t idx);
/* Index of the function containing pc, or -1. */
long gosym__find_func(const struct gosym *g, uint64_t pc);
int gosym__func_raw(const struct gosym *g, size_t idx, struct gosym_rawfunc *f);
const char *gosym__funcname(const struct gosym *g, uint32_t nameoff);
/* Value of the pc-value table at table offset off for pc; false if none. */
bool gosym__pcvalue(const struct gosym *g, uint32_t off, uint64_t entry, uint64_t pc, int32_t *val);
const char *gosym__filename(const struct gosym *g, const struct gosym_rawfunc *f, int32_t fileno);
enum gosym_special gosym__special_by_name(const char *name);
/* Same, with the funcID rule of gosym_frame_special(). */
enum gosym_special gosym__special_by_name_funcid(const char *name, uint8_t funcid);
/* The special kind of function idx, from the table built at open. */
enum gosym_special gosym__special_of(const struct gosym *g, size_t idx);
/* Fills g->specials from the name index. */
void gosym__specials_build(struct gosym *g);

/* pccache.c: a 2-way set-associative PC -> result cache, safe for
 * concurrent readers and writers (a sequence counter per set). */
bool gosym__pccache_get(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out);
void gosym__pccache_put(const struct gosym *g, uint64_t pc, const struct gosym_pcinfo *in);
void gosym__pccache_free(struct gosym *g);

/* pcslice.c: gosym_lookup_pc_line() without the result cache.  1 when
 * the slice table can't be mapped (the caller then uses the hot records). */
int gosym__pcslice_lookup(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out);
void gosym__pcslice_free(struct gosym *g);

/* Start loading pc's slice record, so that its likely miss overlaps the
 * result cache's (a cached pc then costs one more load, in parallel). */
static inline void gosym__pcslice_prefetch(const struct gosym *g, uint64_t pc)
{
	const struct gosym_slice *t = __atomic_load_n(&g->slices, __ATOMIC_RELAXED);

	if (t && !g->pccache_off)
		__builtin_prefetch((const void *)((uintptr_t)t + ((pc - g->hot_base) >> 6) *
								  sizeof(*t)));
}

/* offsets.c: fills g->rt (or g->rt_err). Never fails the open. */
void gosym__offsets_load(struct gosym *g);

/* goroutines.c: fills g->funcid_wrapper. Never fails the open. */
void gosym__goroutines_load(struct gosym *g);

/* waitreason.c: fills g->waitreasons. Never fails the open. */
void gosym__waitreasons_load(struct gosym *g);
void gosym__waitreasons_free(struct gosym *g);

#endif /* GOSYM_INTERNAL_H */
