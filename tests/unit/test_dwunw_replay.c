// SPDX-License-Identifier: MIT
/*
 * Replay the recorded corpus (tests/replay/corpus/NAME.snap, written by
 * tests/replay/record.py): every snapshot is unwound without the process
 * and must give the frames recorded from an independent truth (gdb's
 * backtrace PCs for C, runtime.Callers for Go) and the recorded stop
 * reason.  `note file MAPS_PATH LOCAL BUILD_ID` lines say where each
 * mapped file is now; a snapshot whose file is missing or was rebuilt
 * differently is skipped with the reason (re-record it).
 *
 * Expect lines: "0x..." compares the physical frame's PC; anything else
 * the logical function names (inlined frames expanded, Go wrappers
 * elided), innermost first, as runtime.Callers prints them.
 */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dwunw.h"

#define CORPUS "tests/replay/corpus"
#define MAX_FRAMES 128

struct file_note {
	char orig[512], local[1024], id[256];
};

static int parse_notes(const struct dwunw_snapshot *s, struct file_note *fn, int max, char *stop,
		       size_t stoplen)
{
	int n = 0;

	*stop = 0;
	for (int i = 0; i < s->nnotes; i++) {
		char a[512], b[512], c[256];

		if (sscanf(s->notes[i], "stop %63s", c) == 1)
			snprintf(stop, stoplen, "%s", c);
		if (n < max && sscanf(s->notes[i], "file %511s %511s %255s", a, b, c) == 3) {
			snprintf(fn[n].orig, sizeof(fn[n].orig), "%s", a);
			if (!strncmp(b, "corpus:", 7))
				snprintf(fn[n].local, sizeof(fn[n].local), CORPUS "/%s", b + 7);
			else if (!strncmp(b, "root:", 5))
				snprintf(fn[n].local, sizeof(fn[n].local), "%s", b + 5);
			else
				snprintf(fn[n].local, sizeof(fn[n].local), "%s", b);
			snprintf(fn[n].id, sizeof(fn[n].id), "%s", c);
			n++;
		}
	}
	return n;
}

/* The maps text with every noted path replaced by its local copy. */
static char *rewrite_maps(const char *maps, const struct file_note *fn, int nfn)
{
	size_t cap = strlen(maps) * 2 + 4096, used = 0;
	char *out = malloc(cap);
	const char *p = maps;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[2048];
		const char *path;

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		path = strchr(line, '/');
		for (int i = 0; path && i < nfn; i++) {
			if (!strcmp(path, fn[i].orig)) {
				char *abs = realpath(fn[i].local, NULL);
				line[path - line] = 0;
				used += (size_t)snprintf(out + used, cap - used, "%s%s\n", line, abs ? abs : fn[i].local);
				free(abs);
				goto next;
			}
		}
		used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
next:
		if (used + 2048 > cap)
			out = realloc(out, cap *= 2);
		p = nl ? nl + 1 : p + len;
	}
	out[used] = 0;
	return out;
}

static void replay_one(struct dwunw_modules *mods, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char name[512], stop_want[256], why[1536] = "";
	struct dwunw_snapshot *s = NULL;
	struct dwunw_map *map = NULL;
	struct file_note fn[8];
	struct dwunw_frame fr[MAX_FRAMES];
	enum dwunw_stop stop;
	char *maps = NULL;
	int nfn, n;

	snprintf(name, sizeof(name), "replay %s", base);
	if (!ASSERT_EQ(name, dwunw_snapshot_read(path, &s), 0))
		return;
	nfn = parse_notes(s, fn, 8, stop_want, sizeof(stop_want));
	for (int i = 0; i < nfn; i++) {
		struct dwunw_module *mod;
		char id[256];

		if (dwunw_modules_get(mods, fn[i].local, &mod)) {
			snprintf(why, sizeof(why), "'%s' is missing (make testprogs?)", fn[i].local);
			CHECK_MISSING(name, why);
			goto cleanup;
		}
		if (dwunw_module_build_id(mod, id, sizeof(id)) || strcmp(id, fn[i].id)) {
			snprintf(why, sizeof(why), "'%s' differs from the recorded build (re-record with tests/replay/record.py)",
				 fn[i].local);
			CHECK_MISSING(name, why);
			goto cleanup;
		}
	}
	maps = rewrite_maps(s->maps, fn, nfn);
	if (!ASSERT_EQ(name, dwunw_map_parse(mods, maps, strlen(maps), NULL, &map), 0))
		goto cleanup;
	n = dwunw_unwind(map, &s->regs, s->stack, s->stack_len, DWUNW_M_ALL, fr, MAX_FRAMES, &stop);
	if (!ASSERT_TRUE(name, n > 0))
		goto cleanup;
	if (*stop_want && !ASSERT_STREQ(name, dwunw_stop_name(stop), stop_want))
		goto cleanup;

	/* Expected entries against ours: PCs per physical frame, names per
	 * logical frame. */
	bool by_pc = s->nexpect > 1 && !strncmp(s->expect[1], "0x", 2);
	int callee = 0;
	int e = 0;
	for (int k = 0; k < n; k++) {
		struct dwunw_sym sym[16];
		int ns = dwunw_symbolize(&fr[k], sym, 16);

		if (ns > 16)
			ns = 16;
		if (by_pc) {
			if (e == s->nexpect) {
				CHECK_FAIL(name, "frame %d: more frames than expected", k);
				goto cleanup;
			}
			const char *x = s->expect[e++];
			bool ok;
			if (!strcmp(x, "<signal handler called>"))
				ok = fr[k].flags & DWUNW_F_SIGNAL;
			else if (strncmp(x, "0x", 2))
				ok = ns >= 1 && !strcmp(sym[ns - 1].func, x);
			else
				ok = strtoull(x, NULL, 16) == fr[k].pc;
			if (!ok) {
				CHECK_FAIL(name, "frame %d: pc 0x%llx, expected %s", k, (unsigned long long)fr[k].pc, x);
				goto cleanup;
			}
			continue;
		}
		for (int j = 0; j < ns; j++) {
			bool elide = dwunw_sym_elided(&sym[j], callee);

			callee = sym[j].special;
			if (elide)
				continue;
			if (e == s->nexpect || strcmp(sym[j].func, s->expect[e])) {
				CHECK_FAIL(name, "frame %d: %s, expected %s", e, sym[j].func,
					   e < s->nexpect ? s->expect[e] : "(the end)");
				goto cleanup;
			}
			e++;
		}
	}
	if (!ASSERT_EQ(name, e, s->nexpect))
		goto cleanup;
	CHECK_PASS(name);
cleanup:
	free(maps);
	dwunw_map_free(map);
	dwunw_snapshot_free(s);
}

int main(void)
{
	struct dwunw_modules *mods = NULL;
	glob_t g;

	if (glob(CORPUS "/*.snap", 0, NULL, &g)) {
		CHECK_FAIL("replay", "no snapshots under " CORPUS " (run from the checkout root)");
		return 1;
	}
	if (dwunw_modules_new(&mods))
		return 1;
	for (size_t i = 0; i < g.gl_pathc; i++)
		replay_one(mods, g.gl_pathv[i]);
	globfree(&g);
	dwunw_modules_free(mods);
	return check_failures ? 1 : 0;
}
