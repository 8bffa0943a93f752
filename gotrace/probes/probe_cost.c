// SPDX-License-Identifier: MIT
/* The per-hit cost of each probe class, measured on gotrace's own code
 * (see probe_cost.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "probes/probe_cost.h"
#include "probes/uprobe_multi.h"

/*
 * The probed function: fn(x) returns x.  Its conditional jump is never
 * taken; the probes sit on the jump (emulated) and on the move after it
 * (single-stepped).  Offsets are checked against the bytes at run time.
 */
#if defined(__x86_64__)
__asm__(".text\n"
	".p2align 4\n"
	".globl gt_probe_cost_target\n"
	".hidden gt_probe_cost_target\n"
	".type gt_probe_cost_target, @function\n"
	"gt_probe_cost_target:\n"
	"	cmp %rdi, %rdi\n"	/* +0  48 39 ff */
	"	jne 1f\n"		/* +3  75 03 */
	"	mov %rdi, %rax\n"	/* +5  48 89 f8 */
	"1:	ret\n"			/* +8  c3 */
	".size gt_probe_cost_target, .-gt_probe_cost_target\n");
#define HAVE_TARGET 1
static const unsigned int site_off[2] = { 3, 5 }, site_len[2] = { 2, 3 };
static const char *const site_insn[2] = { "jne", "mov" };
#elif defined(__aarch64__)
__asm__(".text\n"
	".p2align 4\n"
	".globl gt_probe_cost_target\n"
	".hidden gt_probe_cost_target\n"
	".type gt_probe_cost_target, %function\n"
	"gt_probe_cost_target:\n"
	"	cmp x0, x0\n"		/* +0 */
	"	b.ne 1f\n"		/* +4 */
	"	mov x1, x0\n"		/* +8 */
	"1:	ret\n"			/* +12 */
	".size gt_probe_cost_target, .-gt_probe_cost_target\n");
#define HAVE_TARGET 1
static const unsigned int site_off[2] = { 4, 8 }, site_len[2] = { 4, 4 };
static const char *const site_insn[2] = { "b.ne", "mov" };
#endif

#ifdef HAVE_TARGET
long gt_probe_cost_target(long x);

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The file and file offset the function was mapped from. */
static int locate(uintptr_t addr, char *path, size_t pathsz, uint64_t *off)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, pgoff;
		int n = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &lo, &hi, &pgoff, &n) < 3 || !n ||
		    addr < lo || addr >= hi)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (line[n] != '/' || strlen(line + n) >= pathsz)
			break;	/* anonymous or deleted: cannot be probed */
		strcpy(path, line + n);
		*off = addr - lo + pgoff;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* r0 = 0; exit.  multi: loaded for uprobe_multi links. */
static int load_empty(bool multi)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		    .expected_attach_type = multi ? (enum bpf_attach_type)GT_BPF_TRACE_UPROBE_MULTI
						  : 0);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "gt_probe_cost", "GPL", insns, 2, &po);

	return fd < 0 ? -errno : fd;
}

/* One perf-event uprobe running prog_fd (kernels without uprobe_multi). */
static int perf_uprobe(int prog_fd, const char *path, uint64_t off)
{
	struct perf_event_attr a = { .size = sizeof(a) };
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	int type = -1, fd;

	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	if (type < 0)
		return -ENOSYS;
	a.type = type;
	a.config1 = (uint64_t)(uintptr_t)path;
	a.config2 = off;
	fd = syscall(SYS_perf_event_open, &a, getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd) || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * CPU ns per call of fn, calling it in batches until `ms` of wall time
 * have passed (at least one batch); *calls: how many calls were timed.
 * This thread's CPU time: the kernel charges the traps to it, and it does
 * not count the time other processes of a busy machine run instead (on an
 * idle core it equals the fastest batches' wall time per call).
 */
static double time_calls(long (*volatile fn)(long), unsigned int batch, unsigned int ms,
			 uint64_t *calls)
{
	uint64_t w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), n = 0;

	do {
		for (unsigned int i = 0; i < batch; i++)
			fn((long)i);
		n += batch;
	} while (now_ns(CLOCK_MONOTONIC) - w0 < (uint64_t)ms * 1000000ull);
	*calls = n;
	return (double)(now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)n;
}

int probe_cost_measure(unsigned int budget_ms, struct probe_cost *out)
{
	long (*volatile fn)(long) = gt_probe_cost_target;
	const uint8_t *code = (const uint8_t *)(uintptr_t)gt_probe_cost_target;
	unsigned int kver = probe_kernel_version();
	char path[PATH_MAX];
	uint64_t base = 0, calls;
	int prog = -1, err;

	memset(out, 0, sizeof(out[0]));
	if (budget_ms < 50)
		budget_ms = 50;
	for (int c = PROBE_EMULATED; c <= PROBE_SSTEP; c++) {
		out->insn[c] = site_insn[c];
		if (probe_class_of(
#if defined(__x86_64__)
			    RETSITES_X86_64,
#else
			    RETSITES_ARM64,
#endif
			    code + site_off[c], site_len[c], kver) != (enum probe_class)c)
			return -EPROTO;	/* the test function is not what we think */
	}
	err = locate((uintptr_t)code, path, sizeof(path), &base);
	if (err)
		return err;
	out->call_ns = time_calls(fn, 10000, budget_ms / 20 + 1, &calls);
	prog = load_empty(true);
	out->multi = prog >= 0;
	if (prog < 0)
		prog = load_empty(false);
	if (prog < 0)
		return prog;
	for (int c = PROBE_EMULATED; c <= PROBE_SSTEP && !err; c++) {
		uint64_t off = base + site_off[c];
		int link = out->multi ? uprobe_multi_link_create(prog, path, &off, NULL, 1, getpid())
				      : perf_uprobe(prog, path, off);
		double per;

		if (link < 0) {
			err = link;
			break;
		}
		per = time_calls(fn, c == PROBE_EMULATED ? 1000 : 100,
				 c == PROBE_EMULATED ? budget_ms / 4 : budget_ms * 3 / 4,
				 &out->hits[c]);
		close(link);
		out->hit_ns[c] = per > out->call_ns ? per - out->call_ns : 0;
	}
	close(prog);
	return err;
}

#else /* no test function for this architecture */

int probe_cost_measure(unsigned int budget_ms, struct probe_cost *out)
{
	memset(out, 0, sizeof(*out));
	return -EOPNOTSUPP;
}

#endif
