// SPDX-License-Identifier: MIT
/*
 * options: the one command-line parser of the tracing commands.  See
 * options.h for the conventions.
 *
 * getopt_long() does the scanning ('+': it stops at the first word that is
 * not an option, so the program's own arguments are never taken for ours);
 * this file decides what each word is, checks every value with one parser
 * per kind, and words every error the same way.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace.h"
#include "output/outfile.h"
#include "tracing/clock.h"
#include "tracing/options.h"

/* Option ids of the shared long-only options (getopt's val). */
enum {
	ID_FORMAT = 256, ID_GOID, ID_JSON, ID_JSON_GZ, ID_SPEEDSCOPE, ID_STACK, ID_STACK_SIZE,
	ID_UNWIND, ID_BUFFER, ID_ATTACH,
	ID_OWN = 512,		/* + index in cmd->own */
};

/* The shared options: name, short name, argument, the GT_OPTS_* bit. */
static const struct shared_opt {
	const char *name;
	int id;
	int has_arg;
	unsigned bit;
} shared[] = {
	{ "pid", 'p', required_argument, GT_OPTS_PID },
	{ "duration", 'd', required_argument, GT_OPTS_DURATION },
	{ "goid", ID_GOID, required_argument, GT_OPTS_GOID },
	{ "output", 'o', required_argument, GT_OPTS_OUTPUT },
	{ "format", ID_FORMAT, required_argument, GT_OPTS_OUTPUT },
	{ "json", ID_JSON, required_argument, GT_OPTS_JSON },
	{ "json-gz", ID_JSON_GZ, required_argument, GT_OPTS_JSON },
	{ "speedscope", ID_SPEEDSCOPE, required_argument, GT_OPTS_JSON },
	{ "stack", ID_STACK, no_argument, GT_OPTS_STACK },
	{ "stack-size", ID_STACK_SIZE, required_argument, GT_OPTS_STACK },
	{ "unwind", ID_UNWIND, required_argument, GT_OPTS_STACK },
	{ "buffer-size", ID_BUFFER, required_argument, GT_OPTS_BUFFER },
	{ "attach", ID_ATTACH, required_argument, GT_OPTS_ATTACH },
	{ "quiet", 'q', no_argument, 0 },
	{ "help", 'h', no_argument, 0 },
};
#define NR_SHARED (sizeof(shared) / sizeof(shared[0]))
#define MAX_OWN 32

/* What the parse of one command line needs besides the result. */
struct parser {
	const struct gt_cmd *cmd;
	struct gt_trace_opts *o;
	int argc;
	char **argv;
	struct option longopts[NR_SHARED + MAX_OWN + 1];
	char shortopts[3 * (NR_SHARED + MAX_OWN) + 3];
	size_t nown;
};

/* --- value parsers ----------------------------------------------------------- */

int gt_parse_goids(const char *s, int64_t **goids, size_t *n)
{
	char *copy = strdup(s), *tok, *save = NULL;
	size_t before = *n;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long long v;
		int64_t *g;

		errno = 0;
		v = strtoll(tok, &end, 10);
		if (*end || end == tok || v <= 0 || errno) {
			err = -EINVAL;
			break;
		}
		g = realloc(*goids, (*n + 1) * sizeof(*g));
		if (!g) {
			err = -ENOMEM;
			break;
		}
		*goids = g;
		(*goids)[(*n)++] = v;
	}
	free(copy);
	return err ? err : (*n > before ? 0 : -EINVAL);
}

int gt_parse_buffer_size(const char *s, uint32_t *bytes)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno)
		return -EINVAL;
	if ((*end == 'K' || *end == 'k') && v < (1ULL << 40))
		v <<= 10, end++;
	else if ((*end == 'M' || *end == 'm') && v < (1ULL << 40))
		v <<= 20, end++;
	else if ((*end == 'G' || *end == 'g') && v < (1ULL << 30))
		v <<= 30, end++;
	/* the kernel wants a power of two, at least a page */
	if (*end || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
		return -EINVAL;
	*bytes = (uint32_t)v;
	return 0;
}

