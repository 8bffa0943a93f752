/* SPDX-License-Identifier: MIT */
/*
 * Argument and result reading at a probe: the "read plan" (docs/args.md).
 *
 * User space compiles, per probe site, a plan: a list of reads that copy
 * argument registers, stack slots of the argument area and the memory
 * they point to (string bytes, slice elements, pointees, an interface's
 * dynamic type and value) into a flat buffer, the "blob", at offsets the
 * plan fixes.  The BPF program runs the plan and sends the blob with the
 * event; user space decodes it with the types it compiled the plan from.
 * Reads are bounded: a plan has at most GA_MAX_OPS reads and a blob at
 * most GA_BLOB_MAX bytes; each read at most GA_READ_MAX.
 *
 * A read depends on at most one earlier read (parent: it runs only if the
 * parent completed) and may be guarded by a count in the blob (slice
 * element i is read only if the slice's length is > i).  The event header
 * says which reads completed and which faulted, so a value is never
 * decoded from bytes that were not read.
 *
 * Shared by bpf/funcgraph.bpf.c and gotrace/args/; fixed-width types only.
 * The executor (ga_run) is compiled only when __BPF__ is defined.
 */
#ifndef GOTRACE_BPF_ARGS_H
#define GOTRACE_BPF_ARGS_H

#define GA_MAX_OPS	128	/* reads per plan (two u64 masks) */
#define GA_BLOB_MAX	4096	/* value bytes per event */
#define GA_READ_MAX	4096	/* bytes of one read */
#define GA_MAX_CONDS	4	/* --filter conditions per plan */
#define GA_COND_STR	32	/* bytes of a string a condition compares */
#define GA_NONE		0xffff
/* The buffer a plan runs in: the blob, and room for the verifier's view
 * of the last read (a read's length is masked, not just bounded). */
#define GA_BUF_SIZE	(GA_BLOB_MAX + 2 * GA_READ_MAX)
#define GA_NREGS	16	/* integer argument registers, at most (arm64) */

enum ga_op_code {
	GA_OP_REG = 1,		/* integer register reg, size 1/2/4/8 bytes */
	GA_OP_STACK = 2,	/* size bytes at the argument area + off */
	GA_OP_DEREF = 3,	/* size bytes (or count * scale, at most size) at
				 * the pointer at blob[base] + off; nothing if
				 * that pointer is 0 */
};

/* op flags */
#define GA_OPF_SPECULATIVE 0x1	/* a guess (an interface value's first
				 * words taken for a string): skipped when
				 * the count is implausible (> 1 GiB) */

struct ga_op {
	__s32 off;
	__u16 dst;	/* blob offset written */
	__u16 size;
	__u16 base;	/* DEREF: blob offset of the 8-byte pointer */
	__u16 count;	/* DEREF: blob offset of an 8-byte element count; GA_NONE */
	__u16 scale;	/* DEREF with count: bytes per element */
	__u16 parent;	/* op that must have completed first; GA_NONE */
	__u16 guard;	/* blob offset of an 8-byte count that must be > guard_idx */
	__u16 guard_idx;
	__u8 code;	/* GA_OP_* */
	__u8 reg;	/* REG: index into the ABI's integer registers */
	__u8 flags;	/* GA_OPF_* */
	__u8 pad[5];
};

/* --filter: every condition must hold for the call to be sent. */
enum ga_cmp {
	GA_CMP_EQ = 1, GA_CMP_NE, GA_CMP_LT, GA_CMP_LE, GA_CMP_GT, GA_CMP_GE,
	GA_CMP_STR_EQ, GA_CMP_STR_NE, GA_CMP_STR_PREFIX,
};

struct ga_cond {
	__u64 val;		/* integer operand (sign-extended if is_signed) */
	__u16 at;		/* blob offset of the integer, or of the string's bytes */
	__u16 len_at;		/* string: blob offset of its length */
	__u16 op;		/* the read that produced the operand; GA_NONE: a register */
	__u8 cmp;		/* enum ga_cmp */
	__u8 size;		/* integer: 1/2/4/8; string: bytes of str */
	__u8 is_signed;
	__u8 pad[7];
	__u8 str[GA_COND_STR];
};

/* plan flags */
#define GA_PLAN_FILTER	0x1	/* conds decide whether the event is sent */

