// SPDX-License-Identifier: MIT
/*
 * Snapshot files (format in dwunw.h): what a capture tool, a test or a bug
 * report stores to replay one walk later without the process.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwunw_internal.h"

void dwunw_snapshot_free(struct dwunw_snapshot *s)
{
	if (!s)
		return;
	free(s->stack);
	free(s->maps);
	for (int i = 0; i < s->nexpect; i++)
		free(s->expect[i]);
	free(s->expect);
	for (int i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	free(s);
}

static int push_str(char ***arr, int *n, const char *s)
{
	char **a = realloc(*arr, (size_t)(*n + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	*arr = a;
	if (!(a[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Next line (without '\n') into a NUL-terminated copy; NULL at the end. */
static char *next_line(const char **p, const char *end)
{
	const char *nl;
	size_t n;
	char *s;

	if (*p >= end)
		return NULL;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	n = (size_t)((nl ? nl : end) - *p);
	s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dwunw_snapshot_parse(const char *text, size_t len, struct dwunw_snapshot **out)
{
	const char *p = text, *end = text + len;
	struct dwunw_snapshot *s;
	char *line = NULL;
	int err = -EPROTO, lineno = 0;
	bool ended = false;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->regs.version = DWUNW_REGS_VERSION;
	line = next_line(&p, end);
	if (!line || strcmp(line, "dwunw-snapshot 1")) {
		dwunw_set_err("not a dwunw snapshot (first line)");
		goto cleanup;
	}
	while (!ended) {
		char word[32], arg[256];
		uint64_t a, b;
		unsigned int reg;

		free(line);
		line = next_line(&p, end);
		lineno++;
		if (!line) {
			dwunw_set_err("snapshot: missing 'end'");
			goto cleanup;
		}
		if (!*line)
			continue;
		if (sscanf(line, "%31s", word) != 1)
			goto bad;
		if (!strcmp(word, "end")) {
			ended = true;
		} else if (!strcmp(word, "arch")) {
			int arch;
			if (sscanf(line, "arch %255s", arg) != 1 || (arch = dwunw_arch_from_name(arg)) < 0)
				goto bad;
			s->regs.arch = (uint16_t)arch;
		} else if (!strcmp(word, "pc")) {
			if (sscanf(line, "pc %" SCNx64, &a) != 1)
				goto bad;
			s->regs.pc = a;
		} else if (!strcmp(word, "r")) {
			if (sscanf(line, "r %u %" SCNx64, &reg, &a) != 2 || reg >= DWUNW_MAX_REGS)
				goto bad;
			s->regs.r[reg] = a;
			s->regs.valid |= 1ULL << reg;
		} else if (!strcmp(word, "note")) {
			if ((err = push_str(&s->notes, &s->nnotes, line + 4 + (line[4] == ' '))))
				goto cleanup;
			err = -EPROTO;
		} else if (!strcmp(word, "expect")) {
			if ((err = push_str(&s->expect, &s->nexpect, line + 6 + (line[6] == ' '))))
				goto cleanup;
			err = -EPROTO;
		} else if (!strcmp(word, "maps")) {
			size_t cap = 4096, used = 0;
			if (sscanf(line, "maps %" SCNu64, &a) != 1 || a > 100000 || s->maps)
				goto bad;
			s->maps = malloc(cap);
			if (!s->maps) {
				err = -ENOMEM;
				goto cleanup;
			}
			for (uint64_t i = 0; i < a; i++) {
				char *m = next_line(&p, end);
				size_t ml;
				if (!m)
					goto bad;
				ml = strlen(m);
				while (used + ml + 2 > cap) {
					char *nm = realloc(s->maps, cap * 2);
					if (!nm) {
						free(m);
						err = -ENOMEM;
						goto cleanup;
					}
					s->maps = nm;
					cap *= 2;
				}
				memcpy(s->maps + used, m, ml);
				used += ml;
				s->maps[used++] = '\n';
				free(m);
			}
			s->maps[used] = '\0';
		} else if (!strcmp(word, "stack")) {
			size_t got = 0;
			if (sscanf(line, "stack %" SCNx64 " %" SCNu64, &a, &b) != 2 || b > (64u << 20) ||
			    s->stack)
				goto bad;
			s->stack = malloc(b ? b : 1);
			if (!s->stack) {
				err = -ENOMEM;
				goto cleanup;
			}
			s->stack_len = b;
			while (got < b) {
				char *h = next_line(&p, end);
				if (!h)
					goto bad;
				for (char *c = h; c[0] && c[1] && got < b; c += 2) {
					int hi = hexval(c[0]), lo = hexval(c[1]);
					if (hi < 0 || lo < 0) {
						free(h);
						goto bad;
					}
					s->stack[got++] = (uint8_t)(hi << 4 | lo);
				}
				free(h);
			}
			/* The copy starts at the stack pointer. */
			if (s->regs.arch && dwunw_regs_sp(&s->regs) != a)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (!s->regs.arch || !dwunw_regs_sp(&s->regs) || !s->maps) {
		dwunw_set_err("snapshot: needs arch, the stack pointer and maps");
		goto cleanup;
	}
	free(line);
	*out = s;
	return 0;
bad:
	dwunw_set_err("snapshot line %d: cannot parse '%.60s'", lineno + 1, line ? line : "");
	err = -EPROTO;
cleanup:
	free(line);
	dwunw_snapshot_free(s);
	return err;
}

int dwunw_snapshot_read(const char *path, struct dwunw_snapshot **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err;

	*out = NULL;
	if (!f) {
		err = -errno;
		dwunw_set_err("cannot open '%s': %s", path, strerror(errno));
		return err;
	}
	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 1 << 20);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 1 << 20;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	err = dwunw_snapshot_parse(buf, len, out);
	free(buf);
	return err;
}

int dwunw_snapshot_write(FILE *f, const struct dwunw_snapshot *s)
{
	uint64_t sp = dwunw_regs_sp(&s->regs);
	const char *arch = dwunw_arch_name(s->regs.arch);
	int nmaps = 0;

	if (!arch)
		return -EINVAL;
	fprintf(f, "dwunw-snapshot 1\narch %s\npc 0x%" PRIx64 "\n", arch, (uint64_t)s->regs.pc);
	for (int i = 0; i < DWUNW_MAX_REGS; i++)
		if (s->regs.valid & (1ULL << i))
			fprintf(f, "r %d 0x%" PRIx64 "\n", i, (uint64_t)s->regs.r[i]);
	for (int i = 0; i < s->nnotes; i++)
		fprintf(f, "note %s\n", s->notes[i]);
	for (const char *m = s->maps; m && *m; m++)
		nmaps += *m == '\n';
	if (s->maps && *s->maps && s->maps[strlen(s->maps) - 1] != '\n')
		nmaps++;
	fprintf(f, "maps %d\n%s", nmaps, s->maps ? s->maps : "");
	if (s->maps && *s->maps && s->maps[strlen(s->maps) - 1] != '\n')
		fputc('\n', f);
	fprintf(f, "stack 0x%" PRIx64 " %zu\n", sp, s->stack_len);
	for (size_t i = 0; i < s->stack_len; i++)
		fprintf(f, "%02x%s", s->stack[i], (i % 64 == 63 || i + 1 == s->stack_len) ? "\n" : "");
	for (int i = 0; i < s->nexpect; i++)
		fprintf(f, "expect %s\n", s->expect[i]);
	fprintf(f, "end\n");
	return ferror(f) ? -EIO : 0;
}
