// SPDX-License-Identifier: MIT
/*
 * bench_dwunw: libdwunw per-stack unwind latency on replayed real
 * snapshots (the tests/replay corpus, plus any extra snapshot files given),
 * warm tables, compared in the same run with libdw's own unwinder (dwfl
 * with dwfl_attach_state callbacks reading the same snapshot), and the
 * table build rate of large binaries.
 *
 *   bench_dwunw [-n ITERS] [-L] [SNAPSHOT...]     (run from the checkout root)
 *
 * Per stack: ITERS timed unwinds (CLOCK_MONOTONIC around each call) after
 * one warm-up; p50/p95/p99 over all samples, ns per frame, and the CPU
 * time of the whole loop (CLOCK_THREAD_CPUTIME_ID), which the other jobs on
 * a loaded machine don't inflate.  The same for dwfl_getthread_frames on a
 * Dwfl kept across iterations (its CFI caches warm), and whether both give
 * the same PCs.  -L skips the table-build part.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dwunw.h"
#include "dwunw_internal.h"

#define MAX_SNAPS  256
#define MAX_FRAMES 32

static uint64_t ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- snapshots with their files resolved (see test_dwunw_replay.c) ---- */

struct snap {
	const char *path;
	struct dwunw_snapshot *s;
	struct dwunw_map *map;
	char *maps; /* rewritten maps text */
	int nframes;
	uint64_t pcs[MAX_FRAMES];
};

static char *resolve_maps(struct dwunw_snapshot *s)
{
	size_t cap = strlen(s->maps) * 2 + 4096, used = 0;
	char *out = malloc(cap);
	const char *p = s->maps;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[2048], *path;

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		path = strchr(line, '/');
		for (int i = 0; path && i < s->nnotes; i++) {
			char a[512], b[512], c[256], local[1024];
			if (sscanf(s->notes[i], "file %511s %511s %255s", a, b, c) != 3 || strcmp(a, path))
				continue;
			if (!strncmp(b, "corpus:", 7))
				snprintf(local, sizeof(local), "tests/replay/corpus/%s", b + 7);
			else
				snprintf(local, sizeof(local), "%s", !strncmp(b, "root:", 5) ? b + 5 : b);
			char *abs = realpath(local, NULL);
			if (abs) {
				*path = 0;
				snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s", abs);
				free(abs);
			}
			break;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
		if (used + 2048 > cap)
			out = realloc(out, cap *= 2);
		p = nl ? nl + 1 : p + len;
	}
	out[used] = 0;
	return out;
}

/* ---- libdw reference: dwfl_attach_state over the snapshot ---- */

static struct snap *cur; /* the snapshot the dwfl callbacks read */

static pid_t dwfl_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return 1;
}

static bool dwfl_mem_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	uint64_t base = dwunw_regs_sp(&cur->s->regs);

	if (addr < base || addr - base + 8 > cur->s->stack_len)
		return false;
	memcpy(result, cur->s->stack + (addr - base), 8);
	return true;
}

static bool dwfl_set_regs(Dwfl_Thread *thread, void *arg)
{
	Dwarf_Word r[17];

	for (int i = 0; i < 16; i++)
		r[i] = cur->s->regs.r[i];
	r[16] = cur->s->regs.pc;
	return dwfl_thread_state_registers(thread, 0, 17, r);
}

static const Dwfl_Thread_Callbacks dwfl_cbs = {
	.next_thread = dwfl_next_thread,
	.memory_read = dwfl_mem_read,
	.set_initial_registers = dwfl_set_regs,
};

static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_offline = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct dwfl_walk {
	uint64_t pcs[MAX_FRAMES];
	int n;
};

static int dwfl_frame_cb(Dwfl_Frame *state, void *arg)
{
	struct dwfl_walk *w = arg;
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act))
		return DWARF_CB_ABORT;
	w->pcs[w->n++] = pc;
	return w->n == MAX_FRAMES ? DWARF_CB_ABORT : DWARF_CB_OK;
}

static Dwfl *dwfl_for(struct snap *sn)
{
	Dwfl *dwfl = dwfl_begin(&dwfl_offline);
	const char *p = sn->maps;
	char last[1024] = "";

	if (!dwfl)
		return NULL;
	dwfl_report_begin(dwfl);
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[2048];
		const struct dwunw_module *mod;
		uint64_t start, bias;
		char perms[8];
		int at = -1;

		snprintf(line, sizeof(line), "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
		p = nl ? nl + 1 : p + strlen(p);
		if (sscanf(line, "%lx-%*x %7s %*x %*s %*u %n", (unsigned long *)&start, perms, &at) < 2 ||
		    at < 0 || line[at] != '/' || !strchr(perms, 'x') || !strcmp(line + at, last))
			continue;
		snprintf(last, sizeof(last), "%s", line + at);
		if (dwunw_map_lookup(sn->map, start, &mod, &bias) || !mod)
			continue;
		dwfl_report_elf(dwfl, line + at, line + at, -1, bias, true); /* base = bias */
	}
	dwfl_report_end(dwfl, NULL, NULL);
	if (!dwfl_attach_state(dwfl, NULL, 1, &dwfl_cbs, sn)) {
		dwfl_end(dwfl);
		return NULL;
	}
	return dwfl;
}

