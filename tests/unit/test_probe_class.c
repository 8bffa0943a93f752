// SPDX-License-Identifier: MIT
/*
 * Unit tests of the probe-site classifier and the entry-site finder
 * (gotrace/probes/probe_class.c, sites.c):
 *
 *   - x86-64 and arm64 instructions, bytes checked by hand against the
 *     architecture manuals and objdump, with the class the kernel's rules
 *     give them (docs/probes.md), including the version-dependent nops;
 *   - hand-assembled Go prologues (stack check, big and huge frames, ABI
 *     wrappers, a branch back into the prologue) and where the entry probe
 *     goes;
 *   - every function of real Go binaries: wherever the finder moved an
 *     entry probe, GNU objdump (an independent decoder) must see only the
 *     allowed prologue instructions before it, a jump at it, and no branch
 *     into the skipped range;
 *   - when run as root on x86-64 with uprobes: the running kernel itself.
 *     Each snippet is mapped from a file in a fresh child, probed with a
 *     perf uprobe, and run once: the kernel refused the probe, emulated it
 *     (no out-of-line area appears), or single-stepped it (the "[uprobes]"
 *     area appears).  That must be what probe_class says for this kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "check.h"
#include "gosym.h"
#include "probes/probe_class.h"
#include "probes/retsites.h"
#include "probes/sites.h"

#define E PROBE_EMULATED
#define S PROBE_SSTEP
#define R PROBE_REFUSED
#define K618 PROBE_KVER(6, 18)
/* the kernel's "operation not supported" (include/linux/errno.h) */
#define ENOTSUPP 524

struct x86_case {
	const char *what;
	uint8_t len;
	uint8_t b[15];
	enum probe_class cls;	/* on 6.18 */
};

