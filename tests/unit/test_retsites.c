// SPDX-License-Identifier: MIT
/*
 * Unit tests of the RET-site finder (gotrace/probes/retsites.c).
 *
 *   - hand-assembled x86-64 and arm64 snippets with known return
 *     instructions, and code that ends inside an instruction (-EILSEQ);
 *   - every function of real Go binaries (the Go toolchains' own gofmt,
 *     plus the funcgraph test program when it has been built): the RET
 *     addresses must equal those GNU objdump's independent decoder lists
 *     inside the function's [entry, end) from the pclntab.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gosym.h"
#include "probes/retsites.h"

static void test_snippets(void)
{
	/* push %rbp; mov %rsp,%rbp; ret; nop; ret $8; int3 */
	static const uint8_t x86[] = { 0x55, 0x48, 0x89, 0xe5, 0xc3, 0x90, 0xc2, 0x08, 0x00, 0xcc };
	/* 0xc3 inside an instruction: mov $0xc3c3c3c3,%eax; ret */
	static const uint8_t x86b[] = { 0xb8, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3 };
	/* mov $imm32 cut short */
	static const uint8_t x86bad[] = { 0x90, 0xb8, 0x01, 0x02 };
	/* arm64: mov x0, #0; ret; nop; ret x1 (little endian) */
	static const uint8_t a64[] = { 0x00, 0x00, 0x80, 0xd2, 0xc0, 0x03, 0x5f, 0xd6,
				       0x1f, 0x20, 0x03, 0xd5, 0x20, 0x00, 0x5f, 0xd6 };
	struct retsites *r = NULL;
	uint64_t out[8], bad = 0;
	int n;

	if (!ASSERT_EQ("x86_new", retsites_new(RETSITES_X86_64, &r), 0))
		return;
	n = retsites_find(r, x86, sizeof(x86), 0x1000, out, 8, NULL);
	if (ASSERT_EQ("x86_rets", n, 2) && ASSERT_EQ("x86_rets", out[0], 0x1004) &&
	    ASSERT_EQ("x86_rets", out[1], 0x1006))
		CHECK_PASS("x86_rets");
	n = retsites_find(r, x86b, sizeof(x86b), 0x2000, out, 8, NULL);
	if (ASSERT_EQ("x86_no_ret_inside_insn", n, 1) &&
	    ASSERT_EQ("x86_no_ret_inside_insn", out[0], 0x2005))
		CHECK_PASS("x86_no_ret_inside_insn");
	n = retsites_find(r, x86bad, sizeof(x86bad), 0x3000, out, 8, &bad);
	if (ASSERT_EQ("x86_truncated", n, -EILSEQ) && ASSERT_EQ("x86_truncated", bad, 0x3001))
		CHECK_PASS("x86_truncated");
	n = retsites_find(r, x86, sizeof(x86), 0x1000, out, 1, NULL);
	if (ASSERT_EQ("x86_max", n, 2) && ASSERT_EQ("x86_max", out[0], 0x1004))
		CHECK_PASS("x86_max");
	retsites_free(r);

	if (retsites_new(RETSITES_ARM64, &r)) {
		CHECK_SKIP("arm64_rets", "capstone without arm64");
		return;
	}
	n = retsites_find(r, a64, sizeof(a64), 0x4000, out, 8, NULL);
	if (ASSERT_EQ("arm64_rets", n, 2) && ASSERT_EQ("arm64_rets", out[0], 0x4004) &&
	    ASSERT_EQ("arm64_rets", out[1], 0x400c))
		CHECK_PASS("arm64_rets");
	n = retsites_find(r, a64, 6, 0x4000, out, 8, &bad);
	if (ASSERT_EQ("arm64_truncated", n, -EILSEQ))
		CHECK_PASS("arm64_truncated");
	retsites_free(r);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* RET addresses objdump finds in the whole binary, sorted. */
