// SPDX-License-Identifier: MIT
/*
 * Compile .eh_frame / .debug_frame into sorted compact rows.
 *
 * Every FDE's instruction program is run once, here, at module load; each
 * address range where the rules are constant becomes one `struct cfi_row`
 * holding just what the walk needs: the CFA rule, the return-address rule
 * and the frame-pointer rule.  The walk then only binary-searches the rows.
 * Expressions (DW_CFA_def_cfa_expression and friends) are copied into the
 * table's blob and evaluated by expr.c at walk time.
 *
 * Robustness: this parses untrusted bytes (fuzzed by tests/fuzz/fuzz_dwunw.c).
 * Every read is bounded; a malformed CIE or FDE is skipped and counted,
 * never fatal, and never yields a row.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dwunw_internal.h"

/* DW_EH_PE_* pointer encodings */
#define PE_ABSPTR  0x00
#define PE_ULEB128 0x01
#define PE_UDATA2  0x02
#define PE_UDATA4  0x03
#define PE_UDATA8  0x04
#define PE_SLEB128 0x09
#define PE_SDATA2  0x0a
#define PE_SDATA4  0x0b
#define PE_SDATA8  0x0c
#define PE_PCREL   0x10
#define PE_INDIRECT 0x80
#define PE_OMIT	   0xff

#define MAX_REMEMBER 8
/* A range longer than this is a corrupt FDE, not code. */
#define MAX_FDE_RANGE (1ULL << 32)

uint64_t read_uleb(const uint8_t **pp, const uint8_t *end, bool *bad)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	int shift = 0;

	while (p < end) {
		uint8_t b = *p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			*pp = p;
			return v;
		}
	}
	*pp = end;
	*bad = true;
	return 0;
}

int64_t read_sleb(const uint8_t **pp, const uint8_t *end, bool *bad)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	int shift = 0;

	while (p < end) {
		uint8_t b = *p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= ~0ULL << shift;
			*pp = p;
			return (int64_t)v;
		}
	}
	*pp = end;
	*bad = true;
	return 0;
}

static uint64_t read_u(const uint8_t **pp, const uint8_t *end, int n, bool *bad)
{
	uint64_t v = 0;

	if (end - *pp < n) {
		*bad = true;
		*pp = end;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)(*pp)[i] << (8 * i); /* both our arches are little-endian */
	*pp += n;
	return v;
}

static int read_encoded(const struct cfi_section *sec, const uint8_t **pp, const uint8_t *end,
			uint8_t enc, uint64_t *out)
{
	const uint8_t *field = *pp;
	bool bad = false;
	uint64_t v;

	if (enc == PE_OMIT || (enc & PE_INDIRECT))
		return -1;
	switch (enc & 0x0f) {
	case PE_ABSPTR: v = read_u(pp, end, sec->addr_size, &bad); break;
	case PE_ULEB128: v = read_uleb(pp, end, &bad); break;
	case PE_UDATA2: v = read_u(pp, end, 2, &bad); break;
	case PE_UDATA4: v = read_u(pp, end, 4, &bad); break;
	case PE_UDATA8: v = read_u(pp, end, 8, &bad); break;
	case PE_SLEB128: v = (uint64_t)read_sleb(pp, end, &bad); break;
	case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)read_u(pp, end, 2, &bad); break;
	case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)read_u(pp, end, 4, &bad); break;
	case PE_SDATA8: v = read_u(pp, end, 8, &bad); break;
	default: return -1;
	}
	if (bad)
		return -1;
	switch (enc & 0x70) {
	case 0: break;
	case PE_PCREL: v += sec->vaddr + (uint64_t)(field - sec->data); break;
	default: return -1; /* textrel/datarel/funcrel/aligned: not used in CFI on amd64 and arm64 */
	}
	*out = v;
	return 0;
}

struct cie {
	uint64_t code_align;
	int64_t data_align;
	int ra_col;
	uint8_t fde_enc;
	bool has_z, signal;
	const uint8_t *insns, *insns_end;
};

struct col_rule {
	uint8_t kind;
	int32_t off;
};

