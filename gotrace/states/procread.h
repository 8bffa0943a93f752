/* SPDX-License-Identifier: MIT */
/*
 * states/procread: what `gotrace states` reads from the traced process
 * itself, beside the probes' events, through the agentless goroutine
 * reader (goruntime/allgs.h; process_vm_readv, the target never stopped):
 *
 *  - the attach snapshot (-p): every goroutine already there when tracing
 *    began, with its state, wait reason and since when, start function,
 *    creation site, parent and pprof labels, handed to the model as seeds
 *    (st_model_seed()), so that goroutines that never change state while
 *    traced are in the summary and the groups too;
 *  - pprof label sets by address (the model's st_labels_fn): creations
 *    and exits carry g.labels, the set is read when the event is.
 *
 * The process is opened on first use (in launch mode the program has only
 * just been exec'd when the first event arrives).  A failure to open it
 * is remembered: labels are then left out, never retried per event.
 * Label sets are interned (states/labels.h) and stay valid until
 * st_procread_release().  Never prints; errors are negative errno with
 * gr_errmsg() for the reader's own.
 */
#ifndef GOTRACE_STATES_PROCREAD_H
#define GOTRACE_STATES_PROCREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "states/model.h"
#include "states/resolve.h"

struct gr_target;
struct st_label_table;

struct st_procread {
	pid_t pid;
	struct gr_target *t;		/* NULL until opened */
	int open_err;			/* opening failed (-errno): not retried */
	bool want_labels;		/* the Go release keeps labels readable */
	struct st_label_table *labels;
	uint64_t label_reads, label_fails;
	uint64_t label_ns;		/* time spent reading them */
};

struct st_seed_stats {
	uint64_t seeded;		/* goroutines handed to the model */
	uint64_t allglen;		/* entries of the runtime's list */
	uint64_t skipped;		/* changing or unreadable after the retries */
	uint64_t read_ns;		/* how long the read took */
};

/* Set up for process pid (nothing is opened yet).  0 or -ENOMEM. */
int st_procread_init(struct st_procread *r, pid_t pid);
void st_procread_release(struct st_procread *r);

/* Takes one goroutine of the snapshot (st_model_seed() for the event
 * model, sa_reader_seed() for the in-kernel aggregation).  0 or -errno. */
typedef int (*st_seed_fn)(void *ctx, const struct st_seed *s);

/* Read every goroutine now and hand each to seed(ctx, ...), names
 * resolved by res (casg_vaddr: runtime.casgstatus's link-time address, for
 * the resolver's load bias).  0, or -errno (the first seed() error). */
int st_procread_seed(struct st_procread *r, st_seed_fn seed, void *ctx, struct st_resolver *res,
		     uint64_t casg_vaddr, struct st_seed_stats *st);

/* At the end of tracing, while the process is still there: the pprof
 * labels of every goroutine still alive, read from its g (if that g still
 * holds the same goid): a goroutine that set its labels while traced and
 * never exited is only known by them now.  Returns how many goroutines
 * were read (0 when the process is gone or keeps no readable labels). */
size_t st_procread_labels_alive(struct st_procread *r, struct st_goroutine **gs, size_t n);

/* At the end of tracing: the goroutines that were there at the start but
 * neither the snapshot nor an exit named (the snapshot skipped them as
 * changing, or could not be read) read by their g's address, if that g
 * still holds the same goid.  Returns how many were named (0 when the
 * process is gone). */
size_t st_procread_name_missing(struct st_procread *r, struct st_model *m,
				struct st_resolver *res, uint64_t casg_vaddr);

/* An st_labels_fn: the label set at a g.labels pointer of the process,
 * interned; NULL if none, unreadable or out of memory.  ctx is the
 * struct st_procread. */
const struct st_labels *st_procread_labels(void *ctx, uint64_t labels_ptr);

#endif /* GOTRACE_STATES_PROCREAD_H */
