// SPDX-License-Identifier: MIT
/*
 * gotrace doctor: can this machine (and this target) be traced?
 *
 * Each check prints OK or FAIL with what was found and, on failure, how to
 * fix it.  The exit status is 0 only when every check passes; tests/run.py
 * runs `gotrace doctor -q` to decide whether integration tests may skip.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include <linux/bpf.h>
#include <linux/capability.h>

#include "gosym.h"
#include "gotrace.h"
#include "tracing/target.h"
#include "probes/probe_cost.h"
#include "probes/uprobe_multi.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const char usage_text[] =
"usage: gotrace doctor [-q] [--json] [BINARY | -p PID]\n"
"\n"
"Check that this machine can trace Go programs: kernel version, BTF, the\n"
"bpf() system call, BPF ring buffers, the uprobe PMU, privileges, and what a\n"
"probe hit costs here (a self-test of about a second: emulated and\n"
"single-stepped probe sites, see docs/probes.md).  Given a\n"
"binary or a pid, also check the target: that it is Go, its version, that\n"
"runtime.casgstatus is there, and where each runtime offset comes from.\n"
"Exit status 0 only if every check passes.\n"
"\n"
"Options:\n"
"  -p, --pid PID   check the executable of a running process\n"
"  -q, --quiet     print nothing; only the exit status\n"
"      --json      one JSON document: {\"ok\":bool,\"checks\":[...]}\n"
"  -h, --help      this help\n"
"\n"
"Examples:\n"
"  gotrace doctor\n"
"  gotrace doctor ./server\n"
"  gotrace doctor --json -p 1234\n";

struct doctor {
	bool quiet, json;
	int failed;
	json_t *checks;
};

static void report(struct doctor *d, const char *name, bool ok, const char *fix,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(struct doctor *d, const char *name, bool ok, const char *fix,
		   const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (!ok)
		d->failed++;
	if (d->json) {
		json_t *c = json_pack("{s:s, s:b, s:s}", "check", name, "ok", ok, "detail", detail);

		if (c && !ok && fix)
			json_object_set_new(c, "fix", json_string(fix));
		if (c)
			json_array_append_new(d->checks, c);
		return;
	}
	if (d->quiet)
		return;
	printf("%-4s  %-18s %s\n", ok ? "OK" : "FAIL", name, detail);
	if (!ok && fix)
		printf("      %-18s fix: %s\n", "", fix);
}

static void check_kernel(struct doctor *d)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u)) {
		report(d, "kernel", false, NULL, "uname: %s", strerror(errno));
		return;
	}
	sscanf(u.release, "%d.%d", &major, &minor);
	/* 5.15: BPF cookies on uprobes (bpf_get_attach_cookie); ring buffers are 5.8. */
	report(d, "kernel", major > 5 || (major == 5 && minor >= 15),
	       "use Linux 5.15 or newer (BPF ring buffers and uprobe attach cookies)",
	       "Linux %s (need >= 5.15)", u.release);
}

static void check_btf(struct doctor *d)
{
	bool ok = access("/sys/kernel/btf/vmlinux", R_OK) == 0;

	report(d, "btf", ok, "use a kernel built with CONFIG_DEBUG_INFO_BTF=y",
	       ok ? "/sys/kernel/btf/vmlinux present" : "/sys/kernel/btf/vmlinux: %s",
	       ok ? "" : strerror(errno));
}

static void check_caps(struct doctor *d)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	bool bpf, perfmon, admin;
	uint64_t eff;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data)) {
		report(d, "privileges", false, NULL, "capget: %s", strerror(errno));
		return;
	}
	eff = data[0].effective | ((uint64_t)data[1].effective << 32);
	bpf = eff & (1ULL << CAP_BPF);
	perfmon = eff & (1ULL << CAP_PERFMON);
	admin = eff & (1ULL << CAP_SYS_ADMIN);
	report(d, "privileges", (bpf && perfmon) || admin,
	       "run as root, or grant CAP_BPF and CAP_PERFMON (e.g. sudo setcap "
	       "cap_bpf,cap_perfmon+ep gotrace)",
	       "uid %d; CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s", (int)geteuid(),
	       bpf ? "yes" : "no", perfmon ? "yes" : "no", admin ? "yes" : "no");
}

/* uprobe_multi (Linux 6.6+): the same program with that expected attach
 * type loads only where the kernel knows it.  Informational: without it
 * gotrace attaches one perf-event uprobe per function. */
