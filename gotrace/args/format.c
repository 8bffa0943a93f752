// SPDX-License-Identifier: MIT
/* Decoding and printing values (see format.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args/format.h"

struct dec {
	const struct ga_event *e;
	const struct ga_resolver *r;
	FILE *f;		/* NULL: compute the status only */
	bool json;
	enum ga_status st;	/* worst status of the value being printed */
	int level;
};

static void worst(struct dec *d, enum ga_status s)
{
	if (s > d->st)
		d->st = s;
}

const char *ga_status_name(enum ga_status st)
{
	switch (st) {
	case GA_ST_OK: return "ok";
	case GA_ST_NIL: return "nil";
	case GA_ST_TRUNCATED: return "truncated";
	case GA_ST_UNREADABLE: return "unreadable";
	case GA_ST_UNSUPPORTED: return "unsupported";
	}
	return "?";
}

#define P(...) do { if (d->f) fprintf(d->f, __VA_ARGS__); } while (0)

static void puts_(struct dec *d, const char *s)
{
	if (d->f)
		fputs(s, d->f);
}

/* --- the blob ------------------------------------------------------------ */

static bool have(const struct dec *d, uint32_t at, uint32_t size, uint32_t lim)
{
	return at + size <= lim && at + size <= d->e->len;
}

static uint64_t rd(const struct dec *d, uint32_t at, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, d->e->blob + at, size > 8 ? 8 : size);
	return v;
}

static bool done(const struct dec *d, int k)
{
	return k >= 0 && k < GA_MAX_OPS && (d->e->h->done[k >> 6] >> (k & 63)) & 1;
}

static bool failed(const struct dec *d, int k)
{
	return k >= 0 && k < GA_MAX_OPS && (d->e->h->failed[k >> 6] >> (k & 63)) & 1;
}

/* Bytes DEREF op k read: what bpf/args.h's ga_deref_len computed. */
static uint32_t deref_len(const struct dec *d, int k)
{
	const struct ga_op *op = &d->e->site->plan.ops[k];
	int64_t cnt;
	uint64_t n;

	if (op->count == GA_NONE)
		return op->size;
	cnt = (int64_t)rd(d, op->count, 8);
	if (cnt <= 0 || ((op->flags & GA_OPF_SPECULATIVE) && cnt > (1LL << 30)))
		return 0;
	if ((uint64_t)cnt > op->size)
		return op->size;
	n = (uint64_t)cnt * (op->scale ? op->scale : 1);
	return n > op->size ? op->size : (uint32_t)n;
}

static const struct ga_hole *hole(const struct dec *d, uint32_t at, uint32_t size)
{
	const struct ga_site *s = d->e->site;

	for (uint32_t i = 0; i < s->nholes; i++)
		if (at < (uint32_t)s->holes[i].at + s->holes[i].size && s->holes[i].at < at + size)
			return &s->holes[i];
	return NULL;
}

/* --- primitives ------------------------------------------------------------ */

static void cut(struct dec *d)
{
	worst(d, GA_ST_TRUNCATED);
	puts_(d, d->json ? "{\"status\":\"truncated\"}" : "...");
}

static void unreadable(struct dec *d, uint64_t addr)
{
	worst(d, GA_ST_UNREADABLE);
	if (d->json)
		P("{\"status\":\"unreadable\",\"addr\":\"0x%" PRIx64 "\"}", addr);
	else
		P("<unreadable 0x%" PRIx64 ">", addr);
}

static void in_fpreg(struct dec *d, const struct ga_hole *h)
{
	worst(d, GA_ST_UNREADABLE);
	if (d->json)
		P("{\"status\":\"unreadable\",\"register\":\"%s\"}", h->reg);
	else
		P("<in %s>", h->reg);
}

/* Escaped text is built in a buffer and written in one go: it is the
 * per-byte part of printing (a string of 64 NULs is 256 bytes of escapes). */
struct ebuf {
	char b[512];
	size_t n;
	FILE *f;
};

static void eflush(struct ebuf *e)
{
	if (e->f && e->n)
		fwrite(e->b, 1, e->n, e->f);
	e->n = 0;
}

static void eput(struct ebuf *e, const char *s, size_t n)
{
	if (e->n + n > sizeof(e->b))
		eflush(e);
	memcpy(e->b + e->n, s, n);
	e->n += n;
}

static const char hexd[] = "0123456789abcdef";

