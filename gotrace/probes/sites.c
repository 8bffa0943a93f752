// SPDX-License-Identifier: MIT
/* Entry probe sites and site classes (see sites.h, docs/probes.md). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>

#include "probes/sites.h"

/* A prologue is a handful of instructions; never look further. */
#define MAX_SKIP 8

struct sites {
	enum retsites_arch arch;
	unsigned int kver;
	csh cs;
	cs_insn *insn;
	struct retsites *rs;	/* for sites_func_entry */
};

int sites_new(enum retsites_arch arch, unsigned int kver, struct sites **out)
{
	struct sites *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->arch = arch;
	s->kver = kver ? kver : probe_kernel_version();
	err = cs_open(arch == RETSITES_X86_64 ? CS_ARCH_X86 : CS_ARCH_ARM64,
		      arch == RETSITES_X86_64 ? CS_MODE_64 : CS_MODE_ARM, &s->cs) == CS_ERR_OK
		      ? 0 : -EOPNOTSUPP;
	if (!err) {
		/* lengths are all we need from the decoder */
		cs_option(s->cs, CS_OPT_DETAIL, CS_OPT_OFF);
		s->insn = cs_malloc(s->cs);
		err = s->insn ? retsites_new(arch, &s->rs) : -ENOMEM;
	}
	if (err) {
		sites_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void sites_free(struct sites *s)
{
	if (!s)
		return;
	if (s->insn)
		cs_free(s->insn, 1);
	if (s->cs)
		cs_close(&s->cs);
	retsites_free(s->rs);
	free(s);
}

/*
 * x86-64 prologue instructions an entry probe may move past (sites.h), by
 * their exact encodings as the Go assembler emits them (cmd/internal/obj/x86
 * stacksplit and the ABI wrappers):
 *
 *   cmp 0x10(%r14),%rsp     49 3b 66 10   compare SP with g.stackguard0
 *   cmp 0x10(%r14),%r12     4d 3b 66 10   (big frames compare SP-framesize)
 *   cmp 0x10(%rcx),%rsp     48 3b 61 10   (ABI0 code: g loaded in CX)
 *   cmp 0x10(%rcx),%r12     4c 3b 61 10
 *                           (disp 0x18: g.stackguard1, go:systemstack code)
 *   lea -N(%rsp),%r12       4c 8d 64 24 d8 / 4c 8d a4 24 d32
 *   mov %rsp,%r12           49 89 e4      (huge frames)
 *   sub $N,%r12             49 83 ec ib / 49 81 ec id
 *   xorps %xmm15,%xmm15     45 0f 57 ff   (ABI0->ABIInternal wrappers)
 *   mov %fs:d32,%r14        64 4c 8b 34 25 d32   g from TLS (wrappers)
 *   mov %fs:d32,%rcx        64 48 8b 0c 25 d32   g from TLS (ABI0 code)
 *
 * The compares read g.stackguard0 through a valid g, the TLS loads the
 * thread's own TLS block: neither can fault.  Returns false for anything
 * else; *args: whether it writes an argument register or g.
 */
static bool x86_skippable(const uint8_t *c, size_t n, bool *args)
{
	*args = false;
	switch (n) {
	case 4:
		if ((c[0] == 0x49 || c[0] == 0x4d) && c[1] == 0x3b && c[2] == 0x66 &&
		    (c[3] == 0x10 || c[3] == 0x18))
			return true;
		if ((c[0] == 0x48 || c[0] == 0x4c) && c[1] == 0x3b && c[2] == 0x61 &&
		    (c[3] == 0x10 || c[3] == 0x18))
			return true;
		if (c[0] == 0x49 && c[1] == 0x83 && c[2] == 0xec)
			return true;
		return c[0] == 0x45 && c[1] == 0x0f && c[2] == 0x57 && c[3] == 0xff;
	case 3:
		return c[0] == 0x49 && c[1] == 0x89 && c[2] == 0xe4;
	case 5:
		return c[0] == 0x4c && c[1] == 0x8d && c[2] == 0x64 && c[3] == 0x24;
	case 7:
		return c[0] == 0x49 && c[1] == 0x81 && c[2] == 0xec;
	case 8:
		return c[0] == 0x4c && c[1] == 0x8d && c[2] == 0xa4 && c[3] == 0x24;
	case 9:
		*args = true;
		return c[0] == 0x64 && (c[1] == 0x4c || c[1] == 0x48) && c[2] == 0x8b &&
		       c[3] == (c[1] == 0x4c ? 0x34 : 0x0c) && c[4] == 0x25;
	}
	return false;
}

/*
 * arm64 prologue instructions (cmd/internal/obj/arm64 stacksplit):
 *
 *   ldr x16, [x28,#16]      f9400b90   g.stackguard0 (g is X28)
 *   ldr x16, [x28,#24]      f9400f90   g.stackguard1 (go:systemstack code)
 *   mov x17, sp             910003f1
 *   sub x17, sp, #N         d1xxxxf1   (mask ff8003ff)
 *   cmp x17, x16            eb10023f
 *   mov x27, #N             d28xxx1b / 928xxx1b (movz / movn)
 *   movk x27, #N            f28xxx1b
 *   subs x17, sp, x27       eb3b63f1   (huge frames)
 *
 * Only X16, X17, X27 (scratch) and the flags change.
 */
static bool a64_skippable(uint32_t w)
{
	return w == 0xf9400b90 || w == 0xf9400f90 || w == 0x910003f1 || (w & 0xff8003ff) == 0xd10003f1 ||
	       w == 0xeb10023f || (w & 0xff80001f) == 0xd280001b || /* movz x27 */
	       (w & 0xff80001f) == 0x9280001b ||	/* movn x27 */
	       (w & 0xff80001f) == 0xf280001b || w == 0xeb3b63f1;
}

static bool skippable(const struct sites *s, const cs_insn *in, unsigned int flags)
{
	bool args = false;

	if (s->arch == RETSITES_ARM64) {
		if (in->size != 4)
			return false;
		return a64_skippable((uint32_t)in->bytes[0] | (uint32_t)in->bytes[1] << 8 |
				     (uint32_t)in->bytes[2] << 16 | (uint32_t)in->bytes[3] << 24);
	}
	if (!x86_skippable(in->bytes, in->size, &args))
		return false;
	return !(args && (flags & SITES_KEEP_ARGS));
}

enum probe_class sites_class(struct sites *s, const uint8_t *code, size_t avail)
{
	const uint8_t *p = code;
	uint64_t pc = 0;

	if (!cs_disasm_iter(s->cs, &p, &avail, &pc, s->insn))
		return PROBE_REFUSED;
	return probe_class_of(s->arch, s->insn->bytes, s->insn->size, s->kver);
}

int sites_entry(struct sites *s, const uint8_t *code, size_t len, uint64_t entry,
		uint64_t min_target, unsigned int flags, struct entry_site *out)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t pc = entry;
	enum probe_class cls;

	for (unsigned int k = 0; k <= MAX_SKIP; k++) {
		uint64_t at = pc;

		if (!cs_disasm_iter(s->cs, &p, &left, &pc, s->insn))
			break;
		cls = probe_class_of(s->arch, s->insn->bytes, s->insn->size, s->kver);
		if (k == 0)
			*out = (struct entry_site){ entry, cls, 0 };
		if (cls == PROBE_EMULATED) {
			/* a branch into the skipped part or onto the site would
			 * run it twice per call */
			if (k > 0 && at < min_target)
				*out = (struct entry_site){ at, cls, k };
			return 0;
		}
		if (!skippable(s, s->insn, flags))
			return 0;
	}
	return pc == entry ? -EILSEQ : 0;
}

int sites_func_entry(struct sites *s, struct gosym *gs, const struct gosym_func *fn,
		     unsigned int flags, struct entry_site *out, uint64_t *off)
{
	const uint8_t *code;
	size_t len;
	int n;

	if (fn->end <= fn->entry)
		return -ENOENT;
	len = fn->end - fn->entry;
	code = gosym_bytes(gs, fn->entry, len);
	if (!code)
		return -ENOENT;
	n = retsites_find(s->rs, code, len, fn->entry, NULL, 0, NULL);
	if (n < 0)
		return n;
	n = sites_entry(s, code, len, fn->entry, retsites_min_target(s->rs), flags, out);
	if (n)
		return n;
	return gosym_vaddr_to_offset(gs, out->addr, off) ? -ENOENT : 0;
}

int sites_entry_of(struct gosym *gs, const char *name, unsigned int flags,
		   struct entry_site *out, uint64_t *off)
{
	enum retsites_arch arch;
	struct gosym_func fn;
	struct sites *s = NULL;
	int err;

	if (gosym_lookup_name(gs, name, &fn) || strcmp(fn.name, name))
		return -ENOENT;
	err = retsites_arch_from_goarch(gosym_info(gs)->arch, &arch);
	if (!err)
		err = sites_new(arch, 0, &s);
	if (!err)
		err = sites_func_entry(s, gs, &fn, flags, out, off);
	sites_free(s);
	return err;
}
