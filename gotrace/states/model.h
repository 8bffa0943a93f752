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
 * Accounting: time in each state from the start of tracing (opts.t0_ns)
 * or a goroutine's creation to its exit or st_model_finish(); waiting time
 * split by wait reason; transition counts.  A goroutine that existed when
 * tracing began is known from the attach snapshot (st_model_seed(): its
 * state, wait reason, names and labels then) or, if the snapshot missed
 * it, from its first transition: the state that transition leaves is the
 * one it was in since t0.  Whole intervals (both ends seen while tracing)
 * also go into per-goroutine histograms: the scheduler latency (runnable
 * -> running) and the length of each wait, per wait reason (st_hist).
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
#include "hist.h"	/* bpf/hist.h: the buckets every latency histogram uses */

#define ST_MAX_REASONS 256	/* waitReason is a uint8 */
#define ST_NSTATES 12		/* STATES_G_IDLE .. STATES_G_DEADEXTRA */

/* Waiting time and count of one goroutine for one wait reason. */
struct st_wait {
	uint32_t reason;
	uint32_t count;			/* transitions into waiting with it */
	uint64_t ns;			/* time spent waiting with it */
	uint64_t max_ns;		/* its longest whole wait (both ends seen) */
	uint64_t max_ts;		/* when that wait ended (CLOCK_MONOTONIC) */
};

/*
 * A goroutine's histograms, sparse: most goroutines see a few dozen
 * distinct buckets, so a dense histogram per goroutine (HIST_NB counters,
 * bpf/hist.h) per wait reason would cost kilobytes each.  Each entry packs
 * a key, (kind << ST_HIST_BUCKET_BITS | bucket), above a 44-bit count;
 * kind ST_HIST_SCHED is the scheduler latency, ST_HIST_WAIT(reason) the
 * length of the waits with that reason.  Same buckets as the in-kernel
 * histograms, so either source adds up with the other.
 */
#define ST_HIST_BUCKET_BITS	10
#define ST_HIST_COUNT_BITS	44
#define ST_HIST_SCHED		0u
#define ST_HIST_WAIT(reason)	(1u + (reason))
_Static_assert(HIST_NB <= (1 << ST_HIST_BUCKET_BITS), "bucket field too narrow");

struct st_hist {
	uint64_t *v;
	uint32_t n, cap;
};

/* Count one value (ns) of kind; 0 or -ENOMEM. */
int st_hist_add(struct st_hist *h, uint32_t kind, uint64_t ns);
/* Count `count` values in bucket b (a dense histogram's bucket, e.g. from
 * a BPF map); 0 or -ENOMEM. */
int st_hist_add_bucket(struct st_hist *h, uint32_t kind, uint32_t b, uint64_t count);
/* Add the buckets of kind into dense (HIST_NB counters); returns how many
 * values they hold. */
uint64_t st_hist_merge(const struct st_hist *h, uint32_t kind, uint64_t *dense);
void st_hist_release(struct st_hist *h);

/* pprof labels (runtime/pprof.Do, SetGoroutineLabels), interned: equal
 * sets are one pointer.  Keys sorted. */
struct st_label {
	const char *key, *value;
};
struct st_labels {
	uint32_t n;
	struct st_label kv[];
};

/* The value of key in l, or NULL. */
const char *st_labels_get(const struct st_labels *l, const char *key);

