// SPDX-License-Identifier: MIT
/* --args for a tracing command (see session.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args/session.h"

struct spec {
	char *glob;
	bool has_sel;		/* GLOB(...) */
	char **sel;		/* "name", "name.field", "$ret" */
	int nsel;
	int *hits;		/* per selection item: functions that had it */
	int funcs;		/* functions the glob matched */
};

struct filter {
	char *text;
	struct ga_filter_term t[GA_MAX_CONDS];
	int n;
	int funcs;		/* functions it applies to */
};

struct fstate {
	uint32_t entry, ret;	/* plan indices, 0 none */
	bool selected;		/* --args asked for its values */
	bool ret_unknown;	/* DWARF may have left its results out */
	char *why;		/* unsupported: why */
};

struct ga_session {
	struct gosym *gs;
	struct ga_dwarf *dw;
	struct gosym_abi abi;
	struct ga_config c;
	uint64_t types;		/* moduledata.types; 0 unknown */
	uint64_t bias;
	bool bias_known;
	struct spec *specs;
	int nspecs;
	struct filter *filters;
	int nfilters;
	struct ga_site *sites;	/* [0] unused: plan index 0 is "none" */
	uint32_t nsites, capsites;
	struct fstate *fs;
	uint32_t nfs;
	struct ga_type regtype, recvtype;
	struct ga_loc regloc[GA_NREGS];
};

/* --- configuration ---------------------------------------------------------- */

size_t ga_spec_glob_len(const char *text)
{
	size_t n = strlen(text);
	const char *open = strrchr(text, '(');

	/* "main.(*T).M(a, b)": a trailing "(...)" not right after a '.' */
	if (n && text[n - 1] == ')' && open && open > text && open[-1] != '.')
		return (size_t)(open - text);
	return n;
}

