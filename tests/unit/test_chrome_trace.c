// SPDX-License-Identifier: MIT
/*
 * Unit tests of the Chrome Trace Event writer (gotrace/output/chrome_trace.c).
 * Each test writes a trace, reads it back with jansson (through zlib, which
 * reads plain files too) and checks the document against what was put in.
 *
 * It also writes sample-trace.json next to the test binary: synthetic
 * goroutines with states, nested calls, flows and awkward names, which
 * tests/unit/test_trace_viewers.py validates and loads into real viewers.
 */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "output/chrome_trace.h"
#include "output/outfile.h"

static char tmpdir[] = "/tmp/test_chrome_trace.XXXXXX";

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* chrome_trace_open() as the commands call it: the file (and the speedscope
 * file, with sspath) opened by the output-file policy first. */
static int ct_open_ss(struct chrome_trace **ctp, const char *path,
		      const struct chrome_trace_opts *opts, const char *sspath)
{
	struct chrome_trace_opts o = opts ? *opts : (struct chrome_trace_opts){ 0 };
	struct gt_outfile *f = NULL;
	int err;

	*ctp = NULL;
	if (sspath && (err = gt_outfile_open(sspath, &o.speedscope)))
		return err;
	if ((err = gt_outfile_open(path, &f))) {
		gt_outfile_abort(o.speedscope);
		return err;
	}
	return chrome_trace_open(ctp, f, &o);
}

static int ct_open(struct chrome_trace **ctp, const char *path,
		   const struct chrome_trace_opts *opts)
{
	return ct_open_ss(ctp, path, opts, NULL);
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* Read a plain or gzipped file whole (gzread passes plain files through). */
static char *slurp(const char *path, size_t *lenp)
{
	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 16, len = 0;
	char *buf;
	int n;

	if (!gz)
		return NULL;
	buf = malloc(cap);
	while (buf && (n = gzread(gz, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	gzclose(gz);
	if (buf)
		*lenp = len;
	return buf;
}

static json_t *load(const char *name, const char *path)
{
	json_error_t jerr;
	size_t len = 0;
	char *buf = slurp(path, &len);
	json_t *j;

	if (!buf) {
		(void)CHECK_FAIL(name, "cannot read '%s'", path);
		return NULL;
	}
	j = json_loadb(buf, len, 0, &jerr);
	if (!j)
		(void)CHECK_FAIL(name, "'%s' is not JSON: line %d: %s", path, jerr.line, jerr.text);
	free(buf);
	return j;
}

static json_t *events(json_t *doc)
{
	return json_object_get(doc, "traceEvents");
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ts/dur are written as text "<us>.<3 digits>"; jansson parses them as
 * doubles, so compare in integer ns after rounding. */
static long long ns_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_number(v))
		return -1;
	return llround(json_number_value(v) * 1000.0);
}

/* The n-th event with phase ph (and name, if given). */
static json_t *find_ev(json_t *doc, const char *ph, const char *name, int n)
{
	size_t i;
	json_t *e;

	json_array_foreach(events(doc), i, e) {
		if (strcmp(sget(e, "ph") ?: "", ph))
			continue;
		if (name && strcmp(sget(e, "name") ?: "", name))
			continue;
		if (n-- == 0)
			return e;
	}
	return NULL;
}

static int tid_named(json_t *doc, const char *tname)
{
	size_t i;
	json_t *e;

	json_array_foreach(events(doc), i, e) {
		if (!strcmp(sget(e, "ph") ?: "", "M") && !strcmp(sget(e, "name") ?: "", "thread_name") &&
		    !strcmp(sget(json_object_get(e, "args"), "name") ?: "", tname))
			return json_integer_value(json_object_get(e, "tid"));
	}
	return -1;
}

static void test_ns_format(void)
{
	const char *name = "ns_format";
	struct chrome_trace_opts o = { .start_ns = 1000000000ULL };
	struct chrome_trace *ct = NULL;
	char *raw = NULL;
	size_t len;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("ns.json"), &o), 0);
	/* ts 1234.567 us, dur 0.001 us; ts 0.005, dur 1000000.000 */
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 7, CHROME_TRACE_CALLS, 1001234567ULL,
						 1001234568ULL, "a", NULL, NULL, 0), 0);
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 7, CHROME_TRACE_STATES, 1000000005ULL,
						 2000000005ULL, "b", NULL, NULL, 0), 0);
	/* before the origin: clamped to it */
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 8, CHROME_TRACE_STATES, 999999000ULL,
						 1000000010ULL, "c", NULL, NULL, 0), 0);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, NULL), 0);
	raw = slurp(tpath("ns.json"), &len);
	if (!ASSERT_TRUE(name, raw != NULL))
		return;
	raw = realloc(raw, len + 1);
	raw[len] = 0;
	ok &= ASSERT_TRUE(name, strstr(raw, "\"ts\":1234.567,\"dur\":0.001,\"name\":\"a\"") != NULL);
	ok &= ASSERT_TRUE(name, strstr(raw, "\"ts\":0.005,\"dur\":1000000.000,\"name\":\"b\"") != NULL);
	ok &= ASSERT_TRUE(name, strstr(raw, "\"ts\":0.000,\"dur\":0.010,\"name\":\"c\"") != NULL);
	ok &= ASSERT_TRUE(name, strstr(raw, "\"displayTimeUnit\":\"ns\"") != NULL);
	ok &= ASSERT_TRUE(name, strstr(raw, "\"time_origin_ns\":\"1000000000\"") != NULL);
	free(raw);
	if (ok)
		CHECK_PASS(name);
}

