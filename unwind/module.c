// SPDX-License-Identifier: MIT
/*
 * Modules: one loaded ELF file each.  Loading maps the file, records its
 * PT_LOAD segments (for load bias and code bytes), compiles .eh_frame and
 * .debug_frame (decompressing SHF_COMPRESSED or .zdebug_frame), sorts the
 * function symbols, and opens the file with libgosym when it is a Go
 * binary.  All of that happens once per file; the cache keys files by path
 * and identity (device, inode, size, mtime) so a rebuilt binary is reloaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "gosym.h"
#include "dwunw_internal.h"

static __thread char errbuf[256];

void dwunw_set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *dwunw_errmsg(void)
{
	return errbuf;
}

struct dwunw_modules {
	struct dwunw_module *head;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void module_free(struct dwunw_module *m)
{
	if (!m)
		return;
	cfi_table_release(&m->eh);
	cfi_table_release(&m->dbg);
	free(m->dbg_inflated);
	free(m->syms);
	gosym_free(m->go);
	if (m->mapped && m->image)
		munmap(m->image, m->image_len);
	free(m->path);
	free(m);
}

/* Inflate a zlib stream into a new buffer of exactly `size` bytes. */
static uint8_t *inflate_all(const uint8_t *src, size_t len, uint64_t size)
{
	uLongf out_len = (uLongf)size;
	uint8_t *out;

	if (size == 0 || size > (1ULL << 31))
		return NULL;
	out = malloc(size);
	if (!out)
		return NULL;
	if (uncompress(out, &out_len, src, (uLong)len) != Z_OK || out_len != size) {
		free(out);
		return NULL;
	}
	return out;
}

/* Section bytes, decompressed if needed (*owned set when allocated). */
static const uint8_t *section_bytes(struct dwunw_module *m, GElf_Shdr *sh, bool zdebug,
				    size_t *len, uint8_t **owned)
{
	const uint8_t *p;

	*owned = NULL;
	if (sh->sh_type == SHT_NOBITS || sh->sh_offset > m->image_len ||
	    sh->sh_size > m->image_len - sh->sh_offset)
		return NULL;
	p = m->image + sh->sh_offset;
	*len = sh->sh_size;
	if (sh->sh_flags & SHF_COMPRESSED) {
		Elf64_Chdr ch;

		if (*len < sizeof(ch))
			return NULL;
		memcpy(&ch, p, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZLIB)
			return NULL;
		*owned = inflate_all(p + sizeof(ch), *len - sizeof(ch), ch.ch_size);
		*len = ch.ch_size;
		return *owned;
	}
	if (zdebug) {
		uint64_t size = 0;

		/* "ZLIB" + 8-byte big-endian size (Go <= 1.18, old binutils). */
		if (*len < 12 || memcmp(p, "ZLIB", 4))
			return NULL;
		for (int i = 0; i < 8; i++)
			size = size << 8 | p[4 + i];
		*owned = inflate_all(p + 12, *len - 12, size);
		*len = size;
		return *owned;
	}
	return p;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct mod_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Prefer sized symbols at the same address. */
	return (x->size < y->size) - (x->size > y->size);
}

static int load_symbols(struct dwunw_module *m, Elf *elf, Elf_Scn *symtab)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t n, k = 0;

	if (!gelf_getshdr(symtab, &sh) || !(d = elf_getdata(symtab, NULL)) || !sh.sh_entsize)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	m->syms = calloc(n ? n : 1, sizeof(*m->syms));
	if (!m->syms)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s))
			break;
		if ((GELF_ST_TYPE(s.st_info) != STT_FUNC && GELF_ST_TYPE(s.st_info) != STT_GNU_IFUNC) ||
		    s.st_shndx == SHN_UNDEF || !s.st_value)
			continue;
		name = elf_strptr(elf, sh.sh_link, s.st_name);
		if (!name || !*name)
			continue;
		m->syms[k].addr = s.st_value;
		m->syms[k].size = s.st_size;
		m->syms[k].name = name;
		k++;
	}
	qsort(m->syms, k, sizeof(*m->syms), cmp_sym);
	m->nsyms = k;
	return 0;
}

static int compile_section(struct dwunw_module *m, GElf_Shdr *sh, bool eh, bool zdebug,
			   struct cfi_table *t)
{
	struct cfi_section sec = {0};
	uint8_t *owned = NULL;
	int err;

	sec.data = section_bytes(m, sh, zdebug, &sec.len, &owned);
	if (!sec.data)
		return 0; /* unreadable: no rows, not fatal */
	sec.vaddr = sh->sh_addr;
	sec.eh = eh;
	sec.addr_size = 8;
	sec.ra_col = m->ops->ra_col;
	sec.fp_col = m->ops->fp_reg;
	err = cfi_compile(&sec, t);
	if (!eh && owned)
		m->dbg_inflated = owned; /* rows don't point into it, but keep it for debugging */
	else
		free(owned);
	return err;
}

