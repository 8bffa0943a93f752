// SPDX-License-Identifier: MIT
/*
 * The ABI assignment (gotrace/args/abi.c) against the compiler's own word:
 * for every function of every host-arch and arm64 build in
 * build/testprogs/manifest.json that has DWARF (standard library included,
 * thousands of signatures per binary), the location DWARF gives each
 * parameter at the function's entry must be the one the assignment rules
 * compute: the same registers in the same order with the same sizes, or
 * the same stack offset.  Go 1.15/1.16 builds check the stack ABI (DWARF
 * places every argument and result there); 1.17+ the register ABI.
 *
 * Plus the rules on hand-made signatures (the example of abi-internal.md)
 * and the method-name classifier.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "gosym.h"
#include "args/abi.h"
#include "args/session.h"
#include "args/types.h"

struct tally {
	size_t funcs, assigned, params_checked, funcs_checked, mismatches, unknown;
	size_t stack_params, reg_params, dict_funcs, methods, abi0, recv, blank_rejected;
	size_t unconfirmed;	/* compiler-made, no DWARF location to choose a variant */
	size_t blank_seen;
	size_t with_arginfo;	/* functions whose traceback layout was compared too */
	size_t dwarf_incomplete;	/* refused: DWARF lists fewer arguments */
};

/* Top-level arguments a traceback layout describes (a "..." counts as
 * one more). */
static int ai_args(const struct ga_arginfo *ai)
{
	int depth = 0, n = 0;

	for (size_t i = 0; i < ai->len; i++) {
		uint8_t b = ai->b[i];

		if (b == 0xff)
			break;
		if (b == 0xfc || b == 0xfb) {
			n += depth == 0;
		} else if (b == 0xfe) {
			n += depth++ == 0;
		} else if (b == 0xfd) {
			depth--;
		} else {
			n += depth == 0;
			i++;	/* the size */
		}
	}
	return n;
}

/* Does the binary's layout have more arguments than DWARF gives f? */
static bool dwarf_lacks_args(const struct gosym_abi *abi, const struct ga_func *f,
			     const struct ga_arginfo *ai)
{
	struct ga_loc locs[f->nparams + 1];
	struct ga_arginfo mine;

	if (ga_abi_assign_ai(abi, f, 0, locs, NULL, &mine))
		return false;
	return ai_args(ai) > ai_args(&mine);
}