static const struct x86_case x86_cases[] = {
	/* Go prologues and epilogues */
	{ "push %rbp", 1, { 0x55 }, E },
	{ "push %r13", 2, { 0x41, 0x55 }, E },
	{ "push %rbp with REX 0x40", 2, { 0x40, 0x55 }, S },
	{ "push %rbp with REX.W", 2, { 0x48, 0x55 }, S },
	{ "push %bp", 2, { 0x66, 0x55 }, S },
	{ "cmp 0x10(%r14),%rsp", 4, { 0x49, 0x3b, 0x66, 0x10 }, S },
	{ "jbe rel8", 2, { 0x76, 0x60 }, E },
	{ "jbe rel32", 6, { 0x0f, 0x86, 0xdc, 0x00, 0x00, 0x00 }, E },
	{ "jb rel32", 6, { 0x0f, 0x82, 0x16, 0x01, 0x00, 0x00 }, E },
	{ "lea -0x98(%rsp),%r12", 8, { 0x4c, 0x8d, 0xa4, 0x24, 0x68, 0xff, 0xff, 0xff }, S },
	{ "mov %rsp,%rbp", 3, { 0x48, 0x89, 0xe5 }, S },
	{ "sub $0x40,%rsp", 4, { 0x48, 0x83, 0xec, 0x40 }, S },
	{ "add $0x40,%rsp", 4, { 0x48, 0x83, 0xc4, 0x40 }, S },
	{ "pop %rbp", 1, { 0x5d }, S },
	{ "ret", 1, { 0xc3 }, S },
	{ "ret $8", 3, { 0xc2, 0x08, 0x00 }, S },
	{ "mov %fs:-8,%r14", 9, { 0x64, 0x4c, 0x8b, 0x34, 0x25, 0xf8, 0xff, 0xff, 0xff }, S },
	/* branches */
	{ "jmp rel8", 2, { 0xeb, 0x10 }, E },
	{ "jmp rel32", 5, { 0xe9, 0x10, 0x00, 0x00, 0x00 }, E },
	{ "call rel32", 5, { 0xe8, 0x10, 0x00, 0x00, 0x00 }, E },
	{ "callw (0x66)", 3, { 0x66, 0xe8, 0x10 }, R },
	{ "jne with a 0x66 prefix", 3, { 0x66, 0x75, 0x00 }, R },
	{ "call *%rax", 2, { 0xff, 0xd0 }, S },
	{ "jmp *%rax", 2, { 0xff, 0xe0 }, S },
	/* nops */
	{ "nop", 1, { 0x90 }, E },
	{ "xchg %ax,%ax (nop2)", 2, { 0x66, 0x90 }, E },
	{ "pause", 2, { 0xf3, 0x90 }, E },
	{ "nopl (%rax) (nop3)", 3, { 0x0f, 0x1f, 0x00 }, E },
	{ "nop5", 5, { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, E },
	{ "nop8", 8, { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 }, E },
	{ "nopl 0x1(%rax) (not the kernel's nop4)", 4, { 0x0f, 0x1f, 0x40, 0x01 }, S },
	{ "cs nopw (nop9, CS prefix)", 9, { 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  R },
	/* the kernel would "emulate" these wrongly */
	{ "xchg %eax,%r8d", 2, { 0x41, 0x90 }, R },
	{ "vzeroupper", 3, { 0xc5, 0xf8, 0x77 }, R },
	{ "vmovdqu %ymm0,%ymm1 (VEX opcode byte 0x7f, jg's)", 4, { 0xc5, 0xfe, 0x7f, 0xc1 }, R },
	/* refused */
	{ "int3", 1, { 0xcc }, R },
	{ "hlt", 1, { 0xf4 }, R },
	{ "lock cmpxchg %ecx,(%rax)", 4, { 0xf0, 0x0f, 0xb1, 0x08 }, R },
	{ "je with a CS prefix (branch hint)", 3, { 0x2e, 0x74, 0x00 }, R },
	{ "mov %eax,%ss", 2, { 0x8e, 0xd0 }, R },
	{ "vmovdqu (%rax),%ymm0", 4, { 0xc5, 0xfe, 0x6f, 0x00 }, R },
	{ "vmovdqu64 (%rax),%zmm0 (EVEX)", 6, { 0x62, 0xf1, 0xfe, 0x48, 0x6f, 0x00 }, R },
	/* accepted two-byte opcodes (0x0f is allowed as a whole) */
	{ "ud2", 2, { 0x0f, 0x0b }, S },
	{ "syscall", 2, { 0x0f, 0x05 }, S },
	{ "vmovaps %xmm0,%xmm1", 4, { 0xc5, 0xf8, 0x28, 0xc8 }, S },
};

struct a64_case {
	const char *what;
	uint32_t w;
	enum probe_class cls;	/* on 6.18 */
};

static const struct a64_case a64_cases[] = {
	{ "nop", 0xd503201f, E },
	{ "b.ls", 0x54000a09, E },
	{ "b.cc", 0x54000743, E },
	{ "cbz x0", 0xb4000040, E },
	{ "tbz w0, #0", 0x36000040, E },
	{ "b", 0x14000001, E },
	{ "bl", 0x94000001, E },
	{ "adr x0", 0x10000000, E },
	{ "adrp x0", 0x90000000, E },
	{ "br x16", 0xd61f0200, E },
	{ "blr x16", 0xd63f0200, E },
	{ "ret", 0xd65f03c0, E },
	{ "ret x1", 0xd65f0020, E },
	{ "ldr x16, [x28,#16]", 0xf9400b90, S },
	{ "mov x17, sp", 0x910003f1, S },
	{ "sub x17, sp, #0x10", 0xd10043f1, S },
	{ "cmp x17, x16", 0xeb10023f, S },
	{ "str x30, [sp,#-32]!", 0xf81e0ffe, S },
	{ "stp x29, x30, [sp,#-16]!", 0xa9bf7bfd, S },
	{ "mul x0, x0, x1", 0x9b017c00, S },
	{ "mrs x0, nzcv", 0xd53b4200, S },
	{ "paciasp", 0xd503233f, S },
	{ "bti c", 0xd503245f, S },
	{ "ldr x0, literal", 0x58000040, R },
	{ "ldrsw x0, literal", 0x98000040, R },
	{ "ldxr x0, [x0]", 0xc85f7c00, R },
	{ "stxr w0, x1, [x0]", 0xc8007c01, R },
	{ "svc #0", 0xd4000001, R },
	{ "brk #0", 0xd4200000, R },
	{ "msr daifset, #2", 0xd50342df, R },
	{ "mrs x0, daif", 0xd53b4220, R },
	{ "retaa", 0xd65f0bff, R },
	{ "blraa x0, x1", 0xd73f0801, R },
	{ "yield", 0xd503203f, R },
};

static void test_x86_classes(void)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(x86_cases) / sizeof(x86_cases[0]); i++) {
		const struct x86_case *c = &x86_cases[i];
		enum probe_class got = probe_class_x86_64(c->b, c->len, K618);

		if (got != c->cls) {
			CHECK_FAIL("x86_classes", "%s: %s, expected %s", c->what,
				   probe_class_name(got), probe_class_name(c->cls));
			bad++;
		}
	}
	if (!bad)
		CHECK_PASS("x86_classes");
}

