// SPDX-License-Identifier: MIT
/* The ABIInternal assignment of arguments and results (see abi.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args/abi.h"

struct state {
	const struct gosym_abi *abi;
	int i, fp;		/* next integer / floating-point register */
	uint32_t s;		/* stack sequence size so far */
	struct ga_loc *loc;	/* being filled */
};

static uint32_t align_up(uint32_t x, uint32_t a)
{
	return a > 1 ? (x + a - 1) / a * a : x;
}

static bool piece(struct state *st, uint8_t where, uint16_t size, uint32_t off)
{
	int *next = where == GA_IN_INT ? &st->i : &st->fp;
	int max = where == GA_IN_INT ? st->abi->nint : st->abi->nfloat;

	if (*next >= max || st->loc->npieces >= GA_MAX_PIECES)
		return false;
	st->loc->pieces[st->loc->npieces++] =
		(struct ga_piece){ where, (uint8_t)(*next)++, size, off };
	return true;
}

/* Register-assign a value of type t at offset off of the parameter. */
static bool reg_assign(struct state *st, const struct ga_type *t, uint32_t off)
{
	uint16_t ps = (uint16_t)st->abi->ptr_size;

	switch (t->kind) {
	case GA_BOOL:
	case GA_INT:
	case GA_UINT:
	case GA_UINTPTR:
		return t->size <= ps && piece(st, GA_IN_INT, (uint16_t)t->size, off);
	case GA_FLOAT:
		return piece(st, GA_IN_FLOAT, (uint16_t)t->size, off);
	case GA_COMPLEX:
		return piece(st, GA_IN_FLOAT, (uint16_t)(t->size / 2), off) &&
		       piece(st, GA_IN_FLOAT, (uint16_t)(t->size / 2), off + t->size / 2);
	case GA_PTR:
	case GA_UNSAFEPTR:
	case GA_MAP:
	case GA_CHAN:
	case GA_FUNC:
		return piece(st, GA_IN_INT, ps, off);
	case GA_STRING:
	case GA_IFACE:
	case GA_EFACE:
		return piece(st, GA_IN_INT, ps, off) && piece(st, GA_IN_INT, ps, off + ps);
	case GA_SLICE:
		return piece(st, GA_IN_INT, ps, off) && piece(st, GA_IN_INT, ps, off + ps) &&
		       piece(st, GA_IN_INT, ps, off + 2 * ps);
	case GA_STRUCT:
		for (uint32_t k = 0; k < t->nfields; k++)
			if (!reg_assign(st, t->fields[k].type, off + t->fields[k].off))
				return false;
		return true;
	case GA_ARRAY:
		if (t->count == 0)
			return true;
		return t->count == 1 && reg_assign(st, t->elem, off);
	case GA_UNKNOWN:
		break;
	}
	return false;
}

static void add_to_stack(struct state *st, const struct ga_type *t)
{
	st->s = align_up(st->s, t->align);
	st->loc->stack = true;
	st->loc->stack_off = (int32_t)st->s;
	st->loc->npieces = 0;
	st->s += t->size;
}

static void assign(struct state *st, const struct ga_type *t, struct ga_loc *loc)
{
	int i = st->i, fp = st->fp;

	memset(loc, 0, sizeof(*loc));
	st->loc = loc;
	if (t->size == 0 || !st->abi->regabi) {
		add_to_stack(st, t);
		return;
	}
	if (reg_assign(st, t, 0))
		return;
	st->i = i;
	st->fp = fp;
	add_to_stack(st, t);
}

static const struct ga_type dict_type = {
	.kind = GA_UINTPTR, .name = "uintptr", .size = 8, .align = 8,
};

struct slot {
	const struct ga_type *t;
	struct ga_loc *l;
	bool result;
};

static const struct ga_type recv_type = {
	.kind = GA_UNSAFEPTR, .name = "receiver", .size = 8, .align = 8,
};

/* --- the traceback argument layout (FUNCDATA_ArgInfo) -------------------
 *
 * The compiler writes, for every function with arguments, the layout the
 * runtime's traceback prints them with (cmd/compile EmitArgInfo, runtime
 * printArgs; the same in Go 1.17-1.27): for each argument in ABI order,
 * its non-aggregate parts as (offset in the argument area, size) pairs,
 * the offset of a register argument being its spill slot; aggregates
 * (structs, arrays, strings, slices, interfaces, complex numbers) within
 * 0xfe ... 0xfd; at most 10 parts and 5 levels ("..." 0xfc beyond); 0xfb
 * for an offset past 0xf0; 0xff at the end.  From Go 1.18 the first
 * argument of a function whose name has a '[' is left out (meant for the
 * dictionary).  Generated here from an assignment, it must equal the
 * binary's byte for byte: an independent check, present even where DWARF
 * has no location (stripped of DWARF too). */
