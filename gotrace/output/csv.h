/* SPDX-License-Identifier: MIT */
/* CSV fields as RFC 4180 writes them, for the commands' --csv outputs. */
#ifndef GOTRACE_CSV_H
#define GOTRACE_CSV_H

#include <stdio.h>

/* s as one field: quoted (with '"' doubled) when it holds a comma, a quote
 * or a line break, as it is otherwise. */
void gt_csv_str(FILE *f, const char *s);

#endif