/* The length of the valid UTF-8 sequence at s[i], 0 if none. */
static size_t utf8_len(const uint8_t *s, size_t i, size_t n)
{
	uint8_t c = s[i];
	size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		     (c & 0xf8) == 0xf0 ? 4 : 0;

	if (!len || i + len > n)
		return 0;
	for (size_t k = 1; k < len; k++)
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
	return len;
}

static void json_str(struct dec *d, const uint8_t *s, size_t n)
{
	struct ebuf e = { .f = d->f };

	if (!d->f)
		return;
	/* invalid UTF-8 bytes become U+FFFD: JSON strings are Unicode */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		size_t len = utf8_len(s, i, n);

		if (!len) {
			eput(&e, "\\ufffd", 6);
		} else if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			eput(&e, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };

			eput(&e, esc, 6);
		} else {
			eput(&e, (const char *)s + i, len);
			i += len - 1;
		}
	}
	eflush(&e);
}

/* Go's %q, roughly: printable ASCII and valid UTF-8 as is, the rest escaped. */
static void go_quote(struct dec *d, const uint8_t *s, size_t n)
{
	struct ebuf e = { .f = d->f };

	if (!d->f)
		return;
	eput(&e, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		size_t len = c >= 0x80 ? utf8_len(s, i, n) : 0;

		if (len) {
			eput(&e, (const char *)s + i, len);
			i += len - 1;
		} else if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			eput(&e, esc, 2);
		} else if (c == '\n') {
			eput(&e, "\\n", 2);
		} else if (c == '\t') {
			eput(&e, "\\t", 2);
		} else if (c >= 0x20 && c < 0x7f) {
			eput(&e, (const char *)&c, 1);
		} else {
			char esc[4] = { '\\', 'x', hexd[c >> 4], hexd[c & 15] };

			eput(&e, esc, 4);
		}
	}
	eput(&e, "\"", 1);
	eflush(&e);
}

static void num_u(struct dec *d, uint64_t v)
{
	if (d->json && v > (1ULL << 53))
		P("\"%" PRIu64 "\"", v);
	else
		P("%" PRIu64, v);
}

static void num_i(struct dec *d, int64_t v)
{
	if (d->json && (v > (1LL << 53) || v < -(1LL << 53)))
		P("\"%" PRId64 "\"", v);
	else
		P("%" PRId64, v);
}

