// SPDX-License-Identifier: MIT
/*
 * gr_target: a live Go process opened for reading its goroutines (see
 * allgs.h): the executable through /proc/PID/exe, its load bias from
 * /proc/PID/maps, the runtime facts from libgosym, GODEBUG from the
 * environment, and a first read that tells whether we may read at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dwunw_regs.h"
#include "goruntime/allgs.h"
#include "goruntime/internal.h"

static __thread char errbuf[512];

int gr__err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *gr_errmsg(void)
{
	return errbuf[0] ? errbuf : "no error";
}

const struct gr_target_info *gr_target_info(const struct gr_target *t)
{
	return &t->info;
}

struct gr_mem *gr_target_mem(struct gr_target *t)
{
	return t->mem;
}

void gr_target_free(struct gr_target *t)
{
	if (!t)
		return;
	gr_mem_free(t->mem);
	if (t->own_go)
		gosym_free(t->info.go);
	free(t->exe);
	free(t);
}

/* Read a small /proc file into buf (NUL-terminated); bytes read or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total + 1 < len && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/* The load bias: the executable's first mapping (same device and inode
 * as /proc/PID/exe) maps file offset `off` at `start`. */
static int find_bias(struct gr_target *t, pid_t pid)
{
	char path[64], line[4096];
	struct stat st;
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		unsigned int maj, min;
		uint64_t vaddr;

		if (sscanf(line, "%llx-%llx %*4s %llx %x:%x %llu", &start, &end, &off, &maj, &min,
			   &ino) != 6)
			continue;
		if (ino != st.st_ino || makedev(maj, min) != st.st_dev)
			continue;
		if (gosym_offset_to_vaddr(t->info.go, off, &vaddr))
			continue;
		t->info.bias = start - vaddr;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* GODEBUG value of key in a comma-separated list, the last setting winning;
 * -1 if absent. */
static int godebug_get(const char *list, const char *key)
{
	size_t kl = strlen(key);
	int v = -1;

	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		if (len > kl + 1 && !strncmp(p, key, kl) && p[kl] == '=')
			v = atoi(p + kl + 1);
		p = e ? e + 1 : NULL;
	}
	return v;
}

/* tracebacklabels as the runtime computes it: the version's default, the
 * binary's DefaultGODEBUG (from go.mod's go line / //go:debug), then the
 * environment's GODEBUG. */
static void load_godebug(struct gr_target *t, pid_t pid)
{
	const char *mi = gosym_info(t->info.go)->modinfo;
	const char *d = mi ? strstr(mi, "DefaultGODEBUG=") : NULL;
	int v;

	t->info.tracebacklabels = t->info.facts.labels_in_header_default;
	if (d) {
		char buf[1024];
		size_t len = strcspn(d + 15, "\n");

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
			 d + 15);
		if ((v = godebug_get(buf, "tracebacklabels")) >= 0)
			t->info.tracebacklabels = v == 1;
	}
	if (pid > 0) {
		char path[64], *env = malloc(1 << 20);
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
		if (env && (n = read_small(path, env, 1 << 20)) > 0) {
			for (char *p = env; p < env + n; p += strlen(p) + 1)
				if (!strncmp(p, "GODEBUG=", 8) &&
				    (v = godebug_get(p + 8, "tracebacklabels")) >= 0)
					t->info.tracebacklabels = v == 1;
		}
		free(env);
	}
}

/* Everything about the executable; the message names it. */
static int load_runtime(struct gr_target *t)
{
	struct gr_target_info *in = &t->info;
	const struct gosym_info *gi = gosym_info(in->go);
	const char *src;
	int err;

	if (!strcmp(gi->arch, "amd64"))
		in->arch = DWUNW_ARCH_X86_64;
	else if (!strcmp(gi->arch, "arm64"))
		in->arch = DWUNW_ARCH_ARM64;
	else
		return gr__err(-EOPNOTSUPP, "%s: a %s program: only amd64 and arm64 are supported",
			       t->exe, gi->arch);
	if ((err = gosym_goroutine_facts(in->go, &in->facts)))
		return gr__err(err, "%s: %s: goroutines are read for Go 1.17 - 1.27", t->exe,
			       gosym_errmsg());
	if ((err = gosym_runtime_offsets(in->go, &in->off)))
		return gr__err(err, "%s: %s", t->exe, gosym_errmsg());
	if ((err = gosym_allgs(in->go, &in->allgs)))
		return gr__err(err, "%s: %s", t->exe, gosym_errmsg());
	err = gosym_wait_reasons(in->go, &in->waitreasons, &src);
	in->nwaitreasons = err > 0 ? err : 0;
	if (in->off.g_sched_pc < 0 || in->off.g_sched_sp < 0 || in->off.g_waitreason < 0 ||
	    in->off.g_gopc < 0 || in->off.g_startpc < 0 || in->off.g_syscallsp < 0)
		return gr__err(-EOPNOTSUPP, "%s: runtime.g lacks fields a goroutine dump needs",
			       t->exe);
	return 0;
}

