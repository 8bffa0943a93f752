// SPDX-License-Identifier: MIT
/*
 * The runtime's goroutine dump text for one goroutine (traceback.h):
 * goroutineheader(), then traceback2()'s frame lines with printArgs(),
 * then printcreatedby1(); per version as gosym_goroutine_facts() says.
 */
#include <errno.h>
#include <string.h>

#include "goruntime/traceback.h"
#include "goruntime/internal.h"

#define TRACE_ARGS_MAX_LEN 171	/* abi.TraceArgsMaxLen: (5*3+2)*10+1 */
enum {
	ARGS_END_SEQ = 0xff,
	ARGS_START_AGG = 0xfe,
	ARGS_END_AGG = 0xfd,
	ARGS_DOTDOTDOT = 0xfc,
	ARGS_OFFSET_TOO_LARGE = 0xfb,
};

/* The runtime's funcNamePiecesForPrint (Go 1.27: generic methods too). */
static const char *name_pieces(char *buf, size_t len, const char *name, int mode)
{
	const char *i = strchr(name, '['), *j;
	size_t n = strlen(name);

	if (!i)
		return name;
	for (j = name + n - 1; j > name && *j != ']'; j--)
		;
	if (j <= i)
		return name;
	/* interior = (i, j) */
	if (mode >= 2 && memchr(i + 1, '[', (size_t)(j - i - 1))) {
		const char *rbr = NULL, *lbr = NULL;
		int depth = 1;

		for (const char *c = i + 1; c < j; c++) {
			if (*c == '[') {
				if (++depth != 1)
					continue;
				lbr = c;
				break;
			}
			if (*c == ']') {
				if (--depth < 0)
					break;
				if (depth == 0)
					rbr = c;
			}
		}
		if (depth == 1 && rbr && lbr && lbr > rbr) {
			snprintf(buf, len, "%.*s[...]%.*s[...]%s", (int)(i - name), name,
				 (int)(lbr - rbr - 1), rbr + 1, j + 1);
			return buf;
		}
		if (!(depth == 1 && !rbr && !lbr))
			return name;
	}
	snprintf(buf, len, "%.*s[...]%s", (int)(i - name), name, j + 1);
	return buf;
}

static const char *func_name(char *buf, size_t len, const struct gosym_goroutine_facts *fx,
			     const char *raw, bool inlined)
{
	if (!strcmp(raw, "runtime.gopanic") && (fx->generic_names_elided || !inlined))
		return "panic";
	if (!fx->generic_names_elided)
		return raw;
	return name_pieces(buf, len, raw, fx->generic_names_elided);
}

const char *gr_tb_func_name(struct gr_tb *tb, const char *raw, bool inlined)
{
	struct gr_tb *p = tb;

	return func_name(p->name, sizeof(p->name), &p->in->facts, raw, inlined);
}

const char *gr_tb_callers_name(struct gr_tb *tb, const char *raw)
{
	int mode = tb->in->facts.generic_names_elided;

	return mode ? name_pieces(tb->name, sizeof(tb->name), raw, mode) : raw;
}

/* Numbers without printf: the dump of 100,000 goroutines prints
 * millions of them. */
