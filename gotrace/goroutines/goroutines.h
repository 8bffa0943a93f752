/* SPDX-License-Identifier: MIT */
/*
 * gotrace goroutines: the command's parts (goroutines.c: options and
 * main; output.c: the dump, --group, --json, --pprof; watch.c: --watch).
 */
#ifndef GOTRACE_GOROUTINES_H
#define GOTRACE_GOROUTINES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "goruntime/allgs.h"
#include "goruntime/traceback.h"

struct gt_outfile;

struct gor_opts {
	pid_t pid;
	bool group, json, system;
	const char *pprof;
	struct gt_outfile *pprof_file;	/* --pprof, opened before the target */
	uint64_t watch_ns, blocked_ns;
	long count;
};

/* One snapshot, printed in the chosen form (o->pprof_file is used up).
 * Exit status. */
int gor_dump(struct gr_target *t, struct gor_opts *o);

/* --pprof: write the snapshot as a goroutine profile into f and commit it
 * (f is consumed: committed, or aborted on failure). */
int gor_pprof_write(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
		    const struct gor_opts *o, struct gt_outfile *f);

/* --watch: snapshots every o->watch_ns until Ctrl-C or o->count.  Exit status. */
int gor_watch(struct gr_target *t, const struct gor_opts *o);

/* Whether goroutine i of s is in the runtime's dump (alive, consistent,
 * and a user goroutine unless system is set). */
bool gor_listed(struct gr_target *t, const struct gr_snapshot *s, size_t i, bool system);

/* The stack groups of a snapshot (what --group prints and --watch tracks):
 * goroutines whose profile PCs and labels are identical, biggest first. */
struct gor_group {
	uint64_t key;		/* hash of the PCs and labels */
	uint32_t count;
	uint32_t first;		/* index of one member in the snapshot */
	uint32_t npcs;
	uint64_t *pcs;		/* owned */
	char *text;		/* owned, NULL until a printer sets it */
};
int gor_groups(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s, bool system,
	       struct gor_group **out, size_t *n);
void gor_groups_free(struct gor_group *g, size_t n);

#endif /* GOTRACE_GOROUTINES_H */
