// SPDX-License-Identifier: MIT
/* Read plans (see plan.h and bpf/args.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args/plan.h"

struct cc {
	const struct gosym_abi *abi;
	const struct ga_opts *o;
	struct ga_site *s;
	uint32_t blob;		/* bytes allocated so far */
};

/* Blob bytes for a value: -1 (and s->cut) when over the limit. */
static int alloc(struct cc *c, uint32_t size, uint32_t align)
{
	uint32_t at;

	if (align > 8)
		align = 8;
	at = align > 1 ? (c->blob + align - 1) / align * align : c->blob;
	/* 8 spare bytes: counts and pointers are read as whole words */
	if (at + size + 8 > c->o->blob_max) {
		c->s->cut = true;
		return -1;
	}
	c->blob = at + size;
	return (int)at;
}

static int add_op(struct cc *c, const struct ga_op *op)
{
	struct ga_plan *p = &c->s->plan;

	if (p->nops >= GA_MAX_OPS) {
		c->s->cut = true;
		return -1;
	}
	p->ops[p->nops] = *op;
	return p->nops++;
}

struct dep {
	uint16_t parent, guard, gidx;
};

#define NODEP ((struct dep){ GA_NONE, GA_NONE, 0 })

/* A DEREF of the pointer at blob[base]: the pointee's blob offset (and
 * *opi the op), or -1. */
static int deref(struct cc *c, uint16_t base, int32_t off, uint32_t size, uint16_t count,
		 uint16_t scale, struct dep d, uint8_t flags, int *opi)
{
	struct ga_op op = {
		.code = GA_OP_DEREF, .base = base, .off = off, .count = count, .scale = scale,
		.parent = d.parent, .guard = d.guard, .guard_idx = d.gidx, .flags = flags,
	};
	int at;

	if (size > GA_READ_MAX)
		size = GA_READ_MAX;
	if (!size)
		return -1;
	if (c->s->plan.nops >= GA_MAX_OPS) {
		c->s->cut = true;
		return -1;
	}
	at = alloc(c, size, 8);
	if (at < 0)
		return -1;
	op.dst = (uint16_t)at;
	op.size = (uint16_t)size;
	*opi = add_op(c, &op);
	return *opi < 0 ? -1 : at;
}

static void walk(struct cc *c, const struct ga_type *t, uint16_t at, int depth, struct dep d);

static void walk_iface(struct cc *c, const struct ga_type *t, uint16_t at, struct dep d)
{
	uint16_t ps = (uint16_t)c->abi->ptr_size;
	int k, data;

	if (t->kind == GA_IFACE)	/* the itab's type word */
		deref(c, at, GOSYM_ITAB_TYPE_WORD * ps, ps, GA_NONE, 0, d, 0, &k);
	data = deref(c, at + ps, 0, c->o->iface_bytes, GA_NONE, 0, d, 0, &k);
	if (data < 0)
		return;
	/* a guess: the value starts with a string (errors.New, fmt.Errorf,
	 * a boxed string); the decoder uses it only if the type says so */
	deref(c, (uint16_t)data, 0, c->o->string_size, (uint16_t)(data + ps), 1,
	      (struct dep){ (uint16_t)k, GA_NONE, 0 }, GA_OPF_SPECULATIVE, &k);
}

