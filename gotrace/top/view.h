/* SPDX-License-Identifier: MIT */
/*
 * The terminal side of `gotrace top` (ncurses): the screen drawn from the
 * model, and the keys read from the user, translated to the model's key
 * codes.
 *
 * Layout (80x24 and up): three header lines, a status line (view, sort,
 * filter), the table with its column header, an optional detail pane for
 * the selected row (lower half: identity, state history over the last
 * intervals, wait reasons, current stack), and a key line at the bottom.
 *
 * The terminal is restored by top_view_close(), which is idempotent and
 * also registered with atexit(): every way out of the program (q, a
 * stop signal, the target's exit, an error) leaves the terminal as it was.
 */
#ifndef GOTRACE_TOP_VIEW_H
#define GOTRACE_TOP_VIEW_H

#include "top/model.h"
#include "top/top.h"

#define TOP_KEY_RESIZE 0x200	/* the terminal was resized: draw again */

/* Take over the terminal.  0, or -ENOTTY when it cannot be used. */
int top_view_open(void);

/* Give the terminal back as it was.  Idempotent. */
void top_view_close(void);

/* Wait up to timeout_ms for a key: a model key code (TOP_KEY_* or a
 * printable character), TOP_KEY_RESIZE, or -1 for none. */
int top_view_key(int timeout_ms);

/* Draw everything.  stack: the selected row's current stack (text) or
 * NULL; stack_err: why there is none (0: not asked for). */
void top_view_draw(struct top_source *src, struct top_model *m, const char *stack, int stack_err);

#endif /* GOTRACE_TOP_VIEW_H */