/* Parse the image: segments, CFI, symbols.  Consumes nothing. */
static int module_parse(struct dwunw_module *m)
{
	Elf *elf = NULL;
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	size_t shstrndx, nph;
	int err = 0;

	elf_version(EV_CURRENT);
	elf = elf_memory((char *)m->image, m->image_len);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		dwunw_set_err("'%s': not an ELF file", m->path);
		err = -ENOEXEC;
		goto out;
	}
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		dwunw_set_err("'%s': only 64-bit little-endian ELF is supported", m->path);
		err = -EOPNOTSUPP;
		goto out;
	}
	m->e_machine = eh.e_machine;
	m->pie = eh.e_type == ET_DYN;
	m->ops = arch_ops_by_machine(eh.e_machine);
	if (!m->ops) {
		dwunw_set_err("'%s': unsupported machine %u", m->path, eh.e_machine);
		err = -EOPNOTSUPP;
		goto out;
	}
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph && m->nsegs < MOD_MAX_SEGS; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			m->segs[m->nsegs++] = (struct mod_seg){ph.p_vaddr, ph.p_memsz, ph.p_offset,
								ph.p_filesz, ph.p_flags};
		}
	}
	if (elf_getshdrstrndx(elf, &shstrndx))
		goto out; /* no sections: no CFI, no symbols; still a module */
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".eh_frame") && !m->eh.nrows)
			err = compile_section(m, &sh, true, false, &m->eh);
		else if ((!strcmp(name, ".debug_frame") || !strcmp(name, ".zdebug_frame")) &&
			 !m->dbg.nrows)
			err = compile_section(m, &sh, false, name[1] == 'z', &m->dbg);
		else if (sh.sh_type == SHT_SYMTAB)
			symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
		if (err)
			goto out;
	}
	if (symtab || dynsym)
		err = load_symbols(m, elf, symtab ? symtab : dynsym);
	/* Symbol names point into the image through libelf's string tables,
	 * which for elf_memory are the image itself: safe after elf_end. */
out:
	elf_end(elf);
	return err;
}

