// SPDX-License-Identifier: MIT
/*
 * bench_detach: what detaching N uprobes costs, the three ways side by side
 * in one run (scripts/bench_detach.sh; docs/faults.md):
 *
 *   serial     N perf-event uprobes (what --attach single attaches), closed
 *              one after the other by one thread (gotrace's uprobes_free);
 *   parallel   the same, closed by T threads at once;
 *   multi      one uprobe_multi link over the same N offsets, closed.
 *
 * The probes sit on N consecutive NOPs of a function of this program (never
 * called), filtered to this process, running a BPF program that returns 0.
 * Rounds alternate serial / parallel / multi so machine load hits each
 * alike; the result is ms per probe and the ratios.
 *
 * usage: bench_detach [-n PROBES] [-t THREADS] [-r ROUNDS]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/uprobe_multi.c"

#define MAX_PROBES 4000

/* The probe sites: never called, only probed. */
__attribute__((noinline, used)) void bench_detach_sled(void)
{
	__asm__ volatile(".rept 4096\n\tnop\n\t.endr");
}

static int *fds;
static int nfds, next_fd;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The sled's file offset in /proc/self/exe. */
static unsigned long sled_offset(void)
{
	unsigned long a = (unsigned long)bench_detach_sled, s, e, o;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &s, &e, &o) == 3 && a >= s && a < e) {
			fclose(f);
			return a - s + o;
		}
	}
	if (f)
		fclose(f);
	return 0;
}

static int return0(enum bpf_attach_type type)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = type);

	return bpf_prog_load(BPF_PROG_TYPE_KPROBE, "gt_bench_detach", "GPL", insns, 2, &po);
}

/* N perf-event uprobes of this process running prog. */
static int attach_single(int prog, unsigned long off, int n, int uprobe_type)
{
	for (int i = 0; i < n; i++) {
		struct perf_event_attr at;
		int fd;

		memset(&at, 0, sizeof(at));
		at.size = sizeof(at);
		at.type = uprobe_type;
		at.config1 = (unsigned long)"/proc/self/exe";
		at.config2 = off + 16 + i;
		fd = syscall(__NR_perf_event_open, &at, getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) ||
		    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
			fprintf(stderr, "bench_detach: uprobe %d: %s\n", i, strerror(errno));
			return -1;
		}
		fds[i] = fd;
	}
	nfds = n;
	next_fd = 0;
	return 0;
}

static void *closer(void *arg)
{
	(void)arg;
	for (;;) {
		int i = __atomic_fetch_add(&next_fd, 1, __ATOMIC_RELAXED);

		if (i >= nfds)
			return NULL;
		close(fds[i]);
	}
}

/* Close the attached uprobes with `threads` threads; seconds. */
static double detach(int threads)
{
	pthread_t th[64];
	double t = now_s();

	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, closer, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return now_s() - t;
}

static int read_uprobe_type(void)
{
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	int type = -1;

	if (f && fscanf(f, "%d", &type) != 1)
		type = -1;
	if (f)
		fclose(f);
	return type;
}

int main(int argc, char **argv)
{
	int n = 100, threads = 16, rounds = 2, opt, prog, mprog, type = read_uprobe_type();
	unsigned long off = sled_offset();
	double ser = 0, par = 0, mul = 0;
	uint64_t *offs;

	while ((opt = getopt(argc, argv, "n:t:r:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else
			return fprintf(stderr, "usage: bench_detach [-n PROBES] [-t THREADS] [-r ROUNDS]\n"), 2;
	}
	if (n < 1 || n > MAX_PROBES || threads < 1 || threads > 64 || rounds < 1 || !off || type < 0)
		return fprintf(stderr, "bench_detach: bad arguments or no uprobe PMU\n"), 2;
	prog = return0((enum bpf_attach_type)0);
	mprog = return0((enum bpf_attach_type)GT_BPF_TRACE_UPROBE_MULTI);
	fds = calloc(n, sizeof(*fds));
	offs = calloc(n, sizeof(*offs));
	if (prog < 0 || !fds || !offs)
		return fprintf(stderr, "bench_detach: cannot load a BPF program (root?)\n"), 1;
	for (int i = 0; i < n; i++)
		offs[i] = off + 16 + i;
	for (int r = 0; r < rounds; r++) {
		if (attach_single(prog, off, n, type))
			return 1;
		ser += detach(1);
		if (attach_single(prog, off, n, type))
			return 1;
		par += detach(threads);
		if (mprog >= 0) {
			int fd = uprobe_multi_link_create(mprog, "/proc/self/exe", offs, NULL, n, getpid());
			double t = now_s();

			if (fd >= 0) {
				close(fd);
				mul += now_s() - t;
			}
		}
	}
	printf("detach %d uprobes x %d rounds: serial %.1f ms/probe, %d threads %.1f ms/probe "
	       "(parallel/serial %.2f)", n, rounds, ser * 1e3 / (n * rounds), threads,
	       par * 1e3 / (n * rounds), par / ser);
	if (mprog >= 0 && mul > 0)
		printf(", one uprobe_multi link %.3f ms for all %d (serial/multi %.0fx)", mul * 1e3 / rounds,
		       n, ser / mul);
	printf("\n");
	return 0;
}
