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

int retsites_find(struct retsites *r, const uint8_t *code, size_t len, uint64_t addr,
		  uint64_t *out, size_t max, uint64_t *bad_addr)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t pc = addr;
	int n = 0;

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
	}
	/* cs_disasm_iter never reads past `left`, so reaching 0 means the
	 * last instruction ended exactly at the function's end. */
	return n;
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