/* The shortest decimal that reads back as the same value. */
static void num_f(struct dec *d, double v, bool f32)
{
	char buf[40];

	if (isnan(v) || isinf(v)) {
		const char *s = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

		if (d->json)
			P("\"%s\"", s);
		else
			puts_(d, s);
		return;
	}
	for (int prec = f32 ? 6 : 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (f32 ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
	puts_(d, buf);
}

static int64_t sext(uint64_t v, uint32_t size)
{
	if (size >= 8)
		return (int64_t)v;
	v &= (1ULL << (size * 8)) - 1;
	if (v >> (size * 8 - 1))
		v |= ~((1ULL << (size * 8)) - 1);
	return (int64_t)v;
}

/* time.Duration as Go's String() prints it. */
static void duration(struct dec *d, int64_t ns)
{
	static const struct { int64_t unit; const char *name; } small[] = {
		{ 1, "ns" }, { 1000, "\xc2\xb5s" }, { 1000000, "ms" },
	};
	uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	const char *sign = ns < 0 ? "-" : "";

	if (u == 0) {
		puts_(d, "0s");
		return;
	}
	if (u < 1000000000ULL) {
		int i = u < 1000 ? 0 : u < 1000000 ? 1 : 2;
		uint64_t unit = (uint64_t)small[i].unit;
		char frac[16] = "";

		if (u % unit) {
			snprintf(frac, sizeof(frac), ".%0*" PRIu64, i * 3, u % unit);
			for (size_t k = strlen(frac) - 1; frac[k] == '0'; k--)
				frac[k] = 0;
		}
		P("%s%" PRIu64 "%s%s", sign, u / unit, frac, small[i].name);
		return;
	}
	{
		uint64_t s = u / 1000000000ULL, frac_ns = u % 1000000000ULL;
		char frac[16] = "";

		if (frac_ns) {
			snprintf(frac, sizeof(frac), ".%09" PRIu64, frac_ns);
			for (size_t k = strlen(frac) - 1; frac[k] == '0'; k--)
				frac[k] = 0;
		}
		P("%s", sign);
		if (s >= 3600)
			P("%" PRIu64 "h", s / 3600);
		if (s >= 60)
			P("%" PRIu64 "m", s / 60 % 60);
		P("%" PRIu64 "%ss", s % 60, frac);
	}
}

/* time.Time from its wall and ext words, in UTC, RFC 3339 with
 * nanoseconds (Go's time.RFC3339Nano). */
static void timestamp(struct dec *d, uint64_t wall, int64_t ext)
{
	const int64_t secs_to_1885 = (1884LL * 365 + 1884 / 4 - 1884 / 100 + 1884 / 400) * 86400;
	const int64_t unix_to_internal = (1969LL * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400) * 86400;
	int64_t sec = (wall >> 63) ? (int64_t)((wall << 1) >> 31) + secs_to_1885 : ext;
	uint32_t nsec = (uint32_t)(wall & ((1U << 30) - 1));
	time_t t;
	struct tm tm;
	char frac[16] = "";

	/* beyond +-1e15 s (30 million years) gmtime can't help anyway */
	if (sec > 1000000000000000LL || sec < -1000000000000000LL || nsec >= 1000000000u) {
		P("%s\"time(%" PRIu64 ",%" PRId64 ")\"", "", wall, ext);
		return;
	}
	t = (time_t)(sec - unix_to_internal);
	if (!gmtime_r(&t, &tm)) {
		P("%s\"time(%" PRIu64 ",%" PRId64 ")\"", "", wall, ext);
		return;
	}
	if (nsec) {
		snprintf(frac, sizeof(frac), ".%09u", nsec);
		for (size_t k = strlen(frac) - 1; frac[k] == '0'; k--)
			frac[k] = 0;
	}
	P("%s%04d-%02d-%02dT%02d:%02d:%02d%sZ%s", d->json ? "\"" : "", tm.tm_year + 1900,
	  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac, d->json ? "\"" : "");
}

/* --- values ---------------------------------------------------------------- */

static void val(struct dec *d, const struct ga_type *t, uint32_t at, uint32_t lim);

static bool is_byte(const struct ga_type *t)
{
	return t->kind == GA_UINT && t->size == 1;
}

static bool printable(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)
			return false;
	return true;
}

static void string_val(struct dec *d, uint32_t at)
{
	uint64_t ptr = rd(d, at, 8);
	int64_t len = (int64_t)rd(d, at + 8, 8);
	int k = ga_site_deref(d->e->site, (uint16_t)at);
	uint32_t n;

	if (len == 0) {
		puts_(d, "\"\"");
		return;
	}
	if (len < 0) {
		unreadable(d, ptr);
		return;
	}
	if (k < 0) {
		/* not read (limits) */
		worst(d, GA_ST_TRUNCATED);
		if (d->json)
			P("{\"status\":\"truncated\",\"len\":%" PRId64 "}", len);
		else
			P("\"\"...(len=%" PRId64 ")", len);
		return;
	}
	if (failed(d, k) || !done(d, k)) {
		unreadable(d, ptr);
		return;
	}
	n = deref_len(d, k);
	if (d->json) {
		puts_(d, "\"");
		json_str(d, d->e->blob + d->e->site->plan.ops[k].dst, n);
		puts_(d, "\"");
	} else {
		go_quote(d, d->e->blob + d->e->site->plan.ops[k].dst, n);
	}
	if ((uint64_t)len > n) {
		worst(d, GA_ST_TRUNCATED);
		if (!d->json)
			P("...(len=%" PRId64 ")", len);
	}
}

static void elems(struct dec *d, const struct ga_type *et, uint32_t at, uint32_t n, uint32_t lim,
		  uint64_t total)
{
	puts_(d, d->json ? "[" : "[");
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			puts_(d, d->json ? "," : " ");
		val(d, et, at + i * et->size, lim);
	}
	if (total > n) {
		worst(d, GA_ST_TRUNCATED);
		if (!d->json)
			puts_(d, n ? " ..." : "...");
	}
	puts_(d, "]");
}