static uint64_t *objdump_rets(const char *bin, size_t *n)
{
	char cmd[4200], line[512];
	uint64_t *v = NULL;
	size_t cap = 0;
	FILE *p;

	*n = 0;
	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s' 2>/dev/null", bin);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	while (fgets(line, sizeof(line), p)) {
		char *colon = strchr(line, ':'), *m;

		if (!colon || colon[1] != '\t')
			continue;
		m = colon + 2;
		if (strncmp(m, "ret", 3) || (m[3] != '\n' && m[3] != ' ' && m[3] != 'q'))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 4096;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				break;
		}
		v[(*n)++] = strtoull(line, NULL, 16);
	}
	pclose(p);
	if (v)
		qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

static void test_binary(const char *name, const char *bin)
{
	struct gosym *gs = NULL;
	struct retsites *r = NULL;
	uint64_t *want = NULL, got[512];
	size_t nwant, w = 0, nf = 0, nrets = 0, undecoded = 0;
	int bad = 0;

	if (access(bin, R_OK)) {
		CHECK_SKIP(name, "binary not present");
		return;
	}
	if (system("objdump --version >/dev/null 2>&1")) {
		CHECK_SKIP(name, "no objdump");
		return;
	}
	if (!ASSERT_EQ(name, gosym_open(bin, &gs), 0))
		return;
	want = objdump_rets(bin, &nwant);
	if (!ASSERT_TRUE(name, want && nwant > 100) ||
	    !ASSERT_EQ(name, retsites_new(RETSITES_X86_64, &r), 0))
		goto out;
	for (size_t i = 0; i < gosym_info(gs)->nfuncs && bad < 5; i++) {
		struct gosym_func f;
		const void *code;
		size_t k = 0;
		int n;

		if (gosym_func_at(gs, i, &f) || f.end <= f.entry)
			continue;
		code = gosym_bytes(gs, f.entry, f.end - f.entry);
		if (!code)
			continue;
		n = retsites_find(r, code, f.end - f.entry, f.entry, got, 512, NULL);
		if (n < 0) {
			/* Capstone 4 lacks some newer instructions (Go 1.26's
			 * AVX-512 GC kernels): funcgraph skips such functions
			 * with a warning.  Tolerate a few, never in main. */
			undecoded++;
			if (!strncmp(f.name, "main.", 5)) {
				CHECK_FAIL(name, "%s: decode failed", f.name);
				bad++;
			}
			continue;
		}
		nf++;
		nrets += n;
		while (w < nwant && want[w] < f.entry)
			w++;
		for (; w < nwant && want[w] < f.end; w++, k++) {
			if ((int)k >= n || got[k] != want[w]) {
				CHECK_FAIL(name, "%s: objdump has a ret at 0x%llx, we %s", f.name,
					   (unsigned long long)want[w],
					   (int)k >= n ? "have fewer" : "differ");
				bad++;
				break;
			}
		}
		if (!bad && (int)k != n) {
			CHECK_FAIL(name, "%s: %d rets, objdump %zu", f.name, n, k);
			bad++;
		}
	}
	if (!bad && ASSERT_TRUE(name, nf > 1000 && nrets > 100) &&
	    ASSERT_TRUE(name, undecoded * 100 < nf * 3)) {
		if (undecoded)
			printf("# %s: %zu of %zu functions not decodable (skipped by funcgraph)\n",
			       name, undecoded, nf + undecoded);
		CHECK_PASS(name);
	}
out:
	free(want);
	retsites_free(r);
	gosym_free(gs);
}

int main(void)
{
	test_snippets();
	test_binary("gofmt_newest", "/usr/local/go/bin/gofmt");
	test_binary("gofmt_go1.19", "/usr/lib/go-1.19/bin/gofmt");
	test_binary("testprog_pie", "build/testprogs/go1.26.8/pie/funcgraph");
	return check_failures ? 1 : 0;
}