struct ga_plan {
	__u16 nops;
	__u16 blob;		/* bytes of the blob the plan fills */
	__u16 nconds;
	__u16 flags;		/* GA_PLAN_* */
	__u32 pad;
	struct ga_cond conds[GA_MAX_CONDS];
	struct ga_op ops[GA_MAX_OPS];
};

/* The header before the blob in an event that carries values. */
struct ga_hdr {
	__u64 ip;		/* runtime address of the probed instruction */
	__u64 done[2];		/* bit i: op i completed */
	__u64 failed[2];	/* bit i: op i's read faulted */
	__u32 plan;		/* plan index */
	__u16 len;		/* blob bytes that follow */
	__u16 flags;		/* GA_HF_* */
};

#define GA_HF_LOST	0x1	/* no room to read (recursion, allocation): no values */

#ifdef __BPF__

struct ga_loopctx {
	__u64 regs[GA_NREGS];
	__u64 area;		/* the argument area: SP + stack_args at the entry */
	__u64 done[2], failed[2];
	struct ga_plan *plan;
	__u8 *blob;		/* GA_BUF_SIZE bytes */
};

static __always_inline bool ga_bit(const __u64 *m, __u32 i)
{
	return m[(i >> 6) & 1] & (1ULL << (i & 63));
}

static __always_inline void ga_setbit(__u64 *m, __u32 i)
{
	m[(i >> 6) & 1] |= 1ULL << (i & 63);
}

static __always_inline __u64 ga_word(const __u8 *blob, __u32 at)
{
	return *(const __u64 *)(blob + (at & (GA_BLOB_MAX - 1)));
}

/* Bytes a DEREF reads: size, or count * scale when that is less. */
static __always_inline __u32 ga_deref_len(const struct ga_op *op, const __u8 *blob)
{
	__s64 cnt;
	__u64 n;

	if (op->count == GA_NONE)
		return op->size;
	cnt = (__s64)ga_word(blob, op->count);
	if (cnt <= 0)
		return 0;
	if ((op->flags & GA_OPF_SPECULATIVE) && cnt > (1LL << 30))
		return 0;
	if ((__u64)cnt > op->size)
		return op->size;
	n = (__u64)cnt * (op->scale ? op->scale : 1);
	return n > op->size ? op->size : (__u32)n;
}

static long ga_step(__u64 i, struct ga_loopctx *c)
{
	struct ga_plan *pl = c->plan;
	__u8 *blob = c->blob;
	struct ga_op *op;
	__u32 dst, n;
	__u64 src;

	if (!pl || !blob || i >= GA_MAX_OPS)
		return 1;
	op = &pl->ops[i & (GA_MAX_OPS - 1)];
	if (op->parent != GA_NONE && !ga_bit(c->done, op->parent))
		return 0;
	if (op->guard != GA_NONE && ga_word(blob, op->guard) <= op->guard_idx)
		return 0;
	dst = op->dst & (GA_BLOB_MAX - 1);
	switch (op->code) {
	case GA_OP_REG: {
		__u64 v = c->regs[op->reg & (GA_NREGS - 1)];

		if (op->size == 1)
			*(__u8 *)(blob + dst) = (__u8)v;
		else if (op->size == 2)
			*(__u16 *)(blob + dst) = (__u16)v;
		else if (op->size == 4)
			*(__u32 *)(blob + dst) = (__u32)v;
		else
			*(__u64 *)(blob + dst) = v;
		ga_setbit(c->done, i);
		return 0;
	}
	case GA_OP_STACK:
		n = op->size;
		src = c->area + op->off;
		break;
	case GA_OP_DEREF:
		src = ga_word(blob, op->base);
		if (!src)
			return 0;	/* nil: nothing to read, and not read */
		if ((op->flags & GA_OPF_SPECULATIVE) && src < 4096)
			return 0;
		src += op->off;
		n = ga_deref_len(op, blob);
		break;
	default:
		return 0;
	}
	if (n > GA_READ_MAX)
		n = GA_READ_MAX;
	/* No change to n, but a bound the verifier sees on the very register
	 * the call gets (the compiler would drop a plain mask, or test a
	 * copy); the buffer has room for it: GA_BUF_SIZE. */
	asm volatile("%[n] &= 0x1fff" : [n] "+r"(n));
	if (n && bpf_probe_read_user(blob + dst, n, (const void *)src)) {
		ga_setbit(c->failed, i);
		return 0;
	}
	ga_setbit(c->done, i);
	return 0;
}

