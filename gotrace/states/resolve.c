// SPDX-License-Identifier: MIT
/*
 * states/resolve: start function and creation site of new goroutines.
 * See resolve.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "states/resolve.h"

int st_resolver_init(struct st_resolver *r, const struct gosym *gs, uint64_t casgstatus_vaddr)
{
	const struct gosym_info *gi = gosym_info(gs);
	csh h = 0;

	memset(r, 0, sizeof(*r));
	r->gs = gs;
	r->casgstatus_vaddr = casgstatus_vaddr;
	if (!strcmp(gi->arch, "amd64")) {
		r->have_cs = cs_open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK;
	} else if (!strcmp(gi->arch, "arm64")) {
		r->have_cs = cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &h) == CS_ERR_OK;
	}
	if (r->have_cs) {
		r->cs = h;
		cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	}
	return 0;
}

void st_resolver_release(struct st_resolver *r)
{
	if (r->have_cs) {
		csh h = r->cs;

		cs_close(&h);
	}
	for (size_t i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	r->strs = NULL;
	r->nstrs = r->capstrs = 0;
	r->have_cs = false;
}

/* Direct call target of insn, or 0. */
static uint64_t call_target(const cs_insn *insn, const struct gosym_info *gi)
{
	if (!strcmp(gi->arch, "amd64")) {
		const cs_x86 *x = &insn->detail->x86;

		if (insn->id == X86_INS_CALL && x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			return (uint64_t)x->operands[0].imm;
	} else {
		const cs_arm64 *a = &insn->detail->arm64;

		if (insn->id == ARM64_INS_BL && a->op_count == 1 && a->operands[0].type == ARM64_OP_IMM)
			return (uint64_t)a->operands[0].imm;
	}
	return 0;
}

/* Calls a wrapper makes besides the wrapped function. */
static bool runtime_helper(const char *name)
{
	static const char *const prefixes[] = {
		"runtime.morestack", "runtime.gcWriteBarrier", "runtime.wbMove", "runtime.panic",
		"runtime.racefunc", "runtime.deferreturn", "runtime.gopanic",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

const char *st_resolver_unwrap(struct st_resolver *r, uint64_t entry, uint64_t end)
{
	const struct gosym_info *gi = gosym_info(r->gs);
	struct gosym_func self;
	bool in_runtime = !gosym_lookup_pc(r->gs, entry, &self) &&
			  !strncmp(self.name, "runtime.", 8);
	const uint8_t *code;
	const char *found = NULL;
	cs_insn *insn;
	size_t size = end - entry;
	uint64_t addr = entry;
	csh h;

	if (!r->have_cs || end <= entry || size > 4096)
		return NULL;
	code = gosym_bytes(r->gs, entry, size);
	if (!code)
		return NULL;
	h = r->cs;
	insn = cs_malloc(h);
	if (!insn)
		return NULL;
	while (size && cs_disasm_iter(h, &code, &size, &addr, insn)) {
		struct gosym_func fn;
		uint64_t t = call_target(insn, gi);

		if (!t || gosym_lookup_pc(r->gs, t, &fn))
			continue;
		/* morestack, panics, write barriers: not the wrapped function;
		 * outside the runtime, no runtime function is */
		if (runtime_helper(fn.name) || (!in_runtime && !strncmp(fn.name, "runtime.", 8)))
			continue;
		found = fn.name;
		break;
	}
	cs_free(insn, 1);
	return found;
}

static const char *start_name(struct st_resolver *r, uint64_t pc)
{
	size_t slot = (pc >> 4) % ST_RESOLVE_CACHE;
	struct gosym_func fn;
	const char *name, *inner;

	if (r->cache[slot].startpc == pc)
		return r->cache[slot].name;
	if (gosym_lookup_pc(r->gs, pc, &fn))
		return NULL;
	name = fn.name;
	if (strstr(name, ".gowrap") && (inner = st_resolver_unwrap(r, fn.entry, fn.end)))
		name = inner;
	r->cache[slot].startpc = pc;
	r->cache[slot].name = name;
	return name;
}

void st_resolver_resolve(void *ctx, uint64_t probe_ip, uint64_t startpc, uint64_t gopc,
			 const char **start_func, const char **created_at)
{
	struct st_resolver *r = ctx;
	/* PIE: the probe's run-time address minus its link-time address. */
	uint64_t bias = probe_ip ? probe_ip - r->casgstatus_vaddr : 0;
	const char *file;
	int line;

	if (startpc)
		*start_func = start_name(r, startpc - bias);
	/* gopc is the return address of the call to newproc: the go
	 * statement's line is the one of gopc-1, as tracebacks print it. */
	if (gopc && !gosym_pc_line(r->gs, gopc - bias - 1, &file, &line)) {
		char *s;

		if (r->nstrs == r->capstrs) {
			size_t nc = r->capstrs ? r->capstrs * 2 : 64;
			char **ns = realloc(r->strs, nc * sizeof(*ns));

			if (!ns)
				return;
			r->strs = ns;
			r->capstrs = nc;
		}
		if (asprintf(&s, "%s:%d", file, line) < 0)
			return;
		r->strs[r->nstrs++] = s;
		*created_at = s;
	}
}
