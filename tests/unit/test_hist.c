// SPDX-License-Identifier: MIT
/*
 * Unit tests of the latency histograms (bpf/hist.h, gotrace/aggregate/
 * histogram.c): bucket bounds against a brute-force definition, every
 * value landing in the bucket whose bounds hold it, percentiles against
 * the exact order statistics of random samples (an upper bound within
 * 1/16, never above the maximum), the log2 folding against bcc's slot of
 * each value, deltas, and the printed log2 table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "aggregate/histogram.h"

/* floor(log2(v)) the slow way. */
static uint32_t slow_msb(uint64_t v)
{
	uint32_t r = 0;

	while (v >>= 1)
		r++;
	return r;
}

static void test_msb(void)
{
	const char *name = "msb";

	for (int k = 0; k < 64; k++) {
		uint64_t v = 1ULL << k;

		if (!ASSERT_EQ(name, hist_msb(v), k) || !ASSERT_EQ(name, hist_msb(v | (v - 1)), k))
			return;
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t v = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^ rand();

		if (v && !ASSERT_EQ(name, hist_msb(v), slow_msb(v)))
			return;
	}
	CHECK_PASS(name);
}

/* Every bucket's bounds: contiguous from 0, each value between them maps
 * to the bucket, widths at most lo/16 above the exact range. */
