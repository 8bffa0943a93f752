// SPDX-License-Identifier: MIT
/*
 * bench_funcgraph: attach and detach time of N funcgraph probes (function
 * entries and RET sites, as `gotrace funcgraph '*'` places them) on a live
 * process, with one uprobe_multi link and with one perf-event uprobe per
 * probe, in the same run.  The probes run the empty program, so only the
 * attach machinery is measured.
 *
 * usage: bench_funcgraph BINARY PID N[,N...] [SINGLE_MAX]
 *
 * Prints one line per (mode, N):
 *   attach multi  N=1000: attach 12.3 ms, detach 40.1 ms
 * Per-probe fallback runs only for N <= SINGLE_MAX (default 100): each
 * detach waits for an RCU grace period, so 10,000 take minutes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "gotrace.h"
/* The pieces of the CLI this benchmark drives, compiled in. */
#include "probes/uprobe_multi.c"
#include "probes/retsites.c"
#include "probes/probe_class.c"
#include "probes/sites.c"
#include "probes/funcs.c"
#include "bpf/funcgraph.skel.h"

bool gt_quiet = true;

/* The CLI's message and signal hooks probes/funcs.c calls: silent, and
 * never stopped (the benchmark has no signal handling of its own). */
void gt_warn(const char *fmt, ...)
{
}

void gt_progress(const char *fmt, ...)
{
}

int gt_error(const char *fmt, ...)
{
	return 1;
}

bool gt_stop_requested(void)
{
	return false;
}

void gt_fault_point(const char *phase)
{
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int silent(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

static int run(struct funcgraph_bpf *skel, enum uprobes_mode mode, const char *bin, pid_t pid,
	       const struct func_probes *p, size_t n)
{
	struct bpf_program *prog = mode == UPROBES_MULTI ? skel->progs.fg_empty_multi
							 : skel->progs.fg_empty_single;
	struct uprobes *set = NULL;
	double t0, t1, t2;
	int err;

	t0 = now_ms();
	err = uprobes_attach(&set, mode, prog, bin, p->offsets, p->cookies, n, pid, NULL, NULL);
	t1 = now_ms();
	if (err) {
		fprintf(stderr, "bench_funcgraph: %s attach of %zu probes: %s\n",
			uprobes_mode_name(mode), n, strerror(-err));
		uprobes_free(set);
		return err;
	}
	uprobes_free(set);
	t2 = now_ms();
	printf("attach %-6s N=%-6zu attach %9.1f ms   detach %9.1f ms\n",
	       mode == UPROBES_MULTI ? "multi" : "single", n, t1 - t0, t2 - t1);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	char *pat[] = { "*" };
	struct func_probes p = { 0 };
	struct funcgraph_bpf *skel = NULL;
	struct gosym *gs = NULL;
	size_t single_max = 100;
	pid_t pid;
	int err;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_funcgraph BINARY PID N[,N...] [SINGLE_MAX]\n");
		return 2;
	}
	pid = atoi(argv[2]);
	if (argc > 4)
		single_max = strtoul(argv[4], NULL, 10);
	libbpf_set_print(silent);
	err = gosym_open(argv[1], &gs);
	if (err) {
		fprintf(stderr, "bench_funcgraph: '%s': %s\n", argv[1], gosym_errmsg());
		return 1;
	}
	err = func_probes_build(gs, pat, 1, NULL, 0, &p);
	if (err) {
		fprintf(stderr, "bench_funcgraph: cannot place probes: %s\n", strerror(-err));
		goto out;
	}
	skel = funcgraph_bpf__open();
	if (!skel) {
		err = -errno;
		goto out;
	}
	bpf_program__set_autoload(skel->progs.fg_multi, false);
	bpf_program__set_autoload(skel->progs.fg_single, false);
	bpf_map__set_autocreate(skel->maps.events, false);	/* the empty program sends nothing */
	uprobes_prepare_multi(skel->progs.fg_empty_multi);
	err = funcgraph_bpf__load(skel);
	if (err) {
		fprintf(stderr, "bench_funcgraph: cannot load BPF: %s\n", strerror(-err));
		goto out;
	}
	printf("# %s: %u functions, %zu probe sites available\n", argv[1], p.nfuncs, p.n);
	for (char *s = strtok(argv[3], ","); s; s = strtok(NULL, ",")) {
		size_t n = strtoul(s, NULL, 10);

		if (n > p.n) {
			fprintf(stderr, "bench_funcgraph: only %zu probe sites\n", p.n);
			err = -E2BIG;
			goto out;
		}
		err = run(skel, UPROBES_MULTI, argv[1], pid, &p, n);
		if (!err && n <= single_max)
			err = run(skel, UPROBES_SINGLE, argv[1], pid, &p, n);
		else if (!err)
			printf("attach single N=%-6zu skipped (> %zu; ~0.1 s per probe to detach here)\n",
			       n, single_max);
		if (err)
			goto out;
	}
out:
	funcgraph_bpf__destroy(skel);
	func_probes_release(&p);
	gosym_free(gs);
	return err ? 1 : 0;
}
