/* SPDX-License-Identifier: MIT */
/*
 * pprof: build a profile.proto (github.com/google/pprof, proto/profile.proto)
 * from call stacks and write it gzipped, the format `go tool pprof` reads.
 *
 * The profile has two sample types, calls/count and time/nanoseconds (the
 * default), and one sample per (goroutine, call stack) carrying a string
 * label "goroutine" = the goid.  Every function gets one Function and one
 * Location (address = its entry, one Line at its entry line), so views show
 * the function's file even without the binary at hand.  With a binary
 * path, one Mapping names it (identity: addresses are link-time), marked
 * as fully symbolized so that pprof never tries to symbolize again.
 *
 * Hand-written encoder (varints, length-delimited fields) plus zlib; no
 * protobuf library.  Not thread-safe.  Errors are negative errno.
 */
#ifndef GOTRACE_PPROF_H
#define GOTRACE_PPROF_H

#include <stdint.h>

struct pprof_func {
	const char *name;	/* "main.(*T).Method"; NULL is written as "?" */
	const char *file;	/* NULL or "" if unknown */
	int line;		/* entry line, 0 if unknown */
	uint64_t addr;		/* entry address (link time), 0 if unknown */
};

struct pprof_opts {
	const struct pprof_func *funcs;	/* indexed by the stacks' function ids */
	uint32_t nfuncs;
	/* A one-value profile (e.g. "goroutine"/"count" for a goroutine
	 * profile, as the runtime writes it): one sample value and the period
	 * type of that name; NULL: the calls + time pair above. */
	const char *sample_type, *sample_unit;
	/* funcs[] are positions, not functions: each is a Location at its addr
	 * with one Line at its line, and entries of one name and file share a
	 * Function (whose start line is their smallest line). */
	bool positions;
	int64_t time_ns;		/* wall clock of the start, 0: none */
	const char *binary;		/* the traced executable, NULL: no Mapping */
	const char *const *comments;	/* optional, ncomments strings */
	int ncomments;
};

struct pprof;
struct gt_outfile;

/* The arrays in opts must outlive the builder. */
int pprof_new(const struct pprof_opts *opts, struct pprof **out);
void pprof_free(struct pprof *p);

/*
 * Add calls and ns to the sample of (goid, stack): stack[0] is the
 * outermost function, stack[n - 1] the leaf.  Function ids >= nfuncs are
 * written as "?".  Returns 0, -EINVAL (n <= 0) or -ENOMEM.
 */
int pprof_add(struct pprof *p, int64_t goid, const uint32_t *stack, int n, int64_t calls,
	      int64_t ns);

/* The same with string labels (key, value pairs) on the sample; they are
 * set when the sample is created (later calls keep the first set). */
int pprof_add_labeled(struct pprof *p, int64_t goid, const uint32_t *stack, int n, int64_t calls,
		      int64_t ns, const char *const *labels, int nlabels);

/* Total of each value over all samples so far. */
void pprof_totals(const struct pprof *p, int64_t *calls, int64_t *ns);

void pprof_set_duration(struct pprof *p, int64_t duration_ns);

/* Serialize the profile, uncompressed, into a malloc'ed buffer. */
int pprof_encode(const struct pprof *p, uint8_t **buf, size_t *len);

/*
 * Write the gzipped profile into f and commit it (output/outfile.h: a
 * reader never sees a half-written profile, a failure leaves the user's
 * old file).  f is consumed: committed, or aborted on failure.
 */
int pprof_write(const struct pprof *p, struct gt_outfile *f);

#endif /* GOTRACE_PPROF_H */
