// SPDX-License-Identifier: MIT
/*
 * outfile: every output file of every command, one policy.  See outfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "gotrace.h"
#include "output/outfile.h"

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

/* Bytes of stdio buffer for a file (a stream is line-buffered). */
#define OUTFILE_BUF (64 * 1024)

struct gt_outfile {
	char *path;		/* as the user gave it */
	bool stream;		/* written in place */
	bool linebuf;		/* stdout, stderr, a terminal: line-buffered */
	int fd;			/* stream, or the temporary file */
	/* files only */
	int dirfd;		/* the destination directory (O_PATH) */
	char *base;		/* the file's name in dirfd */
	char *tmpname;		/* the temporary's name in dirfd; NULL: unnamed */
	bool keep_mode;		/* a replaced file: give the new one its mode */
	mode_t mode;
	FILE *stdio;		/* gt_outfile_stdio() */
	int err;		/* first write error, -errno */
};

bool gt_outfile_no_tmpfile;


/* --- streams -------------------------------------------------------------- */

/* The descriptor a path names explicitly ("-", /dev/stdout, /dev/fd/N...),
 * or -1 when it names a file. */
static int descriptor_name(const char *path)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };
	char *end;
	long n;

	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t len = strlen(prefixes[i]);

		if (strncmp(path, prefixes[i], len) || !path[len])
			continue;
		n = strtol(path + len, &end, 10);
		if (!*end && n >= 0 && n < INT_MAX)
			return (int)n;
	}
	return -1;
}

static int open_descriptor(struct gt_outfile *f, int n)
{
	int fl = fcntl(n, F_GETFL);

	if (fl < 0)
		return gt_set_errmsg(-EBADF, "descriptor %d is not open", n);
	if ((fl & O_ACCMODE) == O_RDONLY)
		return gt_set_errmsg(-EBADF, "descriptor %d is open for reading only", n);
	f->fd = fcntl(n, F_DUPFD_CLOEXEC, 3);
	if (f->fd < 0)
		return gt_set_errmsg(-errno, "%s", strerror(errno));
	f->stream = true;
	f->linebuf = n == 1 || n == 2 || isatty(f->fd);
	return 0;
}

/* Character devices that are streams: /dev/null and terminals (virtual
 * consoles and serial lines 4, /dev/tty and the console 5, ptys 136-143). */
static bool stream_device(dev_t rdev)
{
	unsigned maj = major(rdev), min = minor(rdev);

	return (maj == 1 && min == 3) || maj == 4 || (maj == 5 && min <= 1) ||
	       (maj >= 136 && maj <= 143);
}

