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
	/* The functions Go's traceback treats specially through their funcID:
	 * set only when the binary's function of that name has a non-zero
	 * funcID, which is how the linker marks them in the Go versions
	 * whose runtime looks at them (see docs/runtime-offsets.md). */
	GOSYM_FN_ASYNCPREEMPT,	 /* runtime.asyncPreempt: an injected call */
	GOSYM_FN_DEBUGCALL,	 /* runtime.debugCallV2: an injected call */
	GOSYM_FN_CGOCALLBACK,	 /* runtime.cgocallback */
	GOSYM_FN_RUNTIME_MAIN,	 /* runtime.main: the main goroutine is a user goroutine */
	GOSYM_FN_RUNFINQ,	 /* runtime.runfinq (<= 1.24) / runtime.runFinalizers (1.25+) */
	GOSYM_FN_RUNCLEANUPS,	 /* runtime.runCleanups (1.25+) */
	GOSYM_FN_COROSTART,	 /* runtime.corostart (1.22+) */
	GOSYM_FN_HANDLEASYNCEVENT, /* runtime.handleAsyncEvent (wasm) */
	GOSYM_FN_GOPANIC,	 /* runtime.gopanic */
	GOSYM_FN_PANICWRAP,	 /* runtime.panicwrap */
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
	uint64_t pc;		  /* the pc its position is for: the pc asked for in
				   * the innermost frame, the inline mark (entry +
				   * parentPc) of the call in each caller */
	uint8_t funcid;		  /* raw funcID of the logical function (inline tree
				   * record or _func) */
	bool wrapper;		  /* funcID is the version's wrapper ID: a
				   * compiler-generated wrapper (method value,
				   * interface method on a value, go/defer
				   * wrapper such as main.main.gowrap1, ABI
				   * wrapper) that Go's tracebacks elide; see
				   * gosym_elide_wrapper() */
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
	int g_sched_bp;		  /* gobuf.bp: the saved frame pointer */
	int g_sched_lr;		  /* gobuf.lr: the saved link register (arm64) */
	int g_syscallsp;	  /* the context a goroutine in a system call (or, */
	int g_syscallpc;	  /* Go 1.26+, a cgo call) is unwound from */
	int g_waitsince;	  /* int64 nanotime() the wait began, 0 if unknown */
	int g_lockedm;		  /* non-zero: locked to its thread */
	int g_labels;		  /* pprof labels pointer (see labels in
				   * struct gosym_goroutine_facts) */
	int g_cleanups;		  /* runningCleanups (atomic.Bool), -1 before Go 1.25 */
	int g_trackingseq;	  /* trackingSeq (uint8): +1 at every transition out of
				   * _Grunning, so it tells a goroutine that parked
				   * again at the same place from one that never ran */
	/* runtime.m */
	int m_curg;
	int m_g0;
	int m_procid;		  /* the thread's kernel tid */
	int m_id;		  /* the runtime's M number */
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

/*
 * Facts about the binary's Go runtime that changed between releases and
 * that a tracer of it needs (docs/go-runtime.md explains each).  libgosym
 * is the one place that knows which release did what: callers ask here
 * instead of comparing Go versions.  Without build info the version is
 * unknown; each field then says what it assumes.
 */
struct gosym_go_facts {
	bool version_known;	  /* build info names the Go release */
	bool supported;		  /* Go 1.15 or newer: the releases libgosym
				   * describes (older ones still parse; their
				   * runtime facts are unchecked).  Unknown: false */
	bool regabi;		  /* the register ABI (amd64 Go 1.17+, arm64 1.18+):
				   * ABIInternal code takes integer arguments in
				   * registers (amd64 RAX, RBX, RCX...; arm64 R0...)
				   * and g in R14 (amd64); before it, arguments are
				   * on the stack from SP+8 and g is in TLS.  Unknown:
				   * true on amd64 and arm64 (a current toolchain) */
	bool g_in_register;	  /* Go code keeps g in a register at every
				   * instruction: R14 on amd64 with the register
				   * ABI, R28 on arm64 always.  Unknown: as regabi */
	bool syscall_fastpath;	  /* Go 1.26+: runtime.reentersyscall and
				   * runtime.exitsyscall switch running <-> syscall
				   * with their own CAS, not through casgstatus.
				   * Unknown: true */
	bool late_goid;		  /* before Go 1.24: newproc1 writes a new
				   * goroutine's goid after its first casgstatus
				   * (dead -> runnable).  Unknown: true */
};
void gosym_go_facts(const struct gosym *g, struct gosym_go_facts *out);

