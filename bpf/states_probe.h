/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * states_probe.h: what the goroutine-state programs share (bpf/states.bpf.c
 * sends every transition to user space, bpf/states_agg.bpf.c aggregates
 * them in maps): their rodata, reading casgstatus's arguments, and the
 * goroutine's goid and wait reason through a gp -> goid cache.  Include
 * after go_runtime.h and states.h.  docs/go-runtime.md has the facts.
 */
#ifndef GOTRACE_STATES_PROBE_H
#define GOTRACE_STATES_PROBE_H

/* Set by user space before load (from gosym); the shared ones (pid,
 * goid, g.m, m.curg, TLS, wake-up) are in go_runtime.h. */
const volatile bool regabi = true;
const volatile __s32 off_waitreason = -1;
const volatile __s32 off_startpc = -1;
const volatile __s32 off_gopc = -1;
const volatile __s32 off_parentgoid = -1;
const volatile __s32 off_labels = -1;	/* g.labels: read at creations and exits */

#define WINDOW 32 /* bytes read from g.goid on: covers g.waitreason too */

/* gp -> goid, shared by all CPUs (STATES_GOID_CACHE in states.h): a g
 * reused on one CPU must invalidate what the others cached.  Transitions
 * of one g never run concurrently (each waits for the previous one: the
 * runtime hands a g on through its status), so only entries of different
 * g's can race for a slot; check ties the three words together, so an
 * entry half-written by two CPUs at once fails it and is a miss, never a
 * wrong goid. */
struct goid_slot {
	__u64 gp;
	__s64 goid;
	__u64 check;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STATES_GOID_CACHE);
	__type(key, __u32);
	__type(value, struct goid_slot);
} goid_cache SEC(".maps");

static __always_inline __u64 slot_check(__u64 gp, __s64 goid)
{
	return gp ^ ((__u64)goid * 0x9e3779b97f4a7c15ULL) ^ 0x5bd1e9955bd1e995ULL;
}

/* What every transition needs from the g: its goid and, going to waiting,
 * g.waitreason.  A user read costs ~30 ns, so the goid comes from the
 * cache when it can: a g keeps its goid until it is reused, and reuse
 * always starts with a transition out of _Gdead, which reads the goid
 * and empties the slot (before Go 1.24 newproc1 writes the new goid only
 * after that transition: the next transition reads it again).  Going to
 * waiting the read is needed anyway for the reason, and covers both. */
static __always_inline __s64 g_fields(__u64 gp, __u32 from, __u32 to, __u32 *reason)
{
	__u32 key = (__u32)((gp * 0x9e3779b97f4a7c15ULL) >> 40) & (STATES_GOID_CACHE - 1);
	struct goid_slot *slot = bpf_map_lookup_elem(&goid_cache, &key);
	bool waiting = (to & ~STATES_G_SCAN) == STATES_G_WAITING;
	bool reborn = (from & ~STATES_G_SCAN) == STATES_G_DEAD;
	__s64 goid = -1;

	*reason = 0;
	if (!gp)
		return -1;
	if (slot && !waiting && !reborn) {
		/* One load per word: the goid returned is the one checked. */
		__u64 sgp = *(volatile __u64 *)&slot->gp;
		__s64 sgoid = *(volatile __s64 *)&slot->goid;
		__u64 scheck = *(volatile __u64 *)&slot->check;

		if (sgp == gp && scheck == slot_check(gp, sgoid))
			return sgoid;
	}
	if (waiting && off_waitreason > off_goid && off_waitreason - off_goid < WINDOW) {
		/* goid and waitreason are 24 bytes apart in every Go so far:
		 * one user read for both. */
		__u8 w[WINDOW];
		__u32 idx = (__u32)(off_waitreason - off_goid) & (WINDOW - 1);

		if (bpf_probe_read_user(w, sizeof(w), (void *)(gp + off_goid)))
			return -1;
		__builtin_memcpy(&goid, w, sizeof(goid));
		*reason = w[idx];
	} else {
		goid = gr_goid(gp);
		if (waiting && off_waitreason >= 0) {
			__u8 r = 0;

			bpf_probe_read_user(&r, sizeof(r), (void *)(gp + off_waitreason));
			*reason = r;
		}
	}
	if (slot) {
		if (reborn || goid < 0) {
			slot->gp = 0;
		} else {
			slot->gp = gp;
			slot->goid = goid;
			slot->check = slot_check(gp, goid);
		}
	}
	return goid;
}

/* newproc1: dead -> runnable, or -> waiting for a goroutine created
 * parked (Go 1.24+). */
static __always_inline bool is_creation(__u32 from, __u32 to)
{
	from &= ~STATES_G_SCAN;
	to &= ~STATES_G_SCAN;
	return from == STATES_G_DEAD && (to == STATES_G_RUNNABLE || to == STATES_G_WAITING);
}

/*
 * casgstatus(gp, oldval, newval)'s arguments from the registers the
 * program read first (a0-a2: GR_REG_ARG(ctx, 0..2), sp: PT_REGS_SP) or,
 * before the register ABI, from the stack at sp+8 and sp+16.  0, or -1
 * when the stack cannot be read.
 */
static __always_inline int st_cas_args(__u64 a0, __u64 a1, __u64 a2, __u64 sp, __u64 *gp,
				       __u32 *from, __u32 *to)
{
	__u32 st[2];

	*gp = a0;
	*from = (__u32)a1;
	*to = (__u32)a2;
	if (regabi)
		return 0;
	if (bpf_probe_read_user(gp, sizeof(*gp), (void *)(sp + 8)) ||
	    bpf_probe_read_user(st, sizeof(st), (void *)(sp + 16)))
		return -1;
	*from = st[0];
	*to = st[1];
	return 0;
}

#endif /* GOTRACE_STATES_PROBE_H */
