// SPDX-License-Identifier: MIT
/*
 * libgosym unit tests: glob matching, error codes on bad input; over every
 * testprog build in the manifest, the lookup invariants (name -> function
 * -> same entry; PC -> containing function; frames end with the physical
 * function); and gosym_go_facts() against independent truths: the
 * binary's own DWARF (where casgstatus takes its arguments) and the
 * runtime sources of the toolchain that built it (runtime/proc.go;
 * scripts/toolchains.sh finds them; a toolchain not on the machine is a
 * SKIP).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gosym.h"

static void test_glob(void)
{
	static const struct { const char *pat, *name; bool want; } cases[] = {
		{ "main.*", "main.main", true },
		{ "main.*", "main.(*T).Get", true },
		{ "main.*", "mainx.f", false },
		{ "net/http.(*Server).*", "net/http.(*Server).Serve", true },
		{ "net/http.(*Server).*", "net/http.(*Client).Do", false },
		{ "*.rec", "main.rec", true },
		{ "*.rec", "main.record", false },
		{ "main.f?o", "main.foo", true },
		{ "main.[fg]oo", "main.goo", true },
		{ "main.[!f]oo", "main.foo", false },
		{ "main.[a-c]x", "main.bx", true },
		{ "*", "", true },
		{ "a*b*c", "aXXbYYc", true },
		{ "a*b*c", "aXXbYY", false },
		{ "main.[", "main.[", true },
		{ "main.go\\*", "main.go*", true },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (gosym_glob_match(cases[i].pat, cases[i].name) != cases[i].want) {
			CHECK_FAIL("glob", "'%s' vs '%s': expected %d", cases[i].pat, cases[i].name,
				   cases[i].want);
			bad++;
		}
	}
	if (!bad)
		CHECK_PASS("glob");
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd >= 0) {
		if (write(fd, buf, len) != (ssize_t)len)
			perror("write");
		close(fd);
	}
}

static void test_bad_input(void)
{
	char dir[] = "/tmp/gosym-test-XXXXXX", path[256];
	struct gosym *g = (struct gosym *)1;
	static const char text[] = "#!/bin/sh\necho this is not an ELF file at all, just text padding\n";
	unsigned char elf_garbage[256] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	bool ok = true;

	if (!mkdtemp(dir)) {
		CHECK_FAIL("bad_input", "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/missing", dir);
	ok &= ASSERT_EQ("bad_input/missing", gosym_open(path, &g), -ENOENT);
	ok &= ASSERT_TRUE("bad_input/missing-null", g == NULL);
	ok &= ASSERT_TRUE("bad_input/missing-msg", strstr(gosym_errmsg(), "missing") != NULL);
	ok &= ASSERT_EQ("bad_input/dir", gosym_open(dir, &g), -EISDIR);
	snprintf(path, sizeof(path), "%s/text", dir);
	write_file(path, text, sizeof(text));
	ok &= ASSERT_EQ("bad_input/text", gosym_open(path, &g), -ENOEXEC);
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "", 0);
	ok &= ASSERT_EQ("bad_input/empty", gosym_open(path, &g), -ENOEXEC);
	snprintf(path, sizeof(path), "%s/elfgarbage", dir);
	write_file(path, elf_garbage, sizeof(elf_garbage));
	ok &= ASSERT_EQ("bad_input/elf-garbage", gosym_open(path, &g), -ENOEXEC);
	ok &= ASSERT_EQ("bad_input/mem-short", gosym_open_mem(text, 10, &g), -ENOEXEC);
	/* A real ELF that is not Go. */
	ok &= ASSERT_EQ("bad_input/not-go", gosym_open("/bin/true", &g), -ENOEXEC);
	ok &= ASSERT_TRUE("bad_input/not-go-msg", strstr(gosym_errmsg(), "not a Go binary") != NULL);
	gosym_free(NULL);
	if (ok)
		CHECK_PASS("bad_input");
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* gosym_lookup_pc_line(pc) must say what gosym_lookup_pc + gosym_pc_line
 * say (which the oracle test compares with addr2line and debug/gosym). */
