// SPDX-License-Identifier: MIT
#include "output/json_out.h"

void gt_json_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void gt_json_qstr(FILE *f, const char *s)
{
	fputc('"', f);
	gt_json_str(f, s);
	fputc('"', f);
}
