/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * func_probe.h: the probes on Go functions that funcgraph, funccount and
 * funclatency share: the attach cookie that tells them apart, and (BPF
 * side) whose goroutine a hit belongs to.
 *
 * Every probe of a function-tracing command runs one program body; its
 * attach cookie says which traced function it belongs to (an index into
 * the command's function table) and what kind of site it is.  The
 * cookie, never the runtime IP, identifies the probe, so PIE and ASLR
 * don't matter.  User space builds the cookies with FP_COOKIE()
 * (gotrace/probes/funcs.c places the probes of all three commands).
 */
#ifndef GOTRACE_FUNC_PROBE_H
#define GOTRACE_FUNC_PROBE_H

/* Probe kinds (cookie bits 32-39). */
#define FP_KIND_ENTRY		0 /* a traced function's entry site (probes/sites.h) */
#define FP_KIND_RET		1 /* a RET instruction of a traced function */
#define FP_KIND_MORESTACK	2 /* runtime.morestack: the caller's entry will fire again */
#define FP_KIND_GEXIT		3 /* runtime.goexit0: the goroutine is gone */
#define FP_KIND_UNWIND		4 /* runtime.deferreturn: frames deeper than
				   * its caller are gone (a recovered panic
				   * resumes there) */

/* Cookie: func index (bits 0-31) | kind << 32 | flags (bits 40-47) |
 * command-specific bits from 48 on. */
#define FP_COOKIE_KIND_SHIFT	32
#define FP_COOKIE_TLS		(1ULL << 40) /* ABI0 code: g from TLS, not R14 */
#define FP_COOKIE_G0		(1ULL << 41) /* may run on g0: use g.m.curg's goid */
#define FP_COOKIE(idx, kind, flags) \
	((__u64)(__u32)(idx) | ((__u64)(kind) << FP_COOKIE_KIND_SHIFT) | (flags))
#define FP_COOKIE_KIND(c)	((__u32)((c) >> FP_COOKIE_KIND_SHIFT) & 0xff)
/* The function index of a special probe (morestack, goexit0, deferreturn). */
#define FP_NO_FUNC		0xffffffffu

#ifdef __bpf__

#define FP_NO_GOROUTINE		(-2)

/* The goroutine a probe hit belongs to, as funcgraph defines it
 * (docs/funcgraph.md, "Which goroutine"): g from R14 or TLS (cookie
 * FP_COOKIE_TLS); for runtime functions that may run on the scheduler
 * stack (FP_COOKIE_G0), the user goroutine g.m.curg, with *g0 set.
 * *hi: the current g's stack.hi (the dist base).  Returns the goid; -1
 * when g, its stack or the goid cannot be read; FP_NO_GOROUTINE on g0
 * with no user goroutine (the scheduler, GC workers). */
static __always_inline __s64 fp_goroutine(__u64 reg_g, __u64 cookie, __u64 *hi, bool *g0)
{
	__u64 g = gr_current_g(reg_g, cookie & FP_COOKIE_TLS), curg;
	__s64 goid;

	*g0 = false;
	/* the common case: one read for both (go_runtime.h); after a
	 * failure, the reads one by one say which failed */
	if (!(cookie & FP_COOKIE_G0) && !gr_stack_hi_goid(g, hi, &goid))
		return goid;
	if (gr_stack_hi(g, hi))
		return -1;
	if ((cookie & FP_COOKIE_G0) && gr_on_g0(g, &curg)) {
		*g0 = true;
		g = curg;
	}
	return g ? gr_goid(g) : FP_NO_GOROUTINE;
}

#endif /* __bpf__ */

#endif /* GOTRACE_FUNC_PROBE_H */
