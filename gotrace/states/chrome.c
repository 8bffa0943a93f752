// SPDX-License-Identifier: MIT
/*
 * states/chrome: goroutine state slices and flows of `gotrace states` into a
 * Chrome trace (chrome_trace.h).  Kept apart from states/output.c so the
 * replay benchmark can build the text/JSON path without the trace writer.
 *
 * Flows, both from a state slice to the target's first slice of its new
 * state:
 *  - "go": creation, from the parent's slice (the event carries the
 *    parent's goid) to the new goroutine's runnable slice.
 *  - "unblock": a waiting -> runnable transition, from the goroutine that
 *    was running on the thread (tid) that made it, to the woken goroutine's
 *    runnable slice.  The runtime readies a goroutine (goready -> ready ->
 *    casgstatus) on the waker's own M while the waker's status is still
 *    running, so "the goroutine whose last transition on this tid was into
 *    running, and which has not left running since" is the waker.  Wakes
 *    made with no goroutine running on the thread (the scheduler, the
 *    netpoller, timers, sysmon, all on g0 or without a P) get no flow: the
 *    woken goroutine's runnable slice simply has no incoming arrow.
 *    Limits: a goroutine already running when tracing started is unknown
 *    until its next transition into running; two threads whose tids share
 *    a slot of st_out.running_on (512 slots) evict each other, which loses
 *    flows but never misattributes one.
 */
#include "output/chrome_trace.h"
#include "states/output.h"

/* Track which goroutine runs on t's thread; return the waker's goid when t
 * is a wake (waiting -> runnable) made while one was running there, else 0.
 * Per event: one slot read and at most one write. */
static int64_t track_waker(struct st_out *o, const struct st_transition *t)
{
	struct st_running_on *r = &o->running_on[t->tid % ST_RUNNING_SLOTS];
	int64_t goid = t->g->goid;

	if (t->to == STATES_G_RUNNING) {
		r->tid = t->tid;
		r->goid = goid;
	} else if (t->from == STATES_G_RUNNING) {
		if (r->tid == t->tid && r->goid == goid)
			r->goid = 0;
	} else if (t->from == STATES_G_WAITING && t->to == STATES_G_RUNNABLE &&
		   r->tid == t->tid && r->goid > 0 && r->goid != goid) {
		return r->goid;
	}
	return 0;
}

void st_out_chrome_transition(struct st_out *o, const struct st_transition *t)
{
	struct st_goroutine *g = t->g;
	int64_t waker = track_waker(o, t);	/* before the goid filter: the
						 * waker may be filtered out */

	if (!chrome_trace_wants_goid(o->ct, (uint64_t)g->goid))
		return;
	if (waker > 0)
		chrome_trace_flow(o->ct, "unblock", (uint64_t)waker, CHROME_TRACE_STATES, t->ts_ns,
				  (uint64_t)g->goid, CHROME_TRACE_STATES, t->ts_ns);
	if (t->flags & STATES_F_CREATE) {
		chrome_trace_goroutine(o->ct, (uint64_t)g->goid, g->start_func);
		if (g->parent > 0)
			chrome_trace_flow(o->ct, "go", (uint64_t)g->parent, CHROME_TRACE_STATES,
					  t->ts_ns, (uint64_t)g->goid, CHROME_TRACE_STATES,
					  t->ts_ns);
	}
	if (t->prev_since && t->from != STATES_G_DEAD)
		chrome_trace_state(o->ct, (uint64_t)g->goid, t->prev_since, t->ts_ns,
				   st_state_name(t->from),
				   t->from == STATES_G_WAITING ? st_reason_name(o, t->prev_reason)
							       : NULL);
}

void st_out_chrome_finish(struct st_out *o, struct st_goroutine **gs, size_t n,
			  uint64_t end_ns)
{
	if (!o->ct)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct st_goroutine *g = gs[i];

		if (!g->created && g->start_func)
			chrome_trace_goroutine(o->ct, (uint64_t)g->goid, g->start_func);
		/* the state it ended in; for a goroutine there at the start
		 * that never changed state (st_model_seed), the whole trace */
		uint64_t from = g->transitions ? g->last_ns : end_ns - g->open_ns;

		if (g->exited || g->state < 0 || (!g->transitions && !g->at_start) ||
		    end_ns < from || !chrome_trace_wants_goid(o->ct, (uint64_t)g->goid))
			continue;
		chrome_trace_state(o->ct, (uint64_t)g->goid, from, end_ns,
				   st_state_name(g->state),
				   g->state == STATES_G_WAITING ? st_reason_name(o, g->reason) : NULL);
	}
}

