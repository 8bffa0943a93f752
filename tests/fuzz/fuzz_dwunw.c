// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for libdwunw: CFI parsing and unwinding over random
 * stack bytes, and the snapshot parser.
 *
 * Input layout:
 *   byte 0      flags: bit 0 arm64, bit 1 .debug_frame (else .eh_frame),
 *               bits 2-4 the method mask
 *   bytes 1-2   n: length of the CFI section that follows (little-endian)
 *   n bytes     the section, compiled into rows (cfi_compile)
 *   24 bytes    pc, sp, fp of the snapshot
 *   the rest    the stack copy at sp
 * The module covers every address with bias 0, so random PCs find the
 * fuzzed rows; expressions in them run against the fuzzed stack.  The
 * whole input is also fed to dwunw_snapshot_parse.
 *
 * An input that starts with an ELF header (scripts/fuzz.sh seeds with Go
 * binaries, cross builds included, which carry .debug_frame) is loaded as
 * a whole module instead (sections, decompression, symbols, gosym), then
 * unwound from PCs at each function's entry with its last 4 KiB as stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dwunw_internal.h"

static void fuzz_elf(const uint8_t *data, size_t size)
{
	struct dwunw_modules *mods = NULL;
	struct dwunw_module *mod = NULL;
	struct dwunw_map *map = NULL;
	uint8_t *img = malloc(size);

	memcpy(img, data, size);
	if (dwunw_modules_new(&mods) || dwunw_modules_add_mem(mods, "fuzz.elf", img, size, &mod) ||
	    dwunw_map_new(&map) || dwunw_map_add(map, 0, 1ULL << 47, 0, mod))
		goto out;
	size_t slen = size < 4096 ? size : 4096;
	const uint8_t *stack = data + size - slen;
	const struct cfi_table *t = mod->dbg.nrows ? &mod->dbg : &mod->eh;
	for (size_t i = 0; i < t->nrows && i < 64; i++) {
		struct dwunw_regs regs = {.version = DWUNW_REGS_VERSION, .arch = mod->ops->arch};
		struct dwunw_frame fr[32];
		enum dwunw_stop stop;

		regs.pc = t->rows[i].pc;
		regs.r[mod->ops->sp_reg] = 0x7f0000000000;
		regs.valid = 1ULL << mod->ops->sp_reg;
		int k = dwunw_unwind(map, &regs, stack, slen, DWUNW_M_ALL, fr, 32, &stop);
		for (int j = 0; j < k; j++) {
			struct dwunw_sym s[4];
			dwunw_symbolize(&fr[j], s, 4);
		}
	}
	char id[128];
	dwunw_module_build_id(mod, id, sizeof(id));
out:
	dwunw_map_free(map);
	dwunw_modules_free(mods);
	free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dwunw_snapshot *snap = NULL;

	if (size >= 64 && !memcmp(data, "\x7f" "ELF", 4)) {
		fuzz_elf(data, size);
		return 0;
	}

	if (dwunw_snapshot_parse((const char *)data, size, &snap) == 0)
		dwunw_snapshot_free(snap);
	if (size < 3)
		return 0;

	uint8_t flags = data[0];
	size_t n = (size_t)data[1] | (size_t)data[2] << 8;
	if (n > size - 3)
		n = size - 3;
	const uint8_t *cfi = data + 3, *rest = cfi + n;
	size_t rest_len = size - 3 - n;
	bool arm64 = flags & 1;

	/* A copy of exactly n bytes, so ASan sees any overread. */
	uint8_t *sec_bytes = malloc(n ? n : 1);
	memcpy(sec_bytes, cfi, n);

	struct dwunw_module mod;
	memset(&mod, 0, sizeof(mod));
	mod.path = "fuzz";
	mod.ops = arch_ops_by_arch(arm64 ? DWUNW_ARCH_ARM64 : DWUNW_ARCH_X86_64);
	struct cfi_section sec = {
		.data = sec_bytes, .len = n, .vaddr = 0x1000, .eh = !(flags & 2), .addr_size = 8,
		.ra_col = mod.ops->ra_col, .fp_col = mod.ops->fp_reg,
	};
	struct cfi_table *t = (flags & 2) ? &mod.dbg : &mod.eh;
	if (cfi_compile(&sec, t)) {
		free(sec_bytes);
		return 0;
	}
	/* Rows must be sorted and end with a gap. */
	for (size_t i = 1; i < t->nrows; i++)
		if (t->rows[i - 1].pc >= t->rows[i].pc)
			abort();
	if (t->nrows && (t->rows[t->nrows - 1].cfa_rule & 0x7f) != CFA_NONE)
		abort();

	if (rest_len >= 24) {
		struct dwunw_map *map = NULL;
		uint64_t v[3];
		memcpy(v, rest, 24);
		size_t slen = rest_len - 24;
		uint8_t *stack = malloc(slen ? slen : 1);
		memcpy(stack, rest + 24, slen);

		if (dwunw_map_new(&map) == 0 && dwunw_map_add(map, 0, 1ULL << 47, 0, &mod) == 0) {
			struct dwunw_regs regs = {.version = DWUNW_REGS_VERSION};
			struct dwunw_frame fr[64];
			enum dwunw_stop stop;

			regs.arch = mod.ops->arch;
			regs.pc = v[0];
			regs.r[mod.ops->sp_reg] = v[1];
			regs.r[mod.ops->fp_reg] = v[2];
			regs.valid = 1ULL << mod.ops->sp_reg | 1ULL << mod.ops->fp_reg;
			if (arm64) {
				regs.r[DWUNW_ARM64_LR] = v[2] ^ v[0];
				regs.valid |= 1ULL << DWUNW_ARM64_LR;
			}
			unsigned int methods = (flags >> 2) & 7;
			int k = dwunw_unwind(map, &regs, stack, slen, methods ? methods : DWUNW_M_ALL, fr, 64, &stop);
			if (k < 0 || k > 64 || (unsigned int)stop >= DWUNW_STOP__COUNT)
				abort();
			for (int i = 0; i < k; i++) {
				struct dwunw_sym s[4];
				dwunw_symbolize(&fr[i], s, 4);
			}
		}
		dwunw_map_free(map);
		free(stack);
	}
	cfi_table_release(&mod.eh);
	cfi_table_release(&mod.dbg);
	free(sec_bytes);
	return 0;
}
