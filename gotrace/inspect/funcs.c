// SPDX-License-Identifier: MIT
/* gotrace funcs BIN [GLOB...]: list functions (name, entry, size, file:line). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "inspect/binary.h"
#include "tracing/options.h"
#include "gotrace.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gotrace funcs [--json] BIN [GLOB...]\n\n"
		   "List the functions of a Go binary from its pclntab (works on stripped\n"
		   "binaries), optionally only those matching a glob: `*` matches any run of\n"
		   "characters including '/' and '.', `?` one character, [...] a class.\n\n"
		   "Text output: ENTRY SIZE NAME FILE:LINE.  JSON: one object per line\n"
		   "{\"name\",\"entry\",\"end\",\"size\",\"file\",\"line\",\"flag\",\"special\"}.\n\n"
		   "Options:\n"
		   "  -j, --json   JSON lines\n"
		   "  -h, --help   this help\n\n"
		   "Examples:\n"
		   "  gotrace funcs ./server 'main.*'\n"
		   "  gotrace funcs ./server 'net/http.(*Server).*'\n"
		   "  gotrace funcs --json ./server | jq -r .name\n");
}

int cmd_funcs(int argc, char **argv)
{
	bool json = false;
	struct gosym *g;
	size_t matched = 0;
	int r;

	r = gt_inspect_args(argc, argv, usage, 1, -1, &json);
	if (r != GT_OPTS_RUN)
		return r;
	g = gt_open_binary(argv[optind]);
	if (!g)
		return 1;
	for (size_t i = 0; i < gosym_info(g)->nfuncs; i++) {
		struct gosym_func fn;
		bool want = optind + 1 >= argc;

		if (gosym_func_at(g, i, &fn))
			continue;
		for (int a = optind + 1; a < argc && !want; a++)
			want = gosym_glob_match(argv[a], fn.name);
		if (!want)
			continue;
		matched++;
		if (json) {
			json_t *o = json_object();
			char e[32], x[32];

			snprintf(e, sizeof(e), "0x%llx", (unsigned long long)fn.entry);
			snprintf(x, sizeof(x), "0x%llx", (unsigned long long)fn.end);
			json_object_set_new(o, "name", json_string(fn.name));
			json_object_set_new(o, "entry", json_string(e));
			json_object_set_new(o, "end", json_string(x));
			json_object_set_new(o, "size", json_integer(fn.end - fn.entry));
			json_object_set_new(o, "file", json_string(fn.file));
			json_object_set_new(o, "line", json_integer(fn.line));
			json_object_set_new(o, "flag", json_integer(fn.flag));
			json_object_set_new(o, "special", json_string(gosym_special_name(fn.special)));
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(o);
		} else {
			printf("0x%llx %6llu %s %s:%d\n", (unsigned long long)fn.entry,
			       (unsigned long long)(fn.end - fn.entry), fn.name, fn.file, fn.line);
		}
	}
	gosym_free(g);
	if (!matched && optind + 1 < argc)
		return gt_error("funcs: no function matches the given pattern(s)");
	return 0;
}
