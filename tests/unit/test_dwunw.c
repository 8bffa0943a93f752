// SPDX-License-Identifier: MIT
/*
 * libdwunw unit tests without a target process:
 *   maps_bias        /proc/self/maps -> module + bias; run-time addresses
 *                    the dynamic linker gave us map back to our symbols
 *   self_unwind      capture this process's own registers and stack inside
 *                    a known noinline chain and unwind it (perf's
 *                    dwarf-unwind test idea); truth: the chain and
 *                    __builtin_return_address
 *   expr_plt         the x86_64 PLT CFA expression
 *   cfi_handmade     a hand-assembled .eh_frame: remember/restore, 'S'
 *                    augmentation, expressions, gaps between FDEs
 *   errors           every stop reason we can provoke synthetically
 *   snapshot_io      write + parse round trip
 *   arm64_go         synthetic arm64 snapshots built from a cross-built Go
 *                    binary: call sites found by decoding BL instructions,
 *                    frames laid out by the arm64 Go ABI (LR in the leaf,
 *                    saved LR at 0(SP)); unwound by CFI and by pcsp
 */

#include <dlfcn.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gosym.h"
#include "dwunw_internal.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (cap - *len < 4096)
			buf = realloc(buf, (cap = cap ? cap * 2 : 65536) + 1);
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	fclose(f);
	buf[*len] = 0;
	return buf;
}

/* ---- maps_bias ---- */

static void test_maps_bias(struct dwunw_modules *mods)
{
	const char *name = "maps_bias";
	struct dwunw_map *map = NULL;
	const struct dwunw_module *mod;
	const char *sym;
	uint64_t bias, off;
	size_t len;
	char *maps = slurp("/proc/self/maps", &len);

	if (!ASSERT_TRUE(name, maps) || !ASSERT_EQ(name, dwunw_map_parse(mods, maps, len, NULL, &map), 0))
		goto cleanup;
	/* Our own function (PIE or not) and one in libc. */
	uint64_t addrs[2] = {(uint64_t)(uintptr_t)&test_maps_bias, 0};
	const char *want[2] = {"test_maps_bias", "qsort"};
	/* libc's own qsort, not a sanitizer's interceptor of it. */
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	addrs[1] = libc ? (uint64_t)(uintptr_t)dlsym(libc, "qsort") : 0;
	if (libc)
		dlclose(libc);
	for (int i = 0; i < 2; i++) {
		if (!ASSERT_EQ(name, dwunw_map_lookup(map, addrs[i], &mod, &bias), 0) || !ASSERT_TRUE(name, mod))
			goto cleanup;
		if (!ASSERT_EQ(name, dwunw_module_symbol(mod, addrs[i] - bias, &sym, &off), 0) ||
		    !ASSERT_STREQ(name, sym, want[i]) || !ASSERT_EQ(name, off, 0))
			goto cleanup;
	}
	if (!ASSERT_EQ(name, dwunw_map_lookup(map, 0x10, &mod, &bias), -ENOENT))
		goto cleanup;
	/* The same through /proc/PID/root. */
	struct dwunw_map *bypid = NULL;
	if (!ASSERT_EQ(name, dwunw_map_from_pid(mods, getpid(), &bypid), 0) ||
	    !ASSERT_EQ(name, dwunw_map_lookup(bypid, addrs[0], &mod, &bias), 0) || !ASSERT_TRUE(name, mod) ||
	    !ASSERT_EQ(name, dwunw_module_symbol(mod, addrs[0] - bias, &sym, &off), 0) ||
	    !ASSERT_STREQ(name, sym, want[0])) {
		dwunw_map_free(bypid);
		goto cleanup;
	}
	dwunw_map_free(bypid);
	if (!ASSERT_EQ(name, dwunw_map_from_pid(mods, 0x7ffffff0, &bypid), -ESRCH))
		goto cleanup;
	/* Malformed maps text is one clear error. */
	struct dwunw_map *bad = NULL;
	if (!ASSERT_EQ(name, dwunw_map_parse(mods, "garbage\n", 8, NULL, &bad), -EPROTO))
		goto cleanup;
	CHECK_PASS(name);
cleanup:
	dwunw_map_free(map);
	free(maps);
}

