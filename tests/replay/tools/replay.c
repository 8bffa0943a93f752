// SPDX-License-Identifier: MIT
/*
 * replay: unwind snapshot files with libdwunw and print the symbolized
 * frames as one JSON line per snapshot:
 *
 *   {"snapshot":PATH,"stop":"topframe","frames":[
 *      {"pc":"0x..","func":..,"file":..,"line":N,"inlined":false,"method":"cfi","signal":false},..]}
 *
 *   replay [-m cfi,pclntab,fp] [-r ROOT] SNAPSHOT...
 *   replay --build-id FILE...     print each file's build ID (dwunw_module_build_id)
 *
 * Inlined frames are expanded (each logical frame is one entry; the
 * physical frame is the last of its group, "inlined":false).  A frame
 * nothing names gets "func":"??".  Exit status 1 if a snapshot can't be
 * read or unwound at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwunw.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static unsigned int parse_methods(const char *s)
{
	unsigned int m = 0;

	if (strstr(s, "cfi") || strstr(s, "dwarf"))
		m |= DWUNW_M_CFI;
	if (strstr(s, "pclntab"))
		m |= DWUNW_M_PCLNTAB;
	if (strstr(s, "fp"))
		m |= DWUNW_M_FP;
	if (strstr(s, "auto") || strstr(s, "all"))
		m |= DWUNW_M_ALL;
	return m;
}

int main(int argc, char **argv)
{
	unsigned int methods = DWUNW_M_ALL;
	struct dwunw_modules *mods = NULL;
	const char *root = NULL;
	int i = 1, rc = 0;

	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--build-id"); i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc) {
			methods = parse_methods(argv[++i]);
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			root = argv[++i];
		} else {
			fprintf(stderr, "usage: replay [-m cfi,pclntab,fp] [-r ROOT] SNAPSHOT...\n");
			return 2;
		}
	}
	if (dwunw_modules_new(&mods))
		return 1;
	if (i < argc && !strcmp(argv[i], "--build-id")) {
		for (i++; i < argc; i++) {
			struct dwunw_module *mod;
			char id[256];

			if (dwunw_modules_get(mods, argv[i], &mod) || dwunw_module_build_id(mod, id, sizeof(id))) {
				fprintf(stderr, "replay: '%s': no build ID\n", argv[i]);
				rc = 1;
				continue;
			}
			printf("%s\n", id);
		}
		dwunw_modules_free(mods);
		return rc;
	}
	for (; i < argc; i++) {
		struct dwunw_snapshot *s = NULL;
		struct dwunw_map *map = NULL;
		struct dwunw_frame frames[256];
		enum dwunw_stop stop;
		int n;

		if (dwunw_snapshot_read(argv[i], &s)) {
			fprintf(stderr, "replay: '%s': %s\n", argv[i], dwunw_errmsg());
			rc = 1;
			continue;
		}
		if (dwunw_map_parse(mods, s->maps, strlen(s->maps), root, &map)) {
			fprintf(stderr, "replay: '%s': %s\n", argv[i], dwunw_errmsg());
			dwunw_snapshot_free(s);
			rc = 1;
			continue;
		}
		n = dwunw_unwind(map, &s->regs, s->stack, s->stack_len, methods, frames, 256, &stop);
		if (n < 0) {
			fprintf(stderr, "replay: '%s': cannot unwind: %s\n", argv[i], strerror(-n));
			rc = 1;
			goto next;
		}
		printf("{\"snapshot\":");
		json_str(argv[i]);
		printf(",\"stop\":\"%s\",\"frames\":[", dwunw_stop_name(stop));
		int callee = 0;	/* .special of the last frame, walking outwards */

		for (int k = 0; k < n; k++) {
			struct dwunw_sym syms[32];
			int ns = dwunw_symbolize(&frames[k], syms, 32);
			bool sig = frames[k].flags & DWUNW_F_SIGNAL;

			if (ns > 32)
				ns = 32;
			if (ns == 0) {
				syms[0] = (struct dwunw_sym){sig ? "<signal handler called>" : "??", NULL, 0,
							     false, false, 0};
				ns = 1;
			}
			for (int j = 0; j < ns; j++) {
				printf("%s{\"pc\":\"0x%llx\",\"sp\":\"0x%llx\",\"func\":", k || j ? "," : "",
				       (unsigned long long)frames[k].pc, (unsigned long long)frames[k].sp);
				json_str(syms[j].func);
				printf(",\"file\":");
				json_str(syms[j].file ? syms[j].file : "");
				printf(",\"line\":%d,\"inlined\":%s,\"wrapper\":%s,\"elided\":%s,"
				       "\"method\":\"%s\",\"signal\":%s}",
				       syms[j].line, syms[j].inlined ? "true" : "false",
				       syms[j].wrapper ? "true" : "false",
				       dwunw_sym_elided(&syms[j], callee) ? "true" : "false",
				       dwunw_method_name(frames[k].method), sig ? "true" : "false");
				callee = syms[j].special;
			}
		}
		printf("]}\n");
next:
		dwunw_map_free(map);
		dwunw_snapshot_free(s);
	}
	dwunw_modules_free(mods);
	return rc;
}