int gt_parse_attach(const char *s, enum gt_attach *mode)
{
	static const char *const names[] = { "auto", "multi", "single" };

	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, names[i])) {
			*mode = (enum gt_attach)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_format(const char *s, bool *jsonl)
{
	/* "json" is taken for jsonl: there is one JSON form of a stream */
	if (!strcmp(s, "jsonl") || !strcmp(s, "json"))
		*jsonl = true;
	else if (!strcmp(s, "text"))
		*jsonl = false;
	else
		return -EINVAL;
	return 0;
}

/* --- messages -------------------------------------------------------------- */

/* "gotrace: CMD: <what>" on stderr; returns EXIT_USAGE. */
static int vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "gotrace: %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int gt_opts_usage_error(const struct gt_trace_opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(o->cmd, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* A command line of the wrong shape: the error, then the short usage. */
static int usage_error(const struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(const struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p->cmd->name, fmt, ap);
	va_end(ap);
	if (p->cmd->short_usage)
		fputs(p->cmd->short_usage, stderr);
	return EXIT_USAGE;
}

/* The one wording of a bad value: one line, naming the option, the value
 * and what is accepted. */
static int bad_value(const struct parser *p, const char *name, const char *value,
		     const char *accepted)
{
	if (accepted)
		return gt_opts_usage_error(p->o, "invalid --%s '%s' (%s)", name, value, accepted);
	return gt_opts_usage_error(p->o, "invalid --%s '%s'", name, value);
}

/* --- outputs --------------------------------------------------------------- */

/* Record an output path; a repeated option replaces its earlier path. */
static int add_output(struct parser *p, const char *name, const char *path,
		      struct gt_outfile **slot)
{
	struct gt_trace_opts *o = p->o;

	for (int i = 0; i < o->noutputs; i++) {
		if (o->outputs[i].slot == slot) {
			o->outputs[i].name = name;
			o->outputs[i].path = path;
			return 0;
		}
	}
	if (o->noutputs == GT_OPTS_MAX_OUTPUTS)
		return usage_error(p, "too many output files");
	o->outputs[o->noutputs++] = (struct gt_opts_output){ name, path, slot };
	return 0;
}

int gt_opts_open_outputs(struct gt_trace_opts *o)
{
	for (int i = 0; i < o->noutputs; i++) {
		const struct gt_opts_output *w = &o->outputs[i];

		if (gt_outfile_open(w->path, w->slot)) {
			gt_error("%s: cannot open '%s': %s", o->cmd, w->path, gt_outfile_errmsg());
			return 1;
		}
		for (int k = 0; k < i; k++) {
			/* two files on one path: the later would replace the other
			 * (streams like /dev/null may be shared) */
			if (!gt_outfile_is_stream(*w->slot) && !strcmp(w->path, o->outputs[k].path)) {
				gt_error("%s: '%s' is named by both --%s and --%s: give each output "
					 "its own file", o->cmd, w->path, o->outputs[k].name, w->name);
				return 1;
			}
		}
	}
	return 0;
}

void gt_trace_opts_release(struct gt_trace_opts *o)
{
	for (int i = 0; i < o->noutputs; i++) {
		gt_outfile_abort(*o->outputs[i].slot);
		*o->outputs[i].slot = NULL;
	}
	o->noutputs = 0;
	free(o->goids);
	o->goids = NULL;
	o->ngoids = 0;
	free(o->patterns);
	o->patterns = NULL;
	o->npatterns = 0;
}

/* --- one option -------------------------------------------------------------- */

static int shared_option(struct parser *p, int id, const char *v)
{
	struct gt_trace_opts *o = p->o;
	long long pid;
	char *end;

	switch (id) {
	case 'p':
		errno = 0;
		pid = strtoll(v, &end, 10);
		if (*end || end == v || pid <= 0 || pid > INT_MAX || errno)
			return bad_value(p, "pid", v, "a process id");
		o->pid = (pid_t)pid;
		return 0;
	case 'd':
		if (gt_parse_duration(v, &o->duration_ns))
			return bad_value(p, "duration", v, "e.g. 10, 500ms, 2s, 1m");
		return 0;
	case 'q':
		gt_quiet = true;
		return 0;
	case 'o':
		o->output = v;
		return add_output(p, "output", v, &o->out);
	case ID_FORMAT:
		return parse_format(v, &o->jsonl) ? bad_value(p, "format", v, "text or jsonl") : 0;
	case ID_GOID:
		if (gt_parse_goids(v, &o->goids, &o->ngoids))
			return bad_value(p, "goid", v, "goroutine ids from 1, comma-separated");
		return 0;
	case ID_JSON:
	case ID_JSON_GZ:
		if (o->json)
			return gt_opts_usage_error(o, "give one of --json and --json-gz, once");
		o->json = v;
		o->json_gz = id == ID_JSON_GZ;
		return add_output(p, id == ID_JSON ? "json" : "json-gz", v, &o->json_file);
	case ID_SPEEDSCOPE:
		o->speedscope = v;
		return add_output(p, "speedscope", v, &o->speedscope_file);
	case ID_STACK:
		o->stack = true;
		return 0;
	case ID_STACK_SIZE:
		if (gt_stack_size_parse(v, &o->stack_size))
			return bad_value(p, "stack-size", v, "a multiple of 8 from 512 to 65536 "
							    "bytes, or with a k suffix");
		return 0;
	case ID_UNWIND:
		if (gt_unwind_parse(v, &o->unwind))
			return bad_value(p, "unwind", v, "auto, dwarf, pclntab or fp");
		return 0;
	case ID_BUFFER:
		if (gt_parse_buffer_size(v, &o->buffer_size))
			return bad_value(p, "buffer-size", v, "a power of two from 4K to 1G");
		return 0;
	case ID_ATTACH:
		if (gt_parse_attach(v, &o->attach))
			return bad_value(p, "attach", v, "auto, multi or single");
		return 0;
	}
	return usage_error(p, "internal: option %d", id);
}

int gt_strlist_push(struct gt_strlist *l, char *s)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = s;
	return 0;
}