struct st_goroutine {
	int64_t goid;
	uint64_t gp;
	uint64_t startpc, gopc;		/* run-time addresses, 0 if unknown */
	int64_t parent;			/* creator goid, -1 unknown */
	const char *start_func;		/* from the resolver, NULL if unknown */
	const char *created_at;		/* "file.go:12", NULL if unknown */
	const struct st_labels *labels;	/* pprof labels, NULL none or unknown */
	bool created;			/* creation seen while tracing */
	bool exited;			/* transition to dead seen */
	bool at_start;			/* alive when tracing began */
	bool seeded;			/* described by the attach snapshot */
	bool since_start;		/* the current state began before tracing did */
	int start_state;		/* at_start: its state then, -1 unknown */
	uint32_t start_reason;		/* ... and its wait reason, if waiting */
	uint64_t waitsince;		/* seeded: when the wait it was in at the start
					 * began (the runtime's g.waitsince, a lower
					 * bound set by the GC), CLOCK_MONOTONIC; 0 unknown */
	int state;			/* current state, -1 unknown */
	uint32_t reason;		/* wait reason while waiting */
	uint64_t since;			/* when the current state began */
	uint64_t open_ns;		/* after st_model_finish(): how long the state it
					 * was in at the end had lasted (within the trace) */
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
	/* Scheduler latency: whole runnable -> running intervals. */
	uint64_t lat_count, lat_sum, lat_max, lat_max_ts;
	struct st_hist hist;		/* ST_HIST_SCHED and ST_HIST_WAIT(reason) */
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
 * Either output may be left NULL.  Also called for exits (STATES_F_EXIT)
 * of goroutines not named yet. */
typedef void (*st_resolve_fn)(void *ctx, uint64_t probe_ip, uint64_t startpc, uint64_t gopc,
			      const char **start_func, const char **created_at);

/* Reads the pprof label set at a g.labels pointer of the target (from a
 * creation or exit event); NULL when there is none or it can't be read.
 * The set must stay valid until the model is freed. */
typedef const struct st_labels *(*st_labels_fn)(void *ctx, uint64_t labels_ptr);

/* Called for every transition kept. */
typedef void (*st_sink_fn)(void *ctx, const struct st_transition *t);

struct st_model_opts {
	bool late_goid;			/* Go < 1.24 (or unknown): see above */
	uint64_t t0_ns;			/* tracing began (CLOCK_MONOTONIC); 0: at each
					 * goroutine's first transition, as if unknown */
	st_resolve_fn resolve;
	st_labels_fn labels;		/* NULL: labels are not read */
	st_sink_fn sink;
	void *ctx;			/* passed to resolve, labels and sink */
};

/* A goroutine alive when tracing began, as a snapshot of the process saw
 * it (gotrace/goruntime): names resolved by the caller. */
struct st_seed {
	int64_t goid;
	uint64_t gp;
	int state;			/* status, scan bit stripped */
	uint32_t reason;		/* wait reason, if waiting */
	uint64_t waitsince;		/* CLOCK_MONOTONIC, 0 unknown */
	int64_t parent;			/* -1 unknown */
	uint64_t startpc, gopc;		/* run-time addresses, 0 unknown */
	const char *start_func, *created_at;
	const struct st_labels *labels;
};

struct st_model;

struct st_model *st_model_new(const struct st_model_opts *opts);
void st_model_free(struct st_model *m);

/* A ring buffer record of bpf/states.bpf.c as a struct states_event: the
 * compact 32-byte struct states_rec (every transition but creations, exits and
 * --stack records) or a whole struct states_event (a --stack record's
 * stack follows it).  0, or -1 if too short. */
int st_decode_record(const void *data, size_t len, struct states_event *e);

/* Describe a goroutine alive at opts.t0_ns, before the first event is
 * fed.  Its first transition, if one comes, says which state it was really
 * in since t0 (the snapshot is read a little after t0); a creation of the
 * same goid means the snapshot saw it just after it was made: the seed is
 * then dropped.  Seeds whose state is dead are ignored.  0 or -ENOMEM. */
int st_model_seed(struct st_model *m, const struct st_seed *s);

/* Set opts.t0_ns once known (before the first event is fed). */
void st_model_set_t0(struct st_model *m, uint64_t t0_ns);

/* Feed one raw event.  Returns the number of transitions passed to the sink
 * (0, 1, or 2 when a held creation is released). */
int st_model_feed(struct st_model *m, const struct states_event *e);

/* End of trace at end_ns: release held creations, close open intervals
 * (time up to end_ns is added to each live goroutine's current state, and
 * its length is left in open_ns). */
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
