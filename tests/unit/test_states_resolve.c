// SPDX-License-Identifier: MIT
/*
 * Unit test of gotrace/states/resolve.c on real binaries (no root): for
 * every Go 1.22+ build of testprogs/states in build/testprogs/manifest.json,
 * the compiler's `go` wrappers main.workload.gowrap1..6 must resolve to the
 * functions the source's go statements name, in source order (the compiler
 * numbers wrappers in that order): the truth is testprogs/states/main.go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "states/resolve.h"

static const char *const want[] = {
	"main.chanWorker", "main.chanFeeder", "main.mutexWorker",
	"main.mutexHolder", "main.sleepWorker", "main.syscallWorker",
};

static int go_minor(const char *v)
{
	int major = 0, minor = 0;

	sscanf(v, "go%d.%d", &major, &minor);
	return major == 1 ? minor : 0;
}

static void test_build(const char *go, const char *variant, const char *path)
{
	char name[128];
	struct gosym *gs = NULL;
	struct gosym_func casg, wrap;
	struct st_resolver r;
	bool ok = true;

	snprintf(name, sizeof(name), "unwrap/%s/%s", go, variant);
	if (!ASSERT_EQ(name, gosym_open(path, &gs), 0))
		return;
	if (!ASSERT_EQ(name, gosym_lookup_name(gs, "runtime.casgstatus", &casg), 0))
		goto out;
	st_resolver_init(&r, gs, casg.entry);
	for (int i = 0; i < 6; i++) {
		char wname[64];
		const char *got, *fn = NULL, *at = NULL;

		snprintf(wname, sizeof(wname), "main.workload.gowrap%d", i + 1);
		if (!ASSERT_EQ(name, gosym_lookup_name(gs, wname, &wrap), 0)) {
			ok = false;
			continue;
		}
		got = st_resolver_unwrap(&r, wrap.entry, wrap.end);
		ok &= ASSERT_STREQ(name, got, want[i]);
		/* through the resolver callback too, with a PIE-like bias */
		st_resolver_resolve(&r, casg.entry + 0x10000, wrap.entry + 0x10000, 0, &fn, &at);
		ok &= ASSERT_STREQ(name, fn, want[i]);
	}
	st_resolver_release(&r);
	if (ok)
		CHECK_PASS(name);
out:
	gosym_free(gs);
}

int main(void)
{
	json_error_t jerr;
	json_t *m = json_load_file("build/testprogs/manifest.json", 0, &jerr);
	size_t i, n = 0;
	json_t *b;

	if (!m) {
		CHECK_MISSING("unwrap", "no build/testprogs/manifest.json (scripts/build-testprogs.sh)");
		return 0;
	}
	json_array_foreach(m, i, b) {
		const char *prog = json_string_value(json_object_get(b, "prog"));
		const char *go = json_string_value(json_object_get(b, "go"));
		const char *arch = json_string_value(json_object_get(b, "goarch"));
		const char *variant = json_string_value(json_object_get(b, "variant"));
		const char *path = json_string_value(json_object_get(b, "path"));

		if (!prog || !go || !arch || !variant || !path || strcmp(prog, "states") ||
		    go_minor(go) < 22 || (strcmp(arch, "amd64") && strcmp(arch, "arm64")))
			continue;
		test_build(go, variant, path);
		n++;
	}
	json_decref(m);
	if (!n)
		CHECK_MISSING("unwrap", "no Go 1.22+ builds of testprogs/states");
	return check_failures ? 1 : 0;
}
