// SPDX-License-Identifier: MIT
/* funcgraph probe placement (see funcgraph_probes.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "funcgraph.h"
#include "funcgraph/probes.h"
#include "gotrace.h"
#include "probes/retsites.h"

static int push(struct fg_probes *p, uint64_t off, uint64_t cookie)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		uint64_t *o = realloc(p->offsets, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		p->offsets = o;
		o = realloc(p->cookies, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		p->cookies = o;
		p->cap = cap;
	}
	p->offsets[p->n] = off;
	p->cookies[p->n] = cookie;
	p->n++;
	return 0;
}

static int add_func(struct fg_probes *p, const struct gosym_func *f)
{
	if ((p->nfuncs & (p->nfuncs - 1)) == 0) {
		struct fg_func *n = realloc(p->funcs, (p->nfuncs ? p->nfuncs * 2 : 64) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->funcs = n;
	}
	p->funcs[p->nfuncs] = (struct fg_func){ f->name, f->entry, f->end, f->flag, 0 };
	return (int)p->nfuncs++;
}

/*
 * Instructions the kernel's x86 uprobe decoder refuses to probe
 * (arch/x86/kernel/uprobes.c): LOCK and CS/DS/ES/SS segment prefixes,
 * EVEX-encoded (0x62) instructions, int3/int n (runtime.abort, the
 * go:textfipsstart markers), hlt, ud2, and opcodes invalid in 64-bit mode.
 * A function whose entry is one of them is skipped up front; anything else
 * the kernel refuses is found by bisection when attaching.
 */
static bool x86_unprobeable(const uint8_t *c, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 15; i++) {
		switch (c[i]) {
		case 0xf0: case 0x26: case 0x2e: case 0x36: case 0x3e:
			return true;
		case 0x66: case 0x67: case 0xf2: case 0xf3: case 0x64: case 0x65:
			continue;	/* harmless legacy prefixes */
		}
		if ((c[i] & 0xf0) == 0x40)
			continue;	/* REX */
		break;
	}
	if (i >= len)
		return true;
	switch (c[i]) {
	case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e: case 0x1f:
	case 0x27: case 0x2f: case 0x37: case 0x3f: case 0x60: case 0x61: case 0x62:
	case 0x9a: case 0xcc: case 0xcd: case 0xce: case 0xd4: case 0xd5: case 0xd6:
	case 0xea: case 0xf4:
		return true;
	case 0x0f:
		return i + 1 < len && c[i + 1] == 0x0b;	/* ud2 */
	}
	return false;
}

/* Cookie flags for a function: where to find g, and whether it may run on
 * the scheduler stack. */
static uint64_t func_flags(const struct gosym_func *f)
{
	uint64_t fl = 0;

	if (f->flag & GOSYM_FLAG_ASM)
		fl |= FG_COOKIE_TLS;
	if (!strncmp(f->name, "runtime.", 8) || !strncmp(f->name, "runtime/", 8))
		fl |= FG_COOKIE_G0;
	return fl;
}

int fg_probes_build(struct gosym *gs, char *const *inc, int ninc, char *const *exc, int nexc,
		    struct fg_probes *p)
{
	const struct gosym_info *info = gosym_info(gs);
	enum retsites_arch arch;
	struct retsites *rs = NULL;
	uint64_t *rets = NULL;
	size_t maxrets = 256;
	int err;

