/* SPDX-License-Identifier: MIT */
/*
 * options: one parser for the command line of every tracing command.
 *
 * The options tracing commands share (which process, for how long, which
 * goroutines, where the output goes, --stack, how probes attach) are
 * spelled, validated and reported the same way in every command because
 * they are parsed here, once.  A command describes itself with a struct
 * gt_cmd: its name, its help, the shared options it takes (GT_OPTS_* bits)
 * and a table of its own options (struct gt_opt: a name, a kind that says
 * how to check and store the value, and where to store it).  A new command
 * is a usage text, a table and one call:
 *
 *	struct top_opts { struct gt_trace_opts t; long interval; } o = { 0 };
 *	const struct gt_opt own[] = {
 *		{ "interval", 'i', GT_OPT_UINT, &o.interval, "a number of seconds", 1, 3600 },
 *		{ 0 }
 *	};
 *	const struct gt_cmd cmd = { "top", usage, short_usage,
 *				    GT_OPTS_PID | GT_OPTS_DURATION | GT_OPTS_GOID, own };
 *	int ret = gt_opts_parse(&cmd, argc, argv, &o.t);
 *
 *	if (ret != GT_OPTS_RUN)
 *		return ret;		(--help, or a usage error already reported)
 *	if (gt_opts_open_outputs(&o.t))
 *		return 1;		(before the target is touched)
 *	...
 *	gt_trace_opts_release(&o.t);
 *
 * Conventions, the same for every command:
 *
 *   - Return value of a parse step: GT_OPTS_RUN to go on, or the exit
 *     status to return at once: 0 after --help (printed on stdout), 2
 *     (EXIT_USAGE) after a usage error.
 *   - A usage error is one line on stderr, "gotrace: CMD: invalid --NAME
 *     'VALUE' (what is accepted)" or the like, then the command's short
 *     usage.
 *   - Options may come in any order before the program to launch and
 *     between patterns: "-- PROGRAM [ARGS]" or, without "--", the first
 *     word that is not an option or a pattern starts the program; what
 *     follows it is the program's.  Commands that take patterns (funcgraph)
 *     take the first word as a pattern and, unless -p or "--" is given, the
 *     next as the program ("funcgraph 'main.*' ./bin -v").
 *   - Output paths (-o, --json, and a command's own GT_OPT_OUTPUT options)
 *     are only recorded by the parser; gt_opts_open_outputs() opens them
 *     all by the output-file policy (output/outfile.h) before the command
 *     touches its target.  -o defaults to stdout ("-").
 */
#ifndef GOTRACE_OPTIONS_H
#define GOTRACE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracing/stacks.h"

struct gt_outfile;

/* Returned by the parse step when the command should run. */
#define GT_OPTS_RUN (-1)

/* The shared options a command takes (-q and -h, --help always). */
enum {
	GT_OPTS_PID = 1 << 0,		/* -p, --pid PID */
	GT_OPTS_LAUNCH = 1 << 1,	/* [--] PROGRAM [ARGS...] */
	GT_OPTS_DURATION = 1 << 2,	/* -d, --duration DUR */
	GT_OPTS_GOID = 1 << 3,		/* --goid N[,N...] */
	GT_OPTS_OUTPUT = 1 << 4,	/* -o, --output FILE and --format text|jsonl */
	GT_OPTS_JSON = 1 << 5,		/* --json, --json-gz, --speedscope FILE */
	GT_OPTS_STACK = 1 << 6,		/* --stack, --stack-size N, --unwind METHOD */
	GT_OPTS_BUFFER = 1 << 7,	/* --buffer-size SIZE */
	GT_OPTS_ATTACH = 1 << 8,	/* --attach auto|multi|single */
	GT_OPTS_PATTERNS = 1 << 9,	/* PATTERN [PATTERN...] words */
	GT_OPTS_TARGET = GT_OPTS_PID | GT_OPTS_LAUNCH,
	GT_OPTS_ALL = (1 << 9) - 1,	/* every option above but patterns */
};

/* --attach: how uprobes attach. */
enum gt_attach {
	GT_ATTACH_AUTO,		/* uprobe_multi links, else one uprobe per probe */
	GT_ATTACH_MULTI,	/* uprobe_multi links or fail */
	GT_ATTACH_SINGLE,	/* one perf-event uprobe per probe */
};

/* How a command's own option is checked and stored (struct gt_opt.dst). */
enum gt_opt_kind {
	GT_OPT_FLAG,		/* no value: *(bool *)dst = true */
	GT_OPT_STRING,		/* *(const char **)dst = the value */
	GT_OPT_LIST,		/* repeatable: appended to *(struct gt_strlist *)dst */
	GT_OPT_DURATION,	/* *(uint64_t *)dst, ns (clock.h's gt_parse_duration) */
	GT_OPT_UINT,		/* *(long *)dst, a decimal integer in [min, max] */
	GT_OPT_U32,		/* *(uint32_t *)dst, a decimal integer in [min, max] */
	GT_OPT_FUNC,		/* parse(value, dst) returns 0, or -EINVAL (after
				 * gt_set_errmsg() says why, when `accepted` is
				 * NULL); with `optional`, --NAME alone gives NULL */
	GT_OPT_OUTPUT,		/* an output file: *(struct gt_outfile **)dst, filled
				 * by gt_opts_open_outputs() */
};

