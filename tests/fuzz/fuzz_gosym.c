// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over the whole open + lookup path of libgosym: any byte
 * string is opened as a binary; when it opens, every lookup is exercised on
 * PCs and names derived from it.  Built with ASan + UBSan (make fuzz).
 */
#include <stdint.h>
#include <string.h>

#include "gosym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gosym *g = NULL;
	const struct gosym_info *in;
	struct gosym_runtime_offsets rt;
	const char *const *wr;
	const char *src;

	if (gosym_open_mem(data, size, &g))
		return 0;
	in = gosym_info(g);
	gosym_runtime_offsets(g, &rt);
	gosym_wait_reasons(g, &wr, &src);
	{
		/* calling convention; type descriptors wherever the types
		 * region and the first words of data point */
		struct gosym_abi abi;
		struct gosym_rtype t;
		uint64_t types;

		gosym_abi(g, &abi);
		if (!gosym_types_base(g, &types))
			for (uint64_t a = types; a < types + 65536; a += 32)
				gosym_rtype(g, a, &t);
	}
	for (size_t i = 0; i < in->nfuncs && i < 4096; i++) {
		struct gosym_func f, x;
		struct gosym_frame fr[8];
		struct gosym_pcinfo pi;
		const char *file;
		int line;
		int32_t sp;
		uint64_t off;

		if (gosym_func_at(g, i, &f))
			continue;
		gosym_lookup_name(g, f.name, &x);
		for (uint64_t pc = f.entry; pc < f.end && pc < f.entry + 64; pc += 7) {
			gosym_lookup_pc(g, pc, &x);
			gosym_pc_line(g, pc, &file, &line);
			gosym_lookup_pc_line(g, pc, &pi);
			gosym_pc_frames(g, pc, fr, 8);
			gosym_pc_spdelta(g, pc, &sp);
		}
		if (!gosym_vaddr_to_offset(g, f.entry, &off))
			gosym_offset_to_vaddr(g, off, &off);
		gosym_bytes(g, f.entry, f.end - f.entry);
	}
	gosym_free(g);
	return 0;
}
