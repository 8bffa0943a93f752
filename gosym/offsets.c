// SPDX-License-Identifier: MIT
/*
 * Offsets into runtime.g and runtime.m, and where a thread finds its g.
 *
 * DWARF first: the runtime's own types, in the compile unit named
 * "runtime" (Go's linker puts every runtime type there).  Only that unit's
 * top-level DIEs are read.  What costs is inflating compressed sections:
 * dwarf_begin_elf() inflates every debug section (line tables, location
 * lists, frame info: 70% of the bytes), so for 64-bit native-endian files
 * libdw is instead handed a small in-memory ELF holding only the sections
 * type lookups read, inflated here (SHF_COMPRESSED, Go 1.19+, and GNU
 * .zdebug_*, Go <= 1.18), .debug_info only as far as needed (see
 * min_dwarf).  Other files go through dwarf_begin_elf() on the binary
 * itself; libdw 0.188 inflates both kinds too.
 * Without usable DWARF, the per-version table (version_tables.c) answers for
 * 64-bit amd64/arm64 binaries of Go 1.17 - 1.27.
 *
 * The TLS slot of g is separate: it depends on the link, not the Go version.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <zlib.h>

#include "internal.h"
#include "version_tables.h"

#define RUNTIME_CU "runtime"

enum { T_G, T_M, NTYPES };

static const char *const type_names[NTYPES] = { "runtime.g", "runtime.m" };

static void offsets_unknown(struct gosym_runtime_offsets *rt)
{
	rt->g_stack_lo = rt->g_stack_hi = rt->g_m = rt->g_sched = -1;
	rt->g_sched_sp = rt->g_sched_pc = rt->g_atomicstatus = rt->g_goid = -1;
	rt->g_waitreason = rt->g_startpc = rt->g_gopc = rt->g_parentgoid = -1;
	rt->g_sched_bp = rt->g_sched_lr = rt->g_syscallsp = rt->g_syscallpc = -1;
	rt->g_waitsince = rt->g_lockedm = rt->g_labels = rt->g_cleanups = -1;
	rt->g_trackingseq = -1;
	rt->m_curg = rt->m_g0 = rt->m_procid = rt->m_id = -1;
	rt->tls_g = 0;
	rt->source = NULL;
	rt->tls_source = "unknown";
}

/* DW_AT_data_member_location: a constant (what Go writes) or, in older
 * producers, a DW_OP_plus_uconst expression. */
static int member_location(Dwarf_Die *member, Dwarf_Word *off)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(member, DW_AT_data_member_location, &attr))
		return -ENOENT;
	if (!dwarf_formudata(&attr, off))
		return 0;
	if (dwarf_getlocation(&attr, &ops, &nops) || nops != 1 || ops[0].atom != DW_OP_plus_uconst)
		return -EPROTO;
	*off = ops[0].number;
	return 0;
}

/* Offset of a dotted member path ("sched.sp") in the struct DIE st, or -1.
 * Member types are followed through typedefs: Go describes runtime.stack
 * and runtime.gobuf as typedefs of structure types. */
static int member_offset(Dwarf_Die *st, const char *path)
{
	Dwarf_Die cur = *st;
	Dwarf_Word total = 0;
	const char *p = path;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		Dwarf_Die child, type, peeled;
		Dwarf_Attribute attr;
		Dwarf_Word off;
		bool found = false;

		if (dwarf_child(&cur, &child))
			return -1;
		do {
			const char *name;

			if (dwarf_tag(&child) != DW_TAG_member)
				continue;
			name = dwarf_diename(&child);
			if (name && strlen(name) == len && !memcmp(name, p, len)) {
				found = true;
				break;
			}
		} while (!dwarf_siblingof(&child, &child));
		if (!found || member_location(&child, &off))
			return -1;
		total += off;
		if (!dot)
			break;
		if (!dwarf_attr_integrate(&child, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
		    dwarf_peel_type(&type, &peeled) || dwarf_tag(&peeled) != DW_TAG_structure_type)
			return -1;
		cur = peeled;
		p = dot + 1;
	}
	return total > INT32_MAX ? -1 : (int)total;
}

