// SPDX-License-Identifier: MIT
/*
 * A process's executable mappings, from the text of /proc/PID/maps:
 *
 *   55d0c8a00000-55d0c8a9b000 r-xp 00001000 fd:01 1234   /usr/bin/prog
 *
 * Only mappings with 'x' and an absolute path are kept; each one gets its
 * module (loaded through the cache) and its load bias from the module's
 * PT_LOAD segments, so run-time = link-time + bias for PIE executables,
 * shared libraries and fixed-address executables (bias 0) alike.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwunw_internal.h"

int dwunw_map_new(struct dwunw_map **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->gen = 1;
	return 0;
}

void dwunw_map_free(struct dwunw_map *map)
{
	if (!map)
		return;
	free(map->ents);
	free(map);
}

void map_cache_clear(struct dwunw_map *map)
{
	if (++map->gen == 0) { /* wrapped: entries from gen 0 could look valid */
		memset(map->cache, 0, sizeof(map->cache));
		map->gen = 1;
	}
}

static int map_insert(struct dwunw_map *map, uint64_t start, uint64_t end, uint64_t bias,
		      struct dwunw_module *mod)
{
	size_t i;

	if (end <= start)
		return -EINVAL;
	if (map->nents == map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 32;
		struct map_ent *e = realloc(map->ents, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		map->ents = e;
		map->cap = cap;
	}
	for (i = map->nents; i > 0 && map->ents[i - 1].start > start; i--)
		map->ents[i] = map->ents[i - 1];
	map->ents[i] = (struct map_ent){start, end, bias, mod};
	map->nents++;
	map_cache_clear(map); /* cached entries point into ents */
	return 0;
}

int dwunw_map_add(struct dwunw_map *map, uint64_t start, uint64_t end, uint64_t offset,
		  struct dwunw_module *mod)
{
	return map_insert(map, start, end, mod ? module_bias(mod, start, offset) : 0, mod);
}

const struct map_ent *map_find(const struct dwunw_map *map, uint64_t pc)
{
	size_t lo = 0, hi = map->nents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct map_ent *e = &map->ents[mid];

		if (pc < e->start)
			hi = mid;
		else if (pc >= e->end)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

int dwunw_map_lookup(const struct dwunw_map *map, uint64_t pc, const struct dwunw_module **mod,
		     uint64_t *bias)
{
	const struct map_ent *e = map_find(map, pc);

	if (!e)
		return -ENOENT;
	*mod = e->mod;
	*bias = e->bias;
	return 0;
}

int dwunw_map_parse(struct dwunw_modules *mods, const char *text, size_t len, const char *root,
		    struct dwunw_map **out)
{
	struct dwunw_map *map = NULL;
	const char *p = text, *end = text + len;
	char line[PATH_MAX + 256], path[PATH_MAX + 64];
	int err, lineno = 0;

	*out = NULL;
	if ((err = dwunw_map_new(&map)))
		return err;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		uint64_t start, stop, off;
		char perms[8];
		int name_at = -1;

		lineno++;
		if (n >= sizeof(line)) {
			p = nl ? nl + 1 : end;
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		if (!n)
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*u %n", &start, &stop,
			   perms, &off, &name_at) < 4) {
			dwunw_set_err("maps line %d: cannot parse '%.60s'", lineno, line);
			err = -EPROTO;
			goto cleanup;
		}
		if (!strchr(perms, 'x') || name_at < 0 || line[name_at] != '/')
			continue; /* anonymous, [vdso], [stack], non-executable */
		char *name = line + name_at;
		size_t nl2 = strlen(name);
		static const char deleted[] = " (deleted)";
		if (nl2 > sizeof(deleted) - 1 && !strcmp(name + nl2 - (sizeof(deleted) - 1), deleted))
			name[nl2 - (sizeof(deleted) - 1)] = '\0';
		snprintf(path, sizeof(path), "%s%s", root ? root : "", name);

		struct dwunw_module *mod = NULL;
		if (dwunw_modules_get(mods, path, &mod))
			mod = NULL; /* keep the mapping: its frames are still real */
		if ((err = map_insert(map, start, stop, mod ? module_bias(mod, start, off) : 0, mod)))
			goto cleanup;
	}
	*out = map;
	return 0;
cleanup:
	dwunw_map_free(map);
	return err;
}

int dwunw_map_from_pid(struct dwunw_modules *mods, int pid, struct dwunw_map **out)
{
	char path[64], root[64];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int err;

	*out = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	f = fopen(path, "re");
	if (!f) {
		err = errno == ENOENT ? -ESRCH : -errno;
		dwunw_set_err("cannot open '%s': %s", path, strerror(errno));
		return err;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (!n)
			break;
	}
	fclose(f);
	err = dwunw_map_parse(mods, buf, len, root, out);
	free(buf);
	return err;
}
