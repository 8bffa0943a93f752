// SPDX-License-Identifier: MIT
/*
 * --stack: unwind, symbolize, hold and render captured user stacks
 * (see stacks.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "output/json_out.h"
#include "gosym.h"
#include "tracing/stacks.h"
#include "tracing/target.h"

#define MAX_FRAMES	256	/* physical frames per walk */
#define MAX_SYMS	512	/* logical frames (inlined calls expanded) */
#define MAX_INLINE	32
#define RELOAD_NS	100000000ULL	/* re-read maps at most this often */
#define HOLD_BUCKETS	4096

struct held {
	uint64_t k1, k2;
	struct gt_stack *st;
	struct held *next;
};

struct gt_stacks {
	unsigned int methods;
	uint32_t copy_size;
	pid_t pid;
	char *exe;		/* the program's file, for the synthesized map */
	bool synth;		/* s->map is the synthesized one */
	struct dwunw_modules *mods;
	struct dwunw_map *map;
	uint64_t last_reload;	/* CLOCK_MONOTONIC before the last maps read */
	bool reload_useless;	/* it did not resolve an event captured before it */
	struct held *hold[HOLD_BUCKETS];
	size_t nheld;
	struct gt_stacks_stats st;
	struct dwunw_frame frames[MAX_FRAMES];
	struct gt_stack_frame syms[MAX_SYMS];
};

static uint64_t mono_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int gt_unwind_parse(const char *s, enum gt_unwind *out)
{
	static const char *const names[] = { "auto", "dwarf", "pclntab", "fp" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum gt_unwind)i;
			return 0;
		}
	return -EINVAL;
}

int gt_stack_size_parse(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (end == s)
		return -EINVAL;
	if ((*end == 'k' || *end == 'K') && v <= GT_STACK_MAX) {
		v *= 1024;
		end++;
	}
	if (*end || v < GT_STACK_MIN || v > GT_STACK_MAX || v % 8)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

enum gt_stack_class gt_stack_classify(const struct gt_stack *st)
{
	if (st->stop == DWUNW_STOP_END || st->stop == DWUNW_STOP_TOPFRAME)
		return GT_STACK_COMPLETE;
	/* the walk needed bytes beyond a copy that used all of --stack-size:
	 * a bigger copy would have gone further */
	if (st->stop == DWUNW_STOP_STACK_READ && st->copy_full)
		return GT_STACK_TRUNCATED;
	return GT_STACK_ERROR;
}

int gt_stacks_new(enum gt_unwind method, uint32_t copy_size, struct gt_stacks **out)
{
	struct gt_stacks *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	switch (method) {
	case GT_UNWIND_DWARF:
		s->methods = DWUNW_M_CFI;
		break;
	case GT_UNWIND_PCLNTAB:
		s->methods = DWUNW_M_PCLNTAB;
		break;
	case GT_UNWIND_FP:
		s->methods = DWUNW_M_FP;
		break;
	default:
		s->methods = DWUNW_M_ALL;
	}
	s->copy_size = copy_size;
	err = dwunw_modules_new(&s->mods);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void gt_stacks_free(struct gt_stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < HOLD_BUCKETS; i++) {
		struct held *h = s->hold[i], *n;

		for (; h; h = n) {
			n = h->next;
			free(h->st);
			free(h);
		}
	}
	dwunw_map_free(s->map);
	dwunw_modules_free(s->mods);
	free(s->exe);
	free(s);
}

static int reload(struct gt_stacks *s)
{
	struct dwunw_map *m = NULL;
	int err;

	s->last_reload = mono_ns(CLOCK_MONOTONIC);
	err = dwunw_map_from_pid(s->mods, s->pid, &m);
	if (err)
		return err;	/* keep the old map: the process may be gone */
	dwunw_map_free(s->map);
	s->map = m;
	return 0;
}

/* Is pid gone or a zombie (its maps are then empty for good)? */
static bool exited(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the command name may hold anything */
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Does /proc/PID/maps map the file with inode ino executable? */
static bool exe_mapped(pid_t pid, ino_t ino)
{
	char line[4096];
	bool found = false;
	FILE *f = gt_proc_fopen(pid, "maps");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char perms[8];
		unsigned long long inode;

		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %llu", perms, &inode) == 2 &&
		    perms[2] == 'x' && inode == (unsigned long long)ino)
			found = true;
	}
	fclose(f);
	return found;
}