static void check_binary(const char *path, const char *what, struct tally *t)
{
	struct gosym *gs = NULL;
	struct ga_dwarf *d = NULL;
	struct gosym_abi abi;
	struct ga_loc *locs = NULL;
	size_t cap = 0;
	int err;

	if (gosym_open(path, &gs) || gosym_abi(gs, &abi)) {
		CHECK_FAIL(what, "cannot open '%s': %s", path, gosym_errmsg());
		goto cleanup;
	}
	err = ga_dwarf_open(path, (uint8_t)abi.ptr_size, &d);
	if (err) {
		CHECK_FAIL(what, "no DWARF in '%s': %s", path, strerror(-err));
		goto cleanup;
	}
	for (size_t i = 0; i < ga_dwarf_nfuncs(d); i++) {
		const struct ga_func *f;
		char why[256], sym[1024];
		uint64_t addr = 0;
		unsigned flags;
		struct gosym_func gf;
		struct ga_arginfo ai;
		bool is_abi0, is_asm, have_ai;
		int n;

		if (ga_dwarf_func_at(d, i, &f))
			continue;
		t->funcs++;
		if (f->nparams > cap) {
			cap = f->nparams * 2;
			free(locs);
			locs = malloc(cap * sizeof(*locs));
			if (!locs) {
				CHECK_FAIL(what, "out of memory");
				goto cleanup;
			}
		}
		/* the symbol table (these builds have one) is the truth for
		 * ABI0; resolve works without it where DWARF can tell */
		snprintf(sym, sizeof(sym), "%s.abi0", f->name);
		is_abi0 = !gosym_symbol(gs, sym, &addr, NULL) && addr == f->lowpc;
		is_asm = !gosym_lookup_pc(gs, f->lowpc, &gf) && (gf.flag & GOSYM_FLAG_ASM);
		have_ai = ga_arginfo_of(gs, &abi, f->lowpc, &ai);
		t->with_arginfo += have_ai;
		n = ga_abi_resolve(&abi, f, is_asm || abi.dwarf_spill_at_entry ? is_abi0 : -1,
				   have_ai ? &ai : NULL, locs, NULL, &flags, why, sizeof(why));
		if (n == -EOPNOTSUPP) {
			t->unknown++;
			continue;
		}
		if (n == -ENODATA) {
			t->unconfirmed++;
			continue;
		}
		t->assigned++;
		if (!strcmp(f->name, "main.argBlank")) {
			/* DWARF lists blank parameters from Go 1.22 on; before,
			 * the rules can't place x and the DWARF of x says so */
			t->blank_seen++;
			if (n < 0) {
				t->blank_rejected++;
				continue;
			}
		}
		if (n < 0 && have_ai && dwarf_lacks_args(&abi, f, &ai)) {
			/* the traceback layout has arguments DWARF doesn't list
			 * (blank or unused ones before Go 1.22; assembly): the
			 * function is rightly refused */
			t->dwarf_incomplete++;
			continue;
		}
		if (n < 0) {
			if (t->mismatches++ < 10)
				CHECK_FAIL(what, "%s: %s", f->name, why);
			continue;
		}
		if (!!(flags & GA_ABI0) != is_abi0) {
			if (t->mismatches++ < 10)
				CHECK_FAIL(what, "%s: %s, but the symbol table %s %s", f->name,
					   flags & GA_ABI0 ? "taken for ABI0" : "taken for ABIInternal",
					   is_abi0 ? "has" : "has no", sym);
			continue;
		}
		t->abi0 += is_abi0;
		t->recv += !!(flags & GA_IMPLICIT_RECV);
		n = ga_abi_check(&abi, f, locs, why, sizeof(why));
		if (n > 0) {
			t->funcs_checked++;
			t->params_checked += n;
			t->dict_funcs += f->shape_dict;
			t->methods += f->method;
			for (uint32_t k = 0; k < f->nparams; k++)
				if (f->params[k].npieces) {
					t->stack_params += locs[k].stack;
					t->reg_params += !locs[k].stack;
				}
		}
	}
cleanup:
	free(locs);
	ga_dwarf_free(d);
	gosym_free(gs);
}

static void test_manifest(void)
{
	json_error_t jerr;
	json_t *m = json_load_file("build/testprogs/manifest.json", 0, &jerr), *b;
	size_t i, nbins = 0;
	struct tally regabi = { 0 }, stackabi = { 0 };

	if (!m) {
		CHECK_SKIP("dwarf_crosscheck", "no build/testprogs/manifest.json (make testprogs)");
		return;
	}
	json_array_foreach(m, i, b) {
		const char *variant = json_string_value(json_object_get(b, "variant"));
		const char *path = json_string_value(json_object_get(b, "path"));
		const char *go = json_string_value(json_object_get(b, "go"));
		const char *arch = json_string_value(json_object_get(b, "goarch"));
		const char *prog = json_string_value(json_object_get(b, "prog"));
		char what[256];
		int minor;

		if (!variant || !path || !go || !arch || !prog ||
		    (strcmp(variant, "default") && strcmp(variant, "arm64")))
			continue;
		if (strcmp(prog, "args") && strcmp(prog, "goroutines"))
			continue;	/* two programs cover the standard library */
		if (strcmp(arch, "amd64") && strcmp(arch, "arm64"))
			continue;
		minor = atoi(go + 4);	/* "go1.NN..." */
		snprintf(what, sizeof(what), "dwarf_crosscheck %s %s/%s", go, variant, prog);
		{
			struct tally *t = minor >= 17 && (minor >= 18 || !strcmp(arch, "amd64")) ?
						  &regabi : &stackabi;
			size_t seen = t->blank_seen, rej = t->blank_rejected;

			check_binary(path, what, t);
			/* testprogs/args' argBlank(_ int, x int, _ string) */
			if (t->blank_seen > seen && minor >= 17 &&
			    !ASSERT_EQ(what, t->blank_rejected - rej, minor < 22 ? 1 : 0))
				t->mismatches++;
		}
		nbins++;
	}
	json_decref(m);
	if (!nbins) {
		CHECK_SKIP("dwarf_crosscheck", "no default build of testprogs/args or goroutines");
		return;
	}
	printf("  register ABI: %zu functions, %zu assigned, %zu checked (%zu params: %zu in "
	       "registers, %zu on the stack; %zu methods, %zu shape functions, %zu ABI0 wrappers), "
	       "%zu mismatches, %zu with unknown types\n",
	       regabi.funcs, regabi.assigned, regabi.funcs_checked, regabi.params_checked,
	       regabi.reg_params, regabi.stack_params, regabi.methods, regabi.dict_funcs,
	       regabi.abi0, regabi.mismatches, regabi.unknown);
	printf("  traceback argument layouts compared: %zu functions; %zu refused because "
	       "the layout has arguments DWARF doesn't list\n", regabi.with_arginfo,
	       regabi.dwarf_incomplete);
	printf("  stack ABI: %zu functions, %zu checked (%zu params), %zu mismatches\n",
	       stackabi.funcs, stackabi.funcs_checked, stackabi.params_checked,
	       stackabi.mismatches);
	if (ASSERT_EQ("dwarf_crosscheck regabi", regabi.mismatches, 0) &&
	    ASSERT_TRUE("dwarf_crosscheck regabi", regabi.params_checked > 1000) &&
	    ASSERT_TRUE("dwarf_crosscheck regabi", regabi.stack_params > 10) &&
	    ASSERT_TRUE("dwarf_crosscheck regabi", regabi.dict_funcs > 10))
		CHECK_PASS("dwarf_crosscheck regabi");
	if (!stackabi.funcs)
		CHECK_SKIP("dwarf_crosscheck stackabi", "no Go 1.15/1.16 build");
	else if (ASSERT_EQ("dwarf_crosscheck stackabi", stackabi.mismatches, 0) &&
		 ASSERT_TRUE("dwarf_crosscheck stackabi", stackabi.params_checked > 1000))
		CHECK_PASS("dwarf_crosscheck stackabi");
}

