/* SPDX-License-Identifier: MIT */
/*
 * ring: a reader for a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF)
 * that publishes its consumer position once per drain, not once per record.
 *
 * Why not libbpf's ring_buffer__consume: it stores consumer_pos after every
 * record, and every bpf_ringbuf_reserve() on the producing CPUs loads
 * consumer_pos.  While the reader drains, that cache line moves between the
 * reader's CPU and each producer on every event; on the states ping-pong
 * that cost more per event than the BPF program's own ring buffer work
 * (docs/states.md, Benchmarks).  Here the position is published when the
 * drain ends, or every quarter of the buffer during a long drain, so
 * producers never wait for space the reader has already consumed for long.
 *
 * The map is read through two mmaps, as the kernel lays them out: the
 * consumer page (read-write), then the producer page and the data area
 * mapped twice in a row (read-only), so a record that wraps is contiguous.
 * Record format (kernel ABI, linux/bpf.h): an 8-byte header whose first
 * u32 is the length with BPF_RINGBUF_BUSY_BIT (not yet submitted) and
 * BPF_RINGBUF_DISCARD_BIT, then the data, padded to 8 bytes.
 */
#ifndef GOTRACE_RING_H
#define GOTRACE_RING_H

#include <stddef.h>

struct gt_ring;

/* Called for each submitted record, in ring order.  A non-zero return
 * stops the drain there (the record counts as consumed). */
typedef int (*gt_ring_fn)(void *ctx, const void *data, size_t len);

/* Map the ring buffer map map_fd.  0 or -errno. */
int gt_ring_open(int map_fd, struct gt_ring **out);

/* Hand every record submitted so far to fn, then publish the consumer
 * position.  Returns the number of records, or the callback's non-zero
 * return (negated if positive) when it stopped the drain. */
long gt_ring_drain(struct gt_ring *r, gt_ring_fn fn, void *ctx);

/* Sleep until the BPF side forces a wakeup (it wakes the reader only as the
 * unread data grows: bpf/go_runtime.h, gr_submit) or timeout_ms pass.
 * 1 woken, 0 timeout, -EINTR on a signal, other -errno on failure. */
int gt_ring_wait(struct gt_ring *r, int timeout_ms);

/* Bytes submitted or reserved but not yet consumed. */
size_t gt_ring_pending(const struct gt_ring *r);

void gt_ring_free(struct gt_ring *r);

#endif /* GOTRACE_RING_H */
