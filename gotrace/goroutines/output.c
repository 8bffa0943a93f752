// SPDX-License-Identifier: MIT
/*
 * The forms of one snapshot: the runtime's dump text (the default), the
 * goroutine profile's debug=1 text (--group), JSON Lines (--json) and a
 * pprof goroutine profile (--pprof, pprof.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goroutines/goroutines.h"
#include "gotrace.h"

#define MAX_PCS 4096

bool gor_listed(struct gr_target *t, const struct gr_snapshot *s, size_t i, bool system)
{
	const struct gr_g *g = &s->g[i];

	return g->state == GR_G_OK && (system || !gr_is_system(t, g));
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = mix(h, (unsigned char)*s);
	return mix(h, 0);
}

/* A group's identity: its profile PCs and its labels. */
static uint64_t group_key(const struct gr_snapshot *s, const struct gr_g *g, const uint64_t *pcs,
			  int n)
{
	uint64_t h = 0x12345;

	for (int k = 0; k < n; k++)
		h = mix(h, pcs[k]);
	for (uint32_t k = 0; k < g->nlabels; k++) {
		h = hash_str(h, s->labels[g->label_idx + k].key);
		h = hash_str(h, s->labels[g->label_idx + k].value);
	}
	return mix(h, (uint64_t)n);
}

static int cmp_group(const void *a, const void *b)
{
	const struct gor_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

void gor_groups_free(struct gor_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		free(g[i].pcs);
		free(g[i].text);
	}
	free(g);
}

int gor_groups(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s, bool system,
	       struct gor_group **out, size_t *nout)
{
	size_t cap = 64, n = 0, hcap = 1024;
	struct gor_group *grp = malloc(cap * sizeof(*grp));
	uint32_t *slot;
	static uint64_t pcs[MAX_PCS];

	while (hcap < s->n * 2)
		hcap *= 2;
	slot = calloc(hcap, sizeof(*slot)); /* group index + 1 */
	if (!grp || !slot)
		goto nomem;
	for (size_t i = 0; i < s->n; i++) {
		const struct gr_stack *st;
		uint64_t key;
		size_t h;
		int np;

		if (!gor_listed(t, s, i, system) || gr_tb_stack(tb, s, i, &st))
			continue;
		np = gr_tb_profile_pcs(tb, st, pcs, MAX_PCS);
		key = group_key(s, &s->g[i], pcs, np);
		for (h = key & (hcap - 1); slot[h] && grp[slot[h] - 1].key != key; h = (h + 1) & (hcap - 1))
			;
		if (slot[h]) {
			grp[slot[h] - 1].count++;
			continue;
		}
		if (n == cap) {
			struct gor_group *ng = realloc(grp, cap * 2 * sizeof(*grp));

			if (!ng)
				goto nomem;
			grp = ng;
			cap *= 2;
		}
		grp[n] = (struct gor_group){ key, 1, (uint32_t)i, (uint32_t)np,
					     malloc((np ? np : 1) * sizeof(uint64_t)), NULL };
		if (!grp[n].pcs)
			goto nomem;
		memcpy(grp[n].pcs, pcs, np * sizeof(uint64_t));
		slot[h] = (uint32_t)++n;
	}
	free(slot);
	qsort(grp, n, sizeof(*grp), cmp_group);
	*out = grp;
	*nout = n;
	return 0;
nomem:
	free(slot);
	gor_groups_free(grp, n);
	return -ENOMEM;
}

/* Go's %q (strconv.Quote) for the label strings of "# labels:". */
static void put_goquote(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '\a': fputs("\\a", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\v': fputs("\\v", f); break;
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		default:
			if (*c < 0x20 || *c == 0x7f)
				fprintf(f, "\\x%02x", *c);
			else
				fputc(*c, f); /* printable ASCII and UTF-8 kept */
		}
	}
	fputc('"', f);
}

/* labelMap.String(): {"k":"v", ...}, the quoted pairs sorted as strings. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_labels(FILE *f, const struct gr_snapshot *s, const struct gr_g *g)
{
	char *kv[256];
	uint32_t n = g->nlabels < 256 ? g->nlabels : 256;

	for (uint32_t k = 0; k < n; k++) {
		const struct gr_label *l = &s->labels[g->label_idx + k];
		size_t len = 0;
		FILE *m = open_memstream(&kv[k], &len);

		if (!m) {
			n = k;
			break;
		}
		put_goquote(m, l->key);
		fputc(':', m);
		put_goquote(m, l->value);
		fclose(m);
	}
	qsort(kv, n, sizeof(kv[0]), cmp_str);
	fputc('{', f);
	for (uint32_t k = 0; k < n; k++) {
		fprintf(f, "%s%s", k ? ", " : "", kv[k]);
		free(kv[k]);
	}
	fputc('}', f);
}

/* One "#" line of a record: its tab-separated cells. */
struct rec_line {
	char pc[24], fn[600];
	const char *file;
	int line;
};

/* text/tabwriter.NewWriter(w, 1, 8, 1, '\t', 0) as printCountProfile uses
 * it: a column of a block of lines is as wide as its widest cell plus one,
 * rounded up to a tab stop (8), and cells are padded with tabs. */
