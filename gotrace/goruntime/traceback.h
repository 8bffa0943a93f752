/* SPDX-License-Identifier: MIT */
/*
 * traceback: the stacks of a snapshot's goroutines as the Go runtime's own
 * goroutine dump shows them (runtime.Stack(buf, true), pprof
 * goroutine?debug=2), and the PCs its goroutine profile records.
 *
 * Per goroutine: libdwunw walks the stack copy from the saved context
 * (dwunw_go_walk: the runtime's unwinder rules), every physical frame is
 * expanded into its logical frames (inlined calls) through libgosym, and
 * each logical frame is marked shown or not by the runtime's showframe()
 * rules at the default GOTRACEBACK level: compiler wrappers elided
 * (gosym_elide_wrapper), unexported runtime.* functions hidden, everything
 * shown when that would hide every frame.  The text then follows
 * runtime/traceback.go of the target's Go version (gosym_goroutine_facts):
 * argument words with '?' for dead spilled ones, "(...)" for inlined
 * calls, "+0x.." offsets, frame elision, "created by ... in goroutine N".
 *
 * Not reproduced: GOTRACEBACK=system/crash output (runtime frames, fp/sp,
 * "gp= m="), cgo tracebacks of C frames (a goroutine in C code is shown
 * from its Go side), synctest bubble annotations, ancestors
 * (GODEBUG=tracebackancestors).  A running goroutine prints the runtime's
 * own "goroutine running on other thread; stack unavailable".
 *
 * A gr_tb holds per-target caches (PC -> unwind info and logical frames):
 * one per target and thread.  Results point into it and into the target's
 * binary: valid until the next call on the same gr_tb.
 */
#ifndef GOTRACE_GORUNTIME_TRACEBACK_H
#define GOTRACE_GORUNTIME_TRACEBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dwunw.h"
#include "goruntime/allgs.h"

struct gr_frame {
	const char *func;	/* raw pclntab name */
	const char *file;
	int line;
	bool inlined;		/* inlined into the next frame */
	bool shown;		/* the runtime's dump shows it */
	bool wrapper;		/* compiler-generated wrapper */
	uint8_t special;	/* enum gosym_special of the logical function */
	uint64_t pc;		/* run-time pc of the physical frame (frame.pc) */
	uint64_t entry;		/* run-time entry of the physical function */
	uint64_t sympc;		/* run-time pc this logical frame is looked up at */
	uint32_t phys;		/* index of its physical frame */
};

struct gr_created {
	bool shown;		/* the dump prints a "created by" line */
	const char *func;	/* physical function of gopc (raw name) */
	const char *file;
	int line;
	uint64_t off;		/* gopc - entry (0: at the entry, no "+0x") */
	int64_t goid;		/* parent goid, 0 none/unknown */
};

struct gr_stack {
	bool running;		/* no saved context: "stack unavailable" */
	int n;			/* logical frames, innermost first */
	struct gr_frame *f;
	int nphys;		/* physical frames walked */
	enum dwunw_stop stop;	/* why the walk ended */
	bool complete;		/* reached the outermost frame (goexit...) */
	/* Frame elision of the text (Go 1.21+: shown frames
	 * [elide_at, elide_at + elide_n) become "...N frames elided...";
	 * Go 1.17-1.20: elided_tail prints "...additional frames elided..."). */
	int elide_at, elide_n;
	bool elided_tail;
	struct gr_created created;
};

struct gr_tb;

int gr_tb_new(struct gr_target *t, struct gr_tb **out);
void gr_tb_free(struct gr_tb *tb);

/* Unwind and symbolize goroutine i of s.  -ENOENT for a goroutine the
 * snapshot skipped or found dead. */
int gr_tb_stack(struct gr_tb *tb, const struct gr_snapshot *s, size_t i,
		const struct gr_stack **out);

/* Goroutine i in the runtime's dump text: header line, frames, created
 * by; no blank line before or after.  Returns 0 or -errno (-EIO: write). */
int gr_tb_print(struct gr_tb *tb, const struct gr_snapshot *s, size_t i, FILE *f);

/* The goroutine header alone: "goroutine N [status, M minutes, locked to
 * thread]:" with the version's additions (labels...), no newline. */
void gr_tb_header(struct gr_tb *tb, const struct gr_snapshot *s, size_t i, FILE *f);

/* The name as the runtime prints it: "[...]" for type arguments (Go
 * 1.21+) and "panic" for runtime.gopanic (physical frames). */
const char *gr_tb_func_name(struct gr_tb *tb, const char *raw, bool inlined);

/* The name as runtime.CallersFrames reports it (Frame.Function): "[...]"
 * for type arguments (Go 1.21+), no "panic". */
const char *gr_tb_callers_name(struct gr_tb *tb, const char *raw);

/* The PCs a goroutine profile records for the stack (runtime
 * tracebackPCs: every logical frame but elided wrappers, as "return"
 * pcs = the looked-up pc + 1, run-time addresses), at most max (and at
 * most the version's profile depth). */
int gr_tb_profile_pcs(struct gr_tb *tb, const struct gr_stack *st, uint64_t *pcs, int max);

/* The Go version facts of the target (gosym_goroutine_facts). */
const struct gosym_goroutine_facts *gr_tb_facts(const struct gr_tb *tb);

/* Unwind cache hits and misses, symbolization cache hits and misses. */
void gr_tb_stats(const struct gr_tb *tb, uint64_t out[4]);

#endif /* GOTRACE_GORUNTIME_TRACEBACK_H */
