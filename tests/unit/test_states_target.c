// SPDX-License-Identifier: MIT
/*
 * Unit tests of gotrace/tracing/target.c (no root needed): launch held before exec,
 * release, exit status propagation, exec failure, an unreleased child that
 * must never run the program, attach checks, duration parsing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tracing/clock.h"
#include "tracing/signals.h"
#include "tracing/target.h"

static void test_launch_status(void)
{
	const char *name = "launch-exit-status";
	char *argv[] = { "sh", "-c", "exit 7", NULL };
	struct gt_target t = GT_TARGET_INIT;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_target_launch(argv, &t), 0);
	ok &= ASSERT_TRUE(name, t.pid > 0 && t.launched && !t.released);
	ok &= ASSERT_TRUE(name, !gt_target_exited(&t)); /* held before exec */
	ok &= ASSERT_EQ(name, gt_target_release(&t), 0);
	ok &= ASSERT_EQ(name, gt_target_finish(&t, 5000), 7);
	gt_target_free(&t);
	if (ok)
		CHECK_PASS(name);
}

static void test_launch_signal(void)
{
	const char *name = "launch-killed-by-signal";
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct gt_target t = GT_TARGET_INIT;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_target_launch(argv, &t), 0);
	ok &= ASSERT_EQ(name, gt_target_release(&t), 0);
	ok &= ASSERT_EQ(name, gt_target_finish(&t, 5000), 128 + SIGTERM);
	gt_target_free(&t);
	if (ok)
		CHECK_PASS(name);
}

/* The program never runs if the parent gives up before release. */
static void test_unreleased(void)
{
	const char *name = "unreleased-never-runs";
	char path[] = "/tmp/gt-target-XXXXXX";
	int fd = mkstemp(path);
	char cmd[128];
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct gt_target t = GT_TARGET_INIT;
	bool ok = true;

	close(fd);
	unlink(path);
	snprintf(cmd, sizeof(cmd), "touch %s", path);
	ok &= ASSERT_EQ(name, gt_target_launch(argv, &t), 0);
	gt_target_free(&t);
	ok &= ASSERT_TRUE(name, access(path, F_OK) != 0);
	ok &= ASSERT_TRUE(name, t.exited && WIFEXITED(t.wait_status) &&
				WEXITSTATUS(t.wait_status) == 127);
	unlink(path);
	if (ok)
		CHECK_PASS(name);
}

static void test_bad_programs(void)
{
	const char *name = "bad-programs";
	char *missing[] = { "/nonexistent/gotrace-test", NULL };
	char *nopath[] = { "gotrace-no-such-command-xyz", NULL };
	char *notexec[] = { "/etc/passwd", NULL };
	struct gt_target t = GT_TARGET_INIT;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_target_launch(missing, &t), -ENOENT);
	ok &= ASSERT_EQ(name, gt_target_launch(nopath, &t), -ENOENT);
	ok &= ASSERT_EQ(name, gt_target_launch(notexec, &t), -EACCES);
	gt_target_free(&t);
	if (ok)
		CHECK_PASS(name);
}

static void test_attach(void)
{
	const char *name = "attach";
	struct gt_target t = GT_TARGET_INIT;
	pid_t child = fork();
	bool ok = true;

	if (child == 0) {
		pause();
		_exit(0);
	}
	ok &= ASSERT_EQ(name, gt_target_attach(child, &t), 0);
	ok &= ASSERT_TRUE(name, t.exe[0] == '/' && !t.launched);
	ok &= ASSERT_TRUE(name, !gt_target_exited(&t));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ok &= ASSERT_TRUE(name, gt_target_exited(&t));
	ok &= ASSERT_EQ(name, gt_target_finish(&t, 0), 0);
	gt_target_free(&t);
	gt_target_init(&t);
	ok &= ASSERT_EQ(name, gt_target_attach(getpid(), &t), -EINVAL);
	ok &= ASSERT_EQ(name, gt_target_attach(0x7ffffff0, &t), -ESRCH);
	gt_target_free(&t);
	if (ok)
		CHECK_PASS(name);
}

/* A program that ignores the forwarded SIGTERM is killed by the next one. */
static void test_forward_escalates(void)
{
	const char *name = "forward-stop-escalates";
	char *argv[] = { "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", NULL };
	struct gt_target t = GT_TARGET_INIT;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_signals_install(), 0);
	ok &= ASSERT_EQ(name, gt_target_launch(argv, &t), 0);
	ok &= ASSERT_EQ(name, gt_target_release(&t), 0);
	usleep(200000); /* let the shell set its trap */
	raise(SIGTERM);
	ok &= ASSERT_TRUE(name, gt_stop_requested() && gt_stop_signal() == SIGTERM);
	gt_target_forward_stop(&t); /* SIGTERM: ignored */
	gt_target_forward_stop(&t); /* no new signal: nothing */
	ok &= ASSERT_EQ(name, gt_target_finish(&t, 300), -ETIMEDOUT);
	raise(SIGTERM);
	gt_target_forward_stop(&t); /* second signal: SIGKILL */
	ok &= ASSERT_EQ(name, gt_target_finish(&t, 5000), 128 + SIGKILL);
	gt_target_free(&t);
	if (ok)
		CHECK_PASS(name);
}

static void test_durations(void)
{
	const char *name = "durations";
	uint64_t ns = 0;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_parse_duration("10", &ns), 0) && ASSERT_EQ(name, ns, 10000000000ULL);
	ok &= ASSERT_EQ(name, gt_parse_duration("500ms", &ns), 0) && ASSERT_EQ(name, ns, 500000000ULL);
	ok &= ASSERT_EQ(name, gt_parse_duration("1.5m", &ns), 0) && ASSERT_EQ(name, ns, 90000000000ULL);
	ok &= ASSERT_EQ(name, gt_parse_duration("250us", &ns), 0) && ASSERT_EQ(name, ns, 250000ULL);
	ok &= ASSERT_EQ(name, gt_parse_duration("2h", &ns), 0) && ASSERT_EQ(name, ns, 7200000000000ULL);
	ok &= ASSERT_EQ(name, gt_parse_duration("0", &ns), -EINVAL);
	ok &= ASSERT_EQ(name, gt_parse_duration("-1s", &ns), -EINVAL);
	ok &= ASSERT_EQ(name, gt_parse_duration("3x", &ns), -EINVAL);
	ok &= ASSERT_EQ(name, gt_parse_duration("", &ns), -EINVAL);
	ok &= ASSERT_EQ(name, gt_parse_duration("nan", &ns), -EINVAL);
	if (ok)
		CHECK_PASS(name);
}

int main(void)
{
	test_launch_status();
	test_launch_signal();
	test_unreleased();
	test_bad_programs();
	test_attach();
	test_durations();
	test_forward_escalates(); /* last: installs the stop handlers */
	return check_failures ? 1 : 0;
}
