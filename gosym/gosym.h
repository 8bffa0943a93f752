/* SPDX-License-Identifier: MIT */
/*
 * gosym: read any Go ELF binary.
 *
 * A `struct gosym` is an opened Go binary: its build info, its pclntab
 * (function table, file:line tables, inline trees, SP-delta tables), the
 * mapping between link-time virtual addresses and file offsets, and the
 * runtime structure offsets a tracer needs.  It works on stripped binaries
 * (`-ldflags=-s -w`): everything except the runtime offsets' DWARF source
 * comes from .gopclntab and .go.buildinfo, which stripping keeps.
 *
 * Ownership: gosym_open() maps the file read-only; every string and pointer
 * the API hands out points into that mapping or into tables owned by the
 * handle, and stays valid until gosym_free().  Nothing is ever written back.
 *
 * Errors: functions return 0 (or a count) on success and a negative errno
 * on failure:
 *   -ENOEXEC     not an ELF file, or an ELF file that is not a Go binary
 *   -EPROTO      a Go binary whose tables are truncated or corrupted
 *   -EOPNOTSUPP  a pclntab format or architecture this version can't read
 *   -ENOENT      a lookup found nothing (PC outside any function, ...)
 * The library never prints.  gosym_errmsg() returns a one-line description
 * of the most recent failure in the calling thread ("no .gopclntab section
 * and no pclntab magic in read-only segments", ...) for the CLI to show.
 *
 * Thread safety: every lookup may be called from several threads at once
 * on one handle.  The handle's tables are read-only after gosym_open(),
 * except two caches that lookups fill lazily and publish atomically:
 * a per-function index into the line, file and inline tables of
 * functions of 256 bytes or more (malloc'ed once per function, on its
 * first position lookup; ~0.6 byte per byte of such code),
 * and the PC -> result cache of gosym_lookup_pc_line() (one 1 MiB mmap on
 * its first call; each set guarded by a sequence counter, so a reader
 * never sees a half-written entry).  Only gosym_set_pc_cache() and
 * gosym_free() need the caller to exclude other users of the handle.
 * After those first uses, lookups never allocate.
 */
#ifndef GOSYM_H
#define GOSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gosym;

/* pclntab generations, named after the first Go release that wrote them. */
enum gosym_pcln_format {
	GOSYM_PCLN_UNKNOWN = 0,
	GOSYM_PCLN_12,	/* magic 0xfffffffb, Go 1.2 - 1.15 */
	GOSYM_PCLN_116, /* magic 0xfffffffa, Go 1.16 - 1.17 */
	GOSYM_PCLN_118, /* magic 0xfffffff0, Go 1.18 - 1.19 */
	GOSYM_PCLN_120, /* magic 0xfffffff1, Go 1.20 and later */
};

/* Functions the runtime treats specially, recognised by name because the
 * funcID numbering changes between Go versions. */
enum gosym_special {
	GOSYM_FN_NORMAL = 0,
	GOSYM_FN_GOEXIT,
	GOSYM_FN_MSTART,
	GOSYM_FN_RT0_GO,
	GOSYM_FN_MORESTACK,
	GOSYM_FN_SYSTEMSTACK,
	GOSYM_FN_MCALL,
	GOSYM_FN_SIGPANIC,
	GOSYM_FN_ASMCGOCALL,
	GOSYM_FN_GOGO,
	GOSYM_FN_SIGTRAMP,
};

/* _func.flag bits (stable since Go 1.17). */
#define GOSYM_FLAG_TOPFRAME 0x1 /* outermost frame: stop unwinding here */
#define GOSYM_FLAG_SPWRITE  0x2 /* writes SP arbitrarily: pcsp not trustworthy */
#define GOSYM_FLAG_ASM	    0x4 /* written in assembly */

