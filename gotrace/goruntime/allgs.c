// SPDX-License-Identifier: MIT
/*
 * gr_snapshot_take(): the goroutine list of a live process (see allgs.h).
 *
 * A round over the goroutines: read their g (one batch), decode and
 * validate, copy the stacks of those with a saved context (one batch),
 * read the g again (one batch) and keep the goroutines whose status, saved
 * context and stack bounds did not move.  A system call per GR_MEM_BATCH
 * reads, whatever the number of goroutines.  The ones that moved are read
 * again one at a time (reread_each).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goruntime/allgs.h"
#include "goruntime/internal.h"

#define MAX_ALLGLEN (1u << 26)		/* 64M goroutines: more is not a list */
#define MAX_STACK_SPAN (1ULL << 30)	/* the runtime's maxstacksize on 64-bit */
#define DEFAULT_STACK_MAX (16u << 20)
#define DEFAULT_RETRIES 8

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rd64(const uint8_t *raw, int off)
{
	uint64_t v = 0;

	if (off >= 0)
		memcpy(&v, raw + off, 8);
	return v;
}

static uint32_t rd32(const uint8_t *raw, int off)
{
	uint32_t v = 0;

	if (off >= 0)
		memcpy(&v, raw + off, 4);
	return v;
}

static size_t span(const int *f, size_t n)
{
	int max = 0;

	for (size_t i = 0; i < n; i++)
		if (f[i] > max)
			max = f[i];
	return ((size_t)max + 8 + 7) & ~(size_t)7;
}

/* Bytes of a g we read: up to the last field we decode. */
static size_t g_bytes(const struct gosym_runtime_offsets *o)
{
	int f[] = { o->g_stack_hi, o->g_m, o->g_sched_sp, o->g_sched_pc, o->g_sched_bp,
		    o->g_sched_lr, o->g_syscallsp, o->g_syscallpc, o->g_atomicstatus, o->g_goid,
		    o->g_waitsince, o->g_waitreason, o->g_lockedm, o->g_parentgoid, o->g_gopc,
		    o->g_startpc, o->g_labels, o->g_cleanups, o->g_trackingseq };

	return span(f, sizeof(f) / sizeof(f[0]));
}

/* Bytes of a g the check after the stack copy reads: the fields same()
 * compares (the rest of the buffer keeps the first read). */
static size_t check_bytes(const struct gosym_runtime_offsets *o)
{
	int f[] = { o->g_stack_lo, o->g_stack_hi, o->g_sched_sp, o->g_sched_pc, o->g_syscallsp,
		    o->g_syscallpc, o->g_atomicstatus, o->g_goid, o->g_trackingseq };

	return span(f, sizeof(f) / sizeof(f[0]));
}

static void decode(const struct gr_target *t, const uint8_t *raw, struct gr_g *g)
{
	const struct gosym_runtime_offsets *o = &t->info.off;

	g->goid = (int64_t)rd64(raw, o->g_goid);
	g->status = rd32(raw, o->g_atomicstatus);
	/* waitReason is a uint8 enum */
	g->waitreason = o->g_waitreason >= 0 ? raw[o->g_waitreason] : 0;
	g->waitsince = (int64_t)rd64(raw, o->g_waitsince);
	g->parent_goid = o->g_parentgoid >= 0 ? (int64_t)rd64(raw, o->g_parentgoid) : -1;
	g->stack_lo = rd64(raw, o->g_stack_lo);
	g->stack_hi = rd64(raw, o->g_stack_hi);
	g->sched_pc = rd64(raw, o->g_sched_pc);
	g->sched_sp = rd64(raw, o->g_sched_sp);
	g->sched_bp = rd64(raw, o->g_sched_bp);
	g->sched_lr = rd64(raw, o->g_sched_lr);
	g->syscall_pc = rd64(raw, o->g_syscallpc);
	g->syscall_sp = rd64(raw, o->g_syscallsp);
	g->gopc = rd64(raw, o->g_gopc);
	g->startpc = rd64(raw, o->g_startpc);
	g->m = rd64(raw, o->g_m);
	g->lockedm = rd64(raw, o->g_lockedm);
	g->labels = rd64(raw, o->g_labels);
	g->running_cleanups = o->g_cleanups >= 0 && raw[o->g_cleanups];
	g->park_seq = o->g_trackingseq >= 0 ? raw[o->g_trackingseq] : 0;
}