static void test_bounds(void)
{
	const char *name = "bounds";

	if (!ASSERT_EQ(name, gt_hist_lo(0), 0))
		return;
	for (uint32_t b = 0; b < HIST_NB; b++) {
		uint64_t lo = gt_hist_lo(b), hi = gt_hist_hi(b);

		if (b + 1 < HIST_NB && !ASSERT_EQ(name, gt_hist_lo(b + 1), hi + 1))
			return;
		if (!ASSERT_EQ(name, hist_bucket(lo), b))
			return;
		if (b < HIST_OVERFLOW) {
			if (!ASSERT_EQ(name, hist_bucket(hi), b) ||
			    !ASSERT_EQ(name, hist_bucket(lo + (hi - lo) / 2), b))
				return;
			if (lo >= HIST_SUB && !ASSERT_TRUE(name, (hi - lo + 1) * HIST_SUB <= lo))
				return;
		}
	}
	if (!ASSERT_EQ(name, hist_bucket(UINT64_MAX), HIST_OVERFLOW) ||
	    !ASSERT_EQ(name, hist_bucket(1ULL << HIST_MAX_BITS), HIST_OVERFLOW) ||
	    !ASSERT_EQ(name, hist_bucket((1ULL << HIST_MAX_BITS) - 1), HIST_OVERFLOW - 1) ||
	    !ASSERT_EQ(name, gt_hist_hi(HIST_OVERFLOW), (long long)UINT64_MAX))
		return;
	/* powers of two start buckets: log2 folding is exact */
	for (int k = 0; k < HIST_MAX_BITS; k++)
		if (!ASSERT_EQ(name, gt_hist_lo(hist_bucket(1ULL << k)), 1ULL << k))
			return;
	CHECK_PASS(name);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A random value spread over many orders of magnitude. */
static uint64_t rand_ns(void)
{
	int k = rand() % 34;

	return ((uint64_t)rand() << 20 ^ rand()) & ((1ULL << k) - 1 + (1ULL << k));
}

/* Percentiles against the exact order statistics of random samples. */
static void test_percentiles(void)
{
	const char *name = "percentiles";
	static uint64_t h[HIST_NB];
	const double ps[] = { 0.01, 0.5, 0.9, 0.99, 0.999, 1.0 };

	for (int round = 0; round < 200; round++) {
		int n = 1 + rand() % (round < 20 ? 5 : 5000);
		uint64_t *v = malloc(n * sizeof(*v)), max = 0;

		memset(h, 0, sizeof(h));
		for (int i = 0; i < n; i++) {
			v[i] = round % 7 ? rand_ns() : (uint64_t)(5000 + rand() % 3);	/* some with ties */
			h[hist_bucket(v[i])]++;
			if (v[i] > max)
				max = v[i];
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		if (!ASSERT_EQ(name, gt_hist_count(h), n))
			goto fail;
		for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
			long rank = (long)ceil(ps[k] * n);
			uint64_t truth = v[(rank < 1 ? 1 : rank) - 1];
			uint64_t got = gt_hist_percentile(h, ps[k], max);

			/* an upper bound, at most 1/16 above, never above max */
			if (!ASSERT_TRUE(name, got >= truth) || !ASSERT_TRUE(name, got <= max) ||
			    !ASSERT_TRUE(name, truth < HIST_SUB ? got == truth :
						     got - truth <= truth / HIST_SUB)) {
				printf("  p%.3f of %d: truth %llu, got %llu, max %llu\n", ps[k], n,
				       (unsigned long long)truth, (unsigned long long)got,
				       (unsigned long long)max);
				goto fail;
			}
		}
		if (!ASSERT_EQ(name, gt_hist_percentile(h, 1.0, max), max))
			goto fail;
		free(v);
		continue;
fail:
		free(v);
		return;
	}
	memset(h, 0, sizeof(h));
	if (!ASSERT_EQ(name, gt_hist_percentile(h, 0.5, 0), 0))
		return;
	CHECK_PASS(name);
}

/* log2 folding: each slot holds exactly the values bcc's log2 puts there. */
static void test_log2(void)
{
	const char *name = "log2";
	static uint64_t h[HIST_NB];
	uint64_t slots[HIST_LOG2_SLOTS], want[HIST_LOG2_SLOTS] = { 0 };

	memset(h, 0, sizeof(h));
	for (int i = 0; i < 20000; i++) {
		uint64_t v = i < 10 ? (uint64_t)i : i == 10 ? UINT64_MAX : rand_ns();

		h[hist_bucket(v)]++;
		want[hist_log2_slot(v)]++;
	}
	gt_hist_log2(h, slots);
	for (int s = 0; s < HIST_LOG2_SLOTS; s++)
		if (!ASSERT_EQ(name, slots[s], want[s]))
			return;
	/* bcc's slots: 0 | 1 | 2-3 | 4-7 */
	if (!ASSERT_EQ(name, hist_log2_slot(0), 0) || !ASSERT_EQ(name, hist_log2_slot(1), 1) ||
	    !ASSERT_EQ(name, hist_log2_slot(3), 2) || !ASSERT_EQ(name, hist_log2_slot(4), 3) ||
	    !ASSERT_EQ(name, hist_log2_slot(7), 3) || !ASSERT_EQ(name, hist_log2_slot(1023), 10))
		return;
	CHECK_PASS(name);
}

static void test_delta_and_print(void)
{
	const char *name = "delta-print";
	static uint64_t a[HIST_NB], b[HIST_NB], d[HIST_NB];
	uint64_t slots[HIST_LOG2_SLOTS];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	a[hist_bucket(1500)] = 3;
	b[hist_bucket(1500)] = 10;
	b[hist_bucket(3000)] = 4;
	a[hist_bucket(9)] = 5;		/* went down: counts as 0 */
	gt_hist_delta(d, b, a);
	if (!ASSERT_EQ(name, d[hist_bucket(1500)], 7) || !ASSERT_EQ(name, d[hist_bucket(3000)], 4) ||
	    !ASSERT_EQ(name, d[hist_bucket(9)], 0) || !ASSERT_EQ(name, gt_hist_count(d), 11))
		return;
	gt_hist_add(d, a);
	if (!ASSERT_EQ(name, gt_hist_count(d), 19))
		return;
	gt_hist_log2(b, slots);
	f = open_memstream(&buf, &len);
	if (!f || gt_hist_print_log2(f, slots, 2) || fclose(f))
		return (void)CHECK_FAIL(name, "print failed");
	if (!ASSERT_TRUE(name, strstr(buf, "nsecs") != NULL) ||
	    !ASSERT_TRUE(name, strstr(buf, "1024 -> 2047") != NULL) ||
	    !ASSERT_TRUE(name, strstr(buf, ": 10       |****************************************|") != NULL) ||
	    !ASSERT_TRUE(name, strstr(buf, "2048 -> 4095") != NULL) ||
	    !ASSERT_TRUE(name, strstr(buf, ": 4        |****************") != NULL) ||
	    !ASSERT_TRUE(name, strstr(buf, "512 ->") == NULL)) {
		printf("%s", buf);
		free(buf);
		return;
	}
	free(buf);
	CHECK_PASS(name);
}

static void test_fmt(void)
{
	const char *name = "fmt-ns";
	char b[32];

	if (!ASSERT_STREQ(name, gt_fmt_ns(850, b, sizeof(b)), "850ns") ||
	    !ASSERT_STREQ(name, gt_fmt_ns(1234, b, sizeof(b)), "1.2us") ||
	    !ASSERT_STREQ(name, gt_fmt_ns(2500000, b, sizeof(b)), "2.50ms") ||
	    !ASSERT_STREQ(name, gt_fmt_ns(3000000000ULL, b, sizeof(b)), "3.000s"))
		return;
	CHECK_PASS(name);
}

int main(void)
{
	srand(12345);
	test_msb();
	test_bounds();
	test_percentiles();
	test_log2();
	test_delta_and_print();
	test_fmt();
	return check_failures ? 1 : 0;
}