/* --- hand-made signatures ------------------------------------------------ */

static const struct ga_type t_u8 = { .kind = GA_UINT, .name = "uint8", .size = 1, .align = 1 };
static const struct ga_type t_uptr = { .kind = GA_UINTPTR, .name = "uintptr", .size = 8, .align = 8 };
static const struct ga_type t_f64 = { .kind = GA_FLOAT, .name = "float64", .size = 8, .align = 8 };
static const struct ga_type t_str = { .kind = GA_STRING, .name = "string", .size = 16, .align = 8 };
static const struct ga_type t_arr2 = { .kind = GA_ARRAY, .name = "[2]uintptr", .size = 16,
				       .align = 8, .elem = &t_uptr, .count = 2 };
static const struct ga_field r1_fields[] = { { "x", 0, &t_uptr }, { "y", 8, &t_arr2 } };
static const struct ga_type t_r1 = { .kind = GA_STRUCT, .name = "struct{...}", .size = 24,
				     .align = 8, .fields = r1_fields, .nfields = 2 };

static struct gosym_abi amd64_abi(bool regabi)
{
	static const char *const ir[] = { "RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11" };
	static const int idw[] = { 0, 3, 2, 5, 4, 8, 9, 10, 11 };

	return (struct gosym_abi){ .regabi = regabi, .nint = regabi ? 9 : 0, .nfloat = regabi ? 15 : 0,
				   .int_regs = ir, .int_dwarf = idw, .ptr_size = 8, .stack_args = 8 };
}

/* abi-internal.md's example: f(a1 uint8, a2 [2]uintptr, a3 uint8)
 * (r1 struct{x uintptr; y [2]uintptr}, r2 string) */
static void test_doc_example(void)
{
	struct ga_param ps[] = {
		{ .name = "a1", .type = &t_u8 }, { .name = "a2", .type = &t_arr2 },
		{ .name = "a3", .type = &t_u8 }, { .name = "r1", .type = &t_r1, .result = true },
		{ .name = "r2", .type = &t_str, .result = true },
	};
	struct ga_func f = { .name = "main.f", .params = ps, .nparams = 5 };
	struct gosym_abi abi = amd64_abi(true);
	struct ga_loc l[5];
	const char *n = "doc_example";

	if (!ASSERT_EQ(n, ga_abi_assign(&abi, &f, 0, l, NULL), 0))
		return;
	if (ASSERT_TRUE(n, !l[0].stack && l[0].npieces == 1 && l[0].pieces[0].reg == 0) &&
	    ASSERT_TRUE(n, l[1].stack && l[1].stack_off == 0) &&
	    ASSERT_TRUE(n, !l[2].stack && l[2].npieces == 1 && l[2].pieces[0].reg == 1) &&
	    ASSERT_TRUE(n, l[3].stack && l[3].stack_off == 16) &&
	    ASSERT_TRUE(n, !l[4].stack && l[4].npieces == 2 && l[4].pieces[0].reg == 0 &&
			       l[4].pieces[1].reg == 1 && l[4].pieces[1].off == 8))
		CHECK_PASS(n);
}