/* State of a freshly decoded g and, for a live one, its saved context.
 * false: not consistent (read again). */
static bool validate(const struct gr_target *t, struct gr_g *g)
{
	const struct gosym_goroutine_facts *fx = &t->info.facts;
	uint32_t st = g->status & ~(uint32_t)GOSYM_G_SCAN;

	g->ctx_pc = g->ctx_sp = g->ctx_lr = 0;
	g->ctx_syscall = false;
	if (st >= (uint32_t)fx->nstatus_names || !fx->status_names[st][0])
		return false;
	if (st == GOSYM_G_IDLE || st == GOSYM_G_DEAD || st == GOSYM_G_DEADEXTRA) {
		g->state = GR_G_DEAD;
		return true;
	}
	g->state = GR_G_OK;
	if (g->goid <= 0 || st == GOSYM_G_COPYSTACK)
		return false;
	if (g->stack_lo >= g->stack_hi || g->stack_hi - g->stack_lo > MAX_STACK_SPAN ||
	    (g->stack_lo & 7) || (g->stack_hi & 7))
		return false;
	if (st == GOSYM_G_RUNNING && !(fx->running_syscallsp_traced && g->syscall_sp))
		return true; /* no saved context: nothing more to check */
	/* runtime/traceback.go: a set syscallsp wins over sched (initAt). */
	if (g->syscall_sp) {
		g->ctx_pc = g->syscall_pc;
		g->ctx_sp = g->syscall_sp;
		g->ctx_syscall = true;
	} else if (st == GOSYM_G_SYSCALL) {
		return false;
	} else {
		g->ctx_pc = g->sched_pc;
		g->ctx_sp = g->sched_sp;
		g->ctx_lr = g->sched_lr;
	}
	return g->ctx_sp >= g->stack_lo && g->ctx_sp <= g->stack_hi && (g->ctx_sp & 7) == 0;
}

/* The fields whose change means the goroutine ran while we read it. */
static bool same(const struct gr_g *a, const struct gr_g *b)
{
	return a->goid == b->goid && a->status == b->status && a->park_seq == b->park_seq &&
	       a->sched_pc == b->sched_pc &&
	       a->sched_sp == b->sched_sp && a->syscall_pc == b->syscall_pc &&
	       a->syscall_sp == b->syscall_sp && a->stack_lo == b->stack_lo &&
	       a->stack_hi == b->stack_hi;
}

struct round {
	const uint64_t *ptrs;	/* g addresses, by index */
	size_t *idx;		/* goroutines still to settle */
	size_t n;
	uint8_t *raw;		/* gbytes per entry of idx */
	size_t gbytes, cbytes;	/* read of a g, and of its check */
	struct gr_mem_req *req;
};

/* Read the g of every goroutine in r into r->raw.  Unreadable ones are
 * marked skipped (idx entry set to SIZE_MAX). */
static int read_gs(struct gr_target *t, struct gr_snapshot *s, struct round *r, size_t len)
{
	int err;

	for (size_t k = 0; k < r->n; k++) {
		if (r->idx[k] == SIZE_MAX) /* found unreadable by an earlier read */
			r->req[k] = (struct gr_mem_req){ 0, NULL, 0, 0 };
		else
			r->req[k] = (struct gr_mem_req){ r->ptrs[r->idx[k]], r->raw + k * r->gbytes,
							 len, 0 };
	}
	if ((err = gr_mem_readv(t->mem, r->req, r->n)))
		return err;
	for (size_t k = 0; k < r->n; k++) {
		if (r->idx[k] != SIZE_MAX && r->req[k].err) {
			s->g[r->idx[k]].state = GR_G_SKIPPED;
			r->idx[k] = SIZE_MAX;
		}
	}
	return 0;
}

/* Whether o asks for g's stack (it has a saved context to walk from). */
static bool wants_stack(const struct gr_snapshot_opts *o, const struct gr_g *g)
{
	return o->stacks && g->ctx_sp && (!o->stack_goid || g->goid == o->stack_goid);
}