/* A path that exists and is not a regular file. */
static int open_special(struct gt_outfile *f, const struct stat *st)
{
	struct stat now;

	if (S_ISDIR(st->st_mode))
		return gt_set_errmsg(-EISDIR, "it is a directory");
	if (S_ISLNK(st->st_mode))
		return gt_set_errmsg(-ELOOP, "it is a symbolic link, which could point anywhere: "
				       "name the file itself");
	if (S_ISCHR(st->st_mode) && !stream_device(st->st_rdev))
		return gt_set_errmsg(-ENODEV, "it is a device, not a file ('-' writes to stdout)");
	if (!S_ISCHR(st->st_mode) && !S_ISFIFO(st->st_mode))
		return gt_set_errmsg(-ENODEV, "it is not a regular file ('-' writes to stdout)");
	f->fd = open(f->path, O_WRONLY | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0)
		return gt_set_errmsg(-errno, "%s", strerror(errno));
	/* the same object lstat() saw, not one swapped in since */
	if (fstat(f->fd, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return gt_set_errmsg(-EAGAIN, "it changed while being opened");
	f->stream = true;
	f->linebuf = isatty(f->fd);
	return 0;
}

/* --- files ---------------------------------------------------------------- */

/* Pseudo file systems: their "regular files" are kernel interfaces. */
static const char *pseudo_fs(long type)
{
	static const struct {
		long magic;
		const char *name;
	} fs[] = {
		{ PROC_SUPER_MAGIC, "procfs" }, { SYSFS_MAGIC, "sysfs" },
		{ DEBUGFS_MAGIC, "debugfs" }, { TRACEFS_MAGIC, "tracefs" },
		{ SECURITYFS_MAGIC, "securityfs" }, { CGROUP_SUPER_MAGIC, "cgroupfs" },
		{ CGROUP2_SUPER_MAGIC, "cgroup2" }, { BPF_FS_MAGIC, "bpffs" },
		{ EFIVARFS_MAGIC, "efivarfs" }, { PSTOREFS_MAGIC, "pstore" },
		{ SELINUX_MAGIC, "selinuxfs" }, { SMACK_MAGIC, "smackfs" },
		{ NSFS_MAGIC, "nsfs" }, { DEVPTS_SUPER_MAGIC, "devpts" },
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if ((unsigned long)type == (unsigned long)fs[i].magic)
			return fs[i].name;
	return NULL;
}

/* A name nobody can guess: "<base>.<16 hex digits>.tmp", base cut so the
 * whole stays within NAME_MAX. */
static char *random_name(const char *base)
{
	static unsigned counter;
	uint64_t r;
	char *s;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 40) ^ ++counter;
	}
	if (asprintf(&s, "%.200s.%016llx.tmp", base, (unsigned long long)r) < 0)
		return NULL;
	return s;
}

/* Split path into its directory (opened in f->dirfd) and f->base. */
static int open_dir(struct gt_outfile *f)
{
	const char *slash = strrchr(f->path, '/');
	char *dir;
	struct statfs sfs;
	const char *fs;

	if (slash && !slash[1])
		return gt_set_errmsg(-EISDIR, "it names a directory");
	f->base = strdup(slash ? slash + 1 : f->path);
	dir = slash ? strndup(f->path, slash == f->path ? 1 : (size_t)(slash - f->path))
		    : strdup(".");
	if (!f->base || !dir) {
		free(dir);
		return gt_set_errmsg(-ENOMEM, "out of memory");
	}
	f->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (f->dirfd < 0)
		return gt_set_errmsg(-errno, "%s", strerror(errno));
	if (!fstatfs(f->dirfd, &sfs) && (fs = pseudo_fs((long)sfs.f_type)))
		return gt_set_errmsg(-EPERM, "it is on %s, a kernel interface, not a file system for "
				       "output", fs);
	return 0;
}

/* The temporary: unnamed if the file system can, else O_EXCL|O_NOFOLLOW
 * under a random name. */
static int create_temp(struct gt_outfile *f, mode_t mode)
{
	f->fd = gt_outfile_no_tmpfile ? -1 :
		openat(f->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (f->fd >= 0)
		return 0;
	if (gt_outfile_no_tmpfile)
		errno = EOPNOTSUPP;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT)
		return gt_set_errmsg(-errno, "cannot create a file in its directory: %s",
			       strerror(errno));
	for (int tries = 0; tries < 16; tries++) {
		free(f->tmpname);
		f->tmpname = random_name(f->base);
		if (!f->tmpname)
			return gt_set_errmsg(-ENOMEM, "out of memory");
		f->fd = openat(f->dirfd, f->tmpname,
			       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	free(f->tmpname);
	f->tmpname = NULL;
	return gt_set_errmsg(-errno, "cannot create a file in its directory: %s", strerror(errno));
}

/* A regular file (st) or a new name (st NULL). */
static int open_file(struct gt_outfile *f, const struct stat *st)
{
	int err = open_dir(f);

	if (err)
		return err;
	if (st && faccessat(f->dirfd, f->base, W_OK, AT_EACCESS))
		return gt_set_errmsg(-errno, "%s", strerror(errno));
	if ((err = create_temp(f, 0666)))
		return err;
	f->keep_mode = st != NULL;
	f->mode = st ? st->st_mode & 07777 : 0;
	return 0;
}

int gt_outfile_open(const char *path, struct gt_outfile **out)
{
	struct gt_outfile *f;
	struct stat st;
	int n, err;

	*out = NULL;
	if (!path || !*path)
		return gt_set_errmsg(-EINVAL, "an empty name");
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return gt_set_errmsg(-ENOMEM, "out of memory");
	}
	f->fd = f->dirfd = -1;
	n = descriptor_name(path);
	if (n >= 0)
		err = open_descriptor(f, n);
	else if (!lstat(path, &st))
		err = S_ISREG(st.st_mode) ? open_file(f, &st) : open_special(f, &st);
	else if (errno == ENOENT)
		err = open_file(f, NULL);
	else
		err = gt_set_errmsg(-errno, "%s", strerror(errno));
	if (err) {
		gt_outfile_abort(f);
		return err;
	}
	*out = f;
	return 0;
}

const char *gt_outfile_path(const struct gt_outfile *f)
{
	return f->path;
}

bool gt_outfile_is_stream(const struct gt_outfile *f)
{
	return f->stream;
}

int gt_outfile_error(const struct gt_outfile *f)
{
	return f->err;
}

/* --- writing -------------------------------------------------------------- */

/* stdio's write: all of buf or an error, kept in f->err (stdio then marks
 * the FILE failed; later writes are refused at once). */
static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	struct gt_outfile *f = cookie;
	size_t done = 0;

	if (f->err) {
		errno = -f->err;
		return 0;
	}
	while (done < len) {
		ssize_t n = write(f->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->err = n < 0 ? -errno : -EIO;
			errno = -f->err;
			return 0;
		}
		done += (size_t)n;
	}
	return (ssize_t)len;
}

FILE *gt_outfile_stdio(struct gt_outfile *f)
{
	static const cookie_io_functions_t io = { .write = cookie_write };

	if (f->stdio)
		return f->stdio;
	f->stdio = fopencookie(f, "w", io);
	if (f->stdio && setvbuf(f->stdio, NULL, f->linebuf ? _IOLBF : _IOFBF,
				f->linebuf ? BUFSIZ : OUTFILE_BUF)) {
		fclose(f->stdio);
		f->stdio = NULL;
	}
	return f->stdio;
}

gzFile gt_outfile_gzdopen(struct gt_outfile *f, bool gzip)
{
	int fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 3);
	gzFile gz;

	if (fd < 0)
		return NULL;
	/* "T": plain bytes through the same calls */
	gz = gzdopen(fd, gzip ? "wb6" : "wbT");
	if (!gz) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	gzbuffer(gz, 256 * 1024);
	return gz;
}

