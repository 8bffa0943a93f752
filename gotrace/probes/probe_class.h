/* SPDX-License-Identifier: MIT */
/*
 * probe_class: how the running kernel handles a uprobe on one instruction.
 *
 * When a probed instruction is hit, the kernel runs the BPF program and then
 * has to carry out the instruction it replaced with a breakpoint.  It does
 * that in one of two ways, and the difference is what a probe costs:
 *
 *   PROBE_EMULATED  the kernel carries the instruction out itself inside the
 *                   breakpoint trap (x86-64: jmp/jcc/call rel, push %reg, the
 *                   nops it recognises; arm64: branches, adr/adrp, nop).
 *                   One trap per hit.
 *   PROBE_SSTEP     the instruction is copied to an out-of-line slot and
 *                   single-stepped there: a second trap per hit, ~30x the
 *                   cost of an emulated hit on some machines (docs/probes.md).
 *   PROBE_REFUSED   the kernel refuses a probe there (attaching fails), or
 *                   would emulate it wrongly: never probe it.
 *
 * The rules are the kernel's own (arch/x86/kernel/uprobes.c and
 * arch/arm64/kernel/probes/decode-insn.c, read for Linux 6.18; the
 * version-dependent parts are gated on the kernel version given).  They are
 * written out with the kernel function each comes from in probe_class.c and
 * docs/probes.md.  Pure functions: no I/O except probe_kernel_version().
 */
#ifndef GOTRACE_PROBE_CLASS_H
#define GOTRACE_PROBE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include "probes/retsites.h"

enum probe_class {
	PROBE_EMULATED,
	PROBE_SSTEP,
	PROBE_REFUSED,
};
#define PROBE_NCLASSES 3

/* A kernel version as probe_class compares them: PROBE_KVER(6, 18). */
#define PROBE_KVER(major, minor) ((unsigned int)(major) << 16 | (unsigned int)(minor))

/* The running kernel's version (uname), or PROBE_KVER(6, 18) if it can't
 * be read. */
unsigned int probe_kernel_version(void);

/*
 * The class of one x86-64 instruction of a 64-bit process: insn points at
 * its first byte and len is its length (from a decoder such as Capstone;
 * at most 15).  kver: the kernel version (PROBE_KVER).
 */
enum probe_class probe_class_x86_64(const uint8_t *insn, size_t len, unsigned int kver);

/* The class of one arm64 instruction (a 64-bit process). */
enum probe_class probe_class_arm64(uint32_t insn, unsigned int kver);

/* Either of the above by architecture; insn/len as for x86-64 (arm64 reads
 * one little-endian word and needs len == 4). */
enum probe_class probe_class_of(enum retsites_arch arch, const uint8_t *insn, size_t len,
				unsigned int kver);

/* "emulated", "single-stepped", "refused". */
const char *probe_class_name(enum probe_class c);

#endif /* GOTRACE_PROBE_CLASS_H */