/* Look for the wanted structure types among the top-level DIEs of one CU.
 * Returns true once all are found. */
static bool cu_find_types(Dwarf_Die *cu, Dwarf_Die types[NTYPES], bool found[NTYPES])
{
	Dwarf_Die die;
	int nfound = 0;

	for (int i = 0; i < NTYPES; i++)
		nfound += found[i];
	if (dwarf_child(cu, &die))
		return false;
	do {
		const char *name;

		if (dwarf_tag(&die) != DW_TAG_structure_type)
			continue;
		name = dwarf_diename(&die);
		if (!name || strncmp(name, "runtime.", 8))
			continue;
		for (int i = 0; i < NTYPES; i++) {
			if (!found[i] && !strcmp(name, type_names[i])) {
				types[i] = die;
				found[i] = true;
				if (++nfound == NTYPES)
					return true;
			}
		}
	} while (!dwarf_siblingof(&die, &die));
	return false;
}

/* Find runtime.g and runtime.m: in the CUs named "runtime" (there can be
 * several: the Go 1.26 linker writes one for the package's assembly and
 * one holding the types), and, if all_cus, in every other CU when they
 * aren't there (a producer we haven't seen). */
static bool dwarf_find_types(Dwarf *dw, Dwarf_Die types[NTYPES], bool all_cus)
{
	bool found[NTYPES] = { false };

	for (int pass = 0; pass < (all_cus ? 2 : 1); pass++) {
		Dwarf_CU *cu = NULL;
		Dwarf_Die cudie;
		Dwarf_Half version;
		uint8_t unit_type;

		while (!dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL)) {
			const char *name = dwarf_diename(&cudie);
			bool is_runtime = name && !strcmp(name, RUNTIME_CU);

			if (is_runtime != (pass == 0))
				continue;
			if (cu_find_types(&cudie, types, found))
				return true;
		}
	}
	return false;
}

/* Read the offsets from an opened Dwarf.  -ENOENT: types not found;
 * -EPROTO: found, but without the fields every tracer needs (then the
 * DWARF is not the runtime we know, and the table is the better answer). */
static int dwarf_read_offsets(Dwarf *dw, bool all_cus, struct gosym_runtime_offsets *rt)
{
	Dwarf_Die types[NTYPES];

	if (!dwarf_find_types(dw, types, all_cus))
		return -ENOENT;
	Dwarf_Die *gt = &types[T_G], *mt = &types[T_M];

	rt->g_stack_lo = member_offset(gt, "stack.lo");
	rt->g_stack_hi = member_offset(gt, "stack.hi");
	rt->g_m = member_offset(gt, "m");
	rt->g_sched = member_offset(gt, "sched");
	rt->g_sched_sp = member_offset(gt, "sched.sp");
	rt->g_sched_pc = member_offset(gt, "sched.pc");
	rt->g_atomicstatus = member_offset(gt, "atomicstatus");
	rt->g_goid = member_offset(gt, "goid");
	rt->g_waitreason = member_offset(gt, "waitreason");
	rt->g_startpc = member_offset(gt, "startpc");
	rt->g_gopc = member_offset(gt, "gopc");
	rt->g_parentgoid = member_offset(gt, "parentGoid");
	rt->g_sched_bp = member_offset(gt, "sched.bp");
	rt->g_sched_lr = member_offset(gt, "sched.lr");
	rt->g_syscallsp = member_offset(gt, "syscallsp");
	rt->g_syscallpc = member_offset(gt, "syscallpc");
	rt->g_waitsince = member_offset(gt, "waitsince");
	rt->g_lockedm = member_offset(gt, "lockedm");
	rt->g_labels = member_offset(gt, "labels");
	rt->g_cleanups = member_offset(gt, "runningCleanups");
	rt->g_trackingseq = member_offset(gt, "trackingSeq");
	rt->m_curg = member_offset(mt, "curg");
	rt->m_g0 = member_offset(mt, "g0");
	rt->m_procid = member_offset(mt, "procid");
	rt->m_id = member_offset(mt, "id");
	if (rt->g_goid < 0 || rt->g_stack_hi < 0 || rt->g_atomicstatus < 0 || rt->g_m < 0 ||
	    rt->m_curg < 0)
		return -EPROTO;
	rt->source = "DWARF";
	return 0;
}

