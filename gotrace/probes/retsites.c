// SPDX-License-Identifier: MIT
/* Return instructions of a function by linear decoding (see retsites.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>

#include "probes/retsites.h"

struct retsites {
	enum retsites_arch arch;
	csh cs;
	cs_insn *insn;
	uint64_t min_target;	/* of the last retsites_find() */
};

int retsites_new(enum retsites_arch arch, struct retsites **out)
{
	struct retsites *r;
	cs_arch csa;
	cs_mode mode;

	*out = NULL;
	switch (arch) {
	case RETSITES_X86_64:
		csa = CS_ARCH_X86;
		mode = CS_MODE_64;
		break;
	case RETSITES_ARM64:
		csa = CS_ARCH_ARM64;
		mode = CS_MODE_ARM;
		break;
	default:
		return -EOPNOTSUPP;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->arch = arch;
	if (cs_open(csa, mode, &r->cs) != CS_ERR_OK) {
		free(r);
		return -EOPNOTSUPP;
	}
	/* Instruction ids are all we need: no operand details (faster). */
	cs_option(r->cs, CS_OPT_DETAIL, CS_OPT_OFF);
	r->insn = cs_malloc(r->cs);
	if (!r->insn) {
		cs_close(&r->cs);
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void retsites_free(struct retsites *r)
{
	if (!r)
		return;
	cs_free(r->insn, 1);
	cs_close(&r->cs);
	free(r);
}

static bool is_ret(const struct retsites *r, unsigned int id)
{
	switch (r->arch) {
	case RETSITES_X86_64:
		return id == X86_INS_RET;	/* C3 and C2 iw */
	case RETSITES_ARM64:
		return id == ARM64_INS_RET;
	}
	return false;
}

/* The target of a direct jump, branch or call (x86-64: jmp/jcc/call/loop
 * with a relative displacement; arm64: b, bl, b.cond, cbz/cbnz, tbz/tbnz),
 * or false for any other instruction. */
static bool direct_target(const struct retsites *r, const cs_insn *in, uint64_t *target)
{
	const uint8_t *c = in->bytes;
	size_t i = 0, n = in->size;
	int64_t rel;

	if (r->arch == RETSITES_ARM64) {
		uint32_t w;

		if (n != 4)
			return false;
		w = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
		    (uint32_t)c[3] << 24;
		if ((w & 0x7c000000) == 0x14000000)		/* b, bl: imm26 */
			rel = (int64_t)((int32_t)(w << 6) >> 6) * 4;
		else if ((w & 0xff000010) == 0x54000000 ||	/* b.cond: imm19 */
			 (w & 0x7e000000) == 0x34000000)	/* cbz, cbnz */
			rel = (int64_t)((int32_t)(w << 8) >> 13) * 4;
		else if ((w & 0x7e000000) == 0x36000000)	/* tbz, tbnz: imm14 */
			rel = (int64_t)((int32_t)(w << 13) >> 18) * 4;
		else
			return false;
		*target = in->address + rel;
		return true;
	}
	while (i < n && (c[i] == 0x2e || c[i] == 0x3e || c[i] == 0xf2 || c[i] == 0xf3 ||
			 (c[i] & 0xf0) == 0x40))
		i++;	/* branch hints, bnd, REX */
	if (i + 2 == n && ((c[i] >= 0x70 && c[i] <= 0x7f) || c[i] == 0xeb ||
			   (c[i] >= 0xe0 && c[i] <= 0xe3)))
		rel = (int8_t)c[i + 1];
	else if (i + 5 == n && (c[i] == 0xe9 || c[i] == 0xe8))
		rel = (int32_t)((uint32_t)c[i + 1] | (uint32_t)c[i + 2] << 8 |
				(uint32_t)c[i + 3] << 16 | (uint32_t)c[i + 4] << 24);
	else if (i + 6 == n && c[i] == 0x0f && c[i + 1] >= 0x80 && c[i + 1] <= 0x8f)
		rel = (int32_t)((uint32_t)c[i + 2] | (uint32_t)c[i + 3] << 8 |
				(uint32_t)c[i + 4] << 16 | (uint32_t)c[i + 5] << 24);
	else
		return false;
	*target = in->address + n + rel;
	return true;
}

int retsites_find(struct retsites *r, const uint8_t *code, size_t len, uint64_t addr,
		  uint64_t *out, size_t max, uint64_t *bad_addr)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t pc = addr, target;
	int n = 0;

	r->min_target = UINT64_MAX;
	while (left > 0) {
		if (!cs_disasm_iter(r->cs, &p, &left, &pc, r->insn)) {
			if (bad_addr)
				*bad_addr = pc;
			return -EILSEQ;
		}
		if (is_ret(r, r->insn->id)) {
			if ((size_t)n < max)
				out[n] = r->insn->address;
			n++;
		}
		if (direct_target(r, r->insn, &target) && target > addr && target < r->min_target)
			r->min_target = target;
	}
	/* cs_disasm_iter never reads past `left`, so reaching 0 means the
	 * last instruction ended exactly at the function's end. */
	return n;
}

uint64_t retsites_min_target(const struct retsites *r)
{
	return r->min_target;
}

int retsites_arch_from_goarch(const char *goarch, enum retsites_arch *arch)
{
	if (!goarch)
		return -EOPNOTSUPP;
	if (!strcmp(goarch, "amd64")) {
		*arch = RETSITES_X86_64;
		return 0;
	}
	if (!strcmp(goarch, "arm64")) {
		*arch = RETSITES_ARM64;
		return 0;
	}
	return -EOPNOTSUPP;
}
