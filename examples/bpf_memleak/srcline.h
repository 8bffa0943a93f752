/* SPDX-License-Identifier: MIT */
/*
 * File and line of a C/C++ code address from the module's DWARF line table
 * (libdw).  libdwunw's dwunw_symbolize() names non-Go code from the ELF
 * symbol table only (function, no file:line); this adds the source
 * position where the binary has .debug_line.  Handles are cached per
 * module for the life of the program.
 */
#ifndef BPF_MEMLEAK_SRCLINE_H
#define BPF_MEMLEAK_SRCLINE_H

#include <stdint.h>

#include "dwunw.h"

/* The source file (basename) and line of link-time address vaddr in mod;
 * 0 on success, -1 when the module has no line information for it. */
int srcline(const struct dwunw_module *mod, uint64_t vaddr, const char **file, int *line);

void srcline_free_all(void);

#endif
