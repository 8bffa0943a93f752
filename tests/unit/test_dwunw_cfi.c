// SPDX-License-Identifier: MIT
/*
 * libdwunw's compiled CFI rows against libdw's own CFI interpreter
 * (dwarf_cfi_addrframe), an independent implementation, on real files:
 * libc (.eh_frame), our own CLI (gcc's .eh_frame), and Go binaries
 * (.debug_frame, compressed since Go 1.19); x86_64 and arm64.  At every row boundary and in
 * the middle of every row, the CFA rule and the return-address and
 * frame-pointer rules must agree, and an address libdw finds no FDE for
 * must have no row.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "dwunw_internal.h"

#define MAX_SAMPLES 60000

/* A rule as both sides can express it. */
struct simple_rule {
	int kind;	/* RULE_* */
	int64_t off;
};

/* libdw register rule -> simple_rule (RULE_UNSUP for anything else). */
static struct simple_rule from_libdw(Dwarf_Op *ops, size_t nops, Dwarf_Op *mem)
{
	struct simple_rule r = {RULE_UNSUP, 0};
	bool val = false;

	if (nops == 0) {
		r.kind = ops == NULL ? RULE_SAME : RULE_UNDEF;
		(void)mem;
		return r;
	}
	if (ops[nops - 1].atom == DW_OP_stack_value) {
		val = true;
		nops--;
	}
	if (nops == 1 && (ops[0].atom == DW_OP_regx || (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31))) {
		r.kind = RULE_REG;
		r.off = ops[0].atom == DW_OP_regx ? (int64_t)ops[0].number : ops[0].atom - DW_OP_reg0;
		return r;
	}
	if (nops >= 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		if (nops == 1)
			r.off = 0;
		else if (nops == 2 && ops[1].atom == DW_OP_plus_uconst)
			r.off = (int64_t)ops[1].number;
		else if (nops == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus)
			r.off = (int64_t)ops[1].number;
		else if (nops == 3 && ops[1].atom == DW_OP_constu && ops[2].atom == DW_OP_plus)
			r.off = (int64_t)ops[1].number;
		else
			return r;
		r.kind = val ? RULE_VAL_OFFSET : RULE_OFFSET;
	}
	return r;
}

static struct simple_rule from_row(uint8_t rule, int32_t off)
{
	struct simple_rule r = {rule, off};

	if (rule == RULE_EXPR || rule == RULE_VAL_EXPR)
		r.kind = RULE_UNSUP;
	if (rule != RULE_OFFSET && rule != RULE_VAL_OFFSET && rule != RULE_REG)
		r.off = 0;
	return r;
}

/* Compare one address; returns false and describes the difference. */
static bool compare_at(Dwarf_CFI *cfi, const struct cfi_table *t, uint64_t a, int ra_col,
		       int fp_col, char *why, size_t whylen)
{
	const struct cfi_row *row = cfi_find(t, a);
	Dwarf_Frame *fr = NULL;
	Dwarf_Op *ops, mem[3];
	size_t nops;

	if (dwarf_cfi_addrframe(cfi, a, &fr) != 0) {
		if (row) {
			snprintf(why, whylen, "0x%lx: libdw has no FDE, we have a row", (unsigned long)a);
			return false;
		}
		return true;
	}
	bool ok = true;
	if (!row) {
		snprintf(why, whylen, "0x%lx: no row, libdw has an FDE", (unsigned long)a);
		ok = false;
		goto out;
	}
	/* CFA */
	if (dwarf_frame_cfa(fr, &ops, &nops) != 0) {
		ok = (row->cfa_rule & 0x7f) != CFA_REG;
	} else if (nops == 1 && ops[0].atom == DW_OP_bregx) {
		ok = (row->cfa_rule & 0x7f) == CFA_REG && row->cfa_reg == ops[0].number &&
		     row->cfa_off == (int64_t)ops[0].number2;
	} else {
		ok = (row->cfa_rule & 0x7f) == CFA_EXPR;
	}
	if (!ok) {
		snprintf(why, whylen, "0x%lx: CFA differs (ours rule %d reg %d off %d)", (unsigned long)a,
			 row->cfa_rule & 0x7f, row->cfa_reg, row->cfa_off);
		goto out;
	}
	for (int k = 0; k < 2; k++) {
		int col = k ? fp_col : ra_col;
		struct simple_rule ours = k ? from_row(row->fp_rule, row->fp_off) :
					      from_row(row->ra_rule, row->ra_off);
		if (dwarf_frame_register(fr, col, mem, &ops, &nops) != 0)
			continue;
		struct simple_rule theirs = from_libdw(ops, nops, mem);
		/* libdw applies the ABI's default for columns the CFI never
		 * mentions (same value for callee-saved, undefined for the
		 * others); our rows leave them "same" and let the walk decide. */
		if (ours.kind == RULE_SAME && theirs.kind == RULE_UNDEF)
			continue;
		if (ours.kind != theirs.kind || ours.off != theirs.off) {
			snprintf(why, whylen, "0x%lx: %s rule ours %d/%ld, libdw %d/%ld", (unsigned long)a,
				 k ? "fp" : "ra", ours.kind, (long)ours.off, theirs.kind, (long)theirs.off);
			ok = false;
			goto out;
		}
	}
out:
	free(fr);
	return ok;
}