/* The runtime's wait reason strings, indexed by waitReason value.  Read from
 * the binary's own runtime.waitReasonStrings when it has symbols, else from
 * the built-in per-version table.  *source says which.  Returns the count. */
int gosym_wait_reasons(const struct gosym *g, const char *const **strings, const char **source);

/* ---- reading goroutines from a live process ----
 *
 * What a reader of another process's goroutines (and a printer of Go's own
 * goroutine dump format) needs to know about the binary's Go version, in
 * one place: gotrace compares no Go versions itself (gosym_go_facts() above
 * has the facts of tracing with probes).  Every fact is from the runtime
 * source of the release, docs/runtime-offsets.md says which release
 * changed what. */

/* g.atomicstatus values (stable since Go 1.17; 10 and 11 are Go 1.26+). */
#define GOSYM_G_IDLE	   0
#define GOSYM_G_RUNNABLE   1
#define GOSYM_G_RUNNING	   2
#define GOSYM_G_SYSCALL	   3
#define GOSYM_G_WAITING	   4
#define GOSYM_G_DEAD	   6
#define GOSYM_G_COPYSTACK  8
#define GOSYM_G_PREEMPTED  9
#define GOSYM_G_LEAKED	   10
#define GOSYM_G_DEADEXTRA  11
#define GOSYM_G_SCAN	   0x1000 /* or'ed in while the GC scans the stack */

/* How g.labels (runtime/pprof's labelMap) is laid out. */
enum gosym_labels_kind {
	GOSYM_LABELS_UNKNOWN = 0,
	GOSYM_LABELS_MAP,	/* Go 1.17-1.23: points to a map[string]string variable
				 * (a pointer to the runtime's hmap) */
	GOSYM_LABELS_LIST,	/* Go 1.24+: points to a struct whose first field is a
				 * []struct{key, value string}, sorted by key */
};

struct gosym_goroutine_facts {
	const char *source;		/* "table (Go 1.N)" */
	/* runtime.gStatusStrings, indexed by status without GOSYM_G_SCAN
	 * ("" for unused values, as the runtime has them) */
	const char *const *status_names;
	int nstatus_names;
	int funcid_wrapper;		/* raw funcID of wrappers (abi.FuncIDWrapper) */
	enum gosym_labels_kind labels;
	/* Traceback text (runtime/traceback.go of the release): */
	bool created_by_goid;		/* "created by F in goroutine N" (1.21+) */
	int generic_names_elided;	/* funcNameForPrint: 0 raw names (1.17-1.20); 1 the
					 * first '[' to the last ']' prints "[...]" (1.21-1.26);
					 * 2 also "T[...].M[...]" for generic methods (1.27+) */
	int max_frames;			/* 1.17-1.20: at most 100 physical frames, then
					 * "...additional frames elided..." if 100 printed;
					 * 0 when inner/outer_frames apply */
	int inner_frames, outer_frames;	/* 1.21+: the first 50 and last 50 logical
					 * frames, "...N frames elided..." between */
	bool exported_runtime_methods;	/* isExportedRuntime looks at receivers (1.23+) */
	bool args_liveness;		/* '?' after possibly dead spilled args (1.18+) */
	bool debugcall_injected;	/* debugCallV2 counts as an injected call (1.20+) */
	bool finalizer_frames_shown;	/* runFinalizers/runCleanups frames shown (1.25+) */
	bool running_syscallsp_traced;	/* a running g with syscallsp set is unwound (1.26+) */
	bool leaked_suffix;		/* status _Gleaked prints " (leaked)" (1.26+) */
	/* pprof labels in the goroutine header, when GODEBUG tracebacklabels=1:
	 * 0 never; 1: ` labels:{"k": "v", ...}` before "]" (1.26);
	 * 2: ` {k: v, ...}` after "]", quoting only what needs it (1.27+). */
	int labels_in_header;
	bool labels_in_header_default;	/* tracebacklabels' default (1.27+: on) */
	/* Goroutine profiles (runtime/pprof): */
	int profile_depth;		/* PCs recorded per goroutine: 32 (StackRecord.Stack0,
					 * 1.17-1.22), 128 (debug.profstackdepth, 1.23+) */
	bool profile_hides_internal_runtime; /* debug=1 text hides leading internal/runtime/
					 * frames like runtime. ones (1.24+) */
};

