/* SPDX-License-Identifier: MIT */
/*
 * Shared declarations of the gotrace CLI: the subcommand entry points (one
 * file each in gotrace/) and the message helpers every subcommand uses.
 *
 * Conventions: primary output on stdout, progress and chatter on stderr
 * (silenced by -q), errors as one line `gotrace: <what failed>: <why>` on
 * stderr; a subcommand returns its exit status (0 success, 1 error, 2 usage).
 */
#ifndef GOTRACE_H
#define GOTRACE_H

#include <stdbool.h>

#define EXIT_USAGE 2

/* Subcommands: argv[0] is the subcommand name. */
int cmd_info(int argc, char **argv);
int cmd_sym(int argc, char **argv);
int cmd_funcs(int argc, char **argv);
int cmd_states(int argc, char **argv);
int cmd_funcgraph(int argc, char **argv);
int cmd_funccount(int argc, char **argv);
int cmd_funclatency(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_goroutines(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* Set by -q on any subcommand: no progress messages. */
extern bool gt_quiet;

/* Progress/chatter on stderr, unless quiet. A newline is added. */
void gt_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning on stderr (always shown). A newline is added. */
void gt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error on stderr: "gotrace: <msg>". Returns 1 for `return gt_error(...)`. */
int gt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last failure's message of a module that never prints (target,
 * outfile, option value parsers), one line for gt_error(): gt_set_errmsg()
 * formats it and returns err (for `return gt_set_errmsg(-EINVAL, ...)`),
 * gt_errmsg() returns it ("" if none).  Per thread. */
int gt_set_errmsg(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *gt_errmsg(void);

/* Print the help of one subcommand to stdout; 0, or 2 if unknown. */
int gt_help(const char *cmd);

#endif
