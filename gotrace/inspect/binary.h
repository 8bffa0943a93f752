/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the binary-inspection subcommands (info, sym, funcs):
 * their command line, opening a Go binary with a CLI-grade error message.
 */
#ifndef GOTRACE_CMD_UTIL_H
#define GOTRACE_CMD_UTIL_H

#include <stdbool.h>
#include <stdio.h>

#include "gosym.h"

/* The options every inspector takes: -j/--json, -q/--quiet, -h/--help.
 * Leaves optind at BIN, the first word after them, and checks there are
 * between min_words and max_words words (BIN included; max_words < 0: no
 * limit).  GT_OPTS_RUN (tracing/options.h), or the exit status to return
 * now: 0 after --help, 2 after a usage error (usage printed to stderr). */
int gt_inspect_args(int argc, char **argv, void (*usage)(FILE *), int min_words,
		    int max_words, bool *json);

/* Open BIN; on failure print one line `gotrace: <why>` and return NULL. */
struct gosym *gt_open_binary(const char *path);

/* Parse a hex (0x optional) or decimal address; false if malformed. */
bool gt_parse_addr(const char *s, unsigned long long *out);

#endif
