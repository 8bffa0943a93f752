/* SPDX-License-Identifier: MIT */
/*
 * Tiny assertion helpers for the C unit tests, in the spirit of the
 * kernel's test_progs: each ASSERT_* prints a FAIL line with the values and
 * evaluates to false, so a test can `goto cleanup`.  CHECK_PASS() prints the
 * PASS line of a subtest.  tests/run.py reads the PASS/FAIL/SKIP lines.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>

static int check_failures;

/* Print a FAIL line; always returns 0 so it can end an ASSERT expression. */
static inline __attribute__((format(printf, 4, 5))) int
check_fail(const char *file, int line, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%s:%d)\n", file, line);
	check_failures++;
	return 0;
}

#define CHECK_FAIL(name, fmt, ...) check_fail(__FILE__, __LINE__, name, fmt, ##__VA_ARGS__)
#define CHECK_PASS(name) printf("PASS: %s\n", name)
#define CHECK_SKIP(name, why) printf("SKIP: %s: %s\n", name, why)

/* True in CI (CI=true in the environment, as .ci/run and CI services set
 * it). */
static inline int check_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && (!strcmp(ci, "true") || !strcmp(ci, "1") || !strcmp(ci, "yes"));
}

/* A fixture the check needs is missing or stale (a testprog not built, a
 * recorded binary that no longer matches): a skip on a developer's machine,
 * a failure in CI, where a skipped snapshot would hide rot. */
#define CHECK_MISSING(name, why)                                                      \
	(check_in_ci() ? CHECK_FAIL(name, "CI=true and %s", why) : (CHECK_SKIP(name, why), 0))

#define ASSERT_TRUE(name, c) ((c) ? 1 : CHECK_FAIL(name, "expected %s", #c))
#define ASSERT_EQ(name, a, b)                                                         \
	({ long long _a = (long long)(a), _b = (long long)(b);                        \
	   _a == _b ? 1 : CHECK_FAIL(name, "%s = %lld, expected %lld", #a, _a, _b); })
#define ASSERT_STREQ(name, a, b)                                                      \
	({ const char *_a = (a), *_b = (b);                                           \
	   (_a && _b && !strcmp(_a, _b)) ? 1 :                                        \
	   CHECK_FAIL(name, "%s = '%s', expected '%s'", #a, _a ? _a : "(null)", _b ? _b : "(null)"); })

#endif