/* The origin set after open (what `states` does once tracing began). */
static void test_set_start(void)
{
	const char *name = "set_start";
	struct chrome_trace *ct = NULL;
	char *raw = NULL;
	size_t len;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("start.json"), NULL), 0);
	ok &= ASSERT_EQ(name, chrome_trace_set_start(ct, 5000000ULL), 0);
	ok &= ASSERT_EQ(name, chrome_trace_set_start(NULL, 1), -EINVAL);
	/* the earliest event is 2.5 us after the origin: ts says so */
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 3, CHROME_TRACE_STATES, 5002500ULL, 5003500ULL,
						 "s", NULL, NULL, 0), 0);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, NULL), 0);
	raw = slurp(tpath("start.json"), &len);
	if (!ASSERT_TRUE(name, raw != NULL))
		return;
	raw = realloc(raw, len + 1);
	raw[len] = 0;
	ok &= ASSERT_TRUE(name, strstr(raw, "\"ts\":2.500,\"dur\":1.000,\"name\":\"s\"") != NULL);
	ok &= ASSERT_TRUE(name, strstr(raw, "\"time_origin_ns\":\"5000000\"") != NULL);
	free(raw);
	if (ok)
		CHECK_PASS(name);
}

static void test_escaping(void)
{
	const char *name = "escaping";
	static const char *names[] = {
		"main.(*T).\"quoted\"",
		"back\\slash\\",
		"tab\tnewline\nbell\x07",
		"h\xc3\xa9llo \xe2\x86\x92 \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x90\xb9",
		"/slash</script>",
	};
	struct chrome_trace_arg args[] = { { "k\"ey", "v\\al\"ue" }, { "n", NULL, -42 } };
	struct chrome_trace *ct = NULL;
	json_t *doc = NULL, *e;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("esc.json"), &(struct chrome_trace_opts){
		.binary = "/bin/we\"ird\\name", .command_line = "a \"b\" c\n" }), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 1, CHROME_TRACE_CALLS, 100 + 10 * i,
							 105 + 10 * i, names[i], "c\"at", args, 2), 0);
	/* invalid UTF-8: 0xff, a truncated sequence, an overlong '/' */
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 1, CHROME_TRACE_CALLS, 200, 201,
						 "bad\xff|\xe4\xb8|\xc0\xaf", NULL, NULL, 0), 0);
	ok &= ASSERT_EQ(name, chrome_trace_goroutine(ct, 1, "main.\"start\""), 0);
	ok &= ASSERT_EQ(name, chrome_trace_set_meta(ct, "we\"ird", "va\\lue"), 0);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, NULL), 0);
	doc = load(name, tpath("esc.json"));
	if (!doc)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		e = find_ev(doc, "X", names[i], 0);
		ok &= ASSERT_TRUE(name, e != NULL);
		if (!e)
			continue;
		ok &= ASSERT_STREQ(name, sget(e, "cat"), "c\"at");
		ok &= ASSERT_STREQ(name, sget(json_object_get(e, "args"), "k\"ey"), "v\\al\"ue");
		ok &= ASSERT_EQ(name, json_integer_value(json_object_get(json_object_get(e, "args"), "n")), -42);
		ok &= ASSERT_EQ(name, json_integer_value(json_object_get(json_object_get(e, "args"), "goid")), 1);
	}
	ok &= ASSERT_TRUE(name, find_ev(doc, "X", "bad\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
					     "\xef\xbf\xbd\xef\xbf\xbd", 0) != NULL);
	/* the calls track is named; no state events, so no state track */
	ok &= ASSERT_TRUE(name, tid_named(doc, "G1 calls") > 0);
	ok &= ASSERT_EQ(name, tid_named(doc, "G1 main.\"start\""), -1);
	ok &= ASSERT_STREQ(name, sget(json_object_get(doc, "otherData"), "binary"), "/bin/we\"ird\\name");
	ok &= ASSERT_STREQ(name, sget(json_object_get(doc, "otherData"), "command_line"), "a \"b\" c\n");
	ok &= ASSERT_STREQ(name, sget(json_object_get(doc, "otherData"), "we\"ird"), "va\\lue");
	ok &= ASSERT_STREQ(name, sget(json_object_get(find_ev(doc, "M", "process_name", 0), "args"),
				      "name"), "we\"ird\\name");
	json_decref(doc);
	if (ok)
		CHECK_PASS(name);
}

/* Calls arrive in end order (children first); output must be sorted by
 * (ts asc, dur desc) per track and nest strictly. */
