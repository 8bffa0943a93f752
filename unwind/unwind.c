// SPDX-License-Identifier: MIT
/*
 * The walk.  Per frame: find the mapping (binary search), then in the PC
 * cache what the module knows about the lookup address (CFI row, Go
 * function and SP delta), then step with the first method that works:
 * CFI, Go pcsp, frame pointer.  No allocation, no locks; the only state
 * written outside the caller's buffers is the map's PC cache.
 *
 * Lookup address: the innermost frame and a frame interrupted by a signal
 * are looked up at their pc; every other frame's pc is a return address,
 * looked up at pc - 1 so a call that ends its function (noreturn) still
 * finds the caller's own rules.
 */
#include <errno.h>
#include <string.h>

#include "gosym.h"
#include "dwunw_internal.h"

#define BIT(n) (1ULL << (n))

/* A positive "step" result: the walk ends cleanly. */
#define STEP_END 1

static struct pc_cache_ent *cache_get(struct dwunw_map *map, uint64_t lpc)
{
	size_t h = (size_t)((lpc * 0x9E3779B97F4A7C15ULL) >> 54) & (PC_CACHE_SIZE - 1);
	struct pc_cache_ent *ce = &map->cache[h];
	const struct map_ent *me;

	if (ce->pc == lpc && ce->gen == map->gen) {
		map->cache_hits++;
		return ce;
	}
	map->cache_misses++;
	memset(ce, 0, sizeof(*ce));
	ce->pc = lpc;
	ce->gen = map->gen;
	me = map_find(map, lpc);
	ce->ment = me;
	if (!me || !me->mod)
		return ce;

	struct dwunw_module *mod = me->mod;
	uint64_t vaddr = lpc - me->bias;
	const struct cfi_row *row = cfi_find(&mod->eh, vaddr);

	if (row) {
		ce->row = row;
		ce->blob = mod->eh.blob;
		ce->blob_len = mod->eh.blob_len;
	} else if ((row = cfi_find(&mod->dbg, vaddr))) {
		ce->row = row;
		ce->blob = mod->dbg.blob;
		ce->blob_len = mod->dbg.blob_len;
	}
	if (mod->go) {
		struct gosym_func fn;
		int32_t delta;

		if (gosym_lookup_pc(mod->go, vaddr, &fn) == 0) {
			ce->go = 1;
			ce->go_flag = fn.flag;
			ce->go_special = (uint8_t)fn.special;
			if (gosym_pc_spdelta(mod->go, vaddr, &delta) == 0 && delta >= 0) {
				ce->go_spdelta = delta;
				ce->go_delta_ok = 1;
			}
		}
	}
	return ce;
}

static int reg_get(const struct unw_regs *r, unsigned int reg, uint64_t *v)
{
	if (reg >= DWUNW_MAX_REGS || !(r->valid & BIT(reg)))
		return -DWUNW_STOP_NO_REG;
	*v = r->r[reg];
	return 0;
}

/* Apply a register rule (RA or FP column). */
static int apply_rule(const struct pc_cache_ent *ce, uint8_t rule, int32_t off, unsigned int col,
		      const struct unw_regs *regs, const struct unw_stack *st, uint64_t cfa,
		      uint64_t *out)
{
	uint64_t a;
	int rc;

	switch (rule) {
	case RULE_SAME:
		return reg_get(regs, col, out);
	case RULE_UNDEF:
		return STEP_END;
	case RULE_OFFSET:
		return stack_read(st, cfa + (uint64_t)(int64_t)off, out) ? -DWUNW_STOP_STACK_READ : 0;
	case RULE_VAL_OFFSET:
		*out = cfa + (uint64_t)(int64_t)off;
		return 0;
	case RULE_REG:
		return reg_get(regs, (unsigned int)off, out);
	case RULE_EXPR:
		if ((rc = expr_eval(ce->blob, ce->blob_len, off, regs, st, true, cfa, &a)))
			return rc;
		return stack_read(st, a, out) ? -DWUNW_STOP_STACK_READ : 0;
	case RULE_VAL_EXPR:
		return expr_eval(ce->blob, ce->blob_len, off, regs, st, true, cfa, out);
	}
	return -DWUNW_STOP_UNSUPPORTED;
}

