// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The floor for the states benchmark: a uprobe that only counts hits, with
 * the same pid filter as states.bpf.c.  scripts/bench_states.sh compares
 * gotrace states' cost per transition against this one's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("uprobe")
int count_hit(void *ctx)
{
	__u32 key = 0;
	__u64 *v;

	if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return 0;
	v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