static void test_a64_classes(void)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(a64_cases) / sizeof(a64_cases[0]); i++) {
		const struct a64_case *c = &a64_cases[i];
		enum probe_class got = probe_class_arm64(c->w, K618);
		uint8_t le[4] = { c->w, c->w >> 8, c->w >> 16, c->w >> 24 };

		if (got != c->cls || probe_class_of(RETSITES_ARM64, le, 4, K618) != got) {
			CHECK_FAIL("arm64_classes", "%s (%08x): %s, expected %s", c->what, c->w,
				   probe_class_name(got), probe_class_name(c->cls));
			bad++;
		}
	}
	if (!bad)
		CHECK_PASS("arm64_classes");
}

/* The rules that changed: x86 nops other than 0x90 are emulated from 6.16,
 * the arm64 nop from 6.13. */
static void test_versions(void)
{
	static const uint8_t nop3[] = { 0x0f, 0x1f, 0x00 }, nop = 0x90;

	if (ASSERT_EQ("kernel_versions", probe_class_x86_64(nop3, 3, PROBE_KVER(6, 15)), S) &&
	    ASSERT_EQ("kernel_versions", probe_class_x86_64(nop3, 3, PROBE_KVER(6, 16)), E) &&
	    ASSERT_EQ("kernel_versions", probe_class_x86_64(&nop, 1, PROBE_KVER(5, 15)), E) &&
	    ASSERT_EQ("kernel_versions", probe_class_arm64(0xd503201f, PROBE_KVER(6, 12)), S) &&
	    ASSERT_EQ("kernel_versions", probe_class_arm64(0xd503201f, PROBE_KVER(6, 13)), E) &&
	    ASSERT_TRUE("kernel_versions", probe_kernel_version() >= PROBE_KVER(3, 0)))
		CHECK_PASS("kernel_versions");
}

/* --- entry sites of hand-assembled prologues ----------------------------- */

struct prologue {
	const char *what;
	size_t len;
	uint8_t b[48];
	uint64_t min_target;	/* relative to the entry; 0: none */
	unsigned int flags;
	uint64_t site;		/* expected, relative */
	enum probe_class cls;
};