/* A decimal integer in [min, max]. */
static bool in_range(const char *v, long min, long max, long long *n)
{
	char *end;

	errno = 0;
	*n = strtoll(v, &end, 10);
	return !*end && end != v && !errno && *n >= min && *n <= max;
}

static int own_option(struct parser *p, const struct gt_opt *opt, const char *v)
{
	long long n;

	switch (opt->kind) {
	case GT_OPT_FLAG:
		*(bool *)opt->dst = true;
		return 0;
	case GT_OPT_STRING:
		*(const char **)opt->dst = v;
		return 0;
	case GT_OPT_LIST:
		return gt_strlist_push(opt->dst, (char *)v) ? usage_error(p, "out of memory") : 0;
	case GT_OPT_DURATION:
		if (gt_parse_duration(v, opt->dst))
			return bad_value(p, opt->name, v, opt->accepted ? opt->accepted :
							  "e.g. 10us, 1ms, 2s");
		return 0;
	case GT_OPT_UINT:
	case GT_OPT_U32:
		if (!in_range(v, opt->min, opt->max, &n))
			return bad_value(p, opt->name, v, opt->accepted);
		if (opt->kind == GT_OPT_U32)
			*(uint32_t *)opt->dst = (uint32_t)n;
		else
			*(long *)opt->dst = (long)n;
		return 0;
	case GT_OPT_FUNC:
		gt_set_errmsg(0, "%s", "");
		if (!opt->parse(v, opt->dst))
			return 0;
		return bad_value(p, opt->name, v ? v : "", opt->accepted ? opt->accepted :
							   *gt_errmsg() ? gt_errmsg() : NULL);
	case GT_OPT_OUTPUT:
		return add_output(p, opt->name, v, opt->dst);
	}
	return usage_error(p, "internal: option '%s'", opt->name);
}

/* --- the command line ---------------------------------------------------------- */

/* getopt_long's tables for the options cmd takes. */
static int build_tables(struct parser *p)
{
	const struct gt_cmd *cmd = p->cmd;
	size_t nl = 0;
	char *s = p->shortopts;

	*s++ = '+';	/* stop at the first non-option: the program's words */
	*s++ = ':';	/* a missing value returns ':', reported here */
	for (size_t i = 0; i < NR_SHARED; i++) {
		if (shared[i].bit && !(cmd->common & shared[i].bit))
			continue;
		p->longopts[nl++] = (struct option){ shared[i].name, shared[i].has_arg, NULL,
						     shared[i].id };
		if (shared[i].id < 256) {
			*s++ = (char)shared[i].id;
			if (shared[i].has_arg)
				*s++ = ':';
		}
	}
	for (p->nown = 0; cmd->own && cmd->own[p->nown].name; p->nown++) {
		const struct gt_opt *opt = &cmd->own[p->nown];
		int arg = opt->kind == GT_OPT_FLAG ? no_argument :
			  opt->optional ? optional_argument : required_argument;

		if (p->nown == MAX_OWN)
			return usage_error(p, "internal: too many options");
		p->longopts[nl++] = (struct option){ opt->name, arg, NULL, ID_OWN + (int)p->nown };
		if (opt->short_name) {
			*s++ = opt->short_name;
			if (arg != no_argument)
				*s++ = ':';
			if (arg == optional_argument)
				*s++ = ':';
		}
	}
	p->longopts[nl] = (struct option){ 0 };
	*s = 0;
	return 0;
}