static void put_cell(FILE *f, const char *cell, size_t colw)
{
	size_t w = strlen(cell), cellw = (colw + 7) / 8 * 8;

	fputs(cell, f);
	for (size_t n = (cellw - w + 7) / 8; n; n--)
		fputc('\t', f);
}

static size_t col_width(const struct rec_line *l, int n, bool pc)
{
	size_t w = 1; /* minwidth */

	for (int k = 0; k < n; k++) {
		size_t c = strlen(pc ? l[k].pc : l[k].fn) + 1; /* padding 1 */

		if (c > w)
			w = c;
	}
	return w;
}

/* runtime/pprof printStackRecord(): "#\tPC\tfunc+off\tfile:line" per
 * logical frame (CallersFrames of the profile PCs), the leading runtime
 * frames and goexit hidden, everything shown if that hides it all. */
static void print_record(struct gr_tb *tb, const struct gr_stack *st, const uint64_t *pcs,
			 int npcs, FILE *f, bool all)
{
	static struct rec_line lines[4096];
	bool hide_internal = gr_tb_facts(tb)->profile_hides_internal_runtime;
	bool show = all;
	int n = 0, k = 0;

	for (int i = 0; i < st->n && k < npcs && n < 4096; i++) {
		const struct gr_frame *fr = &st->f[i];
		const char *name;

		if (fr->sympc + 1 != pcs[k])
			continue; /* an elided wrapper: not in the profile */
		k++;
		name = gr_tb_callers_name(tb, fr->func);
		if (!strcmp(name, "runtime.goexit") ||
		    (!show && (!strncmp(name, "runtime.", 8) ||
			       (hide_internal && !strncmp(name, "internal/runtime/", 17)))))
			continue;
		show = true;
		snprintf(lines[n].pc, sizeof(lines[n].pc), "%#llx", (unsigned long long)fr->sympc);
		snprintf(lines[n].fn, sizeof(lines[n].fn), "%s+%#llx", name,
			 (unsigned long long)(fr->sympc - fr->entry));
		lines[n].file = fr->file;
		lines[n].line = fr->line;
		n++;
	}
	if (!show) {
		print_record(tb, st, pcs, npcs, f, true);
		return;
	}
	size_t w_pc = col_width(lines, n, true), w_fn = col_width(lines, n, false);

	for (int i = 0; i < n; i++) {
		put_cell(f, "#", 2);
		put_cell(f, lines[i].pc, w_pc);
		put_cell(f, lines[i].fn, w_fn);
		fprintf(f, "%s:%d\n", lines[i].file, lines[i].line);
	}
	fputc('\n', f);
}

/* The group's key as printCountProfile sorts it: "@ 0x.. 0x.." plus the
 * labels line. */
static char *group_key_text(const struct gr_snapshot *s, const struct gor_group *g)
{
	const struct gr_g *gg = &s->g[g->first];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputc('@', f);
	for (uint32_t k = 0; k < g->npcs; k++)
		fprintf(f, " %#llx", (unsigned long long)g->pcs[k]);
	if (gg->nlabels) {
		fputs("\n# labels: ", f);
		put_labels(f, s, gg);
	}
	fclose(f);
	return buf;
}

static int cmp_key(const void *a, const void *b)
{
	const struct gor_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->text, y->text);
}

static int print_groups(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
			const struct gor_opts *o, FILE *f)
{
	struct gor_group *grp;
	size_t n, total = 0;
	int err = gor_groups(t, tb, s, o->system, &grp, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		total += grp[i].count;
		if (!(grp[i].text = group_key_text(s, &grp[i]))) {
			gor_groups_free(grp, n);
			return -ENOMEM;
		}
	}
	qsort(grp, n, sizeof(*grp), cmp_key);
	fprintf(f, "goroutine profile: total %zu\n", total);
	for (size_t i = 0; i < n; i++) {
		const struct gr_stack *st;

		fprintf(f, "%u %s\n", grp[i].count, grp[i].text);
		if (!gr_tb_stack(tb, s, grp[i].first, &st))
			print_record(tb, st, grp[i].pcs, (int)grp[i].npcs, f, false);
	}
	gor_groups_free(grp, n);
	return 0;
}

static json_t *frame_json(struct gr_tb *tb, const char *func, const char *file, int line,
			  bool inlined)
{
	json_t *o = json_object();

	json_object_set_new(o, "func", json_string(gr_tb_func_name(tb, func, inlined)));
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "line", json_integer(line));
	json_object_set_new(o, "inlined", json_boolean(inlined));
	return o;
}

