// SPDX-License-Identifier: MIT
/*
 * Chrome Trace Event JSON writer: see chrome_trace.h for the contract.
 *
 * Everything is buffered until close because callers learn about a slice
 * when it ends (states and calls arrive in end order) while viewers want
 * each track sorted by start.  Memory per slice: one 32-byte struct ct_ev;
 * names, categories and string-only args are JSON-escaped once and
 * interned, so a million calls of the same function cost one string; args
 * holding numbers (nearly always unique: durations, depths) are appended to
 * an arena instead, at their length plus one byte.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "output/chrome_trace.h"
#include "output/chrome_trace_internal.h"
#include "output/outfile.h"
#include "output/speedscope.h"

#define CT_OUTBUF (64 * 1024)
/* Bytes of one slice's JSON besides its strings, for the size estimate:
 * {"ph":"X","pid":1,"tid":12,"ts":123456.789,"dur":12.345,"name":"",
 * "cat":"","args":{"goid":123}},\n */
#define CT_EV_OVERHEAD 96
/* A flow is two events of about this size each. */
#define CT_FLOW_OVERHEAD 90
/* ct_ev.args: the fragment is in the arena at this offset. */
#define CT_ARENA 0x80000000u
/* Don't scan more children than this looking for a free point in a slice. */
#define CT_GAP_SCAN 4096

/* --- strings ------------------------------------------------------------ */

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* JSON-escape s into a new string.  Invalid UTF-8 bytes become U+FFFD so
 * the output is always valid JSON text. */
static char *json_escape(const char *s, size_t *lenp)
{
	size_t n = strlen(s), cap = n * 6 + 1, o = 0;
	char *d = malloc(cap);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;

		if (c == '"' || c == '\\') {
			d[o++] = '\\';
			d[o++] = c;
			i++;
		} else if (c < 0x20) {
			static const char short_esc[] = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
							  ['\r'] = 'r', ['\t'] = 't' };
			if (c < sizeof(short_esc) && short_esc[c]) {
				d[o++] = '\\';
				d[o++] = short_esc[c];
			} else {
				o += sprintf(d + o, "\\u%04x", c);
			}
			i++;
		} else if ((l = utf8_len((const unsigned char *)s + i, n - i))) {
			memcpy(d + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(d + o, "\\ufffd", 6);
			o += 6;
			i++;
		}
	}
	d[o] = 0;
	*lenp = o;
	return d;
}

/* Both hash indexes (strings, goroutines) map a hash to an entry index + 1
 * with linear probing; growing rebuilds one from its entries' hashes. */
static int index_grow(struct chrome_trace *ct, uint32_t **tab, uint32_t *capp, uint32_t min_cap,
		      uint32_t n, uint32_t (*hash_of)(const struct chrome_trace *, uint32_t))
{
	uint32_t cap = *capp ? *capp * 2 : min_cap;
	uint32_t *h = calloc(cap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = hash_of(ct, k) & (cap - 1);

		while (h[i])
			i = (i + 1) & (cap - 1);
		h[i] = k + 1;
	}
	free(*tab);
	*tab = h;
	*capp = cap;
	return 0;
}

static uint32_t str_hash_of(const struct chrome_trace *ct, uint32_t id)
{
	return ct->strs[id].hash;
}

static int str_hash_grow(struct chrome_trace *ct)
{
	return index_grow(ct, &ct->str_hash, &ct->str_hash_cap, 1024, ct->nr_strs, str_hash_of);
}

/* Intern an already escaped string (takes ownership of esc). */
static int intern_escaped(struct chrome_trace *ct, char *esc, size_t len, uint32_t *idp)
{
	uint32_t h = hash_bytes(esc, len), i;

	if ((ct->nr_strs + 1) * 2 > ct->str_hash_cap && str_hash_grow(ct)) {
		free(esc);
		return -ENOMEM;
	}
	for (i = h & (ct->str_hash_cap - 1); ct->str_hash[i]; i = (i + 1) & (ct->str_hash_cap - 1)) {
		struct ct_str *s = &ct->strs[ct->str_hash[i] - 1];

		if (s->hash == h && s->len == len && !memcmp(s->s, esc, len)) {
			free(esc);
			*idp = ct->str_hash[i] - 1;
			return 0;
		}
	}
	if (ct->nr_strs == ct->cap_strs) {
		uint32_t cap = ct->cap_strs ? ct->cap_strs * 2 : 256;
		/* ids must fit struct ct_ev's 31-bit cat field */
		struct ct_str *n = cap <= (1u << 31) ? realloc(ct->strs, cap * sizeof(*n)) : NULL;

		if (!n) {
			free(esc);
			return -ENOMEM;
		}
		ct->strs = n;
		ct->cap_strs = cap;
	}
	ct->strs[ct->nr_strs] = (struct ct_str){ .s = esc, .len = len, .hash = h };
	ct->str_hash[i] = ct->nr_strs + 1;
	*idp = ct->nr_strs++;
	return 0;
}

static int intern(struct chrome_trace *ct, const char *s, uint32_t *idp)
{
	size_t len;
	char *esc = json_escape(s ? s : "", &len);

	if (!esc)
		return -ENOMEM;
	return intern_escaped(ct, esc, len, idp);
}