static int module_new(const char *name, struct dwunw_module **out)
{
	struct dwunw_module *m = calloc(1, sizeof(*m));

	if (!m || !(m->path = strdup(name))) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

static int module_finish(struct dwunw_module *m, uint64_t t0)
{
	int err = module_parse(m);

	if (err)
		return err;
	/* A Go binary?  gosym says -ENOEXEC for everything else. */
	if (m->image_len > 0) {
		struct gosym *g = NULL;

		if (gosym_open_mem(m->image, m->image_len, &g) == 0)
			m->go = g;
	}
	m->load_ns = now_ns() - t0;
	return 0;
}

int dwunw_modules_new(struct dwunw_modules **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void dwunw_modules_free(struct dwunw_modules *mods)
{
	if (!mods)
		return;
	for (struct dwunw_module *m = mods->head, *n; m; m = n) {
		n = m->next;
		module_free(m);
	}
	free(mods);
}

int dwunw_modules_get(struct dwunw_modules *mods, const char *path, struct dwunw_module **out)
{
	struct dwunw_module *m = NULL;
	struct stat st;
	uint64_t t0 = now_ns();
	int fd = -1, err;
	void *img;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		dwunw_set_err("cannot open '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	for (m = mods->head; m; m = m->next) {
		if (!strcmp(m->path, path) && m->dev == st.st_dev && m->ino == st.st_ino &&
		    m->size == st.st_size &&
		    m->mtime_ns == (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec) {
			close(fd);
			*out = m;
			return 0;
		}
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		err = -ENOEXEC;
		dwunw_set_err("'%s': not a regular file", path);
		goto cleanup;
	}
	if ((err = module_new(path, &m)))
		goto cleanup;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->size = st.st_size;
	m->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED) {
		err = -errno;
		dwunw_set_err("cannot map '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	m->image = img;
	m->image_len = (size_t)st.st_size;
	m->mapped = true;
	if ((err = module_finish(m, t0)))
		goto cleanup;
	close(fd);
	m->next = mods->head;
	mods->head = m;
	*out = m;
	return 0;
cleanup:
	if (fd >= 0)
		close(fd);
	module_free(m);
	return err;
}

int dwunw_modules_add_mem(struct dwunw_modules *mods, const char *name, const void *image,
			  size_t len, struct dwunw_module **out)
{
	struct dwunw_module *m = NULL;
	uint64_t t0 = now_ns();
	int err;

	*out = NULL;
	if ((err = module_new(name, &m)))
		return err;
	m->image = (uint8_t *)image;
	m->image_len = len;
	if ((err = module_finish(m, t0))) {
		module_free(m);
		return err;
	}
	m->next = mods->head;
	mods->head = m;
	*out = m;
	return 0;
}

int dwunw_module_info(const struct dwunw_module *m, struct dwunw_module_info *out)
{
	memset(out, 0, sizeof(*out));
	out->path = m->path;
	out->e_machine = m->e_machine;
	out->pie = m->pie;
	out->go = m->go != NULL;
	out->eh_frame_rows = m->eh.nrows;
	out->debug_frame_rows = m->dbg.nrows;
	out->cfi_fdes = m->eh.nfdes + m->dbg.nfdes;
	out->cfi_bad = m->eh.nbad + m->dbg.nbad;
	out->nsyms = m->nsyms;
	out->load_ns = m->load_ns;
	return 0;
}

struct gosym *dwunw_module_gosym(const struct dwunw_module *mod)
{
	return mod ? mod->go : NULL;
}

int dwunw_module_symbol(const struct dwunw_module *m, uint64_t vaddr, const char **name,
			uint64_t *offset)
{
	size_t lo = 0, hi = m->nsyms;

	if (!hi || vaddr < m->syms[0].addr)
		return -ENOENT;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].addr <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	/* Among equal addresses the sort put the largest size first; lo is
	 * the last of them, so step back to the first. */
	while (lo > 0 && m->syms[lo - 1].addr == m->syms[lo].addr)
		lo--;
	if (m->syms[lo].size && vaddr >= m->syms[lo].addr + m->syms[lo].size)
		return -ENOENT;
	*name = m->syms[lo].name;
	if (offset)
		*offset = vaddr - m->syms[lo].addr;
	return 0;
}

/* Walk the notes of every SHT_NOTE section / PT_NOTE segment for one of
 * (name, type); returns the descriptor or NULL. */
static const uint8_t *find_note(const struct dwunw_module *m, const char *want, uint32_t type,
				size_t *desc_len)
{
	Elf *elf = elf_memory((char *)m->image, m->image_len);
	Elf_Scn *scn = NULL;
	const uint8_t *found = NULL;

	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_rawdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			/* Go pads its name: "Go\0\0", n_namesz 4. */
			if (nh.n_type == type && nh.n_namesz >= strlen(want) + 1 &&
			    !memcmp((const char *)d->d_buf + noff, want, strlen(want) + 1)) {
				found = (const uint8_t *)d->d_buf + doff;
				*desc_len = nh.n_descsz;
				break;
			}
		}
	}
	elf_end(elf);
	return found;
}

int dwunw_module_build_id(const struct dwunw_module *m, char *buf, size_t len)
{
	const uint8_t *d;
	size_t n = 0;

	if ((d = find_note(m, "GNU", 3 /* NT_GNU_BUILD_ID */, &n)) && n) {
		if (len < 4 + 2 * n + 1)
			return -ENOSPC;
		strcpy(buf, "gnu:");
		for (size_t i = 0; i < n; i++)
			sprintf(buf + 4 + 2 * i, "%02x", d[i]);
		return 0;
	}
	if ((d = find_note(m, "Go", 4 /* ELF_NOTE_GOBUILDID_TAG */, &n)) && n) {
		if (len < 3 + n + 1)
			return -ENOSPC;
		memcpy(buf, "go:", 3);
		memcpy(buf + 3, d, n);
		buf[3 + n] = '\0';
		return 0;
	}
	return -ENOENT;
}

const uint8_t *module_code(const struct dwunw_module *m, uint64_t vaddr, size_t *avail)
{
	for (int i = 0; i < m->nsegs; i++) {
		const struct mod_seg *s = &m->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			uint64_t off = s->offset + (vaddr - s->vaddr);

			if (off >= m->image_len)
				return NULL;
			*avail = (size_t)(s->filesz - (vaddr - s->vaddr));
			if (*avail > m->image_len - off)
				*avail = m->image_len - off;
			return m->image + off;
		}
	}
	return NULL;
}

uint64_t module_bias(const struct dwunw_module *m, uint64_t start, uint64_t offset)
{
	const struct mod_seg *best = NULL;

	for (int i = 0; i < m->nsegs; i++) {
		const struct mod_seg *s = &m->segs[i];
		uint64_t pstart = s->offset & ~0xfffULL;

		if (offset >= pstart && offset < s->offset + s->filesz) {
			best = s;
			if (s->flags & PF_X)
				break;
		}
	}
	if (!best)
		return start - offset; /* no segment: assume vaddr == offset */
	return start - offset + best->offset - best->vaddr;
}
