// SPDX-License-Identifier: MIT
/*
 * ELF layer: headers, PT_LOAD segments, sections by name, symbols, address
 * translation and PIE relocations.  Section contents are read from the raw
 * image (never through elf_getdata) so no conversion happens behind our back;
 * every offset from the file is bounds-checked against the image.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif
#ifndef R_LARCH_RELATIVE
#define R_LARCH_RELATIVE 3
#endif

static const char *arch_name(unsigned int machine, bool is64, bool big)
{
	switch (machine) {
	case EM_X86_64: return "amd64";
	case EM_AARCH64: return "arm64";
	case EM_386: return "386";
	case EM_ARM: return "arm";
	case EM_MIPS: return is64 ? (big ? "mips64" : "mips64le") : (big ? "mips" : "mipsle");
	case EM_PPC64: return big ? "ppc64" : "ppc64le";
	case EM_RISCV: return "riscv64";
	case EM_S390: return "s390x";
	case EM_LOONGARCH: return "loong64";
	default: return "unknown";
	}
}

static bool in_image(const struct gosym *g, uint64_t off, uint64_t len)
{
	return off <= g->image_size && len <= g->image_size - off;
}

static unsigned int relative_type(unsigned int machine)
{
	switch (machine) {
	case EM_X86_64: return R_X86_64_RELATIVE;
	case EM_AARCH64: return R_AARCH64_RELATIVE;
	case EM_386: return R_386_RELATIVE;
	case EM_ARM: return R_ARM_RELATIVE;
	case EM_PPC64: return R_PPC64_RELATIVE;
	case EM_RISCV: return R_RISCV_RELATIVE;
	case EM_S390: return R_390_RELATIVE;
	case EM_LOONGARCH: return R_LARCH_RELATIVE;
	default: return 0;
	}
}

static int reloc_cmp(const void *a, const void *b)
{
	const struct gosym_reloc *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* Collect R_*_RELATIVE entries of every SHT_RELA section (PIE only). */
static int relocs_load(struct gosym *g)
{
	unsigned int rtype = relative_type(g->info.e_machine);
	size_t entsize = g->is64 ? 24 : 12, cap = 0;
	Elf_Scn *scn = NULL;

	if (!g->info.pie || !rtype)
		return 0;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		if (!in_image(g, sh.sh_offset, sh.sh_size))
			continue;
		for (uint64_t o = 0; o + entsize <= sh.sh_size; o += entsize) {
			const uint8_t *p = g->image + sh.sh_offset + o;
			uint64_t off, info, add;

			if (g->is64) {
				off = gosym__u64(g, p);
				info = gosym__u64(g, p + 8) & 0xffffffff;
				add = gosym__u64(g, p + 16);
			} else {
				off = gosym__u32(g, p);
				info = gosym__u32(g, p + 4) & 0xff;
				add = gosym__u32(g, p + 8);
			}
			if (info != rtype)
				continue;
			if (g->nrelocs == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				void *n = realloc(g->relocs, ncap * sizeof(*g->relocs));

				if (!n)
					return gosym__err(-ENOMEM, "out of memory");
				g->relocs = n;
				cap = ncap;
			}
			g->relocs[g->nrelocs].vaddr = off;
			g->relocs[g->nrelocs].addend = add;
			g->nrelocs++;
		}
	}
	if (g->nrelocs)
		qsort(g->relocs, g->nrelocs, sizeof(*g->relocs), reloc_cmp);
	return 0;
}

int gosym__elf_load(struct gosym *g)
{
	const uint8_t *id = g->image;
	GElf_Ehdr eh;
	size_t phnum, shstrndx;
	Elf_Scn *scn = NULL;

	if (memcmp(id, ELFMAG, SELFMAG))
		return gosym__err(-ENOEXEC, "not an ELF file");
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return gosym__err(-ENOEXEC, "bad ELF class %u", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)
		return gosym__err(-ENOEXEC, "bad ELF data encoding %u", id[EI_DATA]);
	elf_version(EV_CURRENT);
	g->elf = elf_memory((char *)g->image, g->image_size);
	if (!g->elf || elf_kind(g->elf) != ELF_K_ELF || !gelf_getehdr(g->elf, &eh))
		return gosym__err(-ENOEXEC, "not a valid ELF file: %s", elf_errmsg(-1));
	g->is64 = id[EI_CLASS] == ELFCLASS64;
	g->info.big_endian = id[EI_DATA] == ELFDATA2MSB;
	g->info.ptr_size = g->is64 ? 8 : 4;
	g->info.e_machine = eh.e_machine;
	g->info.arch = arch_name(eh.e_machine, g->is64, g->info.big_endian);
	g->info.pie = eh.e_type == ET_DYN;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return gosym__err(-ENOEXEC, "ELF file is not an executable (e_type %u)", eh.e_type);

	/* A truncated file is the commonest corruption (a copy cut short):
	 * say so plainly instead of failing later on a missing table. */
	uint64_t need = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;

	if (eh.e_phnum && need > g->image_size)
		return gosym__err(-EPROTO, "truncated: program headers need %llu bytes, file has %zu",
				  (unsigned long long)need, g->image_size);
	need = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
	if (eh.e_shoff && need > g->image_size)
		return gosym__err(-EPROTO, "truncated: section headers need %llu bytes, file has %zu",
				  (unsigned long long)need, g->image_size);
	if (elf_getphdrnum(g->elf, &phnum))
		return gosym__err(-ENOEXEC, "bad program headers: %s", elf_errmsg(-1));
	for (size_t i = 0; i < phnum && g->nsegs < GOSYM_MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > g->image_size || ph.p_filesz > g->image_size - ph.p_offset)
			return gosym__err(-EPROTO, "truncated: segment %zu needs %llu bytes, file has %zu",
					  i, (unsigned long long)(ph.p_offset + ph.p_filesz),
					  g->image_size);
		/* Clamp the file image of a truncated file; never trust sizes. */
		struct gosym_seg *s = &g->segs[g->nsegs++];

		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		if (s->offset > g->image_size)
			s->filesz = 0;
		else if (s->filesz > g->image_size - s->offset)
			s->filesz = g->image_size - s->offset;
		s->flags = ph.p_flags;
	}

	g->info.stripped = true;
	if (elf_getshdrstrndx(g->elf, &shstrndx))
		shstrndx = 0;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > g->image_size || sh.sh_size > g->image_size - sh.sh_offset))
			return gosym__err(-EPROTO, "truncated: a section needs %llu bytes, file has %zu",
					  (unsigned long long)(sh.sh_offset + sh.sh_size), g->image_size);
		if (sh.sh_type == SHT_SYMTAB)
			g->info.stripped = false;
		name = shstrndx ? elf_strptr(g->elf, shstrndx, sh.sh_name) : NULL;
		if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
			g->info.has_dwarf = true;
	}
	return relocs_load(g);
}

