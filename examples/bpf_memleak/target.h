/* SPDX-License-Identifier: MIT */
/*
 * bpf_memleak's view of the traced process: which file holds its
 * allocator (the C library it has mapped, or the executable itself when it
 * is linked statically), where the allocator functions are in that file,
 * and launching a command stopped right after its C library is mapped.
 * Errors are printed here (one line, "bpf_memleak: ..."); functions return
 * 0 or -1.
 */
#ifndef BPF_MEMLEAK_TARGET_H
#define BPF_MEMLEAK_TARGET_H

#include <stdint.h>
#include <sys/types.h>

/* The allocator's file as seen from our mount namespace
 * ("/proc/PID/root/usr/lib/.../libc.so.6"), or an empty string when the
 * process has no C library mapped yet and is not statically linked. */
int target_allocator_file(pid_t pid, char *path, size_t len);

/* One function to probe: the file offset of name's code (what uprobes
 * take).  Aliases (glibc's memalign and aligned_alloc share an address)
 * resolve to the same offset; the caller probes each offset once. */
struct target_func {
	const char *name;
	uint32_t kind;		/* enum ml_kind, 0 for free */
	uint64_t offset;
	int found;
};
/* Fill offset/found for each entry of funcs from the file's dynamic
 * symbols (then .symtab).  -1 when the file can't be read or has no malloc
 * and free. */
int target_resolve(const char *path, struct target_func *funcs, int n);

/* fork + exec argv under ptrace and run it until its allocator file is
 * mapped (syscall by syscall), leaving it stopped and traced.  *pid gets
 * the child; path as for target_allocator_file. */
int target_launch(char *const argv[], pid_t *pid, char *path, size_t len);

/* Let a launched child run (it stays our child: wait for it). */
int target_release(pid_t pid);

#endif