static void walk(struct cc *c, const struct ga_type *t, uint16_t at, int depth, struct dep d)
{
	uint16_t ps = (uint16_t)c->abi->ptr_size;
	uint32_t n, es;
	int k, dst;

	switch (t->kind) {
	case GA_STRING:
		deref(c, at, 0, c->o->string_size, at + ps, 1, d, 0, &k);
		break;
	case GA_SLICE:
		es = t->elem->size;
		/* []byte reads like a string */
		n = es == 1 && t->elem->kind == GA_UINT ? c->o->string_size : c->o->elems;
		if (!es || !n)
			break;
		if (n * es > GA_READ_MAX)
			n = GA_READ_MAX / es;
		dst = deref(c, at, 0, n * es, at + ps, (uint16_t)es, d, 0, &k);
		for (uint32_t i = 0; dst >= 0 && i < n; i++)
			walk(c, t->elem, (uint16_t)(dst + i * es), depth,
			     (struct dep){ (uint16_t)k, at + ps, (uint16_t)i });
		break;
	case GA_ARRAY:
		es = t->elem->size;
		n = t->count < c->o->elems ? t->count : c->o->elems;
		for (uint32_t i = 0; es && i < n; i++)
			walk(c, t->elem, (uint16_t)(at + i * es), depth, d);
		break;
	case GA_STRUCT:
		if (t->special == GA_SP_TIME)
			break;	/* wall and ext say it all; loc is not followed */
		for (uint32_t i = 0; i < t->nfields; i++)
			walk(c, t->fields[i].type, (uint16_t)(at + t->fields[i].off), depth, d);
		break;
	case GA_PTR:
		if (depth <= 0 || !t->elem->size || t->elem->kind == GA_UNKNOWN)
			break;
		dst = deref(c, at, 0, t->elem->size, GA_NONE, 0, d, 0, &k);
		if (dst >= 0)
			walk(c, t->elem, (uint16_t)dst, depth - 1, (struct dep){ (uint16_t)k, GA_NONE, 0 });
		break;
	case GA_MAP:		/* hmap.count / maps.Map.used: the first word */
	case GA_FUNC:		/* funcval.fn: the code pointer */
		deref(c, at, 0, ps, GA_NONE, 0, d, 0, &k);
		break;
	case GA_CHAN:		/* hchan.qcount, hchan.dataqsiz */
		deref(c, at, 0, 2 * ps, GA_NONE, 0, d, 0, &k);
		break;
	case GA_IFACE:
	case GA_EFACE:
		walk_iface(c, t, at, d);
		break;
	default:
		break;
	}
}

/* The value's own bytes: its registers, in its memory layout, or one
 * stack read.  Fills v->at, v->op; 0 or -1 (over the limit). */
static int read_top(struct cc *c, const struct ga_input *in, struct ga_value *v)
{
	const struct ga_loc *l = in->loc;
	uint32_t size = in->type->size;
	int at;

	v->op = GA_NONE;
	if (l->stack && size > GA_READ_MAX) {
		size = GA_READ_MAX;
		v->cut = true;
	}
	at = alloc(c, size ? size : 1, in->type->align);
	if (at < 0)
		return -1;
	v->at = (uint16_t)at;
	if (l->stack) {
		struct ga_op op = { .code = GA_OP_STACK, .off = l->stack_off, .dst = (uint16_t)at,
				    .size = (uint16_t)size, .base = GA_NONE, .count = GA_NONE,
				    .parent = GA_NONE, .guard = GA_NONE };
		int k;

		if (!size)
			return 0;
		k = add_op(c, &op);
		if (k < 0)
			return -1;
		v->op = (uint16_t)k;
		return 0;
	}
	for (int i = 0; i < l->npieces; i++) {
		const struct ga_piece *p = &l->pieces[i];

		if (p->where == GA_IN_FLOAT) {
			struct ga_hole *h = realloc(c->s->holes, (c->s->nholes + 1) * sizeof(*h));

			if (!h)
				return -ENOMEM;
			c->s->holes = h;
			h[c->s->nholes++] = (struct ga_hole){
				(uint16_t)(at + p->off), p->size,
				c->abi->float_regs ? c->abi->float_regs[p->reg] : "?" };
			continue;
		}
		struct ga_op op = { .code = GA_OP_REG, .reg = p->reg, .dst = (uint16_t)(at + p->off),
				    .size = p->size, .base = GA_NONE, .count = GA_NONE,
				    .parent = GA_NONE, .guard = GA_NONE };

		if (add_op(c, &op) < 0)
			return -1;
	}
	return 0;
}

/* Follow in->path from the value's bytes: v then names the field. */
static int follow_path(struct cc *c, const struct ga_input *in, struct ga_value *v,
		       struct dep *d, char *why, size_t whylen)
{
	const struct ga_type *t = in->type;
	const char *p = in->path;
	uint16_t at = v->at;

	while (p && *p) {
		const char *end = strchr(p, '.');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint32_t i;
		int k, dst;

		if (t->kind == GA_PTR) {
			/* through the pointer, whatever --args-depth says */
			dst = deref(c, at, 0, t->elem->size, GA_NONE, 0, *d, 0, &k);
			if (dst < 0) {
				snprintf(why, whylen, "%s: over the --args-size limit", v->name);
				return -E2BIG;
			}
			*d = (struct dep){ (uint16_t)k, GA_NONE, 0 };
			v->op = (uint16_t)k;
			at = (uint16_t)dst;
			t = t->elem;
		}
		if (t->kind != GA_STRUCT) {
			snprintf(why, whylen, "%s: %s is not a struct", v->name, t->name);
			return -ENOENT;
		}
		for (i = 0; i < t->nfields; i++)
			if (strlen(t->fields[i].name) == len && !strncmp(t->fields[i].name, p, len))
				break;
		if (i == t->nfields) {
			snprintf(why, whylen, "%s: %s has no field '%.*s'", v->name, t->name, (int)len, p);
			return -ENOENT;
		}
		at = (uint16_t)(at + t->fields[i].off);
		t = t->fields[i].type;
		p = end ? end + 1 : NULL;
	}
	v->at = at;
	v->type = t;
	return 0;
}