	err = retsites_arch_from_goarch(info->arch, &arch);
	if (err)
		return err;
	err = retsites_new(arch, &rs);
	if (err)
		return err;
	rets = malloc(maxrets * sizeof(*rets));
	p->pattern_hits = calloc(ninc ? ninc : 1, sizeof(size_t));
	if (!rets || !p->pattern_hits) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < info->nfuncs; i++) {
		struct gosym_func f;
		const void *code;
		uint64_t off, bad = 0, fl;
		bool hit = false;
		int n, idx;

		if (gosym_func_at(gs, i, &f))
			continue;
		for (int k = 0; k < ninc; k++) {
			if (gosym_glob_match(inc[k], f.name)) {
				p->pattern_hits[k]++;
				hit = true;
			}
		}
		if (!hit)
			continue;
		for (int k = 0; k < nexc && hit; k++)
			if (gosym_glob_match(exc[k], f.name))
				hit = false;
		if (!hit || f.end <= f.entry)
			continue;
		p->matched++;
		code = gosym_bytes(gs, f.entry, f.end - f.entry);
		if (!code || gosym_vaddr_to_offset(gs, f.entry, &off)) {
			gt_warn("skipping %s: its code is not in the file", f.name);
			p->skipped++;
			continue;
		}
		n = retsites_find(rs, code, f.end - f.entry, f.entry, rets, maxrets, &bad);
		if (n > (int)maxrets) {
			uint64_t *r = realloc(rets, n * sizeof(*r));

			if (!r) {
				err = -ENOMEM;
				goto cleanup;
			}
			rets = r;
			maxrets = n;
			n = retsites_find(rs, code, f.end - f.entry, f.entry, rets, maxrets, &bad);
		}
		if (n < 0) {
			/* never guess where instructions start: skip it */
			if (p->skipped < 5)
				gt_warn("skipping %s: cannot decode the instruction at 0x%llx (+0x%llx)",
					f.name, (unsigned long long)bad,
					(unsigned long long)(bad - f.entry));
			p->skipped++;
			continue;
		}
		if (arch == RETSITES_X86_64 && x86_unprobeable(code, f.end - f.entry)) {
			if (p->skipped < 5)
				gt_warn("skipping %s: the kernel can't probe its first instruction",
					f.name);
			p->skipped++;
			continue;
		}
		idx = add_func(p, &f);
		if (idx < 0) {
			err = idx;
			goto cleanup;
		}
		fl = func_flags(&f);
		err = push(p, off, FG_COOKIE(idx, FG_KIND_ENTRY, fl));
		for (int r = 0; r < n && !err; r++) {
			uint64_t roff;

			if (gosym_vaddr_to_offset(gs, rets[r], &roff)) {
				err = -EPROTO;
				break;
			}
			err = push(p, roff, FG_COOKIE(idx, FG_KIND_RET, fl));
		}
		if (err)
			goto cleanup;
		p->funcs[idx].nrets = n;
	}
	if (p->skipped > 5)
		gt_warn("skipping %zu more functions that cannot be decoded", p->skipped - 5);
	for (int k = 0; k < ninc; k++)
		if (!p->pattern_hits[k])
			err = -ENOENT;
cleanup:
	free(rets);
	retsites_free(rs);
	return err;
}

int fg_probes_add_special(struct gosym *gs, struct fg_probes *p, const char *name,
			  uint32_t kind, uint64_t flags)
{
	struct gosym_func f;
	uint64_t off;

	/* a probe of these kinds in the wrong function would close frames
	 * at random: insist on the exact name */
	if (gosym_lookup_name(gs, name, &f) || strcmp(f.name, name) ||
	    gosym_vaddr_to_offset(gs, f.entry, &off))
		return -ENOENT;
	/* function index 0xffffffff: not a traced function */
	return push(p, off, FG_COOKIE(0xffffffffu, kind, flags));
}

size_t fg_probes_drop(struct fg_probes *p, const bool *bad)
{
	bool *drop = calloc(p->nfuncs + 1, sizeof(*drop));
	size_t w = 0, ndrop = 0;

	if (!drop)
		return 0;
	for (size_t i = 0; i < p->n; i++) {
		uint32_t fi = (uint32_t)p->cookies[i];

		if (bad[i] && fi < p->nfuncs && !drop[fi]) {
			drop[fi] = true;
			if (ndrop < 5)
				gt_warn("skipping %s: the kernel refused a probe at file offset 0x%llx",
					p->funcs[fi].name, (unsigned long long)p->offsets[i]);
			ndrop++;
		}
	}
	if (ndrop > 5)
		gt_warn("skipping %zu more functions the kernel refused to probe", ndrop - 5);
	for (size_t i = 0; i < p->n; i++) {
		uint32_t fi = (uint32_t)p->cookies[i];

		if (bad[i] || (fi < p->nfuncs && drop[fi]))
			continue;
		p->offsets[w] = p->offsets[i];
		p->cookies[w] = p->cookies[i];
		w++;
	}
	p->n = w;
	p->skipped += ndrop;
	free(drop);
	return ndrop;
}

