// SPDX-License-Identifier: MIT
/*
 * snap: run a program under ptrace, stop it every time it enters a
 * function, and write a libdwunw snapshot (registers, a copy of the stack,
 * /proc/PID/maps) for each hit.  x86_64 only.
 *
 *   snap -s SYMBOL [-n MAX_HITS] [-k STACK_KB] -o PREFIX -- PROG [ARGS...]
 *
 * writes PREFIX.1, PREFIX.2, ... and prints the number of hits on stdout.
 *
 *   snap -T -s SYMBOL ... -o PREFIX -- PROG [ARGS...]
 *
 * trace mode: at the first entry of SYMBOL, single-step that thread until
 * the function returns, and snapshot every instruction executed inside the
 * function itself (not in its callees): prologue, body, epilogue, RET.
 * The program's stdout/stderr pass through to snap's stderr unless -O FILE
 * redirects the program's stdout to FILE.
 *
 * The breakpoint is an int3 written at the function's file offset (found
 * with gosym for Go binaries, the ELF symbol table otherwise) through
 * /proc/PID/mem; every thread is traced (PTRACE_O_TRACECLONE) so a hit on
 * any thread stops.  After a hit the original byte is put back for one
 * single step, then the int3 again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dwunw.h"
#include "gosym.h"

static int elf_sym_offset(const char *path, const char *sym, uint64_t *off, uint64_t *size)
{
	int fd = open(path, O_RDONLY), found = -1;
	Elf *elf;
	Elf_Scn *scn = NULL;
	uint64_t vaddr = 0;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn)) && found < 0) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(elf, sh.sh_link, s.st_name);
			if (n && !strcmp(n, sym)) {
				vaddr = s.st_value;
				*size = s.st_size;
				found = 0;
				break;
			}
		}
	}
	if (found == 0) {
		size_t nph;
		found = -1;
		elf_getphdrnum(elf, &nph);
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
				*off = vaddr - ph.p_vaddr + ph.p_offset;
				found = 0;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

static int sym_offset(const char *path, const char *sym, uint64_t *off, uint64_t *size)
{
	struct gosym *g = NULL;
	struct gosym_func fn;
	int err = -1;

	if (gosym_open(path, &g) == 0) {
		if (gosym_lookup_name(g, sym, &fn) == 0 && gosym_vaddr_to_offset(g, fn.entry, off) == 0) {
			*size = fn.end - fn.entry;
			err = 0;
		}
		gosym_free(g);
		if (err == 0)
			return 0;
	}
	return elf_sym_offset(path, sym, off, size);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (cap - *len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

/* Run-time address of file offset `off` of `exe` in pid. */
static uint64_t runtime_addr(pid_t pid, const char *exe, uint64_t off)
{
	char mpath[64], real[4096];
	size_t len;
	char *maps, *line, *save = NULL;
	uint64_t addr = 0;

	if (!realpath(exe, real))
		return 0;
	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", pid);
	maps = read_file(mpath, &len);
	for (line = maps ? strtok_r(maps, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t s, e, o;
		char perms[8];
		int at = -1;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*u %n", &s, &e, perms, &o,
			   &at) < 4 || at < 0 || strcmp(line + at, real))
			continue;
		if (off >= o && off < o + (e - s) && strchr(perms, 'x')) {
			addr = s + (off - o);
			break;
		}
	}
	free(maps);
	return addr;
}