static bool one_call_agrees(const struct gosym *g, uint64_t pc, const char *name)
{
	struct gosym_pcinfo pi;
	struct gosym_func f;
	const char *file;
	int line, err = gosym_lookup_pc_line(g, pc, &pi);
	bool has_line;

	if (gosym_lookup_pc(g, pc, &f))
		return err == -ENOENT;
	has_line = !gosym_pc_line(g, pc, &file, &line);
	if (err || pi.index != f.index || strcmp(pi.func, f.name) || pi.entry != f.entry ||
	    pi.end != f.end || pi.flag != f.flag || pi.funcid != f.funcid || pi.special != f.special ||
	    !!pi.file != has_line || (has_line && (strcmp(pi.file, file) || pi.line != line))) {
		CHECK_FAIL(name, "lookup_pc_line(0x%llx) = %d %s %s:%d, two calls: %s %s:%d",
			   (unsigned long long)pc, err, err ? "" : pi.func, err || !pi.file ? "-" : pi.file,
			   err ? 0 : pi.line, f.name, has_line ? file : "-", has_line ? line : 0);
		return false;
	}
	return true;
}

/* Invariants over one real binary. */
static void test_binary(const char *name, const char *path)
{
	struct gosym *g = NULL;
	const struct gosym_info *in;
	size_t bad = 0, checked = 0;
	int err = gosym_open(path, &g);

	if (err) {
		CHECK_FAIL(name, "gosym_open: %s", gosym_errmsg());
		return;
	}
	in = gosym_info(g);
	if (!ASSERT_TRUE(name, in->nfuncs > 100))
		goto out;
	for (size_t i = 0; i < in->nfuncs; i++) {
		struct gosym_func f, byname, bypc, mid;
		struct gosym_frame fr[16];
		int n;

		if (gosym_func_at(g, i, &f)) {
			bad++;
			continue;
		}
		checked++;
		if (f.end < f.entry || (i && f.entry == 0)) {
			if (bad++ < 3)
				CHECK_FAIL(name, "function %zu '%s' has bounds 0x%llx-0x%llx", i, f.name,
					   (unsigned long long)f.entry, (unsigned long long)f.end);
			continue;
		}
		/* Names repeat only for compiler-generated duplicates; the
		 * lookup must return a function with that name. */
		if (gosym_lookup_name(g, f.name, &byname) || strcmp(byname.name, f.name)) {
			if (bad++ < 3)
				CHECK_FAIL(name, "lookup_name('%s') failed", f.name);
		}
		if (f.end > f.entry) {
			uint64_t pc = f.entry + (f.end - f.entry) / 2;

			if (gosym_lookup_pc(g, f.entry, &bypc) || bypc.index != i ||
			    gosym_lookup_pc(g, pc, &mid) || mid.index != i) {
				if (bad++ < 3)
					CHECK_FAIL(name, "lookup_pc inside '%s' found another function", f.name);
			}
			/* Entry, middle, last byte; twice each (the second
			 * from the result cache). */
			for (int pass = 0; pass < 2; pass++)
				if (!one_call_agrees(g, f.entry, name) || !one_call_agrees(g, pc, name) ||
				    !one_call_agrees(g, f.end - 1, name))
					bad++;
			n = gosym_pc_frames(g, f.entry, fr, 16);
			if (n < 1 || (n <= 16 && strcmp(fr[n - 1].func, f.name))) {
				if (bad++ < 3)
					CHECK_FAIL(name, "frames at entry of '%s' end in '%s'", f.name,
						   n >= 1 && n <= 16 ? fr[n - 1].func : "?");
			}
		}
	}
	/* And once more without the result cache. */
	gosym_set_pc_cache(g, false);
	for (size_t i = 0; i < in->nfuncs && bad < 3; i++) {
		struct gosym_func f;

		if (!gosym_func_at(g, i, &f) && f.end > f.entry &&
		    (!one_call_agrees(g, f.entry, name) || !one_call_agrees(g, f.end - 1, name)))
			bad++;
	}
	gosym_set_pc_cache(g, true);
	struct gosym_func main_main, x;

	ASSERT_EQ(name, gosym_lookup_name(g, "main.main", &main_main), 0);
	ASSERT_EQ(name, gosym_lookup_name(g, "main.no_such_function", &x), -ENOENT);
	ASSERT_EQ(name, gosym_lookup_pc(g, in->text_end + 0x100000, &x), -ENOENT);
	/* Specials are found by name at open; check them against the names. */
	if (!gosym_lookup_name(g, "runtime.goexit", &x))
		ASSERT_EQ(name, x.special, GOSYM_FN_GOEXIT);
	if (!gosym_lookup_name(g, "runtime.morestack", &x))
		ASSERT_EQ(name, x.special, GOSYM_FN_MORESTACK);
	ASSERT_EQ(name, main_main.special, GOSYM_FN_NORMAL);
	if (!bad && checked == in->nfuncs)
		CHECK_PASS(name);
out:
	gosym_free(g);
}