static const struct prologue x86_prologues[] = {
	{ "small frame: cmp; jbe", 12,
	  { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x20, 0x55, 0x48, 0x89, 0xe5, 0x90, 0xc3 }, 0, 0, 4, E },
	{ "go1.17 small frame: cmp; jbe rel32; sub", 14,
	  { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0xdc, 0x00, 0x00, 0x00, 0x48, 0x83, 0xec, 0x18 },
	  0, 0, 4, E },
	{ "big frame: lea; cmp; jbe", 16,
	  { 0x4c, 0x8d, 0xa4, 0x24, 0x68, 0xff, 0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10, 0x0f, 0x86,
	    0x08, 0x02 /* cut */ }, 0, 0, 0, S },
	{ "big frame: lea; cmp; jbe (whole)", 18,
	  { 0x4c, 0x8d, 0xa4, 0x24, 0x68, 0xff, 0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10, 0x0f, 0x86,
	    0x08, 0x02, 0x00, 0x00 }, 0, 0, 12, E },
	{ "huge frame: mov; sub; jb", 16,
	  { 0x49, 0x89, 0xe4, 0x49, 0x81, 0xec, 0xb0, 0x3f, 0x00, 0x00, 0x0f, 0x82, 0x16, 0x01,
	    0x00, 0x00 }, 0, 0, 10, E },
	{ "go:systemstack: cmp 0x18(%r14); jbe", 6,
	  { 0x49, 0x3b, 0x66, 0x18, 0x76, 0x20 }, 0, 0, 4, E },
	{ "ABI0 code: g from TLS into CX; cmp; jbe", 15,
	  { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff, 0x48, 0x3b, 0x61, 0x10, 0x76,
	    0x20 }, 0, 0, 13, E },
	{ "ABI0 code, arguments kept", 15,
	  { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff, 0x48, 0x3b, 0x61, 0x10, 0x76,
	    0x20 }, 0, SITES_KEEP_ARGS, 0, S },
	{ "ABI wrapper: xorps; g from TLS; jmp", 18,
	  { 0x45, 0x0f, 0x57, 0xff, 0x64, 0x4c, 0x8b, 0x34, 0x25, 0xf8, 0xff, 0xff, 0xff, 0xe9,
	    0x00, 0x01, 0x00, 0x00 }, 0, 0, 13, E },
	{ "nosplit go1.21+: push %rbp first", 4, { 0x55, 0x48, 0x89, 0xe5 }, 0, 0, 0, E },
	{ "nosplit go1.17: sub first", 9,
	  { 0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0x6c, 0x24, 0x10 }, 0, 0, 0, S },
	{ "leaf: a load first (may fault)", 5, { 0x48, 0xff, 0x48, 0x08, 0xc3 }, 0, 0, 0, S },
	{ "branch back onto the jbe", 6, { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x20 }, 4, 0, 0, S },
	{ "branch back into the prologue", 6, { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x20 }, 2, 0, 0,
	  S },
	{ "branch past the site", 6, { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x20 }, 5, 0, 4, E },
	{ "register shuffle before a jmp", 5, { 0x48, 0x89, 0xcb, 0xeb, 0x10 }, 0, 0, 0, S },
};

static const struct prologue a64_prologues[] = {
	{ "small frame: ldr; mov; cmp; b.ls", 16,
	  { 0x90, 0x0b, 0x40, 0xf9, 0xf1, 0x03, 0x00, 0x91, 0x3f, 0x02, 0x10, 0xeb, 0xe9, 0x01,
	    0x00, 0x54 }, 0, 0, 12, E },
	{ "big frame: ldr; sub; cmp; b.ls", 16,
	  { 0x90, 0x0b, 0x40, 0xf9, 0xf1, 0x43, 0x00, 0xd1, 0x3f, 0x02, 0x10, 0xeb, 0xc9, 0x3b,
	    0x00, 0x54 }, 0, 0, 12, E },
	{ "huge frame: ldr; mov x27; subs; b.cc", 16,
	  { 0x90, 0x0b, 0x40, 0xf9, 0x1b, 0xf6, 0x83, 0xd2, 0xf1, 0x63, 0x3b, 0xeb, 0x43, 0x07,
	    0x00, 0x54 }, 0, 0, 12, E },
	{ "nosplit: str x30 first", 8,
	  { 0xfe, 0x0f, 0x1e, 0xf8, 0xfd, 0x83, 0x1f, 0xf8 }, 0, 0, 0, S },
	{ "leaf: ret", 4, { 0xc0, 0x03, 0x5f, 0xd6 }, 0, 0, 0, E },
};