struct gosym_info {
	char goversion[64];	  /* "go1.26.8"; "" if buildinfo is missing */
	int go_major, go_minor;	  /* 1, 26; 0, 0 if unknown */
	const char *path;	  /* main package path, "" if unknown */
	const char *mod_path;	  /* main module path, "" if unknown */
	const char *mod_version;  /* main module version, "" if unknown */
	const char *modinfo;	  /* raw module info text (settings), "" if none */
	const char *arch;	  /* GOARCH spelling: amd64, arm64, 386, arm, mips, ... */
	unsigned int e_machine;	  /* ELF e_machine */
	int ptr_size;		  /* 4 or 8 */
	bool big_endian;
	bool pie;		  /* ET_DYN */
	bool stripped;		  /* no .symtab */
	bool has_dwarf;		  /* .debug_info or .zdebug_info present */
	bool cgo;		  /* links C code (CGO_ENABLED=1 setting or _cgo_init) */
	enum gosym_pcln_format pcln_format;
	uint32_t pcln_magic;
	const char *pcln_where;	  /* how the pclntab was found: ".gopclntab", "runtime.pclntab symbol", "magic scan" */
	uint64_t pcln_vaddr;	  /* its link-time address */
	size_t nfuncs;
	size_t nfiles;
	uint64_t text_start;	  /* link-time address function entry offsets are relative to */
	uint64_t text_end;	  /* end PC of the last function */
};

struct gosym_func {
	const char *name;	  /* "main.(*T).Method" */
	uint64_t entry;		  /* link-time virtual address of the first instruction */
	uint64_t end;		  /* first address past the function */
	uint32_t index;		  /* index in the function table */
	uint8_t funcid;		  /* raw funcID (version dependent) */
	uint8_t flag;		  /* GOSYM_FLAG_* */
	enum gosym_special special;
	int32_t args;		  /* argument size in bytes, or -1 if unknown */
	const char *file;	  /* file of the entry PC ("" if unknown) */
	int line;		  /* line of the entry PC (0 if unknown) */
};

/* One frame of a PC's logical call chain.  `func` is the logical function
 * (the inlined callee for inlined frames); file:line is where that frame is
 * executing. */
struct gosym_frame {
	const char *func;
	const char *file;
	int line;
	bool inlined;		  /* true for all but the last (physical) frame */
};

struct gosym_runtime_offsets {
	/* runtime.g */
	int g_stack_lo, g_stack_hi;
	int g_m;
	int g_sched;		  /* runtime.gobuf */
	int g_sched_sp, g_sched_pc;  /* absolute offsets into g */
	int g_atomicstatus;
	int g_goid;
	int g_waitreason;
	int g_startpc;
	int g_gopc;
	int g_parentgoid;	  /* -1 before Go 1.21 */
	/* runtime.m */
	int m_curg;
	int m_g0;
	int m_procid;
	/* offset of g from the thread pointer (fs_base on amd64); 0 if unknown */
	int64_t tls_g;
	/* "DWARF" when read from the binary's debug info, otherwise
	 * "table (Go 1.x)": the built-in per-version table. */
	const char *source;
	const char *tls_source;
};

/* Open a Go binary.  On success *out owns the mapping; free it with
 * gosym_free().  On failure *out is NULL and gosym_errmsg() says why. */
int gosym_open(const char *path, struct gosym **out);

/* Same over a caller-owned buffer that must outlive the handle (tests, fuzzing). */
int gosym_open_mem(const void *buf, size_t len, struct gosym **out);

/* Release everything; NULL is a no-op. */
void gosym_free(struct gosym *g);

/* One-line description of the last failure in this thread. */
const char *gosym_errmsg(void);

const struct gosym_info *gosym_info(const struct gosym *g);

/* Function table access.  Indices run from 0 to info.nfuncs-1 in address order. */
int gosym_func_at(const struct gosym *g, size_t index, struct gosym_func *out);

/* The function containing pc (link-time address).  O(log n), no allocation.
 * -ENOENT when pc is outside the text covered by the pclntab. */
int gosym_lookup_pc(const struct gosym *g, uint64_t pc, struct gosym_func *out);

/* Function by exact name. O(log n) after the first call builds a sorted index
 * at open time.  -ENOENT if no such function. */