/* Concurrent lookups on one handle (gosym.h allows them; the slice indexes
 * and the result cache are filled lazily): 4 threads look up the same PCs
 * in different orders on a fresh handle, and every answer must equal the
 * one a single thread got from another handle with the cache off. */
#define TH_PCS 20000
#define TH_THREADS 4

struct th_want {
	uint64_t pc;
	int err, nframes;
	struct gosym_pcinfo pi;
	const char *frame0_func, *frame0_file;
	int frame0_line;
};

struct th_arg {
	const struct gosym *g;
	const struct th_want *want;
	int nwant, seed;
	long bad;
};

static bool th_same(const struct th_want *w, int err, const struct gosym_pcinfo *pi)
{
	if (err != w->err)
		return false;
	if (err)
		return true;
	/* Strings point into the same mapping offsets of two handles of the
	 * same file: compare contents. */
	return !strcmp(pi->func, w->pi.func) && pi->entry == w->pi.entry && pi->end == w->pi.end &&
	       !!pi->file == !!w->pi.file && (!pi->file || !strcmp(pi->file, w->pi.file)) &&
	       pi->line == w->pi.line && pi->special == w->pi.special;
}

static void *th_run(void *p)
{
	struct th_arg *a = p;
	unsigned int seed = a->seed;

	for (int round = 0; round < 3; round++)
		for (int i = 0; i < a->nwant; i++) {
			const struct th_want *w = &a->want[rand_r(&seed) % a->nwant];
			struct gosym_pcinfo pi;
			struct gosym_frame fr[16];
			int err = gosym_lookup_pc_line(a->g, w->pc, &pi);
			int n = gosym_pc_frames(a->g, w->pc, fr, 16);

			if (!th_same(w, err, &pi) || n != w->nframes ||
			    (n > 0 && (strcmp(fr[0].func, w->frame0_func) ||
				       strcmp(fr[0].file, w->frame0_file) || fr[0].line != w->frame0_line)))
				a->bad++;
		}
	return NULL;
}

static void test_threads(const char *path)
{
	struct gosym *ref = NULL, *g = NULL;
	struct th_want *want = calloc(TH_PCS, sizeof(*want));
	struct th_arg args[TH_THREADS];
	pthread_t th[TH_THREADS];
	long bad = 0;

	if (gosym_open(path, &ref) || gosym_open(path, &g)) {
		CHECK_FAIL("threads", "gosym_open(%s): %s", path, gosym_errmsg());
		goto out;
	}
	gosym_set_pc_cache(ref, false);
	const struct gosym_info *in = gosym_info(ref);
	unsigned int seed = 7;

	for (int i = 0; i < TH_PCS; i++) {
		struct th_want *w = &want[i];
		struct gosym_frame fr[16];

		w->pc = in->text_start + ((uint64_t)rand_r(&seed) * RAND_MAX + rand_r(&seed)) %
						 (in->text_end - in->text_start);
		w->err = gosym_lookup_pc_line(ref, w->pc, &w->pi);
		w->nframes = gosym_pc_frames(ref, w->pc, fr, 16);
		if (w->nframes > 0) {
			w->frame0_func = fr[0].func;
			w->frame0_file = fr[0].file;
			w->frame0_line = fr[0].line;
		}
	}
	for (int t = 0; t < TH_THREADS; t++) {
		args[t] = (struct th_arg){ g, want, TH_PCS, t + 1, 0 };
		pthread_create(&th[t], NULL, th_run, &args[t]);
	}
	for (int t = 0; t < TH_THREADS; t++) {
		pthread_join(th[t], NULL);
		bad += args[t].bad;
	}
	if (bad)
		CHECK_FAIL("threads", "%ld of %d concurrent lookups differ from a single thread's",
			   bad, 3 * TH_THREADS * TH_PCS);
	else
		CHECK_PASS("threads");
out:
	gosym_free(ref);
	gosym_free(g);
	free(want);
}

