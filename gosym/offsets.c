// SPDX-License-Identifier: MIT
/*
 * Offsets into runtime.g and runtime.m, and where a thread finds its g.
 *
 * DWARF first: the runtime's own types, in the compile unit named
 * "runtime" (Go's linker puts every runtime type there).  Only that unit's
 * top-level DIEs are read, so a 100 MB binary costs little more than the
 * decompression libdw does when it opens the debug sections.  Compressed
 * sections of both kinds open: SHF_COMPRESSED (Go 1.19+) and the GNU
 * .zdebug_* sections (Go <= 1.18), which libdw 0.188 inflates itself.
 * Without usable DWARF, the per-version table (version_tables.c) answers for
 * 64-bit amd64/arm64 binaries of Go 1.17 - 1.27.
 *
 * The TLS slot of g is separate: it depends on the link, not the Go version.
 */
#include <errno.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "internal.h"
#include "version_tables.h"

#define RUNTIME_CU "runtime"

enum { T_G, T_M, NTYPES };

static const char *const type_names[NTYPES] = { "runtime.g", "runtime.m" };

static void offsets_unknown(struct gosym_runtime_offsets *rt)
{
	rt->g_stack_lo = rt->g_stack_hi = rt->g_m = rt->g_sched = -1;
	rt->g_sched_sp = rt->g_sched_pc = rt->g_atomicstatus = rt->g_goid = -1;
	rt->g_waitreason = rt->g_startpc = rt->g_gopc = rt->g_parentgoid = -1;
	rt->m_curg = rt->m_g0 = rt->m_procid = -1;
	rt->tls_g = 0;
	rt->source = NULL;
	rt->tls_source = "unknown";
}

/* DW_AT_data_member_location: a constant (what Go writes) or, in older
 * producers, a DW_OP_plus_uconst expression. */
static int member_location(Dwarf_Die *member, Dwarf_Word *off)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(member, DW_AT_data_member_location, &attr))
		return -ENOENT;
	if (!dwarf_formudata(&attr, off))
		return 0;
	if (dwarf_getlocation(&attr, &ops, &nops) || nops != 1 || ops[0].atom != DW_OP_plus_uconst)
		return -EPROTO;
	*off = ops[0].number;
	return 0;
}

/* Offset of a dotted member path ("sched.sp") in the struct DIE st, or -1.
 * Member types are followed through typedefs: Go describes runtime.stack
 * and runtime.gobuf as typedefs of structure types. */
static int member_offset(Dwarf_Die *st, const char *path)
{
	Dwarf_Die cur = *st;
	Dwarf_Word total = 0;
	const char *p = path;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		Dwarf_Die child, type, peeled;
		Dwarf_Attribute attr;
		Dwarf_Word off;
		bool found = false;

		if (dwarf_child(&cur, &child))
			return -1;
		do {
			const char *name;

			if (dwarf_tag(&child) != DW_TAG_member)
				continue;
			name = dwarf_diename(&child);
			if (name && strlen(name) == len && !memcmp(name, p, len)) {
				found = true;
				break;
			}
		} while (!dwarf_siblingof(&child, &child));
		if (!found || member_location(&child, &off))
			return -1;
		total += off;
		if (!dot)
			break;
		if (!dwarf_attr_integrate(&child, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
		    dwarf_peel_type(&type, &peeled) || dwarf_tag(&peeled) != DW_TAG_structure_type)
			return -1;
		cur = peeled;
		p = dot + 1;
	}
	return total > INT32_MAX ? -1 : (int)total;
}

/* Look for the wanted structure types among the top-level DIEs of one CU.
 * Returns true once all are found. */
static bool cu_find_types(Dwarf_Die *cu, Dwarf_Die types[NTYPES], bool found[NTYPES])
{
	Dwarf_Die die;
	int nfound = 0;

	for (int i = 0; i < NTYPES; i++)
		nfound += found[i];
	if (dwarf_child(cu, &die))
		return false;
	do {
		const char *name;

		if (dwarf_tag(&die) != DW_TAG_structure_type)
			continue;
		name = dwarf_diename(&die);
		if (!name || strncmp(name, "runtime.", 8))
			continue;
		for (int i = 0; i < NTYPES; i++) {
			if (!found[i] && !strcmp(name, type_names[i])) {
				types[i] = die;
				found[i] = true;
				if (++nfound == NTYPES)
					return true;
			}
		}
	} while (!dwarf_siblingof(&die, &die));
	return false;
}

