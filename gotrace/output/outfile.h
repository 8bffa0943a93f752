/* SPDX-License-Identifier: MIT */
/*
 * outfile: the one policy for every file a gotrace command writes.
 *
 * gotrace runs as root and its output paths are often in /tmp, so a file is
 * never written through a name someone else could have planted, and a file
 * the user named is never truncated or removed before its replacement is
 * complete.  A command opens every output with gt_outfile_open() *before*
 * it launches or attaches to the target (a bad path costs nothing), hands
 * the handle to the writer, and ends it with gt_outfile_commit() when the
 * writer is done or gt_outfile_abort() on any failure.
 *
 * What a path may name:
 *
 *   "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N
 *       that descriptor of gotrace (duplicated): a stream.
 *   a FIFO, a terminal, /dev/null
 *       a stream, opened now (a FIFO waits for its reader) and written in
 *       place as the data comes.
 *   a regular file, or a name that does not exist yet, in a directory of a
 *   real file system
 *       a file: the data goes to a temporary file in the same directory,
 *       created now: unnamed (O_TMPFILE) where the file system allows it,
 *       else with O_CREAT|O_EXCL|O_NOFOLLOW under a random name.  Commit
 *       gives it a random name (linkat) if it has none and renames it over
 *       the path: readers see the old file or the complete new one, never a
 *       part.  Until then the user's file is untouched; after a failure it
 *       is as it was and no temporary is left (an unnamed one vanishes even
 *       when gotrace is killed).  A replaced file keeps its permission bits;
 *       a new one gets 0666 less the umask.
 *   anything else is refused:
 *       a directory; a symbolic link (the link could point anywhere: name
 *       its target); a device other than a terminal or /dev/null; a block
 *       device; a socket; a file of procfs, sysfs or another pseudo file
 *       system (/proc/self/mem is a "regular file" there).
 *
 * Writing: gt_outfile_stdio() gives a stdio stream whose every write is
 * checked; the first error (its errno) is kept and returned by
 * gt_outfile_error() at once and by gt_outfile_commit() at the end, so a
 * command can stop tracing into a full disk instead of finishing the trace
 * first.  stdout, stderr and terminals are line-buffered (a live stream
 * stays live, as with setlinebuf(stdout)); files, FIFOs and /dev/null are
 * fully buffered.  Writers with their own buffering (zlib) take a
 * descriptor of their own with gt_outfile_gzdopen().  Use one or the other
 * on one outfile, not both.
 *
 * Errors: negative errno; gt_outfile_errmsg() says in words what was wrong
 * with the last path that failed ("it is a directory").  Nothing here
 * prints.  Not thread-safe: one thread per outfile.
 */
#ifndef GOTRACE_OUTFILE_H
#define GOTRACE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <zlib.h>

struct gt_outfile;

/* Check path against the policy above and prepare to write it (create the
 * temporary, open the stream).  0 and *out, or -errno (and *out = NULL). */
int gt_outfile_open(const char *path, struct gt_outfile **out);

/* The path as the user gave it. */
const char *gt_outfile_path(const struct gt_outfile *f);

/* True for a stream (written in place), false for a file (temp + rename). */
bool gt_outfile_is_stream(const struct gt_outfile *f);

/* The stdio stream that writes f (created on the first call; owned by f).
 * NULL when out of memory. */
FILE *gt_outfile_stdio(struct gt_outfile *f);

/* The first write error so far (-errno), 0 if none. */
int gt_outfile_error(const struct gt_outfile *f);

/* zlib on a descriptor of its own: gzip (level 6) when gzip is set, else
 * plain bytes through the same calls (zlib's transparent mode).  Close it
 * with gt_gzclose() before committing.  NULL on failure (errno set). */
gzFile gt_outfile_gzdopen(struct gt_outfile *f, bool gzip);

/* gzwrite() all of buf: 0 or -errno (-EIO when zlib does not say why). */
int gt_gzwrite_all(gzFile gz, const void *buf, size_t len);

/* gzclose(): 0 or -errno.  NULL is a no-op. */
int gt_gzclose(gzFile gz);

/* Flush and check everything written, close, and put the file in place
 * (stream: flush and close).  0, or -errno with the user's file as it was
 * and no temporary left.  Frees f in both cases; NULL returns 0. */
int gt_outfile_commit(struct gt_outfile *f);

/* Give up: the temporary is removed, the user's file stays as it was (a
 * stream keeps what was already written).  Frees f; NULL is a no-op. */
void gt_outfile_abort(struct gt_outfile *f);

/* What was wrong, in words, after gt_outfile_open() or gt_outfile_commit()
 * failed: "it is a directory", "No space left on device". */
const char *gt_outfile_errmsg(void);

/* Tests only: act as if no file system had O_TMPFILE (the named-temporary
 * path). */
extern bool gt_outfile_no_tmpfile;

#endif /* GOTRACE_OUTFILE_H */
