// SPDX-License-Identifier: MIT
/*
 * Unit tests of the tracing commands' one option parser
 * (gotrace/tracing/options.c): every shared option's value and error line,
 * the return convention (GT_OPTS_RUN / 0 after --help / 2 after a usage
 * error), where the program to launch starts, patterns with options after
 * them, a command's own option kinds, and the outputs opened before the
 * target.  No root needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gotrace.h"
#include "output/outfile.h"
#include "tracing/options.h"

/* A command like states: every shared option, no patterns. */
struct a_opts {
	struct gt_trace_opts t;
	bool flag;
	long n;
	uint64_t dur;
	const char *str;
	struct gt_strlist list;
	struct gt_outfile *csv;
	int parity;
};

static int parse_parity(const char *v, void *dst)
{
	if (!strcmp(v, "even") || !strcmp(v, "odd")) {
		*(int *)dst = v[0] == 'o';
		return 0;
	}
	return -EINVAL;
}

static char errtext[4096];

/* Parse a NULL-terminated word list (words[0] is the command) with the
 * shared set `common`; stderr is kept in errtext. */
static int parse(unsigned common, struct a_opts *o, char **words)
{
	const struct gt_opt own[] = {
		{ "flag", 'F', GT_OPT_FLAG, &o->flag },
		{ "n", 0, GT_OPT_UINT, &o->n, "a number from 1 to 10", 1, 10 },
		{ "min", 0, GT_OPT_DURATION, &o->dur },
		{ "str", 0, GT_OPT_STRING, &o->str },
		{ "exclude", 'x', GT_OPT_LIST, &o->list },
		{ "csv", 0, GT_OPT_OUTPUT, &o->csv },
		{ "parity", 0, GT_OPT_FUNC, &o->parity, "even or odd", .parse = parse_parity },
		{ 0 }
	};
	const struct gt_cmd cmd = { "cmd", "USAGE\n", "SHORT USAGE\n", common, own };
	int argc = 0, saved, fd, r;
	ssize_t n;

	while (words[argc])
		argc++;
	memset(o, 0, sizeof(*o));
	fflush(stderr);
	saved = dup(2);
	fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	dup2(fd, 2);
	r = gt_opts_parse(&cmd, argc, words, &o->t);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errtext, sizeof(errtext) - 1, 0);
	errtext[n > 0 ? n : 0] = 0;
	close(fd);
	return r;
}

static void release(struct a_opts *o)
{
	gt_trace_opts_release(&o->t);
	free(o->list.v);
	gt_quiet = false;
}

#define W(...) ((char *[]){ "cmd", __VA_ARGS__, NULL })

static void test_shared_values(void)
{
	const char *name = "shared-values";
	struct a_opts o;
	bool ok = true;

	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "123", "-d", "2s", "--goid", "1,18",
						    "-o", "x", "--format", "jsonl", "--json-gz", "t",
						    "--speedscope", "s", "--stack", "--stack-size", "8k",
						    "--unwind", "fp", "--buffer-size", "1G", "--attach",
						    "single", "-q")),
			GT_OPTS_RUN);
	ok &= ASSERT_EQ(name, o.t.pid, 123);
	ok &= ASSERT_EQ(name, o.t.duration_ns, 2000000000ULL);
	ok &= ASSERT_TRUE(name, o.t.ngoids == 2 && o.t.goids[0] == 1 && o.t.goids[1] == 18);
	ok &= ASSERT_STREQ(name, o.t.output, "x");
	ok &= ASSERT_TRUE(name, o.t.jsonl && o.t.json_gz && !strcmp(o.t.json, "t"));
	ok &= ASSERT_STREQ(name, o.t.speedscope, "s");
	ok &= ASSERT_TRUE(name, o.t.stack && o.t.stack_size == 8192 && o.t.unwind == GT_UNWIND_FP);
	ok &= ASSERT_EQ(name, o.t.buffer_size, 1u << 30);
	ok &= ASSERT_EQ(name, o.t.attach, GT_ATTACH_SINGLE);
	ok &= ASSERT_TRUE(name, gt_quiet && !o.t.argv);
	ok &= ASSERT_EQ(name, o.t.noutputs, 3);	/* -o, --json-gz, --speedscope */
	release(&o);
	/* defaults */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1")), GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.stack_size == GT_STACK_DEFAULT && o.t.attach == GT_ATTACH_AUTO &&
			  !o.t.jsonl && !o.t.buffer_size && !o.t.duration_ns && !o.t.goids);
	ok &= ASSERT_TRUE(name, o.t.noutputs == 1 && !strcmp(o.t.outputs[0].path, "-"));
	release(&o);
	/* the equivalent spellings */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("--pid=7", "--duration=500ms", "--format=json",
						    "--buffer-size", "1024M", "--goid", "5",
						    "--goid", "6")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.pid == 7 && o.t.duration_ns == 500000000 && o.t.jsonl &&
			  o.t.buffer_size == 1u << 30 && o.t.ngoids == 2 && o.t.goids[1] == 6);
	release(&o);
	if (ok)
		CHECK_PASS(name);
}

