/* SPDX-License-Identifier: MIT */
/*
 * Built-in per-version facts about the Go runtime, for binaries without
 * DWARF (offsets) or without symbols (wait reasons), and facts no binary
 * records (status names, the wrapper funcID).  Internal to libgosym.
 *
 * One row per Go 1.x minor release, 1.17 to 1.27.  The offsets are those of
 * 64-bit targets; they were computed from each release's own
 * src/runtime/runtime2.go with go/types and the gc size rules
 * (tests/oracle_dwarf/source), agree for amd64 and arm64, and are checked
 * against the DWARF of real binaries by tests/unit/test_offsets.py.  See
 * docs/runtime-offsets.md.
 */
#ifndef GOSYM_VERSION_TABLES_H
#define GOSYM_VERSION_TABLES_H

#include "gosym.h"

struct gosym_vt {
	int minor;			/* Go 1.<minor> */
	const char *source;		/* "table (Go 1.<minor>)" */
	/* Offsets for 64-bit targets; tls_g, source, tls_source unset. */
	struct gosym_runtime_offsets off;
	/* waitReasonStrings, indexed by waitReason value. */
	const char *const *waitreasons;
	int nwaitreasons;
	/* gStatusStrings, indexed by status (without _Gscan). */
	const char *const *gstatus;
	int ngstatus;
	/* abi.FuncIDWrapper (funcID_wrapper before Go 1.21). */
	int funcid_wrapper;
};

/* The row of Go 1.<minor>, or NULL when the table has none. */
const struct gosym_vt *gosym__vt_lookup(int major, int minor);

/* Oldest and newest minor release the table covers (for messages). */
int gosym__vt_first_minor(void);
int gosym__vt_last_minor(void);

#endif /* GOSYM_VERSION_TABLES_H */
