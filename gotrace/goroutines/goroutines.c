// SPDX-License-Identifier: MIT
/*
 * gotrace goroutines -p PID: every goroutine's stack, read from outside
 * without stopping or changing the process (gotrace/goruntime), printed
 * as the runtime's own goroutine dump, grouped, as JSON lines, as a pprof
 * goroutine profile, or watched over time for leaks (watch.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goroutines/goroutines.h"
#include "gotrace.h"
#include "output/outfile.h"
#include "tracing/clock.h"
#include "tracing/target.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gotrace goroutines -p PID [--group | --json] [--pprof FILE]\n"
		"       gotrace goroutines -p PID --watch INTERVAL [--blocked-over D] [--count N]\n\n"
		"Print every goroutine of a running Go program with its stack, in the exact\n"
		"format of the runtime's own dump (runtime.Stack(buf, true), pprof\n"
		"goroutine?debug=2), read from outside: the process is never stopped,\n"
		"signalled or modified (its memory is read with process_vm_readv, which\n"
		"needs ptrace permission: same user and ptrace_scope, or root).\n\n"
		"The process keeps running while it is read: a goroutine that changes\n"
		"under the reader is read again, and skipped (counted on stderr) if it\n"
		"keeps changing; goroutines created during the read may be missed.  A\n"
		"goroutine running on a CPU has no saved stack: it prints, as the runtime\n"
		"does, \"goroutine running on other thread; stack unavailable\".\n"
		"System goroutines (started by the runtime) are left out, as the runtime's\n"
		"dump does, unless --system.\n\n"
		"Options:\n"
		"  -p, --pid PID          the Go process (Go 1.17 and later; amd64, arm64;\n"
		"                         stripped, PIE and cgo binaries too)\n"
		"      --group            the goroutine profile's debug=1 text: goroutines\n"
		"                         with identical stacks counted together, biggest\n"
		"                         group first\n"
		"  -j, --json             one JSON object per goroutine (JSON Lines): goid,\n"
		"                         status, wait_reason, wait_ns, created_by, stack...\n"
		"      --pprof FILE       also write a goroutine profile (profile.proto,\n"
		"                         gzipped) for `go tool pprof`\n"
		"      --system           include system goroutines\n"
		"      --watch INTERVAL   take a snapshot every INTERVAL (\"5s\") and report\n"
		"                         the stack groups whose count keeps growing, with\n"
		"                         their creation site: a goroutine leak detector\n"
		"      --blocked-over D   with --watch: also report goroutines blocked longer\n"
		"                         than D (\"1m\")\n"
		"      --count N          with --watch: stop after N snapshots (default: until\n"
		"                         Ctrl-C)\n"
		"  -q, --quiet            no progress or statistics on stderr\n"
		"  -h, --help             this help\n\n"
		"Examples:\n"
		"  gotrace goroutines -p 1234 > dump.txt\n"
		"  gotrace goroutines -p 1234 --group | head -40\n"
		"  gotrace goroutines -p 1234 --json | jq -r 'select(.wait_ns > 6e10) | .goid'\n"
		"  gotrace goroutines -p 1234 --pprof g.pb.gz && go tool pprof -top g.pb.gz\n"
		"  gotrace goroutines -p 1234 --watch 10s --blocked-over 5m\n");
}

enum { OPT_GROUP = 256, OPT_PPROF, OPT_SYSTEM, OPT_WATCH, OPT_BLOCKED, OPT_COUNT };

static int parse_args(int argc, char **argv, struct gor_opts *o)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "group", no_argument, NULL, OPT_GROUP },
		{ "json", no_argument, NULL, 'j' },
		{ "pprof", required_argument, NULL, OPT_PPROF },
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "watch", required_argument, NULL, OPT_WATCH },
		{ "blocked-over", required_argument, NULL, OPT_BLOCKED },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			o->pid = strtol(optarg, &end, 10);
			if (errno || *end || o->pid <= 0 || o->pid > 0x7fffffff)
				return gt_error("invalid pid '%s'", optarg) ? EXIT_USAGE : 0;
			break;
		case OPT_GROUP: o->group = true; break;
		case 'j': o->json = true; break;
		case OPT_PPROF: o->pprof = optarg; break;
		case OPT_SYSTEM: o->system = true; break;
		case OPT_WATCH:
			if (gt_parse_duration(optarg, &o->watch_ns))
				return gt_error("invalid --watch interval '%s' (e.g. 10s, 500ms)",
						optarg) ? EXIT_USAGE : 0;
			break;
		case OPT_BLOCKED:
			if (gt_parse_duration(optarg, &o->blocked_ns))
				return gt_error("invalid --blocked-over duration '%s' (e.g. 1m, 30s)",
						optarg) ? EXIT_USAGE : 0;
			break;
		case OPT_COUNT:
			errno = 0;
			o->count = strtol(optarg, &end, 10);
			if (errno || *end || o->count <= 0)
				return gt_error("invalid --count '%s'", optarg) ? EXIT_USAGE : 0;
			break;
		case 'q': gt_quiet = true; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		gt_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->pid) {
		gt_error("no process: give -p PID");
		return EXIT_USAGE;
	}
	if (o->group && o->json) {
		gt_error("--group and --json are two output forms: choose one");
		return EXIT_USAGE;
	}
	if ((o->blocked_ns || o->count) && !o->watch_ns) {
		gt_error("--blocked-over and --count go with --watch");
		return EXIT_USAGE;
	}
	if (o->watch_ns && (o->group || o->pprof)) {
		gt_error("--watch reports growth and long waits: --group and --pprof don't apply");
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_goroutines(int argc, char **argv)
{
	struct gor_opts o = { 0 };
	struct gr_target *t = NULL;
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? 0 : err;
	/* the output file by the policy of every output (docs/output-files.md),
	 * before the process is read */
	if (o.pprof && gt_outfile_open(o.pprof, &o.pprof_file))
		return gt_error("cannot open '%s': %s", o.pprof, gt_outfile_errmsg());
	if (gr_target_open(o.pid, &t)) {
		gt_outfile_abort(o.pprof_file);
		return gt_error("%s", gr_errmsg());
	}
	{
		const struct gr_target_info *in = gr_target_info(t);

		gt_progress("goroutines: process %d (%s), %s, goroutine list from %s, offsets from %s",
			    (int)o.pid, in->comm, gosym_info(in->go)->goversion, in->allgs.source,
			    in->off.source);
	}
	err = o.watch_ns ? gor_watch(t, &o) : gor_dump(t, &o);
	gt_outfile_abort(o.pprof_file);	/* not written: a failure before it */
	gr_target_free(t);
	return err;
}