struct cfi_state {
	struct col_rule col[CFI_NCOLS];
	uint8_t cfa_rule, cfa_reg;
	int32_t cfa_off;
};

/* Rows under construction, with their emission order for a stable sort. */
struct row_buf {
	struct cfi_row *rows;
	uint32_t *seq;
	size_t n, cap;
	uint8_t *blob;
	size_t blob_len, blob_cap;
};

static int rb_push(struct row_buf *rb, const struct cfi_row *r)
{
	if (rb->n == rb->cap) {
		size_t cap = rb->cap ? rb->cap * 2 : 1024;
		struct cfi_row *rows = realloc(rb->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		rb->rows = rows;
		uint32_t *seq = realloc(rb->seq, cap * sizeof(*seq));
		if (!seq)
			return -ENOMEM;
		rb->seq = seq;
		rb->cap = cap;
	}
	rb->seq[rb->n] = (uint32_t)rb->n;
	rb->rows[rb->n++] = *r;
	return 0;
}

/* Copy an expression block into the blob; its offset, or -1. */
static int32_t rb_expr(struct row_buf *rb, const uint8_t *p, uint64_t len)
{
	size_t need = rb->blob_len + 10 + len;
	uint64_t v = len;
	size_t off = rb->blob_len;

	if (len > 4096 || need > INT32_MAX)
		return -1;
	if (need > rb->blob_cap) {
		size_t cap = rb->blob_cap ? rb->blob_cap * 2 : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *b = realloc(rb->blob, cap);
		if (!b)
			return -1;
		rb->blob = b;
		rb->blob_cap = cap;
	}
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		rb->blob[rb->blob_len++] = b | (v ? 0x80 : 0);
	} while (v);
	memcpy(rb->blob + rb->blob_len, p, len);
	rb->blob_len += len;
	return (int32_t)off;
}

static void state_to_row(const struct cfi_state *st, const struct cie *cie, int fp_col,
			 uint64_t pc, struct cfi_row *r)
{
	const struct col_rule *ra = &st->col[cie->ra_col];
	const struct col_rule *fp = &st->col[fp_col];

	memset(r, 0, sizeof(*r));
	r->pc = pc;
	r->cfa_rule = st->cfa_rule | (cie->signal ? CFA_SIGNAL : 0);
	r->cfa_reg = st->cfa_reg;
	r->cfa_off = st->cfa_off;
	r->ra_rule = ra->kind;
	r->ra_off = ra->off;
	r->fp_rule = fp->kind;
	r->fp_off = fp->off;
}

static bool fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static void set_col(struct cfi_state *st, uint64_t reg, uint8_t kind, int64_t off)
{
	if (reg >= CFI_NCOLS)
		return; /* vector registers etc.: the walk never needs them */
	if (!fits32(off))
		kind = RULE_UNSUP, off = 0;
	st->col[reg].kind = kind;
	st->col[reg].off = (int32_t)off;
}

static void set_cfa(struct cfi_state *st, uint64_t reg, int64_t off)
{
	if (reg >= DWUNW_MAX_REGS || !fits32(off)) {
		st->cfa_rule = CFA_UNSUP;
		return;
	}
	st->cfa_rule = CFA_REG;
	st->cfa_reg = (uint8_t)reg;
	st->cfa_off = (int32_t)off;
}

/*
 * Run a CFA program.  With rb == NULL (a CIE's initial instructions) only
 * the state changes.  Otherwise rows are emitted for [*loc, pc_end).
 * Returns 0, or -1 for a malformed program.
 */