/*
 * The fast path: a minimal ELF image in memory, laid out as
 *   ehdr | section headers | .shstrtab | small sections | .debug_info
 * holding only what type lookups read, every section inflated.  The small
 * sections (abbreviations, string and address tables) are inflated whole;
 * .debug_info, most of the bytes, is inflated progressively into its final
 * place at the end of the image, and libdw is run over the prefix of
 * complete units inflated so far: Go's linker writes the runtime CUs early
 * in big binaries (7% into docker's 12.8 MB), so most of it is never
 * inflated.  Only for 64-bit files of the host's byte order (amd64, arm64):
 * the headers are written natively, and the DWARF inside keeps its own
 * encoding, which then matches.
 */
static const char *const min_sections[] = {
	"abbrev", "str", "line_str", "str_offsets", "addr", "info", /* info last */
};
#define NMIN	     (sizeof(min_sections) / sizeof(min_sections[0]))
#define MAX_INFLATED (1ULL << 31)
#define FIRST_CHUNK  (1u << 20)

struct dbg_sec {
	const uint8_t *raw;	/* section contents past any compression header */
	size_t rawlen;
	uint64_t size;		/* uncompressed size */
	bool zlib;
};

struct min_dwarf {
	uint8_t *image;
	size_t hdr_end;		/* start of .debug_info in image */
	uint8_t *info_shdr;	/* its section header, patched per attempt */
	uint64_t info_size;	/* total, inflated */
	uint64_t info_have;	/* inflated so far */
	z_stream zs;
	bool zs_live;
};

static void min_dwarf_free(struct min_dwarf *m)
{
	if (m->zs_live)
		inflateEnd(&m->zs);
	free(m->image);
	memset(m, 0, sizeof(*m));
}

/* Locate one debug section (.debug_X or .zdebug_X) and its compression.
 * -ENOENT if absent, -EOPNOTSUPP for a compression other than zlib. */