/* ---- gosym_go_facts() against the toolchain and the DWARF ---- */

#define MAX_TOOLCHAINS 32

static struct { char version[32]; char goroot[512]; } toolchains[MAX_TOOLCHAINS];
static int ntoolchains = -1;

/* GOROOT of the toolchain named gv ("go1.22.12"), from scripts/toolchains.sh
 * (no fetching); NULL if it is not on this machine. */
static const char *goroot_of(const char *gv)
{
	if (ntoolchains < 0) {
		FILE *p = popen("GOTRACE_TOOLCHAINS=offline bash scripts/toolchains.sh 2>/dev/null", "r");
		char line[1024];

		ntoolchains = 0;
		while (p && fgets(line, sizeof(line), p) && ntoolchains < MAX_TOOLCHAINS) {
			char *tab = strchr(line, '\t'), *end;

			if (!tab)
				continue;
			*tab++ = '\0';
			tab[strcspn(tab, "\n")] = '\0';
			/* .../bin/go -> ... */
			for (int k = 0; k < 2 && (end = strrchr(tab, '/')); k++)
				*end = '\0';
			snprintf(toolchains[ntoolchains].version, sizeof(toolchains[0].version), "%.31s",
				 line);
			snprintf(toolchains[ntoolchains].goroot, sizeof(toolchains[0].goroot), "%.511s",
				 tab);
			ntoolchains++;
		}
		if (p)
			pclose(p);
	}
	for (int i = 0; i < ntoolchains; i++)
		if (!strcmp(toolchains[i].version, gv))
			return toolchains[i].goroot;
	return NULL;
}

/* Where needle is in the body of `func NAME(` of a Go source text (from
 * its head to the next line that is a lone "}"): its offset in src, or -1
 * if either is absent. */
