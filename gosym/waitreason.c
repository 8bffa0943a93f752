// SPDX-License-Identifier: MIT
/*
 * The runtime's wait reason strings, indexed by g.waitreason.
 *
 * Best source: the binary's own runtime.waitReasonStrings, a [N]string in
 * the data segment, so the mapping matches the binary whatever its version
 * (the enum was reordered in Go 1.20, 1.24, 1.25 and 1.26).  Each element is
 * a string header {ptr, len}.  In PIE binaries the ptr words are 0 in the
 * file and filled by R_*_RELATIVE dynamic relocations at load time;
 * gosym__read_ptr applies their addends.  Stripped binaries have no symbol
 * to find the array by, so the per-version table answers instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "version_tables.h"

/* Sanity bounds: Go 1.27 has 47 reasons of at most 30 bytes. */
#define MAX_REASONS    1024
#define MAX_REASON_LEN 256

static int from_symbol(struct gosym *g)
{
	uint64_t addr, size, hdr, total = 0;
	int ps = g->info.ptr_size;
	const char **strs = NULL;
	char *buf = NULL, *w = NULL;
	size_t n;
	int err;

	err = gosym_symbol(g, "runtime.waitReasonStrings", &addr, &size);
	if (err)
		return err;
	if (ps != 4 && ps != 8)
		return -EOPNOTSUPP;
	hdr = 2 * (uint64_t)ps;
	n = size / hdr;
	if (!n || n > MAX_REASONS || size % hdr)
		return -EPROTO;

	/* Two passes: validate and size, then copy. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			uint64_t ptr, len;
			const uint8_t *lenp = gosym_bytes(g, addr + i * hdr + ps, ps);
			const char *s;

			if (!lenp || gosym__read_ptr(g, addr + i * hdr, &ptr)) {
				err = -EPROTO;
				goto cleanup;
			}
			len = gosym__uptr(g, lenp);
			if (len > MAX_REASON_LEN) {
				err = -EPROTO;
				goto cleanup;
			}
			s = len ? gosym_bytes(g, ptr, len) : "";
			if (!s) {
				err = -EPROTO;
				goto cleanup;
			}
			if (pass == 0) {
				total += len + 1;
				continue;
			}
			memcpy(w, s, len);
			w[len] = '\0';
			strs[i] = w;
			w += len + 1;
		}
		if (pass == 0) {
			strs = calloc(n, sizeof(*strs));
			buf = malloc(total);
			if (!strs || !buf) {
				err = -ENOMEM;
				goto cleanup;
			}
			w = buf;
		}
	}
	g->waitreasons = strs;
	g->waitreason_buf = buf;
	g->nwaitreasons = (int)n;
	g->waitreason_source = "runtime.waitReasonStrings";
	return 0;
cleanup:
	free(strs);
	free(buf);
	return err;
}

static int from_table(struct gosym *g)
{
	const struct gosym_vt *row = gosym__vt_lookup(g->info.go_major, g->info.go_minor);
	const char **strs;

	if (!row)
		return -EOPNOTSUPP;
	/* A copy of the pointer array, so that freeing is uniform. */
	strs = malloc(row->nwaitreasons * sizeof(*strs));
	if (!strs)
		return -ENOMEM;
	memcpy(strs, row->waitreasons, row->nwaitreasons * sizeof(*strs));
	g->waitreasons = strs;
	g->waitreason_buf = NULL;
	g->nwaitreasons = row->nwaitreasons;
	g->waitreason_source = row->source;
	return 0;
}

void gosym__waitreasons_load(struct gosym *g)
{
	g->waitreasons = NULL;
	g->waitreason_buf = NULL;
	g->nwaitreasons = 0;
	g->waitreason_source = NULL;
	if (!from_symbol(g))
		return;
	from_table(g); /* on failure nwaitreasons stays 0 */
}

void gosym__waitreasons_free(struct gosym *g)
{
	if (!g)
		return;
	free(g->waitreasons);
	free(g->waitreason_buf);
	g->waitreasons = NULL;
	g->waitreason_buf = NULL;
	g->nwaitreasons = 0;
}

int gosym_wait_reasons(const struct gosym *g, const char *const **strings, const char **source)
{
	if (!g->nwaitreasons) {
		*strings = NULL;
		if (source)
			*source = NULL;
		if (g->info.go_minor)
			return gosym__err(-EOPNOTSUPP, "no runtime.waitReasonStrings symbol and no "
					  "built-in wait reasons for %s (tables cover Go 1.%d to 1.%d)",
					  g->info.goversion, gosym__vt_first_minor(),
					  gosym__vt_last_minor());
		return gosym__err(-EOPNOTSUPP, "no runtime.waitReasonStrings symbol and no Go "
				  "version to pick built-in wait reasons by");
	}
	*strings = (const char *const *)g->waitreasons;
	if (source)
		*source = g->waitreason_source;
	return g->nwaitreasons;
}