#define AI_END		0xff
#define AI_START	0xfe
#define AI_ENDAGG	0xfd
#define AI_DOTS		0xfc
#define AI_TOOLARGE	0xfb
#define AI_SPECIAL	0xf0
#define AI_LIMIT	10
#define AI_MAXDEPTH	5

struct aigen {
	struct ga_arginfo *o;
	int n;
	uint32_t ps;
};

static void ai_byte(struct aigen *a, uint8_t v)
{
	if (a->o->len < sizeof(a->o->b))
		a->o->b[a->o->len++] = v;
}

static bool ai_agg(const struct ga_type *t)
{
	return t->kind == GA_STRUCT || t->kind == GA_ARRAY || t->kind == GA_COMPLEX ||
	       t->kind == GA_IFACE || t->kind == GA_EFACE || t->kind == GA_STRING ||
	       t->kind == GA_SLICE;
}

static bool ai_part(struct aigen *a, int64_t off, uint32_t size, int depth);

static bool ai_visit(struct aigen *a, int64_t off, const struct ga_type *t, int depth)
{
	if (a->n >= AI_LIMIT) {
		ai_byte(a, AI_DOTS);
		return false;
	}
	if (!ai_agg(t)) {
		if (off >= AI_SPECIAL) {
			ai_byte(a, AI_TOOLARGE);
		} else {
			ai_byte(a, (uint8_t)off);
			ai_byte(a, (uint8_t)t->size);
		}
		a->n++;
		return true;
	}
	ai_byte(a, AI_START);
	if (++depth >= AI_MAXDEPTH) {
		ai_byte(a, AI_DOTS);
		ai_byte(a, AI_ENDAGG);
		a->n++;
		return true;
	}
	switch (t->kind) {
	case GA_STRING:
	case GA_IFACE:
	case GA_EFACE:
		(void)(ai_part(a, off, a->ps, depth) && ai_part(a, off + a->ps, a->ps, depth));
		break;
	case GA_SLICE:
		(void)(ai_part(a, off, a->ps, depth) && ai_part(a, off + a->ps, a->ps, depth) &&
		       ai_part(a, off + 2 * a->ps, a->ps, depth));
		break;
	case GA_COMPLEX:
		(void)(ai_part(a, off, t->size / 2, depth) &&
		       ai_part(a, off + t->size / 2, t->size / 2, depth));
		break;
	case GA_ARRAY:
		if (!t->count)
			a->n++;	/* {} counts as a part */
		for (uint32_t i = 0; i < t->count; i++, off += t->elem->size)
			if (!ai_visit(a, off, t->elem, depth))
				break;
		break;
	default:
		if (!t->nfields)
			a->n++;
		for (uint32_t i = 0; i < t->nfields; i++)
			if (!ai_visit(a, off + t->fields[i].off, t->fields[i].type, depth))
				break;
	}
	ai_byte(a, AI_ENDAGG);
	return true;
}

/* A non-aggregate part of size bytes (a word of a string, half a complex). */
static bool ai_part(struct aigen *a, int64_t off, uint32_t size, int depth)
{
	struct ga_type t = { .kind = GA_UINT, .size = size, .align = size };

	return ai_visit(a, off, &t, depth);
}

int ga_abi_assign(const struct gosym_abi *abi, const struct ga_func *f, unsigned flags,
		  struct ga_loc *locs, struct ga_loc *recv)
{
	return ga_abi_assign_ai(abi, f, flags, locs, recv, NULL);
}

int ga_abi_assign_ai(const struct gosym_abi *abi, const struct ga_func *f, unsigned flags,
		     struct ga_loc *locs, struct ga_loc *recv, struct ga_arginfo *ai)
{
	struct gosym_abi stack_only = *abi;
	struct state st = { .abi = (flags & GA_ABI0) ? &stack_only : abi };
	struct ga_type dict = dict_type, rt = recv_type;
	struct ga_loc dloc, rloc;
	struct slot seq[f->nparams + 2];
	uint32_t n = 0, dict_at = f->method && abi->dict_after_receiver ? 1 : 0;
	bool with_dict = f->shape_dict && abi->shape_dict && !abi->dwarf_lists_dict;