/* Find runtime.g and runtime.m: in the CUs named "runtime" (there can be
 * several: the Go 1.26 linker writes one for the package's assembly and
 * one holding the types), and only when they aren't there (a producer we
 * haven't seen), in every other CU. */
static bool dwarf_find_types(Dwarf *dw, Dwarf_Die types[NTYPES])
{
	bool found[NTYPES] = { false };

	for (int pass = 0; pass < 2; pass++) {
		Dwarf_CU *cu = NULL;
		Dwarf_Die cudie;
		Dwarf_Half version;
		uint8_t unit_type;

		while (!dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL)) {
			const char *name = dwarf_diename(&cudie);
			bool is_runtime = name && !strcmp(name, RUNTIME_CU);

			if (is_runtime != (pass == 0))
				continue;
			if (cu_find_types(&cudie, types, found))
				return true;
		}
	}
	return false;
}

static int offsets_from_dwarf(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	Dwarf_Die types[NTYPES];
	Dwarf *dw;
	int err = 0;

	dw = dwarf_begin_elf(g->elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	if (!dwarf_find_types(dw, types)) {
		err = -ENOENT;
		goto cleanup;
	}
	Dwarf_Die *gt = &types[T_G], *mt = &types[T_M];

	rt->g_stack_lo = member_offset(gt, "stack.lo");
	rt->g_stack_hi = member_offset(gt, "stack.hi");
	rt->g_m = member_offset(gt, "m");
	rt->g_sched = member_offset(gt, "sched");
	rt->g_sched_sp = member_offset(gt, "sched.sp");
	rt->g_sched_pc = member_offset(gt, "sched.pc");
	rt->g_atomicstatus = member_offset(gt, "atomicstatus");
	rt->g_goid = member_offset(gt, "goid");
	rt->g_waitreason = member_offset(gt, "waitreason");
	rt->g_startpc = member_offset(gt, "startpc");
	rt->g_gopc = member_offset(gt, "gopc");
	rt->g_parentgoid = member_offset(gt, "parentGoid");
	rt->m_curg = member_offset(mt, "curg");
	rt->m_g0 = member_offset(mt, "g0");
	rt->m_procid = member_offset(mt, "procid");
	/* What every tracer needs; without them the DWARF is not the runtime
	 * we know, and the table (if any) is the better answer. */
	if (rt->g_goid < 0 || rt->g_stack_hi < 0 || rt->g_atomicstatus < 0 || rt->g_m < 0 ||
	    rt->m_curg < 0)
		err = -EPROTO;
	else
		rt->source = "DWARF";
cleanup:
	dwarf_end(dw);
	return err;
}

static int offsets_from_table(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	const struct gosym_vt *row;
	const char *arch = g->info.arch ? g->info.arch : "";

	/* The tables hold 64-bit layouts checked on amd64 and arm64 only. */
	if (g->info.ptr_size != 8 || (strcmp(arch, "amd64") && strcmp(arch, "arm64")))
		return -EOPNOTSUPP;
	row = gosym__vt_lookup(g->info.go_major, g->info.go_minor);
	if (!row)
		return -EOPNOTSUPP;
	*rt = row->off;
	rt->source = row->source;
	return 0;
}

static int64_t align_up(int64_t v, int64_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/*
 * Where g lives relative to the thread pointer.
 *
 * linux/amd64: the runtime keeps g in a TLS slot, runtime.tlsg, read as
 * %fs:off.  Go's internal linker makes the executable's TLS block that one
 * 8-byte slot, so off = -8.  With external linking (cgo) the slot shares the
 * executable's PT_TLS block with the C code's __thread variables, and the
 * C linker resolves the slot to its TP offset.  glibc (x86-64 TLS variant
 * II) places the executable's block right below the thread pointer at
 *   tpoff = roundup(p_memsz - firstbyte, p_align) + firstbyte,
 *   firstbyte = -p_vaddr & (p_align - 1),
 * and a TLS symbol of the executable is then at st_value - tpoff.
 * (Checked against the %fs:-0x18 the linker wrote into a cgo binary with
 * 67 bytes of C TLS; tests/unit/test_offsets.py re-checks it with objdump.)
 *
 * linux/arm64: ABIInternal keeps g in R28 at all times; the TLS copy only
 * matters in C code, where the tracer uses g.m.curg from a Go frame anyway.
 */
static void tls_load(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	const char *arch = g->info.arch ? g->info.arch : "";
	GElf_Phdr tls = { 0 };
	bool have_tls = false;
	uint64_t value, size;
	size_t phnum;

	if (!strcmp(arch, "arm64")) {
		rt->tls_g = 0;
		rt->tls_source = "register R28";
		return;
	}
	if (strcmp(arch, "amd64"))
		return; /* tls_g 0, "unknown" */

	if (!elf_getphdrnum(g->elf, &phnum)) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(g->elf, i, &ph) && ph.p_type == PT_TLS) {
				tls = ph;
				have_tls = true;
				break;
			}
		}
	}
	if (!have_tls || tls.p_memsz <= 8) {
		/* No TLS block, or one holding nothing but Go's slot. */
		rt->tls_g = -8;
		rt->tls_source = "default -8";
		return;
	}
	if (gosym_symbol(g, "runtime.tlsg", &value, &size)) {
		/* Stripped cgo binary with C thread-locals: the slot could be
		 * anywhere in the block. */
		rt->tls_g = 0;
		rt->tls_source = "unknown (no runtime.tlsg symbol, PT_TLS shared with C)";
		return;
	}
	/* st_value of a TLS symbol is its offset in the TLS template; accept
	 * an absolute address too. */
	if (value >= tls.p_memsz && value - tls.p_vaddr < tls.p_memsz)
		value -= tls.p_vaddr;
	if (value >= tls.p_memsz) {
		rt->tls_g = 0;
		rt->tls_source = "unknown (runtime.tlsg outside PT_TLS)";
		return;
	}
	int64_t align = tls.p_align ? (int64_t)tls.p_align : 1;
	int64_t firstbyte = (int64_t)(-tls.p_vaddr & (uint64_t)(align - 1));
	int64_t tpoff = align_up((int64_t)tls.p_memsz - firstbyte, align) + firstbyte;

	rt->tls_g = (int64_t)value - tpoff;
	rt->tls_source = "runtime.tlsg + PT_TLS";
}

