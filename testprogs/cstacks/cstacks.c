// SPDX-License-Identifier: MIT
/*
 * cstacks: C call chains for the libdwunw tests (tests/unit/test_unwind_c.py).
 * leaf() is reached five times, each through a different chain:
 *   1  main -> chain_a -> chain_b -> leaf
 *   2  main -> via_qsort -> qsort (libc) -> cmp_ints -> leaf
 *   3  main -> via_bsearch -> bsearch -> cmp_key -> leaf
 *   4  main -> via_signal -> kill -> <signal handler called> -> on_signal -> leaf
 *   5  main -> via_alloca -> leaf (variable-size frame: CFA from the frame register)
 * The test builds it with and without -fomit-frame-pointer, and without
 * .eh_frame (only .debug_frame), stops at leaf's entry with ptrace and with
 * gdb, and compares our unwound stacks with gdb's backtrace.
 */
#include <alloca.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

volatile int sink;

NOINLINE void leaf(int id)
{
	sink += id;
	__asm__ volatile("" ::: "memory");
}

NOINLINE static void chain_b(int x)
{
	leaf(1);
	sink += x;
}

NOINLINE static void chain_a(int x)
{
	chain_b(x * 2);
	sink += x;
}

static int qsort_hit;

NOINLINE static int cmp_ints(const void *a, const void *b)
{
	if (!qsort_hit++)
		leaf(2);
	return *(const int *)a - *(const int *)b;
}

NOINLINE static void via_qsort(void)
{
	int v[] = {5, 3, 9, 1, 7, 2, 8};

	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp_ints);
	sink += v[0];
}

static int bsearch_hit;

NOINLINE static int cmp_key(const void *key, const void *elem)
{
	if (!bsearch_hit++)
		leaf(3);
	return *(const int *)key - *(const int *)elem;
}

NOINLINE static void via_bsearch(void)
{
	static const int v[] = {1, 2, 3, 5, 8, 13, 21};
	int key = 13;

	sink += bsearch(&key, v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp_key) != NULL;
}

NOINLINE static void on_signal(int sig)
{
	leaf(4);
	sink += sig;
}

NOINLINE static void via_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	kill(getpid(), SIGUSR1);
	sink++;
}

NOINLINE static void via_alloca(int n)
{
	char *buf = alloca((size_t)n);

	memset(buf, n, (size_t)n);
	leaf(5);
	sink += buf[n / 2];
}

int main(int argc, char **argv)
{
	chain_a(argc);
	via_qsort();
	via_bsearch();
	via_signal();
	via_alloca(100 + argc);
	printf("cstacks: %d\n", sink);
	return 0;
}
