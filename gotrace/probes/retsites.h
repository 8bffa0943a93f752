/* SPDX-License-Identifier: MIT */
/*
 * retsites: the return instructions of a function, found by decoding its
 * machine code linearly from its exact entry to its end (Capstone).
 *
 * funcgraph puts a uprobe on each of them instead of a uretprobe, which
 * would crash Go programs (docs/go-runtime.md, "Never a uretprobe").  A
 * probe must never land inside an instruction, so the decode has to cover
 * [entry, end) exactly: if an instruction fails to decode or runs past
 * the end, the function is rejected (-EILSEQ) and the caller skips it,
 * rather than guessing.
 *
 * Architectures: x86-64 (RET, RET imm16) and arm64 (RET).  On arm64 Go can
 * place literal pools after the code; such functions fail to decode and are
 * skipped.  The library never prints.
 */
#ifndef GOTRACE_RETSITES_H
#define GOTRACE_RETSITES_H

#include <stddef.h>
#include <stdint.h>

enum retsites_arch {
	RETSITES_X86_64,
	RETSITES_ARM64,
};

struct retsites;

/* A decoder for one architecture; -EOPNOTSUPP if Capstone lacks it. */
int retsites_new(enum retsites_arch arch, struct retsites **out);
void retsites_free(struct retsites *r);

/*
 * Decode `len` bytes of code that start at address `addr` and store the
 * addresses of their return instructions in out[0..max).  Returns the
 * number of return instructions (which may exceed max: only max are
 * stored), or -EILSEQ when the bytes don't decode exactly to the end;
 * then *bad_addr (if not NULL) is the address where decoding stopped.
 */
int retsites_find(struct retsites *r, const uint8_t *code, size_t len, uint64_t addr,
		  uint64_t *out, size_t max, uint64_t *bad_addr);

/*
 * After a successful retsites_find(): the lowest address above `addr` that
 * a direct jump, branch or call in the decoded code targets, UINT64_MAX if
 * none does.  Indirect jumps (Go's jump tables) are not seen: their targets
 * are case bodies, never a function's prologue.  sites_entry() keeps entry
 * probes below it.
 */
uint64_t retsites_min_target(const struct retsites *r);

/* The architecture of a Go binary by GOARCH name; -EOPNOTSUPP for others. */
int retsites_arch_from_goarch(const char *goarch, enum retsites_arch *arch);

#endif /* GOTRACE_RETSITES_H */