static void slice_val(struct dec *d, const struct ga_type *t, uint32_t at)
{
	uint64_t ptr = rd(d, at, 8);
	int64_t len = (int64_t)rd(d, at + 8, 8), cap = (int64_t)rd(d, at + 16, 8);
	int k = ga_site_deref(d->e->site, (uint16_t)at);
	uint32_t es = t->elem->size, n = 0, dst = 0;

	if (!ptr && !len) {
		puts_(d, d->json ? "null" : "nil");
		return;
	}
	if (len < 0 || cap < len) {
		unreadable(d, ptr);
		return;
	}
	if (k >= 0 && done(d, k) && es) {
		dst = d->e->site->plan.ops[k].dst;
		n = deref_len(d, k) / es;
	}
	if (d->json)
		P("{\"len\":%" PRId64 ",\"cap\":%" PRId64 ",\"elems\":", len, cap);
	else
		P("%s len=%" PRId64 " cap=%" PRId64 " ", t->name, len, cap);
	if (k >= 0 && failed(d, k)) {
		unreadable(d, ptr);
	} else if (!d->json && is_byte(t->elem) && n == (uint64_t)len &&
		   printable(d->e->blob + dst, n)) {
		go_quote(d, d->e->blob + dst, n);
	} else if (!d->json && is_byte(t->elem)) {
		go_quote(d, d->e->blob + dst, n);
		if ((uint64_t)len > n) {
			worst(d, GA_ST_TRUNCATED);
			puts_(d, "...");
		}
	} else {
		elems(d, t->elem, dst, n, dst + n * es, (uint64_t)len);
	}
	if (d->json)
		puts_(d, "}");
}

static void ptr_val(struct dec *d, const struct ga_type *t, uint32_t at)
{
	uint64_t ptr = rd(d, at, 8);
	int k = ga_site_deref(d->e->site, (uint16_t)at);

	if (!ptr) {
		puts_(d, d->json ? "null" : "nil");
		return;
	}
	if (k < 0) {	/* not followed: --args-depth */
		if (d->json)
			P("{\"addr\":\"0x%" PRIx64 "\"}", ptr);
		else
			P("0x%" PRIx64, ptr);
		return;
	}
	if (d->json)
		P("{\"addr\":\"0x%" PRIx64 "\",\"elem\":", ptr);
	else
		P("&");
	if (failed(d, k) || !done(d, k)) {
		unreadable(d, ptr);
	} else {
		uint32_t dst = d->e->site->plan.ops[k].dst;

		val(d, t->elem, dst, dst + deref_len(d, k));
	}
	if (d->json)
		puts_(d, "}");
}

/* A map's length, a chan's length and capacity, a func's code: the
 * first words of what the pointer points to. */
static void runtime_obj(struct dec *d, const struct ga_type *t, uint32_t at)
{
	uint64_t ptr = rd(d, at, 8);
	int k = ga_site_deref(d->e->site, (uint16_t)at);
	uint32_t dst;

	if (!ptr) {
		puts_(d, d->json ? "null" : "nil");
		return;
	}
	if (k < 0 || failed(d, k) || !done(d, k)) {
		if (k >= 0)
			worst(d, GA_ST_UNREADABLE);
		else
			worst(d, GA_ST_TRUNCATED);
		if (d->json)
			P("{\"addr\":\"0x%" PRIx64 "\",\"status\":\"%s\"}", ptr,
			  k < 0 ? "truncated" : "unreadable");
		else
			P("%s(0x%" PRIx64 ") <%s>", t->name, ptr, k < 0 ? "not read" : "unreadable");
		return;
	}
	dst = d->e->site->plan.ops[k].dst;
	if (t->kind == GA_FUNC) {
		uint64_t pc = rd(d, dst, 8);
		const char *fn = d->r && d->r->func ? d->r->func(d->r->arg, pc) : NULL;

		if (d->json) {
			P("{\"addr\":\"0x%" PRIx64 "\",\"func\":", ptr);
			if (fn) {
				puts_(d, "\"");
				json_str(d, (const uint8_t *)fn, strlen(fn));
				puts_(d, "\"");
			} else {
				P("\"0x%" PRIx64 "\"", pc);
			}
			puts_(d, "}");
		} else if (fn) {
			P("%s", fn);
		} else {
			P("func(0x%" PRIx64 ")", pc);
		}
	} else if (t->kind == GA_MAP) {
		if (d->json)
			P("{\"addr\":\"0x%" PRIx64 "\",\"len\":%" PRId64 "}", ptr, (int64_t)rd(d, dst, 8));
		else
			P("%s(0x%" PRIx64 ") len=%" PRId64, t->name, ptr, (int64_t)rd(d, dst, 8));
	} else {
		int64_t len = (int64_t)rd(d, dst, 8), cap = (int64_t)rd(d, dst + 8, 8);

		if (d->json)
			P("{\"addr\":\"0x%" PRIx64 "\",\"len\":%" PRId64 ",\"cap\":%" PRId64 "}", ptr,
			  len, cap);
		else
			P("%s(0x%" PRIx64 ") len=%" PRId64 " cap=%" PRId64, t->name, ptr, len, cap);
	}
}

