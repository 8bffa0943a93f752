// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the goroutine reader (gotrace/goruntime): the memory
 * of a "process" is the input, read as the reader reads a live one, then
 * every goroutine is unwound and printed, and its pprof label set read
 * again by address (gr_labels_at, as `gotrace states` reads them).  Target memory is untrusted data:
 * a racing or hostile process can show any bytes.
 *
 * The executable is a real Go binary, named by the GOTRACE_FUZZ_GO
 * environment variable (scripts/fuzz.sh points it at a non-PIE testprog
 * build; bias 0).  Input layout:
 *   u64 allglen, u64 allgptr    stored at the binary's runtime.allglen and
 *                               runtime.allgptr
 *   then regions: u64 address, u32 length, that many bytes
 * tests/fuzz/goroutines_seed.py records seeds of this form from a running
 * testprogs/parked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gosym.h"
#include "goruntime/allgs.h"
#include "goruntime/traceback.h"

#define MAX_REGIONS 4096

static struct gosym *go;
static struct gosym_allgs ag;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("GOTRACE_FUZZ_GO");

	(void)argc;
	(void)argv;
	if (!path || gosym_open(path, &go) || gosym_allgs(go, &ag)) {
		fprintf(stderr, "fuzz_goroutines: set GOTRACE_FUZZ_GO to a non-PIE Go 1.17+ binary "
				"(%s)\n", path ? gosym_errmsg() : "unset");
		exit(1);
	}
	devnull = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t addr[MAX_REGIONS];
	static const void *buf[MAX_REGIONS];
	static size_t len[MAX_REGIONS];
	struct gr_target *t = NULL;
	struct gr_snapshot *s = NULL;
	struct gr_tb *tb = NULL;
	struct gr_mem *mem = NULL;
	int n = 2;

	if (size < 16)
		return 0;
	addr[0] = ag.allglen;
	buf[0] = data;
	len[0] = 8;
	addr[1] = ag.allgptr;
	buf[1] = data + 8;
	len[1] = 8;
	for (size_t off = 16; off + 12 <= size && n < MAX_REGIONS;) {
		uint32_t l;

		memcpy(&addr[n], data + off, 8);
		memcpy(&l, data + off + 8, 4);
		off += 12;
		if (l > size - off)
			l = (uint32_t)(size - off);
		buf[n] = data + off;
		len[n++] = l;
		off += l;
	}
	if (gr_mem_open_regions(n, addr, buf, len, &mem) ||
	    gr_target_open_mem(go, 0, mem, &t))
		return 0;
	if (!gr_snapshot_take(t, NULL, &s) && !gr_tb_new(t, &tb)) {
		for (size_t i = 0; i < s->n; i++) {
			const struct gr_stack *st;
			uint64_t pcs[128];

			struct gr_labelset *set;

			gr_is_system(t, &s->g[i]);
			/* states' reader of a label set by address */
			if (!gr_labels_at(t, s->g[i].labels, &set))
				free(set);
			if (gr_tb_print(tb, s, i, devnull) || gr_tb_stack(tb, s, i, &st))
				continue;
			gr_tb_profile_pcs(tb, st, pcs, 128);
		}
	}
	gr_tb_free(tb);
	gr_snapshot_free(s);
	gr_target_free(t);
	return 0;
}
