// SPDX-License-Identifier: MIT
/*
 * dwunw_go_walk(): a goroutine's stack from a saved context, frame by
 * frame as the Go runtime's own unwinder (runtime/traceback.go, unwinder
 * initAt/resolveInternal/next) walks it for tracebacks:
 *
 *   - a frame's caller SP (fp) is sp + the pcsp table's value at the
 *     frame's pc (plus the return address slot on amd64); the return
 *     address is read at fp - 8 (amd64) or at sp (arm64, when the saved lr
 *     is not given);
 *   - a TOPFRAME function (goexit, mstart...) or a SPWRITE one (mcall,
 *     systemstack, gogo: they switch stacks) ends the walk after itself,
 *     except SPWRITE in the innermost frame of a system call context;
 *   - the frame after an injected call (sigpanic, asyncPreempt,
 *     debugCallV2) holds the interrupted pc itself, not a return address,
 *     so it is symbolized at pc, not pc - 1 (Go's symPC);
 *   - a return address outside every function ends the walk.
 *
 * Only Go code is walked: a goroutine's stack holds Go frames alone (a
 * cgo call runs on the thread's stack, and the goroutine is then unwound
 * from its syscall context).  The pcsp lookups go through a PC cache the
 * caller owns (most goroutines of a process share their PCs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gosym.h"
#include "dwunw.h"

struct go_cache_ent {
	uint64_t vaddr;		/* key: link-time pc; 0 = empty */
	uint64_t entry;
	int32_t spdelta;	/* -1: unknown */
	uint8_t flag, special, ok, _pad;
};

struct dwunw_go_cache {
	size_t mask;
	uint64_t hits, misses;
	struct go_cache_ent e[];
};

int dwunw_go_cache_new(size_t entries, struct dwunw_go_cache **out)
{
	size_t n = 64;
	struct dwunw_go_cache *c;

	while (n < entries && n < (1u << 24))
		n <<= 1;
	c = calloc(1, sizeof(*c) + n * sizeof(c->e[0]));
	if (!c)
		return -ENOMEM;
	c->mask = n - 1;
	*out = c;
	return 0;
}

void dwunw_go_cache_free(struct dwunw_go_cache *c)
{
	free(c);
}

/* What the walk needs of the function at vaddr: ok = 0 outside functions. */
static const struct go_cache_ent *lookup(const struct gosym *g, struct dwunw_go_cache *c,
					 uint64_t vaddr, struct go_cache_ent *tmp)
{
	struct go_cache_ent *ce = tmp;
	struct gosym_func fn;

	if (c) {
		ce = &c->e[(vaddr * 0x9E3779B97F4A7C15ULL >> 40) & c->mask];
		if (ce->vaddr == vaddr && vaddr) {
			c->hits++;
			return ce;
		}
		c->misses++;
	}
	memset(ce, 0, sizeof(*ce));
	ce->vaddr = vaddr;
	ce->spdelta = -1;
	if (gosym_lookup_pc(g, vaddr, &fn))
		return ce;
	ce->ok = 1;
	ce->entry = fn.entry;
	ce->flag = fn.flag;
	ce->special = (uint8_t)fn.special;
	if (gosym_pc_spdelta(g, vaddr, &ce->spdelta) || ce->spdelta < 0)
		ce->spdelta = -1;
	return ce;
}

static bool read_word(const uint8_t *stack, uint64_t base, size_t len, uint64_t addr,
		      uint64_t *out)
{
	if (addr < base || addr - base > len || len - (addr - base) < 8)
		return false;
	memcpy(out, stack + (addr - base), 8);
	return true;
}

static bool injected(const struct go_cache_ent *ce, bool debugcall)
{
	return ce->special == GOSYM_FN_SIGPANIC || ce->special == GOSYM_FN_ASYNCPREEMPT ||
	       (debugcall && ce->special == GOSYM_FN_DEBUGCALL);
}