/* Append a fragment (taking ownership of buf) to the arena. */
static int arena_add(struct chrome_trace *ct, char *buf, size_t len, uint32_t *idp)
{
	if (ct->arena_len + len + 1 > ct->arena_cap) {
		size_t cap = ct->arena_cap ? ct->arena_cap * 2 : 64 * 1024;
		char *n;

		while (cap < ct->arena_len + len + 1)
			cap *= 2;
		/* offsets must fit below CT_ARENA */
		n = cap <= CT_ARENA ? realloc(ct->arena, cap) : NULL;
		if (!n) {
			free(buf);
			return -ENOMEM;
		}
		ct->arena = n;
		ct->arena_cap = cap;
	}
	memcpy(ct->arena + ct->arena_len, buf, len + 1);
	*idp = CT_ARENA | (uint32_t)ct->arena_len;
	ct->arena_len += len + 1;
	free(buf);
	return 0;
}

static const char *args_str(const struct chrome_trace *ct, uint32_t id, size_t *lenp)
{
	const char *s;

	if (!(id & CT_ARENA)) {
		*lenp = ct->strs[id].len;
		return ct->strs[id].s;
	}
	s = ct->arena + (id & ~CT_ARENA);
	*lenp = strlen(s);
	return s;
}

/* The args fragment `"k":"v","k2":12` (goid is added when written). */
static int intern_args(struct chrome_trace *ct, const struct chrome_trace_arg *args,
		       size_t nr_args, uint32_t *idp)
{
	size_t cap = 1, len = 0;
	bool numbers = false;
	char *buf, *p;

	*idp = 0;
	if (!nr_args)
		return 0;
	for (size_t i = 0; i < nr_args; i++) {
		if (!args[i].key)
			return -EINVAL;
		cap += 6 * strlen(args[i].key) + 8 + (args[i].str ? 6 * strlen(args[i].str) : 24) +
		       (args[i].json ? strlen(args[i].json) : 0);
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < nr_args; i++) {
		size_t kl, vl;
		char *k = json_escape(args[i].key, &kl), *v = NULL;

		if (!k || (args[i].str && !(v = json_escape(args[i].str, &vl)))) {
			free(k);
			free(buf);
			return -ENOMEM;
		}
		p = buf + len;
		if (args[i].json)
			len += sprintf(p, "%s\"%s\":%s", i ? "," : "", k, args[i].json);
		else if (v)
			len += sprintf(p, "%s\"%s\":\"%s\"", i ? "," : "", k, v);
		else
			len += sprintf(p, "%s\"%s\":%lld", i ? "," : "", k, (long long)args[i].num);
		numbers |= !v;
		free(k);
		free(v);
	}
	return numbers ? arena_add(ct, buf, len, idp) : intern_escaped(ct, buf, len, idp);
}

/* --- goroutines --------------------------------------------------------- */

static uint32_t hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (uint32_t)v;
}

static uint32_t gor_hash_of(const struct chrome_trace *ct, uint32_t g)
{
	return hash_u64(ct->gors[g].goid);
}

static int gor_hash_grow(struct chrome_trace *ct)
{
	return index_grow(ct, &ct->gor_hash, &ct->gor_hash_cap, 256, ct->nr_gors, gor_hash_of);
}

