/* SPDX-License-Identifier: MIT */
/*
 * libdwunw internals shared by its files.  Not installed.
 *
 *   cfi.c      .eh_frame/.debug_frame -> sorted compact rows (struct cfi_table)
 *   expr.c     the small DWARF expression evaluator the rows may refer to
 *   module.c   ELF loading, symbols, the module cache
 *   maps.c     /proc/PID/maps parsing, the per-process map and its PC cache
 *   arch.c     struct dwunw_arch_ops for x86_64 and arm64
 *   unwind.c   the walk
 *   snapshot.c snapshot files
 */
#ifndef DWUNW_INTERNAL_H
#define DWUNW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dwunw.h"

/* Columns the CFI interpreter tracks: every integer register of both
 * arches plus x86_64's return-address column 16. */
#define CFI_NCOLS 33

/* cfi_row.cfa_rule (low 7 bits); CFA_SIGNAL is a flag on top. */
enum {
	CFA_NONE = 0,	/* gap: no FDE covers this address */
	CFA_REG,	/* CFA = reg + cfa_off */
	CFA_EXPR,	/* CFA = expression at cfa_off in the table's blob */
	CFA_UNSUP,	/* something the compiler could not represent */
};
#define CFA_SIGNAL 0x80 /* the FDE's CIE has the 'S' augmentation */

/* cfi_row.ra_rule / fp_rule */
enum {
	RULE_SAME = 0,	/* unspecified or same_value: the register keeps its value */
	RULE_UNDEF,	/* undefined (RA: outermost frame) */
	RULE_OFFSET,	/* saved at CFA + off */
	RULE_VAL_OFFSET,/* value is CFA + off */
	RULE_REG,	/* value is in register off */
	RULE_EXPR,	/* saved at the address the expression at off computes */
	RULE_VAL_EXPR,	/* value is what the expression at off computes */
	RULE_UNSUP,
};

/* One compiled row: rules valid from pc to the next row's pc.  24 bytes. */
struct cfi_row {
	uint64_t pc;		/* link-time address */
	int32_t cfa_off;
	int32_t ra_off;
	int32_t fp_off;
	uint8_t cfa_rule;
	uint8_t cfa_reg;
	uint8_t ra_rule;
	uint8_t fp_rule;
};

struct cfi_table {
	struct cfi_row *rows;
	size_t nrows;
	uint8_t *blob;		/* expressions: uleb128 length + bytes */
	size_t blob_len;
	size_t nfdes, nbad;
};

/* Where a CFI section came from, for pointer encodings. */
struct cfi_section {
	const uint8_t *data;
	size_t len;
	uint64_t vaddr;		/* sh_addr (pcrel encodings) */
	bool eh;		/* .eh_frame (else .debug_frame) */
	int addr_size;		/* 4 or 8 */
	int ra_col;		/* the arch's usual return-address column (x86: 16, arm64: 30) */
	int fp_col;		/* frame-pointer column (x86: 6, arm64: 29) */
};

/* Compile a section into t (zeroed by the caller).  Malformed entries are
 * skipped and counted in t->nbad; only allocation failure is an error. */
int cfi_compile(const struct cfi_section *sec, struct cfi_table *t);
void cfi_table_release(struct cfi_table *t);
/* The row covering vaddr, or NULL (gap or outside the table). */
const struct cfi_row *cfi_find(const struct cfi_table *t, uint64_t vaddr);

/* Register state during a walk. */
struct unw_regs {
	uint64_t r[DWUNW_MAX_REGS];
	uint64_t valid;
};

/* Read 8 bytes of the stack copy.  0, or -1 outside the copy. */
struct unw_stack {
	const uint8_t *data;
	uint64_t base;
	size_t len;
};
static inline int stack_read(const struct unw_stack *s, uint64_t addr, uint64_t *out)
{
	uint64_t off = addr - s->base;

	if (addr < s->base || off > s->len || s->len - off < 8)
		return -1;
	__builtin_memcpy(out, s->data + off, 8);
	return 0;
}

/* Evaluate the expression at blob[off] with `initial` pushed first (CFA
 * for register rules, nothing for the CFA itself when push_initial is
 * false).  0 and *out, or -(enum dwunw_stop) on failure. */