/* ---- timing ---- */

struct stats {
	uint64_t *samples;
	size_t n, cap;
	uint64_t frames, cpu_ns, calls;
};

static void add(struct stats *st, uint64_t v)
{
	if (st->n == st->cap)
		st->samples = realloc(st->samples, (st->cap = st->cap ? st->cap * 2 : 4096) * sizeof(uint64_t));
	st->samples[st->n++] = v;
}

static void report(const char *name, struct stats *st)
{
	if (!st->n) {
		printf("%-22s no samples\n", name);
		return;
	}
	qsort(st->samples, st->n, sizeof(uint64_t), cmp_u64);
	double fr = (double)st->frames / (double)st->calls;
	printf("%-22s p50 %7lu ns  p95 %7lu ns  p99 %7lu ns  | cpu %7.0f ns/stack  %5.1f ns/frame  (%.1f frames/stack, %zu samples)\n",
	       name, (unsigned long)st->samples[st->n / 2], (unsigned long)st->samples[st->n * 95 / 100],
	       (unsigned long)st->samples[st->n * 99 / 100], (double)st->cpu_ns / (double)st->calls,
	       (double)st->cpu_ns / (double)st->frames, fr, st->n);
}

static void bench_tables(void)
{
	static const char *const files[] = {"/usr/local/bin/docker", "/usr/lib/x86_64-linux-gnu/libc.so.6",
					    "build/gotrace"};

	printf("\ntable build (module load: ELF, CFI rows, symbols, gosym):\n");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct dwunw_modules *mods = NULL;
		struct dwunw_module *mod = NULL;
		struct dwunw_module_info info;
		uint64_t t0, c0;

		if (access(files[i], R_OK))
			continue;
		dwunw_modules_new(&mods);
		t0 = ns(CLOCK_MONOTONIC);
		c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
		if (dwunw_modules_get(mods, files[i], &mod) == 0) {
			uint64_t wall = ns(CLOCK_MONOTONIC) - t0, cpu = ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
			size_t rows;
			dwunw_module_info(mod, &info);
			rows = info.eh_frame_rows + info.debug_frame_rows;
			printf("  %-40s %7zu FDEs %8zu rows (%zu eh, %zu debug) %6.1f ms cpu (%6.1f wall)  %5.2f M rows/s%s\n",
			       files[i], info.cfi_fdes, rows, info.eh_frame_rows, info.debug_frame_rows, cpu / 1e6,
			       wall / 1e6, rows / (cpu / 1e9) / 1e6, info.go ? "  [Go: + pclntab open]" : "");
		}
		dwunw_modules_free(mods);
	}
}

