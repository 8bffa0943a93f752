// SPDX-License-Identifier: MIT
/*
 * Instruction classes of uprobe sites (see probe_class.h).
 *
 * The rules below restate, in our own terms, what the kernel's uprobe code
 * does with a probed instruction; docs/probes.md lists them with the kernel
 * functions they come from and how each was checked against the running
 * kernel (tests/unit/test_probe_class.c runs every hand-checked instruction
 * under a real uprobe when it can).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "probes/probe_class.h"

unsigned int probe_kernel_version(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return PROBE_KVER(6, 18);
	return PROBE_KVER(major, minor);
}

const char *probe_class_name(enum probe_class c)
{
	switch (c) {
	case PROBE_EMULATED:
		return "emulated";
	case PROBE_SSTEP:
		return "single-stepped";
	case PROBE_REFUSED:
		return "refused";
	}
	return "?";
}

/* --- x86-64 ---------------------------------------------------------------
 *
 * arch_uprobe_analyze_insn() (arch/x86/kernel/uprobes.c) decodes the
 * instruction with the kernel's x86 decoder, then:
 *
 *  1. uprobe_init_insn(): refuses the ES/CS/SS/DS segment and LOCK
 *     prefixes (is_prefix_bad), `mov ...,%ss` and `pop %ss`
 *     (insn_masking_exception), and every first opcode byte its 64-bit
 *     table marks invalid or unsupported (below).  For VEX/EVEX-encoded
 *     instructions the decoder's "first opcode byte" is the byte after the
 *     VEX prefix, and the same table applies to it.  0x0f (two- and
 *     three-byte opcodes) is allowed as a whole.
 *  2. branch_setup_xol_ops(): emulates jmp rel8/rel32, call rel32, jcc
 *     rel8/rel32 (refusing them with a 0x66 prefix), opcode 0x90 with any
 *     prefixes ("prefix* + nop"), and since 6.16 any instruction whose
 *     bytes equal the kernel's own nop of that length (x86_nops[]).
 *  3. push_setup_xol_ops(): emulates push %reg (0x50-0x57), alone or with
 *     exactly the REX prefix 0x41 (r8-r15).
 *  4. everything else is single-stepped out of line.
 *
 * Two of the emulations are wrong for instructions the decoder files under
 * the same opcode byte: `xchg %eax,%r8d` (41 90) is "emulated" as a nop,
 * and a VEX instruction whose opcode byte is a jcc/jmp/call/nop
 * (vzeroupper, c5 f8 77) is "emulated" as that branch, skipping it.  Both
 * are PROBE_REFUSED here: probing them would change the program.
 */

/* One-byte opcodes the 64-bit table of uprobe_init_insn() refuses. */
static bool x86_bad_opcode(uint8_t op)
{
	switch (op) {
	case 0x06: case 0x07: case 0x0e:		/* push/pop es, push cs */
	case 0x16: case 0x17: case 0x1e: case 0x1f:	/* push/pop ss, ds */
	case 0x27: case 0x2f: case 0x37: case 0x3f:	/* daa das aaa aas */
	case 0x60: case 0x61: case 0x62:		/* pusha popa bound */
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:	/* ins outs */
	case 0x82: case 0x9a:				/* group 1 alias, call far */
	case 0xcc: case 0xcd: case 0xce: case 0xcf:	/* int3 int into iret */
	case 0xd4: case 0xd5: case 0xd6:		/* aam aad salc */
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:	/* in/out imm */
	case 0xea:					/* jmp far */
	case 0xec: case 0xed: case 0xee: case 0xef:	/* in/out dx */
	case 0xf1: case 0xf4: case 0xfa: case 0xfb:	/* int1 hlt cli sti */
		return true;
	}
	return false;
}

/* The kernel's nops (arch/x86/include/asm/nops.h, 64-bit), by length; the
 * 9- to 11-byte ones carry a CS prefix, which uprobe_init_insn refuses. */