static int parse_spec(const char *text, struct spec *sp, char *why, size_t whylen)
{
	size_t n = strlen(text), gl = ga_spec_glob_len(text);
	const char *open = text + gl;
	char *body, *tok, *save = NULL;

	memset(sp, 0, sizeof(*sp));
	if (gl < n) {
		sp->glob = strndup(text, (size_t)(open - text));
		sp->has_sel = true;
		body = strndup(open + 1, (size_t)(text + n - 1 - open - 1));
		if (!sp->glob || !body) {
			free(body);
			return -ENOMEM;
		}
		for (tok = strtok_r(body, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			char **s2 = realloc(sp->sel, (sp->nsel + 1) * sizeof(*s2));

			if (!s2 || !(s2[sp->nsel] = strdup(tok))) {
				sp->sel = s2 ? s2 : sp->sel;
				free(body);
				return -ENOMEM;
			}
			sp->sel = s2;
			sp->nsel++;
		}
		free(body);
		if (!sp->nsel) {
			snprintf(why, whylen, "--args '%s': empty selection", text);
			return -EINVAL;
		}
		sp->hits = calloc(sp->nsel, sizeof(*sp->hits));
		return sp->hits ? 0 : -ENOMEM;
	}
	sp->glob = strdup(text);
	return sp->glob ? 0 : -ENOMEM;
}

static int parse_filter(const char *text, struct filter *fl, char *why, size_t whylen);

int ga_filter_check(const char *text, char *why, size_t whylen)
{
	struct filter fl;
	int err = parse_filter(text, &fl, why, whylen);

	free(fl.text);
	return err;
}

static int parse_filter(const char *text, struct filter *fl, char *why, size_t whylen)
{
	char *copy = strdup(text), *p, *next;
	int err = 0;

	memset(fl, 0, sizeof(*fl));
	if (!copy)
		return -ENOMEM;
	fl->text = strdup(text);
	for (p = copy; p && !err; p = next) {
		next = strstr(p, "&&");
		if (next) {
			*next = 0;
			next += 2;
		}
		if (fl->n == GA_MAX_CONDS) {
			snprintf(why, whylen, "--filter '%s': more than %d conditions", text,
				 GA_MAX_CONDS);
			err = -EINVAL;
			break;
		}
		err = ga_filter_parse(p, &fl->t[fl->n++], why, whylen);
		if (err) {
			char inner[256];

			snprintf(inner, sizeof(inner), "%s", why);
			snprintf(why, whylen, "--filter %s", inner);
		}
	}
	free(copy);
	return err ? err : fl->text ? 0 : -ENOMEM;
}

int ga_session_open(struct gosym *gs, const char *path, const struct ga_config *c,
		    struct ga_session **out, char *why, size_t whylen)
{
	struct ga_session *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->gs = gs;
	s->c = *c;
	err = gosym_abi(gs, &s->abi);
	if (err) {
		snprintf(why, whylen, "--args: %s", gosym_errmsg());
		goto fail;
	}
	if (gosym_types_base(gs, &s->types))
		s->types = 0;
	s->regtype = (struct ga_type){ .kind = GA_UINTPTR, .name = "register", .size = 8,
				       .align = 8 };
	s->recvtype = (struct ga_type){ .kind = GA_UNSAFEPTR, .name = "receiver",
					.size = (uint32_t)s->abi.ptr_size,
					.align = (uint32_t)s->abi.ptr_size };
	for (int i = 0; i < GA_NREGS; i++)
		s->regloc[i] = (struct ga_loc){ .npieces = 1, .spill_off = -1,
						.pieces = { { GA_IN_INT, (uint8_t)i, 8, 0 } } };
	if (c->mode != GA_MODE_RAW) {
		err = ga_dwarf_open(path, (uint8_t)s->abi.ptr_size, &s->dw);
		if (err == -ENOENT)
			snprintf(why, whylen, "--args: '%s' has no DWARF (stripped?): --args=raw shows the "
				 "argument registers instead", path);
		else if (err)
			snprintf(why, whylen, "--args: cannot read the DWARF of '%s': %s", path, strerror(-err));
		if (err)
			goto fail;
	}
	s->specs = calloc(c->nspecs + 1, sizeof(*s->specs));
	s->filters = calloc(c->nfilters + 1, sizeof(*s->filters));
	s->sites = calloc(1, sizeof(*s->sites));
	s->nsites = s->capsites = 1;
	if (!s->specs || !s->filters || !s->sites) {
		err = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < c->nspecs; i++, s->nspecs++)
		if ((err = parse_spec(c->specs[i], &s->specs[i], why, whylen)))
			goto fail_counted;
	for (int i = 0; i < c->nfilters; i++, s->nfilters++)
		if ((err = parse_filter(c->filters[i], &s->filters[i], why, whylen)))
			goto fail_counted;
	*out = s;
	return 0;
fail_counted:
	/* the failed entry holds allocations too */
	if (s->nspecs < c->nspecs)
		s->nspecs++;
	else
		s->nfilters++;
fail:
	ga_session_free(s);
	return err;
}

void ga_session_free(struct ga_session *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nspecs; i++) {
		free(s->specs[i].glob);
		for (int k = 0; k < s->specs[i].nsel; k++)
			free(s->specs[i].sel[k]);
		free(s->specs[i].sel);
		free(s->specs[i].hits);
	}
	free(s->specs);
	for (int i = 0; i < s->nfilters; i++)
		free(s->filters[i].text);
	free(s->filters);
	for (uint32_t i = 1; i < s->nsites; i++)
		ga_site_release(&s->sites[i]);
	free(s->sites);
	for (uint32_t i = 0; i < s->nfs; i++)
		free(s->fs[i].why);
	free(s->fs);
	ga_dwarf_free(s->dw);
	free(s);
}

/* --- plans per function ------------------------------------------------------ */

/* The selection that applies to function name: NULL with *all for
 * everything, NULL without for nothing; else the matching specs are
 * marked in match[]. */
static bool selected(struct ga_session *s, const char *name, bool *all, bool *match)
{
	bool any = false;

	*all = false;
	if (s->c.mode == GA_MODE_RAW) {
		*all = true;
		return true;
	}
	for (int i = 0; i < s->nspecs; i++) {
		match[i] = gosym_glob_match(s->specs[i].glob, name);
		if (!match[i])
			continue;
		any = true;
		s->specs[i].funcs++;
		if (!s->specs[i].has_sel)
			*all = true;
	}
	/* --args (all) and a selection for some functions: everything of
	 * the others */
	if (!any && s->c.mode == GA_MODE_ALL)
		*all = any = true;
	return any;
}

