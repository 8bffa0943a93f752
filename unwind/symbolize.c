// SPDX-License-Identifier: MIT
/*
 * Frame symbolization: gosym for Go code (inline tree included), the ELF
 * symbol table for everything else.
 */
#include <errno.h>

#include "gosym.h"
#include "dwunw_internal.h"

#define MAX_INLINE 32

int dwunw_symbolize(const struct dwunw_frame *f, struct dwunw_sym *out, int max)
{
	const struct dwunw_module *m = f->module;
	uint64_t vaddr;
	const char *name;

	if (!m)
		return 0;
	vaddr = f->vaddr - ((f->flags & DWUNW_F_RETADDR) ? 1 : 0);
	if (m->go) {
		struct gosym_frame gf[MAX_INLINE];
		int n = gosym_pc_frames(m->go, vaddr, gf, MAX_INLINE);

		if (n > 0) {
			if (n > MAX_INLINE)
				n = MAX_INLINE;
			for (int i = 0; i < n && i < max; i++) {
				out[i].func = gf[i].func;
				out[i].file = gf[i].file;
				out[i].line = gf[i].line;
				out[i].inlined = gf[i].inlined;
				out[i].wrapper = gf[i].wrapper;
				out[i].special = gosym_frame_special(m->go, &gf[i]);
			}
			return n;
		}
	}
	if (dwunw_module_symbol(m, vaddr, &name, NULL) == 0) {
		if (max > 0) {
			out[0].func = name;
			out[0].file = NULL;
			out[0].line = 0;
			out[0].inlined = false;
			out[0].wrapper = false;
			out[0].special = GOSYM_FN_NORMAL;
		}
		return 1;
	}
	return 0;
}

bool dwunw_sym_elided(const struct dwunw_sym *sym, int callee_special)
{
	struct gosym_frame f = { .func = sym->func, .wrapper = sym->wrapper };

	return gosym_elide_wrapper(&f, (enum gosym_special)callee_special);
}
