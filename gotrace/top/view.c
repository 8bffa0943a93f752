// SPDX-License-Identifier: MIT
/*
 * The ncurses screen of `gotrace top` (view.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "top/text.h"
#include "top/view.h"

static SCREEN *screen;
static bool active, registered;

int top_view_open(void)
{
	/* newterm, not initscr: a terminal ncurses can't drive is an error
	 * to report, not an exit */
	screen = newterm(NULL, stdout, stdin);
	if (!screen)
		return -ENOTTY;
	active = true;
	if (!registered && !atexit(top_view_close))
		registered = true;
	cbreak();	/* Ctrl-C still sends SIGINT: the loop's stop flag */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(50);
	curs_set(0);
	return 0;
}

void top_view_close(void)
{
	if (!active)
		return;
	active = false;
	endwin();
	delscreen(screen);
	screen = NULL;
	fflush(stdout);
}

int top_view_key(int timeout_ms)
{
	int c;

	timeout(timeout_ms);
	c = getch();
	switch (c) {
	case ERR: return -1;
	case KEY_UP: return TOP_KEY_UP;
	case KEY_DOWN: return TOP_KEY_DOWN;
	case KEY_PPAGE: return TOP_KEY_PGUP;
	case KEY_NPAGE: return TOP_KEY_PGDN;
	case KEY_HOME: return TOP_KEY_HOME;
	case KEY_END: return TOP_KEY_END;
	case KEY_ENTER: case '\n': case '\r': return TOP_KEY_ENTER;
	case 27: return TOP_KEY_ESC;
	case KEY_BACKSPACE: case 127: case 8: return TOP_KEY_BACKSPACE;
	case KEY_RESIZE: return TOP_KEY_RESIZE;
	default: return c >= 0x20 && c < 0x7f ? c : -1;
	}
}

/* Line y: s, cut at the screen's width, the rest of the line cleared. */
static void put_line(int y, const char *s, attr_t attr)
{
	if (y < 0 || y >= LINES)
		return;
	attron(attr);
	mvaddnstr(y, 0, s, COLS);
	if (attr & A_REVERSE)
		for (int x = (int)strlen(s); x < COLS; x++)
			mvaddch(y, x, ' ');
	attroff(attr);
}

/* One table line (the column header when r is NULL) into buf. */
static void table_line(char *buf, size_t len, struct top_source *src, struct top_model *m,
		       const struct top_row *r)
{
	const struct top_ui *u = top_model_ui(m);
	size_t off = 0;
	char cell[64];

	buf[0] = 0;
	for (int c = 0; c < TOP_NCOLS && off < len; c++) {
		int w = top_col_width(u->view, c, COLS);
		bool left = c == TOP_COL_NAME || c == TOP_COL_REASON || c == TOP_COL_STATE;
		const char *s;

		if (!w)
			continue;
		if (!r) {
			snprintf(cell, sizeof(cell), "%s%s", top_col_name(u->view, c),
				 (int)u->sort == c ? (u->ascending ? "^" : "v") : "");
			s = cell;
		} else {
			s = top_cell(cell, sizeof(cell), src, u->view, r, c);
		}
		off += (size_t)snprintf(buf + off, len - off, left ? "%-*.*s " : "%*.*s ", w, w, s);
	}
}

/* Where the table's rows are and how many: lines [*y0, *y0 + rows), the
 * column header above them; the detail pane from *detail_y (-1: none) to
 * the key line. */
static void layout(struct top_model *m, int *y0, int *rows, int *detail_y)
{
	int h = LINES - TOP_HEADER_LINES - 3;	/* status, column header, key line */

	*y0 = TOP_HEADER_LINES + 2;
	*detail_y = -1;
	if (top_model_ui(m)->detail && h >= 10) {
		*rows = h / 2 - 1;
		*detail_y = *y0 + *rows;
	} else {
		*rows = h;
	}
	if (*rows < 1)
		*rows = 1;
}

static void draw_table(struct top_source *src, struct top_model *m, int y0, int rows)
{
	const struct top_ui *u;
	struct top_row *const *r;
	char line[512];
	size_t n;

	top_model_set_page(m, (size_t)rows);
	u = top_model_ui(m);
	r = top_model_rows(m, &n);
	table_line(line, sizeof(line), src, m, NULL);
	put_line(y0 - 1, line, A_REVERSE);
	for (int k = 0; k < rows && u->top + (size_t)k < n; k++) {
		size_t i = u->top + (size_t)k;

		table_line(line, sizeof(line), src, m, r[i]);
		put_line(y0 + k, line, i == u->sel ? A_REVERSE | A_BOLD : A_NORMAL);
	}
	if (!n)
		put_line(y0, u->filter[0] ? "  (no row matches the filter)" : "  (no goroutines)",
			 A_NORMAL);
}

static const char *const cls_label[TOP_NCLS] = { "run  ", "rnbl ", "sys  ", "wait " };

/* The selected row's state history: one character per interval, newest
 * on the right, darker for a bigger share of the interval. */