static void check_file(const char *path, bool debug_frame)
{
	char name[512], why[256] = "";
	struct dwunw_modules *mods = NULL;
	struct dwunw_module *mod = NULL;
	Dwarf_CFI *cfi = NULL;
	Dwarf *dw = NULL;
	Elf *elf = NULL;
	int fd = -1;

	snprintf(name, sizeof(name), "cfi_vs_libdw %s %s", debug_frame ? ".debug_frame" : ".eh_frame",
		 path);
	if (access(path, R_OK)) {
		CHECK_SKIP(name, "file not present");
		return;
	}
	if (!ASSERT_EQ(name, dwunw_modules_new(&mods), 0) ||
	    !ASSERT_EQ(name, dwunw_modules_get(mods, path, &mod), 0))
		goto cleanup;
	const struct cfi_table *t = debug_frame ? &mod->dbg : &mod->eh;
	if (!t->nrows) {
		CHECK_SKIP(name, "no such section");
		goto cleanup;
	}
	fd = open(path, O_RDONLY);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (debug_frame) {
		dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		cfi = dw ? dwarf_getcfi(dw) : NULL;
	} else {
		cfi = dwarf_getcfi_elf(elf);
	}
	if (!ASSERT_TRUE(name, cfi != NULL))
		goto cleanup;

	size_t step = t->nrows / (MAX_SAMPLES / 2) + 1, n = 0, bad = 0;
	for (size_t i = 0; i + 1 < t->nrows; i += step) {
		uint64_t a = t->rows[i].pc, b = t->rows[i + 1].pc;
		uint64_t samples[2] = {a, a + (b - a) / 2};

		for (int s = 0; s < 2; s++) {
			char w[256];
			n++;
			if (!compare_at(cfi, t, samples[s], mod->ops->ra_col, mod->ops->fp_reg, w, sizeof(w))) {
				if (!bad++)
					snprintf(why, sizeof(why), "%s", w);
			}
		}
	}
	if (bad)
		CHECK_FAIL(name, "%zu of %zu addresses differ, first: %s", bad, n, why);
	else if (ASSERT_TRUE(name, n >= 10))
		printf("PASS: %s: %zu addresses, %zu rows, %zu FDEs\n", name, n, t->nrows, t->nfdes);
cleanup:
	if (cfi && !debug_frame)
		dwarf_cfi_end(cfi);
	dwarf_end(dw);
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	dwunw_modules_free(mods);
}

int main(void)
{
	glob_t g;

	elf_version(EV_CURRENT);
	check_file("/usr/lib/x86_64-linux-gnu/libc.so.6", false);
	check_file("build/gotrace", false);
	check_file("build/unwind/cstacks/debug_frame/cstacks", true);
	/* arm64: the cross toolchain's libc (.eh_frame), Go cross builds. */
	check_file("/usr/aarch64-linux-gnu/lib/libc.so.6", false);
	const char *arm64[] = {"build/unwind/stacks-arm64/*/stacks", "build/testprogs/go1.2*/arm64/goroutines"};
	for (int p = 0; p < 2; p++) {
		if (glob(arm64[p], 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				check_file(g.gl_pathv[i], true);
			globfree(&g);
		}
	}
	/* Go binaries: .debug_frame, compressed (1.19+) or .zdebug (<= 1.18). */
	if (glob("build/testprogs/go1.*/default/stacks", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			check_file(g.gl_pathv[i], true);
		globfree(&g);
	} else {
		CHECK_MISSING("cfi_vs_libdw go", "no build/testprogs/*/default/stacks: run make testprogs");
	}
	return check_failures ? 1 : 0;
}