static void run_prologues(const char *name, enum retsites_arch arch, const struct prologue *p,
			  size_t n)
{
	struct sites *s = NULL;
	int bad = 0;

	if (sites_new(arch, K618, &s)) {
		CHECK_SKIP(name, "capstone lacks the architecture");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const uint64_t base = 0x401000;
		struct entry_site e = { 0 };
		int err = sites_entry(s, p[i].b, p[i].len, base,
				      p[i].min_target ? base + p[i].min_target : UINT64_MAX,
				      p[i].flags, &e);

		if (err || e.addr != base + p[i].site || e.cls != p[i].cls) {
			CHECK_FAIL(name, "%s: err %d, site +%lld %s, expected +%llu %s", p[i].what,
				   err, (long long)(e.addr - base), probe_class_name(e.cls),
				   (unsigned long long)p[i].site, probe_class_name(p[i].cls));
			bad++;
		}
	}
	sites_free(s);
	if (!bad)
		CHECK_PASS(name);
}

/* --- real binaries, checked with objdump --------------------------------- */

struct odline {
	uint64_t addr;
	char text[96];		/* "mnemonic operands" */
	uint64_t target;	/* of a direct jump/call, else 0 */
};

/* objdump's instructions of the whole binary, in address order. */
static struct odline *objdump_lines(const char *bin, size_t *n)
{
	char cmd[4200], line[512];
	struct odline *v = NULL;
	size_t cap = 0;
	FILE *p;

	*n = 0;
	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s' 2>/dev/null", bin);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	while (fgets(line, sizeof(line), p)) {
		char *colon = strchr(line, ':'), *t, *lt;

		if (!colon || colon[1] != '\t')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 65536;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				break;
		}
		v[*n].addr = strtoull(line, NULL, 16);
		t = colon + 2;
		t[strcspn(t, "\n#")] = 0;
		for (size_t e = strlen(t); e > 0 && t[e - 1] == ' '; e--)
			t[e - 1] = 0;
		snprintf(v[*n].text, sizeof(v[*n].text), "%s", t);
		v[*n].target = 0;
		lt = strchr(t, '<');
		if ((t[0] == 'j' || !strncmp(t, "call", 4) || !strncmp(t, "loop", 4)) && lt) {
			/* "jbe    4196c4 <f+0xe6>" */
			char *sp = lt - 1;

			while (sp > t && sp[-1] != ' ')
				sp--;
			v[*n].target = strtoull(sp, NULL, 16);
		}
		(*n)++;
	}
	pclose(p);
	return v;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* The prologue instructions sites.c may skip, as objdump prints them. */
static bool od_allowed(const char *t)
{
	static const char *const ok[] = {
		"cmp    0x10(%r14),%rsp", "cmp    0x18(%r14),%rsp", "cmp    0x10(%r14),%r12",
		"cmp    0x18(%r14),%r12", "cmp    0x10(%rcx),%rsp", "cmp    0x18(%rcx),%rsp",
		"cmp    0x10(%rcx),%r12", "cmp    0x18(%rcx),%r12", "mov    %rsp,%r12",
		"xorps  %xmm15,%xmm15", "mov    %fs:0xfffffffffffffff8,%r14",
		"mov    %fs:0xfffffffffffffff8,%rcx",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(t, ok[i]))
			return true;
	return (!strncmp(t, "lea    -0x", 10) && ends_with(t, "(%rsp),%r12")) ||
	       (!strncmp(t, "sub    $0x", 10) && ends_with(t, ",%r12"));
}

