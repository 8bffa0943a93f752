// SPDX-License-Identifier: MIT
/*
 * Unit tests of the output-file policy (gotrace/output/outfile.c), the way a
 * hostile machine would test it: a file the user named is intact until the
 * new one is complete and after any failure; no temporary is left behind;
 * a symlink planted at a predictable name is never followed; directories,
 * devices, procfs files and symlinks are refused; write errors (a full
 * device, a full tmpfs, a file size limit) are reported, not swallowed.
 * No root needed; the tmpfs and mknod cases run only as root and say SKIP
 * otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "output/outfile.h"

static char tmpdir[] = "/tmp/test_outfile.XXXXXX";

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The whole file as a string ("" if missing), static buffer. */
static const char *get(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

/* Entries in dir besides . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Write text through the stdio stream of a new outfile. */
static int write_text(struct gt_outfile *f, const char *text)
{
	FILE *s = gt_outfile_stdio(f);

	return s && fputs(text, s) >= 0 ? 0 : -EIO;
}

/* The subtests that run twice: with O_TMPFILE and with named temporaries. */
static const char *variant = "";

static const char *vname(const char *base)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", base, variant);
	return buf[i];
}

static void test_new_file(void)
{
	const char *name = vname("new-file");
	struct gt_outfile *f = NULL;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("new.txt"), &f), 0);
	if (!f)
		return;
	ok &= ASSERT_TRUE(name, !gt_outfile_is_stream(f));
	ok &= ASSERT_EQ(name, write_text(f, "hello\n"), 0);
	/* nothing under the name before commit */
	ok &= ASSERT_TRUE(name, access(tpath("new.txt"), F_OK) != 0);
	/* the named temporary, if any, is not at a predictable name */
	ok &= ASSERT_TRUE(name, access(tpath("new.txt.tmp"), F_OK) != 0);
	ok &= ASSERT_EQ(name, entries(tmpdir), gt_outfile_no_tmpfile ? 1 : 0);
	ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	ok &= ASSERT_STREQ(name, get(tpath("new.txt")), "hello\n");
	ok &= ASSERT_EQ(name, entries(tmpdir), 1);
	unlink(tpath("new.txt"));
	if (ok)
		CHECK_PASS(name);
}

static void test_replace_keeps_until_commit(void)
{
	const char *name = vname("replace-intact-until-commit");
	struct gt_outfile *f = NULL;
	struct stat st;
	bool ok = true;

	put(tpath("keep.txt"), "precious\n");
	chmod(tpath("keep.txt"), 0640);
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("keep.txt"), &f), 0);
	if (!f)
		return;
	ok &= ASSERT_STREQ(name, get(tpath("keep.txt")), "precious\n");
	ok &= ASSERT_EQ(name, write_text(f, "new\n"), 0);
	fflush(gt_outfile_stdio(f));
	ok &= ASSERT_STREQ(name, get(tpath("keep.txt")), "precious\n");
	ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	ok &= ASSERT_STREQ(name, get(tpath("keep.txt")), "new\n");
	ok &= ASSERT_TRUE(name, !stat(tpath("keep.txt"), &st) && (st.st_mode & 07777) == 0640);
	ok &= ASSERT_EQ(name, entries(tmpdir), 1);

	/* abort: the old file stays, nothing else */
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("keep.txt"), &f), 0);
	if (f) {
		ok &= ASSERT_EQ(name, write_text(f, "lost\n"), 0);
		gt_outfile_abort(f);
	}
	ok &= ASSERT_STREQ(name, get(tpath("keep.txt")), "new\n");
	ok &= ASSERT_EQ(name, entries(tmpdir), 1);
	unlink(tpath("keep.txt"));
	if (ok)
		CHECK_PASS(name);
}

/* The old writers used NAME.tmp: an attacker's symlink there must not be
 * followed, and a symlink the user names is refused. */
static void test_planted_symlink(void)
{
	const char *name = vname("planted-symlink-not-followed");
	struct gt_outfile *f = NULL;
	bool ok = true;

	put(tpath("victim"), "victim\n");
	ok &= ASSERT_EQ(name, symlink(tpath("victim"), tpath("x.json.tmp")), 0);
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("x.json"), &f), 0);
	if (f) {
		ok &= ASSERT_EQ(name, write_text(f, "trace\n"), 0);
		ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	}
	ok &= ASSERT_STREQ(name, get(tpath("victim")), "victim\n");
	ok &= ASSERT_STREQ(name, get(tpath("x.json")), "trace\n");

	/* the named path itself a symlink: refused, target intact */
	ok &= ASSERT_EQ(name, symlink(tpath("victim"), tpath("link.json")), 0);
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("link.json"), &f), -ELOOP);
	ok &= ASSERT_TRUE(name, f == NULL && strstr(gt_outfile_errmsg(), "symbolic link"));
	ok &= ASSERT_STREQ(name, get(tpath("victim")), "victim\n");
	ok &= ASSERT_EQ(name, entries(tmpdir), 4);
	unlink(tpath("victim"));
	unlink(tpath("x.json.tmp"));
	unlink(tpath("x.json"));
	unlink(tpath("link.json"));
	if (ok)
		CHECK_PASS(name);
}

