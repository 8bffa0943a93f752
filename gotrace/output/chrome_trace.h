/* SPDX-License-Identifier: MIT */
/*
 * chrome_trace: write goroutine timelines as Chrome Trace Event JSON (the
 * Object format), for Perfetto UI, the Catapult viewer that `go tool trace`
 * embeds (chrome://tracing) and speedscope.  docs/formats.md describes the
 * output; tests/lib/trace_validate.py checks it.
 *
 * The document:
 *
 *   {"traceEvents":[
 *     metadata (M): process_name, per track thread_name + thread_sort_index,
 *     complete slices (X), instants (i), flow pairs (s / f with bp "e"),
 *   ],
 *   "displayTimeUnit":"ns",
 *   "otherData":{"gotrace_version":...,"binary":...,"go_version":...,
 *                "command_line":...,"time_origin_ns":...,"clamped_slices":...,
 *                "dropped_flows":...,"dropped_events":...,"lost_events":...,
 *                <chrome_trace_set_meta() pairs>}}      (all strings)
 *
 * Tracks: one process (pid 1, named after the binary).  Each goroutine gets
 * a compact index i = 1, 2, ... (its rank by goid, assigned at close) and two
 * tracks (tids): the state track 2i-1 named "G<goid> <start function>" and
 * the calls track 2i named "G<goid> calls".  tids are non-zero uint32; the
 * real goid is in the track names and in every event's args ("goid").  A
 * track is named and written only when it holds an event.
 *
 * Time: callers pass absolute nanosecond timestamps of one clock (e.g.
 * CLOCK_MONOTONIC / bpf_ktime_get_ns).  The output's ts/dur are microseconds
 * with exactly 3 decimals (ns precision, printed from integers, no floating
 * point) relative to the origin: opts.start_ns, or when that is 0 the
 * earliest time passed in.  Times before opts.start_ns are clamped to it.
 *
 * Ordering and nesting: states and calls arrive in end order, so the writer
 * buffers every event in memory (32 bytes per slice, plus its args' text
 * when they hold numbers; names and string args are interned) and sorts
 * each track by (ts asc, dur desc) when the trace is closed.  It then enforces strict nesting per track: a slice that starts
 * inside another but ends after it is clamped to its parent's end (counted
 * in stats.clamped), so the output always nests, whatever the input.
 *
 * Flows (arrows: creation, unblock) are recorded as (goroutine, track, time)
 * pairs and resolved at close: the source binds to the deepest slice on the
 * source track that contains the source time, the target to the outermost
 * slice on the target track that contains the target time (preferring one
 * that starts there), or else to the next slice that starts after it.  A
 * flow whose either end finds no slice is dropped (stats.flows_dropped), so
 * every `s` written has its `f`.  Each end is written at the requested time
 * (or 1 ns off) when that time is strictly inside its slice and on no edge
 * of a nested slice or instant, else at the slice's first such point, so
 * every viewer binds it to the same slice; an arrow that would go back in
 * time is dropped too.
 *
 * Output files (output/outfile.h): chrome_trace_open() takes an opened
 * gt_outfile and owns it from then on; chrome_trace_close() writes the
 * whole document into it and commits it (a reader never sees a
 * half-written file), chrome_trace_abort() aborts it.  The file is gzipped
 * when its path ends in ".gz" or opts.gzip is set.  With opts.speedscope,
 * close then writes that second file the same way (speedscope.h; an error
 * there is returned, the Chrome file stays).
 *
 * Ctrl-C: nothing here is async-signal-safe.  The CLI's signal handler only
 * sets a flag (gt_signals_install()); the main loop sees it, stops reading
 * events, and calls chrome_trace_close() from normal context, so the
 * document is always closed.  chrome_trace_abort() discards a trace
 * (removes the temporary file) on error paths.
 *
 * Filters (opts.min_dur_ns, opts.goids) are applied when events are added:
 * filtered events cost no memory.  chrome_trace_wants_goid() lets a caller
 * skip work for goroutines that would be filtered anyway.
 *
 * Errors: negative errno (-EINVAL bad argument, -ENOMEM, -EIO or the
 * underlying errno for file errors, -E2BIG when opts.max_events is reached).
 * The module never prints.  Not thread-safe: one thread per trace.
 */
#ifndef GOTRACE_CHROME_TRACE_H
#define GOTRACE_CHROME_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chrome_trace;
struct gt_outfile;

/* Browsers' JSON viewers struggle past roughly this much (uncompressed) JSON;
 * callers warn when chrome_trace_estimate_size() goes beyond it. */
#define CHROME_TRACE_BROWSER_LIMIT (200ULL << 20)

enum chrome_trace_track {
	CHROME_TRACE_STATES = 0,	/* "G<goid> <start function>" */
	CHROME_TRACE_CALLS = 1,		/* "G<goid> calls" */
};

struct chrome_trace_opts {
	bool gzip;		/* gzip even if the path does not end in .gz */
	uint64_t start_ns;	/* time origin; 0 = the earliest event */
	uint64_t min_dur_ns;	/* drop slices shorter than this (not instants) */
	const uint64_t *goids;	/* keep only these goroutines (NULL: all); */
	size_t nr_goids;	/*   the array is copied */
	size_t max_events;	/* bound on buffered slices + instants (memory:
				 * ~32 B each); 0 = unlimited; beyond it the
				 * add functions return -E2BIG and count the
				 * event in stats.dropped (and in otherData) */
	/* otherData; NULL = omitted.  process_name defaults to binary's
	 * basename, then to "go". */
	const char *binary;
	const char *go_version;
	const char *command_line;
	const char *process_name;
	/* Also write the slices in speedscope's own file format to this file
	 * at close (gzipped if its path ends in .gz; owned by the trace from
	 * chrome_trace_open() on): one profile per track, times
	 * in integer ns.  speedscope's import of Chrome JSON adds ts + dur in
	 * floating point and mis-nests slices that touch (every state change);
	 * its own format is exact.  No instants, flows or args.  NULL: none. */
	struct gt_outfile *speedscope;
};