/* Each bad value: exit 2 and one line naming the option and the value. */
static void test_bad_values(void)
{
	static const struct {
		char *opt, *value, *says;
	} bad[] = {
		{ "-p", "0", "invalid --pid '0' (a process id)" },
		{ "-p", "abc", "invalid --pid 'abc'" },
		{ "-p", "99999999999", "invalid --pid" },
		{ "-d", "0", "invalid --duration '0' (e.g. 10, 500ms, 2s, 1m)" },
		{ "-d", "3x", "invalid --duration '3x'" },
		{ "--goid", "0", "invalid --goid '0' (goroutine ids from 1, comma-separated)" },
		{ "--goid", "1,x", "invalid --goid '1,x'" },
		{ "--goid", ",", "invalid --goid ','" },
		{ "--goid", "-3", "invalid --goid '-3'" },
		{ "--format", "xml", "invalid --format 'xml' (text or jsonl)" },
		{ "--buffer-size", "3K", "invalid --buffer-size '3K' (a power of two from 4K to 1G)" },
		{ "--buffer-size", "2G", "invalid --buffer-size '2G'" },
		{ "--buffer-size", "2K", "invalid --buffer-size '2K'" },
		{ "--attach", "foo", "invalid --attach 'foo' (auto, multi or single)" },
		{ "--stack-size", "7", "invalid --stack-size '7'" },
		{ "--unwind", "x", "invalid --unwind 'x' (auto, dwarf, pclntab or fp)" },
		{ "--n", "11", "invalid --n '11' (a number from 1 to 10)" },
		{ "--n", "1x", "invalid --n '1x'" },
		{ "--min", "soon", "invalid --min 'soon'" },
		{ "--parity", "prime", "invalid --parity 'prime' (even or odd)" },
	};
	const char *name = "bad-values-one-line";
	struct a_opts o;
	bool ok = true;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(GT_OPTS_ALL, &o, W("-p", "1", bad[i].opt, bad[i].value));

		ok &= ASSERT_EQ(bad[i].says, r, EXIT_USAGE);
		ok &= ASSERT_TRUE(bad[i].says, !strncmp(errtext, "gotrace: cmd: ", 14) &&
				  strstr(errtext, bad[i].says) &&
				  strchr(errtext, '\n') == errtext + strlen(errtext) - 1);
		release(&o);
	}
	if (ok)
		CHECK_PASS(name);
}

/* Command lines of the wrong shape: exit 2, the error, the short usage. */
static void test_shapes(void)
{
	const struct {
		unsigned common;
		char **words;
		const char *says;
	} bad[] = {
		{ GT_OPTS_ALL, W("--frob"), "unknown option '--frob'" },
		{ GT_OPTS_ALL, W("-Z"), "unknown option '-Z'" },
		{ GT_OPTS_ALL, W("-p"), "option '-p' needs a value" },
		{ GT_OPTS_ALL, W("-p", "1", "--json"), "option '--json' needs a value" },
		{ GT_OPTS_ALL, W("-q"), "give -p PID or a program to launch" },
		{ GT_OPTS_ALL, W("-q", "--"), "no program after '--'" },
		{ GT_OPTS_ALL, W("-p", "5", "-d", "1s", "extra"),
		  "-p PID and a program to launch ('extra') are exclusive" },
		{ GT_OPTS_ALL, W("-p", "5", "--", "prog"), "are exclusive" },
		{ GT_OPTS_PID, W("-p", "1", "prog"), "unexpected argument 'prog'" },
		{ GT_OPTS_PID, W("-p", "1", "--stack"), "unknown option '--stack'" },
		{ GT_OPTS_ALL | GT_OPTS_PATTERNS, W("-p", "1"), "no function pattern" },
		{ GT_OPTS_ALL | GT_OPTS_PATTERNS, W("main.*"), "give -p PID or a program" },
	};
	const char *name = "usage-errors";
	struct a_opts o;
	bool ok = true;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok &= ASSERT_EQ(bad[i].says, parse(bad[i].common, &o, bad[i].words), EXIT_USAGE);
		ok &= ASSERT_TRUE(bad[i].says, strstr(errtext, bad[i].says) &&
				  strstr(errtext, "SHORT USAGE"));
		release(&o);
	}
	/* options that do not go together: one line, no usage */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "--json", "a", "--json-gz", "b")),
			EXIT_USAGE);
	ok &= ASSERT_STREQ(name, errtext, "gotrace: cmd: give one of --json and --json-gz, once\n");
	release(&o);
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "--speedscope", "s")), EXIT_USAGE);
	ok &= ASSERT_STREQ(name, errtext, "gotrace: cmd: --speedscope needs --json FILE\n");
	release(&o);
	/* --help: the usage on stdout, nothing on stderr */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "--help")), 0);
	ok &= ASSERT_STREQ(name, errtext, "");
	release(&o);
	if (ok)
		CHECK_PASS(name);
}