static void test_binary_sites(const char *name, const char *bin)
{
	struct gosym *gs = NULL;
	struct sites *s = NULL;
	struct odline *od = NULL;
	size_t nod = 0, j = 0, nf = 0, moved = 0;
	int bad = 0;

	if (access(bin, R_OK)) {
		CHECK_SKIP(name, "binary not present");
		return;
	}
	if (system("objdump --version >/dev/null 2>&1")) {
		CHECK_SKIP(name, "no objdump");
		return;
	}
	if (!ASSERT_EQ(name, gosym_open(bin, &gs), 0))
		return;
	od = objdump_lines(bin, &nod);
	if (!ASSERT_TRUE(name, od && nod > 1000) ||
	    !ASSERT_EQ(name, sites_new(RETSITES_X86_64, K618, &s), 0))
		goto out;
	for (size_t i = 0; i < gosym_info(gs)->nfuncs && bad < 5; i++) {
		struct gosym_func f;
		struct entry_site e;
		uint64_t off;
		size_t k;

		if (gosym_func_at(gs, i, &f) || f.end <= f.entry ||
		    sites_func_entry(s, gs, &f, 0, &e, &off))
			continue;
		nf++;
		if (e.addr == f.entry)
			continue;
		moved++;
		while (j < nod && od[j].addr < f.entry)
			j++;
		for (k = j; k < nod && od[k].addr < e.addr; k++) {
			if (!od_allowed(od[k].text)) {
				CHECK_FAIL(name, "%s: site +%llu after '%s'", f.name,
					   (unsigned long long)(e.addr - f.entry), od[k].text);
				bad++;
				break;
			}
		}
		if (k >= nod || od[k].addr != e.addr || od[k].text[0] != 'j') {
			CHECK_FAIL(name, "%s: the site +%llu is not a jump to objdump", f.name,
				   (unsigned long long)(e.addr - f.entry));
			bad++;
		}
		for (k = j; k < nod && od[k].addr < f.end; k++) {
			if (od[k].target > f.entry && od[k].target <= e.addr) {
				CHECK_FAIL(name, "%s: objdump sees a branch to 0x%llx, inside the "
					   "skipped prologue", f.name,
					   (unsigned long long)od[k].target);
				bad++;
			}
		}
	}
	/* most Go functions have a stack check: most sites move */
	if (!bad && ASSERT_TRUE(name, nf > 1000 && moved * 2 > nf)) {
		printf("# %s: %zu of %zu entry probes moved to an emulated instruction\n", name,
		       moved, nf);
		CHECK_PASS(name);
	}
out:
	free(od);
	sites_free(s);
	gosym_free(gs);
}

/* --- the running kernel --------------------------------------------------- */

/* A snippet run under a probe: code[at..at+len) is the probed instruction,
 * the whole snippet is a function that returns (run == false: only the
 * attach is tried, the instruction is not safe to execute). */
struct snippet {
	const char *what;
	uint8_t at, len, size;
	bool run;
	uint8_t code[16];
	/* what the kernel does, where it is not what probe_class says we
	 * must do (REFUSED for an instruction the kernel mis-emulates) */
	int kernel;	/* -1: same as probe_class */
};

