// SPDX-License-Identifier: MIT
/*
 * profile.proto writer (see pprof.h).  Field numbers are those of
 * github.com/google/pprof proto/profile.proto; proto3, so zero scalars are
 * left out, and repeated scalars are packed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "output/outfile.h"
#include "output/pprof.h"

/* Profile */
#define PROFILE_SAMPLE_TYPE	1
#define PROFILE_SAMPLE		2
#define PROFILE_MAPPING		3
#define PROFILE_LOCATION	4
#define PROFILE_FUNCTION	5
#define PROFILE_STRING_TABLE	6
#define PROFILE_TIME_NANOS	9
#define PROFILE_DURATION_NANOS	10
#define PROFILE_PERIOD_TYPE	11
#define PROFILE_PERIOD		12
#define PROFILE_COMMENT		13
#define PROFILE_DEFAULT_SAMPLE_TYPE 14
/* ValueType */
#define VT_TYPE			1
#define VT_UNIT			2
/* Sample */
#define SAMPLE_LOCATION_ID	1
#define SAMPLE_VALUE		2
#define SAMPLE_LABEL		3
/* Label */
#define LABEL_KEY		1
#define LABEL_STR		2
/* Mapping */
#define MAP_ID			1
#define MAP_MEMORY_START	2
#define MAP_MEMORY_LIMIT	3
#define MAP_FILENAME		5
#define MAP_HAS_FUNCTIONS	7
#define MAP_HAS_FILENAMES	8
#define MAP_HAS_LINE_NUMBERS	9
#define MAP_HAS_INLINE_FRAMES	10
/* Location */
#define LOC_ID			1
#define LOC_MAPPING_ID		2
#define LOC_ADDRESS		3
#define LOC_LINE		4
/* Line */
#define LINE_FUNCTION_ID	1
#define LINE_LINE		2
/* Function */
#define FUNC_ID			1
#define FUNC_NAME		2
#define FUNC_SYSTEM_NAME	3
#define FUNC_FILENAME		4
#define FUNC_START_LINE		5

#define WT_VARINT	0
#define WT_LEN		2

struct sample {
	int64_t goid, calls, ns;
	char **labels;		/* nlabels key, value pairs (owned) */
	int nlabels;
	int n;
	uint32_t frames[];	/* outermost first */
};

struct pprof {
	struct pprof_opts o;
	struct sample **tab;	/* open addressing, NULL = empty */
	size_t cap, used;
	int64_t calls, ns, duration_ns;
};

