/*
 * es_fsync.h - making names durable. A new file's data is made durable by
 * its own fsync, but its name (and a rename's new name) lives in the
 * directory, which POSIX makes durable only when the directory itself is
 * fsynced; likewise a new directory's name lives in its parent. Every
 * module that creates or renames a file that must survive a power cut does
 * it through these, in one place.
 */
#ifndef ES_UTIL_FSYNC_H
#define ES_UTIL_FSYNC_H

/* fsyncs the directory dir: 0, or the errno of what failed. */
int es__fsync_dir(const char *dir);

/* fsyncs the directory that holds path (its name up to the last '/', or
 * "." for a bare name): 0, or the errno of what failed. */
int es__fsync_parent(const char *path);

#endif