static int dbg_sec_find(struct gosym *g, const char *suffix, struct dbg_sec *d)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	memset(d, 0, sizeof(*d));
	if (elf_getshdrstrndx(g->elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const char *n;
		bool gnu;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(g->elf, shstrndx, sh.sh_name);
		if (!n)
			continue;
		if (!strncmp(n, ".debug_", 7) && !strcmp(n + 7, suffix))
			gnu = false;
		else if (!strncmp(n, ".zdebug_", 8) && !strcmp(n + 8, suffix))
			gnu = true;
		else
			continue;
		if (sh.sh_offset > g->image_size || sh.sh_size > g->image_size - sh.sh_offset)
			return -EPROTO;
		d->raw = g->image + sh.sh_offset;
		d->rawlen = sh.sh_size;
		if (gnu) {
			/* "ZLIB", big-endian 64-bit size, zlib stream. */
			if (d->rawlen < 12 || memcmp(d->raw, "ZLIB", 4))
				return -EPROTO;
			memcpy(&d->size, d->raw + 4, 8);
			d->size = be64toh(d->size);
			d->raw += 12;
			d->rawlen -= 12;
			d->zlib = true;
		} else if (sh.sh_flags & SHF_COMPRESSED) {
			/* Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign. */
			if (d->rawlen < 24 || gosym__u32(g, d->raw) != ELFCOMPRESS_ZLIB)
				return -EOPNOTSUPP;
			d->size = gosym__u64(g, d->raw + 8);
			d->raw += 24;
			d->rawlen -= 24;
			d->zlib = true;
		} else {
			d->size = d->rawlen;
		}
		/* zlib can't expand more than 1032:1: don't allocate for a
		 * size the stream can't have. */
		if (d->size > MAX_INFLATED || (d->zlib && d->size / 1032 > d->rawlen + 1))
			return -EPROTO;
		return 0;
	}
	return -ENOENT;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void shdr_put(uint8_t *p, uint32_t name, uint32_t type, uint64_t off, uint64_t size)
{
	put32(p + offsetof(Elf64_Shdr, sh_name), name);
	put32(p + offsetof(Elf64_Shdr, sh_type), type);
	put64(p + offsetof(Elf64_Shdr, sh_offset), off);
	put64(p + offsetof(Elf64_Shdr, sh_size), size);
	put64(p + offsetof(Elf64_Shdr, sh_addralign), 1);
}

/* Build the image with everything but the contents of .debug_info. */
static int min_dwarf_init(struct gosym *g, struct min_dwarf *m, struct dbg_sec *info)
{
	struct dbg_sec d[NMIN];
	uint32_t names[NMIN] = { 0 };
	char shstr[NMIN * 24 + 16];
	size_t shstr_len = 1, off, nsec = 0;
	int err;

	memset(m, 0, sizeof(*m));
	if (!g->is64 || g->info.big_endian != (__BYTE_ORDER == __BIG_ENDIAN))
		return -EOPNOTSUPP;
	shstr[0] = '\0';
	for (size_t i = 0; i < NMIN; i++) {
		err = dbg_sec_find(g, min_sections[i], &d[i]);
		if (err == -ENOENT && i != NMIN - 1)
			continue;
		if (err)
			return err;
		names[i] = (uint32_t)shstr_len;
		shstr_len += (size_t)snprintf(shstr + shstr_len, sizeof(shstr) - shstr_len,
					      ".debug_%s", min_sections[i]) + 1;
		nsec++;
	}
	uint32_t shstrtab_name = (uint32_t)shstr_len;

	shstr_len += (size_t)snprintf(shstr + shstr_len, sizeof(shstr) - shstr_len, ".shstrtab") + 1;

	size_t shoff = sizeof(Elf64_Ehdr);
	size_t shstr_off = shoff + (nsec + 2) * sizeof(Elf64_Shdr);

	off = shstr_off + shstr_len;
	for (size_t i = 0; i < NMIN - 1; i++)
		off += d[i].raw ? d[i].size : 0;
	m->hdr_end = off;
	*info = d[NMIN - 1];
	m->info_size = info->size;
	m->image = malloc(off + info->size);
	if (!m->image)
		return -ENOMEM;
	memset(m->image, 0, off);

	Elf64_Ehdr eh = { 0 };

	memcpy(eh.e_ident, g->image, EI_NIDENT);
	eh.e_type = ET_EXEC;
	eh.e_machine = (Elf64_Half)g->info.e_machine;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_shoff = shoff;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = (Elf64_Half)(nsec + 2);
	eh.e_shstrndx = 1;
	memcpy(m->image, &eh, sizeof(eh));

	/* Section 0 stays zero; 1 is .shstrtab; then the debug sections. */
	uint8_t *sh = m->image + shoff + sizeof(Elf64_Shdr);

	memcpy(m->image + shstr_off, shstr, shstr_len);
	shdr_put(sh, shstrtab_name, SHT_STRTAB, shstr_off, shstr_len);
	sh += sizeof(Elf64_Shdr);
	off = shstr_off + shstr_len;
	for (size_t i = 0; i < NMIN; i++) {
		if (!d[i].raw)
			continue;
		if (i == NMIN - 1) {
			m->info_shdr = sh;
			shdr_put(sh, names[i], SHT_PROGBITS, m->hdr_end, 0);
			break;
		}
		if (!d[i].zlib) {
			memcpy(m->image + off, d[i].raw, d[i].size);
		} else {
			uLongf outlen = d[i].size;

			if (uncompress(m->image + off, &outlen, d[i].raw, d[i].rawlen) != Z_OK ||
			    outlen != d[i].size)
				return -EPROTO;
		}
		shdr_put(sh, names[i], SHT_PROGBITS, off, d[i].size);
		off += d[i].size;
		sh += sizeof(Elf64_Shdr);
	}
	if (info->zlib) {
		if (inflateInit(&m->zs) != Z_OK)
			return -ENOMEM;
		m->zs_live = true;
		m->zs.next_in = (Bytef *)info->raw;
		m->zs.avail_in = (uInt)(info->rawlen > UINT32_MAX ? UINT32_MAX : info->rawlen);
		m->zs.next_out = m->image + m->hdr_end;
	} else {
		memcpy(m->image + m->hdr_end, info->raw, info->size);
		m->info_have = info->size;
	}
	return 0;
}

/* Inflate .debug_info up to want bytes (or its end). */
static int min_dwarf_grow(struct min_dwarf *m, uint64_t want)
{
	if (want > m->info_size)
		want = m->info_size;
	while (m->info_have < want) {
		uint64_t room = want - m->info_have;
		int zerr;

		m->zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
		zerr = inflate(&m->zs, Z_SYNC_FLUSH);
		m->info_have = (uint64_t)(m->zs.next_out - (m->image + m->hdr_end));
		if (zerr == Z_STREAM_END)
			return m->info_have == m->info_size ? 0 : -EPROTO;
		if (zerr != Z_OK)
			return -EPROTO;
	}
	return 0;
}

/* Bytes of .debug_info inflated so far that hold complete units. */
static uint64_t min_dwarf_units_end(const struct min_dwarf *m)
{
	const uint8_t *p = m->image + m->hdr_end;
	uint64_t off = 0;

	for (;;) {
		uint32_t len32;
		uint64_t len;

		if (m->info_have - off < 4)
			return off;
		memcpy(&len32, p + off, 4);
		if (len32 == 0xffffffff) {
			if (m->info_have - off < 12)
				return off;
			memcpy(&len, p + off + 4, 8);
			len += 12;
		} else {
			len = (uint64_t)len32 + 4;
		}
		if (len > m->info_have - off)
			return off;
		off += len;
	}
}

/* One libdw pass over the first info_len bytes of .debug_info. */
static int min_dwarf_try(struct min_dwarf *m, uint64_t info_len, bool all_cus,
			 struct gosym_runtime_offsets *rt)
{
	Elf *elf;
	Dwarf *dw;
	int err;

	put64(m->info_shdr + offsetof(Elf64_Shdr, sh_size), info_len);
	elf = elf_memory((char *)m->image, m->hdr_end + info_len);
	if (!elf)
		return -EPROTO;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		elf_end(elf);
		return -EPROTO;
	}
	err = dwarf_read_offsets(dw, all_cus, rt);
	dwarf_end(dw);
	elf_end(elf);
	return err;
}