/* ---- self_unwind ---- */

#if defined(__x86_64__)
struct capture {
	struct dwunw_regs regs;
	uint8_t *stack;
	size_t len;
	uint64_t ret[3]; /* __builtin_return_address at each level */
};

static uint64_t stack_end(void)
{
	size_t len;
	char *maps = slurp("/proc/self/maps", &len);
	char *p = maps ? strstr(maps, "[stack]") : NULL;
	uint64_t s = 0, e = 0;

	while (p && p > maps && p[-1] != '\n')
		p--;
	if (p)
		sscanf(p, "%lx-%lx", (unsigned long *)&s, (unsigned long *)&e);
	free(maps);
	return e;
}

/* Copy our own live stack: under ASan the copy reads redzones, which is
 * fine here and must not be instrumented. */
__attribute__((no_sanitize("address"), noinline)) static void copy_raw(uint8_t *dst, uint64_t src, size_t n)
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)src;

	for (size_t i = 0; i < n; i++)
		dst[i] = p[i];
}

__attribute__((noinline)) static void self_capture(struct capture *c)
{
	uint64_t rsp, rbp, rip, rbx, r12, r13, r14, r15;

	__asm__ volatile("mov %%rsp, %0\n\tmov %%rbp, %1\n\tlea 0(%%rip), %2\n\t"
			 "mov %%rbx, %3\n\tmov %%r12, %4\n\tmov %%r13, %5\n\tmov %%r14, %6\n\tmov %%r15, %7"
			 : "=m"(rsp), "=m"(rbp), "=r"(rip), "=m"(rbx), "=m"(r12), "=m"(r13), "=m"(r14),
			   "=m"(r15));
	c->regs.version = DWUNW_REGS_VERSION;
	c->regs.arch = DWUNW_ARCH_X86_64;
	c->regs.pc = rip;
	c->regs.r[7] = rsp;
	c->regs.r[6] = rbp;
	c->regs.r[3] = rbx;
	c->regs.r[12] = r12;
	c->regs.r[13] = r13;
	c->regs.r[14] = r14;
	c->regs.r[15] = r15;
	c->regs.valid = 1 << 7 | 1 << 6 | 1 << 3 | 0xf << 12;
	c->len = stack_end() - rsp;
	if (c->len > 256 * 1024)
		c->len = 256 * 1024;
	c->stack = malloc(c->len);
	copy_raw(c->stack, rsp, c->len);
}

