/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared between bpf/funccount.bpf.c and gotrace/funccount/: the maps'
 * keys and the counter indexes.  Fixed-width fields only, 8-byte fields
 * first.
 *
 * Maps (docs/funccount.md, "How it works"):
 *
 *   counts     per-CPU array, one __u64 per traced function (the cookie's
 *              function index): entry probe hits
 *   ms_hits    hash fc_mskey -> __u64: runtime.morestack hits by the
 *              link-time return address into the function that grew its
 *              stack (and the goroutine with --per-goroutine).  That
 *              function's prologue runs again after morestack, so its
 *              entry probe fires twice for one call: user space subtracts
 *              these from the function's entries (calls = entries -
 *              morestack hits from it)
 *   gcounts    --per-goroutine: hash fc_gkey -> __u64, entry hits per
 *              (goroutine, function)
 *   dead       --per-goroutine: hash goid -> __u8, goroutines that exited
 *              (runtime.goexit0): user space folds their counts into its
 *              own table and deletes them from gcounts and dead
 *   goids      --goid: hash goid -> __u8, the goroutines to count
 *
 * A map that is full never loses a count silently: the FC_CNT_* counters
 * say what could not be recorded.
 */
#ifndef GOTRACE_FUNCCOUNT_H
#define GOTRACE_FUNCCOUNT_H

#include "func_probe.h"

/* Index in the `counters` per-CPU array. */
#define FC_CNT_READFAIL		0 /* goroutine unreadable: not counted per goroutine
				   * (with --goid: not counted at all) */
#define FC_CNT_GFULL		1 /* gcounts full: counted per function only */
#define FC_CNT_MSFULL		2 /* ms_hits full: a duplicate entry not subtracted */
#define FC_CNT_DEADFULL		3 /* dead full: an exit not recorded (its counts
				   * stay in gcounts until tracing ends) */
#define FC_CNT_MAX		4

/* Default sizes; --max-goroutines sets gcounts' (and dead's). */
#define FC_GCOUNTS_DEFAULT	65536
#define FC_MS_MAX		4096
#define FC_GOIDS_MAX		1024

struct fc_gkey {
	__s64 goid;
	__u32 func;
	__u32 pad;
};

struct fc_mskey {
	__s64 goid;		/* 0 unless --per-goroutine */
	__u64 pc;		/* link-time return address of the morestack call */
};

#endif /* GOTRACE_FUNCCOUNT_H */