static int run_program(const struct cfi_section *sec, const struct cie *cie, const uint8_t *p,
		       const uint8_t *end, struct cfi_state *st, const struct cfi_state *init,
		       uint64_t *loc, uint64_t pc_end, struct row_buf *rb)
{
	struct cfi_state stack[MAX_REMEMBER];
	int depth = 0;
	bool bad = false;

	while (p < end && !bad) {
		uint8_t op = *p++;
		uint64_t reg = 0, adv = 0, len;
		int64_t off;
		bool advance = false;

		switch (op & 0xc0) {
		case 0x40: /* advance_loc */
			adv = op & 0x3f;
			advance = true;
			break;
		case 0x80: /* offset */
			off = (int64_t)read_uleb(&p, end, &bad) * cie->data_align;
			set_col(st, op & 0x3f, RULE_OFFSET, off);
			continue;
		case 0xc0: /* restore */
			reg = op & 0x3f;
			if (init && reg < CFI_NCOLS)
				st->col[reg] = init->col[reg];
			continue;
		}
		if (!advance) {
			switch (op) {
			case 0x00: /* nop */
				break;
			case 0x01: { /* set_loc */
				uint64_t to;
				if (read_encoded(sec, &p, end, sec->eh ? cie->fde_enc : PE_ABSPTR, &to) ||
				    to < *loc)
					return -1;
				adv = (to - *loc) / (cie->code_align ? cie->code_align : 1);
				advance = true;
				break;
			}
			case 0x02: adv = read_u(&p, end, 1, &bad); advance = true; break;
			case 0x03: adv = read_u(&p, end, 2, &bad); advance = true; break;
			case 0x04: adv = read_u(&p, end, 4, &bad); advance = true; break;
			case 0x05: /* offset_extended */
				reg = read_uleb(&p, end, &bad);
				off = (int64_t)read_uleb(&p, end, &bad) * cie->data_align;
				set_col(st, reg, RULE_OFFSET, off);
				break;
			case 0x06: /* restore_extended */
				reg = read_uleb(&p, end, &bad);
				if (init && reg < CFI_NCOLS)
					st->col[reg] = init->col[reg];
				break;
			case 0x07: /* undefined */
				set_col(st, read_uleb(&p, end, &bad), RULE_UNDEF, 0);
				break;
			case 0x08: /* same_value */
				set_col(st, read_uleb(&p, end, &bad), RULE_SAME, 0);
				break;
			case 0x09: /* register */
				reg = read_uleb(&p, end, &bad);
				off = (int64_t)read_uleb(&p, end, &bad);
				set_col(st, reg, off < DWUNW_MAX_REGS ? RULE_REG : RULE_UNSUP, off);
				break;
			case 0x0a: /* remember_state */
				if (depth == MAX_REMEMBER)
					return -1;
				stack[depth++] = *st;
				break;
			case 0x0b: /* restore_state: the whole row, CFA included */
				if (depth == 0)
					return -1;
				*st = stack[--depth];
				break;
			case 0x0c: /* def_cfa */
				reg = read_uleb(&p, end, &bad);
				off = (int64_t)read_uleb(&p, end, &bad);
				set_cfa(st, reg, off);
				break;
			case 0x0d: /* def_cfa_register */
				reg = read_uleb(&p, end, &bad);
				set_cfa(st, reg, st->cfa_off);
				break;
			case 0x0e: /* def_cfa_offset */
				off = (int64_t)read_uleb(&p, end, &bad);
				if (st->cfa_rule == CFA_REG)
					set_cfa(st, st->cfa_reg, off);
				break;
			case 0x0f: { /* def_cfa_expression */
				len = read_uleb(&p, end, &bad);
				if (bad || len > (uint64_t)(end - p))
					return -1;
				int32_t at = rb ? rb_expr(rb, p, len) : -1;
				st->cfa_rule = at < 0 ? CFA_UNSUP : CFA_EXPR;
				st->cfa_off = at < 0 ? 0 : at;
				p += len;
				break;
			}
			case 0x10: /* expression */
			case 0x16: { /* val_expression */
				reg = read_uleb(&p, end, &bad);
				len = read_uleb(&p, end, &bad);
				if (bad || len > (uint64_t)(end - p))
					return -1;
				int32_t at = rb ? rb_expr(rb, p, len) : -1;
				if (at < 0)
					set_col(st, reg, RULE_UNSUP, 0);
				else
					set_col(st, reg, op == 0x10 ? RULE_EXPR : RULE_VAL_EXPR, at);
				p += len;
				break;
			}
			case 0x11: /* offset_extended_sf */
				reg = read_uleb(&p, end, &bad);
				off = read_sleb(&p, end, &bad) * cie->data_align;
				set_col(st, reg, RULE_OFFSET, off);
				break;
			case 0x12: /* def_cfa_sf */
				reg = read_uleb(&p, end, &bad);
				off = read_sleb(&p, end, &bad) * cie->data_align;
				set_cfa(st, reg, off);
				break;
			case 0x13: /* def_cfa_offset_sf */
				off = read_sleb(&p, end, &bad) * cie->data_align;
				if (st->cfa_rule == CFA_REG)
					set_cfa(st, st->cfa_reg, off);
				break;
			case 0x14: /* val_offset */
				reg = read_uleb(&p, end, &bad);
				off = (int64_t)read_uleb(&p, end, &bad) * cie->data_align;
				set_col(st, reg, RULE_VAL_OFFSET, off);
				break;
			case 0x15: /* val_offset_sf */
				reg = read_uleb(&p, end, &bad);
				off = read_sleb(&p, end, &bad) * cie->data_align;
				set_col(st, reg, RULE_VAL_OFFSET, off);
				break;
			case 0x2d: /* GNU_window_save / AARCH64_negate_ra_state */
				/* arm64 pointer authentication: the saved LR is signed.
				 * User-space Linux binaries here don't use PAC; a signed
				 * RA would fail the module lookup, never fabricate. */
				break;
			case 0x2e: /* GNU_args_size */
				read_uleb(&p, end, &bad);
				break;
			case 0x2f: /* GNU_negative_offset_extended */
				reg = read_uleb(&p, end, &bad);
				off = -(int64_t)read_uleb(&p, end, &bad) * cie->data_align;
				set_col(st, reg, RULE_OFFSET, off);
				break;
			default:
				return -1;
			}
		}
		if (advance && rb) {
			uint64_t to = *loc + adv * cie->code_align;

			if (to > pc_end || to < *loc)
				to = pc_end;
			if (to > *loc) {
				struct cfi_row r;

				state_to_row(st, cie, sec->fp_col, *loc, &r);
				if (rb_push(rb, &r))
					return -ENOMEM;
				*loc = to;
			}
		}
	}
	return bad ? -1 : 0;
}