static const struct snippet snippets[] = {
	{ "push %rbp", 0, 1, 3, true, { 0x55, 0x5d, 0xc3 }, -1 },
	{ "push %r13", 0, 2, 5, true, { 0x41, 0x55, 0x41, 0x5d, 0xc3 }, -1 },
	{ "push %rbp, REX 0x40", 0, 2, 4, true, { 0x40, 0x55, 0x5d, 0xc3 }, -1 },
	{ "push %bp", 0, 2, 5, true, { 0x66, 0x55, 0x66, 0x5d, 0xc3 }, -1 },
	{ "jbe rel8", 0, 2, 3, true, { 0x76, 0x00, 0xc3 }, -1 },
	{ "je rel32", 0, 6, 7, true, { 0x0f, 0x84, 0, 0, 0, 0, 0xc3 }, -1 },
	{ "jmp rel8", 0, 2, 3, true, { 0xeb, 0x00, 0xc3 }, -1 },
	{ "jmp rel32", 0, 5, 6, true, { 0xe9, 0, 0, 0, 0, 0xc3 }, -1 },
	{ "call rel32", 0, 5, 7, true, { 0xe8, 0, 0, 0, 0, 0x58, 0xc3 }, -1 },
	{ "jne, 0x66 prefix", 0, 3, 4, false, { 0x66, 0x75, 0x00, 0xc3 }, -1 },
	{ "cmp %rsp,%rsp", 0, 3, 4, true, { 0x48, 0x3b, 0xe4, 0xc3 }, -1 },
	{ "mov %rsp,%rbp", 1, 3, 6, true, { 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3 }, -1 },
	{ "sub $0x40,%rsp", 0, 4, 9, true,
	  { 0x48, 0x83, 0xec, 0x40, 0x48, 0x83, 0xc4, 0x40, 0xc3 }, -1 },
	{ "pop %rbp", 1, 1, 3, true, { 0x55, 0x5d, 0xc3 }, -1 },
	{ "ret", 0, 1, 1, true, { 0xc3 }, -1 },
	{ "nop", 0, 1, 2, true, { 0x90, 0xc3 }, -1 },
	{ "nop3", 0, 3, 4, true, { 0x0f, 0x1f, 0x00, 0xc3 }, -1 },
	{ "nop5", 0, 5, 6, true, { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 }, -1 },
	{ "nopl 0x1(%rax)", 0, 4, 5, true, { 0x0f, 0x1f, 0x40, 0x01, 0xc3 }, -1 },
	{ "pause", 0, 2, 3, true, { 0xf3, 0x90, 0xc3 }, -1 },
	{ "xchg %eax,%r8d", 0, 2, 3, true, { 0x41, 0x90, 0xc3 }, PROBE_EMULATED },
	{ "vzeroupper", 0, 3, 4, true, { 0xc5, 0xf8, 0x77, 0xc3 }, PROBE_EMULATED },
	{ "vmovdqu %ymm0,%ymm1", 0, 4, 5, true, { 0xc5, 0xfe, 0x7f, 0xc1, 0xc3 }, PROBE_EMULATED },
	{ "vmovaps %xmm0,%xmm1", 0, 4, 5, true, { 0xc5, 0xf8, 0x28, 0xc8, 0xc3 }, -1 },
	{ "vpxor %ymm0,%ymm0,%ymm0", 0, 4, 5, false, { 0xc5, 0xfd, 0xef, 0xc0, 0xc3 }, -1 },
	{ "int3", 0, 1, 1, false, { 0xcc }, -1 },
	{ "je, CS prefix", 0, 3, 4, false, { 0x2e, 0x74, 0x00, 0xc3 }, -1 },
	{ "lock cmpxchg", 0, 4, 4, false, { 0xf0, 0x0f, 0xb1, 0x08 }, -1 },
	{ "mov %eax,%ss", 0, 2, 2, false, { 0x8e, 0xd0 }, -1 },
	{ "vmovdqu (%rax),%ymm0", 0, 4, 4, false, { 0xc5, 0xfe, 0x6f, 0x00 }, -1 },
	{ "ud2", 0, 2, 2, false, { 0x0f, 0x0b }, -1 },
	{ "syscall", 0, 2, 2, false, { 0x0f, 0x05 }, -1 },
};

static bool has_xol_area(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[uprobes]"))
			found = true;
	if (f)
		fclose(f);
	return found;
}

/* In a fresh child: map the snippet from `path`, probe it, run it.  Exit
 * code: 10 + the class the kernel used, 2 on a setup failure. */