void gt_stacks_preload(struct gt_stacks *s, pid_t pid, const char *exe)
{
	char real[PATH_MAX], path[PATH_MAX + 64];
	struct dwunw_module *mod;

	/* the name the maps will give: /proc/PID/root + the canonical path */
	if (!realpath(exe, real))
		return;
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, real);
	dwunw_modules_get(s->mods, path, &mod);
}

int gt_stacks_attach(struct gt_stacks *s, pid_t pid, const char *exe)
{
	struct stat st;

	s->pid = pid;
	free(s->exe);
	s->exe = exe ? strdup(exe) : NULL;
	/* Launch mode comes here as the exec happens: the exec reports
	 * success before the kernel maps the new program.  Wait (briefly)
	 * until it is mapped, so these maps cover it even if the program is
	 * gone by the time its events are read.  A short program may be gone
	 * already: then the map is rebuilt from the file (synth_map). */
	if (exe && !stat(exe, &st)) {
		uint64_t until = mono_ns(CLOCK_MONOTONIC) + 2000000000ULL;

		while (!exe_mapped(pid, st.st_ino) && !exited(pid) &&
		       mono_ns(CLOCK_MONOTONIC) < until) {
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
		}
	}
	return reload(s);
}

/*
 * The program's executable segments as the kernel maps them, at load bias
 * `bias`: what /proc/PID/maps said, for a process that is gone before its
 * maps could be read (launch mode, a short program).  The bias is exact:
 * the probe's PC minus its link-time address.  Shared libraries are not
 * covered (frames there stop with no-module).
 */
