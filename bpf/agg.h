/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * agg.h: what the aggregating BPF programs share (funccount, funclatency,
 * states --aggregate): the --goid filter, and counting into maps without
 * losing increments to another CPU.  Include after go_runtime.h; the
 * histogram buckets are bpf/hist.h's.
 *
 *   goid_filter, goids   --goid: user space sets goid_filter before load
 *                        and fills goids (goid -> 1); agg_want_goid()
 *   agg_array_inc(m, i)  m[i] += 1 in a BPF array (atomic: shared by CPUs)
 *   agg_hash_add(m, k, n) m[k] += n in a hash of __u64, inserting k;
 *                        false when the map is full
 *   agg_hash_get(m, k, zero, &new) m[k], inserted as *zero if absent
 *                        (new: this call inserted it); NULL when full
 */
#ifndef GOTRACE_BPF_AGG_H
#define GOTRACE_BPF_AGG_H

#define E_EXIST 17	/* EEXIST: no errno.h in BPF */

#ifndef AGG_GOIDS_MAX
#define AGG_GOIDS_MAX 1024
#endif

const volatile bool goid_filter = false;	/* --goid */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AGG_GOIDS_MAX);
	__type(key, __s64);
	__type(value, __u8);
} goids SEC(".maps");

static __always_inline bool agg_want_goid(__s64 goid)
{
	return !goid_filter || bpf_map_lookup_elem(&goids, &goid);
}

static __always_inline void agg_array_inc(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline bool agg_hash_add(void *map, void *key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v) {
		__sync_fetch_and_add(v, n);
		return true;
	}
	err = bpf_map_update_elem(map, key, &n, BPF_NOEXIST);
	if (err == -E_EXIST && (v = bpf_map_lookup_elem(map, key))) {
		/* another CPU inserted it meanwhile */
		__sync_fetch_and_add(v, n);
		return true;
	}
	return !err;
}

static __always_inline void *agg_hash_get(void *map, void *key, void *zero, bool *inserted)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	*inserted = false;
	if (v)
		return v;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	if (err && err != -E_EXIST)
		return NULL;
	*inserted = !err;
	return bpf_map_lookup_elem(map, key);
}

#endif /* GOTRACE_BPF_AGG_H */