/* The index of goid's record, created if new.  Returns 0 or -ENOMEM. */
static int gor_get(struct chrome_trace *ct, uint64_t goid, uint32_t *idxp)
{
	uint32_t i;

	if ((ct->nr_gors + 1) * 2 > ct->gor_hash_cap && gor_hash_grow(ct))
		return -ENOMEM;
	for (i = hash_u64(goid) & (ct->gor_hash_cap - 1); ct->gor_hash[i];
	     i = (i + 1) & (ct->gor_hash_cap - 1)) {
		if (ct->gors[ct->gor_hash[i] - 1].goid == goid) {
			*idxp = ct->gor_hash[i] - 1;
			return 0;
		}
	}
	if (ct->nr_gors == ct->cap_gors) {
		uint32_t cap = ct->cap_gors ? ct->cap_gors * 2 : 64;
		/* two tids per goroutine must fit a uint32 */
		struct ct_gor *n = cap < (1u << 30) ? realloc(ct->gors, cap * sizeof(*n)) : NULL;

		if (!n)
			return -ENOMEM;
		ct->gors = n;
		ct->cap_gors = cap;
	}
	ct->gors[ct->nr_gors] = (struct ct_gor){ .goid = goid };
	ct->gor_hash[i] = ct->nr_gors + 1;
	*idxp = ct->nr_gors++;
	ct->stats.goroutines = ct->nr_gors;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool chrome_trace_wants_goid(const struct chrome_trace *ct, uint64_t goid)
{
	if (!ct || !ct->goids)
		return true;
	return bsearch(&goid, ct->goids, ct->nr_goids, sizeof(goid), cmp_u64) != NULL;
}

/* --- open --------------------------------------------------------------- */

bool ct_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static char *dup_opt(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

static void ct_free(struct chrome_trace *ct)
{
	if (!ct)
		return;
	for (uint32_t i = 0; i < ct->nr_strs; i++)
		free(ct->strs[i].s);
	free(ct->strs);
	free(ct->str_hash);
	free(ct->gors);
	free(ct->gor_hash);
	free(ct->evs);
	free(ct->flows);
	free(ct->arena);
	for (size_t i = 0; i < ct->nr_meta; i++) {
		free(ct->meta[i].key);
		free(ct->meta[i].value);
	}
	free(ct->meta);
	free(ct->goids);
	free((char *)ct->opts.binary);
	free((char *)ct->opts.go_version);
	free((char *)ct->opts.command_line);
	free((char *)ct->opts.process_name);
	gt_gzclose(ct->gz);
	gt_outfile_abort(ct->file);
	gt_outfile_abort(ct->opts.speedscope);
	free(ct->out);
	free(ct);
}

int chrome_trace_open(struct chrome_trace **ctp, struct gt_outfile *file,
		      const struct chrome_trace_opts *opts)
{
	struct chrome_trace_opts none = {};
	struct chrome_trace *ct;
	bool fail = false;
	uint32_t id;
	int err;

	if (!opts)
		opts = &none;
	if (!ctp || !file) {
		gt_outfile_abort(file);
		gt_outfile_abort(opts->speedscope);
		return -EINVAL;
	}
	*ctp = NULL;
	ct = calloc(1, sizeof(*ct));
	if (!ct) {
		gt_outfile_abort(file);
		gt_outfile_abort(opts->speedscope);
		return -ENOMEM;
	}
	ct->file = file;
	ct->opts = *opts;
	ct->opts.goids = NULL;
	ct->opts.binary = dup_opt(opts->binary, &fail);
	ct->opts.go_version = dup_opt(opts->go_version, &fail);
	ct->opts.command_line = dup_opt(opts->command_line, &fail);
	ct->opts.process_name = dup_opt(opts->process_name, &fail);
	ct->out = malloc(CT_OUTBUF);
	ct->min_ts = UINT64_MAX;
	if (fail || !ct->out) {
		err = -ENOMEM;
		goto fail;
	}
	if (opts->goids && opts->nr_goids) {
		ct->goids = malloc(opts->nr_goids * sizeof(*ct->goids));
		if (!ct->goids) {
			err = -ENOMEM;
			goto fail;
		}
		memcpy(ct->goids, opts->goids, opts->nr_goids * sizeof(*ct->goids));
		qsort(ct->goids, opts->nr_goids, sizeof(*ct->goids), cmp_u64);
		ct->nr_goids = opts->nr_goids;
	}
	/* string 0 is "", then the default categories */
	if ((err = intern(ct, "", &id)) || (err = intern(ct, "state", &ct->sid_state)) ||
	    (err = intern(ct, "call", &ct->sid_call)) || (err = intern(ct, "flow", &ct->sid_flow)))
		goto fail;
	ct->est_bytes = 256;
	*ctp = ct;
	return 0;
fail:
	ct_free(ct);
	return err;
}

int chrome_trace_set_start(struct chrome_trace *ct, uint64_t start_ns)
{
	if (!ct)
		return -EINVAL;
	ct->opts.start_ns = start_ns;
	return 0;
}

int chrome_trace_set_meta(struct chrome_trace *ct, const char *key, const char *value)
{
	struct ct_meta *m;
	size_t kl, vl;

	if (!ct || !key || !value)
		return -EINVAL;
	m = realloc(ct->meta, (ct->nr_meta + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	ct->meta = m;
	m = &ct->meta[ct->nr_meta];
	m->key = json_escape(key, &kl);
	m->value = json_escape(value, &vl);
	if (!m->key || !m->value) {
		free(m->key);
		free(m->value);
		return -ENOMEM;
	}
	ct->nr_meta++;
	ct->est_bytes += kl + vl + 8;
	return 0;
}

int chrome_trace_goroutine(struct chrome_trace *ct, uint64_t goid, const char *start_func)
{
	uint32_t idx, id = 0;
	int err;

	if (!ct)
		return -EINVAL;
	if (!chrome_trace_wants_goid(ct, goid))
		return 0;
	if ((err = gor_get(ct, goid, &idx)))
		return err;
	if (start_func && *start_func && (err = intern(ct, start_func, &id)))
		return err;
	ct->gors[idx].start_func = id;
	return 0;
}

/* --- events ------------------------------------------------------------- */

static void see_time(struct chrome_trace *ct, uint64_t *t)
{
	if (ct->opts.start_ns && *t < ct->opts.start_ns)
		*t = ct->opts.start_ns;
	if (*t < ct->min_ts)
		ct->min_ts = *t;
}

static int add_ev(struct chrome_trace *ct, uint64_t goid, enum chrome_trace_track track,
		  uint64_t start, uint64_t end, const char *name, const char *cat,
		  const struct chrome_trace_arg *args, size_t nr_args, bool instant)
{
	struct ct_ev *e;
	uint32_t idx, name_id, cat_id, args_id;
	size_t args_len;
	int err;

	if (!ct || !name || !*name || end < start ||
	    (track != CHROME_TRACE_STATES && track != CHROME_TRACE_CALLS) || (nr_args && !args))
		return -EINVAL;
	if (!chrome_trace_wants_goid(ct, goid) ||
	    (!instant && end - start < ct->opts.min_dur_ns)) {
		ct->stats.filtered++;
		return 0;
	}
	if (ct->opts.max_events && ct->nr_evs >= ct->opts.max_events) {
		ct->stats.dropped++;
		return -E2BIG;
	}
	if (ct->nr_evs == ct->cap_evs) {
		size_t cap = ct->cap_evs ? ct->cap_evs * 2 : 4096;
		/* events are indexed with uint32_t when sorted */
		struct ct_ev *n = cap <= UINT32_MAX ? realloc(ct->evs, cap * sizeof(*n)) : NULL;

		if (!n)
			return -ENOMEM;
		ct->evs = n;
		ct->cap_evs = cap;
	}
	if ((err = gor_get(ct, goid, &idx)) || (err = intern(ct, name, &name_id)) ||
	    (err = intern_args(ct, args, nr_args, &args_id)))
		return err;
	if (cat)
		err = intern(ct, cat, &cat_id);
	else
		cat_id = track == CHROME_TRACE_STATES ? ct->sid_state : ct->sid_call;
	if (err)
		return err;
	see_time(ct, &start);
	see_time(ct, &end);
	e = &ct->evs[ct->nr_evs++];
	*e = (struct ct_ev){ .ts = start, .dur = end - start, .name = name_id, .args = args_id,
			     .track = idx * 2 + track, .cat = cat_id, .instant = instant };
	ct->gors[idx].nev[track]++;
	if (instant)
		ct->stats.instants++;
	else
		ct->stats.slices++;
	args_str(ct, args_id, &args_len);
	ct->est_bytes += CT_EV_OVERHEAD + ct->strs[name_id].len + ct->strs[cat_id].len +
			 args_len + (args_id ? 1 : 0);
	return 0;
}

int chrome_trace_slice(struct chrome_trace *ct, uint64_t goid, enum chrome_trace_track track,
		       uint64_t start_ns, uint64_t end_ns, const char *name, const char *cat,
		       const struct chrome_trace_arg *args, size_t nr_args)
{
	return add_ev(ct, goid, track, start_ns, end_ns, name, cat, args, nr_args, false);
}

int chrome_trace_instant(struct chrome_trace *ct, uint64_t goid, enum chrome_trace_track track,
			 uint64_t ts_ns, const char *name, const char *cat,
			 const struct chrome_trace_arg *args, size_t nr_args)
{
	return add_ev(ct, goid, track, ts_ns, ts_ns, name, cat, args, nr_args, true);
}

int chrome_trace_state(struct chrome_trace *ct, uint64_t goid, uint64_t start_ns,
		       uint64_t end_ns, const char *state, const char *reason)
{
	struct chrome_trace_arg args[2] = { { "state", state }, { "reason", reason } };
	char *name = NULL;
	int err;

	if (!state || !*state)
		return -EINVAL;
	if (reason && *reason) {
		if (asprintf(&name, "%s: %s", state, reason) < 0)
			return -ENOMEM;
	}
	err = add_ev(ct, goid, CHROME_TRACE_STATES, start_ns, end_ns, name ? name : state,
		     NULL, args, name ? 2 : 1, false);
	free(name);
	return err;
}

int chrome_trace_flow(struct chrome_trace *ct, const char *name,
		      uint64_t from_goid, enum chrome_trace_track from_track, uint64_t from_ns,
		      uint64_t to_goid, enum chrome_trace_track to_track, uint64_t to_ns)
{
	struct ct_flow *f;
	uint32_t from_idx, to_idx, name_id;
	int err;

	if (!ct || !name || !*name || from_track > CHROME_TRACE_CALLS ||
	    to_track > CHROME_TRACE_CALLS)
		return -EINVAL;
	if (!chrome_trace_wants_goid(ct, from_goid) || !chrome_trace_wants_goid(ct, to_goid)) {
		ct->stats.filtered++;
		return 0;
	}
	if (ct->nr_flows == ct->cap_flows) {
		size_t cap = ct->cap_flows ? ct->cap_flows * 2 : 1024;
		struct ct_flow *n = realloc(ct->flows, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ct->flows = n;
		ct->cap_flows = cap;
	}
	if ((err = gor_get(ct, from_goid, &from_idx)) || (err = gor_get(ct, to_goid, &to_idx)) ||
	    (err = intern(ct, name, &name_id)))
		return err;
	see_time(ct, &from_ns);
	see_time(ct, &to_ns);
	f = &ct->flows[ct->nr_flows++];
	*f = (struct ct_flow){ .from_ns = from_ns, .to_ns = to_ns, .from_track = from_idx * 2 + from_track,
			       .to_track = to_idx * 2 + to_track, .name = name_id };
	ct->stats.flows++;
	ct->est_bytes += 2 * (CT_FLOW_OVERHEAD + ct->strs[name_id].len);
	return 0;
}

uint64_t chrome_trace_estimate_size(const struct chrome_trace *ct)
{
	return ct ? ct->est_bytes + (uint64_t)ct->nr_gors * 2 * 200 : 0;
}

void chrome_trace_count_lost(struct chrome_trace *ct, uint64_t n)
{
	if (ct)
		ct->stats.lost += n;
}

void chrome_trace_stats(const struct chrome_trace *ct, struct chrome_trace_stats *stats)
{
	if (ct && stats)
		*stats = ct->stats;
}

/* --- output ------------------------------------------------------------- */

void ct_out_flush(struct chrome_trace *ct)
{
	if (ct->out_len && !ct->err)
		ct->err = gt_gzwrite_all(ct->gz, ct->out, ct->out_len);
	ct->out_len = 0;
}

int ct_out_begin(struct chrome_trace *ct, struct gt_outfile *f, bool gzip)
{
	ct->err = 0;
	ct->out_len = 0;
	ct->gz = gt_outfile_gzdopen(f, gzip || ct_ends_with(gt_outfile_path(f), ".gz"));
	return ct->gz ? 0 : -errno;
}

int ct_out_end(struct chrome_trace *ct, struct gt_outfile *f, int err)
{
	int e;

	if (!err) {
		ct_out_flush(ct);
		err = ct->err;
	}
	e = gt_gzclose(ct->gz);
	ct->gz = NULL;
	if (!err)
		err = e;
	if (err) {
		gt_outfile_abort(f);
		return err;
	}
	return gt_outfile_commit(f);
}

void ct_out_mem(struct chrome_trace *ct, const char *s, size_t n)
{
	while (n) {
		size_t room = CT_OUTBUF - ct->out_len, k = n < room ? n : room;

		memcpy(ct->out + ct->out_len, s, k);
		ct->out_len += k;
		s += k;
		n -= k;
		if (ct->out_len == CT_OUTBUF)
			ct_out_flush(ct);
	}
}

void ct_out_str(struct chrome_trace *ct, const char *s)
{
	ct_out_mem(ct, s, strlen(s));
}

/* A quoted interned string. */
void ct_out_sid(struct chrome_trace *ct, uint32_t id)
{
	ct_out_mem(ct, "\"", 1);
	ct_out_mem(ct, ct->strs[id].s, ct->strs[id].len);
	ct_out_mem(ct, "\"", 1);
}

void ct_out_u64(struct chrome_trace *ct, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	ct_out_mem(ct, p, buf + sizeof(buf) - p);
}

/* ns as microseconds with exactly 3 decimals, from integers. */
static void ct_out_us(struct chrome_trace *ct, uint64_t ns)
{
	char frac[4] = { '.', '0' + ns / 100 % 10, '0' + ns / 10 % 10, '0' + ns % 10 };

	ct_out_u64(ct, ns / 1000);
	ct_out_mem(ct, frac, 4);
}

/* Escaped copy of a plain C string, quoted. */
void ct_out_cstr(struct chrome_trace *ct, const char *s)
{
	size_t len;
	char *e = json_escape(s, &len);

	if (!e) {
		if (!ct->err)
			ct->err = -ENOMEM;
		return;
	}
	ct_out_mem(ct, "\"", 1);
	ct_out_mem(ct, e, len);
	ct_out_mem(ct, "\"", 1);
	free(e);
}

static void ct_out_ev_head(struct chrome_trace *ct, const char *ph, uint32_t tid, uint64_t ts)
{
	ct_out_str(ct, ",\n{\"ph\":\"");
	ct_out_str(ct, ph);
	ct_out_str(ct, "\",\"pid\":1,\"tid\":");
	ct_out_u64(ct, tid);
	ct_out_str(ct, ",\"ts\":");
	ct_out_us(ct, ts);
}

/* --- close: sort, nest, resolve flows, write ------------------------------ */


static __thread struct chrome_trace *sort_ct;

static uint32_t ev_tid(const struct chrome_trace *ct, uint32_t track)
{
	return (ct->gors[track / 2].rank - 1) * 2 + (track & 1) + 1;
}

static int cmp_ev(const void *a, const void *b)
{
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	const struct ct_ev *x = &sort_ct->evs[ia], *y = &sort_ct->evs[ib];
	uint32_t tx = ev_tid(sort_ct, x->track), ty = ev_tid(sort_ct, y->track);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1;
	/* slices before instants at the same time, then arrival order */
	if (x->instant != y->instant)
		return x->instant ? 1 : -1;
	return ia < ib ? -1 : ia > ib;
}

static int cmp_gor(const void *a, const void *b)
{
	const struct ct_gor *x = *(struct ct_gor *const *)a, *y = *(struct ct_gor *const *)b;

	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

/* Whether the slice open at the top of the stack ends before e starts.
 * Closed intervals: a slice [a,b] still holds a zero-length event at b, but
 * a slice that starts at b and lasts is its sibling. */
bool ct_ended_before(const struct ct_ev *top, const struct ct_ev *e)
{
	uint64_t end = top->ts + top->dur;

	return end < e->ts || (end == e->ts && e->dur > 0);
}

/* Make each track nest strictly: clamp a slice that outlives its parent,
 * and record each event's parent. */
static int nest(struct ct_sorted *s)
{
	struct chrome_trace *ct = s->ct;
	uint32_t *stack = malloc((ct->nr_evs + 1) * sizeof(*stack));
	uint32_t depth = 0, cur_track = UINT32_MAX;

	if (!stack)
		return -ENOMEM;
	for (uint32_t pos = 0; pos < ct->nr_evs; pos++) {
		struct ct_ev *e = &ct->evs[s->order[pos]];

		if (e->track != cur_track) {
			if (cur_track != UINT32_MAX)
				s->track_end[cur_track] = pos;
			cur_track = e->track;
			s->track_start[cur_track] = pos;
			depth = 0;
		}
		while (depth && ct_ended_before(&ct->evs[s->order[stack[depth - 1]]], e))
			depth--;
		if (depth) {
			struct ct_ev *p = &ct->evs[s->order[stack[depth - 1]]];

			if (e->ts + e->dur > p->ts + p->dur) {
				e->dur = p->ts + p->dur - e->ts;
				ct->stats.clamped++;
			}
		}
		s->parent[pos] = depth ? stack[depth - 1] + 1 : 0;
		if (!e->instant)
			stack[depth++] = pos;
	}
	if (cur_track != UINT32_MAX)
		s->track_end[cur_track] = ct->nr_evs;
	free(stack);
	return 0;
}

const struct ct_ev *ct_ev_at(const struct ct_sorted *s, uint32_t pos)
{
	return &s->ct->evs[s->order[pos]];
}

/* Last position on the track whose event starts at or before t, or -1. */
static int64_t last_start_le(const struct ct_sorted *s, uint32_t track, uint64_t t)
{
	int64_t lo = s->track_start[track], hi = (int64_t)s->track_end[track] - 1, r = -1;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (ct_ev_at(s, mid)->ts <= t)
			r = mid, lo = mid + 1;
		else
			hi = mid - 1;
	}
	return r;
}

/* The deepest slice on the track whose closed interval holds t, or -1. */
static int64_t deepest_at(const struct ct_sorted *s, uint32_t track, uint64_t t)
{
	int64_t pos = last_start_le(s, track, t);

	while (pos >= 0) {
		const struct ct_ev *e = ct_ev_at(s, pos);

		if (!e->instant && e->ts + e->dur >= t)
			return pos;
		pos = (int64_t)s->parent[pos] - 1;
	}
	return -1;
}

/* The flow target on the track for time t: a slice starting exactly at t,
 * else the outermost slice holding t inside, else the next slice. */
static int64_t target_at(const struct ct_sorted *s, uint32_t track, uint64_t t)
{
	int64_t pos = last_start_le(s, track, t), outer = -1;
	uint32_t end = s->track_end[track];
	uint32_t next;

	/* the first slice starting at or after t */
	next = pos < 0 ? s->track_start[track] : (uint32_t)pos;
	while (next < end && (ct_ev_at(s, next)->ts < t || ct_ev_at(s, next)->instant))
		next++;
	if (next < end && ct_ev_at(s, next)->ts == t) {
		/* the outermost of those starting at t comes first */
		while (next > s->track_start[track] && ct_ev_at(s, next - 1)->ts == t &&
		       !ct_ev_at(s, next - 1)->instant)
			next--;
		return next;
	}
	for (; pos >= 0; pos = (int64_t)s->parent[pos] - 1) {
		const struct ct_ev *e = ct_ev_at(s, pos);

		if (!e->instant && e->ts < t && e->ts + e->dur > t)
			outer = pos;
	}
	if (outer >= 0)
		return outer;
	return next < end ? (int64_t)next : -1;
}

/* Whether a viewer binds time t on the track to slice pos: t is strictly
 * inside it, no descendant slice holds t (pos is the deepest) and no
 * instant sits at t (viewers treat instants as zero-length slices). */
static bool binds_to(const struct ct_sorted *s, uint32_t pos, uint64_t t)
{
	const struct ct_ev *p = ct_ev_at(s, pos);
	int64_t k;

	if (t <= p->ts || t >= p->ts + p->dur || deepest_at(s, p->track, t) != (int64_t)pos)
		return false;
	/* instants sort last among events starting at the same time */
	k = last_start_le(s, p->track, t);
	return !(k > (int64_t)pos && ct_ev_at(s, k)->ts == t && ct_ev_at(s, k)->instant);
}

/* A time that binds to slice pos (see binds_to()): want or a neighbour of
 * it if possible, else the first free point from its start; false if the
 * slice has none. */
static bool free_point(const struct ct_sorted *s, uint32_t pos, uint64_t want, uint64_t *tp)
{
	const struct ct_ev *p = ct_ev_at(s, pos);
	uint64_t end = p->ts + p->dur, cur = p->ts;
	uint32_t tend = s->track_end[p->track];
	const uint64_t cand[] = { want, want + 1, want - 1 };

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (binds_to(s, pos, cand[i])) {
			*tp = cand[i];
			return true;
		}
	}
	for (uint32_t c = pos + 1, n = 0; c < tend && n < CT_GAP_SCAN; c++, n++) {
		const struct ct_ev *e = ct_ev_at(s, c);

		if (e->ts > end)
			break;
		if (e->ts > cur + 1)
			break;
		if (e->ts + e->dur > cur)
			cur = e->ts + e->dur;
	}
	if (cur + 1 < end) {
		*tp = cur + 1;
		return true;
	}
	return false;
}

/* One end of a flow: "s" at its source, "f" (binding to the enclosing
 * slice: bp "e") at its target. */
static void write_flow_end(struct chrome_trace *ct, const char *ph, const char *bp, uint32_t tid,
			   uint64_t ts, uint64_t id, uint32_t name)
{
	ct_out_ev_head(ct, ph, tid, ts);
	ct_out_str(ct, bp);
	ct_out_str(ct, ",\"id\":");
	ct_out_u64(ct, id);
	ct_out_str(ct, ",\"cat\":\"flow\",\"name\":");
	ct_out_sid(ct, name);
	ct_out_str(ct, "}");
}

static void write_flows(struct ct_sorted *s, uint64_t origin)
{
	struct chrome_trace *ct = s->ct;
	uint64_t id = 0;

	for (size_t i = 0; i < ct->nr_flows; i++) {
		const struct ct_flow *f = &ct->flows[i];
		int64_t src = -1, dst = -1;
		uint64_t ts_src, ts_dst;

		if (ct->gors[f->from_track / 2].nev[f->from_track & 1])
			src = deepest_at(s, f->from_track, f->from_ns);
		if (ct->gors[f->to_track / 2].nev[f->to_track & 1])
			dst = target_at(s, f->to_track, f->to_ns);
		if (src < 0 || dst < 0 || !free_point(s, dst, f->to_ns, &ts_dst) ||
		    !free_point(s, src, f->from_ns, &ts_src) ||
		    (ts_src > ts_dst && (!free_point(s, src, ts_dst, &ts_src) || ts_src > ts_dst))) {
			/* viewers drop arrows that go back in time */
			ct->stats.flows_dropped++;
			continue;
		}
		id++;
		write_flow_end(ct, "s", "", ev_tid(ct, f->from_track), ts_src - origin, id, f->name);
		write_flow_end(ct, "f", ",\"bp\":\"e\"", ev_tid(ct, f->to_track), ts_dst - origin, id,
			       f->name);
	}
}

static void write_meta_ev(struct chrome_trace *ct, const char *what, uint32_t tid)
{
	ct_out_str(ct, ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":");
	ct_out_u64(ct, tid);
	ct_out_str(ct, ",\"name\":\"");
	ct_out_str(ct, what);
	ct_out_str(ct, "\",\"args\":{");
}

/* A track's name, quoted: "G<goid> <start function>" or "G<goid> calls". */
void ct_out_track_name(struct chrome_trace *ct, const struct ct_gor *gr, int k)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "\"G%llu", (unsigned long long)gr->goid);
	ct_out_str(ct, buf);
	if (k == CHROME_TRACE_CALLS) {
		ct_out_str(ct, " calls");
	} else if (gr->start_func) {
		ct_out_str(ct, " ");
		ct_out_mem(ct, ct->strs[gr->start_func].s, ct->strs[gr->start_func].len);
	}
	ct_out_str(ct, "\"");
}

static void write_tracks(struct chrome_trace *ct, struct ct_gor **by_goid)
{
	for (uint32_t g = 0; g < ct->nr_gors; g++) {
		const struct ct_gor *gr = by_goid[g];

		for (int k = 0; k < 2; k++) {
			uint32_t tid = (gr->rank - 1) * 2 + k + 1;

			if (!gr->nev[k])
				continue;
			write_meta_ev(ct, "thread_name", tid);
			ct_out_str(ct, "\"name\":");
			ct_out_track_name(ct, gr, k);
			ct_out_str(ct, "}}");
			write_meta_ev(ct, "thread_sort_index", tid);
			ct_out_str(ct, "\"sort_index\":");
			ct_out_u64(ct, tid);
			ct_out_str(ct, "}}");
		}
	}
}

static void write_events(struct ct_sorted *s, uint64_t origin)
{
	struct chrome_trace *ct = s->ct;

	for (uint32_t pos = 0; pos < ct->nr_evs; pos++) {
		const struct ct_ev *e = ct_ev_at(s, pos);

		ct_out_ev_head(ct, e->instant ? "i" : "X", ev_tid(ct, e->track), e->ts - origin);
		if (e->instant) {
			ct_out_str(ct, ",\"s\":\"t\"");
		} else {
			ct_out_str(ct, ",\"dur\":");
			ct_out_us(ct, e->dur);
		}
		ct_out_str(ct, ",\"name\":");
		ct_out_sid(ct, e->name);
		ct_out_str(ct, ",\"cat\":");
		ct_out_sid(ct, e->cat);
		ct_out_str(ct, ",\"args\":{\"goid\":");
		ct_out_u64(ct, ct->gors[e->track / 2].goid);
		if (e->args) {
			size_t len;
			const char *a = args_str(ct, e->args, &len);

			ct_out_str(ct, ",");
			ct_out_mem(ct, a, len);
		}
		ct_out_str(ct, "}}");
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s && s[1] ? s + 1 : p;
}

static void write_other(struct chrome_trace *ct, uint64_t origin)
{
	const struct chrome_trace_opts *o = &ct->opts;
	char num[24];

	ct_out_str(ct, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"gotrace_version\":\"");
	ct_out_str(ct, GOTRACE_VERSION);
	ct_out_str(ct, "\"");
	if (o->binary) {
		ct_out_str(ct, ",\"binary\":");
		ct_out_cstr(ct, o->binary);
	}
	if (o->go_version) {
		ct_out_str(ct, ",\"go_version\":");
		ct_out_cstr(ct, o->go_version);
	}
	if (o->command_line) {
		ct_out_str(ct, ",\"command_line\":");
		ct_out_cstr(ct, o->command_line);
	}
	/* strings: viewers show otherData as text, and 64-bit values would
	 * lose precision as JSON numbers */
	snprintf(num, sizeof(num), "%llu", (unsigned long long)origin);
	ct_out_str(ct, ",\"time_origin_ns\":\"");
	ct_out_str(ct, num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)ct->stats.clamped);
	ct_out_str(ct, "\",\"clamped_slices\":\"");
	ct_out_str(ct, num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)ct->stats.flows_dropped);
	ct_out_str(ct, "\",\"dropped_flows\":\"");
	ct_out_str(ct, num);
	snprintf(num, sizeof(num), "%llu",
		 (unsigned long long)(ct->stats.dropped + ct->stats.lost));
	ct_out_str(ct, "\",\"dropped_events\":\"");
	ct_out_str(ct, num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)ct->stats.lost);
	ct_out_str(ct, "\",\"lost_events\":\"");
	ct_out_str(ct, num);
	ct_out_str(ct, "\"");
	for (size_t i = 0; i < ct->nr_meta; i++) {
		ct_out_str(ct, ",\"");
		ct_out_str(ct, ct->meta[i].key);
		ct_out_str(ct, "\":\"");
		ct_out_str(ct, ct->meta[i].value);
		ct_out_str(ct, "\"");
	}
	ct_out_str(ct, "}}\n");
}