static int draw_history(struct top_model *m, const struct top_row *r, int y)
{
	static const char ramp[] = " .:-=+*#@";
	int w = COLS - 6;
	char line[512];

	if (w > (int)sizeof(line) - 8)
		w = (int)sizeof(line) - 8;
	if (w > TOP_HIST)
		w = TOP_HIST;
	snprintf(line, sizeof(line), "History, last %d intervals (newest right; @ = all of it):", w);
	put_line(y++, line, A_NORMAL);
	for (int c = 0; c < TOP_NCLS; c++) {
		memcpy(line, cls_label[c], 5);
		for (int k = 0; k < w; k++) {
			int v = top_row_hist(m, r, (unsigned)(w - 1 - k), c);

			line[5 + k] = v < 0 ? ' ' : v == 0 ? '_' : ramp[1 + v * 7 / 255];
		}
		line[5 + w] = 0;
		put_line(y++, line, A_NORMAL);
	}
	return y;
}

/* "Waits: chan receive 1.00s x3, sleep 20ms x1": time, and waits begun */
static void waits_line(char *buf, size_t len, struct top_source *src, const char *what,
		       const struct top_wait *w, uint8_t n)
{
	size_t off = (size_t)snprintf(buf, len, "%s", what);
	char d[16];

	for (uint8_t i = 0; i < n && off < len; i++) {
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s", i ? ", " : " ",
					src->reason(src, w[i].reason),
					top_fmt_dur(d, sizeof(d), w[i].ns));
		/* waits begun while followed (none: blocked since before) */
		if (w[i].count && off < len)
			off += (size_t)snprintf(buf + off, len - off, " x%u", w[i].count);
	}
	if (!n)
		snprintf(buf + off, len - off, " none");
}

static void draw_detail(struct top_source *src, struct top_model *m, int y, const char *stack,
			int stack_err)
{
	const struct top_row *r = top_model_selected(m);
	char line[512];
	int end = LINES - 1;

	if (!r)
		return;
	if (r->goid)
		snprintf(line, sizeof(line), "goroutine %" PRId64 " %s - %s - created at %s by "
			 "goroutine %" PRId64, r->goid, r->start ? r->start : "?",
			 top_cls_name(r->state), r->created ? r->created : "?", r->parent);
	else
		snprintf(line, sizeof(line), "group %s: %u goroutines (%u running, %u runnable, "
			 "%u syscall, %u waiting); stack of goroutine %" PRId64, r->name ? r->name : "?",
			 r->count, r->nstate[TOP_RUN], r->nstate[TOP_RNBL], r->nstate[TOP_SYS],
			 r->nstate[TOP_WAIT], r->first_goid);
	put_line(y++, line, A_BOLD);
	y = draw_history(m, r, y);
	waits_line(line, sizeof(line), src, "Waits, last interval:", r->dwaits, r->ndwaits);
	put_line(y++, line, A_NORMAL);
	waits_line(line, sizeof(line), src, "Waits, all:", r->waits, r->nwaits);
	put_line(y++, line, A_NORMAL);
	if (!stack) {
		snprintf(line, sizeof(line), "Stack: %s", stack_err == -ENOENT ?
			 "none (running, or gone)" : stack_err ? strerror(-stack_err) : "-");
		put_line(y, line, A_NORMAL);
		return;
	}
	for (const char *p = stack; *p && y < end; y++) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		put_line(y, line, A_NORMAL);
		p += n + (nl != NULL);
	}
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"Keys",
		"",
		"  Up/Down j/k   move (PgUp/PgDn, Home/End)",
		"  s / S         sort by the next column / reverse",
		"  g             goroutines / by start function / by creation site",
		"  /             filter by name (Enter keeps, Esc cancels)",
		"  p             pause / resume",
		"  Enter         detail pane of the selected row",
		"  ? or h        this help (Esc closes)",
		"  q, Ctrl-C     quit",
	};
	int n = (int)(sizeof(lines) / sizeof(lines[0]));
	int y0 = (LINES - n) / 2 > 0 ? (LINES - n) / 2 : 0;

	for (int i = 0; i < n && y0 + i < LINES; i++) {
		char line[80];

		snprintf(line, sizeof(line), " %-66s ", lines[i]);
		attron(A_REVERSE);
		mvaddnstr(y0 + i, COLS > 70 ? (COLS - 70) / 2 : 0, line, COLS);
		attroff(A_REVERSE);
	}
}

void top_view_draw(struct top_source *src, struct top_model *m, const char *stack, int stack_err)
{
	const struct top_ui *u = top_model_ui(m);
	char line[512];
	int y0, rows, dy;

	if (!active)
		return;
	erase();
	for (int k = 0; k < TOP_HEADER_LINES; k++) {
		top_header_line(line, sizeof(line), k, src, m);
		put_line(k, line, k ? A_NORMAL : A_BOLD);
	}
	if (u->editing)
		snprintf(line, sizeof(line), "Filter: %s_   (Enter keeps, Esc cancels)", u->filter);
	else
		snprintf(line, sizeof(line), "View: %s   Sort: %s%s   Filter: %s", top_view_name(u->view),
			 top_col_name(u->view, u->sort), u->ascending ? " ascending" : "",
			 u->filter[0] ? u->filter : "-");
	put_line(TOP_HEADER_LINES, line, A_NORMAL);
	layout(m, &y0, &rows, &dy);
	draw_table(src, m, y0, rows);
	if (dy >= 0)
		draw_detail(src, m, dy, stack, stack_err);
	put_line(LINES - 1, "q quit  j/k move  s sort  g group  / filter  p pause  "
			    "Enter detail  ? help", A_REVERSE);
	if (u->help)
		draw_help();
	refresh();
}
