// SPDX-License-Identifier: MIT
/*
 * states_chrome: goroutine state slices and creation flows of `gotrace
 * states` into a Chrome trace (chrome_trace.h).  Kept apart from
 * states_output.c so the replay benchmark can build the text/JSON path
 * without the trace writer.
 */
#include "chrome_trace.h"
#include "states_output.h"

void st_out_chrome_transition(struct st_out *o, const struct st_transition *t)
{
	struct st_goroutine *g = t->g;

	if (!chrome_trace_wants_goid(o->ct, (uint64_t)g->goid))
		return;
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
		if (g->exited || g->state < 0 || !g->transitions || end_ns < g->last_ns)
			continue;
		chrome_trace_state(o->ct, (uint64_t)g->goid, g->last_ns, end_ns,
				   st_state_name(g->state),
				   g->state == STATES_G_WAITING ? st_reason_name(o, g->reason) : NULL);
	}
}

