// SPDX-License-Identifier: MIT
/*
 * Cells, header lines and --batch snapshots of `gotrace top` (text.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output/json_out.h"
#include "top/text.h"

const char *top_fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (!ns)
		snprintf(buf, len, "0");
	else if (ns < 1000)
		snprintf(buf, len, "<1us");
	else if (ns < 1000000)
		snprintf(buf, len, "%" PRIu64 "us", ns / 1000);
	else if (ns < 1000000000)
		snprintf(buf, len, "%" PRIu64 "ms", ns / 1000000);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns < 100000000000ULL)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else
		snprintf(buf, len, "%" PRIu64 "s", ns / 1000000000);
	return buf;
}

const char *top_fmt_life(char *buf, size_t len, uint64_t ns, bool lower)
{
	uint64_t s = ns / 1000000000;
	const char *p = lower ? ">" : "";

	if (s < 60)
		snprintf(buf, len, "%s%" PRIu64 "s", p, s);
	else if (s < 3600)
		snprintf(buf, len, "%s%" PRIu64 "m%02" PRIu64 "s", p, s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%s%" PRIu64 "h%02" PRIu64 "m", p, s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%s%" PRIu64 "d%02" PRIu64 "h", p, s / 86400, s / 3600 % 24);
	return buf;
}

/* The reason the row waited with most in the last interval; while it
 * waits without having waited in the interval's past (it just began),
 * its current one. */
static const char *top_wait(struct top_source *src, const struct top_row *r)
{
	if (r->ndwaits)
		return src->reason(src, r->dwaits[0].reason);
	if (!r->goid || r->state != TOP_WAIT)
		return "-";
	return src->reason(src, r->reason);
}

const char *top_cell(char *buf, size_t len, struct top_source *src, enum top_view v,
		     const struct top_row *r, enum top_col c)
{
	bool groups = v != TOP_VIEW_GOROUTINES;

	switch (c) {
	case TOP_COL_ID:
		snprintf(buf, len, "%" PRId64, groups ? (int64_t)r->count : r->goid);
		return buf;
	case TOP_COL_STATE: return top_cls_name(r->state);
	case TOP_COL_RUN: return top_fmt_dur(buf, len, r->d[TOP_RUN]);
	case TOP_COL_RNBL: return top_fmt_dur(buf, len, r->d[TOP_RNBL]);
	case TOP_COL_SYS: return top_fmt_dur(buf, len, r->d[TOP_SYS]);
	case TOP_COL_WAIT: return top_fmt_dur(buf, len, r->d[TOP_WAIT]);
	case TOP_COL_REASON: return top_wait(src, r);
	case TOP_COL_LIFE: return top_fmt_life(buf, len, r->life_ns, r->life_lower);
	case TOP_COL_NAME: return r->name ? r->name : "?";
	default: return "";
	}
}

int top_col_width(enum top_view v, enum top_col c, int width)
{
	static const int w[TOP_NCOLS] = { 7, 8, 5, 5, 5, 5, 14, 6, 0 };
	int used = 0;

	if (!top_col_shown(v, c))
		return 0;
	if (c != TOP_COL_NAME)
		return c == TOP_COL_REASON && width >= 120 ? 22 : w[c];
	for (int k = 0; k < TOP_COL_NAME; k++)
		if (top_col_shown(v, k))
			used += top_col_width(v, k, width) + 1;
	return width - used > 10 ? width - used : 10;
}

void top_header_line(char *buf, size_t len, int k, struct top_source *src, struct top_model *m)
{
	const struct top_header *h = top_model_header(m);
	const struct top_ui *u = top_model_ui(m);
	char a[16];

	switch (k) {
	case 0:
		snprintf(buf, len, "gotrace top  pid %d (%s)  %s  every %s  %s%s", (int)src->pid,
			 src->comm, src->goversion && *src->goversion ? src->goversion : "Go ?",
			 top_fmt_dur(a, sizeof(a), h->interval_ns), src->describe(src),
			 u->paused ? "  PAUSED" : "");
		break;
	case 1:
		snprintf(buf, len,
			 "Goroutines: %u, %u running, %u runnable, %u syscall, %u waiting; "
			 "+%u -%u%s",
			 h->total, h->nstate[TOP_RUN], h->nstate[TOP_RNBL], h->nstate[TOP_SYS],
			 h->nstate[TOP_WAIT], h->created, h->exited,
			 u->system ? " (system ones too)" : "");
		break;
	default:
		if (h->trans_per_s >= 0)
			snprintf(a, sizeof(a), "%.0f/s", h->trans_per_s);
		else
			snprintf(a, sizeof(a), "?");
		snprintf(buf, len,
			 "Transitions: %s  GC %.1f%%  Syscall %.1f%%  Dropped %" PRIu64
			 " (total %" PRIu64 ")  Unreadable %" PRIu64,
			 a, h->gc_share * 100, h->sys_share * 100, h->lost_d, h->lost,
			 h->unreadable);
		break;
	}
}