	stack_only.regabi = false;
	stack_only.nint = stack_only.nfloat = 0;
	dict.size = dict.align = (uint32_t)abi->ptr_size;
	rt.size = rt.align = (uint32_t)abi->ptr_size;
	/* the sequence of values: receiver, dictionary, arguments, results */
	if (flags & GA_IMPLICIT_RECV) {
		seq[n++] = (struct slot){ &rt, recv ? recv : &rloc, false };
		dict_at = 0;	/* counted after the receiver */
	}
	for (uint32_t k = 0; k <= f->nparams; k++) {
		const struct ga_param *p = k < f->nparams ? &f->params[k] : NULL;

		if (p && p->type->kind == GA_UNKNOWN)
			return -EOPNOTSUPP;
		if (with_dict && (k == dict_at || !p || p->result)) {
			seq[n++] = (struct slot){ &dict, &dloc, false };
			with_dict = false;
		}
		if (p)
			seq[n++] = (struct slot){ p->type, &locs[k], p->result };
	}
	for (uint32_t k = 0; k < n; k++) {
		if (seq[k].result && (k == 0 || !seq[k - 1].result)) {
			/* results: a pointer-aligned start, registers from 0 */
			st.s = align_up(st.s, (uint32_t)abi->ptr_size);
			st.i = st.fp = 0;
		}
		assign(&st, seq[k].t, seq[k].l);
		seq[k].l->spill_off = -1;
	}
	/* spill slots of the register-assigned arguments */
	st.s = align_up(st.s, (uint32_t)abi->ptr_size);
	for (uint32_t k = 0; k < n; k++) {
		if (seq[k].result || seq[k].l->stack)
			continue;
		st.s = align_up(st.s, seq[k].t->align);
		seq[k].l->spill_off = (int32_t)st.s;
		st.s += seq[k].t->size;
	}
	if (ai) {
		struct aigen a = { ai, 0, (uint32_t)abi->ptr_size };
		uint32_t k = abi->arginfo_skips_bracketed && strchr(f->name, '[') ? 1 : 0;

		ai->len = 0;
		for (; k < n && !seq[k].result; k++) {
			const struct ga_loc *l = seq[k].l;

			if (!ai_visit(&a, l->stack ? l->stack_off : l->spill_off, seq[k].t, 0))
				break;
		}
		ai_byte(&a, AI_END);
	}
	return 0;
}

/* --- the DWARF cross-check ------------------------------------------------ */

static const char *reg_name(const struct gosym_abi *abi, const struct ga_piece *p)
{
	const char *const *names = p->where == GA_IN_INT ? abi->int_regs : abi->float_regs;

	return names ? names[p->reg] : "?";
}

static int dw_number(const struct gosym_abi *abi, const struct ga_piece *p)
{
	const int *dw = p->where == GA_IN_INT ? abi->int_dwarf : abi->float_dwarf;

	return dw ? dw[p->reg] : -1;
}

/* A register or stack slot DWARF gives to more than one piece (of any
 * parameter) at the entry: the compiler's location lists are known to be
 * wrong there (two values in one place at once), so it proves nothing. */
static bool claimed_twice(const struct ga_func *f, const struct ga_dwpiece *d)
{
	int n = 0;

	for (uint32_t k = 0; k < f->nparams; k++)
		for (int i = 0; i < f->params[k].npieces; i++) {
			const struct ga_dwpiece *o = &f->params[k].pieces[i];

			n += o->kind == d->kind && o->reg == d->reg && o->off == d->off;
		}
	return n > 1;
}

/* 1 compared and equal, 0 nothing to compare, -1 different (why filled).
 * DWARF lists a register-assigned value's registers in order, one piece
 * per register, without padding pieces; a piece with no location is one
 * DWARF lost track of.  A parameter any of whose registers DWARF gives to
 * two pieces at once is skipped: its location list is wrong. */
static int check_one(const struct gosym_abi *abi, const struct ga_func *f,
		     const struct ga_param *p, const struct ga_loc *l, char *why, size_t n)
{
	int seen = 0;

	if (!p->npieces || p->loc_truncated)
		return 0;
	if (p->pieces[0].kind == GA_DW_CFA && p->npieces == 1) {
		int32_t want = p->pieces[0].off - abi->cfa_args;

		if (claimed_twice(f, &p->pieces[0]))
			return 0;
		if (l->stack && l->stack_off == want)
			return 1;
		/* Go 1.17 describes a register argument by its spill slot
		 * from the first instruction on */
		if (abi->dwarf_spill_at_entry && !l->stack && !p->result && l->spill_off == want)
			return 1;
		snprintf(why, n, "%s: DWARF says stack +%d, the rules %s +%d", p->name, want,
			 l->stack ? "stack" : "registers (spill slot)",
			 l->stack ? l->stack_off : l->spill_off);
		return -1;
	}
	for (int i = 0; i < p->npieces; i++)
		if (p->pieces[i].kind == GA_DW_REG && claimed_twice(f, &p->pieces[i]))
			return 0;
	for (int i = 0; i < p->npieces; i++) {
		const struct ga_dwpiece *d = &p->pieces[i];
		const struct ga_piece *ours = !l->stack && i < l->npieces ? &l->pieces[i] : NULL;

		if (d->kind == GA_DW_NONE)
			continue;
		if (d->kind != GA_DW_REG)
			return 0;	/* not a register location: nothing to say */
		if (!ours || dw_number(abi, ours) != d->reg || (d->size && d->size != ours->size)) {
			snprintf(why, n, "%s: DWARF piece %d is DWARF register %u (%u bytes), the "
				 "rules say %s", p->name, i, d->reg, d->size,
				 l->stack ? "stack" : ours ? reg_name(abi, ours) : "nothing");
			return -1;
		}
		seen++;
	}
	return seen > 0;
}