int main(int argc, char **argv)
{
	static struct snap snaps[MAX_SNAPS];
	struct dwunw_modules *mods = NULL;
	int iters = 2000, nsnaps = 0, opt;
	bool tables = true;
	glob_t g = {0};

	while ((opt = getopt(argc, argv, "n:L")) != -1) {
		if (opt == 'n')
			iters = atoi(optarg);
		else if (opt == 'L')
			tables = false;
		else {
			fprintf(stderr, "usage: bench_dwunw [-n ITERS] [-L] [SNAPSHOT...]\n");
			return 2;
		}
	}
	dwunw_modules_new(&mods);
	glob("tests/replay/corpus/*.snap", 0, NULL, &g);
	for (int i = 0; i < (int)g.gl_pathc + (argc - optind) && nsnaps < MAX_SNAPS; i++) {
		const char *path = i < (int)g.gl_pathc ? g.gl_pathv[i] : argv[optind + i - (int)g.gl_pathc];
		struct snap *sn = &snaps[nsnaps];
		struct dwunw_frame fr[MAX_FRAMES];
		enum dwunw_stop stop;

		memset(sn, 0, sizeof(*sn));
		sn->path = path;
		if (dwunw_snapshot_read(path, &sn->s))
			continue;
		sn->maps = resolve_maps(sn->s);
		if (dwunw_map_parse(mods, sn->maps, strlen(sn->maps), NULL, &sn->map))
			continue;
		sn->nframes = dwunw_unwind(sn->map, &sn->s->regs, sn->s->stack, sn->s->stack_len, DWUNW_M_ALL,
					   fr, MAX_FRAMES, &stop);
		for (int k = 0; k < sn->nframes; k++)
			sn->pcs[k] = fr[k].pc;
		nsnaps++;
	}
	if (!nsnaps) {
		fprintf(stderr, "bench_dwunw: no snapshots (run from the checkout root)\n");
		return 1;
	}
	printf("bench_dwunw: %d snapshots, %d iterations each, up to %d frames\n\n", nsnaps, iters, MAX_FRAMES);

	struct stats warm = {0}, cold = {0}, ref = {0};
	int agree = 0, agree_frames = 0, total_frames = 0, dwfl_ok = 0;
	for (int i = 0; i < nsnaps; i++) {
		struct snap *sn = &snaps[i];
		struct dwunw_frame fr[MAX_FRAMES];
		enum dwunw_stop stop;
		uint64_t c0;

		/* libdwunw, warm PC cache */
		c0 = ns(CLOCK_THREAD_CPUTIME_ID);
		for (int k = 0; k < iters; k++) {
			uint64_t t = ns(CLOCK_MONOTONIC);
			int n = dwunw_unwind(sn->map, &sn->s->regs, sn->s->stack, sn->s->stack_len, DWUNW_M_ALL, fr,
					     MAX_FRAMES, &stop);
			add(&warm, ns(CLOCK_MONOTONIC) - t);
			warm.frames += (uint64_t)n;
		}
		warm.cpu_ns += ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		warm.calls += (uint64_t)iters;

		/* libdwunw, PC cache emptied before every walk: binary searches */
		c0 = ns(CLOCK_THREAD_CPUTIME_ID);
		for (int k = 0; k < iters; k++) {
			map_cache_clear(sn->map);
			uint64_t t = ns(CLOCK_MONOTONIC);
			int n = dwunw_unwind(sn->map, &sn->s->regs, sn->s->stack, sn->s->stack_len, DWUNW_M_ALL, fr,
					     MAX_FRAMES, &stop);
			add(&cold, ns(CLOCK_MONOTONIC) - t);
			cold.frames += (uint64_t)n;
		}
		cold.cpu_ns += ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		cold.calls += (uint64_t)iters;

		/* libdw's dwfl on the same snapshot, Dwfl reused (warm CFI caches). */
		cur = sn;
		Dwfl *dwfl = dwfl_for(sn);
		struct dwfl_walk w = {0};
		if (dwfl) {
			dwfl_getthread_frames(dwfl, 1, dwfl_frame_cb, &w);
			int refiters = iters / 4 > 0 ? iters / 4 : 1;
			c0 = ns(CLOCK_THREAD_CPUTIME_ID);
			for (int k = 0; k < refiters; k++) {
				struct dwfl_walk w2 = {0};
				uint64_t t = ns(CLOCK_MONOTONIC);
				dwfl_getthread_frames(dwfl, 1, dwfl_frame_cb, &w2);
				add(&ref, ns(CLOCK_MONOTONIC) - t);
				ref.frames += (uint64_t)w2.n;
			}
			ref.cpu_ns += ns(CLOCK_THREAD_CPUTIME_ID) - c0;
			ref.calls += (uint64_t)refiters;
			dwfl_end(dwfl);
			dwfl_ok++;
		}
		/* Agreement: same PCs, frame by frame. */
		int same = 0;
		while (same < sn->nframes && same < w.n && sn->pcs[same] == w.pcs[same])
			same++;
		agree += same == sn->nframes && same == w.n;
		agree_frames += same;
		total_frames += sn->nframes > w.n ? sn->nframes : w.n;
		const char *base = strrchr(sn->path, '/') ? strrchr(sn->path, '/') + 1 : sn->path;
		if (!(same == sn->nframes && same == w.n))
			printf("  differs: %-34s libdwunw %2d frames, libdw %2d, first %d agree\n", base, sn->nframes,
			       w.n, same);
	}
	printf("\n");
	report("libdwunw (warm cache)", &warm);
	report("libdwunw (no PC cache)", &cold);
	report("libdw dwfl (reused)", &ref);
	if (warm.n)
		printf("goal p95 <= 2 us, p99 <= 5 us (warm): %s\n",
		       warm.samples[warm.n * 95 / 100] <= 2000 && warm.samples[warm.n * 99 / 100] <= 5000 ? "met" :
												     "NOT met");
	printf("\nagreement with libdw: %d/%d stacks identical, %d/%d frames (libdw attached to %d)\n", agree, nsnaps,
	       agree_frames, total_frames, dwfl_ok);
	if (ref.calls && warm.calls)
		printf("speedup: %.1fx cpu per stack vs libdw (%.1fx without the PC cache)\n",
		       ((double)ref.cpu_ns / ref.calls) / ((double)warm.cpu_ns / warm.calls),
		       ((double)ref.cpu_ns / ref.calls) / ((double)cold.cpu_ns / cold.calls));
	if (tables)
		bench_tables();
	for (int i = 0; i < nsnaps; i++) {
		dwunw_map_free(snaps[i].map);
		dwunw_snapshot_free(snaps[i].s);
		free(snaps[i].maps);
	}
	globfree(&g);
	dwunw_modules_free(mods);
	free(warm.samples);
	free(cold.samples);
	free(ref.samples);
	return 0;
}
