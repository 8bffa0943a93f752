// SPDX-License-Identifier: MIT
/* Go types and parameters from DWARF (see types.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "args/types.h"

/* Go's own DWARF attributes (src/cmd/internal/dwarf). */
#define DW_AT_go_kind		0x2900
#define DW_AT_go_key		0x2901
#define DW_AT_go_elem		0x2902
#define DW_AT_go_runtime_type	0x2904
#define DW_AT_go_dict_index	0x2906

/* reflect.Kind values DW_AT_go_kind carries. */
enum { K_UINTPTR = 12, K_ARRAY = 17, K_CHAN = 18, K_FUNC = 19, K_IFACE = 20, K_MAP = 21,
       K_PTR = 22, K_SLICE = 23, K_STRING = 24, K_STRUCT = 25, K_UNSAFEPTR = 26 };

struct fent {
	uint64_t lowpc;
	Dwarf_Off die;
	struct ga_func *fn;	/* read on first use */
};

/* type memo: DIE offset -> type (open addressing) */
struct tmemo {
	Dwarf_Off off;
	struct ga_type *t;
};

struct rent {
	uint64_t off;
	Dwarf_Off die;
};

struct chunk {
	struct chunk *next;
	size_t used, size;
	char mem[];
};

struct ga_dwarf {
	int fd;
	Elf *elf;
	Dwarf *dw;
	uint8_t ptr;
	struct fent *funcs;
	size_t nfuncs;
	struct tmemo *memo;
	size_t nmemo, memo_used;
	struct rent *rtypes;	/* sorted by off; built on first use */
	size_t nrtypes;
	bool rtypes_done;
	struct chunk *arena;
};

static void *arena_alloc(struct ga_dwarf *d, size_t n)
{
	struct chunk *c = d->arena;

	n = (n + 7) & ~(size_t)7;
	if (!c || c->size - c->used < n) {
		size_t sz = n > 65536 ? n : 65536;

		c = malloc(sizeof(*c) + sz);
		if (!c)
			return NULL;
		c->size = sz;
		c->used = 0;
		c->next = d->arena;
		d->arena = c;
	}
	c->used += n;
	return memset(c->mem + c->used - n, 0, n);
}

const char *ga_kind_name(enum ga_kind k)
{
	static const char *const n[] = {
		[GA_UNKNOWN] = "unknown", [GA_BOOL] = "bool", [GA_INT] = "int", [GA_UINT] = "uint",
		[GA_UINTPTR] = "uintptr", [GA_FLOAT] = "float", [GA_COMPLEX] = "complex",
		[GA_STRING] = "string", [GA_SLICE] = "slice", [GA_ARRAY] = "array", [GA_PTR] = "ptr",
		[GA_UNSAFEPTR] = "unsafe.Pointer", [GA_STRUCT] = "struct", [GA_MAP] = "map",
		[GA_CHAN] = "chan", [GA_FUNC] = "func", [GA_IFACE] = "iface", [GA_EFACE] = "eface",
	};

	return k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

/* --- method names -------------------------------------------------------- */

static bool closure_part(const char *s, size_t n)
{
	static const char *const pre[] = { "func", "gowrap", "deferwrap" };

	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		size_t l = strlen(pre[i]);

		if (n > l && !strncmp(s, pre[i], l)) {
			size_t k = l;

			while (k < n && isdigit((unsigned char)s[k]))
				k++;
			if (k == n)
				return true;
		}
	}
	return n > 0 && isdigit((unsigned char)s[0]);	/* init.0 */
}

bool ga_name_is_method(const char *name)
{
	char buf[512];
	size_t n = 0;
	int depth = 0;
	const char *pkgend, *rest, *dot, *last;

	/* drop generic brackets: their contents may hold anything */
	for (const char *s = name; *s && n < sizeof(buf) - 1; s++) {
		if (*s == '[')
			depth++;
		else if (*s == ']' && depth)
			depth--;
		else if (!depth)
			buf[n++] = *s;
	}
	buf[n] = 0;
	pkgend = strrchr(buf, '/');
	rest = strchr(pkgend ? pkgend : buf, '.');
	if (!rest)
		return false;
	rest++;
	if (strstr(rest, "-fm"))
		return false;
	if (!strncmp(rest, "(*", 2)) {
		/* "(*T).M", not "(*T).M.func1" */
		const char *close = strstr(rest, ").");

		return close && !strchr(close + 2, '.');
	}
	dot = strchr(rest, '.');
	if (!dot)
		return false;
	last = strrchr(rest, '.') + 1;
	if (closure_part(last, strlen(last)))
		return false;
	/* "T.M": exactly two parts */
	return strchr(dot + 1, '.') == NULL;
}