static void test_nesting_order(void)
{
	const char *name = "nesting_order";
	struct chrome_trace *ct = NULL;
	struct chrome_trace_stats st;
	json_t *doc, *e;
	size_t i;
	const char *want[] = { "outer", "same-start", "child1", "child2", "late", "next" };
	size_t n = 0;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("nest.json"), NULL), 0);
	/* outer [1000,2000]: same-start [1000,1500] > child1 [1100,1200];
	 * child2 [1600,1700]; late [1900,2300] outlives outer: clamped to 2000;
	 * next [2000,2100] starts at outer's end: a sibling, not clamped. */
	chrome_trace_slice(ct, 5, CHROME_TRACE_CALLS, 1100, 1200, "child1", NULL, NULL, 0);
	chrome_trace_slice(ct, 5, CHROME_TRACE_CALLS, 1000, 1500, "same-start", NULL, NULL, 0);
	chrome_trace_slice(ct, 5, CHROME_TRACE_CALLS, 1600, 1700, "child2", NULL, NULL, 0);
	chrome_trace_slice(ct, 5, CHROME_TRACE_CALLS, 1900, 2300, "late", NULL, NULL, 0);
	chrome_trace_slice(ct, 5, CHROME_TRACE_CALLS, 1000, 2000, "outer", NULL, NULL, 0);
	chrome_trace_slice(ct, 5, CHROME_TRACE_CALLS, 2000, 2100, "next", NULL, NULL, 0);
	/* another goroutine interleaved: its own track */
	chrome_trace_slice(ct, 3, CHROME_TRACE_CALLS, 1050, 1900, "other", NULL, NULL, 0);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, &st), 0);
	ok &= ASSERT_EQ(name, st.clamped, 1);
	doc = load(name, tpath("nest.json"));
	if (!doc)
		return;
	int tid5 = tid_named(doc, "G5 calls"), tid3 = tid_named(doc, "G3 calls");

	/* tids follow goid order, not arrival order */
	ok &= ASSERT_TRUE(name, tid3 > 0 && tid5 > tid3);
	json_array_foreach(events(doc), i, e) {
		if (strcmp(sget(e, "ph"), "X") || json_integer_value(json_object_get(e, "tid")) != tid5)
			continue;
		if (n < 6)
			ok &= ASSERT_STREQ(name, sget(e, "name"), want[n]);
		if (!strcmp(sget(e, "name"), "late"))
			ok &= ASSERT_EQ(name, ns_of(e, "dur"), 100);
		if (!strcmp(sget(e, "name"), "next"))
			ok &= ASSERT_EQ(name, ns_of(e, "dur"), 100);
		n++;
	}
	ok &= ASSERT_EQ(name, n, 6);
	json_decref(doc);
	if (ok)
		CHECK_PASS(name);
}

static void test_gzip(void)
{
	const char *name = "gzip";
	struct chrome_trace *ct = NULL;
	unsigned char magic[2] = {};
	json_t *doc;
	FILE *f;
	bool ok = true;

	for (int k = 0; k < 2; k++) {
		/* by suffix, then by flag */
		const char *p = k ? tpath("flag.json") : tpath("suffix.json.gz");

		ok &= ASSERT_EQ(name, ct_open(&ct, p, &(struct chrome_trace_opts){ .gzip = k }), 0);
		for (int i = 0; i < 1000; i++)
			chrome_trace_state(ct, 1 + i % 3, 1000 * i, 1000 * i + 500, "waiting", "chan receive");
		ok &= ASSERT_EQ(name, chrome_trace_close(ct, NULL), 0);
		f = fopen(p, "rb");
		ok &= ASSERT_TRUE(name, f && fread(magic, 1, 2, f) == 2);
		if (f)
			fclose(f);
		ok &= ASSERT_TRUE(name, magic[0] == 0x1f && magic[1] == 0x8b);
		doc = load(name, p);
		ok &= ASSERT_TRUE(name, doc != NULL);
		if (doc) {
			ok &= ASSERT_TRUE(name, find_ev(doc, "X", "waiting: chan receive", 999) != NULL);
			ok &= ASSERT_STREQ(name, sget(json_object_get(find_ev(doc, "X", NULL, 0), "args"),
						      "reason"), "chan receive");
		}
		json_decref(doc);
	}
	if (ok)
		CHECK_PASS(name);
}

