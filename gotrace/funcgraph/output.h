/* SPDX-License-Identifier: MIT */
/*
 * funcgraph's writers: the indented call graph per goroutine (text), one
 * JSON object per call (jsonl), folded stacks, pprof, the Chrome trace, and
 * the per-function summary.  Fed with the pairing engine's completed calls.
 * Errors are negative errno; nothing here prints except to the outputs.
 */
#ifndef GOTRACE_FUNCGRAPH_OUTPUT_H
#define GOTRACE_FUNCGRAPH_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "funcgraph/pairing.h"
#include "output/outfile.h"
#include "output/pprof.h"
#include "tracing/stacks.h"

struct ga_session;

/* --args: the values an entry or RET event carried (struct ga_hdr and
 * its blob), kept with the call by the pairing engine. */
struct fg_vals {
	size_t len;
	unsigned char bytes[];
};

struct fg_output_opts {
	FILE *out;			/* text or jsonl stream */
	bool jsonl;
	bool summary;			/* per-function summary at the end */
	/* The files (output/outfile.h), owned by the fg_output from
	 * fg_output_new() on (also when it fails); NULL: none. */
	struct gt_outfile *folded;
	struct gt_outfile *json;	/* Chrome trace */
	bool json_gzip;			/* gzip it whatever its name (--json-gz) */
	struct gt_outfile *speedscope;	/* with json: speedscope format too */
	struct gt_outfile *pprof;	/* gzipped profile.proto */
	const struct pprof_func *pprof_funcs;	/* nfuncs names/files/lines */
	const int64_t *goids;		/* --goid filter; NULL: all */
	size_t ngoids;
	uint64_t min_dur_ns;		/* --min-duration */
	int max_depth;			/* --depth: show depth < max_depth; <= 0 all */
	uint64_t t0;			/* times are printed relative to this */
	const char *const *names;	/* function names by index */
	uint32_t nfuncs;
	const char *binary, *go_version, *command_line;
	/* --stack: stacks held by (goid << 1 | g0, start_ns), taken when the
	 * call prints; the summary adds the stack counts.  NULL: none. */
	struct gt_stacks *stacks;
	/* --args: decodes the calls' struct fg_vals (pairing_call's
	 * entry_data and ret_data, freed here).  NULL: none. */
	struct ga_session *args;
};

struct fg_output;

int fg_output_new(const struct fg_output_opts *opts, struct fg_output **out);
/* pairing callbacks (arg = the fg_output) */
void fg_output_call(const struct pairing_call *c, void *arg);
void fg_output_idle(int64_t goid, bool g0, void *arg);
/* Write what is buffered, the summary, and the files (committed, or
 * aborted after a failure); 0 or -errno (with *what naming the file that
 * failed). */
int fg_output_finish(struct fg_output *o, const char **what);
void fg_output_free(struct fg_output *o);

/* Events the ring buffer dropped, before fg_output_finish(): counted at the
 * end of the text output, in jsonl's {"type":"stats","drops":N} record and
 * in the trace's otherData. */
void fg_output_set_drops(struct fg_output *o, uint64_t drops);

/* Set the time origin (tracing start) once it is known. */
void fg_output_set_t0(struct fg_output *o, uint64_t t0);

#endif
