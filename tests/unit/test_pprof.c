// SPDX-License-Identifier: MIT
/*
 * Unit tests of the profile.proto writer (gotrace/output/pprof.c): the encoding is
 * decoded here by a separate minimal protobuf reader that follows
 * profile.proto's field numbers, and the gzip file is inflated by zlib and
 * compared with the encoding.  go tool pprof reading real profiles is in
 * tests/integration/test_funcgraph_pprof.py.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check.h"
#include "output/outfile.h"
#include "output/pprof.h"

struct rd {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;

	for (int s = 0; s < 64; s += 7) {
		if (r->p >= r->end) {
			r->bad = 1;
			return 0;
		}
		v |= (uint64_t)(*r->p & 0x7f) << s;
		if (!(*r->p++ & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

/* next field: returns field number (0 at end), sets *v (varint) or *sub */
static int rd_field(struct rd *r, uint64_t *v, struct rd *sub)
{
	uint64_t key, len;

	if (r->p >= r->end || r->bad)
		return 0;
	key = rd_varint(r);
	switch (key & 7) {
	case 0:
		*v = rd_varint(r);
		break;
	case 2:
		len = rd_varint(r);
		if (len > (uint64_t)(r->end - r->p)) {
			r->bad = 1;
			return 0;
		}
		sub->p = r->p;
		sub->end = r->p + len;
		sub->bad = 0;
		r->p += len;
		break;
	default:
		r->bad = 1;
		return 0;
	}
	return (int)(key >> 3);
}

struct decoded {
	char strs[64][64];
	int nstrs;
	int nsample_types, nsamples, nlocs, nfuncs;
	int64_t sum[2];
	uint64_t sample_type[2][2];	/* string indices */
	uint64_t default_type;
	uint64_t label_key[16], label_str[16];	/* per sample */
	uint64_t leaf[16], depth[16];
	uint64_t func_name[8], func_file[8], func_line[8], func_id[8];
	uint64_t loc_id[8], loc_addr[8], loc_func[8];
	int bad;
};

static void decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	struct rd r = { buf, buf + len, 0 }, s, t, u;
	uint64_t v;
	int f;

	memset(d, 0, sizeof(*d));
	while ((f = rd_field(&r, &v, &s))) {
		switch (f) {
		case 1: {	/* sample_type */
			int k = d->nsample_types++;

			while ((f = rd_field(&s, &v, &t)))
				if (k < 2 && (f == 1 || f == 2))
					d->sample_type[k][f - 1] = v;
			break;
		}
		case 2: {	/* sample */
			int k = d->nsamples++, vi = 0;

			while ((f = rd_field(&s, &v, &t))) {
				if (f == 1) {	/* packed location ids, leaf first */
					int n = 0;

					while (t.p < t.end) {
						uint64_t id = rd_varint(&t);

						if (!n++ && k < 16)
							d->leaf[k] = id;
					}
					if (k < 16)
						d->depth[k] = n;
				} else if (f == 2) {
					while (t.p < t.end) {
						int64_t x = (int64_t)rd_varint(&t);

						if (vi < 2)
							d->sum[vi] += x;
						vi++;
					}
				} else if (f == 3) {
					while ((f = rd_field(&t, &v, &u)))
						if (k < 16 && f == 1)
							d->label_key[k] = v;
						else if (k < 16 && f == 2)
							d->label_str[k] = v;
				}
			}
			break;
		}
		case 4: {	/* location */
			int k = d->nlocs++;

			while ((f = rd_field(&s, &v, &t))) {
				if (k >= 8)
					continue;
				if (f == 1)
					d->loc_id[k] = v;
				else if (f == 3)
					d->loc_addr[k] = v;
				else if (f == 4)
					while ((f = rd_field(&t, &v, &u)))
						if (f == 1)
							d->loc_func[k] = v;
			}
			break;
		}
		case 5: {	/* function */
			int k = d->nfuncs++;

			while ((f = rd_field(&s, &v, &t))) {
				if (k >= 8)
					continue;
				if (f == 1)
					d->func_id[k] = v;
				else if (f == 2)
					d->func_name[k] = v;
				else if (f == 4)
					d->func_file[k] = v;
				else if (f == 5)
					d->func_line[k] = v;
			}
			break;
		}
		case 6:		/* string_table */
			if (d->nstrs < 64) {
				size_t n = s.end - s.p < 63 ? (size_t)(s.end - s.p) : 63;

				memcpy(d->strs[d->nstrs], s.p, n);
				d->strs[d->nstrs][n] = 0;
			}
			d->nstrs++;
			break;
		case 14:
			d->default_type = v;
			break;
		}
	}
	d->bad = r.bad;
}

