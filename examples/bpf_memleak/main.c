// SPDX-License-Identifier: MIT
/*
 * bpf_memleak: outstanding heap allocations of a C program, by call site,
 * with DWARF-unwound stacks (libdwunw) and, on the same snapshots, how far
 * frame pointers alone get.  In the spirit of libbpf-tools' memleak, which
 * takes its stacks from the kernel's frame-pointer walker; here the BPF side
 * copies registers and raw stack bytes and user space unwinds them.
 *
 *   bpf_memleak [options] -p PID
 *   bpf_memleak [options] -- PROG [ARGS...]
 *
 * Flow: find the target's C library (launch mode: ptrace the child until
 * the dynamic linker has mapped it), resolve malloc & co to file offsets,
 * attach uprobes (+ uretprobes for the returned address) filtered to the
 * target, then consume events: ALLOC -> unwind twice (CFI only, FP only),
 * file the block under its DWARF stack; FREE -> drop the block.  Reports go
 * to stdout every -i seconds and at the end (target exit, -d, Ctrl-C).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "dwunw.h"
#include "memleak.h"
#include "memleak.skel.h"
#include "srcline.h"
#include "target.h"
#include "track.h"

#define ERR(...) fprintf(stderr, "bpf_memleak: " __VA_ARGS__)

static const char usage[] =
	"Usage: bpf_memleak [options] -p PID\n"
	"       bpf_memleak [options] -- PROG [ARGS...]\n"
	"\n"
	"Trace a C program's malloc/calloc/realloc/reallocarray/posix_memalign/\n"
	"memalign/aligned_alloc/valloc/pvalloc and free calls (uprobes on its C\n"
	"library) and report the outstanding allocations by call site, with stacks\n"
	"unwound from DWARF CFI (libdwunw).  The same stack snapshots are also\n"
	"unwound with frame pointers only, and the success rates of both methods\n"
	"are printed side by side.  Needs root (CAP_BPF + CAP_PERFMON).\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID         trace a running process\n"
	"  -d, --duration SECS   stop after SECS seconds (default: until the target\n"
	"                        exits or Ctrl-C)\n"
	"  -i, --interval SECS   also print a report every SECS seconds\n"
	"  -t, --top N           call sites per report, biggest first (default 10,\n"
	"                        0 = all)\n"
	"  -s, --stack-size B    bytes of user stack copied per allocation\n"
	"                        (default 16384, at most 32768)\n"
	"      --show-fp         under each site, also the frame-pointer walk of its\n"
	"                        first snapshot\n"
	"      --perf-uprobes    one perf-event uprobe per function and direction\n"
	"                        instead of uprobe_multi links (automatic on kernels\n"
	"                        before 6.6; detaching them takes ~0.1 s each)\n"
	"  -v, --verbose         libbpf's messages\n"
	"  -h, --help            this text\n"
	"\n"
	"With -- PROG, the program is started and traced from its first allocation;\n"
	"its output goes where bpf_memleak's goes.  When bpf_memleak stops first\n"
	"(-d, Ctrl-C), a launched program is killed.\n"
	"\n"
	"Examples:\n"
	"  bpf_memleak -- ./myprog --flag          # what is still allocated at exit\n"
	"  bpf_memleak -p 1234 -i 5 --top 3        # a running process, every 5 s\n"
	"  bpf_memleak -d 30 -s 32768 -p 1234      # 30 s, deeper stacks\n";

static struct {
	pid_t pid;
	int launch;
	double duration, interval;
	int top;
	unsigned stack_size;
	int verbose;
	int perf_uprobes;
	int show_fp;
} opt = {.top = 10, .stack_size = 16384};

static volatile sig_atomic_t stop_flag;

static struct dwunw_modules *mods;
static struct dwunw_map *map;
static int map_stale;		/* re-read /proc/PID/maps at the next event */
static double map_time;
static struct track *track;
static struct walk_stats st_dwarf, st_fp;
static uint64_t n_events, n_frees, n_failed_unwind, n_map_reads;
static double alloc_seconds;	/* user-space time spent on ALLOC events */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Running, not a zombie waiting for a parent that is not us to reap it. */
static int pid_alive(pid_t pid)
{
	char fn[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", (int)pid);
	f = fopen(fn, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the command name may hold anything */
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void on_signal(int sig)
{
	stop_flag = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!opt.verbose && level != LIBBPF_WARN)
		return 0;
	if (!opt.verbose)
		return 0;	/* libbpf's warnings repeat what we say in one line */
	return vfprintf(stderr, fmt, ap);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{"pid", required_argument, NULL, 'p'},	{"duration", required_argument, NULL, 'd'},
		{"interval", required_argument, NULL, 'i'}, {"top", required_argument, NULL, 't'},
		{"stack-size", required_argument, NULL, 's'}, {"verbose", no_argument, NULL, 'v'},
		{"perf-uprobes", no_argument, NULL, 'P'}, {"show-fp", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},	{0},
	};
	int c;
	double v;

	while ((c = getopt_long(argc, argv, "+p:d:i:t:s:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_num(optarg, 1, INT_MAX, &v) || v != (int)v) {
				ERR("-p: not a process id: %s\n", optarg);
				return -1;
			}
			opt.pid = (pid_t)v;
			break;
		case 'd':
			if (parse_num(optarg, 0.001, 1e9, &opt.duration)) {
				ERR("-d: not a positive number of seconds: %s\n", optarg);
				return -1;
			}
			break;
		case 'i':
			if (parse_num(optarg, 0.001, 1e9, &opt.interval)) {
				ERR("-i: not a positive number of seconds: %s\n", optarg);
				return -1;
			}
			break;
		case 't':
			if (parse_num(optarg, 0, 1e9, &v) || v != (int)v) {
				ERR("--top: not a count: %s\n", optarg);
				return -1;
			}
			opt.top = (int)v;
			break;
		case 's':
			if (parse_num(optarg, 64, ML_STACK_MAX, &v) || v != (unsigned)v) {
				ERR("--stack-size: want 64..%d bytes: %s\n", ML_STACK_MAX, optarg);
				return -1;
			}
			opt.stack_size = (unsigned)v;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'P':
			opt.perf_uprobes = 1;
			break;
		case 'F':
			opt.show_fp = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'bpf_memleak --help'.\n");
			return -1;
		}
	}
	opt.launch = optind < argc;
	if (opt.launch == !!opt.pid) {
		ERR("%s\n", opt.pid ? "give either -p PID or -- PROG, not both"
				    : "nothing to trace: give -p PID or -- PROG [ARGS]");
		fprintf(stderr, "Try 'bpf_memleak --help'.\n");
		return -1;
	}
	return optind;
}

/* (Re)read the target's mappings.  The new map replaces the old one only
 * if it covers pc (0: no condition): a process that has exited, or a zombie
 * (its maps file is empty), keeps the map read while it was alive. */
static void refresh_map(uint64_t pc)
{
	struct dwunw_map *m;
	const struct dwunw_module *mod;
	uint64_t bias;

	map_time = now();
	map_stale = 0;
	n_map_reads++;
	if (dwunw_map_from_pid(mods, opt.pid, &m))
		return;
	if (pc && map && dwunw_map_lookup(m, pc, &mod, &bias)) {
		dwunw_map_free(m);
		return;
	}
	dwunw_map_free(map);
	map = m;
}

static void on_alloc(const struct ml_alloc_event *e, size_t len)
{
	static struct dwunw_frame fr[TRACK_MAX_FRAMES], ffr[TRACK_MAX_FRAMES];
	size_t slen = len - offsetof(struct ml_alloc_event, stack);
	enum dwunw_stop stop, fstop;
	int n, fn, site;
	bool dwarf_main, fp_main, fp_agree;
	struct site *s;
	double t0;

	if (slen > e->stack_len)
		slen = e->stack_len;
	if (e->old_addr && (e->addr || e->size == 0))
		track_release(track, e->old_addr);	/* realloc moved or freed it */
	if (!e->addr)
		return;
	t0 = now();
	if (map_stale)
		refresh_map(e->regs.pc);
	if (!map) {
		n_failed_unwind++;
		return;
	}
	n = dwunw_unwind(map, &e->regs, e->stack, slen, DWUNW_M_CFI, fr, TRACK_MAX_FRAMES, &stop);
	/* Frame 0 is in the allocator, which was mapped: when the map doesn't
	 * know it, the process has exec'd (new address space): read the maps
	 * now.  Deeper frames: a library loaded since we read them: read them
	 * again, at most a few times a second (a JIT's code never has one). */
	if (n >= 0 && stop == DWUNW_STOP_NO_MODULE &&
	    ((n > 0 && !fr[0].module) || now() - map_time > 0.2)) {
		refresh_map(e->regs.pc);
		n = dwunw_unwind(map, &e->regs, e->stack, slen, DWUNW_M_CFI, fr, TRACK_MAX_FRAMES,
				 &stop);
	}
	fn = dwunw_unwind(map, &e->regs, e->stack, slen, DWUNW_M_FP, ffr, TRACK_MAX_FRAMES, &fstop);
	if (n < 0 || fn < 0) {
		n_failed_unwind++;
		n = n < 0 ? 0 : n;
		fn = fn < 0 ? 0 : fn;
	}
	dwarf_main = frames_reach_main(fr, n);
	fp_main = frames_reach_main(ffr, fn);
	/* FP agrees when its frames are DWARF's and it got as far: all of
	 * them, or up to main */
	fp_agree = frames_prefix(fr, n, ffr, fn) && (fn == n || (fp_main && dwarf_main));
	walk_stats_add(&st_dwarf, fr, n, stop, dwarf_main, true);
	walk_stats_add(&st_fp, ffr, fn, fstop, fp_main, fp_agree);
	site = track_site(track, e->kind, fr, n, stop, ffr, fn, fstop);
	s = track_site_at(track, site);
	s->fp_walks++;
	s->fp_main += fp_main;
	s->fp_agree += fp_agree;
	s->fp_frame_sum += fn;
	track_alloc(track, e->addr, e->size, site);
	alloc_seconds += now() - t0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	const __u32 *type = data;

	if (len < sizeof(struct ml_free_event))
		return 0;
	n_events++;
	if (*type == ML_EV_FREE) {
		n_frees++;
		track_release(track, ((const struct ml_free_event *)data)->addr);
	} else if (*type == ML_EV_ALLOC && len >= offsetof(struct ml_alloc_event, stack)) {
		on_alloc(data, len);
	}
	return 0;
}

static void print_method(const char *name, const struct walk_stats *s)
{
	double w = s->walks ? (double)s->walks : 1;

	printf("  %-6s %8llu (%5.1f%%)  %8llu (%5.1f%%)  %8llu (%5.1f%%)  %6.1f  ", name,
	       (unsigned long long)s->complete, 100.0 * s->complete / w,
	       (unsigned long long)s->reached_main, 100.0 * s->reached_main / w,
	       (unsigned long long)s->agree, 100.0 * s->agree / w, s->frames / w);
	for (int i = 0; i < DWUNW_STOP__COUNT; i++)
		if (s->stops[i])
			printf(" %s:%llu", dwunw_stop_name(i), (unsigned long long)s->stops[i]);
	printf("\n");
}

static void report(struct memleak_bpf *skel, const char *why)
{
	char ts[32];
	time_t t = time(NULL);

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
	printf("[%s] bpf_memleak report (%s), pid %d\n", ts, why, (int)opt.pid);
	track_report(track, stdout, opt.top, opt.show_fp);
	printf("\nStacks: %llu allocation snapshots unwound twice (stack copy %u bytes)\n",
	       (unsigned long long)st_dwarf.walks, opt.stack_size);
	printf("  %-6s %17s  %17s  %17s  %6s  %s\n", "method", "complete", "reached main",
	       "same as dwarf", "frames", "stop reasons");
	print_method("dwarf", &st_dwarf);
	print_method("fp", &st_fp);
	printf("Events: %llu (%llu frees, %llu of untracked blocks, %llu unwind errors), lost %llu, "
	       "untraced (stash full) %llu, stack copies cut at --stack-size %llu\n",
	       (unsigned long long)n_events, (unsigned long long)n_frees,
	       (unsigned long long)track_unknown_frees(track), (unsigned long long)n_failed_unwind,
	       (unsigned long long)skel->bss->counters[ML_C_RINGBUF_DROP],
	       (unsigned long long)skel->bss->counters[ML_C_STASH_FULL],
	       (unsigned long long)skel->bss->counters[ML_C_STACK_TRUNC]);
	printf("User space: %.1f us per allocation event (2 unwinds, symbols, bookkeeping, "
	       "loading new modules' tables), maps read %llu times\n\n",
	       st_dwarf.walks ? alloc_seconds * 1e6 / st_dwarf.walks : 0.0,
	       (unsigned long long)n_map_reads);
	fflush(stdout);
}

static const struct target_func funcs_init[] = {
	{"malloc", ML_MALLOC},	 {"calloc", ML_CALLOC},
	{"realloc", ML_REALLOC}, {"reallocarray", ML_REALLOCARRAY},
	{"posix_memalign", ML_POSIX_MEMALIGN},
	{"aligned_alloc", ML_MEMALIGN}, {"memalign", ML_MEMALIGN},
	{"valloc", ML_MALLOC},	 {"pvalloc", ML_MALLOC},
	{"free", 0},
};
#define NFUNCS (int)(sizeof(funcs_init) / sizeof(funcs_init[0]))

/* The skeleton's destroy knows one link per program; ours are many. */
static struct bpf_link *links[2 * NFUNCS];
static int nlinks;
static int link_fds[3];		/* uprobe_multi links */
static int nlink_fds;

static void destroy_links(void);

/* uprobe_multi links (Linux 6.6+): BPF_LINK_CREATE spelled out by hand,
 * because Debian's libbpf 1.1 has no wrapper and its uapi headers predate
 * the attr layout; the kernel zero-extends the shorter attr. */
#define ML_TRACE_UPROBE_MULTI 48	/* enum bpf_attach_type */
#define ML_UPROBE_MULTI_RETURN 1	/* BPF_F_UPROBE_MULTI_RETURN */

struct ml_link_create_umulti {
	__u32 prog_fd, target_fd, attach_type, flags;
	__aligned_u64 path, offsets, ref_ctr_offsets, cookies;
	__u32 cnt, uflags, pid;
};

static int multi_link(struct bpf_program *prog, const char *path, const __u64 *offsets,
		      const __u64 *cookies, int cnt, bool ret)
{
	struct ml_link_create_umulti attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = bpf_program__fd(prog);
	attr.attach_type = ML_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(uintptr_t)path;
	attr.offsets = (__u64)(uintptr_t)offsets;
	attr.cookies = (__u64)(uintptr_t)cookies;
	attr.cnt = cnt;
	attr.uflags = ret ? ML_UPROBE_MULTI_RETURN : 0;
	attr.pid = opt.pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	link_fds[nlink_fds++] = fd;
	return 0;
}

/* The allocator's offsets, each once (glibc's memalign and aligned_alloc
 * are one function), with their kinds as cookies. */
static int probe_sites(const char *path, __u64 *offs, __u64 *kinds, __u64 *free_off)
{
	struct target_func funcs[NFUNCS];
	int n = 0;

	memcpy(funcs, funcs_init, sizeof(funcs));
	if (target_resolve(path, funcs, NFUNCS))
		return -1;
	for (int k = 0; k < NFUNCS; k++) {
		int dup = 0;

		if (!funcs[k].found)
			continue;
		for (int j = 0; j < k; j++)
			dup |= funcs[j].found && funcs[j].offset == funcs[k].offset;
		if (dup)
			continue;
		if (!funcs[k].kind) {
			*free_off = funcs[k].offset;
			continue;
		}
		offs[n] = funcs[k].offset;
		kinds[n++] = funcs[k].kind;
	}
	return n;
}

/* Attach: multi = one uprobe_multi link per program, else perf-event
 * uprobes (one per function and direction, through libbpf).  Returns 0,
 * or a negative errno with nothing left attached. */
static int attach(struct memleak_bpf *skel, const char *path, const __u64 *offs,
		  const __u64 *kinds, int n, __u64 free_off, bool multi)
{
	int err = 0;

	if (multi) {
		if ((err = multi_link(skel->progs.alloc_enter, path, offs, kinds, n, false)) ||
		    (err = multi_link(skel->progs.alloc_return, path, offs, NULL, n, true)) ||
		    (err = multi_link(skel->progs.free_enter, path, &free_off, NULL, 1, false)))
			destroy_links();
		return err;
	}
	for (int k = 0; k <= n; k++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o);
		struct bpf_link *l;
		bool is_free = k == n;

		o.bpf_cookie = is_free ? 0 : kinds[k];
		l = bpf_program__attach_uprobe_opts(is_free ? skel->progs.free_enter
							    : skel->progs.alloc_enter,
						    opt.pid, path, is_free ? free_off : offs[k], &o);
		if (!l)
			goto fail;
		links[nlinks++] = l;
		if (is_free)
			break;
		o.retprobe = true;
		o.bpf_cookie = 0;
		l = bpf_program__attach_uprobe_opts(skel->progs.alloc_return, opt.pid, path,
						    offs[k], &o);
		if (!l)
			goto fail;
		links[nlinks++] = l;
	}
	return 0;
fail:
	err = -errno;
	destroy_links();
	return err ? err : -EINVAL;
}

