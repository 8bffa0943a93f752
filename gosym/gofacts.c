// SPDX-License-Identifier: MIT
/*
 * gosym_go_facts(): what changed in the Go runtime between releases that a
 * tracer of the binary needs.  Each rule was read in the named release's
 * sources (docs/go-runtime.md cites where); tests/unit/test_gosym.c checks
 * them against the binary's DWARF and the runtime sources of every
 * toolchain the tests build.
 */
#include <string.h>

#include "internal.h"

/* The release is 1.<minor> or newer; false when unknown. */
static bool at_least(const struct gosym *g, int minor)
{
	return g->info.go_major > 1 || (g->info.go_major == 1 && g->info.go_minor >= minor);
}

void gosym_go_facts(const struct gosym *g, struct gosym_go_facts *out)
{
	const char *arch = g->info.arch ? g->info.arch : "";
	bool amd64 = !strcmp(arch, "amd64"), arm64 = !strcmp(arch, "arm64");
	bool known = g->info.go_major > 0;

	memset(out, 0, sizeof(*out));
	out->version_known = known;
	out->supported = at_least(g, 15);
	/* internal/buildcfg: the register ABI became the default for amd64
	 * in Go 1.17 and for arm64 in Go 1.18. */
	if (amd64)
		out->regabi = !known || at_least(g, 17);
	else if (arm64)
		out->regabi = !known || at_least(g, 18);
	/* arm64 reserves R28 for g in every Go release (REGG). */
	out->g_in_register = arm64 || (amd64 && out->regabi);
	/* Go 1.26 rewrote reentersyscall/exitsyscall around a raw CAS of
	 * atomicstatus (runtime/proc.go). */
	out->syscall_fastpath = !known || at_least(g, 26);
	/* Go 1.24 moved the goid assignment in newproc1 before the
	 * casgstatus(_Gdead, _Grunnable). */
	out->late_goid = !known || !at_least(g, 24);
}