/* One option of a command's own; tables end with an entry whose name is NULL. */
struct gt_opt {
	const char *name;	/* long name, without "--" */
	char short_name;	/* 0: none */
	enum gt_opt_kind kind;
	void *dst;
	const char *accepted;	/* what is accepted, for the error line:
				 * "invalid --NAME 'VALUE' (accepted)" */
	long min, max;		/* GT_OPT_UINT, GT_OPT_U32 */
	int (*parse)(const char *value, void *dst);	/* GT_OPT_FUNC */
	bool optional;		/* GT_OPT_FUNC: the value may be left out
				 * (--NAME, or --NAME=VALUE attached) */
};

/* GT_OPT_LIST's storage; v points into argv (free v only). */
struct gt_strlist {
	char **v;
	int n;
};

/* Append s to l (for GT_OPT_FUNC parsers that keep lists).  0 or -ENOMEM. */
int gt_strlist_push(struct gt_strlist *l, char *s);

struct gt_cmd {
	const char *name;		/* "states": messages say "gotrace: states: ..." */
	const char *usage;		/* --help, on stdout */
	const char *short_usage;	/* after a usage error, on stderr */
	unsigned common;		/* GT_OPTS_* */
	const struct gt_opt *own;	/* NULL or a table */
};

/* An output a command writes, recorded by the parser. */
struct gt_opts_output {
	const char *name;		/* the option's long name, for messages */
	const char *path;
	struct gt_outfile **slot;	/* where gt_opts_open_outputs() puts it */
};

#define GT_OPTS_MAX_OUTPUTS 8

/* The shared options, parsed.  Zero-initialise; gt_opts_parse() sets the
 * defaults; gt_trace_opts_release() frees what it allocated. */
struct gt_trace_opts {
	const char *cmd;		/* the command's name */
	pid_t pid;			/* -p; 0: launch */
	char **argv;			/* the program to launch and its arguments
					 * (NULL-terminated, in the caller's argv);
					 * NULL with -p */
	uint64_t duration_ns;		/* -d; 0: until stopped */
	int64_t *goids;			/* --goid, in the order given; NULL: all */
	size_t ngoids;
	const char *output;		/* -o; NULL: stdout */
	bool jsonl;			/* --format jsonl */
	const char *json;		/* --json or --json-gz FILE */
	bool json_gz;			/* --json-gz */
	const char *speedscope;		/* --speedscope FILE */
	bool stack;			/* --stack */
	uint32_t stack_size;		/* --stack-size (default GT_STACK_DEFAULT) */
	enum gt_unwind unwind;		/* --unwind */
	uint32_t buffer_size;		/* --buffer-size; 0: the command's default */
	enum gt_attach attach;		/* --attach */
	char **patterns;		/* GT_OPTS_PATTERNS words (into argv) */
	int npatterns;
	/* After gt_opts_open_outputs(); the command takes them over (and sets
	 * the pointer to NULL) or leaves them to gt_trace_opts_release(). */
	struct gt_outfile *out;		/* -o FILE, or stdout */
	struct gt_outfile *json_file;
	struct gt_outfile *speedscope_file;
	struct gt_opts_output outputs[GT_OPTS_MAX_OUTPUTS];
	int noutputs;
};

/* Parse argv (argv[0] is the command's name) for cmd into o and into the
 * dst of cmd->own.  GT_OPTS_RUN, or the exit status to return now. */
int gt_opts_parse(const struct gt_cmd *cmd, int argc, char **argv, struct gt_trace_opts *o);

/* Open every output the options name (and stdout for -o's default) by the
 * output-file policy.  0, or 1 after printing "gotrace: CMD: cannot open
 * 'PATH': why" (the outputs opened so far stay for release). */
int gt_opts_open_outputs(struct gt_trace_opts *o);

/* One usage error line "gotrace: CMD: ...", for a command's own checks
 * after gt_opts_parse(); returns EXIT_USAGE. */
int gt_opts_usage_error(const struct gt_trace_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Abort the outputs still held and free what the parser allocated. */
void gt_trace_opts_release(struct gt_trace_opts *o);

/* The value parsers behind the shared options, for other callers. */

/* "1,18,20": goroutine ids, each >= 1 (goid 0 is no goroutine), appended to
 * *goids.  0, -EINVAL or -ENOMEM. */
int gt_parse_goids(const char *s, int64_t **goids, size_t *n);

/* "16M", "4K", "1G", "65536": a power of two from 4 KiB to 1 GiB (the BPF
 * ring buffer's size).  0 or -EINVAL. */
int gt_parse_buffer_size(const char *s, uint32_t *bytes);

/* "auto", "multi", "single".  0 or -EINVAL. */
int gt_parse_attach(const char *s, enum gt_attach *mode);

#endif /* GOTRACE_OPTIONS_H */