/* The facts for this binary's Go version.  -EOPNOTSUPP when the version is
 * unknown or outside the table (Go 1.17 - 1.27). */
int gosym_goroutine_facts(const struct gosym *g, struct gosym_goroutine_facts *out);

/* Go's elideWrapperCalling(): a wrapper frame is hidden from tracebacks
 * unless the function it called (the frame just inside it) is
 * runtime.gopanic, runtime.sigpanic or runtime.panicwrap.  callee is that
 * inner frame's special kind (GOSYM_FN_NORMAL for the innermost frame).
 * The one rule every stack printer of gotrace uses. */
bool gosym_elide_wrapper(const struct gosym_frame *frame, enum gosym_special callee);

/* The special kind of a logical frame's function (by name and funcID,
 * as the linker assigns funcIDs). */
enum gosym_special gosym_frame_special(const struct gosym *g, const struct gosym_frame *frame);

/* Link-time addresses of runtime.allglen (uintptr) and runtime.allgptr
 * (**g): the runtime's list of every goroutine (read allglen first, then
 * allgptr: the runtime publishes allgptr before allglen).  From the symbol
 * table, else (stripped binaries) from the code of runtime.forEachGRace,
 * which loads allglen then allgptr: the two targets must lie in .noptrbss
 * and .bss.  -ENOENT when neither way finds them. */
struct gosym_allgs {
	uint64_t allglen, allgptr;
	const char *source;		/* "symbols" or "code (runtime.forEachGRace)" */
};
int gosym_allgs(const struct gosym *g, struct gosym_allgs *out);

/* funcdata and pcdata of the function containing pc (link-time):
 * *data points at the funcdata bytes in the image, *avail bytes readable
 * from there.  -ENOENT when the function has no such slot. */
#define GOSYM_FUNCDATA_ARGINFO	   5  /* argument layout for tracebacks (1.17+) */
#define GOSYM_FUNCDATA_ARGLIVEINFO 6  /* spill slot liveness (1.18+) */
#define GOSYM_PCDATA_ARGLIVEINDEX  3  /* index into ARGLIVEINFO (1.18+) */
int gosym_funcdata(const struct gosym *g, uint64_t pc, int slot, const uint8_t **data,
		   size_t *avail);
int gosym_pcdata(const struct gosym *g, uint64_t pc, int table, int32_t *val);

/* --- Calling convention and runtime type descriptors (abi.c) ------------ */

/* Where a function of this binary finds its arguments and results
 * (docs/args.md).  With regabi, ABIInternal assigns them to the integer
 * registers int_regs[0..nint) and floating-point registers
 * float_regs[0..nfloat) by the rules of the compiler's abi-internal.md,
 * the rest to the stack; without, everything is on the stack (ABI0, Go
 * <= 1.16, and assembly functions).  Stack-assigned values start at
 * SP + stack_args at the function's first instruction. */
