/* SPDX-License-Identifier: MIT */
/*
 * stacks: --stack for the tracing subcommands (funcgraph, states).
 *
 * The BPF programs send a register snapshot and a copy of the user stack
 * (bpf/stack_capture.h: struct gt_stack_hdr + bytes).  This module turns
 * one into a symbolized stack:
 *
 *   - the process's executable mappings come from /proc/PID/maps through
 *     libdwunw (dwunw_map_from_pid); they are read at gt_stacks_attach()
 *     (launch mode: as the exec happens, before the program can exit and
 *     take its maps with it) and read again when a walk stops at a PC no
 *     mapping covers and the capture is newer than the maps (the program
 *     was not mapped yet, or loaded a library since), else at most every
 *     100 ms;
 *   - libdwunw unwinds with the chosen methods (--unwind);
 *   - every frame is symbolized with inlined calls expanded, and Go's
 *     compiler-generated wrappers are left out, as runtime.Callers does.
 *
 * It also keeps the per-run counts the summary prints: stacks complete,
 * truncated by the copy size, or stopped by an error (per dwunw stop
 * reason), and it holds stacks between the event that captured them and
 * the output that prints them (gt_stacks_put/take).
 *
 * Single-threaded (one consumer thread).  Functions return 0 or -errno;
 * nothing here prints except the render and summary functions.
 */
#ifndef GOTRACE_STACKS_H
#define GOTRACE_STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "dwunw.h"
#include "stack_capture.h"

/* --unwind values */
enum gt_unwind { GT_UNWIND_AUTO, GT_UNWIND_DWARF, GT_UNWIND_PCLNTAB, GT_UNWIND_FP };

/* Parse "auto|dwarf|pclntab|fp"; -EINVAL otherwise. */
int gt_unwind_parse(const char *s, enum gt_unwind *out);
/* Parse a --stack-size value ("16384", "16k", "64K"): a multiple of 8 in
 * [GT_STACK_MIN, GT_STACK_MAX].  -EINVAL otherwise. */
int gt_stack_size_parse(const char *s, uint32_t *out);

/* A symbolized stack.  Its strings belong to the gt_stacks' module cache:
 * print or copy them before gt_stacks_free(). */
struct gt_stack_frame {
	const char *func;	/* never NULL ("?" when nothing names the pc) */
	const char *file;	/* NULL for non-Go code */
	int line;
	bool inlined;		/* inlined into the next entry */
	uint64_t pc;		/* run-time pc of the physical frame */
};

struct gt_stack {
	enum dwunw_stop stop;	/* why the walk ended */
	bool copy_full;		/* the copy used the whole --stack-size */
	int n;
	struct gt_stack_frame f[];	/* innermost first */
};

/* How a stop counts in the summary. */
enum gt_stack_class { GT_STACK_COMPLETE, GT_STACK_TRUNCATED, GT_STACK_ERROR };
enum gt_stack_class gt_stack_classify(const struct gt_stack *st);

struct gt_stacks;

/* methods: --unwind; copy_size: --stack-size. */
int gt_stacks_new(enum gt_unwind method, uint32_t copy_size, struct gt_stacks **out);
void gt_stacks_free(struct gt_stacks *s);

/* Load and compile the program's unwind tables now (ELF, CFI, pclntab: up
 * to ~100 ms for a big binary), before the program runs: loading them at
 * the first stack would stall the reader while the ring buffer fills. */
void gt_stacks_preload(struct gt_stacks *s, pid_t pid, const char *exe);

/* Read the maps of pid.  exe, if not NULL, is the program's file: wait up
 * to 2 s for the process to map it (launch mode, right after the exec). */
int gt_stacks_attach(struct gt_stacks *s, pid_t pid, const char *exe);

/* Unwind and symbolize one capture: hdr and the hdr->len bytes after it
 * (avail: bytes available after hdr in the event, to check hdr->len;
 * ts_ns: when it was captured, CLOCK_MONOTONIC, to know whether reading
 * the maps again can help a PC they don't cover; probe_pc, probe_vaddr: the
 * run-time and link-time addresses of the probed instruction in the
 * program, 0 if unknown: when the process is gone before its maps could be
 * read, the program's mapping is rebuilt from its file at the bias
 * probe_pc - probe_vaddr).
 * Returns a stack to free with free(), or NULL (out of memory, or a
 * malformed record: counted as an error). */
struct gt_stack *gt_stacks_unwind(struct gt_stacks *s, const struct gt_stack_hdr *hdr,
				  size_t avail, uint64_t ts_ns, uint64_t probe_pc,
				  uint64_t probe_vaddr);

/* Count a stack the BPF side could not send (ring buffer full). */
void gt_stacks_count_lost(struct gt_stacks *s, uint64_t n);

/* Hold a stack until its event is printed, by (k1, k2) (e.g. the goroutine
 * and the entry timestamp).  put takes ownership (a stack already held
 * under the key is freed); take gives it back (NULL if none). */
int gt_stacks_put(struct gt_stacks *s, uint64_t k1, uint64_t k2, struct gt_stack *st);
struct gt_stack *gt_stacks_take(struct gt_stacks *s, uint64_t k1, uint64_t k2);
/* Stacks still held (never printed: their event was filtered or dropped). */
size_t gt_stacks_held(const struct gt_stacks *s);

/* Text: one line per frame, "<indent>    at func (file:line)" plus
 * " [inlined]", then a line with the stop reason when incomplete. */
void gt_stack_print_text(FILE *f, const struct gt_stack *st, int indent);
/* JSON: writes `,"stack":[{"func":..,"file":..,"line":..,"inlined":..},...]`
 * and, when the walk did not complete, `,"stack_stop":"reason"`: meant to
 * be appended inside an object. */
void gt_stack_print_json(FILE *f, const struct gt_stack *st);

struct gt_stacks_stats {
	uint64_t stacks;	/* unwound */
	uint64_t complete;	/* reached the outermost frame */
	uint64_t truncated;	/* stopped at the end of a full --stack-size copy */
	uint64_t errors;	/* stopped otherwise */
	uint64_t by_stop[DWUNW_STOP__COUNT]; /* every stack, by stop reason */
	uint64_t lost;		/* never arrived (ring buffer full) */
	uint64_t malformed;	/* records too short for their own length */
	uint64_t paged;		/* copies that faulted and went page by page */
	uint64_t map_reloads;	/* /proc/PID/maps read again */
	uint64_t frames;	/* symbolized frames, all stacks */
	uint64_t unwind_ns;	/* CPU time in unwind + symbolize (thread clock) */
};
const struct gt_stacks_stats *gt_stacks_stats(const struct gt_stacks *s);

/* The end-of-run report, to f: text ("stacks: N unwound: ...", one line
 * per stop reason) or, with jsonl, one {"type":"stack_summary",...} line. */
void gt_stacks_report(const struct gt_stacks *s, FILE *f, bool jsonl, const char *prefix);

#endif /* GOTRACE_STACKS_H */