/* A constructor's allocate-or-unwind, the same shape in every module. */
int pprof_new(const struct pprof_opts *opts, struct pprof **out)
{
	struct pprof *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->o = *opts;
	p->cap = 1024;
	p->tab = calloc(p->cap, sizeof(*p->tab));
	if (!p->tab) {
		free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void pprof_free(struct pprof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++) {
		for (int k = 0; p->tab[i] && k < 2 * p->tab[i]->nlabels; k++)
			free(p->tab[i]->labels[k]);
		if (p->tab[i])
			free(p->tab[i]->labels);
		free(p->tab[i]);
	}
	free(p->tab);
	free(p);
}

static uint64_t sample_hash(int64_t goid, const uint32_t *stack, int n)
{
	uint64_t h = (uint64_t)goid * 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;

	for (int i = 0; i < n; i++)
		h = (h ^ stack[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static bool sample_eq(const struct sample *s, int64_t goid, const uint32_t *stack, int n)
{
	return s->goid == goid && s->n == n && !memcmp(s->frames, stack, n * sizeof(*stack));
}

static int grow(struct pprof *p)
{
	size_t cap = p->cap * 2;
	struct sample **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		struct sample *s = p->tab[i];
		size_t k;

		if (!s)
			continue;
		for (k = sample_hash(s->goid, s->frames, s->n) & (cap - 1); t[k]; k = (k + 1) & (cap - 1))
			;
		t[k] = s;
	}
	free(p->tab);
	p->tab = t;
	p->cap = cap;
	return 0;
}

static int set_labels(struct sample *s, const char *const *labels, int nlabels)
{
	if (nlabels <= 0)
		return 0;
	s->labels = calloc(2 * nlabels, sizeof(*s->labels));
	if (!s->labels)
		return -ENOMEM;
	s->nlabels = nlabels;
	for (int k = 0; k < 2 * nlabels; k++)
		if (!(s->labels[k] = strdup(labels[k] ? labels[k] : "")))
			return -ENOMEM;
	return 0;
}

int pprof_add(struct pprof *p, int64_t goid, const uint32_t *stack, int n, int64_t calls,
	      int64_t ns)
{
	return pprof_add_labeled(p, goid, stack, n, calls, ns, NULL, 0);
}

int pprof_add_labeled(struct pprof *p, int64_t goid, const uint32_t *stack, int n, int64_t calls,
		      int64_t ns, const char *const *labels, int nlabels)
{
	struct sample *s;
	size_t i;

	if (n <= 0)
		return -EINVAL;
	if ((p->used + 1) * 2 > p->cap && grow(p))
		return -ENOMEM;
	for (i = sample_hash(goid, stack, n) & (p->cap - 1); p->tab[i]; i = (i + 1) & (p->cap - 1))
		if (sample_eq(p->tab[i], goid, stack, n))
			break;
	s = p->tab[i];
	if (!s) {
		s = calloc(1, sizeof(*s) + n * sizeof(*stack));
		if (!s)
			return -ENOMEM;
		s->goid = goid;
		s->n = n;
		memcpy(s->frames, stack, n * sizeof(*stack));
		p->tab[i] = s;
		p->used++;
		if (set_labels(s, labels, nlabels))
			return -ENOMEM;
	}
	s->calls += calls;
	s->ns += ns;
	p->calls += calls;
	p->ns += ns;
	return 0;
}

void pprof_totals(const struct pprof *p, int64_t *calls, int64_t *ns)
{
	*calls = p->calls;
	*ns = p->ns;
}

void pprof_set_duration(struct pprof *p, int64_t duration_ns)
{
	p->duration_ns = duration_ns;
}

/* --- encoder --- */

struct pb {
	uint8_t *b;
	size_t n, cap;
	bool oom;
};

static void pb_put(struct pb *pb, const void *d, size_t len)
{
	if (pb->oom)
		return;
	if (pb->n + len > pb->cap) {
		size_t cap = pb->cap ? pb->cap : 256;
		uint8_t *b;

		while (cap < pb->n + len)
			cap *= 2;
		b = realloc(pb->b, cap);
		if (!b) {
			pb->oom = true;
			return;
		}
		pb->b = b;
		pb->cap = cap;
	}
	memcpy(pb->b + pb->n, d, len);
	pb->n += len;
}

static void pb_varint(struct pb *pb, uint64_t v)
{
	uint8_t b[10];
	int n = 0;

	do {
		b[n] = v & 0x7f;
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	pb_put(pb, b, n);
}

static void pb_tag(struct pb *pb, int field, int wt)
{
	pb_varint(pb, (uint64_t)field << 3 | wt);
}

/* int64 and uint64 fields: two's complement varint; zero left out */
static void pb_int(struct pb *pb, int field, uint64_t v)
{
	if (!v)
		return;
	pb_tag(pb, field, WT_VARINT);
	pb_varint(pb, v);
}

static void pb_bytes(struct pb *pb, int field, const void *d, size_t len)
{
	pb_tag(pb, field, WT_LEN);
	pb_varint(pb, len);
	pb_put(pb, d, len);
}

/* Append sub as an embedded message and empty it for reuse. */
static void pb_msg(struct pb *pb, int field, struct pb *sub)
{
	if (sub->oom)
		pb->oom = true;
	pb_bytes(pb, field, sub->b, sub->n);
	sub->n = 0;
}

/* The string table: index 0 is "", as profile.proto requires.  Entries
 * are copies (goid strings are formatted into a scratch buffer). */
struct strtab {
	char **s;
	size_t n, cap;		/* entries */
	uint32_t *h;		/* open addressing: index + 1, 0 = empty */
	size_t hcap;
	bool oom;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int64_t str_idx(struct strtab *t, const char *s)
{
	size_t i;

	if (!s)
		s = "";
	if ((t->n + 1) * 2 > t->hcap) {
		size_t hcap = t->hcap ? t->hcap * 2 : 256;
		uint32_t *h = calloc(hcap, sizeof(*h));

		if (!h) {
			t->oom = true;
			return 0;
		}
		for (size_t j = 0; j < t->n; j++) {
			size_t k;

			for (k = str_hash(t->s[j]) & (hcap - 1); h[k]; k = (k + 1) & (hcap - 1))
				;
			h[k] = j + 1;
		}
		free(t->h);
		t->h = h;
		t->hcap = hcap;
	}
	for (i = str_hash(s) & (t->hcap - 1); t->h[i]; i = (i + 1) & (t->hcap - 1))
		if (!strcmp(t->s[t->h[i] - 1], s))
			return t->h[i] - 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char **ns = realloc(t->s, cap * sizeof(*ns));

		if (!ns) {
			t->oom = true;
			return 0;
		}
		t->s = ns;
		t->cap = cap;
	}
	t->s[t->n] = strdup(s);
	if (!t->s[t->n]) {
		t->oom = true;
		return 0;
	}
	t->h[i] = ++t->n;
	return t->n - 1;
}

static void put_value_type(struct pb *pb, struct pb *sub, struct strtab *st, int field,
			   const char *type, const char *unit)
{
	pb_int(sub, VT_TYPE, str_idx(st, type));
	pb_int(sub, VT_UNIT, str_idx(st, unit));
	pb_msg(pb, field, sub);
}

static bool same_func(const struct pprof_func *a, const struct pprof_func *b)
{
	return !strcmp(a->name ? a->name : "?", b->name ? b->name : "?") &&
	       !strcmp(a->file ? a->file : "", b->file ? b->file : "");
}

/* Positions mode: the used positions of one name and file share the
 * Function of the first of them (fid), whose start line is their least.
 * Quadratic in the worst case only over positions of one hash chain. */
static void share_functions(const struct pprof *p, const bool *used, uint32_t *fid)
{
	size_t cap = 1024;
	uint32_t *h;

	while (cap < 2 * (size_t)p->o.nfuncs)
		cap *= 2;
	h = calloc(cap, sizeof(*h));
	if (!h)
		return; /* each position its own Function: still a valid profile */
	for (uint32_t f = 0; f < p->o.nfuncs; f++) {
		const struct pprof_func *fn = &p->o.funcs[f];
		size_t k;

		if (!used[f])
			continue;
		k = (str_hash(fn->name ? fn->name : "?") ^ str_hash(fn->file ? fn->file : "")) &
		    (cap - 1);
		for (; h[k]; k = (k + 1) & (cap - 1)) {
			if (same_func(&p->o.funcs[h[k] - 1], fn)) {
				fid[f] = h[k] - 1;
				break;
			}
		}
		if (!h[k])
			h[k] = f + 1;
	}
	free(h);
}

/* The buffers of one encoding: the profile, scratch messages, strings. */
struct enc {
	struct pb pb, sub, sub2, packed;
	struct strtab st;
};

/* One Sample per (goroutine, stack): location ids leaf first (location id
 * = function index + 1), the values, the goroutine and other labels.
 * Marks the positions used. */
static void put_samples(const struct pprof *p, struct enc *e, bool *used)
{
	uint32_t unknown = p->o.nfuncs;	/* id of "?" */
	char gbuf[32];

	for (size_t i = 0; i < p->cap; i++) {
		const struct sample *s = p->tab[i];

		if (!s)
			continue;
		for (int k = s->n - 1; k >= 0; k--) {
			uint32_t f = s->frames[k] < p->o.nfuncs ? s->frames[k] : unknown;

			used[f] = true;
			pb_varint(&e->packed, (uint64_t)f + 1);
		}
		pb_msg(&e->sub, SAMPLE_LOCATION_ID, &e->packed);
		pb_varint(&e->packed, (uint64_t)s->calls);
		if (!p->o.sample_type)
			pb_varint(&e->packed, (uint64_t)s->ns);
		pb_msg(&e->sub, SAMPLE_VALUE, &e->packed);
		snprintf(gbuf, sizeof(gbuf), "%lld", (long long)s->goid);
		pb_int(&e->sub2, LABEL_KEY, str_idx(&e->st, "goroutine"));
		pb_int(&e->sub2, LABEL_STR, str_idx(&e->st, gbuf));
		pb_msg(&e->sub, SAMPLE_LABEL, &e->sub2);
		for (int k = 0; k < s->nlabels; k++) {
			pb_int(&e->sub2, LABEL_KEY, str_idx(&e->st, s->labels[2 * k]));
			pb_int(&e->sub2, LABEL_STR, str_idx(&e->st, s->labels[2 * k + 1]));
			pb_msg(&e->sub, SAMPLE_LABEL, &e->sub2);
		}
		pb_msg(&e->pb, PROFILE_SAMPLE, &e->sub);
	}
}

/* The binary's Mapping: link-time addresses, so the identity.  All has_*
 * set: the profile is symbolized, pprof must not try. */
static void put_mapping(const struct pprof *p, struct enc *e)
{
	uint64_t hi = 0;

	for (uint32_t f = 0; f < p->o.nfuncs; f++)
		if (p->o.funcs[f].addr > hi)
			hi = p->o.funcs[f].addr;
	pb_int(&e->sub, MAP_ID, 1);
	pb_int(&e->sub, MAP_MEMORY_START, 0);
	pb_int(&e->sub, MAP_MEMORY_LIMIT, hi + 1);
	pb_int(&e->sub, MAP_FILENAME, str_idx(&e->st, p->o.binary));
	pb_int(&e->sub, MAP_HAS_FUNCTIONS, 1);
	pb_int(&e->sub, MAP_HAS_FILENAMES, 1);
	pb_int(&e->sub, MAP_HAS_LINE_NUMBERS, 1);
	pb_int(&e->sub, MAP_HAS_INLINE_FRAMES, 1);
	pb_msg(&e->pb, PROFILE_MAPPING, &e->sub);
}

/* A Location per used position (one per function at its entry, or one per
 * position), and a Function per distinct fid. */
static void put_locations(const struct pprof *p, struct enc *e, const bool *used,
			  const uint32_t *fid, const int *start_line)
{
	for (uint32_t f = 0; f <= p->o.nfuncs; f++) {
		const struct pprof_func *fn = f < p->o.nfuncs ? &p->o.funcs[f] : NULL;
		const char *name = fn && fn->name ? fn->name : "?";
		int64_t ni;

		if (!used[f])
			continue;
		pb_int(&e->sub, LOC_ID, (uint64_t)f + 1);
		pb_int(&e->sub, LOC_MAPPING_ID, p->o.binary ? 1 : 0);
		pb_int(&e->sub, LOC_ADDRESS, fn ? fn->addr : 0);
		pb_int(&e->sub2, LINE_FUNCTION_ID, (uint64_t)fid[f] + 1);
		pb_int(&e->sub2, LINE_LINE, fn && fn->line > 0 ? fn->line : 0);
		pb_msg(&e->sub, LOC_LINE, &e->sub2);
		pb_msg(&e->pb, PROFILE_LOCATION, &e->sub);
		if (fid[f] != f)
			continue;
		ni = str_idx(&e->st, name);
		pb_int(&e->sub, FUNC_ID, (uint64_t)f + 1);
		pb_int(&e->sub, FUNC_NAME, ni);
		pb_int(&e->sub, FUNC_SYSTEM_NAME, ni);
		pb_int(&e->sub, FUNC_FILENAME, str_idx(&e->st, fn ? fn->file : NULL));
		pb_int(&e->sub, FUNC_START_LINE, fn && fn->line > 0 ? start_line[f] : 0);
		pb_msg(&e->pb, PROFILE_FUNCTION, &e->sub);
	}
}

/* The sample types, and after the rest the period, comments, default
 * type and the string table. */
static void put_types(const struct pprof *p, struct enc *e, int field)
{
	if (p->o.sample_type) {
		put_value_type(&e->pb, &e->sub, &e->st, field, p->o.sample_type, p->o.sample_unit);
	} else {
		if (field == PROFILE_SAMPLE_TYPE)
			put_value_type(&e->pb, &e->sub, &e->st, field, "calls", "count");
		put_value_type(&e->pb, &e->sub, &e->st, field, "time", "nanoseconds");
	}
}

static void put_trailer(const struct pprof *p, struct enc *e)
{
	pb_int(&e->pb, PROFILE_TIME_NANOS, p->o.time_ns);
	pb_int(&e->pb, PROFILE_DURATION_NANOS, p->duration_ns);
	put_types(p, e, PROFILE_PERIOD_TYPE);
	pb_int(&e->pb, PROFILE_PERIOD, 1);
	for (int i = 0; i < p->o.ncomments; i++)
		pb_int(&e->pb, PROFILE_COMMENT, str_idx(&e->st, p->o.comments[i]));
	pb_int(&e->pb, PROFILE_DEFAULT_SAMPLE_TYPE,
	       str_idx(&e->st, p->o.sample_type ? p->o.sample_type : "time"));
	for (size_t i = 0; i < e->st.n; i++)
		pb_bytes(&e->pb, PROFILE_STRING_TABLE, e->st.s[i], strlen(e->st.s[i]));
}

int pprof_encode(const struct pprof *p, uint8_t **buf, size_t *len)
{
	struct enc e = {};
	bool *used = calloc(p->o.nfuncs + 1, sizeof(*used));
	uint32_t *fid = calloc(p->o.nfuncs + 1, sizeof(*fid));
	int *start_line = calloc(p->o.nfuncs + 1, sizeof(*start_line));
	int err = 0;

	*buf = NULL;
	*len = 0;
	if (!used || !fid || !start_line) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t f = 0; f <= p->o.nfuncs; f++) {
		fid[f] = f;
		start_line[f] = f < p->o.nfuncs ? p->o.funcs[f].line : 0;
	}
	str_idx(&e.st, "");
	put_types(p, &e, PROFILE_SAMPLE_TYPE);
	put_samples(p, &e, used);
	if (p->o.binary)
		put_mapping(p, &e);
	if (p->o.positions) {
		share_functions(p, used, fid);
		for (uint32_t f = 0; f < p->o.nfuncs; f++)
			if (used[f] && fid[f] != f && p->o.funcs[f].line > 0 &&
			    p->o.funcs[f].line < start_line[fid[f]])
				start_line[fid[f]] = p->o.funcs[f].line;
	}
	put_locations(p, &e, used, fid, start_line);
	put_trailer(p, &e);
	if (e.pb.oom || e.sub.oom || e.sub2.oom || e.packed.oom || e.st.oom) {
		err = -ENOMEM;
		free(e.pb.b);
	} else {
		*buf = e.pb.b;
		*len = e.pb.n;
	}
out:
	for (size_t i = 0; i < e.st.n; i++)
		free(e.st.s[i]);
	free(e.st.s);
	free(e.st.h);
	free(e.sub.b);
	free(e.sub2.b);
	free(e.packed.b);
	free(used);
	free(fid);
	free(start_line);
	return err;
}

int pprof_write(const struct pprof *p, struct gt_outfile *f)
{
	uint8_t *buf;
	size_t len;
	gzFile gz;
	int err;

	err = pprof_encode(p, &buf, &len);
	if (err) {
		gt_outfile_abort(f);
		return err;
	}
	gz = gt_outfile_gzdopen(f, true);
	err = gz ? gt_gzwrite_all(gz, buf, len) : -errno;
	free(buf);
	if (gz) {
		int e = gt_gzclose(gz);

		err = err ? err : e;
	}
	if (err) {
		gt_outfile_abort(f);
		return err;
	}
	return gt_outfile_commit(f);
}
