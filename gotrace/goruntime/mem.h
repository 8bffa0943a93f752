/* SPDX-License-Identifier: MIT */
/*
 * mem: read another process's memory without stopping it.
 *
 * A `struct gr_mem` is a source of target memory: a live process
 * (process_vm_readv, falling back to /proc/PID/mem when the syscall is
 * unavailable), or a set of caller-owned regions (tests and the fuzzer feed
 * the goroutine reader fabricated memory this way).  Reads never fault:
 * an address the target doesn't map is a failed read, reported per
 * request.  Batched reads (gr_mem_readv) cost one system call per
 * GR_MEM_BATCH requests, which is what makes reading 100,000 goroutines
 * quick.
 *
 * Errors: negative errno.  -ESRCH the process is gone, -EPERM / -EACCES
 * no permission to read it (the caller explains ptrace rules), -EFAULT an
 * unmapped address.
 */
#ifndef GOTRACE_GORUNTIME_MEM_H
#define GOTRACE_GORUNTIME_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GR_MEM_BATCH 1024	/* requests per process_vm_readv (IOV_MAX) */

struct gr_mem;

/* Memory of process pid.  Nothing is read yet (the first read says
 * whether we may). */
int gr_mem_open_pid(pid_t pid, struct gr_mem **out);

/* Memory made of regions: region i holds len[i] bytes of target memory at
 * addr[i], in buf[i] (borrowed: keep it alive as long as the gr_mem). */
int gr_mem_open_regions(int n, const uint64_t *addr, const void *const *buf, const size_t *len,
			struct gr_mem **out);

void gr_mem_free(struct gr_mem *m);

/* Read len bytes at addr into buf: 0, or -EFAULT if any byte is unmapped
 * (buf is then undefined), -ESRCH / -EPERM from the process. */
int gr_mem_read(struct gr_mem *m, uint64_t addr, void *buf, size_t len);

/* Several reads; req[i].err receives each one's result (0 or -EFAULT).
 * Returns 0, or a negative errno that failed them all (-ESRCH, -EPERM). */
struct gr_mem_req {
	uint64_t addr;
	void *buf;
	size_t len;
	int err;
};
int gr_mem_readv(struct gr_mem *m, struct gr_mem_req *req, size_t n);

/* Bytes read and system calls made so far. */
void gr_mem_stats(const struct gr_mem *m, uint64_t *bytes, uint64_t *calls);

#endif /* GOTRACE_GORUNTIME_MEM_H */