/* Open and load the BPF object; multi: for uprobe_multi links. */
static struct memleak_bpf *open_load(bool multi, int *err)
{
	struct memleak_bpf *skel = memleak_bpf__open();

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	skel->rodata->stack_size = opt.stack_size;
	if (multi) {
		bpf_program__set_expected_attach_type(skel->progs.alloc_enter, ML_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.alloc_return, ML_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(skel->progs.free_enter, ML_TRACE_UPROBE_MULTI);
	}
	*err = memleak_bpf__load(skel);
	if (*err) {
		memleak_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void *destroy_one(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Each uprobe's unregistration waits for an RCU grace period (a tenth of a
 * second or more); one thread per link lets those waits overlap. */
static void destroy_links(void)
{
	pthread_t th[2 * NFUNCS];
	int started[2 * NFUNCS] = {0};

	for (int i = 0; i < nlinks; i++)
		started[i] = pthread_create(&th[i], NULL, destroy_one, links[i]) == 0;
	for (int i = 0; i < nlinks; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			bpf_link__destroy(links[i]);
	}
	nlinks = 0;
	/* a uprobe_multi link unregisters all its probes with one wait */
	for (int i = 0; i < nlink_fds; i++)
		close(link_fds[i]);
	nlink_fds = 0;
}

int main(int argc, char **argv)
{
	struct memleak_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	char path[4096];
	int first, rc = 1, err, child_done = 0, status = 0, nsites;
	__u64 offs[NFUNCS], kinds[NFUNCS], free_off = 0;
	bool multi = true;
	double t0, next_report;
	struct sigaction sa = {.sa_handler = on_signal};

	first = parse_args(argc, argv);
	if (first < 0)
		return 2;
	libbpf_set_print(libbpf_print);
	if (dwunw_modules_new(&mods) || !(track = track_new())) {
		ERR("out of memory\n");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* Load first: a user without the privileges gets the error before a
	 * program is started for nothing. */
	skel = opt.perf_uprobes ? NULL : open_load(true, &err);
	if (!skel)
		skel = open_load(multi = false, &err);
	if (!skel) {
		ERR("loading the BPF programs: %s%s\n", strerror(-err),
		    err == -EPERM || err == -EACCES ? " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
		goto out;
	}
	if (opt.launch) {
		if (target_launch(argv + first, &opt.pid, path, sizeof(path)))
			goto out;
	} else {
		if (!pid_alive(opt.pid)) {
			ERR("no process %d\n", (int)opt.pid);
			goto out;
		}
		if (target_allocator_file(opt.pid, path, sizeof(path)))
			goto out;
		if (!path[0]) {
			ERR("pid %d has no C library mapped and is not a static executable\n",
			    (int)opt.pid);
			goto out;
		}
	}
	skel->bss->target_tgid = (__u32)opt.pid;
	nsites = probe_sites(path, offs, kinds, &free_off);
	if (nsites < 0)
		goto out;
	err = attach(skel, path, offs, kinds, nsites, free_off, multi);
	if (err && multi) {
		/* no uprobe_multi links here: programs loaded for them can't
		 * be perf-event uprobes, so load them again */
		memleak_bpf__destroy(skel);
		skel = open_load(multi = false, &err);
		if (skel) {
			skel->bss->target_tgid = (__u32)opt.pid;
			err = attach(skel, path, offs, kinds, nsites, free_off, false);
		}
	}
	if (err) {
		ERR("attaching uprobes to %s: %s\n", path, strerror(-err));
		goto out;
	}
	fprintf(stderr, "bpf_memleak: pid %d: %d allocator functions and free probed in %s (%s)\n",
		(int)opt.pid, nsites, path, multi ? "uprobe_multi links" : "perf-event uprobes");
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		ERR("ring buffer: %s\n", strerror(errno));
		goto out;
	}
	/* Launch mode: the dynamic linker has mapped the C library but may
	 * still map others: read the maps now and again at the first event
	 * (a short-lived program may be gone by the time we get to it). */
	refresh_map(0);
	map_stale = opt.launch;
	if (opt.launch && target_release(opt.pid))
		goto out;

	t0 = now();
	next_report = opt.interval ? t0 + opt.interval : 0;
	while (!stop_flag) {
		siginfo_t si = {0};

		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			ERR("ring buffer: %s\n", strerror(-err));
			goto out;
		}
		if (opt.duration && now() - t0 >= opt.duration)
			break;
		if (next_report && now() >= next_report) {
			report(skel, "interval");
			next_report += opt.interval;
		}
		/* Target gone?  A launched child stays a zombie (its maps
		 * are gone, but we read them earlier) until we've drained. */
		if (opt.launch) {
			if (waitid(P_PID, opt.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
				break;
		} else if (!pid_alive(opt.pid)) {
			break;
		}
	}
	ring_buffer__consume(rb);
	if (opt.launch) {
		if (waitpid(opt.pid, &status, WNOHANG) == opt.pid) {
			child_done = 1;
		} else {
			kill(opt.pid, SIGKILL);
			child_done = waitpid(opt.pid, &status, 0) == opt.pid;
		}
	}
	report(skel, stop_flag ? "interrupted" : opt.duration && now() - t0 >= opt.duration ? "duration"
									       : "target exited");
	if (opt.launch && child_done) {
		if (WIFEXITED(status))
			fprintf(stderr, "bpf_memleak: %s exited with status %d\n", argv[first],
				WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			fprintf(stderr, "bpf_memleak: %s killed by signal %d\n", argv[first],
				WTERMSIG(status));
	}
	rc = 0;
out:
	ring_buffer__free(rb);
	destroy_links();
	memleak_bpf__destroy(skel);
	if (opt.launch && opt.pid && !child_done && rc) {
		kill(opt.pid, SIGKILL);
		waitpid(opt.pid, &status, 0);
	}
	dwunw_map_free(map);
	track_free(track);
	srcline_free_all();
	dwunw_modules_free(mods);
	return rc;
}