static int offsets_from_min_dwarf(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	struct min_dwarf m;
	struct dbg_sec info;
	uint64_t want = FIRST_CHUNK, tried = 0;
	int err;

	err = min_dwarf_init(g, &m, &info);
	while (!err) {
		err = min_dwarf_grow(&m, want);
		if (err)
			break;
		bool all = m.info_have == m.info_size;
		uint64_t end = min_dwarf_units_end(&m);

		if (end > tried || all) {
			err = min_dwarf_try(&m, end, all, rt);
			tried = end;
			/* A prefix can miss the types, or hold them with member
			 * types in a later unit: inflate more and retry. */
			if (err && !all)
				err = 0;
			else
				break;
		}
		want *= 2;
	}
	min_dwarf_free(&m);
	return err;
}

static int offsets_from_dwarf(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	Dwarf *dw;
	int err;

	err = offsets_from_min_dwarf(g, rt);
	if (err != -EOPNOTSUPP)
		return err;
	/* Foreign byte order, 32-bit, or a compression we don't inflate: let
	 * libdw open the binary itself (inflating every debug section). */
	offsets_unknown(rt);
	dw = dwarf_begin_elf(g->elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	err = dwarf_read_offsets(dw, true, rt);
	dwarf_end(dw);
	return err;
}

static int offsets_from_table(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	const struct gosym_vt *row;
	const char *arch = g->info.arch ? g->info.arch : "";

	/* The tables hold 64-bit layouts checked on amd64 and arm64 only. */
	if (g->info.ptr_size != 8 || (strcmp(arch, "amd64") && strcmp(arch, "arm64")))
		return -EOPNOTSUPP;
	row = gosym__vt_lookup(g->info.go_major, g->info.go_minor);
	if (!row)
		return -EOPNOTSUPP;
	*rt = row->off;
	rt->source = row->source;
	return 0;
}

static int64_t align_up(int64_t v, int64_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/* Functions that exist in every Go release 1.17+ and call ABI0 code, so
 * the compiler reloads g into R14 from TLS after the call. */
static const char *const g_reload_funcs[] = {
	"runtime.casgstatus", "runtime.reentersyscall", "runtime.gcStart",
};

/*
 * The TLS offset of g as the code itself uses it: after a call into ABI0
 * code, ABIInternal code on amd64 re-zeroes X15 and reloads g into R14:
 *   45 0f 57 ff              xorps %xmm15,%xmm15
 * followed, depending on how the linker resolved runtime.tlsg, by
 *   64 4c 8b 34 25 <disp32>  mov %fs:disp32,%r14              (non-PIE)
 *   49 c7 c6 <imm32>         mov $imm32,%r14                  (PIE, IE
 *   64 4d 8b 36              mov %fs:(%r14),%r14               relaxed to LE)
 * The byte sequences are matched at every offset of a few known functions
 * (located through the pclntab, so it works on stripped binaries); all
 * matches must agree.  -ENOENT when there is none.
 */
static int tls_from_code(const struct gosym *g, int64_t *off)
{
	static const uint8_t xorps[] = { 0x45, 0x0f, 0x57, 0xff };
	static const uint8_t fsdisp[] = { 0x64, 0x4c, 0x8b, 0x34, 0x25 };
	static const uint8_t movimm[] = { 0x49, 0xc7, 0xc6 };
	static const uint8_t fsr14[] = { 0x64, 0x4d, 0x8b, 0x36 };
	bool found = false;
	int32_t val = 0;

	for (size_t f = 0; f < sizeof(g_reload_funcs) / sizeof(g_reload_funcs[0]); f++) {
		struct gosym_func fn;
		const uint8_t *code;
		size_t len;

		if (gosym_lookup_name(g, g_reload_funcs[f], &fn) || fn.end <= fn.entry ||
		    fn.end - fn.entry > (1 << 20))
			continue;
		len = fn.end - fn.entry;
		code = gosym_bytes(g, fn.entry, len);
		if (!code)
			continue;
		for (size_t i = 0; i + 4 + 11 <= len; i++) {
			const uint8_t *p = code + i + 4;
			int32_t v;

			if (memcmp(code + i, xorps, 4))
				continue;
			if (!memcmp(p, fsdisp, 5))
				memcpy(&v, p + 5, 4);
			else if (!memcmp(p, movimm, 3) && !memcmp(p + 7, fsr14, 4))
				memcpy(&v, p + 3, 4);
			else
				continue;
			v = (int32_t)le32toh((uint32_t)v);
			if (found && v != val)
				return -EPROTO;
			val = v;
			found = true;
		}
		if (found)
			break;
	}
	if (!found)
		return -ENOENT;
	*off = val;
	return 0;
}

/*
 * Where g lives relative to the thread pointer.
 *
 * linux/amd64: the runtime keeps g in a TLS slot, runtime.tlsg, read as
 * %fs:off.  Go's internal linker makes the executable's TLS block that one
 * 8-byte slot, so off = -8.  With external linking (cgo) the slot shares the
 * executable's PT_TLS block with the C code's __thread variables, and the
 * C linker resolves the slot to its TP offset.  glibc (x86-64 TLS variant
 * II) places the executable's block right below the thread pointer at
 *   tpoff = roundup(p_memsz - firstbyte, p_align) + firstbyte,
 *   firstbyte = -p_vaddr & (p_align - 1),
 * and a TLS symbol of the executable is then at st_value - tpoff.
 * (Checked against the %fs:-0x18 the linker wrote into a cgo binary with
 * 67 bytes of C TLS; tests/unit/test_offsets.py re-checks it with objdump.)
 * A stripped binary has no runtime.tlsg symbol: then the code says it
 * (tls_from_code).
 *
 * linux/arm64: ABIInternal keeps g in R28 at all times; the TLS copy only
 * matters in C code, where the tracer uses g.m.curg from a Go frame anyway.
 */
static void tls_load(struct gosym *g, struct gosym_runtime_offsets *rt)
{
	const char *arch = g->info.arch ? g->info.arch : "";
	GElf_Phdr tls = { 0 };
	bool have_tls = false;
	uint64_t value, size;
	int64_t code_off;
	size_t phnum;

	if (!strcmp(arch, "arm64")) {
		rt->tls_g = 0;
		rt->tls_source = "register R28";
		return;
	}
	if (strcmp(arch, "amd64"))
		return; /* tls_g 0, "unknown" */

	if (!elf_getphdrnum(g->elf, &phnum)) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(g->elf, i, &ph) && ph.p_type == PT_TLS) {
				tls = ph;
				have_tls = true;
				break;
			}
		}
	}
	if (!have_tls || tls.p_memsz <= 8) {
		/* No TLS block, or one holding nothing but Go's slot. */
		rt->tls_g = -8;
		rt->tls_source = "default -8";
		return;
	}
	if (!gosym_symbol(g, "runtime.tlsg", &value, &size)) {
		/* st_value of a TLS symbol is its offset in the TLS template;
		 * accept an absolute address too. */
		if (value >= tls.p_memsz && value - tls.p_vaddr < tls.p_memsz)
			value -= tls.p_vaddr;
		if (value < tls.p_memsz) {
			int64_t align = tls.p_align ? (int64_t)tls.p_align : 1;
			int64_t firstbyte = (int64_t)(-tls.p_vaddr & (uint64_t)(align - 1));
			int64_t tpoff = align_up((int64_t)tls.p_memsz - firstbyte, align) + firstbyte;

			rt->tls_g = (int64_t)value - tpoff;
			rt->tls_source = "runtime.tlsg + PT_TLS";
			return;
		}
	}
	/* Stripped cgo binary with C thread-locals: the slot could be
	 * anywhere in the block; ask the code. */
	if (!tls_from_code(g, &code_off) && code_off < 0 && -code_off <= (int64_t)tls.p_memsz + 64) {
		rt->tls_g = code_off;
		rt->tls_source = "code (g reload after ABI0 calls)";
		return;
	}
	rt->tls_g = 0;
	rt->tls_source = "unknown (no runtime.tlsg symbol, PT_TLS shared with C)";
}

