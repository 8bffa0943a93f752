/* SPDX-License-Identifier: MIT */
/*
 * allgs: every goroutine of a live Go process, read from outside.
 *
 * The target is never stopped, signalled or ptrace-attached: its memory is
 * read with process_vm_readv (goruntime/mem.h), which needs the same
 * permission as ptrace (same user and kernel.yama.ptrace_scope allowing it,
 * or CAP_SYS_PTRACE).  What to read comes from the executable through
 * libgosym: the addresses of runtime.allglen and runtime.allgptr (symbols,
 * or the code of runtime.forEachGRace in stripped binaries), the offsets
 * of runtime.g's fields (DWARF or the per-version table), the wait reason
 * strings, the status names and the pprof label layout.
 *
 * A snapshot (gr_snapshot_take) follows the runtime's own rule for reading
 * the list without its lock: allglen first, then allgptr (the runtime
 * publishes a new array before the new length), then the allglen pointers,
 * then every g and, for goroutines that are not running, the used part of
 * their stack ([sp, stack.hi) of the saved context).  The process keeps
 * running meanwhile, so:
 *
 *   - every g is validated (status in range, stack bounds sane, the saved
 *     SP inside the stack, the saved PC non-zero) and re-read after its
 *     stack was: a g whose status, saved context or stack bounds changed
 *     in between is read again, alone (a window of a few microseconds),
 *     up to `retries` times, then skipped and counted
 *     (stats.inconsistent), never reported with stale frames;
 *   - goroutines created after allglen was read are not in the snapshot,
 *     and one that exits during the read shows as dead (skipped);
 *   - a running goroutine has no saved context: it is reported with its
 *     thread (m.procid) and no stack.
 *
 * The snapshot owns every g, stack copy and label string; all of it stays
 * valid until gr_snapshot_free().  Functions return 0 or a negative errno
 * and never print; gr_errmsg() has a one-line message for the last failure
 * of the calling thread.
 *
 * `gotrace states -p` reads a snapshot at attach with this API, stacks off:
 * the state, names and labels of every goroutine already there.
 */
#ifndef GOTRACE_GORUNTIME_ALLGS_H
#define GOTRACE_GORUNTIME_ALLGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gosym.h"
#include "goruntime/mem.h"

struct gr_target;

/* Open process pid for reading: its executable (through /proc/PID/exe,
 * so a deleted or containerised binary works), its load bias (PIE) from
 * /proc/PID/maps, and everything libgosym knows about its runtime.
 * Errors: -ESRCH no such process, -ENOEXEC not a Go program, -EOPNOTSUPP
 * a Go version or architecture we can't read, -EACCES/-EPERM not allowed
 * to read it (checked with a first read), -ENOENT the goroutine list not
 * found. */
int gr_target_open(pid_t pid, struct gr_target **out);

/* The same over a given executable image and memory (tests, fuzzing):
 * g is borrowed, mem is owned by the target from then on. */
int gr_target_open_mem(struct gosym *g, uint64_t bias, struct gr_mem *mem,
		       struct gr_target **out);

void gr_target_free(struct gr_target *t);

struct gr_target_info {
	pid_t pid;			/* 0 for gr_target_open_mem */
	char comm[32];			/* /proc/PID/comm */
	const char *exe;		/* path of the executable as the process sees it */
	struct gosym *go;		/* the executable (owned by the target) */
	uint64_t bias;			/* run-time minus link-time addresses */
	unsigned int arch;		/* DWUNW_ARCH_X86_64 / _ARM64 (dwunw_regs.h) */
	struct gosym_runtime_offsets off;
	struct gosym_goroutine_facts facts;
	struct gosym_allgs allgs;
	const char *const *waitreasons;	/* indexed by g.waitreason */
	int nwaitreasons;
	/* GODEBUG tracebacklabels as the process sees it: its environment's
	 * GODEBUG over the binary's DefaultGODEBUG over the version's default. */
	bool tracebacklabels;
};
const struct gr_target_info *gr_target_info(const struct gr_target *t);
struct gr_mem *gr_target_mem(struct gr_target *t);

/* ---- snapshots ---- */

enum gr_g_state {
	GR_G_OK = 0,		/* decoded and consistent */
	GR_G_DEAD,		/* _Gdead (or 1.26+ _Gdeadextra), or not yet used (_Gidle) */
	GR_G_SKIPPED,		/* unreadable or still changing after the retries */
};

struct gr_label {
	const char *key, *value;
};