/* Copy the stacks o asks for of the goroutines of r. */
static int read_stacks(struct gr_target *t, struct gr_snapshot *s, struct round *r,
		       const struct gr_snapshot_opts *o)
{
	size_t max = o->stack_max;
	size_t need = 0, nreq = 0;
	uint8_t *arena;
	int err;

	for (size_t k = 0; k < r->n; k++) {
		struct gr_g *g = r->idx[k] == SIZE_MAX ? NULL : &s->g[r->idx[k]];
		size_t len;

		if (!g || g->state != GR_G_OK || !wants_stack(o, g))
			continue;
		len = g->stack_hi - g->ctx_sp;
		if (len > max) {
			len = max;
			s->stats.stacks_truncated++;
		}
		g->stack_off = s->arena_len + need;
		g->stack_len = len;
		need += (len + 7) & ~(size_t)7;
	}
	if (!need)
		return 0;
	arena = realloc(s->stack_arena, s->arena_len + need);
	if (!arena)
		return -ENOMEM;
	s->stack_arena = arena;
	for (size_t k = 0; k < r->n; k++) {
		struct gr_g *g = r->idx[k] == SIZE_MAX ? NULL : &s->g[r->idx[k]];

		if (!g || g->state != GR_G_OK || !g->ctx_sp || !g->stack_len)
			continue;
		r->req[nreq++] = (struct gr_mem_req){ g->ctx_sp, arena + g->stack_off, g->stack_len,
						      0 };
	}
	s->arena_len += need;
	if ((err = gr_mem_readv(t->mem, r->req, nreq)))
		return err;
	nreq = 0;
	for (size_t k = 0; k < r->n; k++) {
		struct gr_g *g = r->idx[k] == SIZE_MAX ? NULL : &s->g[r->idx[k]];

		if (!g || g->state != GR_G_OK || !g->ctx_sp || !g->stack_len)
			continue;
		if (r->req[nreq++].err)
			g->stack_len = 0; /* the stack moved or was freed: read again */
		else
			s->stats.stack_bytes += g->stack_len;
	}
	return 0;
}

/* One round: read, decode, copy stacks, read again, compare.  Settled
 * goroutines leave r->idx; the rest stay for the next round. */
static int round_run(struct gr_target *t, struct gr_snapshot *s, struct round *r,
		     const struct gr_snapshot_opts *o)
{
	size_t keep = 0;
	int err;

	if ((err = read_gs(t, s, r, r->gbytes)))
		return err;
	for (size_t k = 0; k < r->n; k++) {
		struct gr_g *g;

		if (r->idx[k] == SIZE_MAX)
			continue;
		g = &s->g[r->idx[k]];
		g->addr = r->ptrs[r->idx[k]];
		decode(t, r->raw + k * r->gbytes, g);
		g->stack_len = 0;
		if (!validate(t, g))
			g->state = GR_G_SKIPPED; /* provisional: retried */
	}
	if (o->stacks && (err = read_stacks(t, s, r, o)))
		return err;
	if ((err = read_gs(t, s, r, r->cbytes)))
		return err;
	for (size_t k = 0; k < r->n; k++) {
		struct gr_g *g, again;

		if (r->idx[k] == SIZE_MAX)
			continue;
		g = &s->g[r->idx[k]];
		memset(&again, 0, sizeof(again));
		decode(t, r->raw + k * r->gbytes, &again);
		if (g->state != GR_G_SKIPPED && same(g, &again) &&
		    !(wants_stack(o, g) && !g->stack_len))
			continue; /* settled */
		s->stats.rereads++;
		r->idx[keep++] = r->idx[k];
	}
	r->n = keep;
	return 0;
}

/* The goroutines the batched round found changed, read again one at a
 * time, each up to o->retries times, then skipped.  One goroutine's round
 * (its g, its stack, its g again) lasts a few microseconds; the batched
 * round's window spans every stack it copies, which with many deep stacks
 * is longer than a busy goroutine stays parked, so re-reading the changed
 * ones as a batch again would mostly see them change again. */