/* Entry header: length and the id field.  Returns the entry's end, or NULL. */
static const uint8_t *entry_header(const uint8_t *p, const uint8_t *end, bool eh, uint64_t *id,
				   bool *is_cie, const uint8_t **id_field, const uint8_t **body,
				   bool *terminator)
{
	bool bad = false, dw64 = false;
	uint64_t len = read_u(&p, end, 4, &bad);

	*terminator = false;
	if (bad)
		return NULL;
	if (len == 0) {
		*terminator = true;
		return p;
	}
	if (len == 0xffffffff) {
		len = read_u(&p, end, 8, &bad);
		dw64 = true;
		if (bad)
			return NULL;
	}
	if (len > (uint64_t)(end - p))
		return NULL;
	const uint8_t *e = p + len;
	*id_field = p;
	if (eh || !dw64) {
		*id = read_u(&p, e, 4, &bad);
		*is_cie = eh ? *id == 0 : *id == 0xffffffff;
	} else {
		*id = read_u(&p, e, 8, &bad);
		*is_cie = *id == ~0ULL;
	}
	if (bad)
		return NULL;
	*body = p;
	return e;
}

static int parse_cie(const struct cfi_section *sec, const uint8_t *p, const uint8_t *end,
		     struct cie *c)
{
	bool bad = false;
	uint8_t version;
	const char *aug;
	size_t auglen;