/* Is parameter name (or one of its fields) selected?  Adds the inputs. */
static int add_inputs(struct ga_session *s, const bool *match, bool all, const struct ga_param *p,
		      const struct ga_loc *l, struct ga_input *in, uint32_t *n)
{
	size_t nl = strlen(p->name);

	if (all) {
		in[(*n)++] = (struct ga_input){ p->name, p->type, l, NULL };
		return 0;
	}
	for (int i = 0; i < s->nspecs; i++) {
		if (!match[i])
			continue;
		for (int k = 0; k < s->specs[i].nsel; k++) {
			const char *sel = s->specs[i].sel[k];

			if (!strcmp(sel, "$ret") && p->result) {
				in[(*n)++] = (struct ga_input){ p->name, p->type, l, NULL };
				s->specs[i].hits[k]++;
			} else if (!strncmp(sel, p->name, nl) && (!sel[nl] || sel[nl] == '.')) {
				in[(*n)++] = (struct ga_input){ p->name, p->type, l,
								sel[nl] ? sel + nl + 1 : NULL };
				s->specs[i].hits[k]++;
			}
			if (*n >= 2 * GA_MAX_OPS)
				return -E2BIG;
		}
	}
	return 0;
}

static bool same_site(const struct ga_site *a, const struct ga_site *b)
{
	if (!ga_site_same_plan(a, b) || a->nvals != b->nvals || a->nholes != b->nholes)
		return false;
	for (uint32_t i = 0; i < a->nvals; i++)
		if (strcmp(a->vals[i].name, b->vals[i].name) || a->vals[i].type != b->vals[i].type ||
		    a->vals[i].at != b->vals[i].at || a->vals[i].op != b->vals[i].op ||
		    a->vals[i].cut != b->vals[i].cut)
			return false;
	for (uint32_t i = 0; i < a->nholes; i++)
		if (a->holes[i].at != b->holes[i].at || a->holes[i].size != b->holes[i].size)
			return false;
	return true;
}