static void write_document(struct ct_sorted *s, struct ct_gor **by_goid, uint64_t origin,
			   const char *pname)
{
	struct chrome_trace *ct = s->ct;

	/* tid 1, not 0: some importers make a thread of every tid they see */
	ct_out_str(ct, "{\"traceEvents\":[\n{\"ph\":\"M\",\"pid\":1,\"tid\":1,"
		    "\"name\":\"process_name\",\"args\":{\"name\":");
	ct_out_cstr(ct, pname);
	ct_out_str(ct, "}}");
	write_tracks(ct, by_goid);
	write_events(s, origin);
	write_flows(s, origin);
	write_other(ct, origin);
}

int chrome_trace_close(struct chrome_trace *ct, struct chrome_trace_stats *stats)
{
	struct ct_sorted s = { .ct = ct };
	struct ct_gor **by_goid = NULL;
	uint64_t origin;
	const char *pname = NULL;
	int err = 0;

	if (!ct)
		return 0;
	origin = ct->opts.start_ns ? ct->opts.start_ns : ct->min_ts == UINT64_MAX ? 0 : ct->min_ts;

	/* tids follow goid order, whatever the order goroutines appeared in */
	by_goid = malloc((ct->nr_gors + 1) * sizeof(*by_goid));
	s.order = malloc((ct->nr_evs + 1) * sizeof(*s.order));
	s.parent = malloc((ct->nr_evs + 1) * sizeof(*s.parent));
	s.track_start = calloc(ct->nr_gors * 2 + 1, sizeof(*s.track_start));
	s.track_end = calloc(ct->nr_gors * 2 + 1, sizeof(*s.track_end));
	if (!by_goid || !s.order || !s.parent || !s.track_start || !s.track_end) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t g = 0; g < ct->nr_gors; g++)
		by_goid[g] = &ct->gors[g];
	qsort(by_goid, ct->nr_gors, sizeof(*by_goid), cmp_gor);
	for (uint32_t g = 0; g < ct->nr_gors; g++)
		by_goid[g]->rank = g + 1;

	for (uint32_t i = 0; i < ct->nr_evs; i++)
		s.order[i] = i;
	sort_ct = ct;
	qsort(s.order, ct->nr_evs, sizeof(*s.order), cmp_ev);
	sort_ct = NULL;
	if ((err = nest(&s)))
		goto out;

	pname = ct->opts.process_name ? ct->opts.process_name :
		ct->opts.binary ? base_name(ct->opts.binary) : "go";
	err = ct_out_begin(ct, ct->file, ct->opts.gzip);
	if (!err)
		write_document(&s, by_goid, origin, pname);
out:
	if (stats)
		*stats = ct->stats;
	err = ct_out_end(ct, ct->file, err);
	ct->file = NULL;
	if (ct->opts.speedscope) {
		if (!err)
			err = speedscope_write(&s, by_goid, origin, pname);
		gt_outfile_abort(ct->opts.speedscope);	/* after a failure */
		ct->opts.speedscope = NULL;
	}
	free(by_goid);
	free(s.order);
	free(s.parent);
	free(s.track_start);
	free(s.track_end);
	ct_free(ct);
	return err;
}

void chrome_trace_abort(struct chrome_trace *ct)
{
	ct_free(ct);
}
