// SPDX-License-Identifier: MIT
/* Probes on Go functions (see probes/funcs.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include <bpf/libbpf.h>

#include "func_probe.h"
#include "gotrace.h"
#include "probes/funcs.h"
#include "probes/retsites.h"
#include "probes/sites.h"
#include "probes/uprobe_multi.h"
#include "tracing/signals.h"

static int push(struct func_probes *p, uint64_t off, uint64_t cookie, enum probe_class cls)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		uint64_t *o = realloc(p->offsets, cap * sizeof(*o));
		uint8_t *c;

		if (!o)
			return -ENOMEM;
		p->offsets = o;
		o = realloc(p->cookies, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		p->cookies = o;
		c = realloc(p->classes, cap);
		if (!c)
			return -ENOMEM;
		p->classes = c;
		p->cap = cap;
	}
	p->offsets[p->n] = off;
	p->cookies[p->n] = cookie;
	p->classes[p->n] = (uint8_t)cls;
	p->n++;
	return 0;
}

static int add_func(struct func_probes *p, const struct gosym_func *f)
{
	if ((p->nfuncs & (p->nfuncs - 1)) == 0) {
		struct probed_func *n = realloc(p->funcs, (p->nfuncs ? p->nfuncs * 2 : 64) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->funcs = n;
	}
	p->funcs[p->nfuncs] = (struct probed_func){ f->name, f->entry, f->end, f->entry, f->flag, 0 };
	return (int)p->nfuncs++;
}

/* Cookie flags for a function: where to find g, and whether it may run on
 * the scheduler stack. */
static uint64_t func_flags(const struct gosym_func *f)
{
	uint64_t fl = 0;

	if (f->flag & GOSYM_FLAG_ASM)
		fl |= FP_COOKIE_TLS;
	if (!strncmp(f->name, "runtime.", 8) || !strncmp(f->name, "runtime/", 8))
		fl |= FP_COOKIE_G0;
	return fl;
}

/* Decoding state shared by the functions of one func_probes_build(). */
struct placer {
	struct gosym *gs;
	struct retsites *rs;
	uint64_t *rets;
	size_t maxrets;
	/* benchmark knobs (GOTRACE_BENCH_SITES, scripts/bench_funcgraph.sh):
	 * entry probes at the first instruction as before probes/sites.h,
	 * or no RET probes (the entry probe's cost alone) */
	bool at_start, no_rets;
};

/* Count a skipped function; warn about the first few only. */
static void skip(struct func_probes *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct func_probes *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->skipped++ >= 5)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gt_warn("%s", msg);
}

/* The RET sites of f into pl->rets (growing it); their number, or a
 * negative errno (-EILSEQ: f does not decode; *bad says where). */
static int find_rets(struct placer *pl, const struct gosym_func *f, const uint8_t *code,
		     uint64_t *bad)
{
	size_t len = f->end - f->entry;
	int n = retsites_find(pl->rs, code, len, f->entry, pl->rets, pl->maxrets, bad);

	if (n > (int)pl->maxrets) {
		uint64_t *r = realloc(pl->rets, n * sizeof(*r));

		if (!r)
			return -ENOMEM;
		pl->rets = r;
		pl->maxrets = n;
		n = retsites_find(pl->rs, code, len, f->entry, pl->rets, pl->maxrets, bad);
	}
	return n;
}

/* Probes for one selected function: its entry site and every RET.  A
 * function that cannot be probed safely is skipped with a warning (0). */
static int place_func(struct placer *pl, struct func_probes *p, const struct gosym_func *f)
{
	size_t len = f->end - f->entry;
	const uint8_t *code = gosym_bytes(pl->gs, f->entry, len);
	struct entry_site site;
	uint64_t off, bad = 0, fl;
	int n, idx, err;

	if (!code || gosym_vaddr_to_offset(pl->gs, f->entry, &off)) {
		skip(p, "skipping %s: its code is not in the file", f->name);
		return 0;
	}
	n = find_rets(pl, f, code, &bad);
	if (n == -ENOMEM)
		return n;
	if (n < 0 || sites_entry(p->sites, code, len, f->entry,
				 pl->at_start ? f->entry : retsites_min_target(pl->rs), p->site_flags,
				 &site)) {
		/* never guess where instructions start: skip it */
		skip(p, "skipping %s: cannot decode the instruction at 0x%llx (+0x%llx)", f->name,
		     (unsigned long long)bad, (unsigned long long)(bad - f->entry));
		return 0;
	}
	if (site.cls == PROBE_REFUSED || gosym_vaddr_to_offset(pl->gs, site.addr, &off)) {
		skip(p, "skipping %s: the kernel can't probe its entry (0x%llx)", f->name,
		     (unsigned long long)site.addr);
		return 0;
	}
	for (int r = 0; r < n; r++) {
		if (sites_class(p->sites, code + (pl->rets[r] - f->entry),
				len - (pl->rets[r] - f->entry)) == PROBE_REFUSED) {
			skip(p, "skipping %s: the kernel can't probe its return at 0x%llx", f->name,
			     (unsigned long long)pl->rets[r]);
			return 0;
		}
	}
	if (!n && p->need_ret) {
		p->noret++;	/* the command says how many */
		return 0;
	}
	if (pl->no_rets || p->entries_only)
		n = 0;
	idx = add_func(p, f);
	if (idx < 0)
		return idx;
	p->funcs[idx].site = site.addr;
	p->funcs[idx].nrets = n;
	fl = func_flags(f);
	err = push(p, off, FP_COOKIE(idx, FP_KIND_ENTRY, fl), site.cls);
	for (int r = 0; r < n && !err; r++) {
		uint64_t roff, at = pl->rets[r] - f->entry;

		if (gosym_vaddr_to_offset(pl->gs, pl->rets[r], &roff))
			return -EPROTO;
		err = push(p, roff, FP_COOKIE(idx, FP_KIND_RET, fl),
			   sites_class(p->sites, code + at, len - at));
	}
	return err;
}

