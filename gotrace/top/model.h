/* SPDX-License-Identifier: MIT */
/*
 * top_model: what `gotrace top` shows, without the showing.
 *
 * Fed samples (struct top_sample: cumulative times per goroutine) at each
 * refresh, it keeps one row per goroutine and one per group of goroutines
 * (by start function and by creation site, both kept up to date so the
 * view can switch at once), each with its time per state in the last
 * interval (the difference of two samples), the wait reason it waited
 * with most in that interval, its lifetime and the history of its last
 * TOP_HIST intervals; plus the process-wide header numbers.  Keys (update)
 * change the view, the sort column, the filter, the selection; the model
 * answers with an action for the loop (quit, pause...).
 *
 * Everything here is pure data: no terminal, no clock, no I/O, so unit
 * tests drive it with made-up samples and keys.
 *
 * Ownership: the model owns its rows; pointers returned stay valid until
 * the next top_model_apply() or top_model_key().  Name strings belong to
 * the source that filled the samples.
 */
#ifndef GOTRACE_TOP_MODEL_H
#define GOTRACE_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "top/top.h"

#define TOP_HIST 60		/* intervals of history per row */
#define TOP_FILTER_MAX 64

/* What the table lists: g cycles through them. */
enum top_view {
	TOP_VIEW_GOROUTINES,	/* one row per goroutine */
	TOP_VIEW_START,		/* groups by start function */
	TOP_VIEW_CREATED,	/* groups by creation site (the go statement) */
	TOP_NVIEWS,
};

/* Columns, in display order; s cycles through the sortable ones. */
enum top_col {
	TOP_COL_ID,		/* GOID; groups: COUNT (alive members) */
	TOP_COL_STATE,		/* goroutines only */
	TOP_COL_RUN,
	TOP_COL_RNBL,
	TOP_COL_SYS,
	TOP_COL_WAIT,
	TOP_COL_REASON,		/* not sortable */
	TOP_COL_LIFE,
	TOP_COL_NAME,
	TOP_NCOLS,
};

struct top_row {
	int64_t goid;			/* goroutine rows; 0 for a group */
	const char *name;		/* goroutine: start function; group: its key */
	const char *start;		/* start function (group: of its first member) */
	const char *created;		/* creation site (group: of its first member) */
	int64_t parent;			/* goroutine: creator, -1 unknown */
	uint32_t count;			/* 1, or the group's members alive now */
	uint32_t nstate[TOP_NCLS];	/* members by state now */
	uint8_t state;			/* goroutine: enum top_cls or TOP_DEAD */
	uint8_t flags;			/* goroutine: TOP_G_* */
	uint32_t reason;		/* goroutine: current wait reason */
	int64_t first_goid;		/* group: its lowest alive goid (a member to show) */
	/* the last interval */
	uint64_t d[TOP_NCLS];		/* time per state (group: summed) */
	uint64_t dtrans;		/* transitions */
	struct top_wait dwaits[TOP_WAITS];	/* waiting per reason, largest first */
	uint8_t ndwaits;
	/* since followed (group: summed over its members alive now) */
	uint64_t cum[TOP_NCLS];
	uint64_t transitions;
	struct top_wait waits[TOP_WAITS];	/* largest first */
	uint8_t nwaits;
	uint64_t first_ns, end_ns;
	uint64_t life_ns;		/* lifetime (group: its oldest member's) */
	bool life_lower;		/* existed before the source began: at least */
	/* history: share of the interval (x count) in each state, 0..255;
	 * slot (tick % TOP_HIST) for every tick from hist_from on */
	uint8_t hist[TOP_HIST][TOP_NCLS];
	uint64_t hist_from;
	/* private */
	uint64_t prev[TOP_NCLS], prev_trans;
	struct top_wait prev_waits[TOP_WAITS];
	uint8_t nprev_waits;
	uint64_t gen;			/* the last apply that saw it */
	bool exited;			/* its exit was applied */
};