/* Keep site (taking it over) under a plan index; an identical one is shared. */
static int intern(struct ga_session *s, struct ga_site *site, uint32_t *idx)
{
	for (uint32_t i = 1; i < s->nsites; i++)
		if (same_site(&s->sites[i], site)) {
			ga_site_release(site);
			*idx = i;
			return 0;
		}
	if (s->nsites >= 0xffff)
		return -E2BIG;	/* cookie bits */
	if (s->nsites == s->capsites) {
		uint32_t cap = s->capsites * 2;
		struct ga_site *n = realloc(s->sites, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->sites = n;
		s->capsites = cap;
	}
	s->sites[s->nsites] = *site;
	*idx = s->nsites++;
	return 0;
}

/* The filter's conditions on the entry site, if f has what it names. */
static int add_filters(struct ga_session *s, struct ga_site *site, const struct ga_input *in,
		       uint32_t nin, bool *filtered, char *why, size_t whylen)
{
	for (int i = 0; i < s->nfilters; i++) {
		struct filter *fl = &s->filters[i];
		int found = 0;

		for (int k = 0; k < fl->n; k++)
			for (uint32_t j = 0; j < site->nvals; j++)
				if (!strcmp(site->vals[j].name, fl->t[k].path)) {
					found++;
					break;
				}
		if (found < fl->n)
			continue;
		for (int k = 0; k < fl->n; k++)
			for (uint32_t j = 0; j < site->nvals; j++)
				if (!strcmp(site->vals[j].name, fl->t[k].path)) {
					int err = ga_site_add_cond(site, &site->vals[j], &fl->t[k], why,
								   whylen);

					if (err)
						return err;
					break;
				}
		fl->funcs++;
		*filtered = true;
	}
	(void)in;
	(void)nin;
	return 0;
}

/* Inputs the filters need that the selection left out. */
static int filter_inputs(struct ga_session *s, const struct ga_func *df, const struct ga_loc *locs,
			 struct ga_input *in, uint32_t *n)
{
	for (int i = 0; i < s->nfilters; i++)
		for (int k = 0; k < s->filters[i].n; k++) {
			const char *path = s->filters[i].t[k].path;
			bool have = false;

			for (uint32_t j = 0; j < *n && !have; j++) {
				char full[256];

				snprintf(full, sizeof(full), "%s%s%s", in[j].name, in[j].path ? "." : "",
					 in[j].path ? in[j].path : "");
				have = !strcmp(full, path);
			}
			for (uint32_t j = 0; j < df->nparams && !have; j++) {
				const struct ga_param *p = &df->params[j];
				size_t nl = strlen(p->name);

				if (p->result || p->hidden || strncmp(path, p->name, nl) ||
				    (path[nl] && path[nl] != '.'))
					continue;
				if (*n >= 2 * GA_MAX_OPS)
					return -E2BIG;
				in[(*n)++] = (struct ga_input){ p->name, p->type, &locs[j],
								path[nl] ? path + nl + 1 : NULL };
				have = true;
			}
		}
	return 0;
}

bool ga_arginfo_of(const struct gosym *gs, const struct gosym_abi *abi, uint64_t entry,
		   struct ga_arginfo *ai)
{
	const uint8_t *p;
	size_t n;

	if (!abi->has_arginfo || gosym_funcdata(gs, entry, GOSYM_FUNCDATA_ARGINFO, &p, &n))
		return false;
	for (ai->len = 0; ai->len < n && ai->len < sizeof(ai->b); ai->len++) {
		ai->b[ai->len] = p[ai->len];
		if (p[ai->len] == 0xff) {
			ai->len++;
			return true;
		}
	}
	return false;	/* no end marker: not trusted */
}

static struct fstate *fstate_at(struct ga_session *s, uint32_t fidx)
{
	if (fidx >= s->nfs) {
		uint32_t n = fidx + 64;
		struct fstate *fs = realloc(s->fs, n * sizeof(*fs));

		if (!fs)
			return NULL;
		memset(fs + s->nfs, 0, (n - s->nfs) * sizeof(*fs));
		s->fs = fs;
		s->nfs = n;
	}
	return &s->fs[fidx];
}

static int unsupported(struct fstate *st, const char **note, const char *fmt, const char *a,
		       const char *b)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, a, b);
	free(st->why);
	st->why = strdup(buf);
	*note = st->why;
	return st->why ? 0 : -ENOMEM;
}

/* Compile, filter and intern one site; *idx = 0 when it shows nothing. */
static int make_site(struct ga_session *s, struct ga_input *in, uint32_t n, bool entry,
		     uint32_t *idx, bool *filtered, char *why, size_t whylen)
{
	struct ga_site site;
	int err;

	*idx = 0;
	if (!n)
		return 0;
	err = ga_site_compile(&s->abi, &s->c.opts, in, n, &site, why, whylen);
	if (err)
		return err;
	if (entry && s->nfilters) {
		err = add_filters(s, &site, in, n, filtered, why, whylen);
		if (err) {
			ga_site_release(&site);
			return err;
		}
	}
	err = intern(s, &site, idx);
	if (err)
		ga_site_release(&site);
	return err;
}

/* --args=raw: the integer argument registers, at the entry and at RETs. */
static int raw_sites(struct ga_session *s, struct ga_input *in, uint32_t *entry, uint32_t *ret,
		     bool *filter)
{
	char why[256];
	uint32_t n = 0;
	int err;

	for (int i = 0; i < s->abi.nint && i < GA_NREGS; i++)
		in[n++] = (struct ga_input){ s->abi.int_regs[i], &s->regtype, &s->regloc[i], NULL };
	err = make_site(s, in, n, false, entry, filter, why, sizeof(why));
	return err ? err : make_site(s, in, n, false, ret, filter, why, sizeof(why));
}

/* Is f an ABI0 function?  The symbol table says ("<name>.abi0"); without
 * one, assembly functions are taken for ABI0, the rest is unknown (-1). */
static int abi0_hint(const struct ga_session *s, const struct gosym_func *f)
{
	char sym[1024];
	uint64_t addr;

	snprintf(sym, sizeof(sym), "%s.abi0", f->name);
	if (!gosym_symbol(s->gs, sym, &addr, NULL))
		return addr == f->entry;
	if (!gosym_info(s->gs)->stripped)
		return 0;
	return (f->flag & GOSYM_FLAG_ASM) ? 1 : -1;
}

