/* SPDX-License-Identifier: MIT */
/*
 * libdwunw: unwind a captured user stack.
 *
 * Input: a register snapshot (`struct dwunw_regs`, dwunw_regs.h: fixed
 * width, arch tag and version, so a BPF event can carry it as is), a copy
 * of the user stack starting at the snapshot's stack pointer, and the
 * process's address space (`struct dwunw_map`, parsed from the text of
 * /proc/PID/maps).  Output: frames written into a caller-provided array,
 * and the reason the walk stopped.
 *
 * Per frame the unwinder tries, in order (each can be turned off):
 *   1. DWARF CFI from .eh_frame, then .debug_frame, compiled when the module
 *      is loaded into sorted compact rows (one row per address range: CFA
 *      rule, return-address rule, frame-pointer rule), found by binary
 *      search behind a small PC cache;
 *   2. the Go pclntab's SP-delta table (pcsp), through libgosym, for Go
 *      functions without CFI (Go writes only .debug_frame, which stripped
 *      binaries lack);
 *   3. frame pointers.
 * It stops at Go's outermost functions (runtime.goexit, runtime.mstart,
 * runtime.rt0_go: any function with the TOPFRAME flag), at Go functions
 * that switch stacks (SPWRITE: systemstack, mcall, morestack...), when the
 * return address is undefined or zero (the outermost frame), and steps over
 * signal frames (the kernel's rt_sigreturn trampolines: glibc's __restore_rt,
 * Go's runtime.sigreturn) by restoring the registers the kernel saved.
 * A walk never guesses: when no method gives a trustworthy caller it stops
 * and says why (enum dwunw_stop).
 *
 * Objects and ownership:
 *   struct dwunw_modules  a cache of loaded ELF files (CFI tables, symbols,
 *                         the gosym handle of Go binaries), keyed by path
 *                         and file identity.  Loading is the slow part and
 *                         is done once per file.
 *   struct dwunw_module   one loaded file, owned by the cache.
 *   struct dwunw_map      one process's executable mappings, each pointing
 *                         at a module with its load bias; borrows the
 *                         modules (free the map before the cache).
 * dwunw_unwind() never allocates and never locks.  It updates the map's PC
 * cache, so one map is used by one thread at a time (give each consumer
 * thread its own map; maps can share one module cache if the callers load
 * modules under their own lock).
 *
 * Errors: negative errno, as in libgosym: -ENOENT (no such file, nothing at
 * that address), -ENOEXEC (not an ELF file), -EPROTO (malformed data),
 * -EOPNOTSUPP (architecture or format not supported), -EINVAL (bad
 * arguments, snapshot of a wrong version), -ENOMEM.  The library never
 * prints; dwunw_errmsg() describes the last failure of the calling thread.
 */
#ifndef DWUNW_H
#define DWUNW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dwunw_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gosym;
struct dwunw_modules;
struct dwunw_module;
struct dwunw_map;

/* Why a walk stopped.  DWUNW_STOP_END and DWUNW_STOP_TOPFRAME mean the
 * stack is complete; everything else means it is truncated. */
enum dwunw_stop {
	DWUNW_STOP_END = 0,	/* outermost frame: return address undefined or 0 */
	DWUNW_STOP_TOPFRAME,	/* reached runtime.goexit / mstart / rt0_go */
	DWUNW_STOP_MAX_FRAMES,	/* the frame buffer (depth limit) is full */
	DWUNW_STOP_NO_MODULE,	/* pc outside every executable mapping */
	DWUNW_STOP_NO_INFO,	/* no CFI, no pclntab, and frame pointers off or unusable */
	DWUNW_STOP_STACK_READ,	/* a read fell outside the stack copy (copy too short) */
	DWUNW_STOP_UNSUPPORTED,	/* a CFI rule or expression this version can't evaluate */
	DWUNW_STOP_NO_REG,	/* a rule needs a register the snapshot doesn't have */
	DWUNW_STOP_CYCLE,	/* the stack pointer did not move up: a loop */
	DWUNW_STOP_BAD_FP,	/* frame pointer outside the stack copy or misaligned */
	DWUNW_STOP_SPWRITE,	/* Go function that switches stacks (systemstack, mcall...) */
	DWUNW_STOP__COUNT,
};