/* --- types ------------------------------------------------------------ */

static uint64_t attr_u(Dwarf_Die *die, unsigned at, uint64_t dflt)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	Dwarf_Addr ad;

	if (!dwarf_attr(die, at, &a))
		return dflt;
	if (!dwarf_formudata(&a, &w))
		return w;
	/* DW_AT_go_runtime_type is written as an address */
	return dwarf_formaddr(&a, &ad) ? dflt : ad;
}

static bool attr_ref(Dwarf_Die *die, unsigned at, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr(die, at, &a) && dwarf_formref_die(&a, out);
}

static struct tmemo *memo_slot(struct ga_dwarf *d, Dwarf_Off off)
{
	size_t i = (off * 0x9e3779b97f4a7c15ULL >> 20) & (d->nmemo - 1);

	while (d->memo[i].t && d->memo[i].off != off)
		i = (i + 1) & (d->nmemo - 1);
	return &d->memo[i];
}

static int memo_grow(struct ga_dwarf *d)
{
	struct tmemo *old = d->memo;
	size_t n = d->nmemo;

	d->nmemo = n ? n * 2 : 4096;
	d->memo = calloc(d->nmemo, sizeof(*d->memo));
	if (!d->memo) {
		d->memo = old;
		d->nmemo = n;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (old[i].t)
			*memo_slot(d, old[i].off) = old[i];
	free(old);
	return 0;
}

static const struct ga_type *type_of(struct ga_dwarf *d, Dwarf_Die *die, int depth);

static const struct ga_type *type_ref(struct ga_dwarf *d, Dwarf_Die *die, unsigned at, int depth)
{
	Dwarf_Die t;

	return attr_ref(die, at, &t) ? type_of(d, &t, depth) : NULL;
}

static int fill_struct(struct ga_dwarf *d, Dwarf_Die *die, struct ga_type *t, int depth)
{
	Dwarf_Die c;
	uint32_t n = 0, align = 1;
	struct ga_field *f;

	if (dwarf_child(die, &c) == 0)
		do
			n += dwarf_tag(&c) == DW_TAG_member;
		while (dwarf_siblingof(&c, &c) == 0);
	f = arena_alloc(d, (n ? n : 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	t->fields = f;
	t->nfields = 0;
	if (n && dwarf_child(die, &c) == 0) {
		do {
			if (dwarf_tag(&c) != DW_TAG_member)
				continue;
			f->name = dwarf_diename(&c) ?: "?";
			f->off = (uint32_t)attr_u(&c, DW_AT_data_member_location, 0);
			f->type = type_ref(d, &c, DW_AT_type, depth + 1);
			if (!f->type)
				return -EPROTO;
			if (f->type->align > align)
				align = f->type->align;
			f++;
			t->nfields++;
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	t->align = align;
	return 0;
}

/* What a typedef with Go kind k stands for when its target is a runtime
 * representation (hash<K,V>*, hchan<T>*, runtime.iface...).  1: none of
 * those, follow the typedef. */
static int fill_go_kind(struct ga_dwarf *d, Dwarf_Die *die, struct ga_type *t, int k, int depth)
{
	const char *sname;
	Dwarf_Die target;

	switch (k) {
	case K_MAP:
		t->kind = GA_MAP;
		t->key = type_ref(d, die, DW_AT_go_key, depth + 1);
		t->elem = type_ref(d, die, DW_AT_go_elem, depth + 1);
		t->size = t->align = d->ptr;
		return 0;
	case K_CHAN:
		t->kind = GA_CHAN;
		t->elem = type_ref(d, die, DW_AT_go_elem, depth + 1);
		t->size = t->align = d->ptr;
		return 0;
	case K_FUNC:
		t->kind = GA_FUNC;
		t->size = t->align = d->ptr;
		return 0;
	case K_IFACE:
		/* a typedef of runtime.eface or runtime.iface */
		if (!attr_ref(die, DW_AT_type, &target))
			return -EPROTO;
		sname = dwarf_diename(&target) ?: "";
		t->kind = strcmp(sname, "runtime.eface") ? GA_IFACE : GA_EFACE;
		t->size = 2 * d->ptr;
		t->align = d->ptr;
		return 0;
	}
	return 1;	/* not one of these */
}

static int fill_type(struct ga_dwarf *d, Dwarf_Die *die, struct ga_type *t, int depth)
{
	int tag = dwarf_tag(die), k = (int)attr_u(die, DW_AT_go_kind, 0), err;
	Dwarf_Die target, c;

	t->size = (uint32_t)attr_u(die, DW_AT_byte_size, 0);
	t->rtype_off = attr_u(die, DW_AT_go_runtime_type, 0);
	switch (tag) {
	case DW_TAG_typedef:
		err = k ? fill_go_kind(d, die, t, k, depth) : 1;
		if (err <= 0)
			return err;
		/* a plain alias ("error" -> "error", ".param0" -> shape):
		 * the target, under the outer name unless that is internal */
		if (!attr_ref(die, DW_AT_type, &target))
			return -EPROTO;
		{
			const struct ga_type *in = type_of(d, &target, depth + 1);
			const char *nm = t->name;

			if (!in)
				return -EPROTO;
			*t = *in;
			if (nm && nm[0] != '.')
				t->name = nm;
		}
		return 0;
	case DW_TAG_base_type:
		t->align = t->size;
		switch (attr_u(die, DW_AT_encoding, 0)) {
		case DW_ATE_boolean:
			t->kind = GA_BOOL;
			break;
		case DW_ATE_signed:
		case DW_ATE_signed_char:
			t->kind = GA_INT;
			break;
		case DW_ATE_unsigned:
		case DW_ATE_unsigned_char:
			t->kind = k == K_UINTPTR ? GA_UINTPTR : GA_UINT;
			break;
		case DW_ATE_float:
			t->kind = GA_FLOAT;
			break;
		case DW_ATE_complex_float:
			t->kind = GA_COMPLEX;
			t->align = t->size / 2;
			break;
		}
		return 0;
	case DW_TAG_pointer_type:
		t->size = t->align = d->ptr;
		if (k == K_UNSAFEPTR || !attr_ref(die, DW_AT_type, &target)) {
			t->kind = GA_UNSAFEPTR;
			return 0;
		}
		t->kind = GA_PTR;
		t->elem = type_of(d, &target, depth + 1);
		return t->elem ? 0 : -EPROTO;
	case DW_TAG_array_type:
		t->kind = GA_ARRAY;
		t->elem = type_ref(d, die, DW_AT_type, depth + 1);
		if (!t->elem)
			return -EPROTO;
		t->align = t->elem->align ? t->elem->align : 1;
		if (dwarf_child(die, &c) == 0 && dwarf_tag(&c) == DW_TAG_subrange_type)
			t->count = (uint32_t)attr_u(&c, DW_AT_count, attr_u(&c, DW_AT_upper_bound, -1ull) + 1);
		return 0;
	case DW_TAG_subroutine_type:
		t->kind = GA_FUNC;
		t->size = t->align = d->ptr;
		return 0;
	case DW_TAG_structure_type:
		t->align = d->ptr;
		if (k == K_STRING) {
			t->kind = GA_STRING;
			return 0;
		}
		if (k == K_SLICE) {
			t->kind = GA_SLICE;
			t->elem = type_ref(d, die, DW_AT_go_elem, depth + 1);
			return t->elem ? 0 : -EPROTO;
		}
		t->kind = GA_STRUCT;
		return fill_struct(d, die, t, depth);
	}
	return 0;	/* GA_UNKNOWN */
}

static const struct ga_type *type_of(struct ga_dwarf *d, Dwarf_Die *die, int depth)
{
	Dwarf_Off off = dwarf_dieoffset(die);
	struct tmemo *m;
	struct ga_type *t;

	if (depth > 64)
		return NULL;
	if ((d->memo_used + 1) * 2 > d->nmemo && memo_grow(d))
		return NULL;
	m = memo_slot(d, off);
	if (m->t)
		return m->t;
	t = arena_alloc(d, sizeof(*t));
	if (!t)
		return NULL;
	/* published before it is filled: a struct may point to itself */
	m->off = off;
	m->t = t;
	d->memo_used++;
	t->name = dwarf_diename(die) ?: "?";
	if (fill_type(d, die, t, depth)) {
		t->kind = GA_UNKNOWN;
		t->nfields = 0;
	}
	if (!strcmp(t->name, "time.Duration") && t->kind == GA_INT)
		t->special = GA_SP_DURATION;
	else if (!strcmp(t->name, "time.Time") && t->kind == GA_STRUCT)
		t->special = GA_SP_TIME;
	if (!t->align)
		t->align = 1;
	return t;
}

/* --- locations ----------------------------------------------------------- */

static void read_location(Dwarf_Die *die, uint64_t pc, struct ga_param *p)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;
	struct ga_dwpiece cur = { GA_DW_NONE, 0, 0, 0 };
	bool have = false;

	if (!dwarf_attr(die, DW_AT_location, &a) || dwarf_getlocation_addr(&a, pc, &ops, &nops, 1) != 1)
		return;
	for (size_t i = 0; i < nops; i++) {
		uint8_t op = ops[i].atom;

		if (op >= DW_OP_reg0 && op <= DW_OP_reg31) {
			cur = (struct ga_dwpiece){ GA_DW_REG, (uint16_t)(op - DW_OP_reg0), 0, 0 };
			have = true;
		} else if (op == DW_OP_regx) {
			cur = (struct ga_dwpiece){ GA_DW_REG, (uint16_t)ops[i].number, 0, 0 };
			have = true;
		} else if (op == DW_OP_call_frame_cfa) {
			cur = (struct ga_dwpiece){ GA_DW_CFA, 0, 0, 0 };
			have = true;
		} else if ((op == DW_OP_consts || op == DW_OP_constu) && i + 1 < nops &&
			   ops[i + 1].atom == DW_OP_plus && cur.kind == GA_DW_CFA) {
			cur.off += (int32_t)ops[i].number;
			i++;
		} else if (op == DW_OP_plus_uconst && cur.kind == GA_DW_CFA) {
			cur.off += (int32_t)ops[i].number;

		} else if (op == DW_OP_piece) {
			if (p->npieces == GA_DW_MAXPIECES) {
				p->loc_truncated = true;
				return;
			}
			cur.size = (uint32_t)ops[i].number;
			if (!have)
				cur.kind = GA_DW_NONE;
			p->pieces[p->npieces++] = cur;
			cur = (struct ga_dwpiece){ GA_DW_NONE, 0, 0, 0 };
			have = false;
		} else {
			cur.kind = GA_DW_OTHER;
			have = true;
		}
	}
	if (have && p->npieces < GA_DW_MAXPIECES)
		p->pieces[p->npieces++] = cur;
}

/* --- functions ------------------------------------------------------------ */

/* Go can't have two parameters of one name (blank ones are "~p<N>" or
 * left out): a second one is DWARF's repetition. */
static bool dup_param(const struct ga_func *f, const char *name)
{
	for (uint32_t k = 0; k < f->nparams; k++)
		if (!strcmp(f->params[k].name, name))
			return true;
	return false;
}

static int read_func(struct ga_dwarf *d, struct fent *e)
{
	Dwarf_Die die, c;
	struct ga_func *f;
	uint32_t n = 0;
	Dwarf_Addr hi;

	if (!dwarf_offdie(d->dw, e->die, &die))
		return -EPROTO;
	f = arena_alloc(d, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->name = dwarf_diename(&die) ?: "?";
	f->lowpc = e->lowpc;
	f->highpc = dwarf_highpc(&die, &hi) ? e->lowpc : hi;
	f->method = ga_name_is_method(f->name);
	{
		const char *file = dwarf_decl_file(&die);

		/* Go 1.20+ marks them DW_AT_trampoline instead */
		f->autogenerated = (file && strstr(file, "<autogenerated>")) ||
				   dwarf_hasattr(&die, DW_AT_trampoline);
	}
	if (dwarf_child(&die, &c) == 0)
		do {
			int tag = dwarf_tag(&c);

			n += tag == DW_TAG_formal_parameter;
			if (tag == DW_TAG_typedef && dwarf_hasattr(&c, DW_AT_go_dict_index))
				f->shape_dict = true;
		} while (dwarf_siblingof(&c, &c) == 0);
	f->params = arena_alloc(d, (n ? n : 1) * sizeof(*f->params));
	if (!f->params)
		return -ENOMEM;
	if (n && dwarf_child(&die, &c) == 0)
		do {
			struct ga_param *p = &f->params[f->nparams];
			bool res = false;
			Dwarf_Attribute a;

			if (dwarf_tag(&c) != DW_TAG_formal_parameter)
				continue;
			p->name = dwarf_diename(&c) ?: "?";
			if (dup_param(f, p->name))
				continue;	/* Go 1.20/1.21 list some results twice */
			if (!strcmp(p->name, ".dict")) {
				/* Go 1.27+ lists the dictionary itself */
				p->hidden = true;
				f->explicit_dict = true;
			}
			if (dwarf_attr(&c, DW_AT_variable_parameter, &a))
				dwarf_formflag(&a, &res);
			p->result = res;
			p->type = type_ref(d, &c, DW_AT_type, 0);
			if (!p->type)
				return -EPROTO;
			read_location(&c, e->lowpc, p);
			f->nparams++;
		} while (dwarf_siblingof(&c, &c) == 0);
	if (f->explicit_dict)
		f->shape_dict = false;
	e->fn = f;
	return 0;
}

static int cmp_fent(const void *a, const void *b)
{
	const struct fent *x = a, *y = b;

	return x->lowpc < y->lowpc ? -1 : x->lowpc > y->lowpc;
}

static int index_funcs(struct ga_dwarf *d)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die;
	size_t cap = 0;

	while (dwarf_get_units(d->dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		if (dwarf_child(&cudie, &die))
			continue;
		do {
			Dwarf_Addr lo;

			if (dwarf_tag(&die) != DW_TAG_subprogram || dwarf_lowpc(&die, &lo))
				continue;
			if (d->nfuncs == cap) {
				struct fent *n;

				cap = cap ? cap * 2 : 4096;
				n = realloc(d->funcs, cap * sizeof(*n));
				if (!n)
					return -ENOMEM;
				d->funcs = n;
			}
			d->funcs[d->nfuncs++] = (struct fent){ lo, dwarf_dieoffset(&die), NULL };
		} while (dwarf_siblingof(&die, &die) == 0);
	}
	qsort(d->funcs, d->nfuncs, sizeof(*d->funcs), cmp_fent);
	return 0;
}

int ga_dwarf_open(const char *path, uint8_t ptr_size, struct ga_dwarf **out)
{
	struct ga_dwarf *d = calloc(1, sizeof(*d));
	int err;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->ptr = ptr_size;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		err = -errno;
		free(d);
		return err;
	}
	elf_version(EV_CURRENT);
	d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF) {
		ga_dwarf_free(d);
		return -ENOEXEC;
	}
	d->dw = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		ga_dwarf_free(d);
		return -ENOENT;
	}
	err = index_funcs(d);
	if (!err && !d->nfuncs)
		err = -ENOENT;
	if (err) {
		ga_dwarf_free(d);
		return err;
	}
	*out = d;
	return 0;
}

void ga_dwarf_free(struct ga_dwarf *d)
{
	if (!d)
		return;
	while (d->arena) {
		struct chunk *c = d->arena;

		d->arena = c->next;
		free(c);
	}
	free(d->funcs);
	free(d->memo);
	free(d->rtypes);
	if (d->dw)
		dwarf_end(d->dw);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

size_t ga_dwarf_nfuncs(const struct ga_dwarf *d)
{
	return d->nfuncs;
}

int ga_dwarf_func_at(struct ga_dwarf *d, size_t i, const struct ga_func **out)
{
	int err;

	if (i >= d->nfuncs)
		return -ENOENT;
	if (!d->funcs[i].fn && (err = read_func(d, &d->funcs[i])))
		return err;
	*out = d->funcs[i].fn;
	return 0;
}

int ga_dwarf_func(struct ga_dwarf *d, uint64_t entry, const struct ga_func **out)
{
	size_t lo = 0, hi = d->nfuncs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->funcs[mid].lowpc < entry)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= d->nfuncs || d->funcs[lo].lowpc != entry)
		return -ENOENT;
	return ga_dwarf_func_at(d, lo, out);
}

/* --- runtime type descriptor -> type ----------------------------------- */

static int cmp_rent(const void *a, const void *b)
{
	const struct rent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static void index_rtypes(struct ga_dwarf *d, uint64_t types)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die;
	size_t cap = 0;

	d->rtypes_done = true;
	while (dwarf_get_units(d->dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		if (dwarf_child(&cudie, &die))
			continue;
		do {
			uint64_t off = attr_u(&die, DW_AT_go_runtime_type, 0);

			if (!off || dwarf_tag(&die) == DW_TAG_subprogram)
				continue;
			/* an offset from moduledata.types, or (Go 1.17-1.19 mostly,
			 * later for a few) the link-time address itself */
			if (off < types)
				off += types;
			if (d->nrtypes == cap) {
				struct rent *n;

				cap = cap ? cap * 2 : 4096;
				n = realloc(d->rtypes, cap * sizeof(*n));
				if (!n)
					return;
				d->rtypes = n;
			}
			d->rtypes[d->nrtypes++] = (struct rent){ off, dwarf_dieoffset(&die) };
		} while (dwarf_siblingof(&die, &die) == 0);
	}
	qsort(d->rtypes, d->nrtypes, sizeof(*d->rtypes), cmp_rent);
}

const struct ga_type *ga_dwarf_type_by_rtype(struct ga_dwarf *d, uint64_t types, uint64_t off)
{
	size_t lo = 0, hi;
	Dwarf_Die die;

	if (!d->rtypes_done)
		index_rtypes(d, types);
	hi = d->nrtypes;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->rtypes[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= d->nrtypes || d->rtypes[lo].off != off ||
	    !dwarf_offdie(d->dw, d->rtypes[lo].die, &die))
		return NULL;
	return type_of(d, &die, 0);
}
