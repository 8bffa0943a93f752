// SPDX-License-Identifier: MIT
/* CSV fields (see output/csv.h). */
#include <string.h>

#include "output/csv.h"

void gt_csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
