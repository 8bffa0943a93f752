// SPDX-License-Identifier: MIT
/*
 * bench_states_count: the floor of the states benchmark.  Attaches the bare
 * counting uprobe (bpf/bench_count.bpf.c) to runtime.casgstatus of BIN,
 * runs BIN ARGS... to completion, and prints how many times the probe hit:
 *
 *   {"hits":N}          on stderr (BIN's own stdout passes through)
 *
 * Usage: [BENCH_ATTACH=multi|single] bench_states_count BIN [ARGS...]
 *
 * The probe attaches the way `gotrace states --attach` does: a uprobe_multi
 * link (default, like gotrace's auto mode on Linux 6.6+) or a perf-event
 * uprobe (single), so the floor and gotrace pay the same trap.
 * scripts/bench_states.sh compares `gotrace states` against this.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gosym.h"
#include "bpf/bench_count.skel.h"
/* the bench rule links the libraries only */
#include "../../gotrace/probes/uprobe_multi.c"

int main(int argc, char **argv)
{
	struct bench_count_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	const char *mode = getenv("BENCH_ATTACH");
	bool multi = !mode || strcmp(mode, "single");
	int mfd = -1;
	struct gosym *gs = NULL;
	struct gosym_func fn;
	uint64_t off, total = 0, *vals = NULL;
	int ncpu, status, hold[2], ret = 1;
	uint32_t key = 0;
	pid_t pid;
	char c;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_states_count BIN [ARGS...]\n");
		return 2;
	}
	if (gosym_open(argv[1], &gs) || gosym_lookup_name(gs, "runtime.casgstatus", &fn) ||
	    gosym_vaddr_to_offset(gs, fn.entry, &off)) {
		fprintf(stderr, "bench_states_count: '%s': no runtime.casgstatus: %s\n", argv[1],
			gosym_errmsg());
		goto cleanup;
	}
	/* Fork held, attach with the child's pid, then let it exec. */
	if (pipe(hold))
		goto cleanup;
	pid = fork();
	if (pid == 0) {
		close(hold[1]);
		if (read(hold[0], &c, 1) != 1)
			_exit(127);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	close(hold[0]);
	skel = bench_count_bpf__open();
	if (!skel)
		goto cleanup;
	skel->rodata->targ_tgid = (uint32_t)pid;
	bpf_map__set_autocreate(skel->maps.events, false);
	if (multi)
		uprobes_prepare_multi(skel->progs.count_hit);
	if (bench_count_bpf__load(skel)) {
		fprintf(stderr, "bench_states_count: cannot load BPF: %s\n", strerror(errno));
		goto cleanup;
	}
	if (multi) {
		mfd = uprobe_multi_link_create(bpf_program__fd(skel->progs.count_hit), argv[1], &off,
					       NULL, 1, pid);
		if (mfd < 0) {
			fprintf(stderr, "bench_states_count: cannot create uprobe_multi link: %s "
					"(BENCH_ATTACH=single)\n", strerror(-mfd));
			goto cleanup;
		}
	} else {
		link = bpf_program__attach_uprobe(skel->progs.count_hit, false, pid, argv[1], off);
		if (!link) {
			fprintf(stderr, "bench_states_count: cannot attach: %s\n", strerror(errno));
			goto cleanup;
		}
	}
	if (write(hold[1], "x", 1) != 1)
		goto cleanup;
	close(hold[1]);
	waitpid(pid, &status, 0);
	ncpu = libbpf_num_possible_cpus();
	vals = calloc(ncpu, sizeof(*vals));
	if (vals && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &key, vals))
		for (int i = 0; i < ncpu; i++)
			total += vals[i];
	fprintf(stderr, "{\"hits\":%llu}\n", (unsigned long long)total);
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
cleanup:
	free(vals);
	if (mfd >= 0)
		close(mfd);
	bpf_link__destroy(link);
	bench_count_bpf__destroy(skel);
	gosym_free(gs);
	return ret;
}