/* getopt's view of a failure: the option it was at. */
static int getopt_error(struct parser *p, int c)
{
	const char *word = p->argv[optind - 1];

	if (c == ':') {
		if (optopt && optopt < 256)
			return usage_error(p, "option '-%c' needs a value", optopt);
		return usage_error(p, "option '%s' needs a value", word);
	}
	if (optopt && optopt < 256)
		return usage_error(p, "unknown option '-%c'", optopt);
	return usage_error(p, "unknown option '%s'", word);
}

static int dispatch(struct parser *p, int c)
{
	if (c == 'h') {
		fputs(p->cmd->usage, stdout);
		return 0;
	}
	if (c == '?' || c == ':')
		return getopt_error(p, c);
	if (c >= ID_OWN)
		return own_option(p, &p->cmd->own[c - ID_OWN], optarg) ? EXIT_USAGE : GT_OPTS_RUN;
	for (size_t i = 0; i < p->nown; i++)
		if (p->cmd->own[i].short_name == c)
			return own_option(p, &p->cmd->own[i], optarg) ? EXIT_USAGE : GT_OPTS_RUN;
	return shared_option(p, c, optarg) ? EXIT_USAGE : GT_OPTS_RUN;
}

/* Is there a "--" at or after argv[from]? */
static bool dashdash_from(const struct parser *p, int from)
{
	for (int i = from; i < p->argc; i++)
		if (!strcmp(p->argv[i], "--"))
			return true;
	return false;
}

/* A word that is no option, at argv[optind]: a pattern (consumed, 1) or
 * the start of the program (0). */
static int take_word(struct parser *p)
{
	struct gt_trace_opts *o = p->o;
	char **nv;

	if (!(p->cmd->common & GT_OPTS_PATTERNS))
		return 0;
	/* without -p or a "--" to come, the word after the first pattern
	 * starts the program: "funcgraph 'main.*' ./bin -v" */
	if (o->npatterns && !o->pid && !dashdash_from(p, optind))
		return 0;
	nv = realloc(o->patterns, (o->npatterns + 2) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	o->patterns = nv;
	o->patterns[o->npatterns++] = p->argv[optind++];
	o->patterns[o->npatterns] = NULL;
	return 1;
}

/* What is left after the options: the program, and the checks of the
 * whole.  GT_OPTS_RUN or EXIT_USAGE. */
static int finish(struct parser *p, bool dashdash)
{
	struct gt_trace_opts *o = p->o;
	unsigned common = p->cmd->common;

	if (optind < p->argc)
		o->argv = p->argv + optind;
	if (dashdash && !o->argv)
		return usage_error(p, "no program after '--'");
	if (o->argv && !(common & GT_OPTS_LAUNCH))
		return usage_error(p, "unexpected argument '%s'", o->argv[0]);
	if (o->pid && o->argv)
		return usage_error(p, "-p PID and a program to launch ('%s') are exclusive",
				   o->argv[0]);
	if ((common & GT_OPTS_PATTERNS) && !o->npatterns)
		return usage_error(p, "no function pattern");
	if ((common & GT_OPTS_TARGET) == GT_OPTS_TARGET && !o->pid && !o->argv)
		return usage_error(p, "give -p PID or a program to launch (-- PROGRAM [ARGS])");
	if (o->speedscope && !o->json)
		return gt_opts_usage_error(o, "--speedscope needs --json FILE");
	return GT_OPTS_RUN;
}

int gt_opts_parse(const struct gt_cmd *cmd, int argc, char **argv, struct gt_trace_opts *o)
{
	struct parser p = { .cmd = cmd, .o = o, .argc = argc, .argv = argv };
	bool dashdash = false;
	int c, r;

	o->cmd = cmd->name;
	o->stack_size = GT_STACK_DEFAULT;
	if (build_tables(&p))
		return EXIT_USAGE;
	if ((cmd->common & GT_OPTS_OUTPUT) && add_output(&p, "output", "-", &o->out))
		return EXIT_USAGE;
	optind = 0;	/* glibc: start over, with this call's '+' ordering */
	opterr = 0;
	for (;;) {
		int at = optind ? optind : 1;

		c = getopt_long(argc, argv, p.shortopts, p.longopts, NULL);
		if (c != -1) {
			r = dispatch(&p, c);
			if (r != GT_OPTS_RUN)
				return r;
			continue;
		}
		/* getopt stepped over a "--" that ends the options */
		if (optind == at + 1 && !strcmp(argv[at], "--")) {
			dashdash = true;
			break;
		}
		if (optind >= argc)
			break;
		r = take_word(&p);
		if (r < 0)
			return usage_error(&p, "out of memory");
		if (!r)
			break;
	}
	return finish(&p, dashdash);
}
