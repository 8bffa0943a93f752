/* SPDX-License-Identifier: MIT */
/*
 * The register snapshot libdwunw unwinds from, shared with BPF programs:
 * a BPF event can embed `struct dwunw_regs` as is and user space hands it
 * to dwunw_unwind() unchanged.  Fixed-width fields only, no libc; BPF code
 * includes vmlinux.h (which defines __u64 and friends) before this file.
 *
 * Registers are indexed by their DWARF number for the architecture, so the
 * CFI rules index the array directly:
 *
 *   x86_64: 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp,
 *           8-15 r8-r15 (16 is the return-address column: unused here)
 *           from BPF pt_regs: r[6]=bp, r[7]=sp, pc=ip, r[3]=bx, r[12..15]...
 *   arm64:  0-30 x0-x30 (29 = fp, 30 = lr), 31 sp
 *           from BPF user_pt_regs: r[n]=regs[n], r[31]=sp, pc=pc
 *
 * `valid` has bit n set when r[n] holds a value.  The unwinder needs pc, the
 * stack pointer, and (for frame-pointer walks) the frame pointer; every
 * other register is optional, though CFI rules based on a missing register
 * stop the walk with DWUNW_STOP_NO_REG.
 */
#ifndef DWUNW_REGS_H
#define DWUNW_REGS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define DWUNW_REGS_VERSION 1
#define DWUNW_MAX_REGS	   32

/* dwunw_regs.arch */
#define DWUNW_ARCH_X86_64 1
#define DWUNW_ARCH_ARM64  2

/* DWARF register numbers the unwinder itself uses. */
#define DWUNW_X86_64_RBP 6
#define DWUNW_X86_64_RSP 7
#define DWUNW_X86_64_RA	 16
#define DWUNW_ARM64_FP	 29
#define DWUNW_ARM64_LR	 30
#define DWUNW_ARM64_SP	 31

struct dwunw_regs {
	__u16 version;		/* DWUNW_REGS_VERSION */
	__u16 arch;		/* DWUNW_ARCH_* */
	__u32 _pad;
	__u64 valid;		/* bit n: r[n] is valid */
	__u64 pc;
	__u64 r[DWUNW_MAX_REGS];
};

#endif /* DWUNW_REGS_H */
