/* SPDX-License-Identifier: MIT */
/*
 * The BPF side of gotrace states, from user space: which runtime functions
 * are probed (runtime.casgstatus, the transitions that bypass it, and the
 * Go 1.26 syscall fast path), the BPF object configured from the target's
 * runtime offsets, and attaching it.  Used through the session's load and
 * attach steps (tracing/session.h).  bpf/states.bpf.c is the other half.
 */
#ifndef GOTRACE_STATES_PROBES_H
#define GOTRACE_STATES_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/probe_class.h"

struct gt_session;
struct states_bpf;
struct states_agg_bpf;
struct bpf_program;

/* Probed functions: transitions (on_transition) and the syscall fast path
 * (on_syscall_fast). */
#define ST_MAX_PROBES 5

struct st_probe_list {
	uint64_t offsets[ST_MAX_PROBES], cookies[ST_MAX_PROBES];
	const char *funcs[ST_MAX_PROBES];
	bool required[ST_MAX_PROBES];
	enum probe_class cls[ST_MAX_PROBES];	/* what a hit costs */
	size_t n;
};

struct st_probes {
	struct states_bpf *skel;
	struct states_agg_bpf *agg;	/* --aggregate's object instead (states/aggregate.h) */
	bool regabi;			/* the register ABI: g in R14 */
	bool stack;			/* --stack programs */
	uint32_t stack_size;		/* --stack-size */
	uint32_t ring_bytes;		/* --buffer-size (0: the default) */
	/* the programs to attach, multi or single copies */
	struct bpf_program *trans, *sys;
	struct st_probe_list trans_list, sys_list;
	/* --stack: link-time address of each transition probe by cookie
	 * (STATES_F_SYNTH | STATES_F_MAYFAIL), for gt_stacks_unwind() */
	uint64_t probe_vaddr[4];
	uint64_t casg_site;		/* runtime.casgstatus's probe, link time:
					 * the resolver's load bias comes from it */
};

/* Fill p's probe lists from the binary (the session's gosym handle): each
 * probe on its function's entry site (probes/sites.h: the cheapest place
 * where the arguments, g and SP are still those of the entry).  -ENOENT
 * without runtime.casgstatus; a missing optional function is skipped
 * (with a warning for the syscall fast path).  Says what the probes cost
 * in the session's attach note. */
int st_probes_resolve(struct st_probes *p, struct gt_session *s);

/* gt_session_load()'s callback: open, configure and load the object. */
int st_probes_load(void *p, struct gt_session *s, bool multi);

/* gt_session_attach()'s callback. */
int st_probes_attach(void *p, struct gt_session *s, bool multi);

/* Destroy the object(s) (after the session detached the probes). */
void st_probes_release(struct st_probes *p);

#endif /* GOTRACE_STATES_PROBES_H */
