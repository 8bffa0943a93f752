/* SPDX-License-Identifier: MIT */
/*
 * maps: reading the aggregating BPF programs' maps from user space in
 * bulk (batch lookups where the kernel has them, one lookup per key
 * otherwise), for funccount, funclatency and states --aggregate.
 *
 * The BPF side keeps counting while these read: every value is a
 * snapshot of one key at one moment, no two keys are read atomically
 * together.  Functions return 0 or a negative errno and never print.
 */
#ifndef GOTRACE_AGGREGATE_MAPS_H
#define GOTRACE_AGGREGATE_MAPS_H

#include <stddef.h>
#include <stdint.h>

/* Possible CPUs (the width of a per-CPU map's value), >= 1, or -errno. */
int gt_map_ncpus(void);

/* Keys [first, first + n) of an array map of value_size-byte values into
 * out (n * value_size bytes). */
int gt_map_read_array(int fd, uint32_t first, uint32_t n, size_t value_size, void *out);

/* Keys [first, first + n) of a per-CPU array map of __u64 values, summed
 * over the CPUs, into out[n]. */
int gt_map_read_percpu_u64(int fd, uint32_t first, uint32_t n, uint64_t *out);

/* The same for a per-CPU array of structs of nfields __u64 fields: each
 * field summed over the CPUs, except the fields whose bit is set in
 * max_mask (bit i: field i), which take the largest CPU's value.  out:
 * n * nfields. */
int gt_map_read_percpu_fields(int fd, uint32_t first, uint32_t n, unsigned int nfields,
			      uint64_t max_mask, uint64_t *out);

/* Every (key, value) of a hash map, in no order: *keys and *values are
 * allocated (free() them), *n set.  Entries inserted or deleted while it
 * reads may be missed or seen. */
int gt_map_dump(int fd, size_t key_size, size_t value_size, void **keys, void **values,
		size_t *n);

/* Delete n keys of key_size bytes each (keys not there are skipped). */
int gt_map_delete_keys(int fd, const void *keys, size_t key_size, size_t n);

#endif /* GOTRACE_AGGREGATE_MAPS_H */