int ga_session_func(struct ga_session *s, uint32_t fidx, const struct gosym_func *f,
		    uint32_t *entry, uint32_t *ret, bool *filter, const char **note)
{
	struct fstate *st = fstate_at(s, fidx);
	bool all, sel, *match = calloc(s->nspecs + 1, sizeof(*match));
	const struct ga_func *df;
	struct ga_loc *locs = NULL, recv;
	struct ga_arginfo ai;
	struct ga_input *in = NULL;
	uint32_t nin = 0;
	char why[256] = "";
	unsigned flags = 0;
	int err = 0;

	*entry = *ret = 0;
	*filter = false;
	*note = NULL;
	if (!st || !match) {
		free(match);
		return -ENOMEM;
	}
	sel = selected(s, f->name, &all, match);
	if (!sel && !s->nfilters)
		goto out;
	in = calloc(2 * GA_MAX_OPS + GA_NREGS, sizeof(*in));
	if (!in) {
		err = -ENOMEM;
		goto out;
	}
	if (s->c.mode == GA_MODE_RAW) {
		st->selected = true;
		err = raw_sites(s, in, entry, ret, filter);
		goto out;
	}
	if (ga_dwarf_func(s->dw, f->entry, &df)) {
		if (sel) {
			st->selected = true;
			err = unsupported(st, note, "no DWARF for %s%s", f->name, "");
		}
		goto out;
	}
	locs = calloc(df->nparams + 1, sizeof(*locs));
	if (!locs) {
		err = -ENOMEM;
		goto out;
	}
	err = ga_abi_resolve(&s->abi, df, abi0_hint(s, f),
			     ga_arginfo_of(s->gs, &s->abi, f->entry, &ai) ? &ai : NULL, locs, &recv,
			     &flags, why, sizeof(why));
	if (err && !sel) {
		err = 0;	/* only a --filter candidate: leave it alone */
		goto out;
	}
	st->selected = sel;
	if (err) {
		err = unsupported(st, note, "%s: %s", f->name,
				  err == -EOPNOTSUPP ? "a parameter type is not understood" :
				  err == -ENODATA ? "a compiler-made wrapper (ABI0 or method) DWARF "
						    "can't tell apart" :
				  why);
		goto out;
	}
	/* entry: receiver and arguments (and what --filter compares) */
	if (sel && flags & GA_IMPLICIT_RECV && all)
		in[nin++] = (struct ga_input){ "recv", &s->recvtype, &recv, NULL };
	for (uint32_t k = 0; sel && k < df->nparams && !err; k++)
		if (!df->params[k].result && !df->params[k].hidden)
			err = add_inputs(s, match, all, &df->params[k], &locs[k], in, &nin);
	if (!err && s->nfilters)
		err = filter_inputs(s, df, locs, in, &nin);
	if (!sel && !nin)
		goto out;
	st->selected = true;
	if (!err)
		err = make_site(s, in, nin, true, entry, filter, why, sizeof(why));
	if (err)
		goto site_err;
	/* RETs: results */
	nin = 0;
	if (s->abi.dwarf_omits_unnamed_results) {
		bool any = false;

		for (uint32_t k = 0; k < df->nparams; k++)
			any |= df->params[k].result;
		st->ret_unknown = sel && !any;
	}
	for (uint32_t k = 0; sel && k < df->nparams && !err; k++)
		if (df->params[k].result && !df->params[k].hidden)
			err = add_inputs(s, match, all, &df->params[k], &locs[k], in, &nin);
	if (!err)
		err = make_site(s, in, nin, false, ret, filter, why, sizeof(why));
site_err:
	if (err == -ENOENT || err == -E2BIG || err == -EINVAL) {
		err = unsupported(st, note, "%s: %s", f->name, why);
		*entry = *ret = 0;
		*filter = false;
	}
out:
	if (!err) {
		st->entry = *entry;
		st->ret = *ret;
	}
	free(in);
	free(locs);
	free(match);
	return err;
}

