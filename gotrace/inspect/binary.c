// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/binary.h"
#include "gotrace.h"

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
	if (!*s)
		return false;
	errno = 0;
	/* Addresses are hex, with or without 0x (as addr2line reads them). */
	*out = strtoull(s, &end, 16);
	while (isspace((unsigned char)*end))
		end++;
	return !errno && !*end;
}