static int kernel_class(int pmu, const char *path, const struct snippet *sn)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct perf_event_attr a = { .size = sizeof(a), .type = pmu };
		int fd = open(path, O_RDONLY), pfd;
		void *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_EXEC,
						     MAP_PRIVATE, fd, 0);

		if (m == MAP_FAILED)
			_exit(2);
		a.config1 = (uint64_t)(uintptr_t)path;
		a.config2 = sn->at;
		pfd = syscall(SYS_perf_event_open, &a, getpid(), -1, -1, 0);
		if (pfd < 0)
			_exit(errno == ENOTSUPP || errno == EINVAL ? 10 + PROBE_REFUSED : 2);
		if (!sn->run || has_xol_area())
			_exit(sn->run ? 2 : 10 + PROBE_SSTEP);	/* accepted */
		((void (*)(void))m)();
		_exit(10 + (has_xol_area() ? PROBE_SSTEP : PROBE_EMULATED));
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) >= 10 ? WEXITSTATUS(st) - 10 : -1;
}

static void test_kernel_agrees(void)
{
	char path[] = "/tmp/gotrace-probe-class-XXXXXX";
	unsigned int kver = probe_kernel_version();
	int pmu = -1, bad = 0;
	FILE *f;

#if !defined(__x86_64__)
	CHECK_SKIP("kernel_agrees", "the snippets are x86-64");
	return;
#endif
	if (geteuid() != 0) {
		CHECK_SKIP("kernel_agrees", "needs root (perf uprobes)");
		return;
	}
	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	if (!f || fscanf(f, "%d", &pmu) != 1) {
		if (f)
			fclose(f);
		CHECK_SKIP("kernel_agrees", "no uprobe PMU");
		return;
	}
	fclose(f);
	for (size_t i = 0; i < sizeof(snippets) / sizeof(snippets[0]); i++) {
		const struct snippet *sn = &snippets[i];
		uint8_t page[4096];
		int fd = mkstemp(path), got, want;
		bool ok;

		if (!ASSERT_TRUE("kernel_agrees", fd >= 0))
			return;
		memset(page, 0xcc, sizeof(page));
		memcpy(page, sn->code, sn->size);
		ok = write(fd, page, sizeof(page)) == (ssize_t)sizeof(page);
		close(fd);
		got = ok ? kernel_class(pmu, path, sn) : -1;
		unlink(path);
		strcpy(path + strlen(path) - 6, "XXXXXX");
		want = sn->kernel >= 0 ? sn->kernel
				       : (int)probe_class_x86_64(sn->code + sn->at, sn->len, kver);
		/* without running it, accepted means "not refused" */
		if (!sn->run && got == PROBE_SSTEP && want == PROBE_EMULATED)
			got = want;
		if (got != want) {
			CHECK_FAIL("kernel_agrees", "%s: the kernel %s, probe_class says %s",
				   sn->what, got < 0 ? "(test failed)" : probe_class_name(got),
				   probe_class_name(want));
			bad++;
		}
	}
	if (!bad)
		CHECK_PASS("kernel_agrees");
}

int main(void)
{
	test_x86_classes();
	test_a64_classes();
	test_versions();
	run_prologues("x86_prologues", RETSITES_X86_64, x86_prologues,
		      sizeof(x86_prologues) / sizeof(x86_prologues[0]));
	run_prologues("arm64_prologues", RETSITES_ARM64, a64_prologues,
		      sizeof(a64_prologues) / sizeof(a64_prologues[0]));
	test_binary_sites("sites_gofmt_newest", "/usr/local/go/bin/gofmt");
	test_binary_sites("sites_gofmt_go1.19", "/usr/lib/go-1.19/bin/gofmt");
	test_binary_sites("sites_testprog_go1.17", "build/testprogs/go1.17.13/default/funcgraph");
	test_binary_sites("sites_testprog_pie", "build/testprogs/go1.26.8/pie/funcgraph");
	test_kernel_agrees();
	return check_failures ? 1 : 0;
}