int ga_session_finish(struct ga_session *s, char *why, size_t whylen)
{
	for (int i = 0; i < s->nspecs; i++) {
		if (!s->specs[i].funcs) {
			snprintf(why, whylen, "--args '%s' matches no traced function", s->specs[i].glob);
			return -ENOENT;
		}
		for (int k = 0; k < s->specs[i].nsel; k++)
			if (!s->specs[i].hits[k]) {
				snprintf(why, whylen, "--args: no function matching '%s' has '%s'",
					 s->specs[i].glob, s->specs[i].sel[k]);
				return -ENOENT;
			}
	}
	for (int i = 0; i < s->nfilters; i++)
		if (!s->filters[i].funcs) {
			snprintf(why, whylen, "--filter '%s': no traced function has %s%s",
				 s->filters[i].text, s->filters[i].n > 1 ? "all of " : "",
				 s->filters[i].t[0].path);
			return -ENOENT;
		}
	return 0;
}

uint32_t ga_session_nplans(const struct ga_session *s)
{
	return s->nsites;
}

const struct ga_plan *ga_session_plan(const struct ga_session *s, uint32_t idx)
{
	return idx && idx < s->nsites ? &s->sites[idx].plan : NULL;
}

bool ga_session_selected(const struct ga_session *s, uint32_t fidx)
{
	return fidx < s->nfs && s->fs[fidx].selected;
}

bool ga_session_shows(const struct ga_session *s, uint32_t fidx, bool ret)
{
	return fidx < s->nfs && (ret ? s->fs[fidx].ret : s->fs[fidx].entry);
}

const char *ga_session_unsupported(const struct ga_session *s, uint32_t fidx)
{
	return fidx < s->nfs ? s->fs[fidx].why : NULL;
}

const char *ga_session_ret_unknown(const struct ga_session *s, uint32_t fidx)
{
	return fidx < s->nfs && s->fs[fidx].ret_unknown ?
		"Go 1.17's DWARF lists no unnamed results" : NULL;
}

void ga_session_learn_bias(struct ga_session *s, uint64_t ip, uint64_t site)
{
	if (!s->bias_known) {
		s->bias = ip - site;
		s->bias_known = true;
	}
}

/* --- decoding -------------------------------------------------------------- */

static int rt_cb(void *arg, uint64_t addr, struct ga_rt *out)
{
	struct ga_session *s = arg;
	struct gosym_rtype rt;
	uint64_t link = addr - s->bias;
	size_t n;

	if (!s->bias_known || gosym_rtype(s->gs, link, &rt))
		return -ENOENT;
	n = rt.name_len < sizeof(out->name) - 1 ? rt.name_len : sizeof(out->name) - 1;
	memcpy(out->name, rt.name, n);
	out->name[n] = 0;
	out->kind = rt.kind;
	out->direct = rt.direct_iface;
	out->type = s->dw && s->types ? ga_dwarf_type_by_rtype(s->dw, s->types, link) : NULL;
	return 0;
}

static const char *func_cb(void *arg, uint64_t pc)
{
	struct ga_session *s = arg;
	struct gosym_func f;

	if (!s->bias_known || gosym_lookup_pc(s->gs, pc - s->bias, &f) || f.entry != pc - s->bias)
		return NULL;
	return f.name;
}

static int event_of(struct ga_session *s, const void *payload, size_t len, struct ga_event *e)
{
	const struct ga_hdr *h = payload;

	if (len < sizeof(*h) || h->plan == 0 || h->plan >= s->nsites || h->len > len - sizeof(*h))
		return -EPROTO;
	*e = (struct ga_event){ &s->sites[h->plan], h, (const uint8_t *)(h + 1), h->len };
	return 0;
}

int ga_session_text(struct ga_session *s, FILE *f, const void *payload, size_t len)
{
	struct ga_resolver r = { s, rt_cb, func_cb };
	struct ga_event e;

	if (event_of(s, payload, len, &e))
		return -EPROTO;
	ga_format_text(f, &e, &r);
	return 0;
}

int ga_session_json(struct ga_session *s, FILE *f, const void *payload, size_t len)
{
	struct ga_resolver r = { s, rt_cb, func_cb };
	struct ga_event e;

	if (event_of(s, payload, len, &e))
		return -EPROTO;
	ga_format_json(f, &e, &r);
	return 0;
}
