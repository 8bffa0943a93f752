// SPDX-License-Identifier: MIT
/*
 * speedscope's own file format for the tracks of a Chrome trace: see
 * speedscope.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "output/chrome_trace_internal.h"
#include "output/speedscope.h"

/* speedscope's close event of slice t (opened earlier in the same track). */
static void out_speedscope_close(struct chrome_trace *ct, const struct ct_ev *t, uint64_t origin,
				 const uint32_t *frame_of)
{
	ct_out_str(ct, ",{\"type\":\"C\",\"frame\":");
	ct_out_u64(ct, frame_of[t->name] - 1);
	ct_out_str(ct, ",\"at\":");
	ct_out_u64(ct, t->ts + t->dur - origin);
	ct_out_str(ct, "}");
}

/* speedscope's own format: one "evented" profile per track with slices,
 * open/close events at integer nanoseconds (exact, unlike speedscope's
 * import of Chrome JSON, which adds ts + dur in floating point).  Instants,
 * flows and args have no place in it. */
static void write_speedscope_track(struct ct_sorted *s, uint32_t track, uint64_t origin,
				   const uint32_t *frame_of, uint32_t *stack, bool *first)
{
	struct chrome_trace *ct = s->ct;
	uint32_t depth = 0, end = s->track_end[track];
	uint64_t last = 0;
	bool any = false;

	for (uint32_t pos = s->track_start[track]; pos < end; pos++) {
		const struct ct_ev *e = ct_ev_at(s, pos);

		if (e->instant)
			continue;
		if (!any) {
			ct_out_str(ct, *first ? "\n{" : ",\n{");
			*first = false;
			ct_out_str(ct, "\"type\":\"evented\",\"unit\":\"nanoseconds\",\"name\":");
			ct_out_track_name(ct, &ct->gors[track / 2], track & 1);
			ct_out_str(ct, ",\"startValue\":");
			ct_out_u64(ct, e->ts - origin);
			ct_out_str(ct, ",\"events\":[");
		}
		while (depth && ct_ended_before(ct_ev_at(s, stack[depth - 1]), e))
			out_speedscope_close(ct, ct_ev_at(s, stack[--depth]), origin, frame_of);
		ct_out_str(ct, any ? ",{\"type\":\"O\",\"frame\":" : "{\"type\":\"O\",\"frame\":");
		ct_out_u64(ct, frame_of[e->name] - 1);
		ct_out_str(ct, ",\"at\":");
		ct_out_u64(ct, e->ts - origin);
		ct_out_str(ct, "}");
		stack[depth++] = pos;
		if (e->ts + e->dur > last)
			last = e->ts + e->dur;
		any = true;
	}
	while (depth)
		out_speedscope_close(ct, ct_ev_at(s, stack[--depth]), origin, frame_of);
	if (any) {
		ct_out_str(ct, "],\"endValue\":");
		ct_out_u64(ct, last - origin);
		ct_out_str(ct, "}");
	}
}

int speedscope_write(struct ct_sorted *s, struct ct_gor **by_goid, uint64_t origin,
		     const char *pname)
{
	struct chrome_trace *ct = s->ct;
	struct gt_outfile *file = ct->opts.speedscope;
	uint32_t *frame_of = calloc(ct->nr_strs + 1, sizeof(*frame_of));
	uint32_t *stack = malloc((ct->nr_evs + 1) * sizeof(*stack));
	uint32_t nr_frames = 0;
	bool first = true;
	int err = !frame_of || !stack ? -ENOMEM : 0;

	ct->opts.speedscope = NULL;
	if (!err)
		err = ct_out_begin(ct, file, false);
	if (err)
		goto out;
	ct_out_str(ct, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
		    "\"exporter\":\"gotrace " GOTRACE_VERSION "\",\"name\":");
	ct_out_cstr(ct, pname);
	ct_out_str(ct, ",\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[");
	for (uint32_t i = 0; i < ct->nr_evs; i++) {
		const struct ct_ev *e = &ct->evs[i];

		if (e->instant || frame_of[e->name])
			continue;
		frame_of[e->name] = ++nr_frames;
		ct_out_str(ct, nr_frames > 1 ? ",\n{\"name\":" : "\n{\"name\":");
		ct_out_sid(ct, e->name);
		ct_out_str(ct, "}");
	}
	ct_out_str(ct, "]},\n\"profiles\":[");
	for (uint32_t g = 0; g < ct->nr_gors; g++) {
		uint32_t idx = (uint32_t)(by_goid[g] - ct->gors);

		for (uint32_t k = 0; k < 2; k++) {
			if (by_goid[g]->nev[k])
				write_speedscope_track(s, idx * 2 + k, origin, frame_of, stack, &first);
		}
	}
	ct_out_str(ct, "\n]}\n");
out:
	err = ct_out_end(ct, file, err);
	free(stack);
	free(frame_of);
	return err;
}