void gosym__offsets_load(struct gosym *g)
{
	struct gosym_runtime_offsets rt;
	int err = -ENOENT;

	offsets_unknown(&rt);
	if (g->info.has_dwarf)
		err = offsets_from_dwarf(g, &rt);
	if (err) {
		offsets_unknown(&rt);
		err = offsets_from_table(g, &rt);
	}
	if (err) {
		g->rt_err = err;
		offsets_unknown(&g->rt);
		return;
	}
	tls_load(g, &rt);
	g->rt = rt;
	g->rt_err = 0;
}

int gosym_runtime_offsets(const struct gosym *g, struct gosym_runtime_offsets *out)
{
	const char *arch = g->info.arch ? g->info.arch : "?";

	if (!g->rt_err) {
		*out = g->rt;
		return 0;
	}
	if (g->info.ptr_size != 8 || (strcmp(arch, "amd64") && strcmp(arch, "arm64")))
		return gosym__err(g->rt_err, "no usable DWARF, and the built-in runtime offsets cover "
				  "only amd64 and arm64 (this binary is %s)", arch);
	if (!g->info.go_minor)
		return gosym__err(g->rt_err, "no usable DWARF and no Go version to pick built-in "
				  "runtime offsets by");
	return gosym__err(g->rt_err, "no usable DWARF, and no built-in runtime offsets for %s "
			  "(tables cover Go 1.%d to 1.%d)", g->info.goversion,
			  gosym__vt_first_minor(), gosym__vt_last_minor());
}
