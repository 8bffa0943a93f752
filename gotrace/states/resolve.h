/* SPDX-License-Identifier: MIT */
/*
 * states/resolve: names a new goroutine's start function and creation site
 * from the run-time g.startpc and g.gopc the BPF program read.
 *
 * PIE: the creation event also carries the run-time address of the probed
 * runtime.casgstatus; minus its link-time address that is the load bias.
 *
 * Go 1.22+ starts `go f(x)` through a compiler wrapper (`pkg.fn.gowrapN`)
 * that calls f; the go statement's target is then the first direct call in
 * the wrapper to a non-runtime function, found by decoding its code
 * (Capstone; amd64 and arm64).  If that fails, the wrapper's name is kept.
 * Results are cached per start PC.
 *
 * Ownership: names point into the gosym handle; "file:line" strings are
 * owned by the resolver until st_resolver_release().
 */
#ifndef GOTRACE_STATES_RESOLVE_H
#define GOTRACE_STATES_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gosym.h"

#define ST_RESOLVE_CACHE 512

struct st_resolver {
	const struct gosym *gs;
	uint64_t casgstatus_vaddr;
	size_t cs;			/* capstone handle (csh) */
	bool have_cs;			/* false: no decoder for this arch */
	struct {
		uint64_t startpc;	/* link-time; 0 = empty */
		const char *name;
	} cache[ST_RESOLVE_CACHE];
	char **strs;			/* owned "file:line" strings */
	size_t nstrs, capstrs;
};

int st_resolver_init(struct st_resolver *r, const struct gosym *gs, uint64_t casgstatus_vaddr);
void st_resolver_release(struct st_resolver *r);

/* An st_resolve_fn (states/model.h); ctx is the struct st_resolver. */
void st_resolver_resolve(void *ctx, uint64_t probe_ip, uint64_t startpc, uint64_t gopc,
			 const char **start_func, const char **created_at);

/* The wrapped function of a `.gowrapN` wrapper at link-time entry..end,
 * or NULL.  Exposed for tests. */
const char *st_resolver_unwrap(struct st_resolver *r, uint64_t entry, uint64_t end);

#endif