/* The output file appears only at close, complete; abort leaves nothing. */
static void test_close_paths(void)
{
	const char *name = "close_paths";
	struct chrome_trace *ct = NULL;
	struct chrome_trace_stats st;
	json_t *doc;
	bool ok = true;

	/* empty trace: still a complete document */
	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("empty.json"), NULL), 0);
	ok &= ASSERT_TRUE(name, !exists(tpath("empty.json")));
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, NULL), 0);
	ok &= ASSERT_TRUE(name, exists(tpath("empty.json")));
	doc = load(name, tpath("empty.json"));
	ok &= ASSERT_TRUE(name, doc && json_array_size(events(doc)) == 1 &&
			  !strcmp(sget(doc, "displayTimeUnit") ?: "", "ns") &&
			  json_is_object(json_object_get(doc, "otherData")));
	json_decref(doc);

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("aborted.json"), NULL), 0);
	chrome_trace_state(ct, 1, 10, 20, "running", NULL);
	chrome_trace_abort(ct);
	ok &= ASSERT_TRUE(name, !exists(tpath("aborted.json.tmp")) && !exists(tpath("aborted.json")));
	chrome_trace_abort(NULL);
	ok &= ASSERT_EQ(name, chrome_trace_close(NULL, NULL), 0);

	/* errors: bad path, bad arguments, event limit */
	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("no/such/dir.json"), NULL), -ENOENT);
	ok &= ASSERT_TRUE(name, ct == NULL);
	ok &= ASSERT_EQ(name, ct_open(&ct, "", NULL), -EINVAL);
	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("lim.json"),
						&(struct chrome_trace_opts){ .max_events = 2 }), 0);
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 1, CHROME_TRACE_CALLS, 20, 10, "x", NULL, NULL, 0), -EINVAL);
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 1, CHROME_TRACE_CALLS, 10, 20, "", NULL, NULL, 0), -EINVAL);
	ok &= ASSERT_EQ(name, chrome_trace_slice(ct, 1, 7, 10, 20, "x", NULL, NULL, 0), -EINVAL);
	ok &= ASSERT_EQ(name, chrome_trace_state(ct, 1, 10, 20, NULL, NULL), -EINVAL);
	ok &= ASSERT_EQ(name, chrome_trace_state(ct, 1, 10, 20, "running", NULL), 0);
	ok &= ASSERT_EQ(name, chrome_trace_state(ct, 1, 20, 30, "runnable", NULL), 0);
	ok &= ASSERT_EQ(name, chrome_trace_state(ct, 1, 30, 40, "running", NULL), -E2BIG);
	ok &= ASSERT_EQ(name, chrome_trace_instant(ct, 1, CHROME_TRACE_STATES, 40, "i", NULL, NULL, 0), -E2BIG);
	/* events lost upstream (a full ring buffer) count as dropped too */
	chrome_trace_count_lost(ct, 5);
	chrome_trace_count_lost(NULL, 5);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, &st), 0);
	ok &= ASSERT_EQ(name, st.dropped, 2);
	ok &= ASSERT_EQ(name, st.lost, 5);
	doc = load(name, tpath("lim.json"));
	ok &= ASSERT_TRUE(name, doc && find_ev(doc, "X", "runnable", 0) && !find_ev(doc, "X", "running", 1));
	ok &= ASSERT_STREQ(name, sget(json_object_get(doc, "otherData"), "dropped_events"), "7");
	ok &= ASSERT_STREQ(name, sget(json_object_get(doc, "otherData"), "lost_events"), "5");
	json_decref(doc);
	if (ok)
		CHECK_PASS(name);
}

/* A write error at close (here: the file size limit, as a full disk would
 * do) is returned, and leaves neither the file nor its temporary. */
static void test_write_error(void)
{
	const char *name = "write_error";
	int status = 0;
	pid_t pid;
	bool ok = true;

	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		struct chrome_trace *ct = NULL;
		int err;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) || ct_open(&ct, tpath("big.json"), NULL))
			_exit(3);
		for (int i = 0; i < 10000; i++)
			chrome_trace_state(ct, 1 + i % 5, i * 10, i * 10 + 10, "running", NULL);
		err = chrome_trace_close(ct, NULL);
		_exit(err == -EFBIG ? 0 : 4);
	}
	waitpid(pid, &status, 0);
	ok &= ASSERT_TRUE(name, WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ok &= ASSERT_TRUE(name, !exists(tpath("big.json")) && !exists(tpath("big.json.tmp")));
	if (ok)
		CHECK_PASS(name);
}

/* Ctrl-C: the handler sets a flag, the main loop closes the trace. */
static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	stop = 1;
}

static void test_sigint_close(void)
{
	const char *name = "sigint_close";
	int pfd[2], status = 0;
	json_t *doc;
	pid_t pid;
	char c;
	bool ok = true;

	if (!ASSERT_EQ(name, pipe(pfd), 0))
		return;
	pid = fork();
	if (pid == 0) {
		struct chrome_trace *ct = NULL;
		uint64_t t = 0;

		signal(SIGINT, on_sigint);
		if (ct_open(&ct, tpath("sigint.json"), NULL))
			_exit(3);
		if (write(pfd[1], "r", 1) != 1)
			_exit(4);
		while (!stop) {	/* an endless event loop */
			chrome_trace_state(ct, 1 + t % 4, t * 100, t * 100 + 50, "running", NULL);
			t++;
			if (t % 1000 == 0)
				usleep(1000);
		}
		_exit(chrome_trace_close(ct, NULL) ? 5 : 0);
	}
	close(pfd[1]);
	ok &= ASSERT_TRUE(name, read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	usleep(50000);
	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	ok &= ASSERT_TRUE(name, WIFEXITED(status) && WEXITSTATUS(status) == 0);
	doc = load(name, tpath("sigint.json"));
	ok &= ASSERT_TRUE(name, doc && find_ev(doc, "X", "running", 10) != NULL);
	json_decref(doc);
	if (ok)
		CHECK_PASS(name);
}

static void test_filters(void)
{
	const char *name = "filters";
	uint64_t keep[] = { 9, 2 };
	struct chrome_trace *ct = NULL;
	struct chrome_trace_stats st;
	json_t *doc;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("filt.json"), &(struct chrome_trace_opts){
		.goids = keep, .nr_goids = 2, .min_dur_ns = 100 }), 0);
	ok &= ASSERT_TRUE(name, chrome_trace_wants_goid(ct, 9) && !chrome_trace_wants_goid(ct, 3));
	chrome_trace_state(ct, 2, 0, 100, "running", NULL);	/* kept: 100 >= 100 */
	chrome_trace_state(ct, 2, 100, 199, "runnable", NULL);	/* too short */
	chrome_trace_state(ct, 3, 0, 1000, "running", NULL);	/* goid filtered */
	chrome_trace_instant(ct, 2, CHROME_TRACE_STATES, 50, "tick", NULL, NULL, 0); /* instants stay */
	chrome_trace_flow(ct, "go", 3, CHROME_TRACE_STATES, 10, 2, CHROME_TRACE_STATES, 20);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, &st), 0);
	ok &= ASSERT_EQ(name, st.slices, 1);
	ok &= ASSERT_EQ(name, st.instants, 1);
	ok &= ASSERT_EQ(name, st.filtered, 3);
	doc = load(name, tpath("filt.json"));
	ok &= ASSERT_TRUE(name, doc && find_ev(doc, "X", "running", 0) && !find_ev(doc, "X", NULL, 1) &&
			  find_ev(doc, "i", "tick", 0) && !find_ev(doc, "s", NULL, 0) &&
			  tid_named(doc, "G3") < 0);
	json_decref(doc);
	if (ok)
		CHECK_PASS(name);
}

