// SPDX-License-Identifier: MIT
/*
 * .go.buildinfo: the Go version and module information the linker embeds.
 *
 * Layout: a 32-byte header "\xff Go buildinf:" + ptrSize + flags, then
 * either (flags bit 1, Go 1.18+) two uvarint-length-prefixed strings, or
 * (before) two pointers to Go string headers {data, len}.  The module info
 * string is wrapped in 16-byte sentinels.  Binaries without it (Go < 1.13,
 * or hand-stripped) still open: the version then stays unknown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char bi_magic[] = "\xff Go buildinf:";
#define BI_MAGIC_LEN 14
#define BI_HDR_LEN 32

bool gosym__parse_goversion(const char *v, int *major, int *minor)
{
	const char *p = strstr(v, "go1.");
	char *end;
	long mi;

	*major = *minor = 0;
	if (!p)
		return false;
	mi = strtol(p + 4, &end, 10);
	if (end == p + 4 || mi < 0 || mi > 1000)
		return false;
	*major = 1;
	*minor = (int)mi;
	return true;
}

static bool uvarint(const uint8_t *p, size_t avail, uint64_t *val, size_t *used)
{
	uint64_t v = 0;

	for (size_t i = 0; i < avail && i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*val = v;
			*used = i + 1;
			return true;
		}
	}
	return false;
}

/* Read a Go string header {ptr, len} at vaddr. */
static const uint8_t *go_string_at(const struct gosym *g, uint64_t vaddr, size_t *len)
{
	uint64_t data, n;
	const uint8_t *p;

	if (gosym__read_ptr(g, vaddr, &data))
		return NULL;
	p = gosym_bytes(g, vaddr + g->info.ptr_size, g->info.ptr_size);
	if (!p)
		return NULL;
	n = gosym__uptr(g, p);
	if (n > (1 << 20))
		return NULL;
	p = gosym_bytes(g, data, n);
	*len = n;
	return p;
}

/* Append a NUL-terminated copy of s[0:n] to the string buffer. */
static const char *keep(char **buf, size_t *used, size_t *cap, const uint8_t *s, size_t n)
{
	if (*used + n + 1 > *cap)
		return "";
	memcpy(*buf + *used, s, n);
	(*buf)[*used + n] = '\0';
	*used += n + 1;
	return *buf + *used - n - 1;
}

static const uint8_t *find_header(struct gosym *g, size_t *avail)
{
	const uint8_t *d;
	size_t n;

	if (!gosym__section(g, ".go.buildinfo", &d, &n, NULL) && d && n >= BI_HDR_LEN &&
	    !memcmp(d, bi_magic, BI_MAGIC_LEN)) {
		*avail = n;
		return d;
	}
	/* No section headers: scan writable segments, 16-byte aligned. */
	for (int i = 0; i < g->nsegs; i++) {
		const struct gosym_seg *s = &g->segs[i];

		if (!(s->flags & PF_W))
			continue;
		for (uint64_t o = 0; o + BI_HDR_LEN <= s->filesz; o += 16) {
			d = g->image + s->offset + o;
			if (!memcmp(d, bi_magic, BI_MAGIC_LEN)) {
				*avail = s->filesz - o;
				return d;
			}
		}
	}
	return NULL;
}

static void parse_modinfo(struct gosym *g, char **buf, size_t *used, size_t *cap,
			  const uint8_t *mi, size_t milen)
{
	/* Strip the 16-byte sentinels when present. */
	if (milen >= 33 && mi[milen - 17] == '\n') {
		mi += 16;
		milen -= 32;
	}
	g->info.modinfo = keep(buf, used, cap, mi, milen);
	for (const char *line = g->info.modinfo; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 5 && !strncmp(line, "path\t", 5)) {
			g->info.path = keep(buf, used, cap, (const uint8_t *)line + 5, len - 5);
		} else if (len > 4 && !strncmp(line, "mod\t", 4)) {
			const char *f1 = line + 4, *tab = memchr(f1, '\t', len - 4);

			if (tab) {
				const char *f2 = tab + 1, *tab2 = memchr(f2, '\t', line + len - f2);

				g->info.mod_path = keep(buf, used, cap, (const uint8_t *)f1, tab - f1);
				g->info.mod_version = keep(buf, used, cap, (const uint8_t *)f2,
							   (tab2 ? tab2 : line + len) - f2);
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
}

int gosym__buildinfo_load(struct gosym *g)
{
	const uint8_t *hdr, *ver = NULL, *mi = NULL;
	size_t avail = 0, verlen = 0, milen = 0, used = 0, cap;
	uint64_t dummy;

	g->info.path = g->info.mod_path = g->info.mod_version = g->info.modinfo = "";
	/* CGO_ENABLED=1 in the settings doesn't mean C was linked; the cgo
	 * runtime's C entry point, or libc's start routine, does. */
	if (!gosym_symbol(g, "x_cgo_init", &dummy, NULL) ||
	    !gosym_symbol(g, "__libc_start_main", &dummy, NULL))
		g->info.cgo = true;
	hdr = find_header(g, &avail);
	if (!hdr)
		return 0;
	int ptrsize = hdr[14], flags = hdr[15];

	if (flags & 2) {
		uint64_t n;
		size_t u, off = BI_HDR_LEN;

		if (!uvarint(hdr + off, avail - off, &n, &u) || n > avail - off - u)
			return 0;
		ver = hdr + off + u;
		verlen = n;
		off += u + n;
		if (uvarint(hdr + off, avail - off, &n, &u) && n <= avail - off - u) {
			mi = hdr + off + u;
			milen = n;
		}
	} else if (ptrsize == g->info.ptr_size) {
		/* Pointers to string headers; find the header's vaddr first. */
		uint64_t hv;

		if (gosym_offset_to_vaddr(g, hdr - g->image, &hv))
			return 0;
		uint64_t p1, p2;

		/* read_ptr applies PIE relocations to the pointers themselves. */
		if (!gosym__read_ptr(g, hv + 16, &p1) && !gosym__read_ptr(g, hv + 16 + ptrsize, &p2)) {
			ver = go_string_at(g, p1, &verlen);
			mi = go_string_at(g, p2, &milen);
		}
	}
	if (!ver)
		return 0;
	cap = verlen + 2 * milen + 64;
	g->strbuf = malloc(cap);
	if (!g->strbuf)
		return gosym__err(-ENOMEM, "out of memory");
	snprintf(g->info.goversion, sizeof(g->info.goversion), "%.*s", (int)verlen, ver);
	gosym__parse_goversion(g->info.goversion, &g->info.go_major, &g->info.go_minor);
	if (mi)
		parse_modinfo(g, &g->strbuf, &used, &cap, mi, milen);
	return 0;
}