/* Ten ints: the tenth on the stack; a float in X0 does not take an
 * integer register; the stack ABI puts everything in order. */
static void test_overflow(void)
{
	struct ga_param ps[12];
	struct ga_func f = { .name = "main.g", .params = ps, .nparams = 12 };
	struct gosym_abi abi = amd64_abi(true), abi0 = amd64_abi(false);
	struct ga_loc l[12];
	const char *n = "overflow";

	for (int i = 0; i < 10; i++)
		ps[i] = (struct ga_param){ .name = "i", .type = &t_uptr };
	ps[10] = (struct ga_param){ .name = "x", .type = &t_f64 };
	ps[11] = (struct ga_param){ .name = "r", .type = &t_uptr, .result = true };
	if (!ASSERT_EQ(n, ga_abi_assign(&abi, &f, 0, l, NULL), 0))
		return;
	if (!ASSERT_TRUE(n, !l[8].stack && l[8].pieces[0].reg == 8) ||
	    !ASSERT_TRUE(n, l[9].stack && l[9].stack_off == 0) ||
	    !ASSERT_TRUE(n, !l[10].stack && l[10].pieces[0].where == GA_IN_FLOAT &&
				l[10].pieces[0].reg == 0) ||
	    !ASSERT_TRUE(n, !l[11].stack && l[11].pieces[0].reg == 0))
		return;
	if (!ASSERT_EQ(n, ga_abi_assign(&abi0, &f, 0, l, NULL), 0))
		return;
	if (ASSERT_TRUE(n, l[9].stack && l[9].stack_off == 72) &&
	    ASSERT_TRUE(n, l[10].stack && l[10].stack_off == 80) &&
	    ASSERT_TRUE(n, l[11].stack && l[11].stack_off == 88))
		CHECK_PASS(n);
}

static void test_method_names(void)
{
	static const struct { const char *name; bool method; } cases[] = {
		{ "main.f", false },
		{ "main.(*T).M", true },
		{ "main.T.M", true },
		{ "net/http.(*conn).serve", true },
		{ "net/http.(*conn).serve.func1", false },
		{ "main.f.func1", false },
		{ "main.f.func1.2", false },
		{ "main.init.0", false },
		{ "main.main.gowrap1", false },
		{ "main.(*Box[go.shape.string]).Get", true },
		{ "main.Box[go.shape.string].Get", true },
		{ "main.g[go.shape.int]", false },
		{ "main.g[go.shape.struct { a.b/c.d int }]", false },
		{ "main.g[go.shape.int].func1", false },
		{ "main.T.M-fm", false },
		{ "sync/atomic.(*Pointer[go.shape.struct { internal/godebug.text string }]).Load", true },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ga_name_is_method(cases[i].name) != cases[i].method)
			ok = CHECK_FAIL("method_names", "%s: expected %s", cases[i].name,
					cases[i].method ? "a method" : "not a method");
	if (ok)
		CHECK_PASS("method_names");
}

/* test_args_abi BINARY...: the cross-check on those binaries only. */
static int check_paths(int n, char **paths)
{
	for (int i = 0; i < n; i++) {
		struct tally t = { 0 };

		check_binary(paths[i], paths[i], &t);
		printf("%s: %zu functions, %zu checked (%zu params: %zu registers, %zu stack), "
		       "%zu mismatches, %zu unknown types, %zu shape functions, %zu ABI0, %zu "
		       "receiverless wrappers, %zu blank rejected, %zu unconfirmed, %zu with "
		       "traceback layouts, %zu refused for arguments DWARF lacks\n", paths[i],
		       t.funcs, t.funcs_checked, t.params_checked, t.reg_params, t.stack_params,
		       t.mismatches, t.unknown, t.dict_funcs, t.abi0, t.recv, t.blank_rejected,
		       t.unconfirmed, t.with_arginfo, t.dwarf_incomplete);
	}
	return check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return check_paths(argc - 1, argv + 1);
	test_doc_example();
	test_overflow();
	test_method_names();
	test_manifest();
	return check_failures ? 1 : 0;
}
