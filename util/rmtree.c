/*
 * rmtree.c - removing a directory tree (see es_rmtree.h). A store's
 * directory holds more than the files a caller knows by name (the journal,
 * what an interrupted create left), so callers remove the tree, not a list.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>

#include "es_rmtree.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : errno;
}

int es__remove_tree(const char *path)
{
	int rc = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc < 0 ? errno : rc;
}
