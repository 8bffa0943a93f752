/* SPDX-License-Identifier: MIT */
/*
 * Private to gotrace/output/: the buffered trace model chrome_trace.c
 * builds and the renderers of it share.  chrome_trace.c owns the model
 * (strings, goroutines, events, flows) and writes Chrome Trace Event JSON;
 * speedscope.c renders the same sorted tracks in speedscope's format.
 * Callers outside output/ use chrome_trace.h only.
 */
#ifndef GOTRACE_CHROME_TRACE_INTERNAL_H
#define GOTRACE_CHROME_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "output/chrome_trace.h"
#include "output/outfile.h"

#ifndef GOTRACE_VERSION
#define GOTRACE_VERSION "unknown"
#endif

/* One buffered slice or instant.  ts is absolute ns (origin applied when
 * written).  track = goroutine index * 2 + enum chrome_trace_track. */
struct ct_ev {
	uint64_t ts;
	uint64_t dur;
	uint32_t name;		/* string id */
	uint32_t args;		/* args fragment: string id, or CT_ARENA | arena
				 * offset; 0 = none */
	uint32_t track;
	uint32_t cat : 31;	/* string id */
	uint32_t instant : 1;
};

struct ct_flow {
	uint64_t from_ns, to_ns;
	uint32_t from_track, to_track;
	uint32_t name;
};

struct ct_str {
	char *s;		/* JSON-escaped, without quotes */
	uint32_t len;
	uint32_t hash;
};

struct ct_gor {
	uint64_t goid;
	uint32_t start_func;	/* string id, 0 = unknown */
	uint32_t rank;		/* 1-based position by goid, set at close */
	uint64_t nev[2];	/* events per track */
};

struct ct_meta {
	char *key, *value;	/* escaped */
};

struct chrome_trace {
	struct gt_outfile *file;	/* the Chrome JSON, owned until close */
	gzFile gz;		/* the file being written at close */
	int err;		/* first write error */

	/* strings: id 0 is "" */
	struct ct_str *strs;
	uint32_t nr_strs, cap_strs;
	uint32_t *str_hash;	/* open addressing: id + 1, 0 = empty */
	uint32_t str_hash_cap;

	struct ct_gor *gors;
	uint32_t nr_gors, cap_gors;
	uint32_t *gor_hash;	/* open addressing: index + 1 */
	uint32_t gor_hash_cap;

	struct ct_ev *evs;
	size_t nr_evs, cap_evs;
	struct ct_flow *flows;
	size_t nr_flows, cap_flows;

	char *arena;		/* NUL-terminated args fragments */
	size_t arena_len, arena_cap;

	struct ct_meta *meta;
	size_t nr_meta;

	uint64_t *goids;	/* sorted filter, NULL = all */
	size_t nr_goids;
	struct chrome_trace_opts opts;
	uint64_t min_ts;	/* earliest time seen */
	uint64_t est_bytes;
	struct chrome_trace_stats stats;

	uint32_t sid_state, sid_call, sid_flow;

	char *out;
	size_t out_len;
};

/* The events of a closed trace in output order: by track (goroutine rank,
 * then kind), each track sorted by (ts asc, dur desc) and strictly nested. */
struct ct_sorted {
	struct chrome_trace *ct;
	uint32_t *order;	/* event indexes sorted by (tid, ts, dur desc, seq) */
	uint32_t *parent;	/* per sorted position: parent position + 1, 0 = top */
	uint32_t *track_start;	/* per track (goroutine index*2+kind): first position */
	uint32_t *track_end;
};

/* The event at sorted position pos. */
const struct ct_ev *ct_ev_at(const struct ct_sorted *s, uint32_t pos);

/* Whether the slice open at the top of a nesting stack ends before e starts. */
bool ct_ended_before(const struct ct_ev *top, const struct ct_ev *e);

bool ct_ends_with(const char *s, const char *suffix);

/* Write into f (gzipped if gzip is set or its name ends in .gz): the
 * ct_out_* functions go there until ct_out_end().  0 or -errno. */
int ct_out_begin(struct chrome_trace *ct, struct gt_outfile *f, bool gzip);
/* Flush and close what ct_out_begin() opened, then commit f, or abort it
 * when err (a failure of the caller's) or a write failed.  0 or -errno;
 * f is consumed either way. */
int ct_out_end(struct chrome_trace *ct, struct gt_outfile *f, int err);

/* Buffered output to ct->gz; the first failure is kept in ct->err and
 * later writes are dropped. */
void ct_out_flush(struct chrome_trace *ct);
void ct_out_mem(struct chrome_trace *ct, const char *s, size_t n);
void ct_out_str(struct chrome_trace *ct, const char *s);
/* A quoted interned string. */
void ct_out_sid(struct chrome_trace *ct, uint32_t id);
void ct_out_u64(struct chrome_trace *ct, uint64_t v);
/* Escaped copy of a plain C string, quoted. */
void ct_out_cstr(struct chrome_trace *ct, const char *s);
/* A track's name, quoted: "G<goid> <start function>" or "G<goid> calls". */
void ct_out_track_name(struct chrome_trace *ct, const struct ct_gor *gr, int k);

#endif /* GOTRACE_CHROME_TRACE_INTERNAL_H */
