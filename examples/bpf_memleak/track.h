/* SPDX-License-Identifier: MIT */
/*
 * bpf_memleak's bookkeeping, no BPF here: outstanding allocations
 * (address -> size and call site) and the call sites themselves (one per
 * distinct DWARF-unwound stack), plus the per-method unwinding statistics.
 * Single-threaded: the ring buffer callback is the only writer.
 */
#ifndef BPF_MEMLEAK_TRACK_H
#define BPF_MEMLEAK_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dwunw.h"

#define TRACK_MAX_FRAMES 256	/* deeper walks stop with max-frames */

/* How one walk ended, for the side-by-side statistics. */
struct walk_stats {
	uint64_t walks;
	uint64_t complete;		/* stop end/topframe: the outermost frame */
	uint64_t reached_main;		/* a frame named main */
	uint64_t agree;			/* (fp) every frame the same as DWARF's */
	uint64_t stops[DWUNW_STOP__COUNT];
	uint64_t frames;		/* sum of frame counts */
};

struct site {
	uint32_t kind;			/* enum ml_kind of the first allocation */
	uint32_t nframes;		/* DWARF frames */
	enum dwunw_stop stop;		/* DWARF stop reason */
	struct dwunw_frame *frames;
	const char **files;		/* per frame: source file from DWARF, or NULL */
	int *lines;
	struct dwunw_frame *fp_frames;	/* the first snapshot's frame-pointer walk */
	uint32_t fp_nframes;
	enum dwunw_stop fp_stop;
	uint64_t bytes, count;		/* outstanding */
	uint64_t total_count;		/* allocations ever seen from here */
	uint64_t fp_walks, fp_main, fp_agree, fp_frame_sum; /* FP walks of every snapshot */
};

struct track;

struct track *track_new(void);
void track_free(struct track *t);

/* Record one snapshot's DWARF stack (and its FP walk, kept for a new
 * site); returns the site's index.  Source lines are looked up here, while
 * the target's files can still be opened. */
int track_site(struct track *t, uint32_t kind, const struct dwunw_frame *frames, int n,
	       enum dwunw_stop stop, const struct dwunw_frame *fp_frames, int fp_n,
	       enum dwunw_stop fp_stop);
struct site *track_site_at(struct track *t, int idx);

/* addr now holds size bytes from site idx (replaces a stale entry). */
void track_alloc(struct track *t, uint64_t addr, uint64_t size, int site);
/* addr was freed; false if it was not outstanding (allocated before
 * attaching, or by an untraced allocator). */
bool track_release(struct track *t, uint64_t addr);

uint64_t track_outstanding_bytes(const struct track *t);
uint64_t track_outstanding_count(const struct track *t);
uint64_t track_unknown_frees(const struct track *t);

/* Does a frame of this stack belong to a function named "main"? */
bool frames_reach_main(const struct dwunw_frame *frames, int n);
/* Is the walk b, as far as it goes, the same frames as a? */
bool frames_prefix(const struct dwunw_frame *a, int na, const struct dwunw_frame *b, int nb);
void walk_stats_add(struct walk_stats *s, const struct dwunw_frame *frames, int n,
		    enum dwunw_stop stop, bool main, bool agree);

/* Print the top N sites by outstanding bytes (N <= 0: all); show_fp: the
 * frame-pointer stack of each site's first snapshot too. */
void track_report(struct track *t, FILE *out, int top, bool show_fp);

const char *kind_name(uint32_t kind);

#endif
