/*
 * es_rmtree.h - removing a directory tree that this program made (a
 * temporary store, a benchmark's or test's scratch directory), whatever
 * files the engine left in it.
 */
#ifndef ES_UTIL_RMTREE_H
#define ES_UTIL_RMTREE_H

/* Removes path and everything under it, not following symbolic links:
 * 0, or the errno of the first removal that failed (the rest is left). */
int es__remove_tree(const char *path);

#endif