/* Flows: paired, each end strictly inside the slice it should bind to and
 * outside that slice's children, and never going back in time. */
static void test_flows(void)
{
	const char *name = "flows";
	struct chrome_trace *ct = NULL;
	struct chrome_trace_stats st;
	json_t *doc, *s, *f;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("flow.json"), NULL), 0);
	chrome_trace_goroutine(ct, 1, "main.main");
	chrome_trace_goroutine(ct, 2, "main.worker");
	chrome_trace_state(ct, 1, 0, 1000, "running", NULL);
	chrome_trace_state(ct, 1, 1000, 2000, "waiting", "chan receive");
	chrome_trace_state(ct, 2, 500, 600, "runnable", NULL);
	chrome_trace_state(ct, 2, 600, 1000, "running", NULL);
	chrome_trace_state(ct, 1, 2000, 2100, "runnable", NULL);	/* G2 unblocks G1 at 2000 */
	chrome_trace_state(ct, 2, 1000, 3000, "running", NULL);
	/* calls of G1 during its first running slice: a child covers [0,400] */
	chrome_trace_slice(ct, 1, CHROME_TRACE_CALLS, 0, 900, "main.main", NULL, NULL, 0);
	chrome_trace_slice(ct, 1, CHROME_TRACE_CALLS, 0, 400, "main.spawn", NULL, NULL, 0);
	/* creation of G2 at 500 by G1; unblock of G1 by G2 at 2000 */
	ok &= ASSERT_EQ(name, chrome_trace_flow(ct, "go", 1, CHROME_TRACE_STATES, 500, 2,
						CHROME_TRACE_STATES, 500), 0);
	ok &= ASSERT_EQ(name, chrome_trace_flow(ct, "unblock", 2, CHROME_TRACE_STATES, 2000, 1,
						CHROME_TRACE_STATES, 2000), 0);
	/* from a call slice at its start (held by the child too): moved to a
	 * free point of the deepest slice, main.spawn */
	ok &= ASSERT_EQ(name, chrome_trace_flow(ct, "call-go", 1, CHROME_TRACE_CALLS, 0, 2,
						CHROME_TRACE_STATES, 700), 0);
	/* to a goroutine with no slices: dropped */
	ok &= ASSERT_EQ(name, chrome_trace_flow(ct, "nowhere", 1, CHROME_TRACE_STATES, 10, 3,
						CHROME_TRACE_STATES, 10), 0);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, &st), 0);
	ok &= ASSERT_EQ(name, st.flows_dropped, 1);
	doc = load(name, tpath("flow.json"));
	if (!doc)
		return;
	int g1 = tid_named(doc, "G1 main.main"), g2 = tid_named(doc, "G2 main.worker");
	int g1c = tid_named(doc, "G1 calls");

	s = find_ev(doc, "s", "go", 0);
	f = find_ev(doc, "f", "go", 0);
	ok &= ASSERT_TRUE(name, s && f);
	if (s && f) {
		ok &= ASSERT_EQ(name, json_integer_value(json_object_get(s, "tid")), g1);
		ok &= ASSERT_EQ(name, ns_of(s, "ts"), 500);		/* inside running [0,1000] */
		ok &= ASSERT_EQ(name, json_integer_value(json_object_get(f, "tid")), g2);
		ok &= ASSERT_EQ(name, ns_of(f, "ts"), 501);		/* runnable [500,600] */
		ok &= ASSERT_STREQ(name, sget(f, "bp"), "e");
		ok &= ASSERT_TRUE(name, json_equal(json_object_get(s, "id"), json_object_get(f, "id")));
	}
	s = find_ev(doc, "s", "unblock", 0);
	f = find_ev(doc, "f", "unblock", 0);
	ok &= ASSERT_TRUE(name, s && f);
	if (s && f) {
		ok &= ASSERT_EQ(name, json_integer_value(json_object_get(s, "tid")), g2);
		ok &= ASSERT_EQ(name, ns_of(s, "ts"), 2000);		/* running [1000,3000] */
		ok &= ASSERT_EQ(name, json_integer_value(json_object_get(f, "tid")), g1);
		ok &= ASSERT_EQ(name, ns_of(f, "ts"), 2001);		/* runnable [2000,2100] */
	}
	s = find_ev(doc, "s", "call-go", 0);
	ok &= ASSERT_TRUE(name, s && json_integer_value(json_object_get(s, "tid")) == g1c &&
			  ns_of(s, "ts") == 1);
	ok &= ASSERT_TRUE(name, !find_ev(doc, "s", "nowhere", 0) && !find_ev(doc, "f", "nowhere", 0));
	json_decref(doc);
	if (ok)
		CHECK_PASS(name);
}