/* Methods, for dwunw_unwind()'s `methods` mask and dwunw_frame.method. */
#define DWUNW_M_CFI	0x1	/* .eh_frame / .debug_frame */
#define DWUNW_M_PCLNTAB 0x2	/* Go pcsp */
#define DWUNW_M_FP	0x4	/* frame pointers */
#define DWUNW_M_SIGNAL	0x8	/* (frame.method only) a signal frame's saved registers */
#define DWUNW_M_ALL	(DWUNW_M_CFI | DWUNW_M_PCLNTAB | DWUNW_M_FP)

/* dwunw_frame.flags */
#define DWUNW_F_RETADDR 0x1	/* pc is a return address: symbolize pc - 1 */
#define DWUNW_F_SIGNAL	0x2	/* this frame is a signal trampoline (__restore_rt) */
#define DWUNW_F_GO	0x4	/* pc is in a Go function (module has a pclntab) */

struct dwunw_frame {
	uint64_t pc;		/* run-time address */
	uint64_t sp;		/* stack pointer in this frame */
	uint64_t vaddr;		/* link-time address of pc (pc - bias); 0 without a module */
	const struct dwunw_module *module; /* NULL when no mapping covers pc */
	uint8_t method;		/* how the caller of this frame was found (DWUNW_M_*), 0 for the last */
	uint8_t flags;		/* DWUNW_F_* */
	uint16_t _pad;
};

/* ---- module cache ---- */

int dwunw_modules_new(struct dwunw_modules **out);
/* Free every module; NULL is a no-op. */
void dwunw_modules_free(struct dwunw_modules *mods);

/* The module for the ELF file at path, loading and compiling it on first
 * use.  The result is owned by mods. */
int dwunw_modules_get(struct dwunw_modules *mods, const char *path, struct dwunw_module **out);

/* Same for an ELF image in caller memory that must outlive mods (tests,
 * fuzzing, the vDSO read from the target).  name is copied. */
int dwunw_modules_add_mem(struct dwunw_modules *mods, const char *name, const void *image,
			  size_t len, struct dwunw_module **out);

struct dwunw_module_info {
	const char *path;
	unsigned int e_machine;
	bool pie;		/* ET_DYN */
	bool go;		/* has a pclntab (gosym opened it) */
	size_t eh_frame_rows;	/* compiled rows from .eh_frame */
	size_t debug_frame_rows;/* compiled rows from .debug_frame */
	size_t cfi_fdes;	/* FDEs read, both sections */
	size_t cfi_bad;		/* CIEs/FDEs skipped as malformed or unsupported */
	size_t nsyms;		/* function symbols (.symtab, else .dynsym) */
	uint64_t load_ns;	/* time to load and compile (CLOCK_MONOTONIC) */
};
int dwunw_module_info(const struct dwunw_module *mod, struct dwunw_module_info *out);

/* The file's build ID as text: "gnu:<hex>" (NT_GNU_BUILD_ID) or, for Go
 * binaries without one, "go:<id>" (the Go build ID note).  -ENOENT when the
 * file has neither, -ENOSPC when len is too small. */
int dwunw_module_build_id(const struct dwunw_module *mod, char *buf, size_t len);

/* The gosym handle of a Go module (owned by the module), or NULL. */
struct gosym *dwunw_module_gosym(const struct dwunw_module *mod);

/* The ELF function symbol containing link-time address vaddr: name and the
 * offset of vaddr from its start.  -ENOENT if none. */
int dwunw_module_symbol(const struct dwunw_module *mod, uint64_t vaddr, const char **name,
			uint64_t *offset);

/* ---- process maps ---- */

/* Parse /proc/PID/maps text.  Executable file-backed mappings are loaded
 * through mods (files that fail to load are kept as mappings without
 * unwind info, so their frames are still reported); others are ignored.
 * root, if not NULL, is prefixed to every path ("/proc/PID/root" for a
 * process in another mount namespace). */
int dwunw_map_parse(struct dwunw_modules *mods, const char *text, size_t len, const char *root,
		    struct dwunw_map **out);
void dwunw_map_free(struct dwunw_map *map);

