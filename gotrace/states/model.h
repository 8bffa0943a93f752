/* SPDX-License-Identifier: MIT */
/*
 * states/model: turns raw `struct states_event`s from bpf/states.bpf.c into
 * decoded goroutine transitions and per-goroutine accounting.  No BPF, no
 * I/O: the live tracer, the unit tests and the replay benchmark all feed it
 * the same way.
 *
 * What it fixes up on the way:
 *  - creation goids: before Go 1.24, newproc1 writes the new goid *after*
 *    casgstatus(newg, _Gdead, _Grunnable), so the creation event carries the
 *    previous occupant's goid.  With opts.late_goid the creation is held per
 *    g address and released, with the right goid, by the next event of that
 *    g (or at st_model_finish()).
 *  - duplicates: on Go 1.26+ the syscall fast-path probe and the casgstatus
 *    fallback can both report running -> syscall; a transition equal to the
 *    goroutine's previous one, into the state it is already in, is dropped.
 *  - casGFromPreempted fires before a CAS that may fail: dropped unless the
 *    goroutine is known to be preempted.
 *  - the _Gscan bit is stripped from from/to.
 *
 * Accounting: time in each state from a goroutine's first seen transition
 * (or its creation) to its exit or st_model_finish(); waiting time split by
 * wait reason; transition counts.  Goroutines that were already in a state
 * when tracing started are counted from their first transition on.
 *
 * Ownership: the model owns its goroutine records; pointers handed to the
 * sink and returned by st_model_goroutines() stay valid until
 * st_model_free().  Strings (start_func) are the resolver's.
 */
#ifndef GOTRACE_STATES_MODEL_H
#define GOTRACE_STATES_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "states.h"

#define ST_MAX_REASONS 256	/* waitReason is a uint8 */
#define ST_NSTATES 12		/* STATES_G_IDLE .. STATES_G_DEADEXTRA */

/* Waiting time and count of one goroutine for one wait reason. */
struct st_wait {
	uint32_t reason;
	uint32_t count;			/* transitions into waiting with it */
	uint64_t ns;			/* time spent waiting with it */
};

struct st_goroutine {
	int64_t goid;
	uint64_t gp;
	uint64_t startpc, gopc;		/* run-time addresses, 0 if unknown */
	int64_t parent;			/* creator goid, -1 unknown */
	const char *start_func;		/* from the resolver, NULL if unknown */
	const char *created_at;		/* "file.go:12", NULL if unknown */
	bool created;			/* creation seen while tracing */
	bool exited;			/* transition to dead seen */
	int state;			/* current state, -1 unknown */
	uint32_t reason;		/* wait reason while waiting */
	uint64_t since;			/* when the current state began */
	uint64_t first_ns, last_ns;	/* first and last transition seen */
	uint64_t last_tid;
	uint32_t last_from, last_to;	/* previous transition (duplicate check) */
	uint64_t transitions;
	uint64_t ns[ST_NSTATES];	/* time per state */
	/* Per wait reason, only those seen (most goroutines wait for one or
	 * two reasons: a fixed table per goroutine would cost 1 KiB each). */
	struct st_wait *waits;
	uint32_t nwait, capwait;
	uint64_t nstate[ST_NSTATES];	/* transitions into each state */
};

/* One decoded transition, as the sink receives it. */
struct st_transition {
	uint64_t ts_ns;			/* absolute (CLOCK_MONOTONIC) */
	uint32_t tid;
	int from, to;			/* scan bit stripped */
	uint32_t reason;		/* valid when to == STATES_G_WAITING */
	uint32_t flags;			/* STATES_F_* from the event */
	struct st_goroutine *g;		/* after the transition was accounted */
	uint64_t prev_since;		/* when `from` began, 0 if unknown */
	uint32_t prev_reason;		/* the reason of `from` if it was waiting */
};

/* Resolves a creation's start PC and go-statement PC (run-time addresses;
 * probe_ip is casgstatus's run-time address, for the PIE bias) into names.
 * Either output may be left NULL. */
typedef void (*st_resolve_fn)(void *ctx, uint64_t probe_ip, uint64_t startpc, uint64_t gopc,
			      const char **start_func, const char **created_at);

/* Called for every transition kept. */
typedef void (*st_sink_fn)(void *ctx, const struct st_transition *t);

struct st_model_opts {
	bool late_goid;			/* Go < 1.24 (or unknown): see above */
	st_resolve_fn resolve;
	st_sink_fn sink;
	void *ctx;			/* passed to resolve and sink */
};

struct st_model;

struct st_model *st_model_new(const struct st_model_opts *opts);
void st_model_free(struct st_model *m);

/* A ring buffer record of bpf/states.bpf.c as a struct states_event: the
 * compact 32-byte struct states_rec (every transition but creations and
 * --stack records) or a whole struct states_event (a --stack record's
 * stack follows it).  0, or -1 if too short. */
int st_decode_record(const void *data, size_t len, struct states_event *e);

/* Feed one raw event.  Returns the number of transitions passed to the sink
 * (0, 1, or 2 when a held creation is released). */
int st_model_feed(struct st_model *m, const struct states_event *e);

/* End of trace at end_ns: release held creations, close open intervals
 * (time up to end_ns is added to each live goroutine's current state). */
void st_model_finish(struct st_model *m, uint64_t end_ns);

/* All goroutines seen, in no particular order.  *n receives the count;
 * the array belongs to the model (valid until the next feed/free). */
struct st_goroutine **st_model_goroutines(struct st_model *m, size_t *n);

struct st_model_stats {
	uint64_t events;		/* fed */
	uint64_t transitions;		/* passed to the sink */
	uint64_t duplicates;		/* dropped as duplicates */
	uint64_t failed_cas;		/* casGFromPreempted dropped */
	uint64_t no_goid;		/* events whose goid could not be read */
};
void st_model_stats(const struct st_model *m, struct st_model_stats *s);

/* Waiting time / count of g for reason (0 if never). */
uint64_t st_wait_ns(const struct st_goroutine *g, uint32_t reason);
uint64_t st_wait_count(const struct st_goroutine *g, uint32_t reason);

/* "running", "waiting", ...; "status<N>" for unknown values (static buffer
 * per call site is not used: unknown values share one "unknown"). */
const char *st_state_name(int state);

#endif /* GOTRACE_STATES_MODEL_H */