struct gr_g {
	uint64_t addr;			/* the g itself */
	int64_t goid;
	uint32_t status;		/* g.atomicstatus, GOSYM_G_SCAN bit included */
	uint32_t waitreason;		/* index into waitreasons */
	int64_t waitsince;		/* nanotime() the wait began; 0 unknown */
	int64_t parent_goid;		/* -1 unknown (Go < 1.21) */
	uint64_t stack_lo, stack_hi;
	uint64_t sched_pc, sched_sp, sched_bp, sched_lr;
	uint64_t syscall_pc, syscall_sp;
	uint64_t gopc, startpc;		/* run-time addresses */
	uint64_t m, lockedm, labels;	/* raw pointers (0 = none) */
	bool running_cleanups;		/* Go 1.25+ g.runningCleanups */
	uint8_t park_seq;		/* g.trackingSeq: changes whenever it stops running */
	int32_t tid;			/* thread of a running goroutine (m.procid), 0 unknown */
	enum gr_g_state state;
	/* The saved context the stack is read from (sched or syscall). */
	uint64_t ctx_pc, ctx_sp, ctx_lr;
	bool ctx_syscall;
	/* Stack copy: stack_len bytes of target memory at ctx_sp (0: none). */
	size_t stack_off, stack_len;
	uint32_t label_idx, nlabels;	/* into the snapshot's labels */
	uint8_t label_err;		/* labels present but unreadable */
};

struct gr_snapshot_opts {
	bool stacks;			/* copy each stack (for unwinding) */
	bool labels;			/* read pprof labels */
	int retries;			/* re-reads of a g that changed (default 8) */
	size_t stack_max;		/* bytes copied per stack at most (default 16 MiB) */
	int64_t stack_goid;		/* with stacks: copy only this goroutine's
					 * stack (0: every one), e.g. a viewer
					 * showing one goroutine's stack */
};

struct gr_snapshot_stats {
	uint64_t allglen;		/* length of the list when read */
	uint64_t ok, dead, inconsistent;/* goroutines by state */
	uint64_t rereads;		/* g re-read because it changed while read */
	uint64_t stack_bytes;		/* bytes of stack copied */
	uint64_t stacks_truncated;	/* stacks longer than stack_max */
	uint64_t label_errors;		/* label sets not readable */
	uint64_t bytes, syscalls;	/* memory read and system calls made */
	uint64_t read_ns;		/* wall time of the read (CLOCK_MONOTONIC) */
};

struct gr_snapshot {
	uint64_t mono_ns;		/* CLOCK_MONOTONIC at the start of the read: the
					 * clock of the runtime's nanotime() */
	size_t n;			/* every entry of allgs, dead and skipped included */
	struct gr_g *g;
	struct gr_label *labels;
	struct gr_snapshot_stats stats;
	/* private */
	uint8_t *stack_arena;
	size_t arena_len;
	char *strings;
	size_t strings_len, strings_cap;
	size_t nlabels, labels_cap;
};

/* Read every goroutine now.  opts may be NULL (stacks and labels on).
 * -ESRCH the process exited, -EPERM/-EACCES not allowed, -EPROTO the list
 * is not what the runtime keeps there (allglen absurd, array unreadable). */
int gr_snapshot_take(struct gr_target *t, const struct gr_snapshot_opts *opts,
		     struct gr_snapshot **out);
void gr_snapshot_free(struct gr_snapshot *s);

/* The stack copy of goroutine i: *base is the target address of bytes[0]
 * (its ctx_sp).  -ENOENT if not copied. */
int gr_snapshot_stack(const struct gr_snapshot *s, size_t i, const uint8_t **bytes, uint64_t *base,
		      size_t *len);

/* The runtime's words for a goroutine's status, as its traceback header
 * prints them: the wait reason of a waiting goroutine, else the status
 * name ("runnable", "syscall"...), "???" when out of range. */
const char *gr_status_string(const struct gr_target *t, const struct gr_g *g);

/* Whether the runtime counts g as a system goroutine (hidden from
 * runtime.Stack and goroutine profiles): started in a runtime.* function
 * other than runtime.main (and, per version, corostart, a finalizer or
 * cleanup goroutine while it runs user code). */
bool gr_is_system(const struct gr_target *t, const struct gr_g *g);

/* The pprof label set at p, a g.labels value (as a snapshot's gr_g.labels
 * or a tracer read it), read now: n labels sorted by key, the strings in
 * the same allocation (free() it).  Label sets never change once made, so
 * a pointer read earlier is good while the goroutine (or anything else)
 * still holds the set.  -ENOENT p is 0, -EFAULT unreadable, -EPROTO not a
 * label set, -EOPNOTSUPP a Go release whose layout we don't know. */
struct gr_labelset {
	size_t n;
	struct gr_label kv[];
};
int gr_labels_at(struct gr_target *t, uint64_t p, struct gr_labelset **out);

/* Message of the last failure in this thread. */
const char *gr_errmsg(void);

#endif /* GOTRACE_GORUNTIME_ALLGS_H */