void fg_probes_release(struct fg_probes *p)
{
	free(p->funcs);
	free(p->offsets);
	free(p->cookies);
	free(p->pattern_hits);
	memset(p, 0, sizeof(*p));
}

/* --- suggestions -------------------------------------------------------- */

static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[256], prev, tmp;

	if (lb > 255)
		lb = 255;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

struct cand {
	const char *name;
	int score;
};

void fg_suggest(struct gosym *gs, const char *pattern, int max)
{
	const struct gosym_info *info = gosym_info(gs);
	char lit[256], low[256];
	struct cand best[16];
	int nbest = 0;
	size_t j = 0, nsub = 0;

	if (max > 16)
		max = 16;
	/* the pattern without glob characters */
	for (const char *s = pattern; *s && j < sizeof(lit) - 1; s++)
		if (!strchr("*?[]", *s))
			lit[j++] = *s;
	lit[j] = 0;
	for (size_t i = 0; i < info->nfuncs; i++) {
		struct gosym_func f;
		int score;

		if (gosym_func_at(gs, i, &f))
			continue;
		/* names containing the literal part first (shortest first),
		 * then the closest by edit distance */
		if (j >= 3 && strcasestr(f.name, lit)) {
			score = (int)(strlen(f.name) - j);
			nsub++;
		} else if (strlen(f.name) < 255) {
			score = 100000 + edit_distance(lit, f.name);
		} else {
			continue;
		}
		if (nbest < max || score < best[nbest - 1].score) {
			int k = nbest < max ? nbest++ : nbest - 1;

			while (k > 0 && best[k - 1].score > score) {
				best[k] = best[k - 1];
				k--;
			}
			best[k] = (struct cand){ f.name, score };
		}
	}
	(void)low;
	if (!nbest)
		return;
	if (nsub && strcmp(lit, pattern) == 0)
		fprintf(stderr, "gotrace: %zu functions contain '%s': did you mean '*%s*'?\n", nsub,
			lit, lit);
	fprintf(stderr, "gotrace: close names:\n");
	for (int k = 0; k < nbest; k++)
		fprintf(stderr, "    %s\n", best[k].name);
}

/* --- heaviest packages -------------------------------------------------- */

static size_t pkg_len(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strchr(slash ? slash : name, '.');

	/* generic instantiations: "pkg.F[...]" still ends the package at '.' */
	return dot ? (size_t)(dot - name) : strlen(name);
}

struct pkgcount {
	const char *name;
	size_t len;
	size_t probes, funcs;
};

static int cmp_pkg(const void *a, const void *b)
{
	const struct pkgcount *x = a, *y = b;

	return x->probes > y->probes ? -1 : x->probes < y->probes;
}

void fg_heaviest_packages(const struct fg_probes *p, int max)
{
	struct pkgcount *pk = calloc(p->nfuncs + 1, sizeof(*pk));
	size_t npk = 0;

	if (!pk)
		return;
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		const char *nm = p->funcs[i].name;
		size_t len = pkg_len(nm), k;

		for (k = 0; k < npk; k++)
			if (pk[k].len == len && !strncmp(pk[k].name, nm, len))
				break;
		if (k == npk)
			pk[npk++] = (struct pkgcount){ nm, len, 0, 0 };
		pk[k].probes += 1 + p->funcs[i].nrets;
		pk[k].funcs++;
	}
	qsort(pk, npk, sizeof(*pk), cmp_pkg);
	for (size_t k = 0; k < npk && (int)k < max; k++)
		fprintf(stderr, "    %8zu probes  %6zu functions  %.*s\n", pk[k].probes, pk[k].funcs,
			(int)pk[k].len, pk[k].name);
	free(pk);
}