struct top_header {
	uint64_t now_ns, interval_ns;
	uint64_t ticks;			/* samples applied */
	uint32_t nstate[TOP_NCLS];	/* goroutines shown, by state now */
	uint32_t total;			/* goroutines shown (alive) */
	uint32_t system;		/* system goroutines alive (shown with --system) */
	uint32_t created, exited;	/* in the interval */
	double trans_per_s;		/* < 0: the source doesn't count them */
	double gc_share;		/* GC workers' running / all running + syscall */
	double sys_share;		/* syscall / all running + syscall */
	uint64_t lost, lost_d;		/* cumulative, and in the interval */
	uint64_t unreadable;
};

/* Keys, as the view hands them over (printable characters as themselves). */
enum {
	TOP_KEY_UP = 0x100, TOP_KEY_DOWN, TOP_KEY_PGUP, TOP_KEY_PGDN,
	TOP_KEY_HOME, TOP_KEY_END, TOP_KEY_ENTER, TOP_KEY_ESC, TOP_KEY_BACKSPACE,
};

enum top_action {
	TOP_ACT_NONE,		/* nothing changed */
	TOP_ACT_REDRAW,		/* the screen must be drawn again */
	TOP_ACT_QUIT,
	TOP_ACT_PAUSE,		/* p: stop refreshing (redraw too) */
	TOP_ACT_RESUME,		/* p again: take a baseline sample, refresh again */
};

/* The user's choices; top_model_new() takes the initial ones. */
struct top_ui {
	enum top_view view;
	enum top_col sort;
	bool ascending;
	bool system;			/* show system goroutines */
	bool detail;			/* Enter: the detail pane */
	bool help;			/* ?: the key help */
	bool paused;
	bool editing;			/* /: typing the filter */
	char filter[TOP_FILTER_MAX];
	/* selection: index into the visible rows, and the first row shown */
	size_t sel, top;
	size_t page;			/* table rows on screen (the view sets it) */
};

struct top_model;

struct top_model *top_model_new(const struct top_ui *ui);
void top_model_free(struct top_model *m);

/* Apply a sample.  baseline: only remember the counters (after a pause or
 * at the start): the next sample's interval begins here.  0 or -ENOMEM. */
int top_model_apply(struct top_model *m, const struct top_sample *s, bool baseline);

/* A key.  What the loop must do. */
enum top_action top_model_key(struct top_model *m, int key);

/* The table rows of the current view, filtered and sorted. */
struct top_row *const *top_model_rows(const struct top_model *m, size_t *n);
/* The selected row, NULL when the table is empty. */
const struct top_row *top_model_selected(const struct top_model *m);
const struct top_header *top_model_header(const struct top_model *m);
struct top_ui *top_model_ui(struct top_model *m);

/* Set the table height (rows on screen) and keep the selection in view. */
void top_model_set_page(struct top_model *m, size_t rows);

/* The column names of a view ("GOID" / "COUNT"...), and whether a column
 * is shown / sortable in it. */
const char *top_col_name(enum top_view v, enum top_col c);
bool top_col_shown(enum top_view v, enum top_col c);
bool top_col_sortable(enum top_view v, enum top_col c);
/* "goroutines", "groups by start function", "groups by creation site" */
const char *top_view_name(enum top_view v);
/* Column names for --sort, lowercase ("goid", "run"...): the column, or
 * -1.  "count" is TOP_COL_ID. */
int top_col_parse(const char *s);

/* Whether row r's name or creation site contains filter (case-folded). */
bool top_row_matches(const struct top_row *r, const char *filter);

/* Rows' history value for interval k back (0 = the last interval) and
 * state c, 0..255; -1 when the row has no history that far back. */
int top_row_hist(const struct top_model *m, const struct top_row *r, unsigned k, enum top_cls c);

#endif /* GOTRACE_TOP_MODEL_H */