/* The integer registers in the ABI's order (gosym_abi.int_regs). */
static __always_inline void ga_regs(struct pt_regs *ctx, __u64 *r)
{
#if defined(__TARGET_ARCH_x86)
	r[0] = ctx->ax;
	r[1] = ctx->bx;
	r[2] = ctx->cx;
	r[3] = ctx->di;
	r[4] = ctx->si;
	r[5] = ctx->r8;
	r[6] = ctx->r9;
	r[7] = ctx->r10;
	r[8] = ctx->r11;
#elif defined(__TARGET_ARCH_arm64)
	for (int k = 0; k < 16; k++)
		r[k] = ctx->regs[k];
#endif
}

static __always_inline bool ga_cond_holds(const struct ga_cond *cd, const __u8 *blob,
					  const __u64 *done)
{
	__u64 v;
	__s64 sv, sc;
	bool r = false;

	if (cd->op != GA_NONE && !ga_bit(done, cd->op))
		return cd->cmp == GA_CMP_NE || cd->cmp == GA_CMP_STR_NE;
	if (cd->cmp >= GA_CMP_STR_EQ) {
		__u64 len = ga_word(blob, cd->len_at);
		__u32 at = cd->at & (GA_BLOB_MAX - 1);
		bool same = true;

		if (cd->cmp != GA_CMP_STR_PREFIX ? len != cd->size : len < cd->size)
			same = false;
		for (int k = 0; k < GA_COND_STR && same; k++)
			if (k < cd->size && blob[(at + k) & (2 * GA_BLOB_MAX - 1)] != cd->str[k])
				same = false;
		return cd->cmp == GA_CMP_STR_NE ? !same : same;
	}
	v = ga_word(blob, cd->at);
	if (cd->size < 8)
		v &= (1ULL << (cd->size * 8)) - 1;
	sv = (__s64)v;
	if (cd->is_signed && cd->size < 8 && (v >> (cd->size * 8 - 1)) & 1)
		sv = (__s64)(v | ~((1ULL << (cd->size * 8)) - 1));
	sc = (__s64)cd->val;
	switch (cd->cmp) {
	case GA_CMP_EQ: r = cd->is_signed ? sv == sc : v == cd->val; break;
	case GA_CMP_NE: r = cd->is_signed ? sv != sc : v != cd->val; break;
	case GA_CMP_LT: r = cd->is_signed ? sv < sc : v < cd->val; break;
	case GA_CMP_LE: r = cd->is_signed ? sv <= sc : v <= cd->val; break;
	case GA_CMP_GT: r = cd->is_signed ? sv > sc : v > cd->val; break;
	case GA_CMP_GE: r = cd->is_signed ? sv >= sc : v >= cd->val; break;
	}
	return r;
}

/*
 * Run plan pl: blob (GA_BUF_SIZE bytes) gets the values,
 * h the masks.  area: the argument area's address (SP at the function's
 * entry + stack_args).  Returns false when the plan's filter rejects the
 * call.
 */
static __always_inline bool ga_run(struct pt_regs *ctx, struct ga_plan *pl, __u8 *blob, __u64 area,
				   struct ga_hdr *h)
{
	struct ga_loopctx c = { .area = area, .plan = pl, .blob = blob };
	__u32 n = pl->nops;

	ga_regs(ctx, c.regs);
	if (n > GA_MAX_OPS)
		n = GA_MAX_OPS;
	bpf_loop(n, ga_step, &c, 0);
	h->done[0] = c.done[0];
	h->done[1] = c.done[1];
	h->failed[0] = c.failed[0];
	h->failed[1] = c.failed[1];
	h->len = pl->blob > GA_BLOB_MAX ? GA_BLOB_MAX : pl->blob;
	h->flags = 0;
	if (pl->flags & GA_PLAN_FILTER) {
		for (int k = 0; k < GA_MAX_CONDS; k++) {
			if (k >= pl->nconds)
				break;
			if (!ga_cond_holds(&pl->conds[k], blob, c.done))
				return false;
		}
	}
	return true;
}

#endif /* __BPF__ */
#endif /* GOTRACE_BPF_ARGS_H */