static void put_hex(FILE *f, uint64_t v)
{
	char buf[20], *p = buf + sizeof(buf);

	do {
		*--p = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	*--p = 'x';
	*--p = '0';
	fwrite_unlocked(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

static void put_dec(FILE *f, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	fwrite_unlocked(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

/* "\n\tfile:line" */
static void put_pos(FILE *f, const char *file, int line)
{
	fputs_unlocked("\n\t", f);
	fputs_unlocked(file, f);
	putc_unlocked(':', f);
	put_dec(f, line);
}

/* What printArgs needs of a physical frame's pc, cached by sympc: the
 * ArgInfo program, the liveness bitmaps and the liveness index there. */
static const struct args_ent *args_get(struct gr_tb *p, const struct gosym *go,
				       const struct dwunw_go_frame *pf)
{
	struct args_ent *e = &p->args[(pf->sympc * 0x9E3779B97F4A7C15ULL) >> 52 & (ARGS_CACHE - 1)];

	if (e->sympc == pf->sympc && e->vaddr == pf->vaddr)
		return e;
	memset(e, 0, sizeof(*e));
	e->sympc = pf->sympc;
	e->vaddr = pf->vaddr;
	e->live_idx = -1;
	if (gosym_funcdata(go, pf->vaddr, GOSYM_FUNCDATA_ARGINFO, &e->prog, &e->avail)) {
		e->prog = NULL;
		return e;
	}
	if (e->avail > TRACE_ARGS_MAX_LEN)
		e->avail = TRACE_ARGS_MAX_LEN;
	if (p->in->facts.args_liveness &&
	    !gosym_funcdata(go, pf->vaddr, GOSYM_FUNCDATA_ARGLIVEINFO, &e->live, &e->live_avail)) {
		if (gosym_pcdata(go, pf->sympc, GOSYM_PCDATA_ARGLIVEINDEX, &e->live_idx))
			e->live_idx = -1;
	} else {
		e->live = NULL;
	}
	return e;
}

/* runtime printArgs(): the argument words of a physical frame from its
 * FUNCDATA_ArgInfo program, read at argp in the stack copy; '?' after a
 * spilled register argument the liveness info says may be stale. */
static void print_args(struct gr_tb *p, const struct dwunw_go_frame *pf, FILE *f)
{
	const struct args_ent *ae = args_get(p, p->in->go, pf);
	const uint8_t *prog = ae->prog, *live = ae->live;
	size_t avail = ae->avail, live_avail = ae->live_avail;
	int32_t live_idx = ae->live_idx;
	uint8_t start_off = live ? live[0] : 0xff, slot = 0;
	bool start = true;

	if (!prog)
		return;
	for (size_t pi = 0; pi < avail;) {
		uint8_t o = prog[pi++];

		switch (o) {
		case ARGS_END_SEQ:
			return;
		case ARGS_START_AGG:
			fputs(start ? "{" : ", {", f);
			start = true;
			continue;
		case ARGS_END_AGG:
			fputc('}', f);
			break;
		case ARGS_DOTDOTDOT:
			fputs(start ? "..." : ", ...", f);
			break;
		case ARGS_OFFSET_TOO_LARGE:
			fputs(start ? "_" : ", _", f);
			break;
		default: {
			uint8_t sz = pi < avail ? prog[pi++] : 8;
			uint64_t addr = pf->argp + o, x = 0;
			bool ok = addr >= p->base && addr - p->base + 8 <= p->len;

			if (!start)
				fputs(", ", f);
			if (ok)
				memcpy(&x, p->bytes + (addr - p->base), 8);
			if (sz < 8)
				x = x << (64 - sz * 8) >> (64 - sz * 8);
			if (ok)
				put_hex(f, x);
			else
				fputs("?", f); /* outside the copy: never guess */
			/* isLive() */
			if (live && live_idx > 0 && o >= start_off) {
				size_t b = (size_t)live_idx + slot / 8;

				if (b >= live_avail || !(live[b] & (1u << (slot % 8))))
					fputc('?', f);
			}
			if (o >= start_off)
				slot++;
		}
		}
		start = false;
	}
}

/* The runtime's quoted(): print-safe ASCII kept, the rest escaped. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\n')
			fputs("\\n", f);
		else if (*c == '\r')
			fputs("\\r", f);
		else if (*c == '\t')
			fputs("\\t", f);
		else if (*c == '\\' || *c == '"')
			fprintf(f, "\\%c", *c);
		else if (*c >= ' ' && *c <= '~')
			fputc(*c, f);
		else
			fprintf(f, "\\x%02x", *c); /* non-ASCII: byte escapes (approximation) */
	}
	fputc('"', f);
}

static bool needs_quoting(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '/' || *s == '_'))
			return true;
	return false;
}

static void header_labels(struct gr_tb *p, const struct gr_snapshot *s, const struct gr_g *g,
			  FILE *f, int form)
{
	if (!g->nlabels)
		return;
	fputs(form == 1 ? " labels:{" : " {", f);
	for (uint32_t k = 0; k < g->nlabels; k++) {
		const struct gr_label *l = &s->labels[g->label_idx + k];

		if (form == 1 || needs_quoting(l->key))
			put_quoted(f, l->key);
		else
			fputs(l->key, f);
		fputs(": ", f);
		if (form == 1 || needs_quoting(l->value))
			put_quoted(f, l->value);
		else
			fputs(l->value, f);
		if (k + 1 < g->nlabels)
			fputs(", ", f);
	}
	fputc('}', f);
	(void)p;
}

void gr_tb_header(struct gr_tb *tb, const struct gr_snapshot *s, size_t i, FILE *f)
{
	struct gr_tb *p = tb;
	const struct gosym_goroutine_facts *fx = &p->in->facts;
	const struct gr_g *g = &s->g[i];
	uint32_t st = g->status & ~(uint32_t)GOSYM_G_SCAN;
	int64_t waitfor = 0;
	int labels = p->in->tracebacklabels ? fx->labels_in_header : 0;

	if ((st == GOSYM_G_WAITING || st == GOSYM_G_SYSCALL) && g->waitsince)
		waitfor = ((int64_t)s->mono_ns - g->waitsince) / 60000000000LL;
	fputs_unlocked("goroutine ", f);
	put_dec(f, g->goid);
	fputs_unlocked(" [", f);
	fputs_unlocked(gr_status_string(p->t, g), f);
	if (fx->leaked_suffix && st == GOSYM_G_LEAKED)
		fputs(" (leaked)", f);
	if (g->status & GOSYM_G_SCAN)
		fputs(" (scan)", f);
	if (waitfor >= 1)
		fprintf(f, ", %lld minutes", (long long)waitfor);
	if (g->lockedm)
		fputs(", locked to thread", f);
	if (labels == 1)
		header_labels(p, s, g, f, 1);
	fputc(']', f);
	if (labels == 2)
		header_labels(p, s, g, f, 2);
	fputc(':', f);
}

static void print_frame(struct gr_tb *p, const struct gr_stack *st, int k, FILE *f)
{
	const struct gr_frame *fr = &st->f[k];

	fputs_unlocked(func_name(p->name, sizeof(p->name), &p->in->facts, fr->func, fr->inlined), f);
	putc_unlocked('(', f);
	if (fr->inlined)
		fputs_unlocked("...", f);
	else
		print_args(p, &p->phys[fr->phys], f);
	putc_unlocked(')', f);
	put_pos(f, fr->file, fr->line);
	if (!fr->inlined && fr->pc > fr->entry) {
		fputs_unlocked(" +", f);
		put_hex(f, fr->pc - fr->entry);
	}
	putc_unlocked('\n', f);
}

static void print_created(struct gr_tb *p, const struct gr_created *c, FILE *f)
{
	if (!c->shown)
		return;
	fputs_unlocked("created by ", f);
	fputs_unlocked(func_name(p->name, sizeof(p->name), &p->in->facts, c->func, false), f);
	if (p->in->facts.created_by_goid && c->goid) {
		fputs_unlocked(" in goroutine ", f);
		put_dec(f, c->goid);
	}
	put_pos(f, c->file, c->line);
	if (c->off) {
		fputs_unlocked(" +", f);
		put_hex(f, c->off);
	}
	putc_unlocked('\n', f);
}

int gr_tb_print(struct gr_tb *tb, const struct gr_snapshot *s, size_t i, FILE *f)
{
	struct gr_tb *p = tb;
	const struct gr_stack *st;
	int err, shown = 0;

	if ((err = gr_tb_stack(tb, s, i, &st)))
		return err;
	gr_tb_header(tb, s, i, f);
	fputc('\n', f);
	if (st->running) {
		fputs("\tgoroutine running on other thread; stack unavailable\n", f);
	} else {
		for (int k = 0; k < st->n; k++) {
			if (!st->f[k].shown)
				continue;
			if (st->elide_n && shown == st->elide_at)
				fprintf(f, "...%d frames elided...\n", st->elide_n);
			if (!st->elide_n || shown < st->elide_at || shown >= st->elide_at + st->elide_n)
				print_frame(p, st, k, f);
			shown++;
		}
		if (st->elided_tail)
			fputs("...additional frames elided...\n", f);
	}
	print_created(p, &st->created, f);
	return ferror(f) ? -EIO : 0;
}

int gr_tb_profile_pcs(struct gr_tb *tb, const struct gr_stack *st, uint64_t *pcs, int max)
{
	uint8_t callee = GOSYM_FN_NORMAL;
	int n = 0;

	if (max > tb->in->facts.profile_depth)
		max = tb->in->facts.profile_depth;
	for (int k = 0; k < st->n && n < max; k++) {
		struct gosym_frame gf = { .wrapper = st->f[k].wrapper };

		if (!gosym_elide_wrapper(&gf, (enum gosym_special)callee))
			pcs[n++] = st->f[k].sympc + 1;
		callee = st->f[k].special;
	}
	return n;
}