static void check_uprobe_multi(struct doctor *d, const struct bpf_insn *insns)
{
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		    .expected_attach_type = (enum bpf_attach_type)GT_BPF_TRACE_UPROBE_MULTI);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "gt_doctor_m", "GPL", insns, 2, &po);

	report(d, "uprobe-multi", true, NULL, "%s",
	       fd >= 0 ? "uprobe_multi links available (one attach/detach per program)"
		       : "no uprobe_multi links: one perf-event uprobe per probe; the kernel "
			 "detaches them one at a time, ~35-170 ms each (1,000 probes: 0.5-3 "
			 "min, the target paying for each until then; docs/faults.md)");
	if (fd >= 0)
		close(fd);
}

static void check_bpf(struct doctor *d)
{
	/* r0 = 0; exit: the smallest program; a kprobe-type program is what
	 * our uprobe programs are, so this also checks tracing permission. */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "gt_doctor", "GPL", insns, 2, NULL);
	if (fd < 0) {
		int e = errno;

		report(d, "bpf", false,
		       e == EPERM ? "run as root or with CAP_BPF and CAP_PERFMON"
				  : "use a kernel with CONFIG_BPF_SYSCALL=y and CONFIG_BPF_EVENTS=y",
		       "loading a kprobe-type BPF program: %s", strerror(e));
	} else {
		report(d, "bpf", true, NULL, "kprobe-type BPF program loads");
		close(fd);
		check_uprobe_multi(d, insns);
	}
	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "gt_doctor_rb", 0, 0, 4096, NULL);
	if (fd < 0) {
		report(d, "ringbuf", false,
		       errno == EPERM ? "run as root or with CAP_BPF" : "use Linux 5.8+ (BPF ring buffers)",
		       "creating a BPF ring buffer: %s", strerror(errno));
	} else {
		report(d, "ringbuf", true, NULL, "BPF ring buffer maps work");
		close(fd);
	}
}

static void check_uprobe_pmu(struct doctor *d)
{
	const char *path = "/sys/bus/event_source/devices/uprobe/type";
	FILE *f = fopen(path, "r");
	int type = -1;

	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	report(d, "uprobe-pmu", type >= 0, "use a kernel with CONFIG_UPROBE_EVENTS=y",
	       type >= 0 ? "%s = %d" : "%s missing", path, type);
}

/*
 * What a probe hit costs here, by class (probes/probe_cost.h): the numbers
 * a user multiplies by a trace's hit rate.  Informational: a machine that
 * cannot run the self-test already failed a check above.
 */
static void check_probe_cost(struct doctor *d)
{
	struct probe_cost pc;
	int err = probe_cost_measure(600, &pc);
	const double e = pc.hit_ns[PROBE_EMULATED], s = pc.hit_ns[PROBE_SSTEP];

	if (err) {
		report(d, "probe-cost", true, NULL, "not measured: %s", strerror(-err));
		return;
	}
	report(d, "probe-cost", true, NULL,
	       "per probe hit here: emulated %.2f us (%s), single-stepped %.2f us (%s)%s%.0fx; "
	       "a funcgraph or funclatency call costs about one of each, a funccount call or a "
	       "states transition one emulated (docs/probes.md)", e / 1e3, pc.insn[PROBE_EMULATED], s / 1e3,
	       pc.insn[PROBE_SSTEP], e > 0 ? ": " : "", e > 0 ? s / e : 0.0);
	if (d->json) {
		json_t *c = json_array_get(d->checks, json_array_size(d->checks) - 1);

		json_object_set_new(c, "emulated_ns", json_real(e));
		json_object_set_new(c, "sstep_ns", json_real(s));
		json_object_set_new(c, "call_ns", json_real(pc.call_ns));
		json_object_set_new(c, "hits", json_pack("[I,I]", (json_int_t)pc.hits[0],
							 (json_int_t)pc.hits[1]));
	}
}