static json_t *goroutine_json(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
			      size_t i)
{
	const struct gr_target_info *in = gr_target_info(t);
	const struct gr_g *g = &s->g[i];
	uint32_t st_raw = g->status & ~(uint32_t)GOSYM_G_SCAN;
	const struct gr_stack *st;
	json_t *o = json_object(), *a;

	json_object_set_new(o, "goid", json_integer(g->goid));
	json_object_set_new(o, "status", json_string(st_raw < (uint32_t)in->facts.nstatus_names ?
						     in->facts.status_names[st_raw] : "???"));
	json_object_set_new(o, "wait_reason", st_raw == GOSYM_G_WAITING && g->waitreason ?
				   json_string(gr_status_string(t, g)) : json_null());
	json_object_set_new(o, "wait_ns", g->waitsince && (st_raw == GOSYM_G_WAITING ||
							   st_raw == GOSYM_G_SYSCALL) ?
				   json_integer((int64_t)s->mono_ns - g->waitsince) : json_null());
	json_object_set_new(o, "locked_to_thread", json_boolean(g->lockedm != 0));
	json_object_set_new(o, "system", json_boolean(gr_is_system(t, g)));
	if (g->tid)
		json_object_set_new(o, "thread", json_integer(g->tid));
	if (g->nlabels) {
		json_t *l = json_object();

		for (uint32_t k = 0; k < g->nlabels; k++)
			json_object_set_new(l, s->labels[g->label_idx + k].key,
					    json_string(s->labels[g->label_idx + k].value));
		json_object_set_new(o, "labels", l);
	}
	if (gr_tb_stack(tb, s, i, &st))
		return o;
	if (st->created.func && st->created.shown) {
		json_t *c = frame_json(tb, st->created.func, st->created.file, st->created.line,
				       false);

		json_object_del(c, "inlined");
		json_object_set_new(c, "goid", st->created.goid ? json_integer(st->created.goid) :
					       json_null());
		json_object_set_new(o, "created_by", c);
	}
	a = json_array();
	for (int k = 0; k < st->n; k++)
		if (st->f[k].shown)
			json_array_append_new(a, frame_json(tb, st->f[k].func, st->f[k].file,
							    st->f[k].line, st->f[k].inlined));
	json_object_set_new(o, "stack", a);
	if (st->running)
		json_object_set_new(o, "stack_unavailable", json_string("running"));
	else if (!st->complete)
		json_object_set_new(o, "stack_stop", json_string(dwunw_stop_name(st->stop)));
	return o;
}

static int print_json(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
		      const struct gor_opts *o, FILE *f)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *j;

		if (!gor_listed(t, s, i, o->system))
			continue;
		j = goroutine_json(t, tb, s, i);
		if (json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0) {
			json_decref(j);
			return -EIO;
		}
		json_decref(j);
		fputc('\n', f);
	}
	return 0;
}

static int print_text(struct gr_target *t, struct gr_tb *tb, const struct gr_snapshot *s,
		      const struct gor_opts *o, FILE *f)
{
	bool first = true;
	int err;

	for (size_t i = 0; i < s->n; i++) {
		if (!gor_listed(t, s, i, o->system))
			continue;
		if (!first)
			fputc('\n', f);
		first = false;
		if ((err = gr_tb_print(tb, s, i, f)))
			return err;
	}
	return 0;
}

static void report(const struct gr_snapshot *s, struct gr_target *t, bool system, size_t listed)
{
	const struct gr_snapshot_stats *st = &s->stats;

	gt_progress("goroutines: %zu listed (%llu alive, %llu dead%s), %llu skipped as inconsistent "
		    "(%llu re-reads), read in %.1f ms (%.1f MB, %llu syscalls)",
		    listed, (unsigned long long)st->ok, (unsigned long long)st->dead,
		    system ? "" : ", system goroutines hidden",
		    (unsigned long long)st->inconsistent, (unsigned long long)st->rereads,
		    st->read_ns / 1e6, st->bytes / 1e6, (unsigned long long)st->syscalls);
	if (st->label_errors)
		gt_progress("goroutines: %llu label sets unreadable",
			    (unsigned long long)st->label_errors);
	(void)t;
}

int gor_dump(struct gr_target *t, struct gor_opts *o)
{
	struct gr_snapshot *s = NULL;
	struct gr_tb *tb = NULL;
	size_t listed = 0;
	int err;

	if ((err = gr_snapshot_take(t, NULL, &s)))
		return gt_error("%s", gr_errmsg());
	if (gr_tb_new(t, &tb)) {
		gr_snapshot_free(s);
		return gt_error("out of memory");
	}
	for (size_t i = 0; i < s->n; i++)
		listed += gor_listed(t, s, i, o->system);
	/* One dump, megabytes of text: not a write per line (main() made
	 * stdout line-buffered for the streaming commands). */
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	if (o->group)
		err = print_groups(t, tb, s, o, stdout);
	else if (o->json)
		err = print_json(t, tb, s, o, stdout);
	else
		err = print_text(t, tb, s, o, stdout);
	if (fflush(stdout) || ferror(stdout))
		err = -EIO;
	setlinebuf(stdout);
	if (err)
		gt_error("writing the goroutines: %s", strerror(-err));
	if (!err && o->pprof_file) {
		struct gt_outfile *f = o->pprof_file;

		o->pprof_file = NULL;	/* used up by the writer */
		if ((err = gor_pprof_write(t, tb, s, o, f)))
			gt_error("cannot write '%s': %s", o->pprof, strerror(-err));
	}
	report(s, t, o->system, listed);
	gr_tb_free(tb);
	gr_snapshot_free(s);
	return err ? 1 : 0;
}
