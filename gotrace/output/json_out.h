/* SPDX-License-Identifier: MIT */
/*
 * Small JSON helpers shared by the hand-formatted JSON Lines writers
 * (states and funcgraph write their streams with stdio for speed; jansson
 * builds a tree per object, too slow at millions of events per second).
 */
#ifndef GOTRACE_JSON_OUT_H
#define GOTRACE_JSON_OUT_H

#include <stdio.h>

/* Write the body of a JSON string (no quotes): escapes '"', '\\' and
 * control characters; other bytes pass through (Go names are UTF-8). */
void gt_json_str(FILE *f, const char *s);

/* The same, quoted: "s". */
void gt_json_qstr(FILE *f, const char *s);

#endif
