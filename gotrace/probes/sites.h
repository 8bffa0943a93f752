/* SPDX-License-Identifier: MIT */
/*
 * sites: where a function's entry probe goes, and what any probe site costs.
 *
 * A probe at a function's first instruction is single-stepped by the kernel
 * on most Go functions (they start with the stack-bound check `cmp`, see
 * probe_class.h), which costs ~30x an emulated hit on some machines.  The
 * entry probe is moved forward to the first instruction the kernel emulates
 * when everything before it is a known prologue instruction that
 *
 *   - cannot branch, fault or trap (so reaching the function means reaching
 *     the site, exactly once per pass through the prologue),
 *   - leaves SP, the frame pointer, the return address and g (R14 on
 *     amd64; X28 on arm64) as they were at the entry (so the goroutine id,
 *     the stack-distance pairing and --stack unwinding see the same state;
 *     a TLS load of g into R14 is allowed: it makes R14 valid),
 *   - writes only scratch registers (amd64 R12, X15, flags; arm64 X16,
 *     X17, X27, flags), or with SITES_KEEP_ARGS not even an argument or g
 *     register,
 *
 * and no direct branch in the function lands after the entry and at or
 * before the site.  The instructions recognised are those of the Go
 * assembler's prologues (docs/probes.md lists them): the stack-bound check
 * (`cmp 0x10(%r14),%rsp; jbe` and its big-frame forms; arm64 `ldr x16,
 * [x28,#16]; ...; b.ls`) and the ABI wrappers' g load.  Where no such site
 * exists the entry itself is used.  Stack growth still re-runs the prologue
 * from the entry, so the probe still fires again after runtime.morestack,
 * as it did at the entry.
 *
 * Functions return 0 or a negative errno and never print.
 */
#ifndef GOTRACE_SITES_H
#define GOTRACE_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "gosym.h"
#include "probes/probe_class.h"
#include "probes/retsites.h"

struct sites;

/* A site finder for one architecture and kernel version (PROBE_KVER; 0:
 * the running kernel). */
int sites_new(enum retsites_arch arch, unsigned int kver, struct sites **out);
void sites_free(struct sites *s);

/* SITES_KEEP_ARGS: the probe reads argument registers or g (states'
 * probes): skip no instruction that writes one. */
#define SITES_KEEP_ARGS 0x1

struct entry_site {
	uint64_t addr;		/* the probe's address: entry <= addr < end */
	enum probe_class cls;	/* what a hit there costs */
	unsigned int skipped;	/* prologue instructions before it */
};

/*
 * The entry site of the function whose code[0..len) starts at `entry`.
 * min_target: the lowest address above `entry` that a direct branch or call
 * in the function targets (retsites_min_target() after retsites_find() on
 * the same code; UINT64_MAX for none): the site stays below it.  Returns 0,
 * or -EILSEQ when the first instruction does not decode.
 */
int sites_entry(struct sites *s, const uint8_t *code, size_t len, uint64_t entry,
		uint64_t min_target, unsigned int flags, struct entry_site *out);

/* The class of the instruction at code[0..avail) (decoded to find its
 * length); PROBE_REFUSED if it does not decode. */
enum probe_class sites_class(struct sites *s, const uint8_t *code, size_t avail);

/*
 * The entry site of function fn of gs, decoding the whole function (for
 * the branch-target check).  *off: the site's file offset (for uprobes).
 * -ENOENT if its code is not in the file, -EILSEQ if it does not decode.
 */
int sites_func_entry(struct sites *s, struct gosym *gs, const struct gosym_func *fn,
		     unsigned int flags, struct entry_site *out, uint64_t *off);

/*
 * sites_func_entry() for the function named `name` (exact name), with a
 * finder made for the occasion (gs's architecture, the running kernel).
 * -ENOENT if gs has no such function.
 */
int sites_entry_of(struct gosym *gs, const char *name, unsigned int flags,
		   struct entry_site *out, uint64_t *off);

#endif /* GOTRACE_SITES_H */
