// SPDX-License-Identifier: MIT
/*
 * Architecture ops: register layout, the Go pclntab and frame-pointer
 * rules, and signal frames.
 *
 * Go (docs/go-runtime.md, "Go frames"): amd64 CFA = SP + pcsp + 8, RA =
 * *(CFA - 8), the caller's BP saved at CFA - 16 in every frame that has
 * one (pcsp > 0).  arm64 CFA = SP + pcsp; the RA is still in LR while
 * pcsp == 0 (leaf or prologue), else at *(SP); the caller's FP sits just
 * below the frame, at SP - 8.
 *
 * Signal frames: the kernel builds a struct rt_sigframe on the stack and
 * makes the handler return to a trampoline that calls rt_sigreturn.  At the
 * trampoline, SP points at the saved context (x86_64: the ucontext right
 * after pretcode; arm64: the rt_sigframe, siginfo first).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "dwunw_internal.h"

#define BIT(n) (1ULL << (n))

static int need(const struct unw_regs *r, int reg)
{
	return (r->valid & BIT(reg)) ? 0 : -DWUNW_STOP_NO_REG;
}

/* ---- x86_64 ---- */

static int x86_go_step(struct unw_regs *regs, const struct unw_stack *st, int32_t spdelta,
		       bool frame0, uint64_t *cfa, uint64_t *ra)
{
	uint64_t fp;

	if (need(regs, DWUNW_X86_64_RSP))
		return -DWUNW_STOP_NO_REG;
	*cfa = regs->r[DWUNW_X86_64_RSP] + (uint64_t)(int64_t)spdelta + 8;
	if (stack_read(st, *cfa - 8, ra))
		return -DWUNW_STOP_STACK_READ;
	if (spdelta > 0) {
		if (stack_read(st, *cfa - 16, &fp) == 0) {
			regs->r[DWUNW_X86_64_RBP] = fp;
			regs->valid |= BIT(DWUNW_X86_64_RBP);
		} else {
			regs->valid &= ~BIT(DWUNW_X86_64_RBP);
		}
	}
	return 0;
}

static int fp_walk(struct unw_regs *regs, const struct unw_stack *st, int fpreg, int spreg,
		   uint64_t *cfa, uint64_t *ra, uint64_t *nfp)
{
	uint64_t fp = regs->r[fpreg];

	if (need(regs, fpreg))
		return -DWUNW_STOP_NO_REG;
	if ((fp & 7) || fp < st->base || ((regs->valid & BIT(spreg)) && fp < regs->r[spreg]))
		return -DWUNW_STOP_BAD_FP;
	if (stack_read(st, fp, nfp) || stack_read(st, fp + 8, ra))
		return -DWUNW_STOP_STACK_READ;
	*cfa = fp + 16;
	return 0;
}

static int x86_fp_step(struct unw_regs *regs, const struct unw_stack *st, uint64_t *cfa,
		       uint64_t *ra, uint64_t *fp)
{
	return fp_walk(regs, st, DWUNW_X86_64_RBP, DWUNW_X86_64_RSP, cfa, ra, fp);
}