int gt_gzwrite_all(gzFile gz, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		unsigned chunk = len > (1u << 30) ? 1u << 30 : (unsigned)len;
		int zerr;

		errno = 0;
		if (gzwrite(gz, p, chunk) != (int)chunk) {
			int e = errno;

			gzerror(gz, &zerr);
			return zerr == Z_ERRNO && e ? -e : zerr == Z_MEM_ERROR ? -ENOMEM : -EIO;
		}
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int gt_gzclose(gzFile gz)
{
	int zerr;

	if (!gz)
		return 0;
	errno = 0;
	zerr = gzclose(gz);
	if (zerr == Z_OK)
		return 0;
	return zerr == Z_ERRNO && errno ? -errno : zerr == Z_MEM_ERROR ? -ENOMEM : -EIO;
}

/* --- commit / abort ------------------------------------------------------- */

/* Give the unnamed temporary a name in the destination directory. */
static int name_temp(struct gt_outfile *f)
{
	char proc[64];

	for (int tries = 0; tries < 16; tries++) {
		f->tmpname = random_name(f->base);
		if (!f->tmpname)
			return -ENOMEM;
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not */
		if (!linkat(f->fd, "", f->dirfd, f->tmpname, AT_EMPTY_PATH))
			return 0;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
		if (errno != EEXIST &&
		    !linkat(AT_FDCWD, proc, f->dirfd, f->tmpname, AT_SYMLINK_FOLLOW))
			return 0;
		free(f->tmpname);
		f->tmpname = NULL;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Everything written reached the file: flush stdio, keep the first error. */
static int finish_writes(struct gt_outfile *f)
{
	if (f->stdio) {
		if (fflush(f->stdio) && !f->err)
			f->err = errno ? -errno : -EIO;
		if (ferror(f->stdio) && !f->err)
			f->err = -EIO;
		fclose(f->stdio);	/* the cookie owns nothing to close */
		f->stdio = NULL;
	}
	return f->err;
}

static void outfile_free(struct gt_outfile *f)
{
	if (f->stdio)
		fclose(f->stdio);
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmpname)
		unlinkat(f->dirfd, f->tmpname, 0);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->tmpname);
	free(f->base);
	free(f->path);
	free(f);
}

int gt_outfile_commit(struct gt_outfile *f)
{
	int err, fd;

	if (!f)
		return 0;
	err = finish_writes(f);
	if (!err && f->keep_mode && fchmod(f->fd, f->mode))
		err = -errno;
	if (!err && !f->stream && !f->tmpname)
		err = name_temp(f);
	fd = f->fd;
	f->fd = -1;
	if (close(fd) && !err)
		err = -errno;	/* NFS reports some write errors only here */
	if (!err && !f->stream) {
		if (renameat(f->dirfd, f->tmpname, f->dirfd, f->base))
			err = -errno;
		else
			free(f->tmpname), f->tmpname = NULL;
	}
	if (err)
		gt_set_errmsg(err, "%s", strerror(-err));
	outfile_free(f);	/* removes the temporary if it is still there */
	return err;
}

void gt_outfile_abort(struct gt_outfile *f)
{
	if (f)
		outfile_free(f);
}

const char *gt_outfile_errmsg(void)
{
	return *gt_errmsg() ? gt_errmsg() : "unknown error";
}