/* Whether f is selected: matches an include pattern (counted per
 * pattern) and no exclude pattern. */
static bool selected(struct func_probes *p, const struct gosym_func *f, char *const *inc, int ninc,
		     char *const *exc, int nexc)
{
	bool hit = false;

	for (int k = 0; k < ninc; k++) {
		if (gosym_glob_match(inc[k], f->name)) {
			p->pattern_hits[k]++;
			hit = true;
		}
	}
	for (int k = 0; k < nexc && hit; k++) {
		if (gosym_glob_match(exc[k], f->name)) {
			p->excluded++;
			hit = false;
		}
	}
	return hit;
}

static int ensure_sites(struct gosym *gs, struct func_probes *p, enum retsites_arch *arch)
{
	int err = retsites_arch_from_goarch(gosym_info(gs)->arch, arch);

	if (!err && !p->sites)
		err = sites_new(*arch, 0, &p->sites);
	return err;
}

int func_probes_build(struct gosym *gs, char *const *inc, int ninc, char *const *exc, int nexc,
		    struct func_probes *p)
{
	const struct gosym_info *info = gosym_info(gs);
	struct placer pl = { .gs = gs, .maxrets = 256 };
	const char *knob = getenv("GOTRACE_BENCH_SITES");
	enum retsites_arch arch;
	int err;

	pl.at_start = knob && !strcmp(knob, "start");
	pl.no_rets = knob && !strcmp(knob, "entry-only");
	err = ensure_sites(gs, p, &arch);
	if (!err)
		err = retsites_new(arch, &pl.rs);
	if (err)
		return err;
	pl.rets = malloc(pl.maxrets * sizeof(*pl.rets));
	p->pattern_hits = calloc(ninc ? ninc : 1, sizeof(size_t));
	if (!pl.rets || !p->pattern_hits) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < info->nfuncs && !err; i++) {
		struct gosym_func f;

		/* decoding every function of a big binary takes seconds: a stop
		 * signal now means nothing gets attached */
		if (gt_stop_requested()) {
			err = -EINTR;
			break;
		}

		if (gosym_func_at(gs, i, &f) || !selected(p, &f, inc, ninc, exc, nexc) ||
		    f.end <= f.entry)
			continue;
		p->matched++;
		err = place_func(&pl, p, &f);
	}
	if (err)
		goto cleanup;
	if (p->skipped > 5)
		gt_warn("skipping %zu more functions that cannot be probed", p->skipped - 5);
	for (int k = 0; k < ninc; k++)
		if (!p->pattern_hits[k])
			err = -ENOENT;
cleanup:
	free(pl.rets);
	retsites_free(pl.rs);
	return err;
}

int func_probes_add_special(struct gosym *gs, struct func_probes *p, const char *name,
			  uint32_t kind, uint64_t flags)
{
	enum retsites_arch arch;
	struct entry_site site;
	struct gosym_func f;
	uint64_t off;
	int err;

	/* a probe of these kinds in the wrong function would close frames
	 * at random: insist on the exact name */
	if (gosym_lookup_name(gs, name, &f) || strcmp(f.name, name))
		return -ENOENT;
	err = ensure_sites(gs, p, &arch);
	if (!err)
		err = sites_func_entry(p->sites, gs, &f, 0, &site, &off);
	if (err == -ENOMEM || err == -EOPNOTSUPP)
		return err;
	if (err || site.cls == PROBE_REFUSED)
		return -ENOENT;
	/* function index 0xffffffff: not a traced function */
	return push(p, off, FP_COOKIE(FP_NO_FUNC, kind, flags), site.cls);
}

size_t func_probes_drop(struct func_probes *p, const bool *bad)
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
		p->classes[w] = p->classes[i];
		w++;
	}
	p->n = w;
	p->skipped += ndrop;
	free(drop);
	return ndrop;
}