int gosym__section(const struct gosym *g, const char *name, const uint8_t **data,
		   size_t *size, uint64_t *addr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(g->elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(g->elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name))
			continue;
		if (addr)
			*addr = sh.sh_addr;
		if (sh.sh_type == SHT_NOBITS || !in_image(g, sh.sh_offset, 0)) {
			*data = NULL;
			*size = 0;
		} else {
			*data = g->image + sh.sh_offset;
			*size = sh.sh_size;
			if (*size > g->image_size - sh.sh_offset)
				*size = g->image_size - sh.sh_offset;
		}
		return 0;
	}
	return -ENOENT;
}

const uint8_t *gosym__vaddr_ptr(const struct gosym *g, uint64_t vaddr, size_t *avail)
{
	for (int i = 0; i < g->nsegs; i++) {
		const struct gosym_seg *s = &g->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*avail = s->filesz - (vaddr - s->vaddr);
			return g->image + s->offset + (vaddr - s->vaddr);
		}
	}
	*avail = 0;
	return NULL;
}

const void *gosym_bytes(const struct gosym *g, uint64_t vaddr, size_t len)
{
	size_t avail;
	const uint8_t *p = gosym__vaddr_ptr(g, vaddr, &avail);

	return p && len <= avail ? p : NULL;
}

int gosym_vaddr_to_offset(const struct gosym *g, uint64_t vaddr, uint64_t *offset)
{
	for (int i = 0; i < g->nsegs; i++) {
		const struct gosym_seg *s = &g->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*offset = s->offset + (vaddr - s->vaddr);
			return 0;
		}
	}
	return gosym__err(-ENOENT, "address 0x%llx is not in a file-backed segment",
			  (unsigned long long)vaddr);
}

int gosym_offset_to_vaddr(const struct gosym *g, uint64_t offset, uint64_t *vaddr)
{
	for (int i = 0; i < g->nsegs; i++) {
		const struct gosym_seg *s = &g->segs[i];

		if (offset >= s->offset && offset - s->offset < s->filesz) {
			*vaddr = s->vaddr + (offset - s->offset);
			return 0;
		}
	}
	return gosym__err(-ENOENT, "file offset 0x%llx is not in a loaded segment",
			  (unsigned long long)offset);
}

int gosym__read_ptr(const struct gosym *g, uint64_t vaddr, uint64_t *val)
{
	const uint8_t *p = gosym_bytes(g, vaddr, g->info.ptr_size);
	size_t lo = 0, hi = g->nrelocs;

	if (!p)
		return -ENOENT;
	*val = gosym__uptr(g, p);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->relocs[mid].vaddr < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->nrelocs && g->relocs[lo].vaddr == vaddr)
		*val = g->relocs[lo].addend;
	return 0;
}

static int symtab_find(const struct gosym *g, Elf_Scn *scn, const GElf_Shdr *sh,
		       const char *name, uint64_t *addr, uint64_t *size)
{
	size_t entsize = g->is64 ? 24 : 16;
	Elf_Scn *strscn = elf_getscn(g->elf, sh->sh_link);
	GElf_Shdr strsh;
	size_t namelen = strlen(name);

	if (!strscn || !gelf_getshdr(strscn, &strsh) || !in_image(g, strsh.sh_offset, strsh.sh_size) ||
	    !in_image(g, sh->sh_offset, sh->sh_size))
		return -ENOENT;
	const char *strtab = (const char *)g->image + strsh.sh_offset;

	for (uint64_t o = 0; o + entsize <= sh->sh_size; o += entsize) {
		const uint8_t *p = g->image + sh->sh_offset + o;
		uint32_t nameoff = gosym__u32(g, p);

		if (nameoff >= strsh.sh_size || strsh.sh_size - nameoff <= namelen)
			continue;
		if (memcmp(strtab + nameoff, name, namelen + 1))
			continue;
		if (g->is64) {
			*addr = gosym__u64(g, p + 8);
			if (size)
				*size = gosym__u64(g, p + 16);
		} else {
			*addr = gosym__u32(g, p + 4);
			if (size)
				*size = gosym__u32(g, p + 8);
		}
		return 0;
	}
	return -ENOENT;
}

int gosym_symbol(const struct gosym *g, const char *name, uint64_t *addr, uint64_t *size)
{
	static const Elf64_Word types[] = { SHT_SYMTAB, SHT_DYNSYM };

	for (int t = 0; t < 2; t++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(g->elf, scn))) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != types[t])
				continue;
			if (!symtab_find(g, scn, &sh, name, addr, size))
				return 0;
		}
	}
	return -ENOENT;
}
