// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bpf_memleak's BPF side: uprobes on the C library's allocator.
 *
 * alloc_enter (uprobe on malloc, calloc, realloc, reallocarray,
 *   posix_memalign, memalign/aligned_alloc, valloc, pvalloc; the BPF cookie
 *   says which): stashes, per thread, the requested size and a snapshot of
 *   the registers plus a copy of the user stack from SP up.  The snapshot is
 *   taken at entry because there the stack is the caller's, complete.
 * alloc_return (uretprobe on the same functions: safe for C code) pairs
 *   with the stash of the current thread and sends one ML_EV_ALLOC event
 *   with the returned address.
 * free_enter (uprobe on free): sends ML_EV_FREE.
 *
 * Nesting: glibc calls its own public entry points (realloc(NULL, n) runs
 * malloc's code, reallocarray calls realloc, realloc(p, 0) frees).  Those
 * inner calls hit the probes too; the stash counts the depth, and only the
 * outermost call of a thread is reported.  Frees inside a traced call are
 * the allocator's business (realloc's old block is reported by realloc).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "memleak.h"
#include "../../bpf/stack_capture.h"	/* sc_fill_regs: the probe's registers as struct dwunw_regs */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

__u32 target_tgid;	/* only this process (set after load: .bss) */
const volatile __u32 stack_size = 16384;	/* bytes to copy, <= ML_STACK_MAX */

__u64 counters[ML_C__COUNT];

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

/* tid -> the call in progress.  Entries live from entry to return only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct ml_alloc_event);
} stash SEC(".maps");

/* One zeroed value to create stash entries from (too big for the BPF stack
 * and for a per-CPU array). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ml_alloc_event);
} zero SEC(".maps");

/* Argument registers by DWARF number in struct dwunw_regs. */
#if defined(__TARGET_ARCH_x86)
#define ARG1 5	/* rdi */
#define ARG2 4	/* rsi */
#define ARG3 1	/* rdx */
#else
#define ARG1 0
#define ARG2 1
#define ARG3 2
#endif

static __always_inline bool ours(__u32 *tid)
{
	__u64 id = bpf_get_current_pid_tgid();

	*tid = (__u32)id;
	return (id >> 32) == target_tgid;
}

/* Copy up to stack_size bytes from sp.  bpf_probe_read_user fails as a whole
 * when any byte faults, and the stack's top end is somewhere above sp: read
 * up to the next page boundary, then page by page, and stop at the first
 * page that can't be read. */
static __always_inline void copy_stack(struct ml_alloc_event *e, __u64 sp)
{
	__u64 want = stack_size, off = 0, len;

	if (want > ML_STACK_MAX)
		want = ML_STACK_MAX;
	len = ML_PAGE - (sp & (ML_PAGE - 1));
	for (int i = 0; i < ML_STACK_MAX / ML_PAGE + 1; i++) {
		if (off >= want)
			break;
		if (len > want - off)
			len = want - off;
		/* The values are already in range; the masks, hidden from
		 * clang so it keeps them, let the verifier see that the read
		 * stays inside stack[] (which has 2 pages of slack). */
		asm volatile("%[o] &= %[m]" : [o] "+r"(off) : [m] "i"(ML_STACK_MAX - 1));
		asm volatile("%[l] &= %[m]" : [l] "+r"(len) : [m] "i"(2 * ML_PAGE - 1));
		if (bpf_probe_read_user(&e->stack[off], len, (void *)(sp + off)))
			break;
		off += len;
		len = ML_PAGE;
	}
	e->stack_len = off;
	if (off >= want)
		__sync_fetch_and_add(&counters[ML_C_STACK_TRUNC], 1);
}

SEC("uprobe")
int BPF_KPROBE(alloc_enter)
{
	__u32 tid, zkey = 0;
	struct ml_alloc_event *e, *z;
	__u64 kind = bpf_get_attach_cookie(ctx), a1, a2, a3;

	if (!ours(&tid))
		return 0;
	e = bpf_map_lookup_elem(&stash, &tid);
	if (e) {
		/* a traced call inside another one: report only the outer */
		e->depth++;
		return 0;
	}
	z = bpf_map_lookup_elem(&zero, &zkey);
	if (!z)
		return 0;
	if (bpf_map_update_elem(&stash, &tid, z, BPF_NOEXIST)) {
		__sync_fetch_and_add(&counters[ML_C_STASH_FULL], 1);
		return 0;
	}
	e = bpf_map_lookup_elem(&stash, &tid);
	if (!e)
		return 0;
	e->type = ML_EV_ALLOC;
	e->tid = tid;
	e->kind = kind;
	e->depth = 1;
	e->addr = 0;
	e->old_addr = 0;
	e->memptr = 0;
	sc_fill_regs(&e->regs, ctx);
	/* arguments from the saved copy: clang may otherwise address ctx
	 * fields through a computed pointer, which the verifier rejects */
	a1 = e->regs.r[ARG1];
	a2 = e->regs.r[ARG2];
	a3 = e->regs.r[ARG3];
	switch (kind) {
	case ML_CALLOC:
		e->size = a1 * a2;
		break;
	case ML_REALLOC:
		e->old_addr = a1;
		e->size = a2;
		break;
	case ML_REALLOCARRAY:
		e->old_addr = a1;
		e->size = a2 * a3;
		break;
	case ML_POSIX_MEMALIGN:
		e->memptr = a1;
		e->size = a3;
		break;
	case ML_MEMALIGN:
		e->size = a2;
		break;
	default:
		e->size = a1;
		break;
	}
	copy_stack(e, PT_REGS_SP(ctx));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return)
{
	__u32 tid, len;
	struct ml_alloc_event *e;
	__u64 ret = PT_REGS_RC(ctx);

	if (!ours(&tid))
		return 0;
	e = bpf_map_lookup_elem(&stash, &tid);
	if (!e)
		return 0;	/* attached while the call was running */
	if (e->depth > 1) {
		e->depth--;
		return 0;
	}
	if (e->kind == ML_POSIX_MEMALIGN) {
		__u64 p = 0;

		/* returns 0 on success and stores the block in *memptr */
		if ((int)ret == 0)
			bpf_probe_read_user(&p, sizeof(p), (void *)e->memptr);
		ret = p;
	}
	e->addr = ret;
	/* A failed allocation changes nothing, except realloc(p, 0), which
	 * frees p and returns NULL in glibc: user space sees old_addr. */
	if (ret || e->old_addr) {
		len = e->stack_len;
		if (len > ML_STACK_MAX)
			len = ML_STACK_MAX;
		if (bpf_ringbuf_output(&events, e, __builtin_offsetof(struct ml_alloc_event, stack) + len, 0))
			__sync_fetch_and_add(&counters[ML_C_RINGBUF_DROP], 1);
	}
	bpf_map_delete_elem(&stash, &tid);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *addr)
{
	__u32 tid;
	struct ml_free_event ev;

	if (!ours(&tid) || !addr)
		return 0;
	if (bpf_map_lookup_elem(&stash, &tid))
		return 0;	/* inside realloc & co: they report it */
	ev.type = ML_EV_FREE;
	ev.tid = tid;
	ev.addr = (__u64)addr;
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0))
		__sync_fetch_and_add(&counters[ML_C_RINGBUF_DROP], 1);
	return 0;
}