/* The estimate must be of the right order: within 30% of the real size. */
static void test_estimate(void)
{
	const char *name = "estimate";
	struct chrome_trace *ct = NULL;
	struct stat st = {};
	uint64_t est;
	bool ok = true;

	ok &= ASSERT_EQ(name, ct_open(&ct, tpath("est.json"), NULL), 0);
	for (uint64_t i = 0; i < 20000; i++) {
		struct chrome_trace_arg a = { "depth", NULL, (int64_t)(i % 7) };

		chrome_trace_state(ct, i % 50, i * 1000, i * 1000 + 900, i % 2 ? "running" : "waiting",
				   i % 2 ? NULL : "sync.Mutex.Lock");
		chrome_trace_slice(ct, i % 50, CHROME_TRACE_CALLS, i * 1000, i * 1000 + 800,
				   "github.com/some/module/pkg.(*Server).handle", NULL, &a, 1);
		if (i % 10 == 0)
			chrome_trace_flow(ct, "unblock", i % 50, CHROME_TRACE_STATES, i * 1000 + 1,
					  (i + 1) % 50, CHROME_TRACE_STATES, (i + 1) * 1000 + 1);
	}
	est = chrome_trace_estimate_size(ct);
	ok &= ASSERT_EQ(name, chrome_trace_close(ct, NULL), 0);
	stat(tpath("est.json"), &st);
	ok &= ASSERT_TRUE(name, est > 0.7 * st.st_size && est < 1.3 * st.st_size);
	if (!ok)
		printf("  estimate %llu, actual %lld\n", (unsigned long long)est, (long long)st.st_size);
	else
		CHECK_PASS(name);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A synthetic program: main.main (G1) starts 5 workers that each handle 4
 * jobs (a 3-deep call chain per job) and report to G1 over a channel after
 * each; G1 waits on that channel and each report that finds it waiting
 * wakes it (an "unblock" arrow).  Creation gets a "go" arrow and instant. */
/* The sample's clock: its times are round microseconds, or with `odd`
 * shifted by 0-396 ns (strictly monotonic: sample times differ by >= 500 ns,
 * equal times stay equal) so that every ts/dur has ns digits. */
#define SAMPLE_T0 5000000000ULL
static bool sample_odd;

static uint64_t J(uint64_t t)
{
	return sample_odd ? t + ((t - SAMPLE_T0) / 500 * 7919) % 397 : t;
}

static int s_state(struct chrome_trace *ct, uint64_t g, uint64_t a, uint64_t b, const char *st,
		   const char *why)
{
	return chrome_trace_state(ct, g, J(a), J(b), st, why);
}

static int s_slice(struct chrome_trace *ct, uint64_t g, enum chrome_trace_track k, uint64_t a,
		   uint64_t b, const char *nm, const char *cat, const struct chrome_trace_arg *args,
		   size_t n)
{
	return chrome_trace_slice(ct, g, k, J(a), J(b), nm, cat, args, n);
}

static int s_instant(struct chrome_trace *ct, uint64_t g, enum chrome_trace_track k, uint64_t t,
		     const char *nm, const char *cat, const struct chrome_trace_arg *args, size_t n)
{
	return chrome_trace_instant(ct, g, k, J(t), nm, cat, args, n);
}

static int s_flow(struct chrome_trace *ct, const char *nm, uint64_t g1, enum chrome_trace_track k1,
		  uint64_t t1, uint64_t g2, enum chrome_trace_track k2, uint64_t t2)
{
	return chrome_trace_flow(ct, nm, g1, k1, J(t1), g2, k2, J(t2));
}

static int write_sample(const char *path, const char *sspath, struct chrome_trace_stats *st,
			bool odd)
{
	struct chrome_trace_opts o = { .binary = "/usr/local/bin/sample \"app\"", .go_version = "go1.26.8",
				       .command_line = "gotrace states --json sample-trace.json -- ./sample",
				       };
	struct chrome_trace *ct = NULL;
	const uint64_t T0 = SAMPLE_T0, US = 1000;
	uint64_t reports[5 * 4][2];	/* time, goid */
	int nr = 0, err;

	sample_odd = odd;
	if ((err = ct_open_ss(&ct, path, &o, sspath)))
		return err;
	chrome_trace_set_meta(ct, "note", "synthetic sample written by tests/unit/test_chrome_trace.c");
	chrome_trace_goroutine(ct, 1, "main.main");
	/* G1: running 0-100us, creating the workers */
	s_state(ct, 1, T0, T0 + 100 * US, "running", NULL);
	s_slice(ct, 1, CHROME_TRACE_CALLS, T0 + 2 * US, T0 + 98 * US, "main.main", NULL, NULL, 0);
	s_slice(ct, 1, CHROME_TRACE_CALLS, T0 + 5 * US, T0 + 60 * US, "main.startWorkers",
			   NULL, NULL, 0);
	for (uint64_t w = 0; w < 5; w++) {
		uint64_t goid = 18 + w, tc = T0 + (10 + 10 * w) * US, t = tc;
		struct chrome_trace_arg a[] = { { "worker", NULL, (int64_t)w } };

		chrome_trace_goroutine(ct, goid, w == 4 ? "main.(*pool).run\"quoted\"\\" : "main.worker");
		s_instant(ct, 1, CHROME_TRACE_CALLS, tc, "go main.worker", "go", a, 1);
		s_flow(ct, "go", 1, CHROME_TRACE_CALLS, tc, goid, CHROME_TRACE_STATES, tc);
		s_state(ct, goid, t, t + 15 * US, "runnable", NULL);
		t += 15 * US;
		for (int job = 0; job < 4; job++) {
			uint64_t d = (20 + 7 * w + 5 * job) * US, done = t + d;

			s_state(ct, goid, t, done, "running", NULL);
			s_slice(ct, goid, CHROME_TRACE_CALLS, t + US, done - US, "main.handle", NULL,
					   a, 1);
			s_slice(ct, goid, CHROME_TRACE_CALLS, t + 2 * US, t + d / 2, "main.parse",
					   NULL, NULL, 0);
			s_slice(ct, goid, CHROME_TRACE_CALLS, t + 3 * US, t + d / 3,
					   "encoding/json.Unmarshal", NULL, NULL, 0);
			s_slice(ct, goid, CHROME_TRACE_CALLS, t + d / 2 + US, done - 2 * US,
					   "main.compute \xce\xbb", NULL, NULL, 0);
			reports[nr][0] = done - US / 2;
			reports[nr++][1] = goid;
			s_state(ct, goid, done, done + 30 * US, "waiting", "chan receive");
			t = done + 30 * US;
			s_state(ct, goid, t, t + 3 * US, "runnable", NULL);
			t += 3 * US;
		}
		s_state(ct, goid, t, t + 5 * US, "running", NULL);
		s_instant(ct, goid, CHROME_TRACE_STATES, t + 5 * US, "exit", NULL, NULL, 0);
	}
	/* G1 waits from 100us; each report that finds it waiting wakes it:
	 * runnable 2us, running 6us (main.collect), then waits again */
	qsort(reports, nr, sizeof(reports[0]), cmp_u64);
	{
		uint64_t t = T0 + 100 * US;

		for (int i = 0; i < nr; i++) {
			uint64_t wake = reports[i][0];

			if (wake < t)
				continue;	/* G1 was not waiting: no wake-up */
			s_state(ct, 1, t, wake, "waiting", "chan receive");
			s_flow(ct, "unblock", reports[i][1], CHROME_TRACE_STATES, wake, 1,
					  CHROME_TRACE_STATES, wake);
			s_state(ct, 1, wake, wake + 2 * US, "runnable", NULL);
			s_state(ct, 1, wake + 2 * US, wake + 8 * US, "running", NULL);
			s_slice(ct, 1, CHROME_TRACE_CALLS, wake + 3 * US, wake + 7 * US,
					   "main.collect", NULL, NULL, 0);
			t = wake + 8 * US;
		}
		s_state(ct, 1, t, t + 40 * US, "syscall", NULL);
		s_state(ct, 1, t + 40 * US, t + 50 * US, "running", NULL);
	}
	/* a GC worker that only ever waits */
	chrome_trace_goroutine(ct, 5, "runtime.gcBgMarkWorker");
	s_state(ct, 5, T0 + 30 * US, T0 + 400 * US, "waiting", "GC worker (idle)");
	return chrome_trace_close(ct, st);
}

/* The speedscope file holds one evented profile per track with X events,
 * named like the track, whose open/close events nest (each C closes the
 * frame on top) at non-decreasing integer ns, one O per X slice of the
 * track in the Chrome file, at the slice's start (ts * 1000). */
static bool check_speedscope(const char *name, json_t *chrome, const char *sspath)
{
	json_t *ss = load(name, sspath), *prof, *ev, *frames;
	size_t i, j, nprof = 0;
	bool ok = true;

	if (!ss)
		return false;
	frames = json_object_get(json_object_get(ss, "shared"), "frames");
	json_array_foreach(json_object_get(ss, "profiles"), i, prof) {
		const char *pname = sget(prof, "name");
		int tid = tid_named(chrome, pname ?: "");
		long long stack[64], last = -1, nopen = 0, nx = 0;
		int depth = 0;
		size_t k;
		json_t *e;

		ok &= ASSERT_TRUE(name, tid > 0);
		ok &= ASSERT_STREQ(name, sget(prof, "unit"), "nanoseconds");
		json_array_foreach(json_object_get(prof, "events"), j, ev) {
			long long f = json_integer_value(json_object_get(ev, "frame"));
			long long at = json_integer_value(json_object_get(ev, "at"));

			ok &= ASSERT_TRUE(name, json_is_integer(json_object_get(ev, "at")) && at >= last);
			last = at;
			if (!strcmp(sget(ev, "type"), "O")) {
				json_t *x = NULL;

				/* the nopen-th X slice of this track starts here */
				json_array_foreach(events(chrome), k, e) {
					if (!strcmp(sget(e, "ph"), "X") &&
					    json_integer_value(json_object_get(e, "tid")) == tid && nx++ == nopen) {
						x = e;
						break;
					}
				}
				nx = 0;
				ok &= ASSERT_TRUE(name, x && ns_of(x, "ts") == at &&
						  !strcmp(sget(x, "name"),
							  sget(json_array_get(frames, f), "name") ?: ""));
				nopen++;
				if (depth < 64)
					stack[depth++] = f;
			} else {
				ok &= ASSERT_TRUE(name, depth > 0 && stack[depth - 1] == f);
				depth--;
			}
		}
		ok &= ASSERT_EQ(name, depth, 0);
		json_array_foreach(events(chrome), k, e)
			nx += !strcmp(sget(e, "ph"), "X") && json_integer_value(json_object_get(e, "tid")) == tid;
		ok &= ASSERT_EQ(name, nopen, nx);
		nprof++;
	}
	ok &= ASSERT_TRUE(name, nprof > 0);
	json_decref(ss);
	return ok;
}

static void test_sample(const char *self)
{
	const char *name = "sample_trace";
	struct chrome_trace_stats st = {};
	char *dir = strdup(self), path[1024];
	json_t *doc;
	bool ok = true;

	dirname(dir);
	/* sample-trace.json (round us) and sample-trace-odd.json (ns digits),
	 * each with a speedscope-format twin */
	for (int odd = 0; odd < 2; odd++) {
		char sspath[1100];

		snprintf(path, sizeof(path), "%s/sample-trace%s.json", dir, odd ? "-odd" : "");
		snprintf(sspath, sizeof(sspath), "%s/sample-trace%s.speedscope.json", dir, odd ? "-odd" : "");
		ok &= ASSERT_EQ(name, write_sample(path, sspath, &st, odd), 0);
		ok &= ASSERT_EQ(name, st.flows_dropped, 0);
		ok &= ASSERT_EQ(name, st.clamped, 0);
		doc = load(name, path);
		ok &= ASSERT_TRUE(name, doc && tid_named(doc, "G1 main.main") == 1 &&
				  tid_named(doc, "G1 calls") == 2 &&
				  tid_named(doc, "G5 runtime.gcBgMarkWorker") == 3 &&
				  tid_named(doc, "G22 main.(*pool).run\"quoted\"\\") > 0 &&
				  find_ev(doc, "s", "unblock", 0) && find_ev(doc, "f", "go", 4));
		if (doc)
			ok &= check_speedscope(name, doc, sspath);
		json_decref(doc);
	}
	free(dir);
	if (ok)
		CHECK_PASS(name);
}

/* Random input, including what a tracer should never produce (overlapping
 * states, calls outliving their callers, flows to nowhere): the writer must
 * still close a trace that tests/lib/trace_validate.py accepts.  Written
 * next to the test binary as random-trace-<seed>.json for that check. */
static uint64_t rnd_state;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return n ? rnd_state % n : 0;
}

