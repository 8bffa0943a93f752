// SPDX-License-Identifier: MIT
/*
 * bench_gosym BIN...: for each binary, open + index time (best and median of
 * 7 runs) and PC -> function + file:line lookups over 1M random PCs inside
 * its text (fixed seed), in ns per lookup; the same over a working set of
 * 4096 PCs (a tracer symbolizes the same hot PCs again and again).  Both
 * through the two-call API (gosym_lookup_pc + gosym_pc_line) and the
 * one-call gosym_lookup_pc_line with its result cache off and on; then PC ->
 * inlined frames.  Times are this thread's CPU time, so other load on the
 * machine inflates them less (cache pollution still shows).  Last, the
 * memory the handle grew to: the process's RSS growth since before the
 * first open (the binary's pages read included) and the malloc heap.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "gosym.h"

#define RUNS 7
#define LOOKUPS 1000000
#define ROUNDS 3

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* VmRSS of this process in kB. */
static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum method { TWO_CALLS, ONE_UNCACHED, ONE_CACHED, FUNC_ONLY, FRAMES, NMETHODS };

static const char *const method_names[NMETHODS] = {
	"gosym_lookup_pc + gosym_pc_line (two calls)",
	"gosym_lookup_pc_line, result cache off",
	"gosym_lookup_pc_line, result cache on",
	"gosym_lookup_pc alone (func + entry line)",
	"gosym_pc_frames (inlined frames)",
};

/* ns per lookup of method m over LOOKUPS PCs pcs[i & mask]; *found counts
 * PCs with a function and a position. */
static double measure(struct gosym *g, enum method m, const uint64_t *pcs, uint64_t mask,
		      long *found)
{
	double t0;

	if (m == ONE_UNCACHED || m == ONE_CACHED)
		gosym_set_pc_cache(g, m == ONE_CACHED); /* also empties it */
	t0 = now_ns();
	for (int i = 0; i < LOOKUPS; i++) {
		uint64_t pc = pcs[i & mask];
		struct gosym_pcinfo pi;
		struct gosym_frame fr[16];
		struct gosym_func f;
		const char *file;
		int line;

		switch (m) {
		case TWO_CALLS:
			*found += !gosym_lookup_pc(g, pc, &f) && !gosym_pc_line(g, pc, &file, &line);
			break;
		case ONE_UNCACHED:
		case ONE_CACHED:
			*found += !gosym_lookup_pc_line(g, pc, &pi) && pi.file;
			break;
		case FUNC_ONLY:
			*found += !gosym_lookup_pc(g, pc, &f);
			break;
		default:
			*found += gosym_pc_frames(g, pc, fr, 16) > 0;
			break;
		}
	}
	return (now_ns() - t0) / LOOKUPS;
}

static int bench(const char *path)
{
	double t[RUNS];
	struct gosym *g = NULL;
	struct stat st;

	if (stat(path, &st))
		return 1;
	long rss0 = rss_kb();
	struct mallinfo2 m0 = mallinfo2();
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();

		if (gosym_open(path, &g)) {
			fprintf(stderr, "bench_gosym: %s\n", gosym_errmsg());
			return 1;
		}
		t[r] = now_ns() - t0;
		if (r < RUNS - 1)
			gosym_free(g);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	const struct gosym_info *in = gosym_info(g);
	uint64_t lo = in->text_start, span = in->text_end - in->text_start;
	uint64_t *pcs = malloc(LOOKUPS * sizeof(*pcs));
	unsigned int seed = 42;

	for (int i = 0; i < LOOKUPS; i++)
		pcs[i] = lo + ((uint64_t)rand_r(&seed) * RAND_MAX + rand_r(&seed)) % span;
	/* First pass over the random PCs on a fresh handle: builds the
	 * per-function slice indexes of every big function it meets.  Timed
	 * apart so the workloads below compare lookups, not warm-up. */
	long found_random = 0, found_one = 0;
	double first_pass = measure(g, ONE_CACHED, pcs, ~0ull, &found_one);

	/* Workloads: random PCs over the whole text (every lookup a different
	 * PC: caches miss), then a 4096-PC working set.  ROUNDS rounds of all
	 * methods in turn, keeping each one's best: the machine is shared. */
	double best[NMETHODS][2];

	for (int m = 0; m < NMETHODS; m++)
		best[m][0] = best[m][1] = 1e30;
	for (int r = 0; r < ROUNDS; r++) {
		for (int w = 0; w < 2; w++) {
			for (int m = 0; m < NMETHODS; m++) {
				long found = 0;
				double ns = measure(g, m, pcs, w ? 4095 : ~0ull, &found);

				if (ns < best[m][w])
					best[m][w] = ns;
				if (!w && m == TWO_CALLS)
					found_random = found;
				if (!w && (m == ONE_CACHED || m == ONE_UNCACHED))
					found_one = found;
				if (!w && m == ONE_CACHED && found_one != found_random) {
					fprintf(stderr, "bench_gosym: %s: one call found %ld, two calls %ld\n",
						path, found_one, found_random);
					return 1;
				}
			}
		}
	}

	printf("%s: %.1f MB, %s, %zu functions\n", path, st.st_size / 1e6, in->goversion, in->nfuncs);
	printf("  open+index: best %.1f ms, median %.1f ms (goal for 100 MB: < 100 ms)\n",
	       t[0] / 1e6, t[RUNS / 2] / 1e6);
	printf("  pc -> func + file:line, ns/lookup (goal < 200 ns); %ld/%d random PCs found\n",
	       found_random, LOOKUPS);
	printf("    %-46s %8s %8s\n", "", "random", "4096-set");
	for (int m = 0; m < NMETHODS; m++)
		printf("    %-46s %8.0f %8.0f\n", method_names[m], best[m][0], best[m][1]);
	printf("  first pass over the random PCs (builds the slice indexes): %.0f ns/lookup\n",
	       first_pass);
	free(pcs); /* not the handle's */
	struct mallinfo2 m1 = mallinfo2();

	printf("  memory after the lookups: RSS +%.1f MB since before open (binary pages read included), heap +%.1f MB\n",
	       (rss_kb() - rss0) / 1e3,
	       ((double)m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) / 1e6);
	gosym_free(g);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_gosym BIN...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		ret |= bench(argv[i]);
	return ret;
}