	memset(c, 0, sizeof(*c));
	c->fde_enc = PE_ABSPTR;
	version = (uint8_t)read_u(&p, end, 1, &bad);
	if (bad || (version != 1 && version != 3 && version != 4))
		return -1;
	aug = (const char *)p;
	auglen = strnlen(aug, (size_t)(end - p));
	if (auglen == (size_t)(end - p))
		return -1;
	p += auglen + 1;
	if (auglen && aug[0] != 'z')
		return -1; /* "eh" and other pre-z augmentations: data we can't size */
	if (version == 4) {
		read_u(&p, end, 1, &bad); /* address_size */
		if (read_u(&p, end, 1, &bad) != 0) /* segment_selector_size */
			return -1;
	}
	c->code_align = read_uleb(&p, end, &bad);
	c->data_align = read_sleb(&p, end, &bad);
	c->ra_col = version == 1 ? (int)read_u(&p, end, 1, &bad) : (int)read_uleb(&p, end, &bad);
	if (bad || c->ra_col < 0 || c->ra_col >= CFI_NCOLS || c->code_align == 0)
		return -1;
	if (auglen) {
		uint64_t zlen = read_uleb(&p, end, &bad);
		const uint8_t *zend;

		if (bad || zlen > (uint64_t)(end - p))
			return -1;
		zend = p + zlen;
		c->has_z = true;
		for (size_t i = 1; i < auglen; i++) {
			uint64_t dummy;

			switch (aug[i]) {
			case 'L':
				read_u(&p, zend, 1, &bad);
				break;
			case 'P': {
				uint8_t enc = (uint8_t)read_u(&p, zend, 1, &bad);
				if (bad || read_encoded(sec, &p, zend, enc & ~PE_INDIRECT, &dummy))
					return -1;
				break;
			}
			case 'R':
				c->fde_enc = (uint8_t)read_u(&p, zend, 1, &bad);
				break;
			case 'S':
				c->signal = true;
				break;
			case 'B': /* arm64 PAC B key: no data */
			case 'G': /* MTE tagged frame: no data */
				break;
			default:
				i = auglen; /* unknown: skip the rest by zlen */
				break;
			}
		}
		if (bad)
			return -1;
		p = zend;
	}
	c->insns = p;
	c->insns_end = end;
	return 0;
}

/* Sort rows by pc keeping emission order among equal pcs: sort an index. */
struct sort_ent {
	uint64_t pc;
	uint32_t real; /* gaps sort before rows at the same pc */
	uint32_t seq;
};

