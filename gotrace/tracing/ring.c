// SPDX-License-Identifier: MIT
/*
 * ring: BPF ring buffer reader with one consumer-position store per
 * drain.  See ring.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "tracing/ring.h"

struct gt_ring {
	unsigned long *consumer_pos;	/* consumer page (read-write) */
	unsigned long *producer_pos;	/* producer page (read-only) */
	const char *data;		/* data area, mapped twice */
	size_t mask;			/* data size - 1 (a power of two) */
	size_t page;
	unsigned long cons;		/* our position (published or not) */
	int epfd;			/* edge-triggered on the map: forced wakeups only */
};

int gt_ring_open(int map_fd, struct gt_ring **out)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	struct gt_ring *r;
	void *p;
	int err;

	*out = NULL;
	err = bpf_obj_get_info_by_fd(map_fd, &info, &len);
	if (err)
		return err < 0 ? err : -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->mask = info.max_entries - 1;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		free(r);
		return err;
	}
	r->consumer_pos = p;
	/* Edge-triggered: the map reports readable whenever data is
	 * unread, which is always while tracing; only a wakeup (an edge)
	 * should end the sleep. */
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0 ||
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd,
		      &(struct epoll_event){ .events = EPOLLIN | EPOLLET })) {
		err = -errno;
		if (r->epfd >= 0)
			close(r->epfd);
		munmap(r->consumer_pos, r->page);
		free(r);
		return err;
	}
	p = mmap(NULL, r->page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd,
		 (off_t)r->page);
	if (p == MAP_FAILED) {
		err = -errno;
		close(r->epfd);
		munmap(r->consumer_pos, r->page);
		free(r);
		return err;
	}
	r->producer_pos = p;
	r->data = (const char *)p + r->page;
	r->cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	*out = r;
	return 0;
}

long gt_ring_drain(struct gt_ring *r, gt_ring_fn fn, void *ctx)
{
	unsigned long prod, published = r->cons;
	size_t quarter = (r->mask + 1) / 4;
	long n = 0;
	int ret = 0;

	prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	while (r->cons < prod) {
		const __u32 *hdr = (const __u32 *)(r->data + (r->cons & r->mask));
		__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		__u32 dlen = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet submitted: next drain */
		r->cons += (BPF_RINGBUF_HDR_SZ + dlen + 7) & ~7UL;
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			n++;
			ret = fn(ctx, (const char *)hdr + BPF_RINGBUF_HDR_SZ, dlen);
			if (ret)
				break;
		}
		/* A long drain gives space back as it goes. */
		if (r->cons - published >= quarter) {
			__atomic_store_n(r->consumer_pos, r->cons, __ATOMIC_RELEASE);
			published = r->cons;
		}
		if (r->cons == prod)
			prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	}
	if (r->cons != published)
		__atomic_store_n(r->consumer_pos, r->cons, __ATOMIC_RELEASE);
	if (ret)
		return ret > 0 ? -ret : ret;
	return n;
}

int gt_ring_wait(struct gt_ring *r, int timeout_ms)
{
	struct epoll_event ev;
	int n = epoll_wait(r->epfd, &ev, 1, timeout_ms);

	return n < 0 ? -errno : n;
}

size_t gt_ring_pending(const struct gt_ring *r)
{
	return __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) - r->cons;
}

void gt_ring_free(struct gt_ring *r)
{
	if (!r)
		return;
	close(r->epfd);
	munmap(r->consumer_pos, r->page);
	munmap(r->producer_pos, r->page + 2 * (r->mask + 1));
	free(r);
}