static const uint8_t x86_nop_bytes[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

struct x86_parsed {
	bool bad_prefix, p66, vex;
	uint8_t rex;
	size_t nprefix;		/* legacy prefix bytes */
	size_t op;		/* index of the (first) opcode byte */
};

static bool x86_parse(const uint8_t *c, size_t len, struct x86_parsed *x)
{
	size_t i = 0;

	memset(x, 0, sizeof(*x));
	for (; i < len; i++) {
		switch (c[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0xf0:
			x->bad_prefix = true;
			continue;
		case 0x66:
			x->p66 = true;
			continue;
		case 0x64: case 0x65: case 0x67: case 0xf2: case 0xf3:
			continue;
		}
		break;
	}
	x->nprefix = i;
	if (i < len && (c[i] & 0xf0) == 0x40)
		x->rex = c[i++];
	if (i < len && (c[i] == 0xc4 || c[i] == 0xc5 || c[i] == 0x62)) {
		/* in 64-bit mode these always start a VEX / EVEX prefix */
		x->vex = true;
		i += c[i] == 0xc5 ? 2 : c[i] == 0xc4 ? 3 : 4;
	}
	x->op = i;
	return i < len;
}

static bool x86_is_branch_opcode(const uint8_t *c, size_t op, size_t len)
{
	uint8_t o = c[op];

	if (o == 0xeb || o == 0xe9 || o == 0xe8 || (o >= 0x70 && o <= 0x7f))
		return true;
	/* jcc rel32: 0f 80..8f */
	return o == 0x0f && op + 1 < len && c[op + 1] >= 0x80 && c[op + 1] <= 0x8f;
}

enum probe_class probe_class_x86_64(const uint8_t *c, size_t len, unsigned int kver)
{
	struct x86_parsed x;
	uint8_t op;

	if (!len || len > 15 || !x86_parse(c, len, &x))
		return PROBE_REFUSED;
	op = c[x.op];
	/* 1. uprobe_init_insn */
	if (x.bad_prefix || x86_bad_opcode(op))
		return PROBE_REFUSED;
	if (!x.vex && op == 0x8e && x.op + 1 < len && ((c[x.op + 1] >> 3) & 7) == 2)
		return PROBE_REFUSED;	/* mov to %ss */
	if (x.vex) {
		/* decoded under its VEX opcode byte: a branch or nop byte
		 * would be "emulated" as one */
		if (op == 0x90 || op == 0xeb || op == 0xe9 || op == 0xe8 ||
		    (op >= 0x70 && op <= 0x7f))
			return PROBE_REFUSED;
		return PROBE_SSTEP;
	}
	/* 2. branch_setup_xol_ops */
	if (kver >= PROBE_KVER(6, 16) && len < sizeof(x86_nop_bytes) / sizeof(x86_nop_bytes[0]) &&
	    !memcmp(c, x86_nop_bytes[len], len))
		return PROBE_EMULATED;
	if (op == 0x90) {
		/* with REX.B it is xchg %eax,%r8d, not a nop */
		return (x.rex & 1) ? PROBE_REFUSED : PROBE_EMULATED;
	}
	if (x86_is_branch_opcode(c, x.op, len))
		return x.p66 ? PROBE_REFUSED : PROBE_EMULATED;
	/* 3. push_setup_xol_ops */
	if (op >= 0x50 && op <= 0x57 &&
	    (len == 1 || (len == 2 && x.nprefix == 0 && x.rex == 0x41)))
		return PROBE_EMULATED;
	/* 4. out of line */
	return PROBE_SSTEP;
}

/* --- arm64 ----------------------------------------------------------------
 *
 * arch_uprobe_analyze_insn() (arch/arm64/kernel/probes/uprobes.c) asks
 * arm_probe_decode_insn() (arch/arm64/kernel/probes/decode-insn.c):
 *
 *  1. nop is simulated (simulate_nop, since 6.13);
 *  2. an instruction aarch64_insn_is_steppable() accepts is single-stepped;
 *  3. b.cond, cbz/cbnz, tbz/tbnz, adr/adrp, b/bl, br/blr/ret are simulated
 *     (simulate-insn.c);
 *  4. anything else is refused: other branches (pointer-authenticating
 *     ones, eret), exception generation, msr, mrs of DAIF, hints outside a
 *     whitelist, PC-relative literal loads and exclusive loads/stores.
 *
 * Encodings are the masks of arch/arm64/include/asm/insn.h.
 */
#define A64_IS(insn, mask, val) (((insn) & (mask)) == (val))

static bool a64_simulated_branch(uint32_t i)
{
	return A64_IS(i, 0xff000010, 0x54000000) ||	/* b.cond */
	       A64_IS(i, 0x7e000000, 0x34000000) ||	/* cbz, cbnz */
	       A64_IS(i, 0x7e000000, 0x36000000) ||	/* tbz, tbnz */
	       A64_IS(i, 0x1f000000, 0x10000000) ||	/* adr, adrp */
	       A64_IS(i, 0x7c000000, 0x14000000) ||	/* b, bl */
	       A64_IS(i, 0xfffffc1f, 0xd61f0000) ||	/* br */
	       A64_IS(i, 0xfffffc1f, 0xd63f0000) ||	/* blr */
	       A64_IS(i, 0xfffffc1f, 0xd65f0000);	/* ret */
}

static bool a64_steppable_hint(uint32_t i)
{
	switch (i & 0xfe0) {		/* CRm:op2 of HINT */
	case 0x000:			/* nop */
	case 0x0e0:			/* xpaclri */
	case 0x100: case 0x140:		/* pacia1716, pacib1716 */
	case 0x300: case 0x320:		/* paciaz, paciasp */
	case 0x340: case 0x360:		/* pacibz, pacibsp */
	case 0x400: case 0x440:		/* bti, bti c */
	case 0x480: case 0x4c0:		/* bti j, bti jc */
		return true;
	}
	return false;
}

/* aarch64_insn_is_steppable() */
static bool a64_steppable(uint32_t i)
{
	if (A64_IS(i, 0x1c000000, 0x14000000)) {	/* branch, exception, system */
		if (a64_simulated_branch(i) && !A64_IS(i, 0x1f000000, 0x10000000))
			return false;
		if (A64_IS(i, 0xfefff800, 0xd61f0800) ||	/* braa, brab... */
		    A64_IS(i, 0xfefff800, 0xd63f0800) ||	/* blraa, blrab... */
		    A64_IS(i, 0xfffffbff, 0xd65f0bff) ||	/* retaa, retab */
		    A64_IS(i, 0xffffffff, 0xd69f03e0) ||	/* eret */
		    A64_IS(i, 0xfffffbff, 0xd69f0bff) ||	/* eretaa, eretab */
		    A64_IS(i, 0xff000000, 0xd4000000) ||	/* svc hvc smc brk hlt dcps */
		    A64_IS(i, 0xfff8f01f, 0xd500401f) ||	/* msr (immediate) */
		    A64_IS(i, 0xfff00000, 0xd5100000))	/* msr (register) */
			return false;
		if (A64_IS(i, 0xfff00000, 0xd5300000))		/* mrs: not of DAIF */
			return ((i & 0x1fffe0) >> 5) != 0xda11;
		if (A64_IS(i, 0xfffff01f, 0xd503201f))		/* hint */
			return a64_steppable_hint(i);
		return true;
	}
	if (A64_IS(i, 0xbf000000, 0x18000000) ||	/* ldr (literal) */
	    A64_IS(i, 0xff000000, 0x98000000) ||	/* ldrsw (literal) */
	    A64_IS(i, 0x1f000000, 0x10000000) ||	/* adr, adrp */
	    A64_IS(i, 0xff000000, 0xd8000000) ||	/* prfm (literal) */
	    A64_IS(i, 0x3f400000, 0x08400000) ||	/* load exclusive */
	    A64_IS(i, 0x3f400000, 0x08000000))		/* store exclusive */
		return false;
	return true;
}

enum probe_class probe_class_arm64(uint32_t i, unsigned int kver)
{
	if (i == 0xd503201f && kver >= PROBE_KVER(6, 13))
		return PROBE_EMULATED;
	if (a64_steppable(i))
		return PROBE_SSTEP;
	if (a64_simulated_branch(i))
		return PROBE_EMULATED;
	return PROBE_REFUSED;
}

enum probe_class probe_class_of(enum retsites_arch arch, const uint8_t *insn, size_t len,
				unsigned int kver)
{
	switch (arch) {
	case RETSITES_X86_64:
		return probe_class_x86_64(insn, len, kver);
	case RETSITES_ARM64:
		if (len != 4)
			return PROBE_REFUSED;
		return probe_class_arm64((uint32_t)insn[0] | (uint32_t)insn[1] << 8 |
					 (uint32_t)insn[2] << 16 | (uint32_t)insn[3] << 24,
					 kver);
	}
	return PROBE_REFUSED;
}
