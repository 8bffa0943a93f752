// SPDX-License-Identifier: MIT
/*
 * bench_gosym BIN...: for each binary, open + index time (best and median of
 * 7 runs) and PC -> function + file:line lookups over 1M random PCs inside
 * its text (fixed seed), in ns per lookup; the same over a working set of
 * 4096 PCs (a tracer symbolizes the same hot PCs again and again).  Both
 * through the two-call API (gosym_lookup_pc + gosym_pc_line) and the
 * one-call gosym_lookup_pc_line with its result cache off and on; then PC ->
 * inlined frames.  Times are this thread's CPU time, so other load on the
 * machine inflates them less (cache pollution still shows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "gosym.h"

#define RUNS 7
#define LOOKUPS 1000000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench(const char *path)
{
	double t[RUNS];
	struct gosym *g = NULL;
	struct stat st;

	if (stat(path, &st))
		return 1;
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
	long found = 0;

	for (int i = 0; i < LOOKUPS; i++)
		pcs[i] = lo + ((uint64_t)rand_r(&seed) * RAND_MAX + rand_r(&seed)) % span;
	/* Each workload: random PCs over the whole text (every lookup a
	 * different PC: caches miss), then a 4096-PC working set. */
	double two[2], one_nc[2], one_c[2], func_only[2];
	long found_random = 0;

	for (int w = 0; w < 2; w++) {
		uint64_t mask = w ? 4095 : ~0ull;
		double t0 = now_ns();

		for (int i = 0; i < LOOKUPS; i++) {
			struct gosym_func f;
			const char *file;
			int line;
			uint64_t pc = pcs[i & mask];

			if (!gosym_lookup_pc(g, pc, &f) && !gosym_pc_line(g, pc, &file, &line) && !w)
				found_random++;
		}
		two[w] = (now_ns() - t0) / LOOKUPS;

		t0 = now_ns();
		for (int i = 0; i < LOOKUPS; i++) {
			struct gosym_func f;

			gosym_lookup_pc(g, pcs[i & mask], &f);
		}
		func_only[w] = (now_ns() - t0) / LOOKUPS;

		for (int cached = 0; cached < 2; cached++) {
			long found = 0;

			gosym_set_pc_cache(g, cached); /* also empties it */
			t0 = now_ns();
			for (int i = 0; i < LOOKUPS; i++) {
				struct gosym_pcinfo pi;

				if (!gosym_lookup_pc_line(g, pcs[i & mask], &pi) && pi.file)
					found++;
			}
			(cached ? one_c : one_nc)[w] = (now_ns() - t0) / LOOKUPS;
			if (!w && found != found_random) {
				fprintf(stderr, "bench_gosym: %s: one call found %ld, two calls %ld\n",
					path, found, found_random);
				return 1;
			}
		}
	}

	double t0 = now_ns();

	for (int i = 0; i < LOOKUPS; i++) {
		struct gosym_frame fr[16];

		gosym_pc_frames(g, pcs[i], fr, 16);
	}
	double per_frames = (now_ns() - t0) / LOOKUPS;

	printf("%s: %.1f MB, %s, %zu functions\n", path, st.st_size / 1e6, in->goversion, in->nfuncs);
	printf("  open+index: best %.1f ms, median %.1f ms (goal for 100 MB: < 100 ms)\n",
	       t[0] / 1e6, t[RUNS / 2] / 1e6);
	printf("  pc -> func + file:line, ns/lookup (goal < 200 ns); %ld/%d random PCs found\n",
	       found_random, LOOKUPS);
	printf("    %-46s %8s %8s\n", "", "random", "4096-set");
	printf("    %-46s %8.0f %8.0f\n", "gosym_lookup_pc + gosym_pc_line (two calls)", two[0], two[1]);
	printf("    %-46s %8.0f %8.0f\n", "gosym_lookup_pc_line, result cache off", one_nc[0], one_nc[1]);
	printf("    %-46s %8.0f %8.0f\n", "gosym_lookup_pc_line, result cache on", one_c[0], one_c[1]);
	printf("    %-46s %8.0f %8.0f\n", "gosym_lookup_pc alone (func + entry line)", func_only[0],
	       func_only[1]);
	printf("  pc -> inlined frames: %.0f ns/lookup\n", per_frames);
	free(pcs);
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