static int cfi_step(const struct dwunw_arch_ops *ops, const struct pc_cache_ent *ce,
		    struct unw_regs *regs, const struct unw_stack *st, uint64_t pc, uint64_t *cfa,
		    uint64_t *ra)
{
	const struct cfi_row *row = ce->row;
	uint64_t fp;
	int rc;

	/* x86_64 PLT expressions read rip (DWARF 16). */
	if (ops->arch == DWUNW_ARCH_X86_64) {
		regs->r[DWUNW_X86_64_RA] = pc;
		regs->valid |= BIT(DWUNW_X86_64_RA);
	}
	switch (row->cfa_rule & 0x7f) {
	case CFA_REG:
		if ((rc = reg_get(regs, row->cfa_reg, cfa)))
			return rc;
		*cfa += (uint64_t)(int64_t)row->cfa_off;
		break;
	case CFA_EXPR:
		if ((rc = expr_eval(ce->blob, ce->blob_len, row->cfa_off, regs, st, false, 0, cfa)))
			return rc;
		break;
	default:
		return -DWUNW_STOP_UNSUPPORTED;
	}
	rc = apply_rule(ce, row->ra_rule, row->ra_off, (unsigned int)ops->ra_col, regs, st, *cfa, ra);
	if (rc)
		return rc;
	/* The frame pointer is best effort: losing it only disables later
	 * FP steps and CFA rules based on it, which then report NO_REG. */
	if (row->fp_rule == RULE_OFFSET && *cfa + (uint64_t)(int64_t)row->fp_off < regs->r[ops->sp_reg]) {
		/* Saved below SP: the epilogue already popped it (gcc keeps
		 * "rbp at cfa-16" after `pop %rbp`), so the register holds the
		 * caller's value; the slot is dead and outside the copy. */
	} else if (row->fp_rule != RULE_SAME) {
		if (apply_rule(ce, row->fp_rule, row->fp_off, (unsigned int)ops->fp_reg, regs, st, *cfa,
			       &fp) == 0) {
			regs->r[ops->fp_reg] = fp;
			regs->valid |= BIT(ops->fp_reg);
		} else {
			regs->valid &= ~BIT(ops->fp_reg);
		}
	}
	return 0;
}

static bool is_sigreturn(const struct dwunw_arch_ops *ops, const struct map_ent *me, uint64_t pc)
{
	size_t avail = 0;
	const uint8_t *code = module_code(me->mod, pc - me->bias, &avail);

	return code && ops->is_sigreturn(code, avail);
}

int dwunw_unwind(struct dwunw_map *map, const struct dwunw_regs *in, const void *stack,
		 size_t stack_len, unsigned int methods, struct dwunw_frame *frames, int max,
		 enum dwunw_stop *stop)
{
	const struct dwunw_arch_ops *ops;
	struct unw_regs regs;
	struct unw_stack st;
	enum dwunw_stop why = DWUNW_STOP_MAX_FRAMES;
	uint64_t pc;
	bool retaddr = false;
	int n = 0;

	if (!map || !in || !frames || max < 0 || (!stack && stack_len))
		return -EINVAL;
	if (in->version != DWUNW_REGS_VERSION)
		return -EINVAL;
	ops = arch_ops_by_arch(in->arch);
	if (!ops)
		return -EOPNOTSUPP;
	if (!(in->valid & BIT(ops->sp_reg)))
		return -EINVAL;
	memcpy(regs.r, in->r, sizeof(regs.r));
	regs.valid = in->valid;
	pc = in->pc;
	st.data = stack;
	st.len = stack_len;
	st.base = in->r[ops->sp_reg];