/* One read of allglen: tells whether we may read the process at all. */
static int probe_read(struct gr_target *t)
{
	uint64_t v;
	int err = gr_mem_read(t->mem, t->info.allgs.allglen + t->info.bias, &v, sizeof(v));

	if (err == -EPERM || err == -EACCES)
		return gr__err(err, "cannot read process %d (%s): %s: reading another process "
			       "needs ptrace permission (same user and kernel.yama.ptrace_scope "
			       "allowing it, or root / CAP_SYS_PTRACE)", (int)t->info.pid,
			       t->info.comm, strerror(-err));
	if (err == -ESRCH)
		return gr__err(err, "process %d exited", (int)t->info.pid);
	if (err)
		return gr__err(err, "cannot read runtime.allglen of process %d (%s) at 0x%llx: %s",
			       (int)t->info.pid, t->info.comm,
			       (unsigned long long)(t->info.allgs.allglen + t->info.bias),
			       strerror(-err));
	return 0;
}

int gr_target_open(pid_t pid, struct gr_target **out)
{
	struct gr_target *t = NULL;
	char path[64], buf[4096];
	ssize_t n;
	int err;

	*out = NULL;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (pid <= 0 || read_small(path, buf, sizeof(buf)) < 0)
		return gr__err(-ESRCH, "no process %d", (int)pid);
	t = calloc(1, sizeof(*t));
	if (!t)
		return gr__err(-ENOMEM, "out of memory");
	t->info.pid = pid;
	snprintf(t->info.comm, sizeof(t->info.comm), "%.*s", (int)strcspn(buf, "\n"), buf);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0) {
		err = -errno;
		if (err == -ENOENT && !kill(pid, 0))
			err = gr__err(-ENOEXEC, "process %d (%s) has no executable: a kernel thread",
				      (int)pid, t->info.comm);
		else if (err == -ENOENT || err == -ESRCH)
			err = gr__err(-ESRCH, "process %d exited", (int)pid);
		else if (err == -EACCES || err == -EPERM)
			err = gr__err(err, "cannot read process %d (%s): %s: reading another process "
				      "needs ptrace permission (same user and kernel.yama.ptrace_scope "
				      "allowing it, or root / CAP_SYS_PTRACE)", (int)pid, t->info.comm,
				      strerror(-err));
		else
			err = gr__err(err, "cannot read %s: %s", path, strerror(-err));
		goto fail;
	}
	buf[n] = '\0';
	t->exe = strdup(buf);
	t->info.exe = t->exe;
	/* /proc/PID/exe opens the very file the process runs, even if it was
	 * replaced or deleted since, or lives in another mount namespace. */
	err = gosym_open(path, &t->info.go);
	if (err) {
		err = gr__err(err == -ENOEXEC ? -ENOEXEC : err, "process %d (%s, %s) is not a Go "
			      "program we can read: %s", (int)pid, t->info.comm, t->exe,
			      gosym_errmsg());
		goto fail;
	}
	t->own_go = true;
	if ((err = load_runtime(t)))
		goto fail;
	if ((err = find_bias(t, pid))) {
		err = gr__err(err == -ENOENT ? -ESRCH : err, "cannot find %s in /proc/%d/maps",
			      t->exe, (int)pid);
		goto fail;
	}
	load_godebug(t, pid);
	if ((err = gr_mem_open_pid(pid, &t->mem))) {
		err = gr__err(err, "out of memory");
		goto fail;
	}
	if ((err = probe_read(t)))
		goto fail;
	*out = t;
	return 0;
fail:
	gr_target_free(t);
	return err;
}

int gr_target_open_mem(struct gosym *g, uint64_t bias, struct gr_mem *mem, struct gr_target **out)
{
	struct gr_target *t = calloc(1, sizeof(*t));
	int err;

	*out = NULL;
	if (!t) {
		gr_mem_free(mem);
		return gr__err(-ENOMEM, "out of memory");
	}
	t->exe = strdup("(memory)");
	t->info.exe = t->exe;
	t->info.go = g;
	t->info.bias = bias;
	t->mem = mem;
	if ((err = load_runtime(t))) {
		gr_target_free(t);
		return err;
	}
	load_godebug(t, 0);
	*out = t;
	return 0;
}