int ga_abi_check(const struct gosym_abi *abi, const struct ga_func *f, const struct ga_loc *locs,
		 char *why, size_t whylen)
{
	int checked = 0;

	for (uint32_t k = 0; k < f->nparams; k++) {
		int r = check_one(abi, f, &f->params[k], &locs[k], why, whylen);

		if (r < 0)
			return -EPROTO;
		checked += r;
	}
	return checked;
}

/* Try the variant: 1 confirmed by DWARF or the binary's traceback
 * argument layout (ai, NULL if none), 0 no evidence, -1 contradicted. */
static int try_variant(const struct gosym_abi *abi, const struct ga_func *f, unsigned flags,
		       struct ga_loc *locs, struct ga_loc *recv, const struct ga_arginfo *ai,
		       char *why, size_t n)
{
	struct ga_arginfo mine;
	int r;

	if (ga_abi_assign_ai(abi, f, flags, locs, recv, &mine))
		return -1;
	r = ga_abi_check(abi, f, locs, why, n);
	if (r < 0)
		return -1;
	if (ai && ai->len) {
		if (ai->len < mine.len || memcmp(ai->b, mine.b, mine.len)) {
			snprintf(why, n, "the argument layout of its tracebacks differs from the "
				 "assignment (a parameter DWARF doesn't list?)");
			return -1;
		}
		/* The layout can't tell ABI0 from spill slots laid out the
		 * same way: it confirms the register ABI only where ABI0 is
		 * no candidate (not a compiler-made function, or a method
		 * wrapper, told apart by its receiver). */
		if (!(flags & GA_ABI0) && (!f->autogenerated || (flags & GA_IMPLICIT_RECV)))
			return 1;
	}
	return r > 0 ? 1 : 0;
}

int ga_abi_resolve(const struct gosym_abi *abi, const struct ga_func *f, int abi0_hint,
		   const struct ga_arginfo *ai, struct ga_loc *locs, struct ga_loc *recv,
		   unsigned *flags, char *why, size_t whylen)
{
	unsigned order[3];
	int n = 0, r, i, nodata = 0;
	char tmp[256];

	*flags = 0;
	for (uint32_t k = 0; k < f->nparams; k++)
		if (f->params[k].type->kind == GA_UNKNOWN)
			return -EOPNOTSUPP;
	if (!abi->regabi || abi0_hint > 0) {
		*flags = abi->regabi ? GA_ABI0 : 0;
		r = try_variant(abi, f, *flags, locs, recv, ai, why, whylen);
		return r < 0 ? -EPROTO : r;
	}
	/* Go 1.17's DWARF can't tell ABI0 from ABIInternal (both show stack
	 * slots): only the symbol table can. */
	bool abi0_ok = abi0_hint < 0 && !abi->dwarf_spill_at_entry;

	if (f->autogenerated) {
		if (abi0_ok)
			order[n++] = GA_ABI0;
		if (f->method)
			order[n++] = GA_IMPLICIT_RECV;
		order[n++] = 0;
	} else {
		order[n++] = 0;
		if (abi0_ok)
			order[n++] = GA_ABI0;
	}
	snprintf(why, whylen, "no parameter location in DWARF to confirm the assignment");
	for (i = 0; i < n; i++) {
		r = try_variant(abi, f, order[i], locs, recv, ai, i ? tmp : why,
				i ? sizeof(tmp) : whylen);
		if (r > 0) {
			*flags = order[i];
			return 0;
		}
		/* a plain function DWARF doesn't contradict: the rules */
		if (r == 0 && !f->autogenerated && order[i] == 0) {
			*flags = 0;
			return 0;
		}
		if (r == 0)
			nodata++;
	}
	/* something DWARF and the layout don't contradict, but nothing they
	 * confirm: can't choose */
	return nodata ? -ENODATA : -EPROTO;
}
