/*
 * fsync.c - fsync of directories, so that new and renamed names survive a
 * power cut (see es_fsync.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "es_fsync.h"

int es__fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int err = 0;
	/* EINVAL: a file system that cannot sync a directory (some FUSE and
	 * network mounts); nothing more can be done there. */
	if (fsync(fd) != 0 && errno != EINVAL)
		err = errno;
	close(fd);
	return err;
}

int es__fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		return es__fsync_dir(".");
	size_t len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof dir)
		return ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return es__fsync_dir(dir);
}
