// SPDX-License-Identifier: MIT
/*
 * Target memory reads (see mem.h).  process_vm_readv stops at the first
 * remote range it cannot read and returns the bytes read before it, so a
 * short batch is resumed after the failing request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "goruntime/mem.h"

struct gr_mem {
	pid_t pid;		/* 0: regions */
	int memfd;		/* /proc/PID/mem when process_vm_readv is unusable; -1 */
	int n;
	const uint64_t *addr;
	const void *const *buf;
	const size_t *len;
	uint64_t bytes, calls;
};

int gr_mem_open_pid(pid_t pid, struct gr_mem **out)
{
	struct gr_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->pid = pid;
	m->memfd = -1;
	*out = m;
	return 0;
}

int gr_mem_open_regions(int n, const uint64_t *addr, const void *const *buf, const size_t *len,
			struct gr_mem **out)
{
	struct gr_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->memfd = -1;
	m->n = n;
	m->addr = addr;
	m->buf = buf;
	m->len = len;
	*out = m;
	return 0;
}

void gr_mem_free(struct gr_mem *m)
{
	if (!m)
		return;
	if (m->memfd >= 0)
		close(m->memfd);
	free(m);
}

static int read_regions(struct gr_mem *m, uint64_t addr, void *buf, size_t len)
{
	if (!len)
		return 0;
	for (int i = 0; i < m->n; i++) {
		if (addr >= m->addr[i] && addr - m->addr[i] <= m->len[i] &&
		    len <= m->len[i] - (addr - m->addr[i])) {
			memcpy(buf, (const uint8_t *)m->buf[i] + (addr - m->addr[i]), len);
			m->bytes += len;
			return 0;
		}
	}
	return -EFAULT;
}

/* /proc/PID/mem: one pread per request. */
static int read_memfd(struct gr_mem *m, uint64_t addr, void *buf, size_t len)
{
	ssize_t r;

	if (m->memfd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)m->pid);
		m->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (m->memfd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	m->calls++;
	r = pread(m->memfd, buf, len, (off_t)addr);
	if (r < 0)
		return errno == EIO ? -EFAULT : -errno;
	if ((size_t)r != len)
		return -EFAULT;
	m->bytes += len;
	return 0;
}

/* One process_vm_readv over req[0..n): fills req[i].err, returns how many
 * requests it settled (at least 1), or a negative errno for them all. */
static long vm_batch(struct gr_mem *m, struct gr_mem_req *req, size_t n)
{
	struct iovec local[GR_MEM_BATCH], remote[GR_MEM_BATCH];
	size_t k = 0;
	ssize_t r;

	for (; k < n && k < GR_MEM_BATCH; k++) {
		local[k] = (struct iovec){ req[k].buf, req[k].len };
		remote[k] = (struct iovec){ (void *)(uintptr_t)req[k].addr, req[k].len };
	}
	m->calls++;
	r = process_vm_readv(m->pid, local, k, remote, k, 0);
	if (r < 0) {
		if (errno == EFAULT) {
			/* the very first range failed */
			req[0].err = -EFAULT;
			return 1;
		}
		return -errno;
	}
	m->bytes += (uint64_t)r;
	size_t done = 0, i = 0;

	for (; i < k && done + req[i].len <= (size_t)r; i++) {
		done += req[i].len;
		req[i].err = 0;
	}
	if (i == k)
		return (long)k;
	/* Stopped inside (or at) request i: it failed. */
	req[i].err = -EFAULT;
	return (long)i + 1;
}

int gr_mem_readv(struct gr_mem *m, struct gr_mem_req *req, size_t n)
{
	size_t i = 0;

	if (!m->pid) {
		for (; i < n; i++)
			req[i].err = read_regions(m, req[i].addr, req[i].buf, req[i].len);
		return 0;
	}
	while (i < n) {
		if (!req[i].len) {
			req[i++].err = 0;
			continue;
		}
		if (m->memfd >= 0) {
			int err = read_memfd(m, req[i].addr, req[i].buf, req[i].len);

			if (err && err != -EFAULT)
				return err;
			req[i++].err = err;
			continue;
		}
		long r = vm_batch(m, req + i, n - i);

		if (r == -ENOSYS) {
			/* a kernel without process_vm_readv: /proc/PID/mem */
			int err = read_memfd(m, req[i].addr, req[i].buf, req[i].len);

			if (err && err != -EFAULT)
				return err;
			req[i++].err = err;
			continue;
		}
		if (r < 0)
			return r == -ENOENT ? -ESRCH : (int)r;
		i += (size_t)r;
	}
	return 0;
}

int gr_mem_read(struct gr_mem *m, uint64_t addr, void *buf, size_t len)
{
	struct gr_mem_req r = { addr, buf, len, 0 };
	int err = gr_mem_readv(m, &r, 1);

	return err ? err : r.err;
}

void gr_mem_stats(const struct gr_mem *m, uint64_t *bytes, uint64_t *calls)
{
	*bytes = m->bytes;
	*calls = m->calls;
}