/* One key/value pair of an event's "args".  str == NULL means the value is
 * the number num. */
struct chrome_trace_arg {
	const char *key;
	const char *str;
	int64_t num;
	const char *json;	/* if set: a JSON value written as is (not str or num) */
};

struct chrome_trace_stats {
	uint64_t slices;	/* slices kept (buffered) */
	uint64_t instants;	/* instants kept */
	uint64_t flows;		/* flows recorded (resolved at close) */
	uint64_t filtered;	/* events dropped by min_dur/goid filters */
	uint64_t clamped;	/* slices clamped at close to nest strictly */
	uint64_t flows_dropped;	/* flows with an end that bound to no slice */
	uint64_t dropped;	/* events refused with -E2BIG (opts.max_events) */
	uint64_t lost;		/* events lost before the writer saw them
				 * (chrome_trace_count_lost) */
	uint32_t goroutines;	/* goroutines with a track */
};

/* An empty trace that will be written to file (and opts->speedscope).
 * The trace owns both outfiles from here on, also when this fails (they
 * are then aborted).  opts may be NULL; strings in it are copied.  Returns
 * 0 and sets *ctp, or a negative errno (and *ctp = NULL). */
int chrome_trace_open(struct chrome_trace **ctp, struct gt_outfile *file,
		      const struct chrome_trace_opts *opts);

/* Add one "key":"value" pair to otherData (both copied; later wins). */
int chrome_trace_set_meta(struct chrome_trace *ct, const char *key, const char *value);

/* Set the time origin (opts.start_ns) once it is known, when the file had
 * to be opened before tracing began.  Call it before adding events (times
 * before it are clamped to it as they are added). */
int chrome_trace_set_start(struct chrome_trace *ct, uint64_t start_ns);

/* Declare a goroutine and/or set its start function (used in its state
 * track's name; NULL or "" leaves it unnamed: "G<goid>").  Optional: any
 * event of a new goid declares it.  Calling again renames it. */
int chrome_trace_goroutine(struct chrome_trace *ct, uint64_t goid, const char *start_func);

/* True if events of goid pass the goid filter. */
bool chrome_trace_wants_goid(const struct chrome_trace *ct, uint64_t goid);

/* A complete slice [start_ns, end_ns] on a goroutine's track.  name is the
 * slice's name (Perfetto colours by name), cat its category (NULL: "state"
 * for the state track, "call" for the calls track).  args are copied; the
 * writer adds "goid" first.  Returns 0 (also when filtered), or -errno
 * (-EINVAL: end_ns < start_ns or no name). */
int chrome_trace_slice(struct chrome_trace *ct, uint64_t goid, enum chrome_trace_track track,
		       uint64_t start_ns, uint64_t end_ns, const char *name, const char *cat,
		       const struct chrome_trace_arg *args, size_t nr_args);

/* A goroutine state slice: named state ("running") or, with a reason,
 * "state: reason" ("waiting: chan receive"); args state and reason. */
int chrome_trace_state(struct chrome_trace *ct, uint64_t goid, uint64_t start_ns,
		       uint64_t end_ns, const char *state, const char *reason);

/* An instant event (thread scope) on a goroutine's track. */
int chrome_trace_instant(struct chrome_trace *ct, uint64_t goid, enum chrome_trace_track track,
			 uint64_t ts_ns, const char *name, const char *cat,
			 const struct chrome_trace_arg *args, size_t nr_args);

/* An arrow from (from_goid, from_track, from_ns) to (to_goid, to_track,
 * to_ns), e.g. name "go" from the creator's running slice to the new
 * goroutine's first slice, or "unblock" from the waker's running slice to
 * the woken goroutine's runnable slice.  Resolved at close (see above). */
int chrome_trace_flow(struct chrome_trace *ct, const char *name,
		      uint64_t from_goid, enum chrome_trace_track from_track, uint64_t from_ns,
		      uint64_t to_goid, enum chrome_trace_track to_track, uint64_t to_ns);

/* Estimated size in bytes of the uncompressed JSON if closed now. */
uint64_t chrome_trace_estimate_size(const struct chrome_trace *ct);

/* n events the caller lost before they reached the writer (a full ring
 * buffer): otherData's "lost_events" says how many, and "dropped_events"
 * counts them with those the writer refused (stats.dropped), so it is every
 * event the trace lacks, the number the command reports elsewhere. */
void chrome_trace_count_lost(struct chrome_trace *ct, uint64_t n);

/* Counters so far (filtered/clamped/flows_dropped final after close). */
void chrome_trace_stats(const struct chrome_trace *ct, struct chrome_trace_stats *stats);

/* Sort, write the whole document and commit the file (then the speedscope
 * file); then free the trace.  stats (may be NULL) receives the final
 * counters.  Returns 0 or a negative errno (a file not complete is then
 * aborted: the user's old file stays).  Accepts NULL (returns 0). */
int chrome_trace_close(struct chrome_trace *ct, struct chrome_trace_stats *stats);

/* Discard the trace: abort its files and free.  Accepts NULL. */
void chrome_trace_abort(struct chrome_trace *ct);

#endif
