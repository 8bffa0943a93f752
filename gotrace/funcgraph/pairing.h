/* SPDX-License-Identifier: MIT */
/*
 * pairing: turn a stream of probe hits (function entries, RET sites,
 * morestack calls, goroutine exits) into completed calls per goroutine.
 * Pure C, no BPF: funcgraph feeds it the ring buffer's events in order.
 *
 * Each goroutine (keyed by goid, plus a separate track for code that runs
 * on the scheduler stack g0 on its behalf) has a stack of open frames.  A
 * frame is identified by `dist` = g.stack.hi - SP at the function's entry:
 * the same at the entry and at every RET of the activation, unchanged when
 * the runtime copies the stack to grow or shrink it, and strictly larger
 * for deeper frames.  The rules:
 *
 *   entry(F, d)  If the top frame is (F, d) and runtime.morestack was just
 *                seen at d (or the engine runs without morestack markers),
 *                this is the prologue re-executing after stack growth: drop
 *                it.  Otherwise frames at dist >= d can't be running any
 *                more (a panic or Goexit skipped their RETs): close them as
 *                unwound; push (F, d).
 *   ret(F, d)    Close frames deeper than d as unwound; if the top is (F, d)
 *                close it as returned, else count an unmatched return (a
 *                call that began before tracing did).
 *   morestack(d) Remember d until the goroutine's next event.
 *   unwind_to(d) runtime.deferreturn entered at d: close frames at dist >= d
 *                as unwound (after a recover, execution resumes at the
 *                recovering function's deferreturn call).
 *   gexit()      The goroutine is gone: close all its frames as unwound.
 *   finish()     Close every frame still open as `open`.
 *
 * Without unwind_to events (no runtime.deferreturn probe), frames skipped
 * by a panic that an untraced function recovers stay open until the
 * goroutine's next event at a shallower or equal dist, or its exit.
 *
 * Completed calls are handed to a callback in completion order (children
 * before parents).  Depth 0 is the outermost traced call on a goroutine.
 * Goroutine ids are never reused by the Go runtime, so state is dropped
 * when a goroutine exits.
 *
 * Not thread-safe; one engine per event stream.  Functions return 0 or a
 * negative errno (only -ENOMEM).
 */
#ifndef GOTRACE_PAIRING_H
#define GOTRACE_PAIRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pairing_end {
	PAIRING_RET,	 /* a RET site fired */
	PAIRING_UNWOUND, /* left without RET: panic, Goexit */
	PAIRING_OPEN,	 /* still running when tracing stopped */
};

struct pairing_call {
	int64_t goid;
	uint32_t func;
	int depth;
	bool g0;		/* ran on the scheduler stack for goid */
	enum pairing_end end;
	uint64_t start_ns, end_ns;
	uint64_t self_ns;	/* duration minus the traced children's */
	uint64_t seq;		/* entry order within the track: sort for pre-order */
	const uint32_t *stack;	/* funcs of depths 0..depth; valid during the callback */
	/* what pairing_entry_data() and pairing_ret_data() were given for
	 * this call (NULL if nothing): the callback owns them */
	void *entry_data, *ret_data;
};

/* A call completed. */
typedef void (*pairing_call_fn)(const struct pairing_call *c, void *arg);
/* A track has no open frame left (its outermost call ended, or it exited). */
typedef void (*pairing_idle_fn)(int64_t goid, bool g0, void *arg);

struct pairing_opts {
	/* true: drop a duplicate entry only right after morestack at its dist;
	 * false: drop any entry identical to the open top frame. */
	bool morestack_markers;
	/* Optional, indexed by function: true for functions without a RET
	 * instruction (compiler wrappers that end in a tail jump).  Such a
	 * frame closed by an entry at its own dist was replaced by its tail
	 * callee: it ends as PAIRING_RET, not unwound. */
	const bool *noret;
	uint32_t nfuncs;
	pairing_call_fn on_call;
	pairing_idle_fn on_idle;	/* may be NULL */
	/* frees data given with an entry or RET the engine drops (duplicate
	 * entries, unmatched returns, calls left at pairing_free()); NULL if
	 * no data is ever given */
	void (*free_data)(void *data);
	void *arg;
};

struct pairing_stats {
	uint64_t entries;	/* entry events accepted */
	uint64_t dup_entries;	/* dropped: prologue re-run after morestack */
	uint64_t rets;		/* closed by their RET (or their tail call) */
	uint64_t unmatched_rets;/* RET with no open frame at its dist */
	uint64_t unwound;	/* closed without RET */
	uint64_t open;		/* still open at finish */
	uint64_t gexits;
	uint64_t bad_goid;	/* events without a goroutine id: ignored */
	uint64_t max_goroutines;/* most tracks alive at once */
};

struct pairing;

struct pairing *pairing_new(const struct pairing_opts *opts);
void pairing_free(struct pairing *p);

int pairing_entry(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		  uint64_t ts);
int pairing_ret(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		uint64_t ts);
/* The same, with data for the call (--args: the values read there), which
 * the engine owns until it hands it to on_call or frees it. */
int pairing_entry_data(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		       uint64_t ts, void *data);
int pairing_ret_data(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint32_t func,
		     uint64_t ts, void *data);
int pairing_morestack(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint64_t ts);
/* Something (not necessarily traced) was entered at dist: every frame at
 * dist >= it is gone.  Fed by runtime.deferreturn, where a recovered panic
 * resumes, so frames a panic skipped are closed even when the function
 * that recovered is not traced. */
int pairing_unwind_to(struct pairing *p, int64_t goid, bool g0, uint64_t dist, uint64_t ts);

/* The function whose entry feeds unwind_to, when it is traced as well
 * (both probes fire at its entry, in either order): its own frame at the
 * unwind dist is kept.  ~0u (the default after pairing_new) for none. */
void pairing_set_unwind_func(struct pairing *p, uint32_t func);

/* Both the goroutine's track and its g0 track end. */
int pairing_gexit(struct pairing *p, int64_t goid, uint64_t ts);
/* Close everything still open as PAIRING_OPEN, ending at ts. */
void pairing_finish(struct pairing *p, uint64_t ts);

/* Number of frames open on a track. */
int pairing_open_depth(const struct pairing *p, int64_t goid, bool g0);

const struct pairing_stats *pairing_stats(const struct pairing *p);
const char *pairing_end_name(enum pairing_end end);

#endif /* GOTRACE_PAIRING_H */