static void test_launch(void)
{
	const char *name = "launch-program-words";
	struct a_opts o;
	bool ok = true;

	/* the program's own options are its own */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-q", "--", "prog", "-p", "3", "--json")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.argv && !strcmp(o.t.argv[0], "prog") &&
			  !strcmp(o.t.argv[1], "-p") && !o.t.pid && !o.t.json);
	release(&o);
	/* without "--": the first word starts the program */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-d", "1s", "./bin", "-d", "9s", "x")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.argv && !strcmp(o.t.argv[0], "./bin") &&
			  o.t.duration_ns == 1000000000ULL && !strcmp(o.t.argv[3], "x"));
	release(&o);
	/* own options of every kind */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-F", "--n", "10", "--min", "1ms", "--str",
						    "s", "-x", "a", "--exclude", "b", "--csv",
						    "c.csv", "--parity", "odd", "-p", "1")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.flag && o.n == 10 && o.dur == 1000000 && !strcmp(o.str, "s") &&
			  o.parity == 1);
	ok &= ASSERT_TRUE(name, o.list.n == 2 && !strcmp(o.list.v[1], "b"));
	ok &= ASSERT_TRUE(name, o.t.noutputs == 2 && !strcmp(o.t.outputs[1].path, "c.csv"));
	release(&o);
	if (ok)
		CHECK_PASS(name);
}

/* Patterns (funcgraph): options after them, the program after the first
 * one without -p or "--". */
static void test_patterns(void)
{
	const char *name = "patterns-and-options-after-them";
	const unsigned fg = GT_OPTS_ALL | GT_OPTS_PATTERNS;
	struct a_opts o;
	bool ok = true;

	ok &= ASSERT_EQ(name, parse(fg, &o, W("-p", "5", "main.*", "-d", "2s", "net.*")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.npatterns == 2 && !strcmp(o.t.patterns[1], "net.*") &&
			  o.t.duration_ns == 2000000000ULL && !o.t.argv);
	release(&o);
	ok &= ASSERT_EQ(name, parse(fg, &o, W("main.*", "-d", "2s", "./bin", "-d", "5")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.npatterns == 1 && o.t.duration_ns == 2000000000ULL &&
			  o.t.argv && !strcmp(o.t.argv[0], "./bin") && !strcmp(o.t.argv[1], "-d"));
	release(&o);
	ok &= ASSERT_EQ(name, parse(fg, &o, W("a", "-x", "c", "b", "--json", "t", "--", "bin", "-v")),
			GT_OPTS_RUN);
	ok &= ASSERT_TRUE(name, o.t.npatterns == 2 && !strcmp(o.t.patterns[1], "b") &&
			  o.list.n == 1 && o.t.json && o.t.argv && !strcmp(o.t.argv[1], "-v"));
	release(&o);
	if (ok)
		CHECK_PASS(name);
}

static void test_outputs(void)
{
	const char *name = "outputs-opened-before-target";
	char dir[] = "/tmp/test_options.XXXXXX", a[256], b[256];
	struct a_opts o;
	bool ok = true;

	if (!mkdtemp(dir))
		return;
	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "-o", a, "--json", b, "--csv", a)),
			GT_OPTS_RUN);
	ok &= ASSERT_EQ(name, gt_opts_open_outputs(&o.t), 1);	/* a twice */
	release(&o);
	/* a stream may be shared */
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "-o", "/dev/null", "--json",
						    "/dev/null")), GT_OPTS_RUN);
	ok &= ASSERT_EQ(name, gt_opts_open_outputs(&o.t), 0);
	release(&o);
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "-o", a, "--json", b)), GT_OPTS_RUN);
	ok &= ASSERT_EQ(name, gt_opts_open_outputs(&o.t), 0);
	ok &= ASSERT_TRUE(name, o.t.out && o.t.json_file && !o.t.speedscope_file && !o.csv);
	release(&o);
	ok &= ASSERT_TRUE(name, !o.t.out && !o.t.json_file);
	/* released unused: nothing was created */
	ok &= ASSERT_TRUE(name, access(a, F_OK) && access(b, F_OK));
	ok &= ASSERT_EQ(name, parse(GT_OPTS_ALL, &o, W("-p", "1", "--csv", dir)), GT_OPTS_RUN);
	ok &= ASSERT_EQ(name, gt_opts_open_outputs(&o.t), 1);	/* a directory */
	release(&o);
	rmdir(dir);
	if (ok)
		CHECK_PASS(name);
}

int main(void)
{
	test_shared_values();
	test_bad_values();
	test_shapes();
	test_launch();
	test_patterns();
	test_outputs();
	return check_failures ? 1 : 0;
}
