// SPDX-License-Identifier: MIT
/*
 * gotrace sym BIN [ADDR...]: link-time addresses -> function, file:line and
 * the inlined call chain, with the meaning `go tool addr2line` gives func
 * (the physical function) and file:line (the innermost inlined position).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/binary.h"
#include "tracing/options.h"
#include "gotrace.h"

#define MAX_FRAMES 64

static void usage(FILE *f)
{
	fprintf(f, "usage: gotrace sym [--json] BIN [ADDR...]\n\n"
		   "Symbolize link-time virtual addresses (hex, 0x optional).  With no ADDR,\n"
		   "read addresses one per line from stdin.\n\n"
		   "Text output:  0xADDR func+0xoff file:line, then the inlined frames\n"
		   "              innermost first, indented.\n"
		   "JSON output:  one object per line: {\"addr\",\"func\" (physical function\n"
		   "              or null),\"file\",\"line\" (innermost position),\"inlined\":[...],\n"
		   "              \"frames\":[...]} (frames: full logical chain, innermost first).\n\n"
		   "Options:\n"
		   "  -j, --json   JSON lines\n"
		   "  -h, --help   this help\n\n"
		   "Examples:\n"
		   "  gotrace sym ./server 0x4a1f20 0x4a2000\n"
		   "  nm ./server | awk '/ T main\\./{print $1}' | gotrace sym --json ./server\n");
}

static void frame_json(json_t *arr, const struct gosym_frame *fr)
{
	json_t *o = json_object();

	json_object_set_new(o, "func", json_string(fr->func));
	json_object_set_new(o, "file", json_string(fr->file));
	json_object_set_new(o, "line", json_integer(fr->line));
	json_object_set_new(o, "inlined", json_boolean(fr->inlined));
	json_array_append_new(arr, o);
}

static void sym_one(const struct gosym *g, unsigned long long addr, bool json)
{
	struct gosym_frame frames[MAX_FRAMES];
	struct gosym_pcinfo pi;
	const char *file = "?";
	int line = 0, n = 0;
	bool found = !gosym_lookup_pc_line(g, addr, &pi);
	char abuf[32];

	snprintf(abuf, sizeof(abuf), "0x%llx", addr);
	if (found) {
		n = gosym_pc_frames(g, addr, frames, MAX_FRAMES);
		if (n > MAX_FRAMES)
			n = MAX_FRAMES;
		if (pi.file)
			file = pi.file, line = pi.line;
	}
	if (json) {
		json_t *o = json_object(), *inl = json_array(), *all = json_array();

		json_object_set_new(o, "addr", json_string(abuf));
		json_object_set_new(o, "func", found ? json_string(pi.func) : json_null());
		/* Unknown position (padding after a function's last instruction):
		 * null, where addr2line prints ":-1". */
		bool known = found && strcmp(file, "?");

		json_object_set_new(o, "file", known ? json_string(file) : json_null());
		json_object_set_new(o, "line", known ? json_integer(line) : json_null());
		for (int i = 0; i < n; i++) {
			if (frames[i].inlined)
				frame_json(inl, &frames[i]);
			frame_json(all, &frames[i]);
		}
		json_object_set_new(o, "inlined", inl);
		json_object_set_new(o, "frames", all);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	if (!found) {
		printf("%s ?? ?:0\n", abuf);
		return;
	}
	printf("%s %s+0x%llx %s:%d\n", abuf, pi.func, addr - pi.entry, file, line);
	for (int i = 0; i < n && frames[i].inlined; i++) {
		/* Frame i is inlined into frame i+1, at frame i+1's position. */
		printf("    %s %s:%d (inlined into %s)\n", frames[i].func, frames[i].file,
		       frames[i].line, i + 1 < n ? frames[i + 1].func : "?");
	}
	if (n > 1)
		printf("    %s %s:%d\n", frames[n - 1].func, frames[n - 1].file, frames[n - 1].line);
}

int cmd_sym(int argc, char **argv)
{
	bool json = false;
	struct gosym *g;
	unsigned long long addr;
	int ret = 0;
	int r;

	r = gt_inspect_args(argc, argv, usage, 1, -1, &json);
	if (r != GT_OPTS_RUN)
		return r;
	/* Validate addresses before opening, so a typo fails fast. */
	for (int i = optind + 1; i < argc; i++)
		if (!gt_parse_addr(argv[i], &addr))
			return gt_error("sym: '%s' is not a hex address", argv[i]);
	g = gt_open_binary(argv[optind]);
	if (!g)
		return 1;
	if (optind + 1 < argc) {
		for (int i = optind + 1; i < argc; i++) {
			gt_parse_addr(argv[i], &addr);
			sym_one(g, addr, json);
		}
	} else {
		char *line = NULL;
		size_t cap = 0;
		long lineno = 0;

		while (getline(&line, &cap, stdin) > 0) {
			lineno++;
			line[strcspn(line, "\r\n")] = '\0';
			if (!line[0])
				continue;
			if (!gt_parse_addr(line, &addr)) {
				gt_error("sym: stdin line %ld: '%s' is not a hex address", lineno, line);
				ret = 1;
				continue;
			}
			sym_one(g, addr, json);
		}
		free(line);
	}
	gosym_free(g);
	return ret;
}