struct gosym_abi {
	bool regabi;
	int nint, nfloat;		/* 0 without regabi */
	const char *const *int_regs;	/* Go assembler names, "RAX"...; NULL if
					 * the architecture has no known table */
	const char *const *float_regs;	/* "X0"... */
	const int *int_dwarf;		/* their DWARF register numbers */
	const int *float_dwarf;
	int ptr_size;
	int stack_args;
	/* The argument area's offset from the DWARF CFA at the function's
	 * first instruction (stack-assigned parameters' DWARF locations are
	 * DW_OP_call_frame_cfa + cfa_args + their offset). */
	int cfa_args;
	/* Generic functions compiled for a shape ("F[go.shape.int]") take a
	 * dictionary pointer as a hidden argument (Go 1.18+): the first one
	 * in Go 1.18 and 1.19, the first after a method's receiver since 1.20
	 * (dict_after_receiver). */
	bool shape_dict;
	bool dict_after_receiver;
	/* Go 1.27+'s DWARF lists the dictionary as a parameter ".dict": a
	 * function without one takes none (a closure in a generic function
	 * carries its shape typedefs but gets the dictionary from its
	 * context). */
	bool dwarf_lists_dict;
	/* Functions have a traceback argument layout, FUNCDATA_ARGINFO
	 * (Go 1.17+; slot 5 was something else before), and it leaves out the
	 * first argument of a function whose name has a '[' (Go 1.18+). */
	bool has_arginfo;
	bool arginfo_skips_bracketed;
	/* Go 1.17's DWARF gives a register argument's spill slot as its
	 * location from the first instruction on (later releases: the
	 * register), so it can't tell an ABI0 function from an ABIInternal
	 * one. */
	bool dwarf_spill_at_entry;
	/* Go 1.17's DWARF leaves unnamed results out (named ones are there). */
	bool dwarf_omits_unnamed_results;
};

/* -EOPNOTSUPP when the binary has no Go version or an architecture whose
 * register ABI is not described here (amd64 and arm64 are). */
int gosym_abi(const struct gosym *g, struct gosym_abi *out);

/* reflect.Kind values (stable in every Go release). */
enum gosym_kind {
	GOSYM_KIND_INVALID, GOSYM_KIND_BOOL, GOSYM_KIND_INT, GOSYM_KIND_INT8, GOSYM_KIND_INT16,
	GOSYM_KIND_INT32, GOSYM_KIND_INT64, GOSYM_KIND_UINT, GOSYM_KIND_UINT8, GOSYM_KIND_UINT16,
	GOSYM_KIND_UINT32, GOSYM_KIND_UINT64, GOSYM_KIND_UINTPTR, GOSYM_KIND_FLOAT32,
	GOSYM_KIND_FLOAT64, GOSYM_KIND_COMPLEX64, GOSYM_KIND_COMPLEX128, GOSYM_KIND_ARRAY,
	GOSYM_KIND_CHAN, GOSYM_KIND_FUNC, GOSYM_KIND_INTERFACE, GOSYM_KIND_MAP, GOSYM_KIND_PTR,
	GOSYM_KIND_SLICE, GOSYM_KIND_STRING, GOSYM_KIND_STRUCT, GOSYM_KIND_UNSAFEPOINTER,
};

/* A runtime type descriptor in the file (an interface's dynamic type, an
 * itab's type).  name points into the file image and is NOT NUL-terminated;
 * it is the runtime's own spelling, as %T prints it ("*errors.errorString",
 * package names not paths). */
struct gosym_rtype {
	uint64_t vaddr;
	uint64_t size;
	uint8_t kind;		/* enum gosym_kind */
	bool direct_iface;	/* an interface holds the value itself, not a pointer to it */
	const char *name;
	size_t name_len;
};

/* The descriptor at link-time address vaddr.  -ENOENT when vaddr is not in
 * the file (a type made at run time, e.g. by reflect), -EPROTO when what is
 * there is not a descriptor. */
int gosym_rtype(const struct gosym *g, uint64_t vaddr, struct gosym_rtype *out);

/* moduledata.types: the base of type descriptor offsets (DWARF's
 * DW_AT_go_runtime_type is an offset from it).  Go 1.16+. */
int gosym_types_base(const struct gosym *g, uint64_t *base);

/* An itab (the first word of a non-empty interface) holds its dynamic
 * type's descriptor pointer in its second word, in every Go release. */
#define GOSYM_ITAB_TYPE_WORD 1

/* Stable names. */
const char *gosym_pcln_format_name(enum gosym_pcln_format f);
const char *gosym_special_name(enum gosym_special s);

#ifdef __cplusplus
}
#endif
#endif /* GOSYM_H */
