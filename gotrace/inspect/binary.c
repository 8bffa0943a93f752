// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/binary.h"
#include "gotrace.h"
#include "tracing/options.h"

int gt_inspect_args(int argc, char **argv, void (*usage)(FILE *), int min_words,
		    int max_words, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, words;

	optind = 0;	/* glibc: start over */
	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': *json = true; break;
		case 'q': gt_quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	words = argc - optind;
	if (words < min_words || (max_words >= 0 && words > max_words)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return GT_OPTS_RUN;
}

struct gosym *gt_open_binary(const char *path)
{
	struct gosym *g = NULL;
	int err = gosym_open(path, &g);

	if (err) {
		gt_error("%s", gosym_errmsg());
		return NULL;
	}
	return g;
}

bool gt_parse_addr(const char *s, unsigned long long *out)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	/* strtoull would take "-5" as 2^64 - 5 */
	if (!isxdigit((unsigned char)*s))
		return false;
	errno = 0;
	/* Addresses are hex, with or without 0x (as addr2line reads them). */
	*out = strtoull(s, &end, 16);
	while (isspace((unsigned char)*end))
		end++;
	return !errno && !*end;
}
