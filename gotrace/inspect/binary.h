/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the binary-inspection subcommands (info, sym, funcs):
 * opening a Go binary with a CLI-grade error message.
 */
#ifndef GOTRACE_CMD_UTIL_H
#define GOTRACE_CMD_UTIL_H

#include "gosym.h"

/* Open BIN; on failure print one line `gotrace: <why>` and return NULL. */
struct gosym *gt_open_binary(const char *path);

/* Parse a hex (0x optional) or decimal address; false if malformed. */
bool gt_parse_addr(const char *s, unsigned long long *out);

#endif