/* A type for an interface's dynamic value when DWARF has none: the
 * descriptor's kind and size are enough for the basic kinds. */
static bool basic_type(uint8_t kind, struct ga_type *t)
{
	static const struct { uint8_t kind; enum ga_kind k; uint32_t size; } m[] = {
		{ GOSYM_KIND_BOOL, GA_BOOL, 1 }, { GOSYM_KIND_INT, GA_INT, 8 },
		{ GOSYM_KIND_INT8, GA_INT, 1 }, { GOSYM_KIND_INT16, GA_INT, 2 },
		{ GOSYM_KIND_INT32, GA_INT, 4 }, { GOSYM_KIND_INT64, GA_INT, 8 },
		{ GOSYM_KIND_UINT, GA_UINT, 8 }, { GOSYM_KIND_UINT8, GA_UINT, 1 },
		{ GOSYM_KIND_UINT16, GA_UINT, 2 }, { GOSYM_KIND_UINT32, GA_UINT, 4 },
		{ GOSYM_KIND_UINT64, GA_UINT, 8 }, { GOSYM_KIND_UINTPTR, GA_UINTPTR, 8 },
		{ GOSYM_KIND_FLOAT32, GA_FLOAT, 4 }, { GOSYM_KIND_FLOAT64, GA_FLOAT, 8 },
		{ GOSYM_KIND_STRING, GA_STRING, 16 },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].kind == kind) {
			*t = (struct ga_type){ .kind = m[i].k, .name = "", .size = m[i].size,
					       .align = m[i].size > 8 ? 8 : m[i].size };
			return true;
		}
	return false;
}

/* errors.New and fmt.Errorf values: their message is their first field. */
static bool std_error(const char *name)
{
	return !strcmp(name, "*errors.errorString") || !strcmp(name, "*fmt.wrapError") ||
	       !strcmp(name, "*fmt.wrapErrors");
}

static void iface_val(struct dec *d, const struct ga_type *t, uint32_t at)
{
	uint64_t tab = rd(d, at, 8), typ = tab, data = rd(d, at + 8, 8);
	struct ga_rt rt = { .name = "?" };
	struct ga_type basic;
	const struct ga_type *dt;
	int kd = ga_site_deref(d->e->site, (uint16_t)(at + 8));
	uint32_t vat, vlim;

	if (!tab) {
		puts_(d, d->json ? "null" : "nil");
		return;
	}
	if (t->kind == GA_IFACE) {
		int kt = ga_site_deref(d->e->site, (uint16_t)at);

		if (kt < 0) {
			/* not read: the limits */
			worst(d, GA_ST_TRUNCATED);
			if (d->json)
				P("{\"status\":\"truncated\",\"itab\":\"0x%" PRIx64 "\"}", tab);
			else
				P("%s(itab 0x%" PRIx64 ")", t->name, tab);
			return;
		}
		if (!done(d, kt)) {
			unreadable(d, tab);
			return;
		}
		typ = rd(d, d->e->site->plan.ops[kt].dst, 8);
	}
	if (!d->r || !d->r->rtype || d->r->rtype(d->r->arg, typ, &rt)) {
		worst(d, GA_ST_UNSUPPORTED);
		if (d->json)
			P("{\"type\":\"0x%" PRIx64 "\",\"status\":\"unsupported\"}", typ);
		else
			P("%s(type 0x%" PRIx64 ")", t->name, typ);
		return;
	}
	dt = rt.type;
	if (!dt && basic_type(rt.kind, &basic))
		dt = &basic;
	if (d->json) {
		P("{\"type\":\"");
		json_str(d, (const uint8_t *)rt.name, strlen(rt.name));
		P("\",\"value\":");
	} else {
		P("%s(%s) ", t->name, rt.name);
	}
	if (rt.direct) {
		/* the data word is the value (a pointer, map, chan, func...) */
		vat = at + 8;
		vlim = at + 16;
	} else if (kd >= 0 && done(d, kd)) {
		vat = d->e->site->plan.ops[kd].dst;
		vlim = vat + deref_len(d, kd);
	} else {
		vat = vlim = 0;
	}
	if (!dt)
		P(d->json ? "{\"addr\":\"0x%" PRIx64 "\"}" : "0x%" PRIx64, data);
	else if (!vlim)
		unreadable(d, data);
	else
		val(d, dt, vat, vlim);
	if (std_error(rt.name) && kd >= 0 && done(d, kd) && d->json) {
		uint32_t dst = d->e->site->plan.ops[kd].dst;
		int ks = ga_site_deref(d->e->site, (uint16_t)dst);

		if (ks >= 0 && done(d, ks)) {
			P(",\"error\":\"");
			json_str(d, d->e->blob + d->e->site->plan.ops[ks].dst, deref_len(d, ks));
			P("\"");
		}
	}
	if (d->json)
		puts_(d, "}");
}