int ga_site_compile(const struct gosym_abi *abi, const struct ga_opts *o,
		    const struct ga_input *in, uint32_t n, struct ga_site *s, char *why, size_t whylen)
{
	struct ga_opts lim = *o;
	struct cc c = { abi, &lim, s, 0 };
	struct dep *deps = NULL;
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->ptr_size = (uint8_t)abi->ptr_size;
	if (lim.blob_max > GA_BLOB_MAX)
		lim.blob_max = GA_BLOB_MAX;
	s->vals = calloc(n ? n : 1, sizeof(*s->vals));
	deps = calloc(n ? n : 1, sizeof(*deps));
	if (!s->vals || !deps) {
		err = -ENOMEM;
		goto out;
	}
	/* every value's own bytes first: they are cheap and they matter most */
	for (uint32_t i = 0; i < n; i++) {
		struct ga_value *v = &s->vals[i];
		size_t nl = strlen(in[i].name) + (in[i].path ? strlen(in[i].path) + 1 : 0) + 1;

		v->name = malloc(nl);
		if (!v->name) {
			err = -ENOMEM;
			goto out;
		}
		snprintf(v->name, nl, "%s%s%s", in[i].name, in[i].path ? "." : "",
			 in[i].path ? in[i].path : "");
		v->type = in[i].type;
		s->nvals++;
		err = read_top(&c, &in[i], v);
		if (err == -ENOMEM)
			goto out;
		if (err) {
			snprintf(why, whylen, "%s: %u bytes do not fit --args-size %u", v->name,
				 in[i].type->size, lim.blob_max);
			err = -E2BIG;
			goto out;
		}
		deps[i] = (struct dep){ v->op, GA_NONE, 0 };
	}
	for (uint32_t i = 0; i < n; i++) {
		err = follow_path(&c, &in[i], &s->vals[i], &deps[i], why, whylen);
		if (err)
			goto out;
	}
	/* then what they point to, in order, as far as the limits go */
	for (uint32_t i = 0; i < n; i++)
		walk(&c, s->vals[i].type, s->vals[i].at, (int)lim.depth, deps[i]);
	s->plan.blob = (uint16_t)(c.blob + 8 <= lim.blob_max ? c.blob + 8 : c.blob);
out:
	free(deps);
	if (err)
		ga_site_release(s);
	return err;
}

void ga_site_release(struct ga_site *s)
{
	for (uint32_t i = 0; s->vals && i < s->nvals; i++)
		free(s->vals[i].name);
	free(s->vals);
	free(s->holes);
	memset(s, 0, sizeof(*s));
}

int ga_site_deref(const struct ga_site *s, uint16_t base)
{
	for (int i = 0; i < s->plan.nops; i++)
		if (s->plan.ops[i].code == GA_OP_DEREF && s->plan.ops[i].base == base)
			return i;
	return -1;
}

bool ga_site_same_plan(const struct ga_site *a, const struct ga_site *b)
{
	return a->plan.nops == b->plan.nops && a->plan.blob == b->plan.blob &&
	       a->plan.nconds == b->plan.nconds && a->plan.flags == b->plan.flags &&
	       !memcmp(a->plan.ops, b->plan.ops, a->plan.nops * sizeof(a->plan.ops[0])) &&
	       !memcmp(a->plan.conds, b->plan.conds, a->plan.nconds * sizeof(a->plan.conds[0]));
}

/* --- --filter ------------------------------------------------------------ */