static int reread_each(struct gr_target *t, struct gr_snapshot *s, const struct round *r,
		       const struct gr_snapshot_opts *o)
{
	for (size_t k = 0; k < r->n; k++) {
		size_t i = r->idx[k], cur = i;
		struct round one = *r;
		int err;

		one.idx = &cur;
		one.n = 1;
		for (int a = 0; a < o->retries && one.n; a++)
			if ((err = round_run(t, s, &one, o)))
				return err;
		if (one.n)
			s->g[i].state = GR_G_SKIPPED;
	}
	return 0;
}

/* Thread ids of running goroutines: their M's procid. */
static void read_tids(struct gr_target *t, struct gr_snapshot *s)
{
	int off = t->info.off.m_procid;

	if (off < 0)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct gr_g *g = &s->g[i];
		uint64_t tid;

		if (g->state == GR_G_OK && (g->status & ~GOSYM_G_SCAN) == GOSYM_G_RUNNING && g->m &&
		    !gr_mem_read(t->mem, g->m + off, &tid, sizeof(tid)) && tid < (1u << 31))
			g->tid = (int32_t)tid;
	}
}

static int read_list(struct gr_target *t, struct gr_snapshot *s, uint64_t **ptrs)
{
	const struct gr_target_info *in = &t->info;
	uint64_t len, arr;
	int err;

	/* allglen before allgptr: runtime/proc.go allgadd publishes the
	 * pointer first, so this order never reads past the array. */
	if ((err = gr_mem_read(t->mem, in->allgs.allglen + in->bias, &len, 8)) ||
	    (err = gr_mem_read(t->mem, in->allgs.allgptr + in->bias, &arr, 8)))
		return gr__err(err, "cannot read runtime.allglen / runtime.allgptr: %s",
			       strerror(-err));
	s->stats.allglen = len;
	if (len > MAX_ALLGLEN || (len && !arr))
		return gr__err(-EPROTO, "runtime.allglen is %llu (allgptr 0x%llx): not a goroutine "
			       "list", (unsigned long long)len, (unsigned long long)arr);
	*ptrs = calloc(len ? len : 1, 8);
	if (!*ptrs)
		return gr__err(-ENOMEM, "out of memory");
	if (len && (err = gr_mem_read(t->mem, arr, *ptrs, len * 8)))
		return gr__err(err == -EFAULT ? -EPROTO : err, "cannot read runtime.allgs (%llu "
			       "entries at 0x%llx): %s", (unsigned long long)len,
			       (unsigned long long)arr, strerror(-err));
	s->n = len;
	return 0;
}

static void count_states(struct gr_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		switch (s->g[i].state) {
		case GR_G_OK: s->stats.ok++; break;
		case GR_G_DEAD: s->stats.dead++; break;
		default: s->stats.inconsistent++;
		}
	}
}

int gr_snapshot_take(struct gr_target *t, const struct gr_snapshot_opts *opts,
		     struct gr_snapshot **out)
{
	struct gr_snapshot_opts o = { .stacks = true, .labels = true };
	struct gr_snapshot *s = calloc(1, sizeof(*s));
	struct round r = { 0 };
	uint64_t *ptrs = NULL, b0, c0, b1, c1;
	int err;

	*out = NULL;
	if (opts)
		o = *opts;
	if (o.retries <= 0)
		o.retries = DEFAULT_RETRIES;
	if (!o.stack_max)
		o.stack_max = DEFAULT_STACK_MAX;
	if (!s)
		return gr__err(-ENOMEM, "out of memory");
	gr_mem_stats(t->mem, &b0, &c0);
	s->mono_ns = mono_ns();
	if ((err = read_list(t, s, &ptrs)))
		goto fail;
	r.ptrs = ptrs;
	r.n = s->n;
	r.gbytes = g_bytes(&t->info.off);
	r.cbytes = check_bytes(&t->info.off);
	s->g = calloc(s->n ? s->n : 1, sizeof(*s->g));
	r.idx = malloc((s->n ? s->n : 1) * sizeof(*r.idx));
	r.raw = malloc((s->n ? s->n : 1) * r.gbytes);
	r.req = malloc((s->n ? s->n : 1) * sizeof(*r.req));
	if (!s->g || !r.idx || !r.raw || !r.req) {
		err = gr__err(-ENOMEM, "out of memory (%zu goroutines)", s->n);
		goto fail;
	}
	for (size_t i = 0; i < s->n; i++)
		r.idx[i] = i;
	if ((err = round_run(t, s, &r, &o)) || (err = reread_each(t, s, &r, &o))) {
		err = gr__err(err, err == -ESRCH ? "process %d exited" : "cannot read process %d: %s",
			      (int)t->info.pid, strerror(-err));
		goto fail;
	}
	read_tids(t, s);
	if (o.labels)
		gr_labels__read(t, s);
	count_states(s);
	gr_mem_stats(t->mem, &b1, &c1);
	s->stats.bytes = b1 - b0;
	s->stats.syscalls = c1 - c0;
	s->stats.read_ns = mono_ns() - s->mono_ns;
	*out = s;
	s = NULL;
	err = 0;
fail:
	free(ptrs);
	free(r.idx);
	free(r.raw);
	free(r.req);
	gr_snapshot_free(s);
	return err;
}