void gosym__offsets_load(struct gosym *g)
{
	struct gosym_runtime_offsets rt;
	int err = -ENOENT;

	offsets_unknown(&rt);
	if (g->info.has_dwarf)
		err = offsets_from_dwarf(g, &rt);
	if (err) {
		offsets_unknown(&rt);
		err = offsets_from_table(g, &rt);
	}
	if (err) {
		g->rt_err = err;
		offsets_unknown(&g->rt);
		return;
	}
	tls_load(g, &rt);
	g->rt = rt;
	g->rt_err = 0;
}

int gosym_runtime_offsets(const struct gosym *g, struct gosym_runtime_offsets *out)
{
	const char *arch = g->info.arch ? g->info.arch : "?";

	if (!g->rt_err) {
		*out = g->rt;
		return 0;
	}
	if (g->info.ptr_size != 8 || (strcmp(arch, "amd64") && strcmp(arch, "arm64")))
		return gosym__err(g->rt_err, "no usable DWARF, and the built-in runtime offsets cover "
				  "only amd64 and arm64 (this binary is %s)", arch);
	if (!g->info.go_minor)
		return gosym__err(g->rt_err, "no usable DWARF and no Go version to pick built-in "
				  "runtime offsets by");
	return gosym__err(g->rt_err, "no usable DWARF, and no built-in runtime offsets for %s "
			  "(tables cover Go 1.%d to 1.%d)", g->info.goversion,
			  gosym__vt_first_minor(), gosym__vt_last_minor());
}
