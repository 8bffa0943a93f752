/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi: attach one BPF program to many offsets of one binary.
 *
 * Two mechanisms:
 *
 *   UPROBES_MULTI   one uprobe_multi link (Linux >= 6.6) per call: a raw
 *                   bpf(BPF_LINK_CREATE) with attach type
 *                   BPF_TRACE_UPROBE_MULTI, because Debian's libbpf 1.1 has
 *                   no wrapper and its uapi headers predate the attr layout.
 *                   The program must have been loaded with expected attach
 *                   type BPF_TRACE_UPROBE_MULTI (see uprobes_prepare_multi()).
 *                   Attach and detach are one syscall each for the whole set.
 *   UPROBES_SINGLE  one perf-event uprobe per offset through libbpf
 *                   (bpf_program__attach_uprobe_opts with a bpf_cookie): works
 *                   on older kernels, but each detach waits for RCU grace
 *                   periods (~35-170 ms), so thousands take minutes.
 *
 * A `struct uprobes` owns the links it created; uprobes_free() detaches
 * them all.  Cookies are per offset (bpf_get_attach_cookie() in the program).
 * Functions return 0 or a negative errno and never print.
 */
#ifndef GOTRACE_UPROBE_MULTI_H
#define GOTRACE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct uprobes;

enum uprobes_mode {
	UPROBES_MULTI,
	UPROBES_SINGLE,
};

/* BPF_TRACE_UPROBE_MULTI from the 6.6+ uapi (enum bpf_attach_type). */
#define GT_BPF_TRACE_UPROBE_MULTI 48

/* Before bpf_object__load(): make prog loadable for uprobe_multi links. */
int uprobes_prepare_multi(struct bpf_program *prog);

/* Called after each probe attached in UPROBES_SINGLE mode (done of total
 * so far): for progress, and to stop: a non-zero return ends the call with
 * -EINTR (a stop signal: thousands of probes take seconds to attach). */
typedef int (*uprobes_progress_fn)(size_t done, size_t total, void *arg);

/* Attach prog to `cnt` file offsets of `path` (cookies[i] for offsets[i];
 * cookies may be NULL), only in process pid (> 0) or in every process
 * (pid <= 0).  May be called several times on one set; the first call
 * creates *set.  On failure (or -EINTR from progress) the probes attached
 * by this call are detached again; those of earlier calls stay. */
int uprobes_attach(struct uprobes **set, enum uprobes_mode mode, struct bpf_program *prog,
		   const char *path, const uint64_t *offsets, const uint64_t *cookies,
		   size_t cnt, pid_t pid, uprobes_progress_fn progress, void *arg);

/* Number of probes attached through the set. */
size_t uprobes_count(const struct uprobes *set);

/* Detach everything and free the set; NULL is a no-op. */
void uprobes_free(struct uprobes *set);

/* Threads that detach perf-event uprobes together (uprobes_free). */
#define UPROBES_DETACH_THREADS 16

/* uprobes_free(), calling progress(done, total, arg) after each perf-event
 * uprobe detached (each takes RCU grace periods in the kernel, mostly
 * under a mutex all of them share: docs/faults.md).  From 64 such probes
 * on, UPROBES_DETACH_THREADS threads detach them, and progress may be
 * called from any of them at once; its return value is ignored (nothing
 * can be left attached). */
void uprobes_free_progress(struct uprobes *set, uprobes_progress_fn progress, void *arg);

/* Raw: one uprobe_multi link; returns the link fd or a negative errno. */
int uprobe_multi_link_create(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, size_t cnt, pid_t pid);

/*
 * The kernel refuses some instructions as probe sites (x86: EVEX-encoded,
 * LOCK or segment-override prefixes...), and one refused offset fails a
 * whole uprobe_multi link (-ENOTSUPP).  Find the refused ones by bisection
 * with trial links of prog_fd (use a program that does nothing: the trial
 * links are live for a moment): sets bad[i] for each refused offsets[i] and
 * returns how many, or a negative errno for any other failure.
 */
int uprobe_multi_find_refused(int prog_fd, const char *path, const uint64_t *offsets,
			      size_t cnt, pid_t pid, bool *bad);

const char *uprobes_mode_name(enum uprobes_mode mode);

#endif /* GOTRACE_UPROBE_MULTI_H */