static long in_go_func(const char *src, const char *name, const char *needle)
{
	char head[128];
	const char *b, *e, *hit;

	snprintf(head, sizeof(head), "\nfunc %s(", name);
	b = strstr(src, head);
	e = b ? strstr(b, "\n}\n") : NULL;
	hit = e ? memmem(b, e - b, needle, strlen(needle)) : NULL;
	return hit ? hit - src : -1;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc(n + 1))) {
		if (fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* From the toolchain's runtime/proc.go: does reentersyscall switch to
 * _Gsyscall by its own CAS (*fastpath), and does newproc1 assign the goid
 * after the casgstatus out of _Gdead (*late)?  -1 if unreadable. */
static int source_facts(const char *goroot, bool *fastpath, bool *late)
{
	char path[600];
	char *src;
	long cas, goid;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/src/runtime/proc.go", goroot);
	src = read_text(path);
	if (!src)
		return -1;
	cas = in_go_func(src, "newproc1", "casgstatus(newg, _Gdead, ");
	goid = in_go_func(src, "newproc1", "newg.goid = ");
	if (cas >= 0 && goid >= 0 && strstr(src, "\nfunc reentersyscall(")) {
		*fastpath = in_go_func(src, "reentersyscall", "CompareAndSwap(_Grunning, _Gsyscall)") >= 0;
		*late = goid > cas;
		ret = 0;
	}
	free(src);
	return ret;
}

/* From the binary's DWARF: where runtime.casgstatus finds its arguments
 * at its entry.  1 in registers (the register ABI: some argument's
 * location there is a register; Go 1.17 describes gp by its spill slot),
 * 0 on the stack, -1 if the DWARF doesn't say (none, or not found). */
static int dwarf_args_in_regs(const char *path)
{
	int fd = open(path, O_RDONLY), ret = -1;
	Dwarf *dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : NULL;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die, param;
	Dwarf_Half version;
	uint8_t unit_type;

	while (dw && ret < 0 && !dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL)) {
		const char *name = dwarf_diename(&cudie);

		if (!name || strcmp(name, "runtime") || dwarf_child(&cudie, &die))
			continue;
		do {
			Dwarf_Attribute attr;
			Dwarf_Addr entry;
			Dwarf_Op *ops;
			size_t nops;

			name = dwarf_diename(&die);
			if (dwarf_tag(&die) != DW_TAG_subprogram || !name ||
			    strcmp(name, "runtime.casgstatus") || dwarf_lowpc(&die, &entry) ||
			    dwarf_child(&die, &param))
				continue;
			do {
				if (dwarf_tag(&param) != DW_TAG_formal_parameter ||
				    !dwarf_attr(&param, DW_AT_location, &attr) ||
				    dwarf_getlocation_addr(&attr, entry, &ops, &nops, 1) != 1 || !nops)
					continue;
				if (ret < 1)
					ret = (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) ||
					      ops[0].atom == DW_OP_regx;
			} while (!dwarf_siblingof(&param, &param));
			break;
		} while (!dwarf_siblingof(&die, &die));
	}
	if (dw)
		dwarf_end(dw);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void test_facts(const char *name, const char *path, const char *gv)
{
	const char *goroot = goroot_of(gv);
	struct gosym_go_facts f;
	const struct gosym_info *in;
	struct gosym *g = NULL;
	bool fastpath, late;
	int regs;

	if (gosym_open(path, &g)) {
		CHECK_FAIL(name, "gosym_open: %s", gosym_errmsg());
		return;
	}
	in = gosym_info(g);
	gosym_go_facts(g, &f);
	if (!ASSERT_TRUE(name, f.version_known) || !ASSERT_TRUE(name, f.supported))
		goto out;
	regs = dwarf_args_in_regs(path);
	if (regs >= 0) {
		if (!ASSERT_EQ(name, f.regabi, regs) ||
		    !ASSERT_EQ(name, f.g_in_register, !strcmp(in->arch, "arm64") || regs))
			goto out;
	} else if (!strstr(name, "stripped")) {
		CHECK_FAIL(name, "no location of runtime.casgstatus's argument in the DWARF");
		goto out;
	}
	if (!goroot || source_facts(goroot, &fastpath, &late)) {
		CHECK_SKIP(name, goroot ? "runtime/proc.go unreadable" : "toolchain not on this machine");
		goto out;
	}
	if (ASSERT_EQ(name, f.syscall_fastpath, fastpath) && ASSERT_EQ(name, f.late_goid, late))
		CHECK_PASS(name);
out:
	gosym_free(g);
}

static void test_manifest(void)
{
	json_error_t jerr;
	json_t *m = json_load_file("build/testprogs/manifest.json", 0, &jerr);
	size_t i, n = 0;
	json_t *b;

	if (!m) {
		CHECK_FAIL("manifest", "cannot read build/testprogs/manifest.json: %s", jerr.text);
		return;
	}
	const char *biggest = NULL;
	off_t biggest_size = 0;

	json_array_foreach(m, i, b) {
		const char *path = json_string_value(json_object_get(b, "path"));
		const char *arch = json_string_value(json_object_get(b, "goarch"));
		char name[256], fname[256];
		struct stat st;

		if (path && arch && !strcmp(arch, "amd64") && !stat(path, &st) && st.st_size > biggest_size) {
			biggest = path;
			biggest_size = st.st_size;
		}

		snprintf(name, sizeof(name), "invariants/%s/%s/%s/%s",
			 json_string_value(json_object_get(b, "go")),
			 json_string_value(json_object_get(b, "variant")),
			 json_string_value(json_object_get(b, "goarch")),
			 json_string_value(json_object_get(b, "prog")));
		if (path) {
			test_binary(name, path);
			snprintf(fname, sizeof(fname), "go-facts%s", strchr(name, '/'));
			test_facts(fname, path, json_string_value(json_object_get(b, "go")));
			n++;
		}
	}
	if (biggest)
		test_threads(biggest);
	json_decref(m);
	if (!n)
		CHECK_FAIL("manifest", "no builds listed");
}

int main(void)
{
	test_glob();
	test_bad_input();
	test_manifest();
	return check_failures ? 1 : 0;
}