static int synth_map(struct gt_stacks *s, uint64_t bias)
{
	struct dwunw_module *mod;
	struct dwunw_map *m = NULL;
	size_t nph = 0;
	Elf *elf = NULL;
	int fd, err;

	if (!s->exe)
		return -ENOENT;
	err = dwunw_modules_get(s->mods, s->exe, &mod);
	if (err)
		return err;
	fd = open(s->exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	err = -ENOEXEC;
	if (!elf || elf_getphdrnum(elf, &nph))
		goto out;
	err = dwunw_map_new(&m);
	if (err)
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		uint64_t start, end;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		start = (ph.p_vaddr + bias) & ~4095ULL;
		end = (ph.p_vaddr + ph.p_memsz + bias + 4095) & ~4095ULL;
		err = dwunw_map_add(m, start, end, ph.p_offset & ~4095ULL, mod);
		if (err)
			goto out;
	}
	dwunw_map_free(s->map);
	s->map = m;
	s->synth = true;
	m = NULL;
	err = 0;
out:
	dwunw_map_free(m);
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* One walk; 0 frames when there is no map at all. */
static int walk(struct gt_stacks *s, const struct gt_stack_hdr *hdr, const void *bytes,
		enum dwunw_stop *stop)
{
	int n;

	if (!s->map) {
		*stop = DWUNW_STOP_NO_MODULE;
		return 0;
	}
	n = dwunw_unwind(s->map, &hdr->regs, bytes, hdr->len, s->methods, s->frames, MAX_FRAMES,
			 stop);
	return n;
}

struct gt_stack *gt_stacks_unwind(struct gt_stacks *s, const struct gt_stack_hdr *hdr,
				  size_t avail, uint64_t ts_ns, uint64_t probe_pc, uint64_t probe_vaddr)
{
	const uint8_t *bytes = (const uint8_t *)(hdr + 1);
	uint64_t t0 = mono_ns(CLOCK_THREAD_CPUTIME_ID);
	enum dwunw_stop stop = DWUNW_STOP_NO_INFO;
	struct gt_stack *st;
	int callee = GOSYM_FN_NORMAL;	/* .special of the last frame seen, inwards */
	int n, ns = 0;

	if (hdr->len > avail) {
		s->st.malformed++;
		s->st.errors++;
		return NULL;
	}
	if (hdr->flags & GT_SF_PAGED)
		s->st.paged++;
	n = walk(s, hdr, bytes, &stop);
	/* A PC outside every mapping: the maps were read before the program
	 * was mapped (launch mode reads them as the exec happens), or a
	 * library was loaded since (dlopen, cgo).  Read them again and retry
	 * when the event is newer than the maps, unless that already failed
	 * once (a JIT region or the vDSO would reload on every event), and
	 * anyway at most every RELOAD_NS. */
	if (n >= 0 && stop == DWUNW_STOP_NO_MODULE && s->pid &&
	    ((ts_ns > s->last_reload && !s->reload_useless) ||
	     mono_ns(CLOCK_MONOTONIC) - s->last_reload > RELOAD_NS)) {
		s->st.map_reloads++;
		if (!reload(s)) {
			n = walk(s, hdr, bytes, &stop);
			s->reload_useless = n >= 0 && stop == DWUNW_STOP_NO_MODULE;
		}
	}
	/* Still nothing at the probe itself, and the maps can't tell any
	 * more (the process is gone): place the program by the probe. */
	if (n >= 0 && stop == DWUNW_STOP_NO_MODULE && n <= 1 && probe_pc && probe_vaddr &&
	    !s->synth && (!s->pid || exited(s->pid))) {
		s->st.map_reloads++;
		if (!synth_map(s, probe_pc - probe_vaddr))
			n = walk(s, hdr, bytes, &stop);
	}
	if (n < 0) {
		/* a snapshot libdwunw can't start from (bad arch, no SP) */
		n = 0;
		stop = DWUNW_STOP_NO_REG;
	}
	for (int i = 0; i < n && ns < MAX_SYMS; i++) {
		struct dwunw_sym sym[MAX_INLINE];
		int k = dwunw_symbolize(&s->frames[i], sym, MAX_INLINE);

		if (k > MAX_INLINE)
			k = MAX_INLINE;
		if (k <= 0) {
			s->syms[ns++] = (struct gt_stack_frame){ .func = "?", .pc = s->frames[i].pc };
			callee = GOSYM_FN_NORMAL;
			continue;
		}
		for (int j = 0; j < k && ns < MAX_SYMS; j++) {
			/* runtime.Callers' rule, so that we print the same
			 * stacks (docs/go-runtime.md, "Wrapper frames") */
			bool elide = dwunw_sym_elided(&sym[j], callee);

			callee = sym[j].special;
			if (elide)
				continue;
			s->syms[ns++] = (struct gt_stack_frame){
				.func = sym[j].func ? sym[j].func : "?", .file = sym[j].file,
				.line = sym[j].line, .inlined = sym[j].inlined,
				.pc = s->frames[i].pc,
			};
		}
	}
	st = malloc(sizeof(*st) + ns * sizeof(st->f[0]));
	if (!st)
		return NULL;
	st->stop = stop;
	st->copy_full = hdr->len >= s->copy_size && !(hdr->flags & GT_SF_WHOLE);
	st->n = ns;
	memcpy(st->f, s->syms, ns * sizeof(st->f[0]));
	s->st.stacks++;
	s->st.frames += ns;
	if (stop < DWUNW_STOP__COUNT)
		s->st.by_stop[stop]++;
	switch (gt_stack_classify(st)) {
	case GT_STACK_COMPLETE:
		s->st.complete++;
		break;
	case GT_STACK_TRUNCATED:
		s->st.truncated++;
		break;
	default:
		s->st.errors++;
	}
	s->st.unwind_ns += mono_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	return st;
}

void gt_stacks_count_lost(struct gt_stacks *s, uint64_t n)
{
	s->st.lost += n;
}

static size_t bucket(uint64_t k1, uint64_t k2)
{
	return ((k1 * 0x9e3779b97f4a7c15ULL) ^ (k2 * 0xc2b2ae3d27d4eb4fULL)) >> 52 &
	       (HOLD_BUCKETS - 1);
}

int gt_stacks_put(struct gt_stacks *s, uint64_t k1, uint64_t k2, struct gt_stack *st)
{
	size_t b = bucket(k1, k2);
	struct held *h;

	for (h = s->hold[b]; h; h = h->next)
		if (h->k1 == k1 && h->k2 == k2) {
			free(h->st);
			h->st = st;
			return 0;
		}
	h = malloc(sizeof(*h));
	if (!h) {
		free(st);
		return -ENOMEM;
	}
	*h = (struct held){ k1, k2, st, s->hold[b] };
	s->hold[b] = h;
	s->nheld++;
	return 0;
}

struct gt_stack *gt_stacks_take(struct gt_stacks *s, uint64_t k1, uint64_t k2)
{
	struct held **pp = &s->hold[bucket(k1, k2)], *h;

	for (; (h = *pp); pp = &h->next)
		if (h->k1 == k1 && h->k2 == k2) {
			struct gt_stack *st = h->st;

			*pp = h->next;
			free(h);
			s->nheld--;
			return st;
		}
	return NULL;
}

size_t gt_stacks_held(const struct gt_stacks *s)
{
	return s->nheld;
}

void gt_stack_print_text(FILE *f, const struct gt_stack *st, int indent)
{
	for (int i = 0; i < st->n; i++) {
		const struct gt_stack_frame *fr = &st->f[i];

		if (fr->file)
			fprintf(f, "%*s    at %s (%s:%d)%s\n", indent, "", fr->func, fr->file,
				fr->line, fr->inlined ? " [inlined]" : "");
		else if (strcmp(fr->func, "?"))
			fprintf(f, "%*s    at %s\n", indent, "", fr->func);
		else
			fprintf(f, "%*s    at ? (%#" PRIx64 ")\n", indent, "", fr->pc);
	}
	switch (gt_stack_classify(st)) {
	case GT_STACK_COMPLETE:
		break;
	case GT_STACK_TRUNCATED:
		fprintf(f, "%*s    ... (truncated: deeper than --stack-size)\n", indent, "");
		break;
	default:
		fprintf(f, "%*s    ... (unwinding stopped: %s)\n", indent, "",
			dwunw_stop_name(st->stop));
	}
}

void gt_stack_print_json(FILE *f, const struct gt_stack *st)
{
	fputs(",\"stack\":[", f);
	for (int i = 0; i < st->n; i++) {
		const struct gt_stack_frame *fr = &st->f[i];

		fputs(i ? ",{\"func\":" : "{\"func\":", f);
		gt_json_qstr(f, fr->func);
		fputs(",\"file\":", f);
		if (fr->file)
			gt_json_qstr(f, fr->file);
		else
			fputs("null", f);
		fprintf(f, ",\"line\":%d,\"inlined\":%s", fr->line, fr->inlined ? "true" : "false");
		if (!strcmp(fr->func, "?"))
			fprintf(f, ",\"pc\":\"%#" PRIx64 "\"", fr->pc);
		fputc('}', f);
	}
	fputc(']', f);
	if (gt_stack_classify(st) != GT_STACK_COMPLETE)
		fprintf(f, ",\"stack_stop\":\"%s\"", dwunw_stop_name(st->stop));
}

const struct gt_stacks_stats *gt_stacks_stats(const struct gt_stacks *s)
{
	return &s->st;
}

void gt_stacks_report(const struct gt_stacks *s, FILE *f, bool jsonl, const char *prefix)
{
	const struct gt_stacks_stats *st = &s->st;
	double us = st->stacks ? st->unwind_ns / 1e3 / st->stacks : 0;

	if (jsonl) {
		fprintf(f, "{\"type\":\"stack_summary\",\"stacks\":%" PRIu64 ",\"complete\":%" PRIu64
			   ",\"truncated\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"lost\":%" PRIu64
			   ",\"paged\":%" PRIu64 ",\"map_reloads\":%" PRIu64 ",\"frames\":%" PRIu64
			   ",\"unwind_us_per_stack\":%.2f,\"stops\":{",
			st->stacks, st->complete, st->truncated, st->errors, st->lost, st->paged,
			st->map_reloads, st->frames, us);
		for (int i = 0, first = 1; i < DWUNW_STOP__COUNT; i++)
			if (st->by_stop[i]) {
				fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
					dwunw_stop_name((enum dwunw_stop)i), st->by_stop[i]);
				first = 0;
			}
		fputs("}}\n", f);
		return;
	}
	fprintf(f, "%sstacks: %" PRIu64 " unwound: %" PRIu64 " complete, %" PRIu64
		   " truncated by --stack-size, %" PRIu64 " stopped by an error; %" PRIu64
		   " lost (ring buffer full)\n",
		prefix, st->stacks, st->complete, st->truncated, st->errors, st->lost);
	for (int i = 0; i < DWUNW_STOP__COUNT; i++)
		if (st->by_stop[i])
			fprintf(f, "%s  stop %-12s %" PRIu64 "\n", prefix,
				dwunw_stop_name((enum dwunw_stop)i), st->by_stop[i]);
	if (st->malformed)
		fprintf(f, "%s  malformed records %" PRIu64 "\n", prefix, st->malformed);
	if (st->stacks)
		fprintf(f, "%s  %.1f frames/stack, %.2f us/stack to unwind and symbolize, "
			   "%" PRIu64 " copies page by page, %" PRIu64 " maps reloads\n",
			prefix, (double)st->frames / st->stacks, us, st->paged, st->map_reloads);
}