static const char *S(const struct decoded *d, uint64_t i)
{
	return i < (uint64_t)d->nstrs && i < 64 ? d->strs[i] : "<bad index>";
}

static const struct pprof_func funcs[] = {
	{ "main.main", "/src/main.go", 10, 0x401000 },
	{ "main.work", "/src/main.go", 20, 0x401100 },
	{ "main.(*T).leaf", "/src/t.go", 5, 0x401200 },
};

static struct pprof *build(void)
{
	struct pprof_opts o = { .funcs = funcs, .nfuncs = 3 };
	uint32_t s1[] = { 0, 1, 2 }, s2[] = { 0, 1 }, s3[] = { 0, 7 };
	struct pprof *p;

	if (pprof_new(&o, &p))
		return NULL;
	pprof_add(p, 1, s1, 3, 1, 100);
	pprof_add(p, 1, s1, 3, 2, 50);		/* same stack, same goroutine: merged */
	pprof_add(p, 18, s1, 3, 1, 7);		/* other goroutine: own sample */
	pprof_add(p, 1, s2, 2, 1, 1000);
	pprof_add(p, 1, s3, 2, 1, 3);		/* 7: unknown function */
	return p;
}

static void test_encode(void)
{
	struct pprof *p = build();
	struct decoded d;
	uint8_t *buf = NULL;
	size_t len;
	int64_t calls, ns;
	bool ok = true;

	if (!ASSERT_TRUE("encode:new", p))
		return;
	pprof_totals(p, &calls, &ns);
	ok &= ASSERT_EQ("encode:totals:calls", calls, 6);
	ok &= ASSERT_EQ("encode:totals:ns", ns, 1160);
	if (!ASSERT_EQ("encode:ok", pprof_encode(p, &buf, &len), 0))
		goto out;
	decode(buf, len, &d);
	ok &= ASSERT_EQ("encode:wellformed", d.bad, 0);
	ok &= ASSERT_TRUE("encode:strtab0", d.nstrs > 0 && !strcmp(d.strs[0], ""));
	ok &= ASSERT_EQ("encode:sample_types", d.nsample_types, 2);
	ok &= ASSERT_TRUE("encode:types", !strcmp(S(&d, d.sample_type[0][0]), "calls") &&
			  !strcmp(S(&d, d.sample_type[0][1]), "count") &&
			  !strcmp(S(&d, d.sample_type[1][0]), "time") &&
			  !strcmp(S(&d, d.sample_type[1][1]), "nanoseconds") &&
			  !strcmp(S(&d, d.default_type), "time"));
	ok &= ASSERT_EQ("encode:samples", d.nsamples, 4);
	ok &= ASSERT_EQ("encode:sum:calls", d.sum[0], 6);
	ok &= ASSERT_EQ("encode:sum:ns", d.sum[1], 1160);
	for (int k = 0; k < d.nsamples && k < 16; k++) {
		ok &= ASSERT_TRUE("encode:label", !strcmp(S(&d, d.label_key[k]), "goroutine") &&
				  (!strcmp(S(&d, d.label_str[k]), "1") ||
				   !strcmp(S(&d, d.label_str[k]), "18")));
		ok &= ASSERT_TRUE("encode:depth", d.depth[k] == 2 || d.depth[k] == 3);
	}
	/* 3 known functions + "?" */
	ok &= ASSERT_EQ("encode:locations", d.nlocs, 4);
	ok &= ASSERT_EQ("encode:functions", d.nfuncs, 4);
	for (int k = 0; k < d.nfuncs && k < 8; k++) {
		const char *n = S(&d, d.func_name[k]);

		if (!strcmp(n, "main.(*T).leaf"))
			ok &= ASSERT_TRUE("encode:func:leaf", !strcmp(S(&d, d.func_file[k]), "/src/t.go") &&
					  d.func_line[k] == 5);
		else if (!strcmp(n, "?"))
			ok &= ASSERT_EQ("encode:func:unknown-file", d.func_file[k], 0);
		else
			ok &= ASSERT_TRUE("encode:func:name", !strcmp(n, "main.main") ||
					  !strcmp(n, "main.work"));
	}
	for (int k = 0; k < d.nlocs && k < 8; k++)
		ok &= ASSERT_TRUE("encode:loc", d.loc_func[k] == d.loc_id[k] &&
				  (d.loc_addr[k] == 0 || d.loc_addr[k] >= 0x401000));
	if (ok)
		CHECK_PASS("encode");
out:
	free(buf);
	pprof_free(p);
}

