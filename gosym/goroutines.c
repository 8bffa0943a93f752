// SPDX-License-Identifier: MIT
/*
 * What reading another process's goroutines needs from the binary and its
 * Go version: the goroutine list's addresses, the status names, the
 * wrapper funcID, and the rules of the runtime's goroutine dump text
 * (runtime/traceback.go of each release; docs/runtime-offsets.md,
 * "Goroutine dumps", says which release changed what).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "version_tables.h"

void gosym__goroutines_load(struct gosym *g)
{
	const struct gosym_vt *row = gosym__vt_lookup(g->info.go_major, g->info.go_minor);

	g->funcid_wrapper = row ? row->funcid_wrapper : -1;
}

int gosym_goroutine_facts(const struct gosym *g, struct gosym_goroutine_facts *out)
{
	const struct gosym_vt *row = gosym__vt_lookup(g->info.go_major, g->info.go_minor);
	int v = g->info.go_minor;

	memset(out, 0, sizeof(*out));
	if (!row) {
		if (!v)
			return gosym__err(-EOPNOTSUPP, "no Go version in the binary (no build info)");
		return gosym__err(-EOPNOTSUPP, "a %s program", g->info.goversion);
	}
	out->source = row->source;
	out->status_names = row->gstatus;
	out->nstatus_names = row->ngstatus;
	out->funcid_wrapper = row->funcid_wrapper;
	/* runtime/pprof: labelMap became a struct holding a sorted list in 1.24. */
	out->labels = v >= 24 ? GOSYM_LABELS_LIST : GOSYM_LABELS_MAP;
	/* printcreatedby1 got the goid argument in 1.21 (parentGoid: 1.21). */
	out->created_by_goid = v >= 21;
	/* funcNameForPrint / printFuncName appeared with the 1.21 traceback
	 * rewrite; 1.27 splits generic methods of generic types. */
	out->generic_names_elided = v >= 27 ? 2 : v >= 21 ? 1 : 0;
	if (v >= 21) {
		out->inner_frames = 50;	/* tracebackInnerFrames */
		out->outer_frames = 50;	/* tracebackOuterFrames */
	} else {
		out->max_frames = 100;	/* _TracebackMaxFrames */
	}
	out->exported_runtime_methods = v >= 23;
	out->args_liveness = v >= 18;	/* FUNCDATA_ArgLiveInfo */
	out->debugcall_injected = v >= 20;
	out->finalizer_frames_shown = v >= 25;
	out->running_syscallsp_traced = v >= 26;
	out->leaked_suffix = v >= 26;
	out->labels_in_header = v >= 27 ? 2 : v == 26 ? 1 : 0;
	out->labels_in_header_default = v >= 27;
	out->profile_depth = v >= 23 ? 128 : 32;
	out->profile_hides_internal_runtime = v >= 24;
	return 0;
}

bool gosym_elide_wrapper(const struct gosym_frame *frame, enum gosym_special callee)
{
	return frame->wrapper && callee != GOSYM_FN_GOPANIC && callee != GOSYM_FN_SIGPANIC &&
	       callee != GOSYM_FN_PANICWRAP;
}

enum gosym_special gosym_frame_special(const struct gosym *g, const struct gosym_frame *frame)
{
	(void)g;
	return frame->func ? gosym__special_by_name_funcid(frame->func, frame->funcid) :
			     GOSYM_FN_NORMAL;
}

/* A writable NOBITS section (.bss, .noptrbss, the zero-initialised
 * data allglen and allgptr live in) holding [addr, addr + 8). */
static bool in_bss(const struct gosym *g, uint64_t addr)
{
	Elf_Scn *scn = NULL;

	if (addr & 7)
		return false;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOBITS && (sh.sh_flags & SHF_WRITE) &&
		    (sh.sh_flags & SHF_ALLOC) && addr >= sh.sh_addr && addr + 8 <= sh.sh_addr + sh.sh_size)
			return true;
	}
	return false;
}

/* amd64: `mov disp32(%rip), %reg` (REX.W [+R] 8B, ModRM mod=00 rm=101),
 * the form Go's compiler gives plain and atomic 8-byte loads of globals.
 * Byte matching can hit inside another instruction: the caller checks the
 * targets. */
