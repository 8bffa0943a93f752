// SPDX-License-Identifier: MIT
/*
 * gotrace info BIN: what kind of Go binary this is and where the tracer's
 * facts about it come from.  Plain text or one JSON object (--json).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "inspect/binary.h"
#include "tracing/options.h"
#include "gotrace.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gotrace info [--json] BIN\n\n"
		   "Show a Go binary's version, module, architecture, PIE/stripped/DWARF\n"
		   "status, pclntab format, function count and the runtime offsets the\n"
		   "tracer will use, with where each came from.\n\n"
		   "Options:\n"
		   "  -j, --json   one JSON object on stdout\n"
		   "  -h, --help   this help\n\n"
		   "Examples:\n"
		   "  gotrace info ./server\n"
		   "  gotrace info --json /usr/local/bin/docker | jq .goversion\n");
}

#define OFFSET_FIELDS(X)                                                                 \
	X(g_stack_lo) X(g_stack_hi) X(g_m) X(g_sched) X(g_sched_sp) X(g_sched_pc)        \
	X(g_atomicstatus) X(g_goid) X(g_waitreason) X(g_startpc) X(g_gopc)               \
	X(g_parentgoid) X(g_sched_bp) X(g_sched_lr) X(g_syscallsp) X(g_syscallpc)       \
	X(g_waitsince) X(g_lockedm) X(g_labels) X(g_cleanups) X(g_trackingseq)           \
	X(m_curg) X(m_g0) X(m_procid) X(m_id)

static json_t *hexstr(uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

/* What reading goroutines from a live process needs (gosym_goroutine_facts,
 * gosym_allgs): "goroutine_facts" and "allgs", null when unavailable. */
static void goroutines_json(const struct gosym *g, json_t *o)
{
	struct gosym_goroutine_facts fx;
	struct gosym_allgs ag;

	if (!gosym_goroutine_facts(g, &fx)) {
		json_t *f = json_object(), *names = json_array();

		for (int i = 0; i < fx.nstatus_names; i++)
			json_array_append_new(names, json_string(fx.status_names[i]));
		json_object_set_new(f, "status_names", names);
		json_object_set_new(f, "funcid_wrapper", json_integer(fx.funcid_wrapper));
		json_object_set_new(f, "labels", json_string(fx.labels == GOSYM_LABELS_LIST ? "list" :
							     fx.labels == GOSYM_LABELS_MAP ? "map" :
							     "unknown"));
		json_object_set_new(f, "source", json_string(fx.source));
		json_object_set_new(o, "goroutine_facts", f);
	} else {
		json_object_set_new(o, "goroutine_facts", json_null());
	}
	if (!gosym_allgs(g, &ag)) {
		json_t *a = json_object();

		json_object_set_new(a, "allglen", hexstr(ag.allglen));
		json_object_set_new(a, "allgptr", hexstr(ag.allgptr));
		json_object_set_new(a, "source", json_string(ag.source));
		json_object_set_new(o, "allgs", a);
	} else {
		json_object_set_new(o, "allgs", json_null());
	}
}

static json_t *info_json(const struct gosym *g)
{
	const struct gosym_info *in = gosym_info(g);
	struct gosym_runtime_offsets rt;
	const char *const *wr = NULL;
	const char *wr_src = NULL;
	int nwr = gosym_wait_reasons(g, &wr, &wr_src);
	json_t *o = json_object();

	json_object_set_new(o, "goversion", json_string(in->goversion));
	json_object_set_new(o, "path", json_string(in->path));
	json_object_set_new(o, "mod_path", json_string(in->mod_path));
	json_object_set_new(o, "mod_version", json_string(in->mod_version));
	json_object_set_new(o, "arch", json_string(in->arch));
	json_object_set_new(o, "ptr_size", json_integer(in->ptr_size));
	json_object_set_new(o, "big_endian", json_boolean(in->big_endian));
	json_object_set_new(o, "pie", json_boolean(in->pie));
	json_object_set_new(o, "stripped", json_boolean(in->stripped));
	json_object_set_new(o, "has_dwarf", json_boolean(in->has_dwarf));
	json_object_set_new(o, "cgo", json_boolean(in->cgo));
	json_object_set_new(o, "pcln_format", json_string(gosym_pcln_format_name(in->pcln_format)));
	char magic[16];

	snprintf(magic, sizeof(magic), "0x%08x", in->pcln_magic);
	json_object_set_new(o, "pcln_magic", json_string(magic));
	json_object_set_new(o, "pcln_where", json_string(in->pcln_where));
	json_object_set_new(o, "nfuncs", json_integer(in->nfuncs));
	json_object_set_new(o, "nfiles", json_integer(in->nfiles));
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)in->text_start);
	json_object_set_new(o, "text_start", json_string(buf));
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)in->text_end);
	json_object_set_new(o, "text_end", json_string(buf));
	if (!gosym_runtime_offsets(g, &rt)) {
		json_t *r = json_object();
#define X(f) json_object_set_new(r, #f, json_integer(rt.f));
		OFFSET_FIELDS(X)
#undef X
		json_object_set_new(r, "tls_g", json_integer(rt.tls_g));
		json_object_set_new(o, "runtime_offsets", r);
		json_object_set_new(o, "offsets_source", json_string(rt.source ? rt.source : ""));
		json_object_set_new(o, "tls_source", json_string(rt.tls_source ? rt.tls_source : ""));
	} else {
		json_object_set_new(o, "runtime_offsets", json_null());
		json_object_set_new(o, "offsets_source", json_string(gosym_errmsg()));
	}
	json_t *a = json_array();

	for (int i = 0; i < nwr; i++)
		json_array_append_new(a, json_string(wr[i] ? wr[i] : ""));
	json_object_set_new(o, "wait_reasons", a);
	json_object_set_new(o, "wait_reasons_source", wr_src ? json_string(wr_src) : json_null());
	goroutines_json(g, o);
	return o;
}