static void test_refused(void)
{
	const char *name = "special-files-refused";
	struct gt_outfile *f = NULL;
	bool ok = true;

	ok &= ASSERT_EQ(name, gt_outfile_open(tmpdir, &f), -EISDIR);
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("sub/"), &f), -EISDIR);
	ok &= ASSERT_EQ(name, gt_outfile_open("", &f), -EINVAL);
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("no/such/dir.json"), &f), -ENOENT);
	/* a "regular file" of procfs */
	ok &= ASSERT_EQ(name, gt_outfile_open("/proc/self/mem", &f), -EPERM);
	ok &= ASSERT_TRUE(name, strstr(gt_outfile_errmsg(), "procfs") != NULL);
	ok &= ASSERT_EQ(name, gt_outfile_open("/proc/self/new-file", &f), -EPERM);
	if (access("/dev/full", F_OK) == 0)
		ok &= ASSERT_EQ(name, gt_outfile_open("/dev/full", &f), -ENODEV);
	if (access("/dev/zero", F_OK) == 0)
		ok &= ASSERT_EQ(name, gt_outfile_open("/dev/zero", &f), -ENODEV);
	/* descriptors: not open, read-only */
	ok &= ASSERT_EQ(name, gt_outfile_open("/dev/fd/987", &f), -EBADF);
	{
		int rd = open("/dev/null", O_RDONLY);
		char p[32];

		snprintf(p, sizeof(p), "/dev/fd/%d", rd);
		ok &= ASSERT_EQ(name, gt_outfile_open(p, &f), -EBADF);
		close(rd);
	}
	ok &= ASSERT_TRUE(name, f == NULL);
	ok &= ASSERT_EQ(name, entries(tmpdir), 0);
	if (ok)
		CHECK_PASS(name);
}

static void test_streams(void)
{
	const char *name = "streams-in-place";
	struct gt_outfile *f = NULL;
	char buf[64] = "";
	bool ok = true;
	int rd;

	ok &= ASSERT_EQ(name, gt_outfile_open("/dev/null", &f), 0);
	if (f) {
		ok &= ASSERT_TRUE(name, gt_outfile_is_stream(f));
		ok &= ASSERT_EQ(name, write_text(f, "gone\n"), 0);
		ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	}
	/* a FIFO: written in place (its reader opened first, so open doesn't wait) */
	ok &= ASSERT_EQ(name, mkfifo(tpath("fifo"), 0600), 0);
	rd = open(tpath("fifo"), O_RDONLY | O_NONBLOCK);
	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("fifo"), &f), 0);
	if (f) {
		ok &= ASSERT_EQ(name, write_text(f, "through\n"), 0);
		ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	}
	ok &= ASSERT_EQ(name, read(rd, buf, sizeof(buf) - 1), 8);
	ok &= ASSERT_STREQ(name, buf, "through\n");
	close(rd);
	unlink(tpath("fifo"));
	/* "-" is stdout; writing nothing to it changes nothing */
	ok &= ASSERT_EQ(name, gt_outfile_open("-", &f), 0);
	ok &= ASSERT_TRUE(name, f && gt_outfile_is_stream(f));
	ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	if (ok)
		CHECK_PASS(name);
}

static void test_gzip(void)
{
	const char *name = "gzip-through-outfile";
	struct gt_outfile *f = NULL;
	char buf[64] = "";
	bool ok = true;
	gzFile gz, in;

	ok &= ASSERT_EQ(name, gt_outfile_open(tpath("t.json.gz"), &f), 0);
	if (!f)
		return;
	gz = gt_outfile_gzdopen(f, true);
	ok &= ASSERT_TRUE(name, gz != NULL);
	ok &= ASSERT_EQ(name, gt_gzwrite_all(gz, "{\"a\":1}\n", 8), 0);
	ok &= ASSERT_EQ(name, gt_gzclose(gz), 0);
	ok &= ASSERT_EQ(name, gt_outfile_commit(f), 0);
	in = gzopen(tpath("t.json.gz"), "rb");
	ok &= ASSERT_TRUE(name, in && gzdirect(in) == 0 && gzread(in, buf, sizeof(buf)) == 8);
	if (in)
		gzclose(in);
	ok &= ASSERT_STREQ(name, buf, "{\"a\":1}\n");
	unlink(tpath("t.json.gz"));
	if (ok)
		CHECK_PASS(name);
}

/* A device that always says ENOSPC (/dev/full, char 1,7), as a stream
 * named by its descriptor: every write error reaches the caller. */
