/* SPDX-License-Identifier: MIT */
/*
 * What `gotrace top` prints, shared by the terminal view (view.c) and the
 * snapshots of --batch (text or JSON Lines): cells, widths, header lines.
 * Nothing here touches the terminal.
 */
#ifndef GOTRACE_TOP_TEXT_H
#define GOTRACE_TOP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "top/model.h"
#include "top/top.h"

/* A duration in at most 5 characters: "0", "<1us", "340us", "12ms",
 * "1.25s", "12.5s", "125s". */
const char *top_fmt_dur(char *buf, size_t len, uint64_t ns);

/* A lifetime in at most 6 characters: "12s", "5m03s", "2h05m", "3d04h";
 * lower: existed before top began ("≥" as ">"). */
const char *top_fmt_life(char *buf, size_t len, uint64_t ns, bool lower);

/* The text of column c of row r (no padding). */
const char *top_cell(char *buf, size_t len, struct top_source *src, enum top_view v,
		     const struct top_row *r, enum top_col c);

/* Column c's width in a line `width` characters wide (the name column
 * takes what is left, at least 10); 0: not shown in view v. */
int top_col_width(enum top_view v, enum top_col c, int width);

/* Header line k (0..TOP_HEADER_LINES-1) into buf. */
#define TOP_HEADER_LINES 3
void top_header_line(char *buf, size_t len, int k, struct top_source *src,
		     struct top_model *m);

/* --batch: one snapshot of the current view (all rows; names in full).
 * 0, or -EIO when the stream failed. */
int top_text_snapshot(FILE *f, struct top_source *src, struct top_model *m);
int top_jsonl_snapshot(FILE *f, struct top_source *src, struct top_model *m);

#endif /* GOTRACE_TOP_TEXT_H */