static void info_text(const char *path, const struct gosym *g)
{
	const struct gosym_info *in = gosym_info(g);
	struct gosym_runtime_offsets rt;
	const char *const *wr = NULL;
	const char *wr_src = NULL;
	int nwr = gosym_wait_reasons(g, &wr, &wr_src);

	printf("binary:        %s\n", path);
	printf("go version:    %s\n", in->goversion[0] ? in->goversion : "unknown (no build info)");
	if (in->path[0])
		printf("main package:  %s\n", in->path);
	if (in->mod_path[0])
		printf("module:        %s %s\n", in->mod_path, in->mod_version);
	printf("arch:          %s (%d-bit, %s endian)\n", in->arch, in->ptr_size * 8,
	       in->big_endian ? "big" : "little");
	printf("pie:           %s\n", in->pie ? "yes" : "no");
	printf("stripped:      %s\n", in->stripped ? "yes (no .symtab)" : "no");
	printf("dwarf:         %s\n", in->has_dwarf ? "yes" : "no");
	printf("cgo:           %s\n", in->cgo ? "yes" : "no");
	printf("pclntab:       %s format (magic 0x%08x) at 0x%llx, found by %s\n",
	       gosym_pcln_format_name(in->pcln_format), in->pcln_magic,
	       (unsigned long long)in->pcln_vaddr, in->pcln_where);
	printf("functions:     %zu (%zu files)\n", in->nfuncs, in->nfiles);
	printf("text:          0x%llx - 0x%llx\n", (unsigned long long)in->text_start,
	       (unsigned long long)in->text_end);
	if (!gosym_runtime_offsets(g, &rt)) {
		printf("runtime offsets (from %s):\n", rt.source);
#define X(f) printf("  %-16s %d\n", #f, rt.f);
		OFFSET_FIELDS(X)
#undef X
		printf("  %-16s %lld (%s)\n", "tls_g", (long long)rt.tls_g, rt.tls_source ? rt.tls_source : "?");
	} else {
		printf("runtime offsets: unavailable: %s\n", gosym_errmsg());
	}
	if (nwr > 0)
		printf("wait reasons:  %d (from %s)\n", nwr, wr_src);
	else
		printf("wait reasons:  unavailable\n");
	struct gosym_allgs ag;

	if (!gosym_allgs(g, &ag))
		printf("goroutine list: runtime.allglen 0x%llx, runtime.allgptr 0x%llx (from %s)\n",
		       (unsigned long long)ag.allglen, (unsigned long long)ag.allgptr, ag.source);
	else
		printf("goroutine list: unavailable: %s\n", gosym_errmsg());
}

int cmd_info(int argc, char **argv)
{
	bool json = false;
	struct gosym *g;
	int r;

	r = gt_inspect_args(argc, argv, usage, 1, 1, &json);
	if (r != GT_OPTS_RUN)
		return r;
	g = gt_open_binary(argv[optind]);
	if (!g)
		return 1;
	if (json) {
		json_t *o = info_json(g);

		json_object_set_new(o, "binary", json_string(argv[optind]));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		info_text(argv[optind], g);
	}
	gosym_free(g);
	return 0;
}