void gr_snapshot_free(struct gr_snapshot *s)
{
	if (!s)
		return;
	free(s->g);
	free(s->labels);
	free(s->stack_arena);
	free(s->strings);
	free(s);
}

int gr_snapshot_stack(const struct gr_snapshot *s, size_t i, const uint8_t **bytes, uint64_t *base,
		      size_t *len)
{
	const struct gr_g *g;

	if (i >= s->n)
		return -ENOENT;
	g = &s->g[i];
	if (g->state != GR_G_OK || !g->stack_len)
		return -ENOENT;
	*bytes = s->stack_arena + g->stack_off;
	*base = g->ctx_sp;
	*len = g->stack_len;
	return 0;
}

const char *gr_status_string(const struct gr_target *t, const struct gr_g *g)
{
	const struct gosym_goroutine_facts *fx = &t->info.facts;
	uint32_t st = g->status & ~(uint32_t)GOSYM_G_SCAN;

	if ((st == GOSYM_G_WAITING || (fx->leaked_suffix && st == GOSYM_G_LEAKED)) &&
	    g->waitreason != 0) {
		/* waitReason.String() */
		if ((int)g->waitreason < t->info.nwaitreasons)
			return t->info.waitreasons[g->waitreason];
		return "unknown wait reason";
	}
	if (st < (uint32_t)fx->nstatus_names)
		return fx->status_names[st];
	return "???";
}

/* The startpc's function kind and whether it is a runtime.* function,
 * cached per startpc (most goroutines share a few). */
static const struct start_ent *start_get(const struct gr_target *t, uint64_t pc)
{
	struct gr_target *mt = (struct gr_target *)t; /* the cache only */
	struct start_ent *e = &mt->start[(pc * 0x9E3779B97F4A7C15ULL) >> 54 & (START_CACHE - 1)];
	struct gosym_func fn;

	if (e->pc == pc)
		return e;
	e->pc = pc;
	e->ok = !gosym_lookup_pc(t->info.go, pc, &fn);
	e->special = e->ok ? (uint8_t)fn.special : 0;
	e->runtime = e->ok && !strncmp(fn.name, "runtime.", 8);
	return e;
}

bool gr_is_system(const struct gr_target *t, const struct gr_g *g)
{
	const struct start_ent *e;

	if (!g->startpc || !(e = start_get(t, g->startpc - t->info.bias))->ok)
		return false;
	switch (e->special) {
	case GOSYM_FN_RUNTIME_MAIN:
	case GOSYM_FN_COROSTART:
	case GOSYM_FN_HANDLEASYNCEVENT:
		return false;
	case GOSYM_FN_RUNFINQ:
		/* The runtime asks fingStatus (is a finalizer running?), a
		 * variable stripped binaries don't name: parked in its
		 * "finalizer wait", the goroutine runs no finalizer. */
		return (g->status & ~GOSYM_G_SCAN) == GOSYM_G_WAITING &&
		       g->waitreason < (uint32_t)t->info.nwaitreasons &&
		       !strcmp(t->info.waitreasons[g->waitreason], "finalizer wait");
	case GOSYM_FN_RUNCLEANUPS:
		return !g->running_cleanups;
	default:
		return e->runtime;
	}
}