static void struct_val(struct dec *d, const struct ga_type *t, uint32_t at, uint32_t lim)
{
	if (t->special == GA_SP_TIME && t->nfields >= 2 && have(d, at, 16, lim) && !hole(d, at, 16)) {
		timestamp(d, rd(d, at, 8), (int64_t)rd(d, at + 8, 8));
		return;
	}
	P(d->json ? "{" : "%s{", t->name);
	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct ga_field *f = &t->fields[i];

		if (i)
			puts_(d, d->json ? "," : ", ");
		if (d->json) {
			puts_(d, "\"");
			json_str(d, (const uint8_t *)f->name, strlen(f->name));
			puts_(d, "\":");
		} else {
			P("%s:", f->name);
		}
		val(d, f->type, at + f->off, lim);
	}
	puts_(d, "}");
}

static void val(struct dec *d, const struct ga_type *t, uint32_t at, uint32_t lim)
{
	const struct ga_hole *h;
	uint64_t v;

	if (++d->level > 24) {
		cut(d);
		d->level--;
		return;
	}
	if (t->kind == GA_STRUCT) {
		struct_val(d, t, at, lim);
		goto out;
	}
	if (t->kind == GA_ARRAY) {
		uint32_t n = t->count;
		uint32_t es = t->elem->size;

		while (n && es && !have(d, at, n * es, lim))
			n--;
		elems(d, t->elem, at, n, lim, t->count);
		goto out;
	}
	if (!have(d, at, t->size, lim)) {
		cut(d);
		goto out;
	}
	h = hole(d, at, t->size);
	if (h) {
		in_fpreg(d, h);
		goto out;
	}
	v = rd(d, at, t->size);
	switch (t->kind) {
	case GA_BOOL:
		puts_(d, v & 0xff ? "true" : "false");
		break;
	case GA_INT:
		if (t->special == GA_SP_DURATION && !d->json)
			duration(d, sext(v, t->size));
		else
			num_i(d, sext(v, t->size));
		break;
	case GA_UINT:
		num_u(d, t->size < 8 ? v & ((1ULL << (t->size * 8)) - 1) : v);
		break;
	case GA_UINTPTR:
		if (d->json)
			num_u(d, v);
		else
			P("0x%" PRIx64, v);
		break;
	case GA_FLOAT:
	case GA_COMPLEX: {
		uint32_t fs = t->kind == GA_COMPLEX ? t->size / 2 : t->size;
		double parts[2];

		for (int i = 0; i < (t->kind == GA_COMPLEX ? 2 : 1); i++) {
			uint64_t w = rd(d, at + i * fs, fs);

			if (fs == 4) {
				float x;
				uint32_t w32 = (uint32_t)w;

				memcpy(&x, &w32, 4);
				parts[i] = x;
			} else {
				memcpy(&parts[i], &w, 8);
			}
		}
		if (t->kind == GA_FLOAT) {
			num_f(d, parts[0], fs == 4);
			break;
		}
		puts_(d, d->json ? "{\"re\":" : "(");
		num_f(d, parts[0], fs == 4);
		puts_(d, d->json ? ",\"im\":" : (parts[1] >= 0 || isnan(parts[1])) ? "+" : "");
		num_f(d, parts[1], fs == 4);
		puts_(d, d->json ? "}" : "i)");
		break;
	}
	case GA_STRING:
		string_val(d, at);
		break;
	case GA_SLICE:
		slice_val(d, t, at);
		break;
	case GA_PTR:
		ptr_val(d, t, at);
		break;
	case GA_UNSAFEPTR:
		if (d->json)
			P("\"0x%" PRIx64 "\"", v);
		else
			P("0x%" PRIx64, v);
		break;
	case GA_MAP:
	case GA_CHAN:
	case GA_FUNC:
		runtime_obj(d, t, at);
		break;
	case GA_IFACE:
	case GA_EFACE:
		iface_val(d, t, at);
		break;
	default:
		worst(d, GA_ST_UNSUPPORTED);
		puts_(d, d->json ? "{\"status\":\"unsupported\"}" : "<unsupported>");
	}
out:
	d->level--;
}

