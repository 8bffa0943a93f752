// SPDX-License-Identifier: MIT
/*
 * The traced process: its allocator file, symbol offsets, launching.
 * See target.h.
 */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR(...) fprintf(stderr, "bpf_memleak: " __VA_ARGS__)

static int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static int ends(const char *s, const char *p)
{
	size_t a = strlen(s), b = strlen(p);

	return a >= b && !strcmp(s + a - b, p);
}

/* glibc (libc.so.6, old libc-2.x.so), musl (its libc is the dynamic linker). */
static int is_libc(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return starts(b, "libc.so") || (starts(b, "libc-") && ends(b, ".so")) ||
	       starts(b, "ld-musl-") || starts(b, "libc.musl-");
}

/* Does the ELF file have a PT_INTERP (dynamically linked)?  -1 on error. */
static int has_interp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;
	Elf *e;
	size_t n;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && elf_getphdrnum(e, &n) == 0) {
		r = 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
				r = 1;
		}
	}
	elf_end(e);
	close(fd);
	return r;
}

int target_allocator_file(pid_t pid, char *path, size_t len)
{
	char fn[64], line[4096];
	FILE *f;
	int r;

	path[0] = 0;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)pid);
	f = fopen(fn, "re");
	if (!f) {
		ERR("pid %d: %s\n", (int)pid, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char perms[8], *p = NULL;
		int off = 0;

		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %*u %n", perms, &off) < 1 || !off)
			continue;
		p = line + off;
		p[strcspn(p, "\n")] = 0;
		if (perms[2] != 'x' || p[0] != '/' || !is_libc(p))
			continue;
		if (ends(p, " (deleted)"))
			p[strlen(p) - 10] = 0;
		snprintf(path, len, "/proc/%d/root%s", (int)pid, p);
		break;
	}
	fclose(f);
	if (path[0])
		return 0;
	/* No C library mapped: a static executable carries its own malloc. */
	snprintf(fn, sizeof(fn), "/proc/%d/exe", (int)pid);
	r = has_interp(fn);
	if (r == 0)
		snprintf(path, len, "%s", fn);
	return 0;
}

static int vaddr_to_offset(Elf *e, uint64_t va, uint64_t *off)
{
	size_t n;

	if (elf_getphdrnum(e, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (va >= ph.p_vaddr && va < ph.p_vaddr + ph.p_filesz) {
			*off = va - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

static void scan_symbols(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, struct target_func *funcs, int n)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t cnt = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < cnt; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC)
			continue;	/* (an IFUNC's value is its resolver: not probed) */
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name)
			continue;
		for (int k = 0; k < n; k++)
			if (!funcs[k].found && !strcmp(name, funcs[k].name) &&
			    vaddr_to_offset(e, s.st_value, &funcs[k].offset) == 0)
				funcs[k].found = 1;
	}
}

int target_resolve(const char *path, struct target_func *funcs, int n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), have_malloc = 0, have_free = 0;
	Elf *e;

	if (fd < 0) {
		ERR("%s: %s\n", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		ERR("%s: not an ELF file\n", path);
		elf_end(e);
		close(fd);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) &&
			    sh.sh_type == (pass ? SHT_SYMTAB : SHT_DYNSYM))
				scan_symbols(e, scn, &sh, funcs, n);
		}
	}
	elf_end(e);
	close(fd);
	for (int k = 0; k < n; k++) {
		have_malloc |= funcs[k].found && !strcmp(funcs[k].name, "malloc");
		have_free |= funcs[k].found && !strcmp(funcs[k].name, "free");
	}
	if (!have_malloc || !have_free) {
		ERR("%s: no malloc and free symbols to probe\n", path);
		return -1;
	}
	return 0;
}

int target_launch(char *const argv[], pid_t *pidp, char *path, size_t len)
{
	int status, sig = 0;
	pid_t pid = fork();

	if (pid < 0) {
		ERR("fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execvp(argv[0], argv);
		ERR("%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	*pidp = pid;
	/* the exec stops the child with SIGTRAP; a failed exec exits 127 */
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
			ERR("%s: did not start\n", argv[0]);
		return -1;
	}
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD));
	/* The dynamic linker maps the C library within a few dozen system
	 * calls; stop at each one until it is there. */
	for (int stops = 0; stops < 10000; stops++) {
		if (target_allocator_file(pid, path, len))
			goto fail;
		if (path[0])
			return 0;
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig)) {
			ERR("ptrace: %s\n", strerror(errno));
			goto fail;
		}
		sig = 0;
		if (waitpid(pid, &status, 0) != pid)
			goto fail;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			ERR("%s exited before it mapped a C library\n", argv[0]);
			return -1;
		}
		if (WIFSTOPPED(status) && WSTOPSIG(status) != (SIGTRAP | 0x80))
			sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
	}
	ERR("%s: no C library mapped after 10000 system calls\n", argv[0]);
fail:
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int target_release(pid_t pid)
{
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL)) {
		ERR("ptrace detach: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}