static int scan_amd64(const struct gosym *g, const uint8_t *code, uint64_t entry, size_t len,
		      uint64_t *targets, int max)
{
	int n = 0;

	for (size_t i = 0; i + 7 <= len && n < max; i++) {
		if ((code[i] & 0xfb) != 0x48 || code[i + 1] != 0x8b || (code[i + 2] & 0xc7) != 0x05)
			continue;
		int32_t disp = (int32_t)gosym__u32(g, code + i + 3);
		uint64_t t = entry + i + 7 + (int64_t)disp;

		if (in_bss(g, t)) {
			targets[n++] = t;
			i += 6;
		}
	}
	return n;
}

/* arm64: ADRP xN, page followed within two instructions by
 * `ADD xM, xN, #lo12` or `LDR xM, [xN, #imm]` (LDAR then loads from xM). */
static int scan_arm64(const struct gosym *g, const uint8_t *code, uint64_t entry, size_t len,
		      uint64_t *targets, int max)
{
	int n = 0;

	for (size_t i = 0; i + 4 <= len && n < max; i += 4) {
		uint32_t in = gosym__u32(g, code + i);

		if ((in & 0x9f000000) != 0x90000000)
			continue;
		int64_t imm = (int64_t)((((in >> 5) & 0x7ffff) << 2) | ((in >> 29) & 3));
		unsigned int rd = in & 31;
		uint64_t page;

		if (imm & (1 << 20))
			imm -= 1 << 21;
		page = ((entry + i) & ~0xfffULL) + (uint64_t)(imm << 12);
		for (size_t j = i + 4; j <= i + 8 && j + 4 <= len; j += 4) {
			uint32_t nx = gosym__u32(g, code + j);
			uint64_t t;

			if (((nx >> 5) & 31) != rd)
				continue;
			if ((nx & 0xff800000) == 0x91000000) /* ADD (immediate), 64-bit */
				t = page + (((nx >> 10) & 0xfff) << (((nx >> 22) & 1) ? 12 : 0));
			else if ((nx & 0xffc00000) == 0xf9400000) /* LDR (unsigned offset), 64-bit */
				t = page + (((nx >> 10) & 0xfff) << 3);
			else
				continue;
			if (in_bss(g, t))
				targets[n++] = t;
			break;
		}
	}
	return n;
}

/* runtime.forEachGRace (Go 1.17+) starts with atomicAllG(): a load of
 * allglen, then one of allgptr.  Stripped binaries keep the function in
 * the pclntab, so its code gives both addresses. */
static int allgs_from_code(const struct gosym *g, struct gosym_allgs *out)
{
	const char *arch = g->info.arch ? g->info.arch : "";
	struct gosym_func fn;
	const uint8_t *code;
	uint64_t t[2];
	size_t avail;
	int n;

	if (gosym_lookup_name(g, "runtime.forEachGRace", &fn) || fn.end <= fn.entry)
		return -ENOENT;
	code = gosym__vaddr_ptr(g, fn.entry, &avail);
	if (!code || avail < fn.end - fn.entry)
		return -ENOENT;
	if (!strcmp(arch, "amd64"))
		n = scan_amd64(g, code, fn.entry, fn.end - fn.entry, t, 2);
	else if (!strcmp(arch, "arm64"))
		n = scan_arm64(g, code, fn.entry, fn.end - fn.entry, t, 2);
	else
		return -EOPNOTSUPP;
	if (n != 2 || t[0] == t[1])
		return -ENOENT;
	out->allglen = t[0];
	out->allgptr = t[1];
	out->source = "code (runtime.forEachGRace)";
	return 0;
}

int gosym_allgs(const struct gosym *g, struct gosym_allgs *out)
{
	uint64_t size;

	memset(out, 0, sizeof(*out));
	if (!gosym_symbol(g, "runtime.allglen", &out->allglen, &size) &&
	    !gosym_symbol(g, "runtime.allgptr", &out->allgptr, &size)) {
		out->source = "symbols";
		return 0;
	}
	if (!allgs_from_code(g, out))
		return 0;
	memset(out, 0, sizeof(*out));
	return gosym__err(-ENOENT, "cannot find runtime.allglen and runtime.allgptr: no symbols, "
			  "and runtime.forEachGRace's code does not load them");
}
