// SPDX-License-Identifier: MIT
/*
 * Per-version runtime facts (see version_tables.h).
 *
 * Generated once by tests/oracle_dwarf/gen_tables.py from what
 * tests/oracle_dwarf/source computes out of each toolchain's runtime
 * source, then kept by hand: add a row per new Go release the same way and
 * let tests/unit/test_offsets.py compare it with real binaries' DWARF and
 * runtime.waitReasonStrings.  The toolchain each row was checked against is
 * named in its comment; a row assumes the other patch releases of that
 * minor release share its layout and strings (Go keeps runtime struct
 * changes out of patch releases; only the named one was checked).
 *
 * Wait reasons: the enum grew from 27 values (1.17) to 47 (1.25) and was
 * reordered in 1.20, 1.24, 1.25 and 1.26; rows share a list when equal.
 */
#include <stddef.h>

#include "version_tables.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* go1.17.13 */
static const char *const wr_1_17[] = {
	"",
	"GC assist marking",
	"IO wait",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"select",
	"select (no cases)",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"chan receive",
	"chan send",
	"finalizer wait",
	"force gc (idle)",
	"semacquire",
	"sleep",
	"sync.Cond.Wait",
	"timer goroutine (idle)",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"preempted",
	"debug call",
};

/* go1.20.14 */
static const char *const wr_1_20[] = {
	"",
	"GC assist marking",
	"IO wait",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"select",
	"select (no cases)",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"chan receive",
	"chan send",
	"finalizer wait",
	"force gc (idle)",
	"semacquire",
	"sleep",
	"sync.Cond.Wait",
	"sync.Mutex.Lock",
	"sync.RWMutex.RLock",
	"sync.RWMutex.Lock",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"GC worker (active)",
	"preempted",
	"debug call",
	"GC mark termination",
	"stopping the world",
};

/* go1.22.12 */
static const char *const wr_1_22[] = {
	"",
	"GC assist marking",
	"IO wait",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"select",
	"select (no cases)",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"chan receive",
	"chan send",
	"finalizer wait",
	"force gc (idle)",
	"semacquire",
	"sleep",
	"sync.Cond.Wait",
	"sync.Mutex.Lock",
	"sync.RWMutex.RLock",
	"sync.RWMutex.Lock",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"GC worker (active)",
	"preempted",
	"debug call",
	"GC mark termination",
	"stopping the world",
	"flushing proc caches",
	"trace goroutine status",
	"trace proc status",
	"page trace flush",
	"coroutine",
};

/* go1.23.12 */
static const char *const wr_1_23[] = {
	"",
	"GC assist marking",
	"IO wait",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"select",
	"select (no cases)",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"chan receive",
	"chan send",
	"finalizer wait",
	"force gc (idle)",
	"semacquire",
	"sleep",
	"sync.Cond.Wait",
	"sync.Mutex.Lock",
	"sync.RWMutex.RLock",
	"sync.RWMutex.Lock",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"GC worker (active)",
	"preempted",
	"debug call",
	"GC mark termination",
	"stopping the world",
	"flushing proc caches",
	"trace goroutine status",
	"trace proc status",
	"page trace flush",
	"coroutine",
	"GC weak to strong wait",
};

/* go1.24.13 */
static const char *const wr_1_24[] = {
	"",
	"GC assist marking",
	"IO wait",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"select",
	"select (no cases)",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"chan receive",
	"chan send",
	"finalizer wait",
	"force gc (idle)",
	"semacquire",
	"sleep",
	"sync.Cond.Wait",
	"sync.Mutex.Lock",
	"sync.RWMutex.RLock",
	"sync.RWMutex.Lock",
	"sync.WaitGroup.Wait",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"GC worker (active)",
	"preempted",
	"debug call",
	"GC mark termination",
	"stopping the world",
	"flushing proc caches",
	"trace goroutine status",
	"trace proc status",
	"page trace flush",
	"coroutine",
	"GC weak to strong wait",
	"synctest.Run",
	"synctest.Wait",
	"chan receive (synctest)",
	"chan send (synctest)",
	"select (synctest)",
};

/* go1.25.14 */
static const char *const wr_1_25[] = {
	"",
	"GC assist marking",
	"IO wait",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"select",
	"select (no cases)",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"chan receive",
	"chan send",
	"finalizer wait",
	"force gc (idle)",
	"GOMAXPROCS updater (idle)",
	"semacquire",
	"sleep",
	"sync.Cond.Wait",
	"sync.Mutex.Lock",
	"sync.RWMutex.RLock",
	"sync.RWMutex.Lock",
	"sync.WaitGroup.Wait",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"GC worker (active)",
	"preempted",
	"debug call",
	"GC mark termination",
	"stopping the world",
	"flushing proc caches",
	"trace goroutine status",
	"trace proc status",
	"page trace flush",
	"coroutine",
	"GC weak to strong wait",
	"synctest.Run",
	"synctest.Wait",
	"chan receive (durable)",
	"chan send (durable)",
	"select (durable)",
	"sync.WaitGroup.Wait (durable)",
	"cleanup wait",
};

