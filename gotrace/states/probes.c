// SPDX-License-Identifier: MIT
/*
 * gotrace states: its probes and its BPF object.  See states/probes.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "gotrace.h"
#include "probes/sites.h"
#include "probes/uprobe_multi.h"
#include "states.h"
#include "states/probes.h"
#include "tracing/session.h"
#include "tracing/signals.h"
#include "bpf/states.skel.h"
#include "bpf/states_agg.skel.h"

_Static_assert(sizeof(struct states_rec) == 32, "struct states_rec is the 32-byte wire record");

/* The functions probed: the entry of each, with the cookie that tells the
 * program which one fired.  Only casgstatus is required. */
static const struct probe_spec {
	const char *func;
	uint64_t cookie;
	bool syscall;	/* on_syscall_fast (Go 1.26+ fast path), else on_transition */
	bool required;
} probe_specs[] = {
	{ "runtime.casgstatus", STATES_COOKIE_CASGSTATUS, false, true },
	/* transitions that bypass casgstatus; absent or inlined is not fatal */
	{ "runtime.casGToPreemptScan", STATES_COOKIE_PREEMPTSCAN, false, false },
	{ "runtime.casGFromPreempted", STATES_COOKIE_FROMPREEMPTED, false, false },
	{ "runtime.reentersyscall", STATES_SYSCALL_COOKIE(STATES_G_RUNNING, STATES_G_SYSCALL),
	  true, false },
	{ "runtime.exitsyscall", STATES_SYSCALL_COOKIE(STATES_G_SYSCALL, STATES_G_RUNNING), true,
	  false },
};
_Static_assert(sizeof(probe_specs) / sizeof(probe_specs[0]) == ST_MAX_PROBES, "ST_MAX_PROBES");

/* Where the probe of function `name` goes: its entry site (probes/sites.h).
 * regabi: the program reads the arguments and g from registers, so the
 * site may skip no instruction that writes one. */
static int probe_site(struct gosym *gs, const char *name, bool regabi, struct entry_site *site,
		      uint64_t *off)
{
	int err = sites_entry_of(gs, name, regabi ? SITES_KEEP_ARGS : 0, site, off);

	return err ? err : site->cls == PROBE_REFUSED ? -ENOTSUP : 0;
}

/* How many probes of both lists are of class c. */
static size_t count_class(const struct st_probes *p, enum probe_class c)
{
	size_t n = 0;

	for (size_t i = 0; i < p->trans_list.n; i++)
		n += p->trans_list.cls[i] == c;
	for (size_t i = 0; i < p->sys_list.n; i++)
		n += p->sys_list.cls[i] == c;
	return n;
}

int st_probes_resolve(struct st_probes *p, struct gt_session *s)
{
	struct gosym_go_facts facts;
	bool syscalls;

	gosym_go_facts(s->gs, &facts);
	p->regabi = facts.regabi;
	/* reentersyscall/exitsyscall CAS running<->syscall themselves
	 * (docs/go-runtime.md).  Where they call casgstatus instead, the
	 * model drops the duplicate. */
	syscalls = p->regabi && facts.syscall_fastpath;
	for (size_t i = 0; i < ST_MAX_PROBES; i++) {
		const struct probe_spec *ps = &probe_specs[i];
		struct st_probe_list *l = ps->syscall ? &p->sys_list : &p->trans_list;
		struct entry_site site;
		uint64_t off;
		int err;

		if (ps->syscall && !syscalls)
			continue;
		err = probe_site(s->gs, ps->func, p->regabi, &site, &off);
		if (err == -ENOENT && !ps->required) {
			if (ps->syscall)
				gt_warn("no %s in the binary: syscall transitions may be missed",
					ps->func);
			continue;
		}
		if (err) {
			if (ps->required)
				return err;
			continue;
		}
		if (!ps->syscall)
			p->probe_vaddr[ps->cookie & 3] = site.addr;
		if (ps->cookie == STATES_COOKIE_CASGSTATUS && !ps->syscall)
			p->casg_site = site.addr;
		l->offsets[l->n] = off;
		l->cookies[l->n] = ps->cookie;
		l->funcs[l->n] = ps->func;
		l->cls[l->n] = site.cls;
		l->required[l->n++] = ps->required;
	}
	snprintf(s->attach_note, sizeof(s->attach_note), "%zu emulated, %zu single-stepped",
		 count_class(p, PROBE_EMULATED), count_class(p, PROBE_SSTEP));
	return 0;
}

