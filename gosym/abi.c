// SPDX-License-Identifier: MIT
/*
 * Calling convention and runtime type descriptors: what a tracer needs to
 * find a function's arguments and to name an interface's dynamic type.
 *
 * The calling convention (docs/args.md, and the compiler's own
 * src/cmd/compile/abi-internal.md): from Go 1.17 on amd64 and Go 1.18 on
 * arm64, ABIInternal passes arguments and results in registers; before,
 * everything is on the stack (ABI0).  Generic functions are compiled per
 * "shape" and take a dictionary pointer as a hidden argument (Go 1.18+):
 * the first argument in 1.18 and 1.19, right after the receiver since 1.20;
 * DWARF lists it (".dict") from 1.27 on (checked on each release by
 * tests/unit/test_args_abi.c).
 *
 * Runtime type descriptors (runtime._type, internal/abi.Type since 1.21)
 * have kept one layout from Go 1.14 to 1.27: size, ptrdata, hash (u32),
 * tflag, align, fieldAlign, kind (u8 each), equal, gcdata, then str, a
 * 32-bit offset of the type's name from moduledata.types.  What moved:
 * the name's length prefix (2 bytes big-endian up to 1.16, a uvarint
 * since 1.17) and the "direct interface" bit (kind & 0x20 up to 1.25,
 * tflag & 0x20 since 1.26, where kind lost its mask).  See
 * docs/runtime-offsets.md.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const char *const amd64_int[] = { "RAX", "RBX", "RCX", "RDI", "RSI",
					 "R8", "R9", "R10", "R11" };
static const int amd64_int_dw[] = { 0, 3, 2, 5, 4, 8, 9, 10, 11 };
static const char *const amd64_float[] = { "X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7",
					   "X8", "X9", "X10", "X11", "X12", "X13", "X14" };
static const int amd64_float_dw[] = { 17, 18, 19, 20, 21, 22, 23, 24,
				      25, 26, 27, 28, 29, 30, 31 };

static const char *const arm64_int[] = { "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7",
					 "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15" };
static const int arm64_int_dw[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const char *const arm64_float[] = { "F0", "F1", "F2", "F3", "F4", "F5", "F6", "F7",
					   "F8", "F9", "F10", "F11", "F12", "F13", "F14", "F15" };
static const int arm64_float_dw[] = { 64, 65, 66, 67, 68, 69, 70, 71,
				      72, 73, 74, 75, 76, 77, 78, 79 };

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static bool at_least(const struct gosym_info *i, int minor)
{
	return i->go_major > 1 || (i->go_major == 1 && i->go_minor >= minor);
}

int gosym_abi(const struct gosym *g, struct gosym_abi *out)
{
	const struct gosym_info *i = &g->info;
	bool amd64 = !strcmp(i->arch, "amd64"), arm64 = !strcmp(i->arch, "arm64");
	struct gosym_go_facts facts;

	memset(out, 0, sizeof(*out));
	if (!i->go_major)
		return gosym__err(-EOPNOTSUPP, "no Go version in the binary: calling convention unknown");
	gosym_go_facts(g, &facts);	/* the register ABI: one source of that fact */
	out->ptr_size = i->ptr_size;
	out->shape_dict = at_least(i, 18);
	out->dict_after_receiver = at_least(i, 20);
	out->dwarf_lists_dict = at_least(i, 27);
	out->has_arginfo = at_least(i, 17);
	out->arginfo_skips_bracketed = at_least(i, 18);
	out->dwarf_omits_unnamed_results = i->go_major == 1 && i->go_minor == 17;
	if (amd64) {
		/* the return address is at 0(SP) at the first instruction,
		 * the CFA just above it */
		out->stack_args = 8;
		out->int_regs = amd64_int;
		out->int_dwarf = amd64_int_dw;
		out->float_regs = amd64_float;
		out->float_dwarf = amd64_float_dw;
		if (facts.regabi) {
			out->regabi = true;
			out->nint = N(amd64_int);
			out->nfloat = N(amd64_float);
			out->dwarf_spill_at_entry = !at_least(i, 18);
		}
		return 0;
	}
	if (arm64) {
		/* 0(SP) is the slot the callee saves LR into; the CFA is
		 * SP itself at the first instruction */
		out->stack_args = 8;
		out->cfa_args = 8;
		out->int_regs = arm64_int;
		out->int_dwarf = arm64_int_dw;
		out->float_regs = arm64_float;
		out->float_dwarf = arm64_float_dw;
		if (facts.regabi) {
			out->regabi = true;
			out->nint = N(arm64_int);
			out->nfloat = N(arm64_float);
		}
		return 0;
	}
	if (!at_least(i, 17)) {
		/* every architecture: the stack */
		out->stack_args = i->ptr_size;
		return 0;
	}
	return gosym__err(-EOPNOTSUPP, "calling convention of %s on %s not known", i->goversion,
			  i->arch);
}