int dwunw_go_walk(const struct gosym *g, struct dwunw_go_cache *cache,
		  const struct dwunw_go_ctx *ctx, const void *stack, uint64_t stack_base,
		  size_t stack_len, struct dwunw_go_frame *frames, int max, enum dwunw_stop *stop)
{
	bool lr_arch = ctx->arch == DWUNW_ARCH_ARM64;
	uint64_t minframe = lr_arch ? 8 : 0;
	uint64_t pc = ctx->pc, sp = ctx->sp, lr = lr_arch ? ctx->lr : 0;
	enum dwunw_stop why = DWUNW_STOP_MAX_FRAMES;
	bool trap = false, innermost = true;
	struct go_cache_ent tmp;
	int n = 0;

	if (ctx->arch != DWUNW_ARCH_X86_64 && ctx->arch != DWUNW_ARCH_ARM64)
		return -EOPNOTSUPP;
	if (!g || !frames || max < 0 || (!stack && stack_len))
		return -EINVAL;
	/* A nil function call: start in the caller (initAt). */
	if (pc == 0) {
		if (!read_word(stack, stack_base, stack_len, sp, &pc)) {
			why = DWUNW_STOP_STACK_READ;
			goto done;
		}
		if (lr_arch)
			lr = 0;
		else
			sp += 8;
	}
	while (n < max) {
		const struct go_cache_ent *ce = lookup(g, cache, pc - ctx->bias, &tmp);
		struct dwunw_go_frame *f = &frames[n];
		uint8_t flag;
		uint64_t fp;

		if (!ce->ok) {
			why = DWUNW_STOP_NO_MODULE;
			goto done;
		}
		if (ce->spdelta < 0) {
			why = DWUNW_STOP_NO_INFO;
			goto done;
		}
		flag = ce->flag;
		if (ce->special == GOSYM_FN_CGOCALLBACK ||
		    (innermost && ctx->syscall))
			flag &= ~GOSYM_FLAG_SPWRITE;
		fp = sp + (uint64_t)ce->spdelta + (lr_arch ? 0 : 8);
		memset(f, 0, sizeof(*f));
		f->pc = pc;
		f->sp = sp;
		f->fp = fp;
		f->argp = fp + minframe;
		f->vaddr = pc - ctx->bias;
		f->entry = ce->entry;
		f->special = ce->special;
		f->sympc = !trap && f->vaddr > ce->entry ? f->vaddr - 1 : f->vaddr;
		f->trap = trap;
		n++;
		if (flag & GOSYM_FLAG_TOPFRAME) {
			why = DWUNW_STOP_TOPFRAME;
			goto done;
		}
		if (flag & GOSYM_FLAG_SPWRITE) {
			why = DWUNW_STOP_SPWRITE;
			goto done;
		}
		if (lr_arch) {
			if ((innermost && sp < fp) || lr == 0) {
				if (!read_word(stack, stack_base, stack_len, sp, &lr)) {
					why = DWUNW_STOP_STACK_READ;
					goto done;
				}
			}
		} else if (!read_word(stack, stack_base, stack_len, fp - 8, &lr)) {
			why = DWUNW_STOP_STACK_READ;
			goto done;
		}
		if (lr == 0) {
			why = DWUNW_STOP_END;
			goto done;
		}
		if (pc == lr && sp == fp) {
			why = DWUNW_STOP_CYCLE;
			goto done;
		}
		trap = injected(ce, ctx->debugcall_injected);
		pc = lr;
		lr = 0;
		sp = fp;
		innermost = false;
		/* arm64: the signal handler saved LR on the stack before faking
		 * the call. */
		if (lr_arch && trap) {
			uint64_t x;
			const struct go_cache_ent *nf;

			if (!read_word(stack, stack_base, stack_len, sp, &x)) {
				why = DWUNW_STOP_STACK_READ;
				goto done;
			}
			sp += 16;
			nf = lookup(g, cache, pc - ctx->bias, &tmp);
			if (!nf->ok)
				pc = x;
			else if (nf->spdelta == 0)
				lr = x;
		}
	}
done:
	if (stop)
		*stop = why;
	return n;
}

void dwunw_go_cache_stats(const struct dwunw_go_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}