static void test_full_device(void)
{
	const char *name = "enospc-full-device";
	const char *dev = "/dev/full";
	struct gt_outfile *f = NULL;
	char p[32], line[128];
	bool ok = true;
	FILE *s;
	int fd;

	if (geteuid() == 0 && !mknod(tpath("full"), S_IFCHR | 0600, makedev(1, 7)))
		dev = tpath("full");
	fd = open(dev, O_WRONLY);
	if (fd < 0) {
		CHECK_SKIP(name, "no /dev/full and not root to mknod one");
		return;
	}
	snprintf(p, sizeof(p), "/dev/fd/%d", fd);
	ok &= ASSERT_EQ(name, gt_outfile_open(p, &f), 0);
	if (f) {
		s = gt_outfile_stdio(f);
		memset(line, 'x', sizeof(line) - 2);
		line[sizeof(line) - 2] = '\n';
		line[sizeof(line) - 1] = 0;
		/* more than the stdio buffer: the first write already failed */
		for (int i = 0; i < 1000 && s; i++)
			fputs(line, s);
		ok &= ASSERT_EQ(name, gt_outfile_error(f), -ENOSPC);
		ok &= ASSERT_EQ(name, gt_outfile_commit(f), -ENOSPC);
	}
	close(fd);
	unlink(tpath("full"));
	if (ok)
		CHECK_PASS(name);
}

/* Run fn in a child (its own mount namespace, limits, signals); the child's
 * exit status is its verdict: 0 pass, 77 skip, else the failed step. */
static int in_child(int (*fn)(void))
{
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A write failure on a regular file (the file size limit: EFBIG, no root
 * needed): the user's file intact, no temporary left. */
static int fsize_child(void)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };
	struct gt_outfile *f;
	char block[4096];
	FILE *s;

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) || gt_outfile_open(tpath("limited.txt"), &f))
		return 1;
	s = gt_outfile_stdio(f);
	memset(block, 'y', sizeof(block));
	for (int i = 0; i < 64 && !gt_outfile_error(f); i++)
		fwrite(block, 1, sizeof(block), s);
	if (gt_outfile_error(f) != -EFBIG)
		return 2;
	return gt_outfile_commit(f) == -EFBIG ? 0 : 3;
}

static void test_write_error_file(void)
{
	const char *name = vname("write-error-keeps-users-file");
	bool ok = true;

	put(tpath("limited.txt"), "precious\n");
	ok &= ASSERT_EQ(name, in_child(fsize_child), 0);
	ok &= ASSERT_STREQ(name, get(tpath("limited.txt")), "precious\n");
	ok &= ASSERT_EQ(name, entries(tmpdir), 1);
	unlink(tpath("limited.txt"));
	if (ok)
		CHECK_PASS(name);
}

/* ENOSPC on a real file system: a 64 KiB tmpfs in a mount namespace of
 * the child's own (root only). */
static int tmpfs_child(void)
{
	struct gt_outfile *f;
	char block[4096];
	FILE *s;
	int err;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mkdir(tpath("small"), 0700) || mount("tmpfs", tpath("small"), "tmpfs", 0, "size=64k"))
		return 77;
	put(tpath("small/out.txt"), "precious\n");
	if (gt_outfile_open(tpath("small/out.txt"), &f))
		return 1;
	s = gt_outfile_stdio(f);
	memset(block, 'z', sizeof(block));
	for (int i = 0; i < 64; i++)
		fwrite(block, 1, sizeof(block), s);
	err = gt_outfile_commit(f);
	if (err != -ENOSPC)
		return 2;
	if (strcmp(get(tpath("small/out.txt")), "precious\n"))
		return 3;
	return entries(tpath("small")) == 1 ? 0 : 4;
}

static void test_tmpfs_full(void)
{
	const char *name = "enospc-tmpfs-keeps-users-file";
	int r;

	if (geteuid() != 0) {
		CHECK_SKIP(name, "needs root to mount a tmpfs");
		return;
	}
	r = in_child(tmpfs_child);
	rmdir(tpath("small"));
	if (r == 77)
		CHECK_SKIP(name, "cannot mount a tmpfs here");
	else if (ASSERT_EQ(name, r, 0))
		CHECK_PASS(name);
}

/* Killed while writing: an unnamed temporary leaves nothing behind. */
static int killed_child(void)
{
	struct gt_outfile *f;

	if (gt_outfile_open(tpath("killed.txt"), &f))
		return 1;
	fputs("partial\n", gt_outfile_stdio(f));
	fflush(gt_outfile_stdio(f));
	raise(SIGKILL);
	return 2;
}

static void test_killed(void)
{
	const char *name = "sigkill-leaves-nothing";
	bool ok = true;

	put(tpath("killed.txt"), "precious\n");
	ok &= ASSERT_EQ(name, in_child(killed_child), 128 + SIGKILL);
	ok &= ASSERT_STREQ(name, get(tpath("killed.txt")), "precious\n");
	/* a file system without O_TMPFILE leaves the random-named temporary */
	ok &= ASSERT_EQ(name, entries(tmpdir), 1);
	unlink(tpath("killed.txt"));
	if (ok)
		CHECK_PASS(name);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	for (int named = 0; named < 2; named++) {
		gt_outfile_no_tmpfile = named;
		variant = named ? "/named-temp" : "";
		test_new_file();
		test_replace_keeps_until_commit();
		test_planted_symlink();
		test_write_error_file();
	}
	gt_outfile_no_tmpfile = false;
	test_refused();
	test_streams();
	test_gzip();
	test_full_device();
	test_tmpfs_full();
	test_killed();
	rmdir(tmpdir);
	return check_failures ? 1 : 0;
}
