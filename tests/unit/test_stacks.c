// SPDX-License-Identifier: MIT
/*
 * gotrace/tracing/stacks.c without root or BPF:
 *
 *   - option parsing (--stack-size, --unwind) against their documented
 *     ranges;
 *   - a recorded capture of testprogs/stacks (a PIE build stopped at
 *     main.marker's entry: tests/replay/corpus/go_go1.26.8_pie_*.snap, whose
 *     expected frames are the program's own runtime.Callers) unwound as
 *     --stack does when the traced process is already gone: no maps to
 *     read, so the program's mapping is rebuilt from its file at the bias
 *     the probe gives (probe PC - main.marker's link-time entry).  The
 *     symbolized stack must be the recorded truth, function by function;
 *   - a copy cut short: truncated, and classified as such only when the
 *     copy used the whole --stack-size;
 *   - held stacks (put/take), and the JSON rendering read back by jansson.
 */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gosym.h"
#include "tracing/stacks.h"

#define CORPUS "tests/replay/corpus"

static void test_parse(void)
{
	const char *name = "stacks: option parsing";
	enum gt_unwind u;
	uint32_t v;
	int ok = 1;

	ok &= ASSERT_EQ(name, gt_stack_size_parse("16384", &v), 0) && ASSERT_EQ(name, v, 16384);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("64k", &v), 0) && ASSERT_EQ(name, v, 65536);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("512", &v), 0) && ASSERT_EQ(name, v, 512);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("504", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("65544", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("4097", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("-8", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("1M", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_stack_size_parse("99999999999999999999k", &v), -EINVAL);
	ok &= ASSERT_EQ(name, gt_unwind_parse("pclntab", &u), 0) && ASSERT_EQ(name, u, GT_UNWIND_PCLNTAB);
	ok &= ASSERT_EQ(name, gt_unwind_parse("fp", &u), 0) && ASSERT_EQ(name, u, GT_UNWIND_FP);
	ok &= ASSERT_EQ(name, gt_unwind_parse("DWARF", &u), -EINVAL);
	if (ok)
		CHECK_PASS(name);
}

/* A pid that no process has (a child that has exited and been reaped). */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

/* "note file MAPS_PATH root:LOCAL BUILD_ID" -> LOCAL */
static int local_binary(const struct dwunw_snapshot *s, char *out, size_t len)
{
	for (int i = 0; i < s->nnotes; i++) {
		char a[1024], b[1024];

		if (sscanf(s->notes[i], "file %1023s %1023s", a, b) == 2 && !strncmp(b, "root:", 5)) {
			snprintf(out, len, "%s", b + 5);
			return 0;
		}
	}
	return -ENOENT;
}

/* The capture as the BPF side would send it: header + bytes. */
static struct gt_stack_hdr *capture(const struct dwunw_snapshot *s, size_t len, uint32_t flags)
{
	struct gt_stack_hdr *h = malloc(sizeof(*h) + len);

	if (!h)
		return NULL;
	h->len = (uint32_t)len;
	h->flags = flags;
	h->regs = s->regs;
	memcpy(h + 1, s->stack, len);
	return h;
}

static void test_replay(const char *path)
{
	char name[512], bin[1024];
	struct dwunw_snapshot *s = NULL;
	struct gt_stacks *st = NULL, *st2 = NULL;	/* stk's strings belong to st's modules */
	struct gt_stack_hdr *h = NULL, *h2 = NULL;
	struct gt_stack *stk = NULL, *cut = NULL;
	struct gosym *gs = NULL;
	struct gosym_func fn;
	int ok = 1;

	snprintf(name, sizeof(name), "stacks: process gone, map from the file: %s",
		 strrchr(path, '/') + 1);
	if (!ASSERT_EQ(name, dwunw_snapshot_read(path, &s), 0))
		return;
	if (local_binary(s, bin, sizeof(bin)) || access(bin, R_OK)) {
		CHECK_MISSING(name, "the recorded binary is missing (make testprogs)");
		goto out;
	}
	if (gosym_open(bin, &gs) || gosym_lookup_name(gs, "main.marker", &fn)) {
		CHECK_MISSING(name, "no main.marker in the recorded binary");
		goto out;
	}
	if (s->regs.pc - fn.entry == 0 || (s->regs.pc - fn.entry) % 4096) {
		/* a rebuilt binary with another layout: not this recording's */
		CHECK_MISSING(name, "the binary differs from the recording (re-record)");
		goto out;
	}
	if (!ASSERT_EQ(name, gt_stacks_new(GT_UNWIND_AUTO, 16384, &st), 0))
		goto out;
	/* a gone process: attach fails, the exe is remembered */
	ok &= ASSERT_TRUE(name, gt_stacks_attach(st, dead_pid(), bin) < 0);
	h = capture(s, s->stack_len, GT_SF_WHOLE);
	if (!ASSERT_TRUE(name, h != NULL))
		goto out;
	stk = gt_stacks_unwind(st, h, s->stack_len, 1, s->regs.pc, fn.entry);
	if (!ASSERT_TRUE(name, stk != NULL))
		goto out;
	ok &= ASSERT_EQ(name, stk->n, s->nexpect);
	for (int i = 0; ok && i < stk->n && i < s->nexpect; i++)
		ok &= ASSERT_STREQ(name, stk->f[i].func, s->expect[i]);
	ok &= ASSERT_EQ(name, gt_stack_classify(stk), GT_STACK_COMPLETE);
	ok &= ASSERT_TRUE(name, gt_stacks_stats(st)->map_reloads >= 1);
	ok &= ASSERT_EQ(name, gt_stacks_stats(st)->complete, 1);
	if (ok)
		CHECK_PASS(name);

	/* The same capture cut to 8 bytes (marker's return address): the walk
	 * stops with stack-read one frame later.  Truncated when the copy was the whole
	 * --stack-size, an error when it ended early. */
	snprintf(name, sizeof(name), "stacks: short copy: %s", strrchr(path, '/') + 1);
	ok = 1;
	if (!ASSERT_EQ(name, gt_stacks_new(GT_UNWIND_AUTO, 512, &st2), 0))
		goto out;
	gt_stacks_attach(st2, dead_pid(), bin);
	h2 = capture(s, 8, 0);
	if (!ASSERT_TRUE(name, h2 != NULL))
		goto out;
	cut = gt_stacks_unwind(st2, h2, 8, 1, s->regs.pc, fn.entry);
	if (!ASSERT_TRUE(name, cut != NULL))
		goto out;
	ok &= ASSERT_STREQ(name, dwunw_stop_name(cut->stop), "stack-read");
	ok &= ASSERT_TRUE(name, cut->n >= 1 && cut->n < s->nexpect);
	for (int i = 0; ok && i < cut->n; i++)
		ok &= ASSERT_STREQ(name, cut->f[i].func, s->expect[i]);
	/* 8 < 512: the copy ended early, not at --stack-size */
	ok &= ASSERT_EQ(name, gt_stack_classify(cut), GT_STACK_ERROR);
	cut->copy_full = true;
	ok &= ASSERT_EQ(name, gt_stack_classify(cut), GT_STACK_TRUNCATED);
	if (ok)
		CHECK_PASS(name);

	/* hold, take, render */
	snprintf(name, sizeof(name), "stacks: hold and JSON: %s", strrchr(path, '/') + 1);
	ok = 1;
	{
		char *buf = NULL, *doc = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);
		json_error_t jerr;
		json_t *j, *arr;

		ok &= ASSERT_EQ(name, gt_stacks_put(st, 7, 100, stk), 0);
		ok &= ASSERT_EQ(name, gt_stacks_held(st), 1);
		ok &= ASSERT_TRUE(name, gt_stacks_take(st, 7, 101) == NULL);
		ok &= ASSERT_TRUE(name, gt_stacks_take(st, 7, 100) == stk);
		ok &= ASSERT_EQ(name, gt_stacks_held(st), 0);
		fputs("{\"type\":\"call\"", f);
		gt_stack_print_json(f, stk);
		fputs("}", f);
		fclose(f);
		doc = buf;
		j = json_loads(doc, 0, &jerr);
		ok &= ASSERT_TRUE(name, j != NULL);
		arr = j ? json_object_get(j, "stack") : NULL;
		ok &= ASSERT_TRUE(name, json_is_array(arr) && (int)json_array_size(arr) == stk->n);
		for (int i = 0; ok && i < stk->n; i++) {
			json_t *e = json_array_get(arr, i);

			ok &= ASSERT_STREQ(name, json_string_value(json_object_get(e, "func")),
					   stk->f[i].func);
			ok &= ASSERT_EQ(name, json_integer_value(json_object_get(e, "line")),
					stk->f[i].line);
			ok &= ASSERT_EQ(name, json_is_true(json_object_get(e, "inlined")),
					stk->f[i].inlined);
		}
		ok &= ASSERT_TRUE(name, j && !json_object_get(j, "stack_stop"));
		json_decref(j);
		free(buf);
	}
	if (ok)
		CHECK_PASS(name);
out:
	free(h);
	free(h2);
	free(stk);
	free(cut);
	gt_stacks_free(st);
	gt_stacks_free(st2);
	gosym_free(gs);
	dwunw_snapshot_free(s);
}

int main(void)
{
	glob_t g;

	test_parse();
	if (glob(CORPUS "/go_*_pie_*.snap", 0, NULL, &g) || !g.gl_pathc) {
		CHECK_FAIL("stacks", "no PIE Go snapshots under " CORPUS " (run from the checkout root)");
		return 1;
	}
	/* one per recorded chain is plenty: the first three */
	for (size_t i = 0; i < g.gl_pathc && i < 3; i++)
		test_replay(g.gl_pathv[i]);
	globfree(&g);
	return check_failures ? 1 : 0;
}