int expr_eval(const uint8_t *blob, size_t blob_len, int32_t off, const struct unw_regs *regs,
	      const struct unw_stack *stack, bool push_initial, uint64_t initial, uint64_t *out);

struct dwunw_arch_ops {
	const char *name;
	unsigned int arch;		/* DWUNW_ARCH_* */
	unsigned int e_machine;
	int sp_reg, fp_reg, ra_col;	/* DWARF numbers */
	int lr_reg;			/* -1 when the call pushes the return address */
	uint64_t callee_saved;		/* registers a call preserves */
	/* Go pclntab step: CFA and return address from the SP delta. */
	int (*go_step)(struct unw_regs *regs, const struct unw_stack *st, int32_t spdelta,
		       bool frame0, uint64_t *cfa, uint64_t *ra);
	/* Frame-pointer step. */
	int (*fp_step)(struct unw_regs *regs, const struct unw_stack *st, uint64_t *cfa,
		       uint64_t *ra, uint64_t *fp);
	/* Is the code at `code` (n bytes available) the rt_sigreturn trampoline? */
	bool (*is_sigreturn)(const uint8_t *code, size_t n);
	/* Restore the interrupted context from the signal frame at regs' SP. */
	int (*sigframe_restore)(struct unw_regs *regs, const struct unw_stack *st, uint64_t *pc);
};

const struct dwunw_arch_ops *arch_ops_by_arch(unsigned int arch);
const struct dwunw_arch_ops *arch_ops_by_machine(unsigned int e_machine);

/* ---- modules ---- */

struct mod_sym {
	uint64_t addr, size;
	const char *name;
};

struct mod_seg {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;
};

#define MOD_MAX_SEGS 16

struct dwunw_module {
	char *path;
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	off_t size;
	uint8_t *image;		/* the whole file */
	size_t image_len;
	bool mapped;		/* image is ours (munmap), else caller memory */
	unsigned int e_machine;
	bool pie;
	const struct dwunw_arch_ops *ops;
	struct mod_seg segs[MOD_MAX_SEGS];
	int nsegs;
	struct cfi_table eh, dbg;
	uint8_t *dbg_inflated;	/* decompressed .debug_frame, if it was compressed */
	struct mod_sym *syms;
	size_t nsyms;
	struct gosym *go;
	uint64_t load_ns;
	struct dwunw_module *next;
};

/* Code bytes at link-time vaddr: pointer into the image and how many bytes
 * of the same segment follow, or NULL. */
const uint8_t *module_code(const struct dwunw_module *mod, uint64_t vaddr, size_t *avail);
/* Load bias for a mapping of file offset `offset` at run-time `start`. */
uint64_t module_bias(const struct dwunw_module *mod, uint64_t start, uint64_t offset);

/* ---- maps ---- */

struct map_ent {
	uint64_t start, end, bias;
	struct dwunw_module *mod;	/* NULL: the file could not be loaded */
};

/* PC cache entry: what unwind.c learned about one lookup address. */
struct pc_cache_ent {
	uint64_t pc;			/* absolute lookup pc */
	uint32_t gen;			/* valid while equal to the map's gen */
	const struct map_ent *ment;
	const struct cfi_row *row;	/* NULL: no CFI */
	const uint8_t *blob;		/* row's table blob */
	size_t blob_len;
	int32_t go_spdelta;
	uint8_t go;			/* 1: Go function found */
	uint8_t go_flag;		/* GOSYM_FLAG_* */
	uint8_t go_special;		/* enum gosym_special */
	uint8_t go_delta_ok;
};

#define PC_CACHE_SIZE 1024

struct dwunw_map {
	struct map_ent *ents;
	size_t nents, cap;
	struct pc_cache_ent cache[PC_CACHE_SIZE];
	uint32_t gen;			/* bumped to empty the cache in O(1) */
	uint64_t cache_hits, cache_misses;
};

const struct map_ent *map_find(const struct dwunw_map *map, uint64_t pc);
void map_cache_clear(struct dwunw_map *map);

/* Thread-local error message. */
void dwunw_set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* LEB128 readers: advance *p, never past end; set *bad on truncation. */
uint64_t read_uleb(const uint8_t **p, const uint8_t *end, bool *bad);
int64_t read_sleb(const uint8_t **p, const uint8_t *end, bool *bad);

#endif /* DWUNW_INTERNAL_H */