int gosym_lookup_name(const struct gosym *g, const char *name, struct gosym_func *out);

/* Glob over names: `*` matches any run of characters (including '/' and '.'),
 * `?` one character, `[...]` a class; everything else is literal, so
 * `net/http.(*Server).*` works as written. */
bool gosym_glob_match(const char *pattern, const char *name);

/* The innermost file:line of pc, as `go tool addr2line` prints it. */
int gosym_pc_line(const struct gosym *g, uint64_t pc, const char **file, int *line);

/* The logical call chain at pc, innermost first, ending with the physical
 * function.  Writes at most max frames and returns how many the chain has
 * (which may exceed max). */
int gosym_pc_frames(const struct gosym *g, uint64_t pc, struct gosym_frame *frames, int max);

/* PC -> physical function and innermost file:line in one call: what
 * gosym_lookup_pc() + gosym_pc_line() give, finding and decoding the
 * function once and without the function's entry position.  This is the
 * call for symbolizing: it goes through a PC -> result cache (a repeated
 * PC costs one cache-line read) unless gosym_set_pc_cache() turned it off.
 * Returns 0 when pc is inside a function, -ENOENT when not, -EPROTO on a
 * corrupted function record. */
struct gosym_pcinfo {
	const char *func;	  /* physical function containing pc */
	uint64_t entry, end;	  /* its bounds */
	uint32_t index;		  /* its index in the function table */
	uint8_t funcid, flag;	  /* as in struct gosym_func */
	enum gosym_special special;
	const char *file;	  /* innermost file at pc; NULL when pc has no
				   * position (padding after the last instruction:
				   * addr2line prints "?:-1"), "?" if unnamed */
	int line;		  /* innermost line; 0 when file is NULL */
};
int gosym_lookup_pc_line(const struct gosym *g, uint64_t pc, struct gosym_pcinfo *out);

/* Turn gosym_lookup_pc_line()'s result cache on (the default) or off, e.g.
 * to measure uncached lookups or for a one-shot use.  Not thread-safe: call
 * it before sharing the handle. */
void gosym_set_pc_cache(struct gosym *g, bool enabled);

/* SP delta at pc (bytes the function has pushed below its entry SP, not
 * counting the return address on amd64).  -ENOENT outside functions. */
int gosym_pc_spdelta(const struct gosym *g, uint64_t pc, int32_t *delta);

/* Link-time virtual address <-> file offset through PT_LOAD segments
 * (uprobes want file offsets).  -ENOENT outside any file-backed segment. */
int gosym_vaddr_to_offset(const struct gosym *g, uint64_t vaddr, uint64_t *offset);
int gosym_offset_to_vaddr(const struct gosym *g, uint64_t offset, uint64_t *vaddr);

/* Pointer to len file-backed bytes at link-time address vaddr, or NULL if
 * they aren't all inside one PT_LOAD segment's file image. */
const void *gosym_bytes(const struct gosym *g, uint64_t vaddr, size_t len);

/* An ELF symbol (.symtab, then .dynsym).  -ENOENT when absent (stripped). */
int gosym_symbol(const struct gosym *g, const char *name, uint64_t *addr, uint64_t *size);

/* Offsets into runtime.g / runtime.m and the TLS slot of g, from DWARF when
 * the binary has it, else from the per-version table.  -EOPNOTSUPP when
 * neither applies (unknown version without DWARF). */
int gosym_runtime_offsets(const struct gosym *g, struct gosym_runtime_offsets *out);

/* The runtime's wait reason strings, indexed by waitReason value.  Read from
 * the binary's own runtime.waitReasonStrings when it has symbols, else from
 * the built-in per-version table.  *source says which.  Returns the count. */
int gosym_wait_reasons(const struct gosym *g, const char *const **strings, const char **source);

/* Stable names. */
const char *gosym_pcln_format_name(enum gosym_pcln_format f);
const char *gosym_special_name(enum gosym_special s);

#ifdef __cplusplus
}
#endif
#endif /* GOSYM_H */