/* go1.26.8 */
static const char *const wr_1_26[] = {
	"",
	"GC assist marking",
	"IO wait",
	"dumping heap",
	"garbage collection",
	"garbage collection scan",
	"panicwait",
	"GC assist wait",
	"GC sweep wait",
	"GC scavenge wait",
	"finalizer wait",
	"force gc (idle)",
	"GOMAXPROCS updater (idle)",
	"semacquire",
	"sleep",
	"chan receive (nil chan)",
	"chan send (nil chan)",
	"select (no cases)",
	"select",
	"chan receive",
	"chan send",
	"sync.Cond.Wait",
	"sync.Mutex.Lock",
	"sync.RWMutex.RLock",
	"sync.RWMutex.Lock",
	"sync.WaitGroup.Wait",
	"trace reader (blocked)",
	"wait for GC cycle",
	"GC worker (idle)",
	"GC worker (active)",
	"preempted",
	"debug call",
	"GC mark termination",
	"stopping the world",
	"flushing proc caches",
	"trace goroutine status",
	"trace proc status",
	"page trace flush",
	"coroutine",
	"GC weak to strong wait",
	"synctest.Run",
	"synctest.Wait",
	"chan receive (durable)",
	"chan send (durable)",
	"select (durable)",
	"sync.WaitGroup.Wait (durable)",
	"cleanup wait",
};

static const struct gosym_vt vt[] = {
	{ /* checked against go1.17.13 */
		.minor = 17, .source = "table (Go 1.17)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 312, .g_gopc = 296, .g_parentgoid = -1,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_17, .nwaitreasons = ARRAY_SIZE(wr_1_17),
	},
	{ /* checked against go1.18.10 */
		.minor = 18, .source = "table (Go 1.18)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 312, .g_gopc = 296, .g_parentgoid = -1,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_17, .nwaitreasons = ARRAY_SIZE(wr_1_17),
	},
	{ /* checked against go1.19.8 */
		.minor = 19, .source = "table (Go 1.19)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 312, .g_gopc = 296, .g_parentgoid = -1,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_17, .nwaitreasons = ARRAY_SIZE(wr_1_17),
	},
	{ /* checked against go1.20.14 */
		.minor = 20, .source = "table (Go 1.20)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 312, .g_gopc = 296, .g_parentgoid = -1,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_20, .nwaitreasons = ARRAY_SIZE(wr_1_20),
	},
	{ /* checked against go1.21.13 */
		.minor = 21, .source = "table (Go 1.21)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 296, .g_gopc = 280, .g_parentgoid = 272,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_20, .nwaitreasons = ARRAY_SIZE(wr_1_20),
	},
	{ /* checked against go1.22.12 */
		.minor = 22, .source = "table (Go 1.22)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 296, .g_gopc = 280, .g_parentgoid = 272,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_22, .nwaitreasons = ARRAY_SIZE(wr_1_22),
	},
	{ /* checked against go1.23.12 */
		.minor = 23, .source = "table (Go 1.23)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 152, .g_goid = 160,
			.g_waitreason = 184, .g_startpc = 304, .g_gopc = 288, .g_parentgoid = 280,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_23, .nwaitreasons = ARRAY_SIZE(wr_1_23),
	},
	{ /* checked against go1.24.13 */
		.minor = 24, .source = "table (Go 1.24)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 152, .g_goid = 160,
			.g_waitreason = 184, .g_startpc = 304, .g_gopc = 288, .g_parentgoid = 280,
			.m_curg = 192, .m_g0 = 0, .m_procid = 72,
		},
		.waitreasons = wr_1_24, .nwaitreasons = ARRAY_SIZE(wr_1_24),
	},
	{ /* checked against go1.25.14 */
		.minor = 25, .source = "table (Go 1.25)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 296, .g_gopc = 280, .g_parentgoid = 272,
			.m_curg = 184, .m_g0 = 0, .m_procid = 64,
		},
		.waitreasons = wr_1_25, .nwaitreasons = ARRAY_SIZE(wr_1_25),
	},
	{ /* checked against go1.26.8 */
		.minor = 26, .source = "table (Go 1.26)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 304, .g_gopc = 288, .g_parentgoid = 280,
			.m_curg = 184, .m_g0 = 0, .m_procid = 64,
		},
		.waitreasons = wr_1_26, .nwaitreasons = ARRAY_SIZE(wr_1_26),
	},
	{ /* checked against go1.27.4 */
		.minor = 27, .source = "table (Go 1.27)",
		.off = {
			.g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .g_sched = 56,
			.g_sched_sp = 56, .g_sched_pc = 64, .g_atomicstatus = 144, .g_goid = 152,
			.g_waitreason = 176, .g_startpc = 304, .g_gopc = 288, .g_parentgoid = 280,
			.m_curg = 184, .m_g0 = 0, .m_procid = 64,
		},
		.waitreasons = wr_1_26, .nwaitreasons = ARRAY_SIZE(wr_1_26),
	},
};

const struct gosym_vt *gosym__vt_lookup(int major, int minor)
{
	if (major != 1)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(vt); i++)
		if (vt[i].minor == minor)
			return &vt[i];
	return NULL;
}

int gosym__vt_first_minor(void)
{
	return vt[0].minor;
}

int gosym__vt_last_minor(void)
{
	return vt[ARRAY_SIZE(vt) - 1].minor;
}
