// SPDX-License-Identifier: MIT
/* Source lines from DWARF for bpf_memleak's reports (see srcline.h). */
#include "srcline.h"

#include <elfutils/libdw.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dw_entry {
	const struct dwunw_module *mod;
	Dwarf *dw;		/* NULL: no DWARF (remembered, not retried) */
	int fd;
};

static struct dw_entry *cache;
static size_t ncache, capcache;

static Dwarf *dwarf_of(const struct dwunw_module *mod)
{
	struct dwunw_module_info mi;
	struct dw_entry e = {mod, NULL, -1};

	for (size_t i = 0; i < ncache; i++)
		if (cache[i].mod == mod)
			return cache[i].dw;
	if (ncache == capcache) {
		size_t nc = capcache ? 2 * capcache : 16;
		struct dw_entry *n = realloc(cache, nc * sizeof(*n));

		if (!n)
			return NULL;
		cache = n;
		capcache = nc;
	}
	if (dwunw_module_info(mod, &mi) == 0 && mi.path) {
		e.fd = open(mi.path, O_RDONLY | O_CLOEXEC);
		if (e.fd >= 0) {
			e.dw = dwarf_begin(e.fd, DWARF_C_READ);
			if (!e.dw) {
				close(e.fd);
				e.fd = -1;
			}
		}
	}
	cache[ncache++] = e;
	return e.dw;
}

/* The CU covering vaddr by its ranges: for producers that write no
 * .debug_aranges (clang by default), where dwarf_addrdie finds nothing. */
static int find_cu(Dwarf *dw, uint64_t vaddr, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(dw, off + hsize, out) && dwarf_haspc(out, vaddr) > 0)
			return 0;
		off = next;
	}
	return -1;
}

int srcline(const struct dwunw_module *mod, uint64_t vaddr, const char **file, int *line)
{
	Dwarf *dw = mod ? dwarf_of(mod) : NULL;
	Dwarf_Die cu;
	Dwarf_Line *l;
	const char *src, *slash;

	if (!dw)
		return -1;
	if (!dwarf_addrdie(dw, vaddr, &cu) && find_cu(dw, vaddr, &cu))
		return -1;
	l = dwarf_getsrc_die(&cu, vaddr);
	if (!l || !(src = dwarf_linesrc(l, NULL, NULL)) || dwarf_lineno(l, line))
		return -1;
	slash = strrchr(src, '/');
	*file = slash ? slash + 1 : src;
	return 0;
}

void srcline_free_all(void)
{
	for (size_t i = 0; i < ncache; i++) {
		dwarf_end(cache[i].dw);
		if (cache[i].fd >= 0)
			close(cache[i].fd);
	}
	free(cache);
	cache = NULL;
	ncache = capcache = 0;
}
