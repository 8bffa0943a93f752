// SPDX-License-Identifier: MIT
/* Bulk reads of BPF maps (see aggregate/maps.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate/maps.h"

int gt_map_ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : n < 0 ? n : -EINVAL;
}

/* BPF_MAP_LOOKUP_BATCH over keys [first, first + n) of an array: the
 * cursor given is the key before the first to read (none: from key 0),
 * the one returned the last key read.  An error (no batch ops here): the
 * caller reads key by key. */
static int array_batch(int fd, uint32_t first, uint32_t n, size_t vsz, void *out)
{
	uint32_t *keys = malloc(n * sizeof(*keys)), in = first ? first - 1 : 0, outb = 0;
	uint32_t done = 0;
	bool start = first == 0;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (done < n) {
		__u32 cnt = n - done;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		err = bpf_map_lookup_batch(fd, start ? NULL : &in, &outb, keys,
					   (char *)out + (size_t)done * vsz, &cnt, &opts);
		if (err < 0 && err != -ENOENT)
			break;
		/* an array gives its keys in order from the cursor */
		if (cnt && keys[0] != first + done) {
			err = -EINVAL;
			break;
		}
		done += cnt;
		if (err == -ENOENT || !cnt)
			break;
		err = 0;
		in = outb;
		start = false;
	}
	free(keys);
	return done == n ? 0 : err < 0 && err != -ENOENT ? err : -EINVAL;
}

int gt_map_read_array(int fd, uint32_t first, uint32_t n, size_t value_size, void *out)
{
	if (!n)
		return 0;
	if (!array_batch(fd, first, n, value_size, out))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = first + i;

		if (bpf_map_lookup_elem(fd, &k, (char *)out + (size_t)i * value_size))
			return -errno;
	}
	return 0;
}

int gt_map_read_percpu_fields(int fd, uint32_t first, uint32_t n, unsigned int nfields,
			      uint64_t max_mask, uint64_t *out)
{
	int ncpu = gt_map_ncpus(), err;
	size_t per = (size_t)nfields * sizeof(uint64_t);
	uint64_t *raw;

	if (ncpu < 0)
		return ncpu;
	raw = malloc((size_t)n * ncpu * per);
	if (!raw)
		return -ENOMEM;
	err = gt_map_read_array(fd, first, n, per * ncpu, raw);
	if (!err) {
		for (uint32_t i = 0; i < n; i++) {
			const uint64_t *v = raw + (size_t)i * ncpu * nfields;
			uint64_t *o = out + (size_t)i * nfields;

			memset(o, 0, per);
			for (int c = 0; c < ncpu; c++) {
				for (unsigned int f = 0; f < nfields; f++) {
					uint64_t x = v[(size_t)c * nfields + f];

					if (max_mask & (1ULL << f))
						o[f] = x > o[f] ? x : o[f];
					else
						o[f] += x;
				}
			}
		}
	}
	free(raw);
	return err;
}

int gt_map_read_percpu_u64(int fd, uint32_t first, uint32_t n, uint64_t *out)
{
	return gt_map_read_percpu_fields(fd, first, n, 1, 0, out);
}

/* One key at a time, for kernels without batch operations on hashes. */
static int dump_slow(int fd, size_t ksz, size_t vsz, char **keys, char **vals, size_t *n,
		     size_t cap)
{
	char *prev = NULL;

	*n = 0;
	for (;;) {
		char *k;

		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			char *nk = realloc(*keys, nc * ksz), *nv;

			if (!nk)
				return -ENOMEM;
			*keys = nk;
			nv = realloc(*vals, nc * vsz);
			if (!nv)
				return -ENOMEM;
			*vals = nv;
			cap = nc;
		}
		k = *keys + *n * ksz;
		if (bpf_map_get_next_key(fd, prev, k))
			return errno == ENOENT ? 0 : -errno;
		/* a key deleted meanwhile: skip it */
		if (!bpf_map_lookup_elem(fd, k, *vals + *n * vsz))
			(*n)++;
		else if (errno != ENOENT)
			return -errno;
		prev = *keys + (*n ? *n - 1 : 0) * ksz;
		if (!*n)
			prev = NULL;
	}
}

int gt_map_dump(int fd, size_t key_size, size_t value_size, void **keys, void **values,
		size_t *n)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), cap, cnt, in = 0, outb = 0;
	char *k = NULL, *v = NULL;
	bool first = true;
	int err = 0;

	*keys = *values = NULL;
	*n = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	cap = info.max_entries ? info.max_entries : 1;
	k = malloc((size_t)cap * key_size);
	v = malloc((size_t)cap * value_size);
	if (!k || !v) {
		err = -ENOMEM;
		goto out;
	}
	/* A hash's batch cursor is a bucket number: read until ENOENT. */
	while (*n < cap) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		cnt = cap - *n;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &outb, k + *n * key_size,
					   v + *n * value_size, &cnt, &opts);
		if (err < 0 && err != -ENOENT)
			break;
		*n += cnt;
		if (err) {	/* -ENOENT: the last batch */
			err = 0;
			break;
		}
		in = outb;
		first = false;
	}
	if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -ENOSPC) {
		*n = 0;
		/* no batch ops (or a bucket bigger than what was left) */
		err = dump_slow(fd, key_size, value_size, &k, &v, n, cap);
	}
out:
	if (err) {
		free(k);
		free(v);
		*n = 0;
		return err;
	}
	*keys = k;
	*values = v;
	return 0;
}

int gt_map_delete_keys(int fd, const void *keys, size_t key_size, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, (const char *)keys + i * key_size) && errno != ENOENT)
			return -errno;
	return 0;
}