int ga_filter_parse(const char *s, struct ga_filter_term *t, char *why, size_t whylen)
{
	static const struct { const char *op; enum ga_cmp cmp; } ops[] = {
		{ "==", GA_CMP_EQ }, { "!=", GA_CMP_NE }, { "<=", GA_CMP_LE }, { ">=", GA_CMP_GE },
		{ "^=", GA_CMP_STR_PREFIX }, { "<", GA_CMP_LT }, { ">", GA_CMP_GT },
	};
	const char *p = s, *opat = NULL;
	size_t plen, k;

	memset(t, 0, sizeof(*t));
	while (isspace((unsigned char)*p))
		p++;
	for (const char *q = p; *q && !opat; q++)
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (!strncmp(q, ops[k].op, strlen(ops[k].op))) {
				opat = q;
				t->cmp = ops[k].cmp;
				break;
			}
	if (!opat) {
		snprintf(why, whylen, "'%s': no comparison (== != < <= > >= ^=)", s);
		return -EINVAL;
	}
	plen = (size_t)(opat - p);
	while (plen && isspace((unsigned char)p[plen - 1]))
		plen--;
	if (!plen || plen >= sizeof(t->path)) {
		snprintf(why, whylen, "'%s': no argument name before the comparison", s);
		return -EINVAL;
	}
	memcpy(t->path, p, plen);
	p = opat + (t->cmp == GA_CMP_LT || t->cmp == GA_CMP_GT ? 1 : 2);
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		const char *e = strrchr(p + 1, '"');

		if (!e || e[1] || e - p - 1 > GA_COND_STR) {
			snprintf(why, whylen, "'%s': a string of at most %d bytes in double quotes",
				 s, GA_COND_STR);
			return -EINVAL;
		}
		t->is_string = true;
		memcpy(t->str, p + 1, (size_t)(e - p - 1));
		if (t->cmp == GA_CMP_EQ)
			t->cmp = GA_CMP_STR_EQ;
		else if (t->cmp == GA_CMP_NE)
			t->cmp = GA_CMP_STR_NE;
		else if (t->cmp != GA_CMP_STR_PREFIX) {
			snprintf(why, whylen, "'%s': strings compare with ==, != or ^= (prefix)", s);
			return -EINVAL;
		}
		return 0;
	}
	if (t->cmp == GA_CMP_STR_PREFIX) {
		snprintf(why, whylen, "'%s': ^= takes a \"string\"", s);
		return -EINVAL;
	}
	if (!strcmp(p, "true") || !strcmp(p, "false")) {
		t->ival = p[0] == 't';
		return 0;
	}
	{
		char *end;

		errno = 0;
		t->negative = *p == '-';
		t->ival = t->negative ? (__u64)strtoll(p, &end, 0) : strtoull(p, &end, 0);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || end == p || *end) {
			snprintf(why, whylen, "'%s': '%s' is not an integer, true/false or a \"string\"",
				 s, p);
			return -EINVAL;
		}
	}
	return 0;
}

int ga_site_add_cond(struct ga_site *s, const struct ga_value *v, const struct ga_filter_term *t,
		     char *why, size_t whylen)
{
	struct ga_cond cd = { .op = v->op, .cmp = (__u8)t->cmp };
	const struct ga_type *ty = v->type;

	if (s->plan.nconds >= GA_MAX_CONDS) {
		snprintf(why, whylen, "more than %d conditions", GA_MAX_CONDS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < s->nholes; i++)
		if (v->at < s->holes[i].at + s->holes[i].size && s->holes[i].at < v->at + ty->size) {
			snprintf(why, whylen, "%s is in a floating-point register (%s), which BPF "
				 "can't read", v->name, s->holes[i].reg);
			return -EINVAL;
		}
	if (t->is_string) {
		int k = ga_site_deref(s, v->at);

		if (ty->kind != GA_STRING || k < 0) {
			snprintf(why, whylen, "%s is a %s, not a string", v->name, ty->name);
			return -EINVAL;
		}
		cd.at = s->plan.ops[k].dst;
		cd.len_at = (__u16)(v->at + s->ptr_size);
		cd.op = (__u16)k;
		cd.size = (__u8)strlen(t->str);
		memcpy(cd.str, t->str, cd.size);
		if (s->plan.ops[k].size < cd.size) {
			snprintf(why, whylen, "%s: --string-size is less than the %u bytes compared",
				 v->name, cd.size);
			return -EINVAL;
		}
	} else {
		if (ty->kind != GA_INT && ty->kind != GA_UINT && ty->kind != GA_UINTPTR &&
		    ty->kind != GA_BOOL) {
			snprintf(why, whylen, "%s is a %s: --filter compares integers, bools and "
				 "strings", v->name, ty->name);
			return -EINVAL;
		}
		if (t->negative && ty->kind != GA_INT) {
			snprintf(why, whylen, "%s is unsigned: no negative values", v->name);
			return -EINVAL;
		}
		cd.at = v->at;
		cd.size = (__u8)ty->size;
		cd.is_signed = ty->kind == GA_INT;
		cd.val = t->ival;
	}
	s->plan.conds[s->plan.nconds++] = cd;
	s->plan.flags |= GA_PLAN_FILTER;
	return 0;
}