/* pprof_write() on a path, the file opened by the output-file policy. */
static int write_path(const struct pprof *p, const char *path)
{
	struct gt_outfile *f;
	int err = gt_outfile_open(path, &f);

	return err ? err : pprof_write(p, f);
}

static void test_write(void)
{
	char dir[] = "/tmp/test_pprof.XXXXXX", path[256], bad[300], tmp[300];
	struct pprof *p = build();
	uint8_t *buf = NULL, out[65536];
	size_t len;
	gzFile gz;
	int n;

	if (!ASSERT_TRUE("write:setup", p && mkdtemp(dir) && !pprof_encode(p, &buf, &len)))
		goto out;
	snprintf(path, sizeof(path), "%s/p.pb.gz", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* an existing file is replaced */
	fclose(fopen(path, "w"));
	if (!ASSERT_EQ("write:ok", write_path(p, path), 0))
		goto out;
	gz = gzopen(path, "rb");
	n = gz ? gzread(gz, out, sizeof(out)) : -1;
	if (gz)
		gzclose(gz);
	if (ASSERT_EQ("write:gunzip-len", n, (long long)len) &&
	    ASSERT_TRUE("write:gunzip-same", !memcmp(out, buf, len)) &&
	    ASSERT_TRUE("write:no-tmp", access(tmp, F_OK) != 0))
		CHECK_PASS("write");
	snprintf(bad, sizeof(bad), "%s/nodir/p.pb.gz", dir);
	if (ASSERT_EQ("write:missing-dir", write_path(p, bad), -ENOENT))
		CHECK_PASS("write:missing-dir");
	unlink(path);
	rmdir(dir);
out:
	free(buf);
	pprof_free(p);
}

static void test_bad_input(void)
{
	struct pprof_opts o = { .funcs = funcs, .nfuncs = 3 };
	struct pprof *p;
	uint32_t s[] = { 0 };

	if (!ASSERT_EQ("bad:new", pprof_new(&o, &p), 0))
		return;
	if (ASSERT_EQ("bad:empty-stack", pprof_add(p, 1, s, 0, 1, 1), -EINVAL))
		CHECK_PASS("bad-input");
	pprof_free(p);
}

static void test_many(void)
{
	/* enough samples to grow the table several times */
	struct pprof_opts o = { .funcs = funcs, .nfuncs = 3 };
	struct pprof *p;
	uint32_t s[2] = { 0, 1 };
	struct decoded d;
	uint8_t *buf = NULL;
	size_t len;

	if (!ASSERT_EQ("many:new", pprof_new(&o, &p), 0))
		return;
	for (int g = 0; g < 5000; g++) {
		pprof_add(p, g, s, 2, 1, g);
		pprof_add(p, g, s, 2, 1, 1);
	}
	if (ASSERT_EQ("many:encode", pprof_encode(p, &buf, &len), 0)) {
		decode(buf, len, &d);
		if (ASSERT_EQ("many:samples", d.nsamples, 5000) &&
		    ASSERT_EQ("many:calls", d.sum[0], 10000) &&
		    ASSERT_EQ("many:ns", d.sum[1], 5000LL * 4999 / 2 + 5000))
			CHECK_PASS("many");
	}
	free(buf);
	pprof_free(p);
}

int main(void)
{
	test_encode();
	test_write();
	test_bad_input();
	test_many();
	return check_failures ? 1 : 0;
}