static int write_snapshot(pid_t pid, pid_t tid, const struct user_regs_struct *ur, uint64_t pc,
			  size_t stack_max, const char *outpath)
{
	struct dwunw_snapshot s;
	char path[64];
	size_t mlen;
	int fd;
	FILE *f;
	static const int map[17] = {0};
	(void)map;

	memset(&s, 0, sizeof(s));
	s.regs.version = DWUNW_REGS_VERSION;
	s.regs.arch = DWUNW_ARCH_X86_64;
	s.regs.pc = pc;
	uint64_t v[16] = {ur->rax, ur->rdx, ur->rcx, ur->rbx, ur->rsi, ur->rdi, ur->rbp, ur->rsp,
			  ur->r8,  ur->r9,  ur->r10, ur->r11, ur->r12, ur->r13, ur->r14, ur->r15};
	for (int i = 0; i < 16; i++) {
		s.regs.r[i] = v[i];
		s.regs.valid |= 1ULL << i;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	s.maps = read_file(path, &mlen);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	s.stack = malloc(stack_max);
	fd = open(path, O_RDONLY);
	/* Read page by page: the copy ends where the mapping does. */
	while (fd >= 0 && s.stack_len < stack_max) {
		uint64_t at = ur->rsp + s.stack_len;
		size_t chunk = 4096 - (at & 4095);
		if (chunk > stack_max - s.stack_len)
			chunk = stack_max - s.stack_len;
		ssize_t n = pread(fd, s.stack + s.stack_len, chunk, (off_t)at);
		if (n <= 0)
			break;
		s.stack_len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	char note[64];
	char *notes[1] = {note};
	snprintf(note, sizeof(note), "tid %d", tid);
	s.notes = notes;
	s.nnotes = 1;
	f = fopen(outpath, "w");
	int err = f ? dwunw_snapshot_write(f, &s) : -1;
	if (f)
		fclose(f);
	free(s.maps);
	free(s.stack);
	return err;
}

/*
 * Let the process run until some thread reaches rip == at with rsp == sp
 * (a temporary int3 at `at`; other frames reaching it are stepped past),
 * delivering `sig` to *t first.  On return *t is the thread that got
 * there, stopped.  -1 if the process exited first.
 */
/* Go copies goroutine stacks when they grow: a frame is identified by its
 * g (R14) and its distance from g.stack.hi, not by its SP. */
static uint64_t go_depth(int memfd, uint64_t r14, uint64_t rsp)
{
	uint64_t hi = 0;

	if (!r14 || pread(memfd, &hi, 8, (off_t)(r14 + 8)) != 8 || hi < rsp)
		return 0;
	return hi - rsp;
}

static int run_until(pid_t pid, int memfd, pid_t *t, uint64_t at, uint64_t sp, int sig)
{
	const uint8_t int3 = 0xcc;
	uint8_t orig = 0;
	int status;
	struct user_regs_struct r0;

	ptrace(PTRACE_GETREGS, *t, 0, &r0);
	/* The frame we wait for, at `at`: SP sp, or the same Go depth. */
	uint64_t g = r0.r14, depth = go_depth(memfd, r0.r14, sp);

	if (pread(memfd, &orig, 1, (off_t)at) != 1 || pwrite(memfd, &int3, 1, (off_t)at) != 1)
		return -1;
	ptrace(PTRACE_CONT, *t, 0, sig);
	for (;;) {
		pid_t u = waitpid(-1, &status, __WALL);

		if (u < 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (u == pid)
				return -1;
			continue;
		}
		int s2 = WSTOPSIG(status);
		if (s2 == SIGTRAP && (status >> 16) == 0) {
			struct user_regs_struct r;

			ptrace(PTRACE_GETREGS, u, 0, &r);
			if (r.rip - 1 == at) {
				r.rip = at;
				ptrace(PTRACE_SETREGS, u, 0, &r);
				pwrite(memfd, &orig, 1, (off_t)at);
				if (r.rsp == sp || (depth && r.r14 == g && go_depth(memfd, r.r14, r.rsp) == depth)) {
					*t = u;
					return 0;
				}
				/* Another frame gets here (recursion): let it pass. */
				ptrace(PTRACE_SINGLESTEP, u, 0, 0);
				waitpid(u, &status, __WALL);
				pwrite(memfd, &int3, 1, (off_t)at);
				ptrace(PTRACE_CONT, u, 0, 0);
				continue;
			}
		}
		if (s2 == SIGTRAP || s2 == SIGSTOP)
			s2 = 0;
		ptrace(PTRACE_CONT, u, 0, s2);
	}
}

/*
 * Single-step from the entry of [start, end) until the function returns
 * (at its return address with the entry SP + 8), snapshotting each stop
 * inside the function.  Callees and signal handlers are not stepped
 * through: run_until() lets them run and catches the function again where
 * it left off, on whichever thread the goroutine then runs (the Go
 * scheduler may move it meanwhile).  Leaves the thread running; returns
 * the number of snapshots.
 */
static int trace_function(pid_t pid, int memfd, pid_t t, uint64_t start, uint64_t end,
			  uint64_t entry_sp, size_t stack_max, const char *prefix)
{
	int n = 0, status;
	long steps = 0;
	struct user_regs_struct ur;
	uint64_t ret = 0, prev_rsp = 0, seen[4096];
	size_t nseen = 0;
	bool prev_in = false;

	if (pread(memfd, &ret, 8, (off_t)entry_sp) != 8) {
		fprintf(stderr, "snap: cannot read the return address\n");
		return 0;
	}
	ptrace(PTRACE_GETREGS, t, 0, &ur);
	uint64_t ret_depth = go_depth(memfd, ur.r14, entry_sp + 8);
	for (;;) {
		if (ur.rip == ret && (ur.rsp == entry_sp + 8 ||
				      (ret_depth && go_depth(memfd, ur.r14, ur.rsp) == ret_depth)))
			break;
		bool in = ur.rip >= start && ur.rip < end, dup = false;
		for (size_t i = 0; in && i < nseen; i++)
			dup |= seen[i] == ur.rip;
		if (in && !dup && nseen < 4096) { /* one snapshot per instruction */
			char out[4096];
			seen[nseen++] = ur.rip;
			snprintf(out, sizeof(out), "%s.%d", prefix, ++n);
			if (write_snapshot(pid, t, &ur, ur.rip, stack_max, out))
				fprintf(stderr, "snap: cannot write '%s'\n", out);
		} else if (prev_in && ur.rsp == prev_rsp - 8) {
			/* Just called out: run the callee at full speed. */
			uint64_t back = 0;

			if (pread(memfd, &back, 8, (off_t)ur.rsp) != 8 ||
			    run_until(pid, memfd, &t, back, ur.rsp + 8, 0))
				return n;
			ptrace(PTRACE_GETREGS, t, 0, &ur);
			prev_in = false;
			continue;
		}
		prev_in = in;
		prev_rsp = ur.rsp;
		if (++steps > 1000000) {
			fprintf(stderr, "snap: giving up after %ld steps\n", steps);
			break;
		}
		ptrace(PTRACE_SINGLESTEP, t, 0, 0);
		if (waitpid(t, &status, __WALL) != t || !WIFSTOPPED(status))
			return n;
		if (WSTOPSIG(status) != SIGTRAP) {
			/* A signal before the step: deliver it and catch the
			 * interrupted instruction when the handler returns. */
			ptrace(PTRACE_GETREGS, t, 0, &ur);
			if (run_until(pid, memfd, &t, ur.rip, ur.rsp, WSTOPSIG(status)))
				return n;
			/* The instruction still has to run: don't snapshot twice. */
			ptrace(PTRACE_SINGLESTEP, t, 0, 0);
			if (waitpid(t, &status, __WALL) != t || !WIFSTOPPED(status))
				return n;
		}
		ptrace(PTRACE_GETREGS, t, 0, &ur);
	}
	ptrace(PTRACE_CONT, t, 0, 0);
	return n;
}

int main(int argc, char **argv)
{
	const char *sym = NULL, *prefix = NULL, *progout = NULL;
	int max_hits = 1000, opt, hits = 0;
	size_t stack_max = 32 * 1024;
	uint64_t off, fsize = 0, bp = 0;
	bool trace = false;
	uint8_t orig = 0;
	pid_t pid;
	int status, memfd = -1;

	while ((opt = getopt(argc, argv, "s:n:k:o:O:T")) != -1) {
		switch (opt) {
		case 'T': trace = true; break;
		case 's': sym = optarg; break;
		case 'n': max_hits = atoi(optarg); break;
		case 'k': stack_max = (size_t)atoi(optarg) * 1024; break;
		case 'o': prefix = optarg; break;
		case 'O': progout = optarg; break;
		default: goto usage;
		}
	}
	if (!sym || !prefix || optind >= argc)
		goto usage;
	if (sym_offset(argv[optind], sym, &off, &fsize)) {
		fprintf(stderr, "snap: no symbol '%s' in '%s'\n", sym, argv[optind]);
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		if (progout) {
			int fd = open(progout, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(127);
		}
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execv(argv[optind], argv + optind);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		fprintf(stderr, "snap: '%s' did not start\n", argv[optind]);
		return 1;
	}
	ptrace(PTRACE_SETOPTIONS, pid, 0,
	       PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL);
	bp = runtime_addr(pid, argv[optind], off);
	if (!bp) {
		fprintf(stderr, "snap: cannot find the mapping of '%s'\n", argv[optind]);
		kill(pid, SIGKILL);
		return 1;
	}
	char mp[64];
	snprintf(mp, sizeof(mp), "/proc/%d/mem", pid);
	memfd = open(mp, O_RDWR);
	uint8_t int3 = 0xcc;
	if (memfd < 0 || pread(memfd, &orig, 1, (off_t)bp) != 1 || pwrite(memfd, &int3, 1, (off_t)bp) != 1) {
		fprintf(stderr, "snap: cannot write the breakpoint: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		return 1;
	}
	ptrace(PTRACE_CONT, pid, 0, 0);
	for (;;) {
		pid_t t = waitpid(-1, &status, __WALL);
		int sig = 0;

		if (t < 0)
			break;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (t == pid)
				break;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_CLONE) {
			ptrace(PTRACE_CONT, t, 0, 0);
			continue;
		}
		if (sig == SIGTRAP) {
			struct user_regs_struct ur;

			ptrace(PTRACE_GETREGS, t, 0, &ur);
			if (ur.rip - 1 == bp) {
				ur.rip = bp;
				ptrace(PTRACE_SETREGS, t, 0, &ur);
				if (trace) {
					pwrite(memfd, &orig, 1, (off_t)bp);
					hits = trace_function(pid, memfd, t, bp, bp + fsize, ur.rsp, stack_max, prefix);
					trace = false;
					max_hits = 0;
					continue;
				}
				if (hits < max_hits) {
					char out[4096];
					hits++;
					snprintf(out, sizeof(out), "%s.%d", prefix, hits);
					if (write_snapshot(pid, t, &ur, bp, stack_max, out))
						fprintf(stderr, "snap: cannot write '%s'\n", out);
				}
				/* Step over the original instruction, then re-arm. */
				pwrite(memfd, &orig, 1, (off_t)bp);
				ptrace(PTRACE_SINGLESTEP, t, 0, 0);
				while (waitpid(t, &status, __WALL) == t && WIFSTOPPED(status) &&
				       WSTOPSIG(status) != SIGTRAP) {
					/* A signal arrived first: deliver it on the next step. */
					ptrace(PTRACE_SINGLESTEP, t, 0, WSTOPSIG(status));
				}
				if (hits < max_hits)
					pwrite(memfd, &int3, 1, (off_t)bp);
				ptrace(PTRACE_CONT, t, 0, 0);
				continue;
			}
			sig = 0; /* other traps (exec, step leftovers) */
		}
		if (sig == SIGSTOP)
			sig = 0; /* new threads start stopped */
		ptrace(PTRACE_CONT, t, 0, sig);
	}
	printf("%d\n", hits);
	return 0;
usage:
	fprintf(stderr, "usage: snap -s SYMBOL [-n MAX] [-k STACK_KB] [-O PROG_STDOUT] -o PREFIX -- PROG [ARGS...]\n");
	return 2;
}