	while (n < max) {
		struct dwunw_frame *f = &frames[n++];
		uint64_t lpc = retaddr ? pc - 1 : pc;
		struct pc_cache_ent *ce = cache_get(map, lpc);
		const struct map_ent *me = ce->ment;
		uint64_t sp = regs.r[ops->sp_reg], cfa = 0, ra = 0;
		struct unw_regs next;
		int rc = -DWUNW_STOP_NO_INFO, first = 0;
		unsigned int used = 0;

		memset(f, 0, sizeof(*f));
		f->pc = pc;
		f->sp = sp;
		f->flags = retaddr ? DWUNW_F_RETADDR : 0;
		if (!me || !me->mod) {
			why = DWUNW_STOP_NO_MODULE;
			goto done;
		}
		f->module = me->mod;
		f->vaddr = pc - me->bias;
		if (ce->go)
			f->flags |= DWUNW_F_GO;

		/* A signal trampoline: the interrupted context is on the stack. */
		if (is_sigreturn(ops, me, pc)) {
			f->flags |= DWUNW_F_SIGNAL;
			f->method = DWUNW_M_SIGNAL;
			if ((rc = ops->sigframe_restore(&regs, &st, &pc))) {
				f->method = 0;
				why = (enum dwunw_stop)-rc;
				goto done;
			}
			retaddr = false;
			continue;
		}
		if (ce->go && ((ce->go_flag & GOSYM_FLAG_TOPFRAME) || ce->go_special == GOSYM_FN_GOEXIT ||
			       ce->go_special == GOSYM_FN_MSTART || ce->go_special == GOSYM_FN_RT0_GO)) {
			why = DWUNW_STOP_TOPFRAME;
			goto done;
		}
		if (ce->go && (ce->go_flag & GOSYM_FLAG_SPWRITE) && n > 1) {
			why = DWUNW_STOP_SPWRITE;
			goto done;
		}

		if ((methods & DWUNW_M_CFI) && ce->row) {
			next = regs;
			rc = cfi_step(ops, ce, &next, &st, pc, &cfa, &ra);
			used = DWUNW_M_CFI;
			if (rc < 0)
				first = rc;
		}
		if (rc < 0 && (methods & DWUNW_M_PCLNTAB) && ce->go && ce->go_delta_ok) {
			next = regs;
			rc = ops->go_step(&next, &st, ce->go_spdelta, n == 1, &cfa, &ra);
			used = DWUNW_M_PCLNTAB;
			if (rc < 0 && !first)
				first = rc;
		}
		if (rc < 0 && (methods & DWUNW_M_FP)) {
			uint64_t fp;

			next = regs;
			rc = ops->fp_step(&next, &st, &cfa, &ra, &fp);
			used = DWUNW_M_FP;
			if (rc == 0) {
				next.r[ops->fp_reg] = fp;
				next.valid |= BIT(ops->fp_reg);
			} else if (!first) {
				first = rc;
			}
		}
		if (rc == STEP_END) {
			why = DWUNW_STOP_END;
			goto done;
		}
		if (rc < 0) {
			why = (enum dwunw_stop)-(first ? first : rc);
			goto done;
		}
		if (ra == 0) {
			why = DWUNW_STOP_END;
			goto done;
		}
		/* The stack grows down: a caller's frame is above.  Equal is
		 * fine only for a leaf whose return address was in a register. */
		if (cfa < sp || (cfa == sp && (ops->lr_reg < 0 || ra == pc))) {
			why = DWUNW_STOP_CYCLE;
			goto done;
		}
		f->method = (uint8_t)used;
		next.valid &= ops->callee_saved | BIT(ops->fp_reg);
		next.r[ops->sp_reg] = cfa;
		next.valid |= BIT(ops->sp_reg);
		if (ops->lr_reg >= 0) {
			next.r[ops->lr_reg] = ra;
			next.valid |= BIT(ops->lr_reg);
		}
		regs = next;
		pc = ra;
		retaddr = true;
	}
	why = DWUNW_STOP_MAX_FRAMES;
done:
	if (stop)
		*stop = why;
	return n;
}

const char *dwunw_stop_name(enum dwunw_stop s)
{
	static const char *const names[DWUNW_STOP__COUNT] = {
		[DWUNW_STOP_END] = "end",
		[DWUNW_STOP_TOPFRAME] = "topframe",
		[DWUNW_STOP_MAX_FRAMES] = "max-frames",
		[DWUNW_STOP_NO_MODULE] = "no-module",
		[DWUNW_STOP_NO_INFO] = "no-info",
		[DWUNW_STOP_STACK_READ] = "stack-read",
		[DWUNW_STOP_UNSUPPORTED] = "unsupported",
		[DWUNW_STOP_NO_REG] = "no-reg",
		[DWUNW_STOP_CYCLE] = "cycle",
		[DWUNW_STOP_BAD_FP] = "bad-fp",
		[DWUNW_STOP_SPWRITE] = "spwrite",
	};

	if ((unsigned int)s >= DWUNW_STOP__COUNT)
		return "unknown";
	return names[s];
}

const char *dwunw_method_name(unsigned int m)
{
	switch (m) {
	case DWUNW_M_CFI: return "cfi";
	case DWUNW_M_PCLNTAB: return "pclntab";
	case DWUNW_M_FP: return "fp";
	case DWUNW_M_SIGNAL: return "signal";
	}
	return "";
}