static void check_target(struct doctor *d, const char *path, const char *label)
{
	struct gosym *gs = NULL;
	const struct gosym_info *gi;
	struct gosym_func fn;
	struct gosym_runtime_offsets ro;
	struct gosym_go_facts facts;
	const char *const *reasons;
	const char *src = NULL;
	uint64_t off;
	int err, n;

	err = gosym_open(path, &gs);
	if (err) {
		report(d, "go-binary", false, "point gotrace at a Go executable",
		       "%s: %s", label, gosym_errmsg());
		return;
	}
	gi = gosym_info(gs);
	gosym_go_facts(gs, &facts);
	report(d, "go-binary", true, NULL, "%s: %s %s%s%s, pclntab %s at %s", label,
	       gi->goversion[0] ? gi->goversion : "unknown version", gi->arch,
	       gi->pie ? ", PIE" : "", gi->stripped ? ", stripped" : "",
	       gosym_pcln_format_name(gi->pcln_format), gi->pcln_where ? gi->pcln_where : "?");
	report(d, "go-version", facts.supported,
	       "goroutine tracing supports Go 1.15 and newer",
	       "%s (tracing needs >= go1.15)", gi->goversion[0] ? gi->goversion : "unknown");
	report(d, "arch", !strcmp(gi->arch, GOTRACE_ARCH), "use a gotrace built for the target's arch",
	       "target %s, gotrace %s", gi->arch, GOTRACE_ARCH);
	err = gosym_lookup_name(gs, "runtime.casgstatus", &fn);
	if (!err)
		err = gosym_vaddr_to_offset(gs, fn.entry, &off);
	if (err)
		report(d, "casgstatus", false, "the binary's function table lacks runtime.casgstatus",
		       "runtime.casgstatus: %s", strerror(-err));
	else
		report(d, "casgstatus", true, NULL, "runtime.casgstatus at 0x%llx (file offset 0x%llx)",
		       (unsigned long long)fn.entry, (unsigned long long)off);
	err = gosym_runtime_offsets(gs, &ro);
	if (err)
		report(d, "runtime-offsets", false, "needs DWARF or a Go version gotrace knows",
		       "%s", gosym_errmsg());
	else
		report(d, "runtime-offsets", true, NULL,
		       "from %s: g.goid %d, g.atomicstatus %d, g.waitreason %d, g.startpc %d, "
		       "g.gopc %d, g.parentGoid %d, m.curg %d; tls g %lld (%s)",
		       ro.source ? ro.source : "?", ro.g_goid, ro.g_atomicstatus, ro.g_waitreason,
		       ro.g_startpc, ro.g_gopc, ro.g_parentgoid, ro.m_curg, (long long)ro.tls_g,
		       ro.tls_source ? ro.tls_source : "?");
	n = gosym_wait_reasons(gs, &reasons, &src);
	if (n > 0)
		report(d, "wait-reasons", true, NULL, "%d names from %s", n, src ? src : "?");
	else
		report(d, "wait-reasons", false, "wait reasons will print as numbers", "none: %s",
		       gosym_errmsg());
	if (facts.version_known && facts.syscall_fastpath) {
		bool a = !gosym_lookup_name(gs, "runtime.reentersyscall", &fn);
		bool b = !gosym_lookup_name(gs, "runtime.exitsyscall", &fn);

		report(d, "syscall-fastpath", a && b, "syscall transitions will be missed",
		       "runtime.reentersyscall %s, runtime.exitsyscall %s (Go 1.26+ bypasses "
		       "casgstatus there)", a ? "found" : "missing", b ? "found" : "missing");
	}
	gosym_free(gs);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct doctor d = { 0 };
	struct gt_target t = GT_TARGET_INIT;
	const char *binary = NULL;
	pid_t pid = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:qjh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v <= 0 || v > 0x7fffffff) {
				gt_error("doctor: invalid pid '%s'", optarg);
				return EXIT_USAGE;
			}
			pid = (pid_t)v;
			break;
		}
		case 'q':
			d.quiet = true;
			break;
		case 'j':
			d.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		binary = argv[optind++];
	if (optind < argc || (binary && pid)) {
		gt_error("doctor: give at most one BINARY or -p PID");
		return EXIT_USAGE;
	}
	if (d.quiet)
		d.json = false;
	if (d.json && !(d.checks = json_array()))
		return gt_error("doctor: out of memory");
	libbpf_set_print(NULL);

	check_kernel(&d);
	check_btf(&d);
	check_caps(&d);
	check_bpf(&d);
	check_uprobe_pmu(&d);
	if (!d.quiet)	/* -q only answers "can this machine trace": keep it fast */
		check_probe_cost(&d);
	if (pid) {
		char label[64];

		snprintf(label, sizeof(label), "pid %d", (int)pid);
		if (gt_target_attach(pid, &t))
			report(&d, "target", false, NULL, "%s", gt_target_errmsg());
		else
			check_target(&d, t.exe_open, t.exe);
		gt_target_free(&t);
	} else if (binary) {
		check_target(&d, binary, binary);
	}

	if (d.json) {
		json_t *doc = json_pack("{s:b, s:o}", "ok", d.failed == 0, "checks", d.checks);

		if (doc) {
			json_dumpf(doc, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(doc);
		}
	} else if (!d.quiet) {
		printf(d.failed ? "\n%d check(s) failed\n" : "\nall checks passed\n", d.failed);
	}
	return d.failed ? 1 : 0;
}