void func_probes_release(struct func_probes *p)
{
	free(p->funcs);
	free(p->offsets);
	free(p->cookies);
	free(p->classes);
	free(p->pattern_hits);
	sites_free(p->sites);
	memset(p, 0, sizeof(*p));
}

size_t func_probes_count(const struct func_probes *p, enum probe_class c, bool entries_only)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->classes[i] == c &&
		    (!entries_only ||
		     FP_COOKIE_KIND(p->cookies[i]) == FP_KIND_ENTRY))
			n++;
	return n;
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

void func_probes_suggest(struct gosym *gs, const char *pattern, int max)
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

void func_probes_heaviest(const struct func_probes *p, int max)
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

/* --- a command's selection, with its messages ----------------------------- */

int func_probes_select(struct gosym *gs, const char *exe, const char *goversion,
		       const struct func_select *sel, struct func_probes *p)
{
	int err;

	gt_progress("decoding functions of %s (%s)", exe, goversion);
	err = func_probes_build(gs, sel->patterns, sel->npatterns, sel->exclude, sel->nexclude, p);
	if (err == -ENOENT && p->pattern_hits) {
		for (int k = 0; k < sel->npatterns; k++) {
			if (p->pattern_hits[k])
				continue;
			gt_error("%s: pattern '%s' matches no function in '%s'", sel->cmd,
				 sel->patterns[k], exe);
			func_probes_suggest(gs, sel->patterns[k], 5);
		}
		return 1;
	}
	if (err == -EINTR)
		return 1;	/* a stop signal: the caller's session says so */
	if (err)
		return gt_error("%s: cannot place probes: %s", sel->cmd, strerror(-err));
	if (!p->nfuncs)
		return gt_error("%s: no traceable function left (%zu matched, %zu excluded by -x, "
				"%zu that cannot be probed%s)", sel->cmd, p->matched + p->excluded,
				p->excluded, p->skipped,
				p->noret ? ", some without a RET instruction" : "");
	if (p->entries_only)
		gt_progress("%u functions, %zu entry probes%s", p->nfuncs, p->n,
			    p->skipped ? "; some skipped, see warnings" : "");
	else
		gt_progress("%u functions, %zu probes (%u entries, %zu RET sites)%s", p->nfuncs, p->n,
			    p->nfuncs, p->n - p->nfuncs,
			    p->skipped ? "; some skipped, see warnings" : "");
	if ((long)p->n > sel->max_probes && !sel->yes) {
		gt_error("%s: %zu probes is more than --max-probes %ld; narrow the patterns (-x "
			 "excludes) or pass --yes.  Heaviest packages:", sel->cmd, p->n,
			 sel->max_probes);
		func_probes_heaviest(p, 5);
		return 1;
	}
	return 0;
}

/* --- attaching ----------------------------------------------------------- */

/* Every 1000 probes a progress line; a stop signal ends the attach. */
static int attach_progress(size_t done, size_t total, void *arg)
{
	(void)arg;
	if (done == 1)
		gt_fault_point("attach");
	if (done % 1000 == 0 || done == total)
		gt_progress("attached %zu/%zu probes", done, total);
	return gt_stop_requested();
}

/* One uprobe_multi link; sites the kernel refuses (one fails the whole
 * link) are found by trial links and their functions left out. */
static int attach_multi(struct func_probes *p, struct uprobes **ups, struct bpf_program *prog,
			struct bpf_program *trial, const char *path, pid_t pid)
{
	bool *bad;
	int err, nbad = -ENOMEM;

	err = uprobes_attach(ups, UPROBES_MULTI, prog, path, p->offsets, p->cookies, p->n, pid,
			     NULL, NULL);
	if (err != -524 && err != -EINVAL)	/* -ENOTSUPP: a refused site */
		return err;
	gt_progress("the kernel refused a probe site; looking for it");
	bad = calloc(p->n, sizeof(*bad));
	if (bad)
		nbad = uprobe_multi_find_refused(bpf_program__fd(trial), path, p->offsets, p->n, pid,
						 bad);
	if (nbad > 0) {
		func_probes_drop(p, bad);
		err = p->n ? uprobes_attach(ups, UPROBES_MULTI, prog, path, p->offsets, p->cookies,
					    p->n, pid, NULL, NULL)
			   : -ENOENT;
	}
	free(bad);
	return err;
}

int func_probes_attach(struct func_probes *p, struct uprobes **ups, bool multi,
		       struct bpf_program *prog, struct bpf_program *trial, const char *path,
		       pid_t pid)
{
	if (multi)
		return attach_multi(p, ups, prog, trial, path, pid);
	if (p->n > 1000)
		gt_progress("attaching %zu probes one by one (no uprobe_multi)", p->n);
	return uprobes_attach(ups, UPROBES_SINGLE, prog, path, p->offsets, p->cookies, p->n, pid,
			      attach_progress, NULL);
}
