/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * --stack capture, shared by funcgraph.bpf.c and states.bpf.c and their
 * user-space readers (gotrace/tracing/stacks.c): the header a stack-carrying event
 * appends, and (BPF only) the helpers that fill it: a struct dwunw_regs
 * from the probe's registers and a copy of user stack bytes, which
 * libdwunw unwinds in user space.
 *
 * BPF: include after vmlinux.h and bpf_helpers.h.  Everything is always-inline:
 * the copy's destination is ring buffer memory whose size the verifier
 * knows only as a constant (the record was reserved with a size read from
 * rodata), so the bounds below must be visible in the caller's program.
 */
#ifndef GOTRACE_STACK_CAPTURE_H
#define GOTRACE_STACK_CAPTURE_H

#include "../unwind/dwunw_regs.h"

/* --stack-size bounds.  Each stack record reserves its full size in the
 * 64 MiB ring buffer, so 64 KiB still leaves room for ~1000 in flight.
 * (The page-by-page fallback copies whole pages: below 4 KiB it has none.) */
#define GT_STACK_MIN		512
#define GT_STACK_MAX		65536
#define GT_STACK_DEFAULT	16384

/* gt_stack_hdr.flags */
#define GT_SF_WHOLE		0x1 /* the copy reaches the stack's end (g.stack.hi) */
#define GT_SF_PAGED		0x2 /* the one-piece copy faulted; copied page by page */

struct gt_stack_hdr {
	__u32 len;		/* valid stack bytes after this header */
	__u32 flags;		/* GT_SF_* */
	struct dwunw_regs regs;	/* where the copy starts: regs' SP */
};

#ifdef __bpf__
#define SC_PAGE		4096
/* pages the fallback loop may visit: a copy of at most 64 KiB starting
 * anywhere in a page touches 17 */
#define SC_MAX_PAGES	17

static __always_inline void sc_fill_regs(struct dwunw_regs *r, struct pt_regs *ctx)
{
	r->version = DWUNW_REGS_VERSION;
	r->_pad = 0;
#if defined(__TARGET_ARCH_x86)
	r->arch = DWUNW_ARCH_X86_64;
	r->pc = ctx->ip;
	r->r[0] = ctx->ax;
	r->r[1] = ctx->dx;
	r->r[2] = ctx->cx;
	r->r[3] = ctx->bx;
	r->r[4] = ctx->si;
	r->r[5] = ctx->di;
	r->r[6] = ctx->bp;
	r->r[7] = ctx->sp;
	r->r[8] = ctx->r8;
	r->r[9] = ctx->r9;
	r->r[10] = ctx->r10;
	r->r[11] = ctx->r11;
	r->r[12] = ctx->r12;
	r->r[13] = ctx->r13;
	r->r[14] = ctx->r14;
	r->r[15] = ctx->r15;
	for (int i = 16; i < DWUNW_MAX_REGS; i++)
		r->r[i] = 0;
	r->valid = 0xffff;
#elif defined(__TARGET_ARCH_arm64)
	r->arch = DWUNW_ARCH_ARM64;
	r->pc = ctx->pc;
	for (int i = 0; i < 31; i++)
		r->r[i] = ctx->regs[i];
	r->r[31] = ctx->sp;
	r->valid = 0xffffffffULL;
#endif
}

/* Replace the snapshot by a saved context (a parked goroutine's g.sched):
 * pc, SP and frame pointer known, every other register not. */
static __always_inline void sc_set_context(struct dwunw_regs *r, __u64 pc, __u64 sp, __u64 fp)
{
	r->pc = pc;
#if defined(__TARGET_ARCH_x86)
	r->r[DWUNW_X86_64_RSP] = sp;
	r->r[DWUNW_X86_64_RBP] = fp;
	r->valid = (1ULL << DWUNW_X86_64_RSP) | (1ULL << DWUNW_X86_64_RBP);
#elif defined(__TARGET_ARCH_arm64)
	r->r[DWUNW_ARM64_SP] = sp;
	r->r[DWUNW_ARM64_FP] = fp;
	r->valid = (1ULL << DWUNW_ARM64_SP) | (1ULL << DWUNW_ARM64_FP);
#endif
}

/*
 * Bytes to reserve for a copy from sp up to hi (0: unknown) of at most max
 * (the rodata --stack-size): the smallest power of two from GT_STACK_MIN
 * that holds it, so a shallow stack takes a small record and the ring
 * buffer holds many more of them.  The loop is unrolled and max is a
 * rodata constant, so each return yields a constant, which is what
 * bpf_ringbuf_reserve() and the copy's bounds need.
 */
static __always_inline __u32 sc_class(__u64 sp, __u64 hi, __u32 max)
{
	__u64 need = hi > sp && hi - sp < max ? hi - sp : max;

#pragma unroll
	for (__u32 c = GT_STACK_MIN; c < GT_STACK_MAX; c <<= 1)
		if (need <= c || max <= c)
			return max < c ? max : c;
	return max < GT_STACK_MAX ? max : GT_STACK_MAX;
}

/*
 * Copy user memory [sp, min(sp + size, hi)) to dst (size bytes reserved).
 * hi = 0 when the stack's end is unknown.  bpf_probe_read_user fails as a
 * whole when any byte faults (an unmapped guard page above a thread's
 * stack, or memory not resident), so on failure the copy is redone page by
 * page up to the first page that fails, in whole pages only (the verifier
 * must see every piece end inside the reservation).  Returns the bytes
 * copied; *flags gets GT_SF_* bits.
 */
static __always_inline __u32 sc_copy_stack(__u8 *dst, __u32 size, __u64 sp, __u64 hi,
					   __u32 *flags)
{
	__u64 len = size, addr = sp;
	__u32 off = 0;

	if (hi > sp && hi - sp <= len) {
		len = hi - sp;
		*flags |= GT_SF_WHOLE;
	}
	if (len > size)		/* for the verifier: len <= size */
		len = size;
	if (!bpf_probe_read_user(dst, len, (void *)sp))
		return len;
	*flags = (*flags & ~GT_SF_WHOLE) | GT_SF_PAGED;
	if (size < SC_PAGE)	/* a constant: the verifier drops the loop */
		return 0;
	/* at most size / SC_PAGE + 1 pieces (a first partial page, then
	 * whole ones); the bound, a constant per size class, also keeps the
	 * verifier from walking iterations no class can reach */
	for (int i = 0; i < SC_MAX_PAGES && i <= size / SC_PAGE; i++) {
		__u64 chunk = SC_PAGE - (addr & (SC_PAGE - 1));

		if (off > size - SC_PAGE)
			break;
		if (off + chunk > len)
			chunk = len - off;
		if (chunk > SC_PAGE)
			chunk = SC_PAGE;
		if (!chunk || bpf_probe_read_user(dst + off, chunk, (void *)addr))
			break;
		off += chunk;
		addr += chunk;
	}
	if (off == len && hi && sp + len == hi)
		*flags |= GT_SF_WHOLE;
	return off;
}
#endif /* __bpf__ */

#endif /* GOTRACE_STACK_CAPTURE_H */