__attribute__((noinline)) static void self_chain3(struct capture *c)
{
	c->ret[2] = (uint64_t)(uintptr_t)__builtin_return_address(0);
	self_capture(c);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void self_chain2(struct capture *c)
{
	c->ret[1] = (uint64_t)(uintptr_t)__builtin_return_address(0);
	self_chain3(c);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void self_chain1(struct capture *c)
{
	c->ret[0] = (uint64_t)(uintptr_t)__builtin_return_address(0);
	self_chain2(c);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void test_self_unwind(struct dwunw_modules *mods)
{
	const char *name = "self_unwind";
	struct capture c = {0};
	struct dwunw_map *map = NULL;
	struct dwunw_frame fr[64];
	enum dwunw_stop stop;
	size_t len;
	char *maps = NULL;
	static const char *const want[] = {"self_capture", "self_chain3", "self_chain2", "self_chain1",
					   "test_self_unwind", "main"};

	self_chain1(&c);
	maps = slurp("/proc/self/maps", &len);
	if (!ASSERT_EQ(name, dwunw_map_parse(mods, maps, len, NULL, &map), 0))
		goto cleanup;
	int n = dwunw_unwind(map, &c.regs, c.stack, c.len, DWUNW_M_CFI, fr, 64, &stop);
	if (!ASSERT_TRUE(name, n >= 6))
		goto cleanup;
	for (int i = 0; i < 6; i++) {
		struct dwunw_sym s;
		if (!ASSERT_EQ(name, dwunw_symbolize(&fr[i], &s, 1), 1) || !ASSERT_STREQ(name, s.func, want[i]))
			goto cleanup;
		if (i >= 1 && i <= 3 && !ASSERT_EQ(name, fr[i + 1].pc, c.ret[3 - i]))
			goto cleanup;
	}
	/* Past main: libc's start code, then _start whose CFI ends the walk. */
	if (!ASSERT_EQ(name, stop, DWUNW_STOP_END))
		goto cleanup;
	CHECK_PASS(name);
cleanup:
	dwunw_map_free(map);
	free(maps);
	free(c.stack);
}
#endif

/* ---- expr_plt ---- */

static void test_expr_plt(void)
{
	const char *name = "expr_plt";
	/* DW_OP_breg7 8; DW_OP_breg16 0; lit15; and; lit11; ge; lit3; shl; plus */
	static const uint8_t blob[] = {11, 0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22};
	struct unw_regs r = {0};
	struct unw_stack st = {0};
	uint64_t v;

	r.r[7] = 0x7ffc0000;
	r.valid = 1 << 7 | 1 << 16;
	r.r[16] = 0x401006; /* rip & 15 = 6 < 11: rsp + 8 */
	if (!ASSERT_EQ(name, expr_eval(blob, sizeof(blob), 0, &r, &st, false, 0, &v), 0) ||
	    !ASSERT_EQ(name, v, 0x7ffc0008))
		return;
	r.r[16] = 0x40100c; /* 12 >= 11: rsp + 16 */
	if (!ASSERT_EQ(name, expr_eval(blob, sizeof(blob), 0, &r, &st, false, 0, &v), 0) ||
	    !ASSERT_EQ(name, v, 0x7ffc0010))
		return;
	r.valid = 1 << 16; /* no rsp */
	if (!ASSERT_EQ(name, expr_eval(blob, sizeof(blob), 0, &r, &st, false, 0, &v), -DWUNW_STOP_NO_REG))
		return;
	CHECK_PASS(name);
}

/* ---- cfi_handmade ---- */

static void test_cfi_handmade(void)
{
	const char *name = "cfi_handmade";
	/* CIE: version 1, "zRS", code 1, data -8, RA 16, aug len 1, enc
	 * pcrel|sdata4; initial: def_cfa rsp+8, offset r16 at cfa-8. */
	static const uint8_t cie[] = {0x18, 0, 0, 0, 0, 0, 0, 0, 1, 'z', 'R', 'S', 0, 1, 0x78, 16, 1, 0x1b,
				      0x0c, 7, 8, 0x90, 1, 0, 0, 0, 0, 0};
	uint8_t sec[256];
	size_t n = 0;
	struct cfi_table t = {0};
	struct cfi_section s = {0};

	memcpy(sec, cie, sizeof(cie));
	n = sizeof(cie);
	/* FDE 1 at 0x1000, 0x40 long: advance 4, def_cfa_offset 16, offset
	 * r6 at cfa-16, remember, advance 8, def_cfa_expression {breg7 0;
	 * deref}, advance 4, restore_state. */
	uint8_t fde[] = {0, 0, 0, 0, /* len */ 0, 0, 0, 0, /* cie ptr */ 0, 0, 0, 0, /* pc */ 0x40, 0, 0, 0,
			 0, /* aug len */ 0x44, 0x0e, 16, 0x86, 2, 0x0a, 0x48, 0x0f, 3, 0x77, 0, 0x06, 0x44,
			 0x0b, 0, 0};
	size_t at = n;
	uint32_t len = sizeof(fde) - 4, ptr = (uint32_t)(at + 4);
	int32_t pc = (int32_t)(0x1000 - (0x100000 + at + 8)); /* pcrel from the field */
	memcpy(fde, &len, 4);
	memcpy(fde + 4, &ptr, 4);
	memcpy(fde + 8, &pc, 4);
	memcpy(sec + n, fde, sizeof(fde));
	n += sizeof(fde);
	/* FDE 2 at 0x2000, 0x10 long, no instructions; then the terminator. */
	uint8_t fde2[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0};
	at = n;
	len = sizeof(fde2) - 4;
	ptr = (uint32_t)(at + 4);
	pc = (int32_t)(0x2000 - (0x100000 + at + 8));
	memcpy(fde2, &len, 4);
	memcpy(fde2 + 4, &ptr, 4);
	memcpy(fde2 + 8, &pc, 4);
	memcpy(sec + n, fde2, sizeof(fde2));
	n += sizeof(fde2);
	memset(sec + n, 0, 4);
	n += 4;

	s.data = sec;
	s.len = n;
	s.vaddr = 0x100000;
	s.eh = true;
	s.addr_size = 8;
	s.ra_col = 16;
	s.fp_col = 6;
	if (!ASSERT_EQ(name, cfi_compile(&s, &t), 0) || !ASSERT_EQ(name, t.nfdes, 2) ||
	    !ASSERT_EQ(name, t.nbad, 0))
		goto cleanup;
	const struct cfi_row *r;
	struct { uint64_t pc; int rule; int off; int fp_rule; } want[] = {
		{0x1000, CFA_REG, 8, RULE_SAME},   {0x1003, CFA_REG, 8, RULE_SAME},
		{0x1004, CFA_REG, 16, RULE_OFFSET}, {0x100c, CFA_EXPR, 0, RULE_OFFSET},
		{0x1010, CFA_REG, 16, RULE_OFFSET}, {0x103f, CFA_REG, 16, RULE_OFFSET},
		{0x2000, CFA_REG, 8, RULE_SAME},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		r = cfi_find(&t, want[i].pc);
		if (!ASSERT_TRUE(name, r) || !ASSERT_EQ(name, r->cfa_rule & 0x7f, want[i].rule) ||
		    !ASSERT_TRUE(name, r->cfa_rule & CFA_SIGNAL) || !ASSERT_EQ(name, r->fp_rule, want[i].fp_rule) ||
		    !ASSERT_EQ(name, r->ra_rule, RULE_OFFSET) || !ASSERT_EQ(name, r->ra_off, -8))
			goto cleanup;
		if (want[i].rule == CFA_REG && !ASSERT_EQ(name, r->cfa_off, want[i].off))
			goto cleanup;
	}
	/* Gaps: before, between and after the FDEs. */
	if (!ASSERT_TRUE(name, !cfi_find(&t, 0xfff)) || !ASSERT_TRUE(name, !cfi_find(&t, 0x1040)) ||
	    !ASSERT_TRUE(name, !cfi_find(&t, 0x2010)))
		goto cleanup;
	/* Truncating the section anywhere never crashes and never adds rows
	 * past what the intact prefix describes. */
	for (size_t cut = 0; cut < n; cut++) {
		struct cfi_table t2 = {0};
		s.len = cut;
		if (!ASSERT_EQ(name, cfi_compile(&s, &t2), 0))
			goto cleanup;
		cfi_table_release(&t2);
	}
	CHECK_PASS(name);
cleanup:
	cfi_table_release(&t);
}

/* ---- errors ---- */

static void test_errors(struct dwunw_modules *mods)
{
	const char *name = "errors";
	struct dwunw_map *map = NULL;
	struct dwunw_regs regs = {0};
	struct dwunw_frame fr[8];
	enum dwunw_stop stop;
	uint64_t stack[8] = {0};
	size_t len;
	char *maps = slurp("/proc/self/maps", &len);
	int n;

	if (!ASSERT_EQ(name, dwunw_map_parse(mods, maps, len, NULL, &map), 0))
		goto cleanup;
	regs.version = DWUNW_REGS_VERSION + 1;
	regs.arch = DWUNW_ARCH_X86_64;
	regs.valid = 1 << 7;
	regs.r[7] = 0x1000;
	if (!ASSERT_EQ(name, dwunw_unwind(map, &regs, stack, sizeof(stack), DWUNW_M_ALL, fr, 8, &stop), -EINVAL))
		goto cleanup;
	regs.version = DWUNW_REGS_VERSION;
	regs.arch = 99;
	if (!ASSERT_EQ(name, dwunw_unwind(map, &regs, stack, sizeof(stack), DWUNW_M_ALL, fr, 8, &stop), -EOPNOTSUPP))
		goto cleanup;
	regs.arch = DWUNW_ARCH_X86_64;
	/* No module at pc: one frame, no-module. */
	regs.pc = 0x10;
	n = dwunw_unwind(map, &regs, stack, sizeof(stack), DWUNW_M_ALL, fr, 8, &stop);
	if (!ASSERT_EQ(name, n, 1) || !ASSERT_EQ(name, stop, DWUNW_STOP_NO_MODULE))
		goto cleanup;
	/* Inside a function at its entry (CFA = rsp + 8) with an empty copy. */
	regs.pc = (uint64_t)(uintptr_t)&test_errors;
	n = dwunw_unwind(map, &regs, stack, 0, DWUNW_M_CFI, fr, 8, &stop);
	if (!ASSERT_EQ(name, n, 1) || !ASSERT_EQ(name, stop, DWUNW_STOP_STACK_READ))
		goto cleanup;
	/* A valid step that doesn't fit: the depth limit. */
	stack[0] = regs.pc;
	n = dwunw_unwind(map, &regs, stack, sizeof(stack), DWUNW_M_CFI, fr, 1, &stop);
	if (!ASSERT_EQ(name, n, 1) || !ASSERT_EQ(name, stop, DWUNW_STOP_MAX_FRAMES))
		goto cleanup;
	/* Frame pointers only: rbp below the stack copy. */
	regs.r[6] = 0x800;
	regs.valid |= 1 << 6;
	n = dwunw_unwind(map, &regs, stack, sizeof(stack), DWUNW_M_FP, fr, 8, &stop);
	if (!ASSERT_EQ(name, n, 1) || !ASSERT_EQ(name, stop, DWUNW_STOP_BAD_FP))
		goto cleanup;
	/* No method allowed. */
	n = dwunw_unwind(map, &regs, stack, sizeof(stack), 0, fr, 8, &stop);
	if (!ASSERT_EQ(name, n, 1) || !ASSERT_EQ(name, stop, DWUNW_STOP_NO_INFO))
		goto cleanup;
	/* Return address 0: the end. */
	stack[0] = 0;
	n = dwunw_unwind(map, &regs, stack, sizeof(stack), DWUNW_M_CFI, fr, 8, &stop);
	if (!ASSERT_EQ(name, n, 1) || !ASSERT_EQ(name, stop, DWUNW_STOP_END))
		goto cleanup;
	for (int s = 0; s < DWUNW_STOP__COUNT; s++)
		if (!ASSERT_TRUE(name, strcmp(dwunw_stop_name((enum dwunw_stop)s), "unknown")))
			goto cleanup;
	CHECK_PASS(name);
cleanup:
	dwunw_map_free(map);
	free(maps);
}

/* ---- snapshot_io ---- */

static void test_snapshot_io(void)
{
	const char *name = "snapshot_io";
	struct dwunw_snapshot s = {0}, *back = NULL;
	uint8_t stack[100];
	char *expect[2] = {"main.a", "main.b"}, *notes[1] = {"made by test_dwunw"};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (int i = 0; i < 100; i++)
		stack[i] = (uint8_t)(i * 7);
	s.regs.version = DWUNW_REGS_VERSION;
	s.regs.arch = DWUNW_ARCH_ARM64;
	s.regs.pc = 0x401000;
	s.regs.r[31] = 0x7ffc1000;
	s.regs.r[30] = 0x401234;
	s.regs.valid = 1u << 31 | 1u << 30;
	s.stack = stack;
	s.stack_len = sizeof(stack);
	s.maps = "00400000-00500000 r-xp 00000000 00:00 0 /bin/true\n";
	s.expect = expect;
	s.nexpect = 2;
	s.notes = notes;
	s.nnotes = 1;
	if (!ASSERT_EQ(name, dwunw_snapshot_write(f, &s), 0))
		goto cleanup;
	fclose(f);
	f = NULL;
	if (!ASSERT_EQ(name, dwunw_snapshot_parse(buf, len, &back), 0) ||
	    !ASSERT_TRUE(name, !memcmp(&back->regs, &s.regs, sizeof(s.regs))) ||
	    !ASSERT_EQ(name, back->stack_len, 100) || !ASSERT_TRUE(name, !memcmp(back->stack, stack, 100)) ||
	    !ASSERT_STREQ(name, back->maps, s.maps) || !ASSERT_EQ(name, back->nexpect, 2) ||
	    !ASSERT_STREQ(name, back->expect[1], "main.b") || !ASSERT_STREQ(name, back->notes[0], notes[0]))
		goto cleanup;
	/* Every truncation is an error, never a crash. */
	for (size_t cut = 0; cut + 4 < len; cut += 3) {
		struct dwunw_snapshot *t = NULL;
		if (!ASSERT_TRUE(name, dwunw_snapshot_parse(buf, cut, &t) < 0)) {
			dwunw_snapshot_free(t);
			goto cleanup;
		}
	}
	CHECK_PASS(name);
cleanup:
	if (f)
		fclose(f);
	free(buf);
	dwunw_snapshot_free(back);
}

/* ---- arm64_go ---- */

static int bl_site(struct gosym *g, const struct gosym_func *caller, uint64_t target, uint64_t *site)
{
	const uint8_t *code = gosym_bytes(g, caller->entry, caller->end - caller->entry);

	if (!code)
		return -1;
	for (uint64_t a = caller->entry; a + 4 <= caller->end; a += 4) {
		uint32_t insn;
		memcpy(&insn, code + (a - caller->entry), 4);
		if ((insn & 0xfc000000) != 0x94000000)
			continue;
		int64_t imm = insn & 0x3ffffff;
		if (imm & 0x2000000)
			imm -= 0x4000000;
		if (a + (uint64_t)(imm * 4) == target) {
			*site = a;
			return 0;
		}
	}
	return -1;
}

static void arm64_one(struct dwunw_modules *mods, const char *path)
{
	static const char *const chain[] = {"main.marker", "main.a3", "main.a2", "main.a1", "main.main"};
	enum { N = sizeof(chain) / sizeof(chain[0]) };
	char name[512];
	struct dwunw_module *mod = NULL;
	struct dwunw_map *map = NULL;
	struct gosym_func fn[N];
	uint64_t ret[N] = {0};
	uint8_t *stack = NULL;

	snprintf(name, sizeof(name), "arm64_go %s", path);
	if (!ASSERT_EQ(name, dwunw_modules_get(mods, path, &mod), 0) || !ASSERT_TRUE(name, mod->go) ||
	    !ASSERT_EQ(name, mod->e_machine, 183 /* EM_AARCH64 */))
		return;
	for (int i = 0; i < N; i++)
		if (!ASSERT_EQ(name, gosym_lookup_name(mod->go, chain[i], &fn[i]), 0))
			return;
	/* ret[i]: where frame i returns to, in frame i+1's function. */
	for (int i = 0; i + 1 < N; i++) {
		uint64_t site = 0;
		if (!ASSERT_EQ(name, bl_site(mod->go, &fn[i + 1], fn[i].entry, &site), 0))
			return;
		ret[i] = site + 4;
	}
	/* Lay the frames out: frame 0 stopped at main.marker's entry (LR
	 * holds ret[0]); frame i >= 1 is suspended at its call, its frame
	 * [sp_i, sp_i + pcsp) holds the caller's return address at 0(sp_i). */
	const uint64_t base = 0x4000f000;
	size_t size = 64 * 1024;
	uint64_t sp = base;
	int32_t d;
	stack = malloc(size);
	memset(stack, 0x5a, size);
	if (!ASSERT_EQ(name, gosym_pc_spdelta(mod->go, fn[0].entry, &d), 0) || !ASSERT_EQ(name, d, 0))
		goto cleanup;
	for (int i = 1; i < N; i++) {
		if (!ASSERT_EQ(name, gosym_pc_spdelta(mod->go, ret[i - 1] - 4, &d), 0) || !ASSERT_TRUE(name, d > 0) ||
		    !ASSERT_TRUE(name, sp - base + (uint64_t)d < size))
			goto cleanup;
		uint64_t saved = i + 1 < N ? ret[i] : 0; /* main.main's caller: 0 ends the walk */
		memcpy(stack + (sp - base), &saved, 8);
		sp += (uint64_t)d;
	}
	/* Static binary, bias 0: map the executable segments one to one. */
	if (!ASSERT_EQ(name, dwunw_map_new(&map), 0))
		goto cleanup;
	for (int i = 0; i < mod->nsegs; i++)
		if (mod->segs[i].flags & 1 /* PF_X */)
			dwunw_map_add(map, mod->segs[i].vaddr & ~0xfffULL, mod->segs[i].vaddr + mod->segs[i].memsz,
				      mod->segs[i].offset & ~0xfffULL, mod);
	struct dwunw_regs regs = {.version = DWUNW_REGS_VERSION, .arch = DWUNW_ARCH_ARM64};
	regs.pc = fn[0].entry;
	regs.r[31] = base;
	regs.r[30] = ret[0];
	regs.r[29] = 0xdeadbeef0;
	regs.valid = 1ULL << 31 | 1ULL << 30 | 1ULL << 29;
	unsigned int methods[2] = {DWUNW_M_ALL, DWUNW_M_PCLNTAB};
	for (int m = 0; m < 2; m++) {
		struct dwunw_frame fr[16];
		enum dwunw_stop stop;
		int n = dwunw_unwind(map, &regs, stack, size, methods[m], fr, 16, &stop);

		if (!ASSERT_EQ(name, n, N) || !ASSERT_EQ(name, stop, DWUNW_STOP_END))
			goto cleanup;
		for (int i = 0; i < N; i++) {
			struct dwunw_sym s[8];
			int ns = dwunw_symbolize(&fr[i], s, 8);
			if (!ASSERT_TRUE(name, ns >= 1 && ns <= 8) || !ASSERT_STREQ(name, s[ns - 1].func, chain[i]))
				goto cleanup;
			/* With .debug_frame present, the default order uses it. */
			if (i + 1 < N && !ASSERT_EQ(name, fr[i].method, m == 0 && mod->dbg.nrows ? DWUNW_M_CFI : DWUNW_M_PCLNTAB))
				goto cleanup;
		}
	}
	CHECK_PASS(name);
cleanup:
	dwunw_map_free(map);
	free(stack);
}

static void test_arm64_go(struct dwunw_modules *mods)
{
	const char *pats[] = {"build/testprogs/go1.*/arm64/stacks", "build/unwind/stacks-arm64/*/stacks"};
	int found = 0;

	for (int p = 0; p < 2; p++) {
		glob_t g;
		if (glob(pats[p], 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++, found++)
			arm64_one(mods, g.gl_pathv[i]);
		globfree(&g);
	}
	if (!found)
		CHECK_MISSING("arm64_go", "no arm64 build of testprogs/stacks (tests/run.py builds them)");
}

int main(void)
{
	struct dwunw_modules *mods = NULL;

	if (dwunw_modules_new(&mods))
		return 1;
	test_maps_bias(mods);
#if defined(__x86_64__)
	test_self_unwind(mods);
#endif
	test_expr_plt();
	test_cfi_handmade();
	test_errors(mods);
	test_snapshot_io();
	test_arm64_go(mods);
	dwunw_modules_free(mods);
	return check_failures ? 1 : 0;
}