/* The table's header line, the sort column marked. */
static void text_col_header(FILE *f, struct top_model *m, int width)
{
	const struct top_ui *u = top_model_ui(m);

	for (int c = 0; c < TOP_NCOLS; c++) {
		int w = top_col_width(u->view, c, width);
		char name[32];

		if (!w)
			continue;
		snprintf(name, sizeof(name), "%s%s", top_col_name(u->view, c),
			 (int)u->sort == c ? (u->ascending ? "^" : "v") : "");
		if (c == TOP_COL_NAME || c == TOP_COL_REASON || c == TOP_COL_STATE)
			fprintf(f, "%-*s%s", c == TOP_COL_NAME ? 0 : w, name,
				c == TOP_COL_NAME ? "\n" : " ");
		else
			fprintf(f, "%*s ", w, name);
	}
}

int top_text_snapshot(FILE *f, struct top_source *src, struct top_model *m)
{
	const struct top_ui *u = top_model_ui(m);
	struct top_row *const *rows;
	char line[256], cell[64];
	size_t n;

	for (int k = 0; k < TOP_HEADER_LINES; k++) {
		top_header_line(line, sizeof(line), k, src, m);
		fprintf(f, "%s\n", line);
	}
	fprintf(f, "View: %s, sort %s%s%s%s\n", top_view_name(u->view),
		top_col_name(u->view, u->sort), u->ascending ? " ascending" : "",
		u->filter[0] ? ", filter " : "", u->filter);
	text_col_header(f, m, 120);
	rows = top_model_rows(m, &n);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < TOP_NCOLS; c++) {
			int w = top_col_width(u->view, c, 120);
			const char *s;

			if (!w)
				continue;
			s = top_cell(cell, sizeof(cell), src, u->view, rows[i], c);
			if (c == TOP_COL_NAME)
				fprintf(f, "%s\n", s);
			else if (c == TOP_COL_REASON || c == TOP_COL_STATE)
				fprintf(f, "%-*s ", w, s);
			else
				fprintf(f, "%*s ", w, s);
		}
	}
	fputc('\n', f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

static void jsonl_row(FILE *f, struct top_source *src, enum top_view v, const struct top_row *r)
{
	static const char *const keys[TOP_NCLS] = { "running_ns", "runnable_ns", "syscall_ns",
						    "waiting_ns" };

	if (v == TOP_VIEW_GOROUTINES)
		fprintf(f, "{\"goid\":%" PRId64 ",\"state\":\"%s\",\"parent\":%" PRId64, r->goid,
			top_cls_name(r->state), r->parent);
	else
		fprintf(f, "{\"count\":%u,\"in_state\":[%u,%u,%u,%u]", r->count,
			r->nstate[TOP_RUN], r->nstate[TOP_RNBL], r->nstate[TOP_SYS],
			r->nstate[TOP_WAIT]);
	for (int c = 0; c < TOP_NCLS; c++)
		fprintf(f, ",\"%s\":%" PRIu64, keys[c], r->d[c]);
	fprintf(f, ",\"transitions\":%" PRIu64 ",\"top_wait\":", r->dtrans);
	if (r->ndwaits) {
		gt_json_qstr(f, src->reason(src, r->dwaits[0].reason));
		fprintf(f, ",\"top_wait_ns\":%" PRIu64, r->dwaits[0].ns);
	} else if (r->goid && r->state == TOP_WAIT) {
		gt_json_qstr(f, src->reason(src, r->reason));
		fprintf(f, ",\"top_wait_ns\":0");
	} else {
		fprintf(f, "null,\"top_wait_ns\":0");
	}
	fprintf(f, ",\"life_ns\":%" PRIu64 ",\"life_at_least\":%s,\"start\":", r->life_ns,
		r->life_lower ? "true" : "false");
	if (r->start)
		gt_json_qstr(f, r->start);
	else
		fputs("null", f);
	fputs(",\"created_at\":", f);
	if (r->created)
		gt_json_qstr(f, r->created);
	else
		fputs("null", f);
	fputc('}', f);
}

int top_jsonl_snapshot(FILE *f, struct top_source *src, struct top_model *m)
{
	const struct top_header *h = top_model_header(m);
	const struct top_ui *u = top_model_ui(m);
	struct top_row *const *rows;
	size_t n;

	fprintf(f, "{\"type\":\"top\",\"pid\":%d,\"now_ns\":%" PRIu64 ",\"interval_ns\":%" PRIu64
		   ",\"view\":\"%s\",\"goroutines\":%u,\"running\":%u,\"runnable\":%u"
		   ",\"syscall\":%u,\"waiting\":%u,\"created\":%u,\"exited\":%u,"
		   "\"transitions_per_s\":%.1f,\"gc_share\":%.4f,\"syscall_share\":%.4f,"
		   "\"dropped\":%" PRIu64 ",\"unreadable\":%" PRIu64 ",\"rows\":[",
		(int)src->pid, h->now_ns, h->interval_ns,
		u->view == TOP_VIEW_GOROUTINES ? "goroutines" :
		u->view == TOP_VIEW_START ? "start" : "created",
		h->total, h->nstate[TOP_RUN], h->nstate[TOP_RNBL], h->nstate[TOP_SYS],
		h->nstate[TOP_WAIT], h->created, h->exited, h->trans_per_s, h->gc_share,
		h->sys_share, h->lost, h->unreadable);
	rows = top_model_rows(m, &n);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		jsonl_row(f, src, u->view, rows[i]);
	}
	fputs("]}\n", f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