/* The value's own status before decoding: its bytes' read, nil. */
static bool top_prelude(struct dec *d, const struct ga_value *v, uint32_t *lim)
{
	const struct ga_site *s = d->e->site;

	*lim = v->at + v->type->size;
	if (v->type->kind == GA_UNKNOWN) {
		worst(d, GA_ST_UNSUPPORTED);
		puts_(d, d->json ? "null" : "<unsupported type>");
		return false;
	}
	if (v->op != GA_NONE) {
		if (failed(d, v->op)) {
			worst(d, GA_ST_UNREADABLE);
			puts_(d, d->json ? "null" : "<unreadable>");
			return false;
		}
		if (!done(d, v->op)) {
			/* a path through a nil pointer */
			worst(d, GA_ST_NIL);
			puts_(d, d->json ? "null" : "nil");
			return false;
		}
		if (s->plan.ops[v->op].code == GA_OP_DEREF) {
			const struct ga_op *op = &s->plan.ops[v->op];

			*lim = op->dst + deref_len(d, v->op);
		}
	}
	if (v->cut)
		worst(d, GA_ST_TRUNCATED);
	return true;
}

static bool is_nil(const struct dec *d, const struct ga_value *v)
{
	switch (v->type->kind) {
	case GA_PTR:
	case GA_MAP:
	case GA_CHAN:
	case GA_FUNC:
	case GA_UNSAFEPTR:
	case GA_IFACE:
	case GA_EFACE:
	case GA_SLICE:
		return have(d, v->at, 8, d->e->len) && !hole(d, v->at, 8) && rd(d, v->at, 8) == 0;
	default:
		return false;
	}
}

static enum ga_status one(struct dec *d, uint32_t i)
{
	const struct ga_value *v = &d->e->site->vals[i];
	uint32_t lim;

	d->st = GA_ST_OK;
	d->level = 0;
	if (top_prelude(d, v, &lim)) {
		val(d, v->type, v->at, lim);
		if (d->st == GA_ST_OK && is_nil(d, v))
			d->st = GA_ST_NIL;
	}
	return d->st;
}

enum ga_status ga_value_status(const struct ga_event *e, uint32_t i, const struct ga_resolver *r)
{
	struct dec d = { .e = e, .r = r, .json = true };

	return i < e->site->nvals ? one(&d, i) : GA_ST_UNSUPPORTED;
}

void ga_format_text(FILE *f, const struct ga_event *e, const struct ga_resolver *r)
{
	struct dec d = { .e = e, .r = r, .f = f };

	if (e->h->flags & GA_HF_LOST) {
		fputs("<values lost>", f);
		return;
	}
	for (uint32_t i = 0; i < e->site->nvals; i++) {
		fprintf(f, "%s%s=", i ? ", " : "", e->site->vals[i].name);
		one(&d, i);
	}
}

void ga_format_json(FILE *f, const struct ga_event *e, const struct ga_resolver *r)
{
	struct dec d = { .e = e, .r = r, .f = f, .json = true };

	fputc('[', f);
	for (uint32_t i = 0; i < e->site->nvals; i++) {
		const struct ga_value *v = &e->site->vals[i];
		enum ga_status st;

		fputs(i ? ",{\"name\":\"" : "{\"name\":\"", f);
		json_str(&d, (const uint8_t *)v->name, strlen(v->name));
		fputs("\",\"type\":\"", f);
		json_str(&d, (const uint8_t *)v->type->name, strlen(v->type->name));
		fputs("\",\"value\":", f);
		if (e->h->flags & GA_HF_LOST) {
			fputs("null,\"status\":\"unreadable\"}", f);
			continue;
		}
		st = one(&d, i);
		fprintf(f, ",\"status\":\"%s\"}", ga_status_name(st));
	}
	fputc(']', f);
}
