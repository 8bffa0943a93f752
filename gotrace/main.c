// SPDX-License-Identifier: MIT
/*
 * gotrace: a Go-runtime-aware goroutine tracer and stack unwinder.
 * Dispatches `gotrace CMD ...` to the subcommand's handler, bpftool style.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace.h"

struct subcommand {
	const char *name;
	int (*handler)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "states", cmd_states, "goroutine state transitions, timelines and a per-goroutine summary" },
	{ "funcgraph", cmd_funcgraph, "per-goroutine call graphs with durations" },
	{ "funccount", cmd_funccount, "calls per function (and goroutine), counted in the kernel" },
	{ "funclatency", cmd_funclatency, "latency histograms per function, paired in the kernel" },
	{ "goroutines", cmd_goroutines, "every goroutine's stack, read without stopping the process" },
	{ "top", cmd_top, "a live terminal view of a process's goroutines (like top)" },
	{ "info", cmd_info, "what a Go binary is: version, module, pclntab, runtime offsets" },
	{ "sym", cmd_sym, "symbolize addresses: function, file:line, inlined frames" },
	{ "funcs", cmd_funcs, "list the functions of a Go binary" },
	{ "doctor", cmd_doctor, "check that this machine (and a target) can be traced" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gotrace [--version] [--help] COMMAND [ARGS]\n\n"
		   "Trace unmodified, running Go programs per goroutine with eBPF.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nExamples:\n"
		   "  gotrace states -p 1234                  # live goroutine state stream\n"
		   "  gotrace states --json t.json -- ./srv   # launch, write a Chrome trace\n"
		   "  gotrace funcgraph 'main.*' ./bin args   # per-goroutine call graph\n"
		   "  gotrace funccount -p 1234 -i 1s 'net/http.*'  # calls per second\n"
		   "  gotrace funclatency -p 1234 'main.(*DB).*'     # latency histograms\n"
		   "  gotrace goroutines -p 1234              # goroutine dump, process not stopped\n"
		   "  gotrace info ./bin                      # what kind of Go binary this is\n"
		   "  gotrace sym ./bin 0x4a1f20              # address -> func file:line\n"
		   "  gotrace funcs ./bin 'net/http.*'        # list functions\n"
		   "  gotrace doctor                          # can this machine trace?\n"
		   "\n'gotrace help COMMAND' or 'gotrace COMMAND --help' for a command's options.\n");
}

int gt_help(const char *cmd)
{
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (!strcmp(cmd, subcommands[i].name)) {
			char *argv[] = { (char *)subcommands[i].name, "--help", NULL };
			return subcommands[i].handler(2, argv);
		}
	}
	fprintf(stderr, "gotrace: unknown command '%s'\n", cmd);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	setlinebuf(stdout);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("gotrace %s (%s)\n", GOTRACE_VERSION, GOTRACE_ARCH);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		return gt_help(argv[2]);
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].handler(argc - 1, argv + 1);
	fprintf(stderr, "gotrace: unknown command '%s'; see 'gotrace --help'\n", argv[1]);
	return EXIT_USAGE;
}