static bool x86_is_sigreturn(const uint8_t *c, size_t n)
{
	/* mov $15,%rax; syscall (glibc __restore_rt, Go's runtime.sigreturn__sigaction) */
	static const uint8_t a[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
	/* mov $15,%eax; syscall (musl) */
	static const uint8_t b[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

	return (n >= sizeof(a) && !memcmp(c, a, sizeof(a))) ||
	       (n >= sizeof(b) && !memcmp(c, b, sizeof(b)));
}

static int x86_sigframe_restore(struct unw_regs *regs, const struct unw_stack *st, uint64_t *pc)
{
	/* struct sigcontext inside ucontext (40 bytes of uc_flags, uc_link,
	 * uc_stack before it): r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx,
	 * rsp, rip.  Here as DWARF numbers. */
	static const int8_t order[] = {8, 9, 10, 11, 12, 13, 14, 15, 5, 4, 6, 3, 1, 0, 2, 7};
	uint64_t base, v;
	struct unw_regs out = {0};

	if (need(regs, DWUNW_X86_64_RSP))
		return -DWUNW_STOP_NO_REG;
	base = regs->r[DWUNW_X86_64_RSP] + 40;
	for (size_t i = 0; i < sizeof(order); i++) {
		if (stack_read(st, base + 8 * i, &v))
			return -DWUNW_STOP_STACK_READ;
		out.r[order[i]] = v;
		out.valid |= BIT(order[i]);
	}
	if (stack_read(st, base + 8 * 16, pc))
		return -DWUNW_STOP_STACK_READ;
	*regs = out;
	return 0;
}

static const struct dwunw_arch_ops x86_64_ops = {
	.name = "x86_64",
	.arch = DWUNW_ARCH_X86_64,
	.e_machine = EM_X86_64,
	.sp_reg = DWUNW_X86_64_RSP,
	.fp_reg = DWUNW_X86_64_RBP,
	.ra_col = DWUNW_X86_64_RA,
	.lr_reg = -1,
	.callee_saved = BIT(3) | BIT(6) | BIT(7) | BIT(12) | BIT(13) | BIT(14) | BIT(15),
	.go_step = x86_go_step,
	.fp_step = x86_fp_step,
	.is_sigreturn = x86_is_sigreturn,
	.sigframe_restore = x86_sigframe_restore,
};

/* ---- arm64 ---- */

static int arm64_go_step(struct unw_regs *regs, const struct unw_stack *st, int32_t spdelta,
			 bool frame0, uint64_t *cfa, uint64_t *ra)
{
	uint64_t sp, fp;

	if (need(regs, DWUNW_ARM64_SP))
		return -DWUNW_STOP_NO_REG;
	sp = regs->r[DWUNW_ARM64_SP];
	*cfa = sp + (uint64_t)(int64_t)spdelta;
	if (spdelta == 0) {
		/* Leaf or before the prologue stored LR: only the innermost
		 * frame (or one interrupted by a signal) still has it. */
		if (need(regs, DWUNW_ARM64_LR))
			return -DWUNW_STOP_NO_REG;
		*ra = regs->r[DWUNW_ARM64_LR];
		return 0;
	}
	if (stack_read(st, sp, ra))
		return -DWUNW_STOP_STACK_READ;
	if (stack_read(st, sp - 8, &fp) == 0) {
		regs->r[DWUNW_ARM64_FP] = fp;
		regs->valid |= BIT(DWUNW_ARM64_FP);
	} else {
		regs->valid &= ~BIT(DWUNW_ARM64_FP);
	}
	return 0;
}

static int arm64_fp_step(struct unw_regs *regs, const struct unw_stack *st, uint64_t *cfa,
			 uint64_t *ra, uint64_t *fp)
{
	return fp_walk(regs, st, DWUNW_ARM64_FP, DWUNW_ARM64_SP, cfa, ra, fp);
}

static bool arm64_is_sigreturn(const uint8_t *c, size_t n)
{
	/* mov x8, #139 (rt_sigreturn); svc #0 */
	static const uint8_t a[] = {0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4};

	return n >= sizeof(a) && !memcmp(c, a, sizeof(a));
}

static int arm64_sigframe_restore(struct unw_regs *regs, const struct unw_stack *st, uint64_t *pc)
{
	/* rt_sigframe: siginfo (128), ucontext: uc_flags, uc_link, uc_stack
	 * (24), uc_sigmask + padding to 128 bytes, then uc_mcontext at 176
	 * (16-aligned): fault_address, regs[31], sp, pc. */
	uint64_t base, v;
	struct unw_regs out = {0};

	if (need(regs, DWUNW_ARM64_SP))
		return -DWUNW_STOP_NO_REG;
	base = regs->r[DWUNW_ARM64_SP] + 128 + 176 + 8;
	for (int i = 0; i < 32; i++) { /* x0..x30, then sp */
		if (stack_read(st, base + 8 * i, &v))
			return -DWUNW_STOP_STACK_READ;
		out.r[i] = v;
		out.valid |= BIT(i);
	}
	if (stack_read(st, base + 8 * 32, pc))
		return -DWUNW_STOP_STACK_READ;
	*regs = out;
	return 0;
}

static const struct dwunw_arch_ops arm64_ops = {
	.name = "arm64",
	.arch = DWUNW_ARCH_ARM64,
	.e_machine = EM_AARCH64,
	.sp_reg = DWUNW_ARM64_SP,
	.fp_reg = DWUNW_ARM64_FP,
	.ra_col = DWUNW_ARM64_LR,
	.lr_reg = DWUNW_ARM64_LR,
	/* x19..x29 and sp */
	.callee_saved = 0xffeULL << 18 | BIT(31),
	.go_step = arm64_go_step,
	.fp_step = arm64_fp_step,
	.is_sigreturn = arm64_is_sigreturn,
	.sigframe_restore = arm64_sigframe_restore,
};

const struct dwunw_arch_ops *arch_ops_by_arch(unsigned int arch)
{
	switch (arch) {
	case DWUNW_ARCH_X86_64: return &x86_64_ops;
	case DWUNW_ARCH_ARM64: return &arm64_ops;
	}
	return NULL;
}

const struct dwunw_arch_ops *arch_ops_by_machine(unsigned int e_machine)
{
	switch (e_machine) {
	case EM_X86_64: return &x86_64_ops;
	case EM_AARCH64: return &arm64_ops;
	}
	return NULL;
}

const char *dwunw_arch_name(unsigned int arch)
{
	const struct dwunw_arch_ops *ops = arch_ops_by_arch(arch);

	return ops ? ops->name : NULL;
}

int dwunw_arch_from_name(const char *name)
{
	if (!strcmp(name, "x86_64") || !strcmp(name, "amd64"))
		return DWUNW_ARCH_X86_64;
	if (!strcmp(name, "arm64") || !strcmp(name, "aarch64"))
		return DWUNW_ARCH_ARM64;
	return -EOPNOTSUPP;
}

uint64_t dwunw_regs_sp(const struct dwunw_regs *regs)
{
	const struct dwunw_arch_ops *ops = arch_ops_by_arch(regs->arch);

	if (!ops || !(regs->valid & BIT(ops->sp_reg)))
		return 0;
	return regs->r[ops->sp_reg];
}