/* Read /proc/PID/maps and parse it, opening files through
 * /proc/PID/root (so a process in a container works).  -ESRCH when the
 * process is gone. */
int dwunw_map_from_pid(struct dwunw_modules *mods, int pid, struct dwunw_map **out);

/* Add one executable mapping by hand: [start, end) maps module's file
 * offset `offset`.  Keeps the map sorted. */
int dwunw_map_add(struct dwunw_map *map, uint64_t start, uint64_t end, uint64_t offset,
		  struct dwunw_module *mod);
/* An empty map (to fill with dwunw_map_add). */
int dwunw_map_new(struct dwunw_map **out);

/* The module mapped at run-time address pc and its load bias
 * (run-time = link-time + bias).  -ENOENT outside every mapping. */
int dwunw_map_lookup(const struct dwunw_map *map, uint64_t pc, const struct dwunw_module **mod,
		     uint64_t *bias);

/* ---- unwinding ---- */

/* Unwind regs with the stack copy [stack, stack + stack_len), which holds
 * the memory at regs' stack pointer and up.  Writes at most max frames,
 * innermost first (frames[0].pc == regs->pc), and the stop reason.
 * methods is a DWUNW_M_* mask (DWUNW_M_ALL for the default order).
 * Returns the number of frames written, or -EINVAL / -EOPNOTSUPP for a
 * snapshot it can't start from (bad version, unknown arch, no SP). */
int dwunw_unwind(struct dwunw_map *map, const struct dwunw_regs *regs, const void *stack,
		 size_t stack_len, unsigned int methods, struct dwunw_frame *frames, int max,
		 enum dwunw_stop *stop);

/* Symbolize one frame: the logical frames at its pc, innermost first, as
 * the Go runtime's traceback shows them (inlined calls expanded; return
 * addresses looked up at pc - 1).  Go functions come from the module's
 * pclntab (func, file, line); other code from the ELF symbol table (func
 * only, file NULL, line 0).  Writes at most max and returns how many there
 * are, 0 when nothing names the pc.  Strings belong to the module. */
struct dwunw_sym {
	const char *func;
	const char *file;
	int line;
	bool inlined;		/* an inlined call inside the next entry */
	bool wrapper;		/* Go compiler-made wrapper (gosym_frame.wrapper) */
	int special;		/* the function's enum gosym_special (gosym_frame_special():
				 * runtime.gopanic, ...); 0 (normal) for non-Go code */
};
int dwunw_symbolize(const struct dwunw_frame *f, struct dwunw_sym *out, int max);

/* Whether a stack printed as runtime.Callers prints it leaves sym out:
 * a wrapper frame, unless it called a panic function.  callee_special is
 * the .special of the logical frame just inside sym (the previous one,
 * walking outwards; 0 for the innermost).  gosym_elide_wrapper()'s rule,
 * docs/go-runtime.md "Wrapper frames". */
bool dwunw_sym_elided(const struct dwunw_sym *sym, int callee_special);

/* The snapshot's stack pointer (r[7] on x86_64, r[31] on arm64), 0 if unknown. */
uint64_t dwunw_regs_sp(const struct dwunw_regs *regs);

const char *dwunw_stop_name(enum dwunw_stop s);	/* "end", "topframe", "stack-read"... */
const char *dwunw_method_name(unsigned int m);	/* "cfi", "pclntab", "fp", "signal", "" */
const char *dwunw_arch_name(unsigned int arch);	/* "x86_64", "arm64", NULL if unknown */
int dwunw_arch_from_name(const char *name);	/* DWUNW_ARCH_*, or -EOPNOTSUPP */
const char *dwunw_errmsg(void);

/* ---- goroutine stacks from a saved context ----
 *
 * dwunw_go_walk() walks a goroutine's stack from the context the Go
 * runtime saved for it (g.sched, or g.syscallpc/syscallsp for a goroutine
 * in a system call) exactly as the runtime's own unwinder does for
 * tracebacks and goroutine profiles: pclntab only (a goroutine stack holds
 * Go frames alone), the same stop rules (TOPFRAME, SPWRITE), and the same
 * pc to symbolize per frame (sympc: pc - 1 for a return address, pc for
 * the innermost frame at a function entry and after an injected call such
 * as asyncPreempt).  One Go module (the executable), at load bias `bias`.
 *
 * The PC cache (optional, may be NULL) keeps what each pc needs (function
 * bounds, flags, SP delta) across walks: give one cache to all the walks
 * of one process and the module, and one per thread. */
