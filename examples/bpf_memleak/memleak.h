/* SPDX-License-Identifier: MIT */
/*
 * Shared between memleak.bpf.c and the bpf_memleak user space: the events
 * the BPF side writes into the ring buffer.  Fixed-width fields only; BPF
 * code includes vmlinux.h before this file.
 *
 * Two event types:
 *   ML_EV_ALLOC  an allocator call returned a block: its address, size, the
 *                block it replaced (realloc) and the snapshot taken at the
 *                allocator's entry (registers + user stack from SP up);
 *   ML_EV_FREE   free(addr) was called (outside any other traced call).
 * Variable size: an ALLOC event is sent with only stack_len stack bytes.
 */
#ifndef BPF_MEMLEAK_H
#define BPF_MEMLEAK_H

#include "dwunw_regs.h"

/* Largest --stack-size (a power of two: the BPF side masks offsets with it). */
#define ML_STACK_MAX 32768
#define ML_PAGE	     4096

/* The allocator functions, passed to the entry program as the BPF cookie. */
enum ml_kind {
	ML_MALLOC = 1,		/* malloc(size), valloc(size), pvalloc(size) */
	ML_CALLOC,		/* calloc(n, size) */
	ML_REALLOC,		/* realloc(ptr, size) */
	ML_REALLOCARRAY,	/* reallocarray(ptr, n, size) */
	ML_POSIX_MEMALIGN,	/* posix_memalign(&ptr, align, size): result via *memptr */
	ML_MEMALIGN,		/* memalign / aligned_alloc(align, size) */
	ML_KIND__COUNT,
};

enum ml_ev_type {
	ML_EV_ALLOC = 1,
	ML_EV_FREE,
};

struct ml_free_event {
	__u32 type;		/* ML_EV_FREE */
	__u32 tid;
	__u64 addr;
};

struct ml_alloc_event {
	__u32 type;		/* ML_EV_ALLOC */
	__u32 tid;
	__u32 kind;		/* enum ml_kind */
	__u32 stack_len;	/* valid bytes in stack[] */
	__u64 size;		/* bytes requested */
	__u64 addr;		/* block returned */
	__u64 old_addr;		/* realloc: the block passed in (freed when addr != 0) */
	__u64 memptr;		/* posix_memalign's out pointer (BPF side only) */
	__u64 depth;		/* BPF side only: nesting of traced allocator calls */
	struct dwunw_regs regs;	/* at the allocator's first instruction */
	__u8 stack[ML_STACK_MAX + 2 * ML_PAGE]; /* [sp, sp + stack_len); slack for the verifier */
};

/* Counters in the BPF program's .bss (index into `counters`). */
enum ml_counter {
	ML_C_RINGBUF_DROP,	/* ring buffer full: event lost */
	ML_C_STASH_FULL,	/* per-thread stash full: allocation not traced */
	ML_C_STACK_TRUNC,	/* stack copy hit --stack-size before the stack's end */
	ML_C__COUNT,
};

#endif