static int cmp_sort_ent(const void *a, const void *b)
{
	const struct sort_ent *x = a, *y = b;

	if (x->pc != y->pc)
		return x->pc < y->pc ? -1 : 1;
	if (x->real != y->real)
		return x->real < y->real ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool same_rules(const struct cfi_row *a, const struct cfi_row *b)
{
	return a->cfa_rule == b->cfa_rule && a->cfa_reg == b->cfa_reg && a->cfa_off == b->cfa_off &&
	       a->ra_rule == b->ra_rule && a->ra_off == b->ra_off && a->fp_rule == b->fp_rule &&
	       a->fp_off == b->fp_off;
}

static int finish_table(struct row_buf *rb, struct cfi_table *t)
{
	struct sort_ent *idx;
	struct cfi_row *out;
	size_t n = 0;

	if (!rb->n)
		goto blob;
	idx = malloc(rb->n * sizeof(*idx));
	out = malloc(rb->n * sizeof(*out));
	if (!idx || !out) {
		free(idx);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < rb->n; i++) {
		idx[i].pc = rb->rows[i].pc;
		idx[i].real = (rb->rows[i].cfa_rule & 0x7f) != CFA_NONE;
		idx[i].seq = (uint32_t)i;
	}
	qsort(idx, rb->n, sizeof(*idx), cmp_sort_ent);
	for (size_t i = 0; i < rb->n; i++) {
		const struct cfi_row *r = &rb->rows[idx[i].seq];

		/* Several rows at one pc: a gap (end of the previous FDE)
		 * followed by the next FDE's first row; keep the last one. */
		if (n && out[n - 1].pc == r->pc) {
			out[n - 1] = *r;
			if (n >= 2 && same_rules(&out[n - 2], &out[n - 1]))
				n--;
			continue;
		}
		if (n && same_rules(&out[n - 1], r))
			continue; /* same rules: the previous row just extends */
		if (!n && (r->cfa_rule & 0x7f) == CFA_NONE)
			continue;
		out[n++] = *r;
	}
	free(idx);
	t->rows = out;
	t->nrows = n;
blob:
	t->blob = rb->blob;
	t->blob_len = rb->blob_len;
	rb->blob = NULL;
	return 0;
}

int cfi_compile(const struct cfi_section *sec, struct cfi_table *t)
{
	const uint8_t *p = sec->data, *end = sec->data + sec->len;
	struct row_buf rb = {0};
	const uint8_t *last_cie_at = NULL;
	struct cie cie = {0};
	struct cfi_state init;
	int err = 0;

	while (p < end) {
		const uint8_t *id_field, *body, *e;
		uint64_t id;
		bool is_cie, term;

		e = entry_header(p, end, sec->eh, &id, &is_cie, &id_field, &body, &term);
		if (!e) {
			t->nbad++;
			break; /* can't find the next entry */
		}
		if (term) {
			if (sec->eh)
				break; /* .eh_frame's zero terminator */
			p = e;
			continue;
		}
		p = e;
		if (is_cie)
			continue;
		t->nfdes++;

		/* The FDE's CIE. */
		const uint8_t *cie_at;
		if (sec->eh) {
			if (id > (uint64_t)(id_field - sec->data))
				goto bad;
			cie_at = id_field - id;
		} else {
			if (id >= sec->len)
				goto bad;
			cie_at = sec->data + id;
		}
		if (cie_at != last_cie_at) {
			const uint8_t *cid, *cbody, *ce;
			uint64_t cidv;
			bool cis, cterm;

			last_cie_at = NULL;
			ce = entry_header(cie_at, end, sec->eh, &cidv, &cis, &cid, &cbody, &cterm);
			if (!ce || cterm || !cis || parse_cie(sec, cbody, ce, &cie))
				goto bad;
			if (cie.ra_col >= CFI_NCOLS)
				goto bad;
			memset(&init, 0, sizeof(init));
			uint64_t dummy_loc = 0;
			if (run_program(sec, &cie, cie.insns, cie.insns_end, &init, NULL, &dummy_loc, 0,
					NULL))
				goto bad;
			last_cie_at = cie_at;
		}

		/* pc_begin, pc_range, augmentation data, instructions. */
		const uint8_t *q = body;
		uint64_t pc_begin, pc_range;
		uint8_t enc = sec->eh ? cie.fde_enc : PE_ABSPTR;
		bool bad = false;

		if (read_encoded(sec, &q, e, enc, &pc_begin) ||
		    read_encoded(sec, &q, e, enc & 0x0f, &pc_range))
			goto bad;
		if (cie.has_z) {
			uint64_t zlen = read_uleb(&q, e, &bad);
			if (bad || zlen > (uint64_t)(e - q))
				goto bad;
			q += zlen;
		}
		if (pc_range == 0)
			continue; /* discarded function (linker left a zero-length FDE) */
		if (pc_range > MAX_FDE_RANGE || pc_begin + pc_range < pc_begin)
			goto bad;

		struct cfi_state st = init;
		uint64_t loc = pc_begin, pc_end = pc_begin + pc_range;
		size_t mark = rb.n;
		int r = run_program(sec, &cie, q, e, &st, &init, &loc, pc_end, &rb);
		if (r == -ENOMEM) {
			err = r;
			goto out;
		}
		if (r) {
			rb.n = mark; /* no rows from a broken program */
			goto bad;
		}
		struct cfi_row row;
		if (loc < pc_end) {
			state_to_row(&st, &cie, sec->fp_col, loc, &row);
			if ((err = rb_push(&rb, &row)))
				goto out;
		}
		memset(&row, 0, sizeof(row));
		row.pc = pc_end;
		row.cfa_rule = CFA_NONE;
		if ((err = rb_push(&rb, &row)))
			goto out;
		continue;
bad:
		t->nbad++;
	}
	err = finish_table(&rb, t);
out:
	free(rb.rows);
	free(rb.seq);
	free(rb.blob);
	return err;
}

void cfi_table_release(struct cfi_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->blob);
	memset(t, 0, sizeof(*t));
}

const struct cfi_row *cfi_find(const struct cfi_table *t, uint64_t vaddr)
{
	size_t lo = 0, hi = t->nrows;

	if (!hi || vaddr < t->rows[0].pc)
		return NULL;
	/* last row with pc <= vaddr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	if ((t->rows[lo].cfa_rule & 0x7f) == CFA_NONE)
		return NULL;
	/* The last row is always a gap; a row past every FDE is not covered. */
	if (lo + 1 == t->nrows)
		return NULL;
	return &t->rows[lo];
}
