// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The floor for the states benchmark: a uprobe that only counts hits
 * (counters[0]), with the same pid filter as states.bpf.c (go_runtime.h).
 * scripts/bench_states.sh compares gotrace states' cost per transition
 * against this one's.  It sends nothing: user space turns the ring
 * buffer map off.
 */
#include "vmlinux.h"
#include "go_runtime.h"

SEC("uprobe")
int count_hit(void *ctx)
{
	if (gr_in_target(bpf_get_current_pid_tgid()))
		gr_count(0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
