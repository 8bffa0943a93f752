/* SPDX-License-Identifier: MIT */
/*
 * command: the skeleton the aggregating commands share (funccount,
 * funclatency: function probes whose BPF programs keep their data in maps,
 * no ring buffer, a report every -i interval and at the end).  A command
 * describes itself with a struct gt_agg_cmd (its name, help, option
 * limits and the steps that are its own) and calls gt_agg_main(), which
 * runs the steps in this order:
 *
 *	options         the shared ones (tracing/options.h: target, -d,
 *	                --goid, -o/--format, --attach, patterns) and the
 *	                aggregating ones (-i, -x, --csv, --top,
 *	                --max-goroutines, --max-probes, -y), then the
 *	                command's own table
 *	outputs, session  opened (tracing/session.h)
 *	check_binary    the command's: can this binary be traced so?
 *	selection       probes/funcs.h's func_probes_select() of the patterns
 *	                (entries only, or functions with a RET site)
 *	add_probes      the command's: its special probes (runtime.morestack,
 *	                runtime.goexit0) and function tables
 *	load            the command's BPF object (gt_session_load()); it
 *	                sets gt_agg.progs, and calls gt_agg_select_progs()
 *	                and gt_agg_load_goids()
 *	open_tally      the command's reader of its maps, and the report's
 *	                fmt and ctx; then the outputs are watched and the CSV
 *	                header written
 *	attach          the probes with gt_agg.progs (func_probes_attach()),
 *	                counted by class in the attached line
 *	trace           a report of rows(total = false) every -i interval
 *	                until the end, the probes detached, the last interval,
 *	                then total() with rows(total = true)
 *	commit          -o and --csv committed by the output-file policy
 *
 * Every step prints its own error ("gotrace: CMD: ...") and returns 0 or
 * 1.  The command's exit status is gt_session_finish()'s.  Everything is
 * released on every path: the session (probes detached), the probes'
 * tables, the options, and the command's own through release().
 */
#ifndef GOTRACE_AGGREGATE_COMMAND_H
#define GOTRACE_AGGREGATE_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/agg_report.h"
#include "probes/funcs.h"
#include "tracing/options.h"
#include "tracing/session.h"

struct bpf_program;

/* The options every aggregating command takes, parsed. */
struct gt_agg_opts {
	struct gt_trace_opts t;		/* the shared options; patterns in t.patterns */
	struct gt_strlist exclude;	/* -x */
	struct gt_outfile *csv;		/* --csv */
	uint64_t interval_ns;		/* -i; 0: the totals only */
	long top, max_probes;		/* --top (0: all), --max-probes */
	uint32_t max_goroutines;	/* --max-goroutines */
	bool yes;			/* -y */
};

struct gt_agg;

struct gt_agg_cmd {
	const char *name;		/* "funccount" */
	const char *usage, *short_usage;
	const char *top_accepted;	/* --top's error: "a number of rows" */
	uint32_t max_goroutines_max;	/* --max-goroutines: 1 to this */
	const char *max_goroutines_accepted;	/* its error: "1 to 16777216" */
	uint32_t max_goroutines_default;
	long max_probes_default;
	bool need_ret;			/* only functions with a RET site, and their
					 * RET probes; else entry probes only */
	const char *reading;		/* what rows() reads, for its error line:
					 * "reading the counts: ..." */
	/* The command's steps (0 or 1 after printing, unless said). */
	int (*check_binary)(struct gt_agg *a);
	int (*add_probes)(struct gt_agg *a);
	/* gt_session_load()'s callback: 0 or -errno, nothing left loaded on
	 * failure; sets a->progs */
	int (*load)(struct gt_agg *a, bool multi);
	int (*open_tally)(struct gt_agg *a);
	/* The rows of the interval since the last call (total: of the whole
	 * trace), allocated (the frame frees them); 0 or -errno. */
	int (*rows)(struct gt_agg *a, bool total, void **rows, size_t *n);
	/* After the probes are gone: the whole trace's rows written with
	 * gt_agg_report_total(&a->report, ...), and the summary on stderr. */
	void (*total)(struct gt_agg *a, const void *rows, size_t n);
	void (*release)(struct gt_agg *a);	/* the command's own; safe after any step */
};

/* The BPF programs the probes run (set by the command's load). */
struct gt_agg_progs {
	struct bpf_program *single;	/* for single uprobes */
	struct bpf_program *multi;	/* for uprobe_multi links */
	struct bpf_program *empty_multi;	/* trial links of refused sites */
};

/* One run.  The command embeds it in its own run struct and finds that
 * again with gt_agg_container(). */
struct gt_agg {
	const struct gt_agg_cmd *cmd;
	struct gt_agg_opts o;
	struct gt_session s;
	struct func_probes pr;
	struct gt_agg_progs progs;
	struct gt_agg_report report;	/* out, jsonl, csv, top set by the frame */
	uint64_t last_tick;		/* the end of the last interval reported */
};

#define GT_AGG_INIT(c) { .cmd = (c), .s = GT_SESSION_INIT }

/* The command's run struct of type T whose member m is a. */
#define gt_agg_container(a, T, m) ((T *)((char *)(a) - offsetof(T, m)))

/* Run the command: own is the table of its own options (NULL or ending
 * with a NULL name; at most 8), stored where it says.  The exit status. */
int gt_agg_main(struct gt_agg *a, const struct gt_opt *own, int argc, char **argv);

/* For the load step: keep the programs for uprobe_multi links (multi) or
 * for single uprobes, and not the others.  0 or -errno. */
int gt_agg_select_progs(const struct gt_agg_progs *p, bool multi);

/* For the load step, after the object is loaded: --goid's goroutines into
 * the filter map (fd; an array or hash map of goid -> u8 1).  0 or -errno. */
int gt_agg_load_goids(const struct gt_agg *a, int fd);

#endif /* GOTRACE_AGGREGATE_COMMAND_H */
