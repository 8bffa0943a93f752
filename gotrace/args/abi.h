/* SPDX-License-Identifier: MIT */
/*
 * Where each argument and result of a Go function is at its first
 * instruction and at its RET instructions: the ABIInternal assignment
 * rules (the compiler's src/cmd/compile/abi-internal.md, summarized in
 * docs/args.md) applied to the parameter types DWARF gives, with the
 * register tables and version facts of gosym_abi().
 *
 * Arguments (receiver first) take integer and floating-point registers in
 * order; a value that contains an array of more than one element, or that
 * doesn't fit in the registers left, goes whole on the stack.  Results
 * start over from the first registers.  Stack-assigned values are laid out
 * in order with their alignment: arguments, then (pointer-aligned)
 * results.  Without the register ABI every value is on the stack.
 *
 * ga_abi_check() compares the assignment with the DWARF location at the
 * function's entry, where DWARF has one: the compiler's own word.
 */
#ifndef GOTRACE_ARGS_ABI_H
#define GOTRACE_ARGS_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "gosym.h"
#include "args/types.h"

enum ga_where {
	GA_IN_INT,	/* integer register reg (index into gosym_abi.int_regs) */
	GA_IN_FLOAT,	/* floating-point register reg */
};

/* One register's part of a register-assigned value. */
struct ga_piece {
	uint8_t where;	/* enum ga_where */
	uint8_t reg;
	uint16_t size;	/* bytes of the value in it */
	uint32_t off;	/* where those bytes are in the value's memory layout */
};

#define GA_MAX_PIECES 32	/* more than any architecture's registers */

struct ga_loc {
	bool stack;		/* the whole value is on the stack... */
	int32_t stack_off;	/* ...at this offset from the argument area,
				 * which starts at SP + gosym_abi.stack_args at
				 * the first instruction and at every RET */
	uint8_t npieces;	/* else: in these registers (0 for zero-size) */
	struct ga_piece pieces[GA_MAX_PIECES];
	/* A register-assigned argument's spill slot (offset from the argument
	 * area): where the function saves it when it needs to (stack growth,
	 * its address taken); -1 for results and stack-assigned values.
	 * Go 1.17's DWARF gives it as the location even at the entry. */
	int32_t spill_off;
};

/* Assign every parameter of f; locs[i] is f->params[i]'s location.  The
 * dictionary of a shape function is assigned (it takes a register) but has
 * no entry.  flags: GA_ABI0, the function uses the stack ABI even where the
 * binary has the register ABI; GA_IMPLICIT_RECV, it takes a pointer
 * receiver before f->params, assigned into *recv (if not NULL).  -EOPNOTSUPP if a
 * parameter's type is GA_UNKNOWN (its size and layout, hence everything
 * after it, are uncertain). */
#define GA_ABI0			0x1 /* the stack ABI (assembly, ABI wrappers) */
#define GA_IMPLICIT_RECV	0x2 /* a pointer receiver DWARF leaves out (method wrappers) */

int ga_abi_assign(const struct gosym_abi *abi, const struct ga_func *f, unsigned flags,
		  struct ga_loc *locs, struct ga_loc *recv);

/* The traceback argument layout the compiler writes for a function
 * (pclntab FUNCDATA_ArgInfo, gosym_funcdata()): at most 161 bytes. */
struct ga_arginfo {
	uint8_t b[192];
	size_t len;
};

/* ga_abi_assign(), and the argument layout that assignment implies, as the
 * compiler would write it, into *ai. */
int ga_abi_assign_ai(const struct gosym_abi *abi, const struct ga_func *f, unsigned flags,
		     struct ga_loc *locs, struct ga_loc *recv, struct ga_arginfo *ai);

/* Compare locs with the DWARF locations at f's entry.  Returns the number
 * of parameters compared (those DWARF places at the entry), or -EPROTO
 * after writing the first difference into why ("b: DWARF says RBX, the
 * rules RCX"). */
int ga_abi_check(const struct gosym_abi *abi, const struct ga_func *f, const struct ga_loc *locs,
		 char *why, size_t whylen);

/* The assignment a tracer uses.  Go names an ABI0 wrapper (which takes its
 * arguments on the stack) and a method wrapper (whose DWARF leaves out the
 * receiver) like the function they wrap, so a name pattern finds them:
 * for compiler-made functions the variants are tried, ABI0, an implicit
 * receiver, the rules as they are, and the first one DWARF's entry
 * locations confirm is taken; for other functions the rules, unless DWARF
 * contradicts them and confirms ABI0 (assembly).  abi0_hint: 1 if the
 * symbol table names the function "<name>.abi0", 0 if it has symbols and
 * doesn't, -1 unknown (stripped of symbols).  ai: the function's argument
 * layout from the pclntab (NULL if it has none): a variant must produce it
 * exactly, and producing it confirms a variant DWARF says nothing about
 * (blank parameters DWARF leaves out before Go 1.22 are caught so).  Fills
 * locs (and *recv with
 * GA_IMPLICIT_RECV) and *flags.  0 on success; -EPROTO (why says what)
 * when DWARF contradicts every variant; -ENODATA when a compiler-made
 * function has no location to tell them apart; -EOPNOTSUPP for an unknown
 * type.  Assembly functions are ABI0: pass abi0_hint 1 for them. */
int ga_abi_resolve(const struct gosym_abi *abi, const struct ga_func *f, int abi0_hint,
		   const struct ga_arginfo *ai, struct ga_loc *locs, struct ga_loc *recv,
		   unsigned *flags, char *why, size_t whylen);

#endif /* GOTRACE_ARGS_ABI_H */
