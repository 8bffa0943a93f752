// SPDX-License-Identifier: MIT
/*
 * gosym_open(): map the file, then run the loaders in the order internal.h
 * describes.  Also the small shared helpers: error messages and
 * endian-aware reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static __thread char errmsg[512];

int gosym__err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

const char *gosym_errmsg(void)
{
	return errmsg[0] ? errmsg : "no error";
}

const struct gosym_info *gosym_info(const struct gosym *g)
{
	return &g->info;
}

static int load(struct gosym *g)
{
	int err;

	errmsg[0] = '\0';
	err = gosym__elf_load(g);
	if (err)
		return err;
	err = gosym__buildinfo_load(g);
	if (err)
		return err;
	err = gosym__pcln_load(g);
	if (err)
		return err;
	err = gosym__name_index_build(g);
	if (err)
		return err;
	gosym__offsets_load(g);
	gosym__waitreasons_load(g);
	gosym__goroutines_load(g);
	return 0;
}

static struct gosym *gosym_new(void)
{
	struct gosym *g = calloc(1, sizeof(*g));

	if (g)
		g->fd = -1;
	return g;
}

int gosym_open(const char *path, struct gosym **out)
{
	struct gosym *g = NULL;
	struct stat st;
	void *map;
	int err;

	*out = NULL;
	g = gosym_new();
	if (!g)
		return gosym__err(-ENOMEM, "out of memory");
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0) {
		err = -errno;
		gosym__err(err, "cannot open '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(g->fd, &st) < 0) {
		err = -errno;
		gosym__err(err, "cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = gosym__err(-EISDIR, "'%s' is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = gosym__err(-ENOEXEC, "'%s' is not a regular file", path);
		goto fail;
	}
	if (st.st_size < 64) {
		err = gosym__err(-ENOEXEC, "'%s' is not an ELF file (%lld bytes)", path,
				 (long long)st.st_size);
		goto fail;
	}
	/* Writable private mapping: libelf may convert data in place for
	 * foreign-endian files; copy-on-write keeps the file untouched. */
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, g->fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		gosym__err(err, "cannot map '%s': %s", path, strerror(errno));
		goto fail;
	}
	g->image = map;
	g->image_size = st.st_size;
	g->mapped = true;
	err = load(g);
	if (err) {
		/* Prefix the file name to the loader's message. */
		char tmp[sizeof(errmsg)];

		snprintf(tmp, sizeof(tmp), "%s", errmsg);
		gosym__err(err, "'%s': %s", path, tmp);
		goto fail;
	}
	*out = g;
	return 0;
fail:
	gosym_free(g);
	return err;
}

int gosym_open_mem(const void *buf, size_t len, struct gosym **out)
{
	struct gosym *g;
	uint8_t *copy;
	int err;

	*out = NULL;
	if (len < 64)
		return gosym__err(-ENOEXEC, "not an ELF file (%zu bytes)", len);
	g = gosym_new();
	copy = malloc(len);
	if (!g || !copy) {
		free(g);
		free(copy);
		return gosym__err(-ENOMEM, "out of memory");
	}
	memcpy(copy, buf, len);
	g->image = copy;
	g->image_size = len;
	err = load(g);
	if (err) {
		gosym_free(g);
		return err;
	}
	*out = g;
	return 0;
}

void gosym_free(struct gosym *g)
{
	if (!g)
		return;
	gosym__waitreasons_free(g);
	gosym__pccache_free(g);
	gosym__pcslice_free(g);
	free(g->by_name);
	free(g->bucket);
	for (size_t i = 0; g->hot && i < g->pcln.nfunc; i++)
		free(g->hot[i].fnidx);
	free(g->hot);
	free(g->strbuf);
	free(g->relocs);
	if (g->elf)
		elf_end(g->elf);
	if (g->mapped)
		munmap((void *)g->image, g->image_size);
	else
		free((void *)g->image);
	if (g->fd >= 0)
		close(g->fd);
	free(g);
}