static void test_random(const char *self)
{
	const char *name = "random_traces";
	static const char *names[] = { "running", "runnable", "main.f", "main.g", "x\"y", "\xe4\xb8\x96" };
	char *dir = strdup(self), path[1024];
	bool ok = true;

	dirname(dir);
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct chrome_trace *ct = NULL;
		struct chrome_trace_stats st;
		int n = 2000 * (int)seed;

		rnd_state = seed * 0x9e3779b97f4a7c15ULL;
		snprintf(path, sizeof(path), "%s/random-trace-%llu.json", dir, (unsigned long long)seed);
		ok &= ASSERT_EQ(name, ct_open(&ct, path, &(struct chrome_trace_opts){
			.min_dur_ns = seed == 3 ? 50 : 0 }), 0);
		for (int i = 0; i < n && ct; i++) {
			uint64_t g = 1 + rnd(3 + seed * 4), t = rnd(100000), d = rnd(4) ? rnd(2000) : rnd(3);
			struct chrome_trace_arg a = { "v", NULL, (int64_t)rnd(5) };

			switch (rnd(8)) {
			case 0:
				chrome_trace_instant(ct, g, (enum chrome_trace_track)rnd(2), t, names[rnd(6)],
						     NULL, &a, rnd(2));
				break;
			case 1:
				chrome_trace_flow(ct, rnd(2) ? "go" : "unblock", g, (enum chrome_trace_track)rnd(2),
						  t, 1 + rnd(30), (enum chrome_trace_track)rnd(2), t + rnd(500));
				break;
			case 2:
				chrome_trace_state(ct, g, t, t + d, names[rnd(2)], rnd(2) ? "chan receive" : NULL);
				break;
			default:
				chrome_trace_slice(ct, g, (enum chrome_trace_track)rnd(2), t, t + d, names[rnd(6)],
						   NULL, &a, rnd(2));
			}
		}
		ok &= ASSERT_EQ(name, chrome_trace_close(ct, &st), 0);
		ok &= ASSERT_TRUE(name, st.slices > 0 && st.flows > 0);
	}
	free(dir);
	if (ok)
		CHECK_PASS(name);
}

int main(int argc, char **argv)
{
	char cmd[600];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(tmpdir)) {
		(void)CHECK_FAIL("setup", "mkdtemp: %s", strerror(errno));
		return 1;
	}
	test_ns_format();
	test_set_start();
	test_escaping();
	test_nesting_order();
	test_gzip();
	test_close_paths();
	test_sigint_close();
	test_write_error();
	test_filters();
	test_flows();
	test_estimate();
	test_sample(argv[0]);
	test_random(argv[0]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("warning: could not remove %s\n", tmpdir);
	return check_failures ? 1 : 0;
}
