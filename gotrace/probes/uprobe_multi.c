// SPDX-License-Identifier: MIT
/*
 * Many uprobes on one binary: uprobe_multi links through the raw bpf()
 * syscall, or one perf-event uprobe per offset (see uprobe_multi.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

#include "probes/uprobe_multi.h"

/*
 * The BPF_LINK_CREATE part of union bpf_attr as Linux >= 6.6 defines it for
 * uprobe_multi.  Debian's uapi headers are 6.1's and lack it, so it is
 * spelled out here; the kernel zero-extends a shorter attr.
 */
struct gt_link_create_umulti {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	struct {
		__aligned_u64 path;
		__aligned_u64 offsets;
		__aligned_u64 ref_ctr_offsets;
		__aligned_u64 cookies;
		__u32 cnt;
		__u32 flags;
		__u32 pid;
	} uprobe_multi;
};

/* The kernel's internal ENOTSUPP (524), which uprobes return for an
 * instruction they can't probe; not in userspace errno.h. */
#define ENOTSUPP_KERNEL 524

struct uprobes {
	size_t nprobes;
	int *fds;		/* uprobe_multi link fds */
	size_t nfds, capfds;
	struct bpf_link **links; /* perf-event links */
	size_t nlinks, caplinks;
};

int uprobes_prepare_multi(struct bpf_program *prog)
{
	return bpf_program__set_expected_attach_type(prog,
						     (enum bpf_attach_type)GT_BPF_TRACE_UPROBE_MULTI);
}

int uprobe_multi_link_create(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, size_t cnt, pid_t pid)
{
	struct gt_link_create_umulti attr;
	int fd;

	if (!cnt || cnt > UINT32_MAX)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = GT_BPF_TRACE_UPROBE_MULTI;
	attr.uprobe_multi.path = (__u64)(uintptr_t)path;
	attr.uprobe_multi.offsets = (__u64)(uintptr_t)offsets;
	attr.uprobe_multi.cookies = (__u64)(uintptr_t)cookies;
	attr.uprobe_multi.cnt = (__u32)cnt;
	attr.uprobe_multi.pid = pid > 0 ? (__u32)pid : 0;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	void *p;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int uprobes_attach(struct uprobes **setp, enum uprobes_mode mode, struct bpf_program *prog,
		   const char *path, const uint64_t *offsets, const uint64_t *cookies,
		   size_t cnt, pid_t pid, uprobes_progress_fn progress, void *arg)
{
	struct uprobes *set = *setp;
	size_t first, i;
	int err;

	if (!cnt)
		return 0;
	if (!set) {
		set = calloc(1, sizeof(*set));
		if (!set)
			return -ENOMEM;
		*setp = set;
	}
	if (mode == UPROBES_MULTI) {
		int fd;

		err = grow((void **)&set->fds, &set->capfds, set->nfds + 1, sizeof(int));
		if (err)
			return err;
		fd = uprobe_multi_link_create(bpf_program__fd(prog), path, offsets, cookies,
					      cnt, pid);
		if (fd < 0)
			return fd;
		set->fds[set->nfds++] = fd;
		set->nprobes += cnt;
		return 0;
	}

	err = grow((void **)&set->links, &set->caplinks, set->nlinks + cnt, sizeof(void *));
	if (err)
		return err;
	first = set->nlinks;
	for (i = 0; i < cnt; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookies ? cookies[i] : 0);
		struct bpf_link *l;

		l = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1, path,
						    (size_t)offsets[i], &opts);
		if (!l) {
			err = -errno;
			while (set->nlinks > first)
				bpf_link__destroy(set->links[--set->nlinks]);
			return err ? err : -EINVAL;
		}
		set->links[set->nlinks++] = l;
		if (progress && progress(i + 1, cnt, arg)) {
			while (set->nlinks > first)
				bpf_link__destroy(set->links[--set->nlinks]);
			return -EINTR;
		}
	}
	set->nprobes += cnt;
	return 0;
}

size_t uprobes_count(const struct uprobes *set)
{
	return set ? set->nprobes : 0;
}

void uprobes_free(struct uprobes *set)
{
	uprobes_free_progress(set, NULL, NULL);
}

/* Parallel detach: the threads take the links in turn. */
struct detacher {
	struct uprobes *set;
	size_t next, done;
	uprobes_progress_fn progress;
	void *arg;
};

static void *detach_links(void *p)
{
	struct detacher *d = p;

	for (;;) {
		size_t i = __atomic_fetch_add(&d->next, 1, __ATOMIC_RELAXED), n;

		if (i >= d->set->nlinks)
			return NULL;
		bpf_link__destroy(d->set->links[i]);
		n = __atomic_add_fetch(&d->done, 1, __ATOMIC_RELAXED);
		if (d->progress)
			d->progress(n, d->set->nlinks, d->arg);
	}
}

void uprobes_free_progress(struct uprobes *set, uprobes_progress_fn progress, void *arg)
{
	struct detacher d = { .set = set, .progress = progress, .arg = arg };
	pthread_t th[UPROBES_DETACH_THREADS];
	int nth = 0;

	if (!set)
		return;
	for (size_t i = 0; i < set->nfds; i++)
		close(set->fds[i]);
	/* Each perf-event uprobe's release waits for RCU grace periods, mostly
	 * under one kernel mutex: threads overlap the rest (~25% less time
	 * with 16, scripts/bench_detach.sh).  Without threads, the caller
	 * does it all. */
	if (set->nlinks >= 4 * UPROBES_DETACH_THREADS)
		while (nth < UPROBES_DETACH_THREADS &&
		       !pthread_create(&th[nth], NULL, detach_links, &d))
			nth++;
	detach_links(&d);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	free(set->fds);
	free(set->links);
	free(set);
}

static bool refused(int err)
{
	return err == -ENOTSUPP_KERNEL || err == -EINVAL || err == -EOPNOTSUPP;
}

int uprobe_multi_find_refused(int prog_fd, const char *path, const uint64_t *offsets,
			      size_t cnt, pid_t pid, bool *bad)
{
	int fd, a, b;

	if (!cnt)
		return 0;
	fd = uprobe_multi_link_create(prog_fd, path, offsets, NULL, cnt, pid);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (!refused(fd))
		return fd;
	if (cnt == 1) {
		bad[0] = true;
		return 1;
	}
	a = uprobe_multi_find_refused(prog_fd, path, offsets, cnt / 2, pid, bad);
	if (a < 0)
		return a;
	b = uprobe_multi_find_refused(prog_fd, path, offsets + cnt / 2, cnt - cnt / 2, pid,
				      bad + cnt / 2);
	if (b < 0)
		return b;
	/* EINVAL for the whole set but for no part of it: not a refusal */
	if (!a && !b)
		return fd;
	return a + b;
}

const char *uprobes_mode_name(enum uprobes_mode mode)
{
	return mode == UPROBES_MULTI ? "uprobe_multi" : "perf-event uprobes";
}
