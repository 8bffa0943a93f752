/* SPDX-License-Identifier: MIT */
/*
 * gotrace top: a live terminal view of a Go process's goroutines.
 *
 * The command is a model / update / view loop:
 *
 *   source  (source_*.c)  where the numbers come from, behind struct
 *                         top_source: cumulative time per state, wait
 *                         reasons and identity of every goroutine, read
 *                         at each refresh into a struct top_sample;
 *   model   (model.c)     rows of goroutines and groups, times in the
 *                         last interval, per-row history, sort, filter,
 *                         selection: updated by samples and by keys, no
 *                         I/O (tests/unit/test_top_model.c drives it);
 *   view    (view.c)      ncurses panels drawn from the model; text.c
 *                         renders the same rows as text (--batch) or
 *                         JSON lines;
 *   proc    (proc.c)      what is read straight from the target (the
 *                         goroutine reader, gotrace/goruntime): names,
 *                         wait reason strings, the selected goroutine's
 *                         current stack;
 *   top.c                 options, the terminal's life, the event loop.
 *
 * This header holds what the parts exchange: the sample a source fills
 * and the source interface.
 */
#ifndef GOTRACE_TOP_H
#define GOTRACE_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The four states the view shows (enum order = column order). */
enum top_cls {
	TOP_RUN,		/* running (and copystack: the goroutine's own) */
	TOP_RNBL,		/* runnable, preempted: waiting for a CPU */
	TOP_SYS,		/* in a system call or cgo call */
	TOP_WAIT,		/* waiting (blocked), with a wait reason */
	TOP_NCLS,
};
#define TOP_DEAD 0xff		/* state of an exited goroutine */

/* The class of a runtime g.atomicstatus value (_Gscan bit stripped);
 * TOP_DEAD for idle, dead and unknown values. */
uint8_t top_cls_of_status(uint32_t status);
/* "running", "runnable", "syscall", "waiting", "dead". */
const char *top_cls_name(uint8_t cls);

/* Waiting time of one goroutine with one wait reason (cumulative). */
struct top_wait {
	uint64_t ns;
	uint32_t reason;	/* g.waitreason, the target's own numbering */
	uint32_t count;		/* waits begun with it (0: unknown) */
};
#define TOP_WAITS 8		/* reasons kept per goroutine */

/* top_gsample.flags */
#define TOP_G_SYSTEM	0x1	/* a system goroutine (gr_is_system) */
#define TOP_G_GCWORKER	0x2	/* a GC mark worker (runtime.gcBgMarkWorker) */
#define TOP_G_BEFORE	0x4	/* existed before the source began */

/*
 * One goroutine as a source sees it now.  Times are cumulative since the
 * source began following the goroutine (its creation, or the start of the
 * source for goroutines that existed before), the current state's time
 * included up to top_sample.now_ns.
 */
struct top_gsample {
	int64_t goid;
	int64_t parent;		/* creator's goid, -1 unknown */
	const char *start;	/* start function ("main.worker"), NULL unknown */
	const char *created;	/* creation site ("/src/main.go:42"), NULL unknown */
	uint64_t first_ns;	/* created (CLOCK_MONOTONIC), or when the source
				 * first saw it (TOP_G_BEFORE) */
	uint64_t end_ns;	/* exited, 0 while alive */
	uint64_t ns[TOP_NCLS];
	uint64_t transitions;	/* state changes seen (top_sample.have_transitions) */
	struct top_wait waits[TOP_WAITS];
	uint64_t wait_other_ns;	/* waits with reasons past TOP_WAITS */
	uint32_t reason;	/* current wait reason, while waiting */
	uint8_t nwaits;
	uint8_t state;		/* enum top_cls, or TOP_DEAD once exited */
	uint8_t flags;		/* TOP_G_* */
};

/* Everything a source says at one refresh.  Strings stay valid as long as
 * the source. */
struct top_sample {
	uint64_t now_ns;	/* CLOCK_MONOTONIC of the reading */
	struct top_gsample *g;	/* every goroutine followed, exited ones once */
	size_t n;
	bool have_transitions;	/* the source counts transitions */
	uint64_t transitions;	/* process-wide, cumulative */
	uint64_t lost;		/* transitions or goroutines not accounted,
				 * cumulative (full maps, unreadable data...) */
	uint64_t unreadable;	/* goroutines not readable in the last read */
};

/*
 * A data source.  sample() fills *out (owned by the source, valid until
 * the next call) with the state of every goroutine now; -ESRCH when the
 * target exited.  poll() is called at least every poll_ms (when > 0) for
 * sources that do work between samples.  reason() names a wait reason.
 * describe() says in a few words what the numbers are ("BPF aggregate",
 * "states ring buffer").  stack() writes goroutine goid's current stack as
 * text into a malloc'ed string (-ENOENT: no such goroutine, or running:
 * no saved context); may be NULL.  free() releases everything the source
 * holds (probes included) and may be called after any failure.
 */
struct top_source {
	int (*sample)(struct top_source *s, const struct top_sample **out);
	int (*poll)(struct top_source *s, uint64_t now_ns);
	const char *(*reason)(struct top_source *s, uint32_t reason);
	const char *(*describe)(struct top_source *s);
	int (*stack)(struct top_source *s, int64_t goid, char **text);
	void (*free)(struct top_source *s);
	int poll_ms;
	/* the process, for the header */
	pid_t pid;
	char comm[32];
	const char *goversion;		/* "go1.26.8", "" unknown */
};

#endif /* GOTRACE_TOP_H */
