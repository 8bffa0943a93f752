// SPDX-License-Identifier: MIT
/*
 * leaky: a C program that leaks known amounts through known call chains,
 * for examples/bpf_memleak (tests/integration/test_memleak.py).
 *
 * Every allocation it never frees is counted here, per call chain, and
 * printed at the end as
 *
 *   leak chain=main,leak_list,make_node via=malloc bytes=4800 count=100
 *
 * (chain: the program's own functions on the stack, outermost first, the
 * allocator's direct caller last; frames inside libc between them, such as
 * qsort's, are not named: their names depend on the C library; via: the
 * allocator called).  That is the truth bpf_memleak's report must
 * match.  Each leaking allocator call carries a comment site:FUNC, so a
 * test can check the source line a report gives for it.  It also allocates and frees (churn, realloc chains), which must
 * not show up as outstanding.  Built with -O2 -g -fomit-frame-pointer:
 * frame pointers can't unwind it, DWARF CFI can.
 *
 *   leaky        run once and exit (well under a second)
 *   leaky -w     print the pid, wait for SIGUSR1 (or stdin EOF), then run:
 *                for tracers that attach with -p
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* noipa (gcc): no inlining, no clones (make_node.constprop.0), no IPA
 * tricks, so every function in a chain is a real frame with its own name;
 * clang has no clones of that kind, and noinline is enough. */
#if defined(__clang__)
#define KEEP __attribute__((noinline))
#else
#define KEEP __attribute__((noinline, noipa))
#endif

struct node {
	struct node *next;
	char payload[40];
};

/* Globals, volatile: the stores after each call must stay, so no call in a
 * chain becomes a tail call (which would rightly drop its caller's frame
 * from the real stack). */
struct node *volatile list_head;
void *volatile keep[64];
volatile int nkeep;
volatile long sink;

struct tally {
	const char *chain, *via;
	unsigned long bytes, count;
};
static struct tally tallies[16];
static int ntallies;

static void tally(const char *chain, const char *via, unsigned long bytes)
{
	int i;

	for (i = 0; i < ntallies; i++)
		if (!strcmp(tallies[i].chain, chain) && !strcmp(tallies[i].via, via))
			break;
	if (i == ntallies)
		tallies[ntallies++] = (struct tally){chain, via, 0, 0};
	tallies[i].bytes += bytes;
	tallies[i].count++;
}

/* 1: a linked list nobody frees */
KEEP static struct node *make_node(int i)
{
	struct node *n = malloc(sizeof(*n)); /* site:make_node */

	if (!n)
		abort();
	n->next = list_head;
	n->payload[0] = (char)i;
	list_head = n;
	tally("main,leak_list,make_node", "malloc", sizeof(*n));
	return n;
}

KEEP static void leak_list(int n)
{
	for (int i = 0; i < n; i++)
		sink += (long)make_node(i)->payload[0];
}

/* 2: zeroed tables */
KEEP static void *grow_table(size_t n, size_t sz)
{
	void *p = calloc(n, sz); /* site:grow_table */

	if (!p)
		abort();
	keep[nkeep++ % 64] = p;
	tally("main,leak_table,grow_table", "calloc", n * sz);
	return p;
}

KEEP static void leak_table(void)
{
	for (int i = 0; i < 10; i++)
		sink += (long)grow_table(16, 64);
}

/* 3: a buffer grown by realloc, one block outstanding at the end */
KEEP static char *buf_append(char *buf, size_t newsize)
{
	char *p = realloc(buf, newsize); /* site:buf_append */

	if (!p)
		abort();
	p[newsize - 1] = 0;
	return p;
}

KEEP static void leak_realloc(void)
{
	char *b = NULL;
	size_t sz = 64;

	for (int i = 0; i < 8; i++, sz *= 2)
		b = buf_append(b, sz);
	keep[nkeep++ % 64] = b;
	tally("main,leak_realloc,buf_append", "realloc", sz / 2);
}

/* 4: aligned blocks */
KEEP static void *aligned_block(size_t align, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, align, size)) /* site:aligned_block */
		abort();
	tally("main,leak_aligned,aligned_block", "posix_memalign", size);
	return p;
}

KEEP static void *page_block(void)
{
	void *p = aligned_alloc(4096, 8192); /* site:page_block */

	if (!p)
		abort();
	tally("main,leak_aligned,page_block", "memalign", 8192);
	return p;
}

KEEP static void leak_aligned(void)
{
	for (int i = 0; i < 5; i++)
		keep[nkeep++ % 64] = aligned_block(64, 1000);
	for (int i = 0; i < 2; i++)
		keep[nkeep++ % 64] = page_block();
	sink++;
}

/* 5: through libc: qsort's comparison callback leaks on its first calls */
static int cmp_calls;

KEEP static int cmp_leak(const void *a, const void *b)
{
	if (cmp_calls++ < 6) {
		void *p = malloc(24); /* site:cmp_leak */

		if (!p)
			abort();
		keep[nkeep++ % 64] = p;
		tally("main,leak_sorted,cmp_leak", "malloc", 24);
	}
	return *(const int *)a - *(const int *)b;
}

KEEP static void leak_sorted(void)
{
	int v[] = {9, 4, 7, 1, 8, 2, 6, 3, 5, 0};

	qsort(v, 10, sizeof(v[0]), cmp_leak);
	sink += v[0];
}

/* 6: allocations that are all freed again: nothing outstanding */
KEEP static void churn(void)
{
	for (int i = 0; i < 500; i++) {
		void *p = malloc(32 + i % 64);
		void *q = calloc(2, 48);

		sink += (long)p + (long)q;
		free(p);
		q = realloc(q, 200);
		free(q);
	}
}

/* 7: another thread (its stack ends at clone, not at main) */
KEEP static void *thread_block(int i)
{
	void *p = malloc(200); /* site:thread_block */

	if (!p)
		abort();
	tally("worker,leak_in_thread,thread_block", "malloc", 200);
	sink += i;
	return p;
}

KEEP static void leak_in_thread(void)
{
	for (int i = 0; i < 20; i++)
		keep[nkeep++ % 64] = thread_block(i);
}

static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;

KEEP static void *worker(void *arg)
{
	pthread_mutex_lock(&tally_lock);
	leak_in_thread();
	pthread_mutex_unlock(&tally_lock);
	return arg;
}

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

int main(int argc, char **argv)
{
	pthread_t th;
	struct timespec t0, t1;

	if (argc > 1 && !strcmp(argv[1], "-w")) {
		signal(SIGUSR1, on_usr1);
		printf("pid %d waiting\n", (int)getpid());
		fflush(stdout);
		while (!go)
			pause();
	} else {
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	leak_list(100);
	leak_table();
	leak_realloc();
	leak_aligned();
	leak_sorted();
	churn();
	if (pthread_create(&th, NULL, worker, NULL) || pthread_join(th, NULL))
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < ntallies; i++)
		printf("leak chain=%s via=%s bytes=%lu count=%lu\n", tallies[i].chain, tallies[i].via,
		       tallies[i].bytes, tallies[i].count);
	/* how long the allocating part took: the tracing overhead, as a ratio
	 * of a traced to an untraced run */
	printf("elapsed_us=%ld\n",
	       (long)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000));
	fflush(stdout);
	return 0;
}
