// SPDX-License-Identifier: MIT
/*
 * target: launch a program held before exec, or attach to a running pid.
 * See target.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gotrace.h"
#include "tracing/clock.h"
#include "tracing/signals.h"
#include "tracing/target.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif


void gt_target_init(struct gt_target *t)
{
	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	t->hold_fd = -1;
	t->err_fd = -1;
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* execvp's search, done in the parent so we know which file will run. */
static int resolve_exe(const char *name, char *out, size_t outsz)
{
	const char *path;
	char buf[PATH_MAX];
	int err = -ENOENT;

	if (strchr(name, '/')) {
		if (access(name, X_OK))
			return -errno;
		if (!realpath(name, out))
			return -errno;
		return 0;
	}
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t n = end - path;
		struct stat st;

		if (n == 0) /* empty element: current directory */
			snprintf(buf, sizeof(buf), "./%s", name);
		else
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (!stat(buf, &st) && S_ISREG(st.st_mode)) {
			if (!access(buf, X_OK) && realpath(buf, out))
				return 0;
			err = -EACCES;
		}
		path = *end ? end + 1 : end;
	}
	return err;
}

int gt_target_launch(char *const argv[], struct gt_target *t)
{
	int hold[2] = { -1, -1 }, errp[2] = { -1, -1 };
	pid_t pid;
	int err;

	if (!argv || !argv[0])
		return gt_set_errmsg(-EINVAL, "no program to launch");
	err = resolve_exe(argv[0], t->exe, sizeof(t->exe));
	if (err == -EACCES)
		return gt_set_errmsg(err, "cannot run '%s': it is not executable", argv[0]);
	if (err)
		return gt_set_errmsg(err, "cannot run '%s': %s", argv[0], strerror(-err));
	snprintf(t->exe_open, sizeof(t->exe_open), "%s", t->exe);

	if (pipe2(hold, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		gt_set_errmsg(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		gt_set_errmsg(err, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		char c;
		ssize_t n;
		struct sigaction sa = { .sa_handler = SIG_DFL };

		/* The child must not inherit our stop handlers. */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		close(hold[1]);
		close(errp[0]);
		do
			n = read(hold[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) /* parent gave up (closed the pipe): don't run the program */
			_exit(127);
		close(hold[0]);
		execv(t->exe, argv);
		err = errno;
		if (write(errp[1], &err, sizeof(err)) < 0) {
			/* nothing more we can do */
		}
		_exit(127);
	}
	close(hold[0]);
	close(errp[1]);
	t->pid = pid;
	t->launched = true;
	t->hold_fd = hold[1];
	t->err_fd = errp[0];
	t->pidfd = pidfd_open(pid);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (hold[i] >= 0)
			close(hold[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return err;
}

/* The thread group (process) of a task id; tid itself if unknown. */
static pid_t tgid_of(pid_t tid)
{
	char line[256];
	pid_t tgid = tid;
	FILE *f = gt_proc_fopen(tid, "status");

	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f)) {
		int v;

		if (sscanf(line, "Tgid: %d", &v) == 1) {
			tgid = v;
			break;
		}
	}
	fclose(f);
	return tgid;
}

int gt_target_attach(pid_t pid, struct gt_target *t)
{
	char link[64];
	ssize_t n;

	if (pid <= 0)
		return gt_set_errmsg(-EINVAL, "invalid pid %d", (int)pid);
	if (pid == getpid())
		return gt_set_errmsg(-EINVAL, "pid %d is gotrace itself", (int)pid);
	if (kill(pid, 0)) {
		if (errno == ESRCH)
			return gt_set_errmsg(-ESRCH, "no process with pid %d", (int)pid);
		if (errno == EPERM)
			return gt_set_errmsg(-EPERM, "cannot trace pid %d: permission denied", (int)pid);
		return gt_set_errmsg(-errno, "pid %d: %s", (int)pid, strerror(errno));
	}
	/* A thread id names its process: probes filter on the process. */
	pid = tgid_of(pid);
	if (pid == getpid())
		return gt_set_errmsg(-EINVAL, "pid %d is gotrace itself", (int)pid);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	if (n < 0) {
		int e = errno;

		if (e == ENOENT) {
			/* kernel threads have no exe; so do zombies */
			return gt_set_errmsg(-ENOEXEC, "pid %d has no executable (kernel thread or exited)",
				       (int)pid);
		}
		if (e == EACCES || e == EPERM)
			return gt_set_errmsg(-EACCES, "cannot trace pid %d: permission denied", (int)pid);
		return gt_set_errmsg(-e, "cannot read %s: %s", link, strerror(e));
	}
	t->exe[n] = '\0';
	snprintf(t->exe_open, sizeof(t->exe_open), "%s", link);
	if (access(t->exe_open, R_OK)) {
		int e = errno;

		return gt_set_errmsg(-e, "cannot read executable of pid %d (%s): %s", (int)pid, t->exe,
			       strerror(e));
	}
	t->pid = pid;
	t->launched = false;
	t->released = true;
	t->pidfd = pidfd_open(pid);
	return 0;
}

static void reap(struct gt_target *t, int options)
{
	int st;
	pid_t r;

	if (!t->launched || t->exited)
		return;
	do
		r = waitpid(t->pid, &st, options);
	while (r < 0 && errno == EINTR);
	if (r == t->pid || (r < 0 && errno == ECHILD)) {
		t->exited = true;
		t->wait_status = r == t->pid ? st : 0;
	}
}

int gt_target_release(struct gt_target *t)
{
	char c = 'x';
	int child_errno = 0;
	ssize_t n;

	if (!t->launched || t->released)
		return 0;
	n = write(t->hold_fd, &c, 1);
	close(t->hold_fd);
	t->hold_fd = -1;
	t->released = true;
	if (n != 1)
		return gt_set_errmsg(-EPIPE, "cannot release pid %d: %s", (int)t->pid, strerror(errno));
	/* EOF on the CLOEXEC pipe means exec succeeded. */
	do
		n = read(t->err_fd, &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(t->err_fd);
	t->err_fd = -1;
	if (n == sizeof(child_errno)) {
		reap(t, 0);
		return gt_set_errmsg(-child_errno, "cannot execute '%s': %s", t->exe,
			       strerror(child_errno));
	}
	return 0;
}

bool gt_target_exited(struct gt_target *t)
{
	if (t->exited || t->pid <= 0)
		return t->exited;
	if (t->launched) {
		reap(t, WNOHANG);
		return t->exited;
	}
	if (t->pidfd >= 0) {
		struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

		if (poll(&p, 1, 0) > 0)
			t->exited = true;
		return t->exited;
	}
	if (kill(t->pid, 0) && errno == ESRCH)
		t->exited = true;
	return t->exited;
}

int gt_target_fd(const struct gt_target *t)
{
	return t->pidfd;
}

static unsigned forwarded_count;

void gt_target_forward_stop(struct gt_target *t)
{
	unsigned n = gt_stop_count();

	if (!t->launched || !t->released || t->exited || !gt_stop_signal() || n == forwarded_count)
		return;
	/* The first stop signal is passed on; another one after that means
	 * the program didn't stop: kill it. */
	kill(t->pid, forwarded_count ? SIGKILL : gt_stop_signal());
	forwarded_count = n;
}

int gt_target_finish(struct gt_target *t, int timeout_ms)
{
	uint64_t deadline;

	if (!t->launched)
		return 0;
	if (!t->released) /* never ran the program */
		return 1;
	if (timeout_ms < 0) {
		reap(t, 0);
	} else {
		deadline = gt_now_ns() + (uint64_t)timeout_ms * 1000000ull;
		while (!gt_target_exited(t) && gt_now_ns() < deadline)
			usleep(10000);
	}
	if (!t->exited)
		return gt_set_errmsg(-ETIMEDOUT, "pid %d did not exit", (int)t->pid);
	if (WIFEXITED(t->wait_status))
		return WEXITSTATUS(t->wait_status);
	if (WIFSIGNALED(t->wait_status))
		return 128 + WTERMSIG(t->wait_status);
	return 1;
}

int gt_target_wait(struct gt_target *t)
{
	int st;

	while ((st = gt_target_finish(t, 200)) == -ETIMEDOUT)
		gt_target_forward_stop(t);
	return st;
}

void gt_target_free(struct gt_target *t)
{
	if (t->hold_fd >= 0) {
		/* Unreleased child: EOF on the hold pipe makes it _exit(127). */
		close(t->hold_fd);
		t->hold_fd = -1;
		reap(t, 0);
	}
	if (t->err_fd >= 0)
		close(t->err_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->err_fd = -1;
	t->pidfd = -1;
}

const char *gt_target_errmsg(void)
{
	return *gt_errmsg() ? gt_errmsg() : "unknown error";
}
