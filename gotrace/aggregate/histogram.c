// SPDX-License-Identifier: MIT
/* Latency histograms, the user-space side (see aggregate/histogram.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "aggregate/histogram.h"

uint64_t gt_hist_lo(uint32_t b)
{
	uint32_t k, sub;

	if (b < HIST_SUB)
		return b;
	if (b >= HIST_OVERFLOW)
		return 1ULL << HIST_MAX_BITS;
	/* b = (k - SUB_BITS + 1) * SUB + sub, value = (SUB + sub) << (k - SUB_BITS) */
	k = b / HIST_SUB + HIST_SUB_BITS - 1;
	sub = b % HIST_SUB;
	return (uint64_t)(HIST_SUB + sub) << (k - HIST_SUB_BITS);
}

uint64_t gt_hist_hi(uint32_t b)
{
	if (b >= HIST_OVERFLOW)
		return UINT64_MAX;
	return gt_hist_lo(b + 1) - 1;
}

uint64_t gt_hist_count(const uint64_t *h)
{
	uint64_t n = 0;

	for (uint32_t b = 0; b < HIST_NB; b++)
		n += h[b];
	return n;
}

uint64_t gt_hist_percentile(const uint64_t *h, double p, uint64_t max)
{
	uint64_t n = gt_hist_count(h), rank, seen = 0;

	if (!n)
		return 0;
	if (p <= 0)
		p = 0;
	if (p > 1)
		p = 1;
	/* the rank of the p-th value, 1-based: ceil(p * n), at least 1 */
	rank = (uint64_t)(p * (double)n);
	if ((double)rank < p * (double)n)
		rank++;
	if (!rank)
		rank = 1;
	for (uint32_t b = 0; b < HIST_NB; b++) {
		seen += h[b];
		if (seen >= rank) {
			uint64_t hi = gt_hist_hi(b);

			return max && hi > max ? max : hi;
		}
	}
	return max;
}

uint64_t gt_hist_sum_lo(const uint64_t *h)
{
	uint64_t s = 0;

	for (uint32_t b = 0; b < HIST_NB; b++)
		s += h[b] * gt_hist_lo(b);
	return s;
}

void gt_hist_log2(const uint64_t *h, uint64_t *slots)
{
	memset(slots, 0, HIST_LOG2_SLOTS * sizeof(*slots));
	for (uint32_t b = 0; b < HIST_NB; b++)
		if (h[b])
			slots[hist_log2_slot(gt_hist_lo(b))] += h[b];
}

void gt_hist_delta(uint64_t *dst, const uint64_t *cur, const uint64_t *prev)
{
	for (uint32_t b = 0; b < HIST_NB; b++)
		dst[b] = cur[b] >= prev[b] ? cur[b] - prev[b] : 0;
}

void gt_hist_add(uint64_t *dst, const uint64_t *src)
{
	for (uint32_t b = 0; b < HIST_NB; b++)
		dst[b] += src[b];
}

#define BAR_WIDTH 40

static void bar(char *out, uint64_t v, uint64_t max)
{
	int n = max ? (int)((v * BAR_WIDTH + max - 1) / max) : 0;

	if (n > BAR_WIDTH)
		n = BAR_WIDTH;
	memset(out, '*', n);
	memset(out + n, ' ', BAR_WIDTH - n);
	out[BAR_WIDTH] = 0;
}

int gt_hist_print_log2(FILE *f, const uint64_t *slots, int indent)
{
	int first = -1, last = -1;
	uint64_t max = 0;
	char stars[BAR_WIDTH + 1];

	for (int s = 0; s < HIST_LOG2_SLOTS; s++) {
		if (!slots[s])
			continue;
		if (first < 0)
			first = s;
		last = s;
		if (slots[s] > max)
			max = slots[s];
	}
	if (first < 0)
		return 0;
	fprintf(f, "%*s%20s%-8s : count     distribution\n", indent, "", "nsecs", "");
	for (int s = first; s <= last; s++) {
		uint64_t lo = s ? 1ULL << (s - 1) : 0, hi = s ? (1ULL << s) - 1 : 0;
		char range[48];

		if (s == HIST_LOG2_SLOTS - 1)
			snprintf(range, sizeof(range), "%" PRIu64 " -> ...", lo);
		else
			snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64, lo, hi);
		bar(stars, slots[s], max);
		fprintf(f, "%*s%28s : %-8" PRIu64 " |%s|\n", indent, "", range, slots[s], stars);
	}
	return ferror(f) ? -EIO : 0;
}

const char *gt_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.3fs", ns / 1e9);
	return buf;
}