/* moduledata.types: word 35 up to Go 1.19, 37 since 1.20 (covctrs and
 * ecovctrs came before it). */
int gosym_types_base(const struct gosym *g, uint64_t *base)
{
	const struct gosym_info *i = &g->info;
	uint64_t md = g->pcln.moduledata;
	int idx = at_least(i, 20) ? 37 : 35;

	if (!md || !at_least(i, 16))
		return gosym__err(-ENOENT, "no runtime.firstmoduledata: type names unknown");
	if (gosym__read_ptr(g, md + (uint64_t)idx * i->ptr_size, base) || !*base)
		return gosym__err(-EPROTO, "moduledata.types unreadable");
	return 0;
}

/* The name at types + off: flags byte, length, bytes. */
static int read_name(const struct gosym *g, uint64_t types, int32_t off, const char **name,
		     size_t *len)
{
	size_t avail;
	const uint8_t *p = gosym__vaddr_ptr(g, types + (int64_t)off, &avail);
	uint64_t n = 0;
	size_t hdr;

	if (!p || avail < 3)
		return -ENOENT;
	if (at_least(&g->info, 17)) {
		int shift = 0;

		for (hdr = 1; hdr < avail && hdr < 6; hdr++) {
			n |= (uint64_t)(p[hdr] & 0x7f) << shift;
			shift += 7;
			if (!(p[hdr] & 0x80))
				break;
		}
		hdr++;
	} else {
		n = (uint64_t)p[1] << 8 | p[2];
		hdr = 3;
	}
	if (hdr > avail || n > avail - hdr)
		return -EPROTO;
	*name = (const char *)p + hdr;
	*len = n;
	return 0;
}

int gosym_rtype(const struct gosym *g, uint64_t vaddr, struct gosym_rtype *out)
{
	const struct gosym_info *i = &g->info;
	int ps = i->ptr_size;
	size_t avail;
	const uint8_t *p = gosym__vaddr_ptr(g, vaddr, &avail);
	uint64_t types;
	uint8_t kind, tflag;
	int err;

	memset(out, 0, sizeof(*out));
	if (!p || avail < (size_t)(4 * ps + 12))
		return gosym__err(-ENOENT, "no type descriptor at 0x%llx in the file",
				  (unsigned long long)vaddr);
	err = gosym_types_base(g, &types);
	if (err)
		return err;
	out->vaddr = vaddr;
	out->size = gosym__uptr(g, p);
	tflag = p[2 * ps + 4];
	kind = p[2 * ps + 7];
	if (at_least(i, 26)) {
		out->kind = kind;
		out->direct_iface = tflag & 0x20;
	} else {
		out->kind = kind & 0x1f;
		out->direct_iface = kind & 0x20;
	}
	if (out->kind == 0 || out->kind > GOSYM_KIND_UNSAFEPOINTER)
		return gosym__err(-EPROTO, "no type descriptor at 0x%llx (kind %u)",
				  (unsigned long long)vaddr, kind);
	if (read_name(g, types, (int32_t)gosym__u32(g, p + 4 * ps + 8), &out->name, &out->name_len))
		return gosym__err(-EPROTO, "type descriptor at 0x%llx: name unreadable",
				  (unsigned long long)vaddr);
	if ((tflag & 0x2) && out->name_len && out->name[0] == '*') {
		/* tflagExtraStar: the name is stored as "*T" for T */
		out->name++;
		out->name_len--;
	}
	return 0;
}