struct dwunw_go_cache;
int dwunw_go_cache_new(size_t entries, struct dwunw_go_cache **out);
void dwunw_go_cache_free(struct dwunw_go_cache *c);
void dwunw_go_cache_stats(const struct dwunw_go_cache *c, uint64_t *hits, uint64_t *misses);

struct dwunw_go_ctx {
	unsigned int arch;	/* DWUNW_ARCH_X86_64 or DWUNW_ARCH_ARM64 */
	uint64_t bias;		/* run-time - link-time address of the executable */
	uint64_t pc, sp;	/* the saved context (run-time addresses) */
	uint64_t lr;		/* arm64: the saved link register (0 if none) */
	bool syscall;		/* the context is g.syscallpc/syscallsp */
	bool debugcall_injected;/* debugCallV2 frames are injected calls (Go 1.20+:
				 * gosym_goroutine_facts().debugcall_injected) */
};

struct dwunw_go_frame {
	uint64_t pc;		/* run-time pc of the frame */
	uint64_t sp;		/* its stack pointer */
	uint64_t fp;		/* its caller's stack pointer (sp + frame size) */
	uint64_t argp;		/* its incoming arguments (fp + the arch's minimum frame) */
	uint64_t vaddr;		/* link-time pc */
	uint64_t sympc;		/* link-time pc to symbolize (Go's symPC) */
	uint64_t entry;		/* link-time entry of its function */
	uint8_t special;	/* enum gosym_special of its function */
	bool trap;		/* pc is the interrupted instruction (after an injected call) */
};

/* Walk from ctx with the stack copy [stack, stack + stack_len) holding the
 * target's memory at stack_base and up (the goroutine's [sp, stack.hi)).
 * Writes at most max frames, innermost first, and why the walk stopped:
 * DWUNW_STOP_TOPFRAME (complete: reached runtime.goexit...), _SPWRITE (a
 * stack switch: complete as far as the runtime's traceback goes), _END
 * (return address 0), _NO_MODULE (a pc outside every function),
 * _NO_INFO (no SP delta), _STACK_READ (the copy is too short),
 * _CYCLE, _MAX_FRAMES.  Returns the number of frames, or -EINVAL /
 * -EOPNOTSUPP (arch). */
int dwunw_go_walk(const struct gosym *g, struct dwunw_go_cache *cache,
		  const struct dwunw_go_ctx *ctx, const void *stack, uint64_t stack_base,
		  size_t stack_len, struct dwunw_go_frame *frames, int max, enum dwunw_stop *stop);

/* ---- snapshots (tests, replay corpus, bug reports) ----
 *
 * A text file: registers, the maps text, the stack copy in hex, and
 * optionally the expected frames (function names, innermost first).
 *
 *   dwunw-snapshot 1
 *   arch x86_64
 *   pc 0x401000
 *   r 7 0x7ffc...            one line per valid register (DWARF number)
 *   note free text           any number of lines
 *   maps N                   then N lines of /proc/PID/maps
 *   stack 0x7ffc... LEN      then LEN bytes as hex, 64 per line
 *   expect FUNC              any number of lines, innermost frame first
 *   end
 */
struct dwunw_snapshot {
	struct dwunw_regs regs;
	uint8_t *stack;
	size_t stack_len;
	char *maps;		/* NUL-terminated maps text */
	char **expect;		/* nexpect expected function names */
	int nexpect;
	char **notes;
	int nnotes;
};

int dwunw_snapshot_read(const char *path, struct dwunw_snapshot **out);
int dwunw_snapshot_parse(const char *text, size_t len, struct dwunw_snapshot **out);
/* Write s to f; returns 0 or -EIO. */
int dwunw_snapshot_write(FILE *f, const struct dwunw_snapshot *s);
void dwunw_snapshot_free(struct dwunw_snapshot *s);

#ifdef __cplusplus
}
#endif
#endif /* DWUNW_H */