/* The target's runtime offsets, as the programs read them. */
static void set_offsets(struct states_bpf *skel, const struct st_probes *p,
			const struct gt_session *s, uint32_t ring)
{
	const struct gosym_runtime_offsets *ro = &s->ro;

	GT_SESSION_RUNTIME_RODATA(skel->rodata, s, ring);
	skel->rodata->regabi = p->regabi;
	skel->rodata->off_waitreason = ro->g_waitreason;
	skel->rodata->off_startpc = ro->g_startpc;
	skel->rodata->off_gopc = ro->g_gopc;
	skel->rodata->off_parentgoid = ro->g_parentgoid;
	skel->rodata->off_labels = ro->g_labels;
	if (p->stack)
		skel->rodata->stack_size = p->stack_size;
}

/* Which programs load: the --stack copies or the plain ones, each for
 * uprobe_multi links or for single uprobes; the others stay out. */
static int choose_programs(struct st_probes *p, bool multi)
{
	struct states_bpf *skel = p->skel;
	struct bpf_program *all[2][2][2] = {
		/* [stack][multi]: transition, syscall */
		{ { skel->progs.on_transition, skel->progs.on_syscall_fast },
		  { skel->progs.on_transition_m, skel->progs.on_syscall_fast_m } },
		{ { skel->progs.on_transition_stack, skel->progs.on_syscall_fast_stack },
		  { skel->progs.on_transition_stack_m, skel->progs.on_syscall_fast_stack_m } },
	};
	int err = 0;

	for (int st = 0; st < 2; st++)
		for (int m = 0; m < 2; m++)
			for (int k = 0; k < 2; k++)
				bpf_program__set_autoload(all[st][m][k], st == p->stack && m == multi);
	p->trans = all[p->stack][multi][0];
	p->sys = all[p->stack][multi][1];
	if (multi && !(err = uprobes_prepare_multi(p->trans)))
		err = uprobes_prepare_multi(p->sys);
	return err;
}

int st_probes_load(void *ctx, struct gt_session *s, bool multi)
{
	struct st_probes *p = ctx;
	/* stack records are tens of times bigger than the others */
	uint32_t ring = p->ring_bytes ? p->ring_bytes : p->stack ? 64u << 20 : STATES_RINGBUF_BYTES;
	int err;

	states_bpf__destroy(p->skel);
	p->skel = states_bpf__open();
	if (!p->skel)
		return errno ? -errno : -EINVAL;
	set_offsets(p->skel, p, s, ring);
	err = bpf_map__set_max_entries(p->skel->maps.events, ring);
	if (!err)
		err = choose_programs(p, multi);
	if (!err)
		err = states_bpf__load(p->skel);
	if (err) {
		states_bpf__destroy(p->skel);
		p->skel = NULL;
	}
	return err;
}

/* One perf-event uprobe per function (kernels without uprobe_multi): an
 * optional function that cannot be probed is left out with a warning. */
static int attach_single(struct gt_session *s, struct bpf_program *prog,
			 const struct st_probe_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int err = uprobes_attach(&s->ups, UPROBES_SINGLE, prog, s->target.exe_open,
					 &l->offsets[i], &l->cookies[i], 1, s->target.pid, NULL,
					 NULL);

		if (i == 0)
			gt_fault_point("attach");
		if (gt_stop_requested())
			return -EINTR;	/* what is attached is released by the caller */
		if (err && l->required[i])
			return err;
		if (err)
			gt_warn("cannot probe %s: %s", l->funcs[i], strerror(-err));
	}
	return 0;
}

int st_probes_attach(void *ctx, struct gt_session *s, bool multi)
{
	struct st_probes *p = ctx;
	const char *path = s->target.exe_open;
	pid_t pid = s->target.pid;
	int err;

	if (!multi) {
		err = attach_single(s, p->trans, &p->trans_list);
		return err ? err : attach_single(s, p->sys, &p->sys_list);
	}
	err = uprobes_attach(&s->ups, UPROBES_MULTI, p->trans, path, p->trans_list.offsets,
			     p->trans_list.cookies, p->trans_list.n, pid, NULL, NULL);
	if (!err && p->sys_list.n)
		err = uprobes_attach(&s->ups, UPROBES_MULTI, p->sys, path, p->sys_list.offsets,
				     p->sys_list.cookies, p->sys_list.n, pid, NULL, NULL);
	return err;
}

void st_probes_release(struct st_probes *p)
{
	states_bpf__destroy(p->skel);
	p->skel = NULL;
	states_agg_bpf__destroy(p->agg);
	p->agg = NULL;
}
