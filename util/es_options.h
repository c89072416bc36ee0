/*
 * es_options.h - the body of every es_<x>_options_init(opts, version): the
 * defaults of the struct's _INIT macro, or ES_EINVAL for a version this
 * library does not know. Header-only, for the core and the libraries built
 * on it alike.
 */
#ifndef ES_UTIL_OPTIONS_H
#define ES_UTIL_OPTIONS_H

#include <string.h>

#include "evstore/errors.h"

static inline int es__options_init(void *opts, const void *defaults, size_t size, unsigned int version,
                                   unsigned int known, const char *what)
{
	if (!opts)
		return es_error_set(ES_EINVAL, "%s_init: opts is required", what);
	/* One version so far: a newer caller's struct is larger than ours. */
	if (version != known)
		return es_error_set(ES_EINVAL, "%s_init: unknown version %u (this library knows %u)",
		                    what, version, known);
	memcpy(opts, defaults, size);
	return 0;
}

/* For a call taking options: *opts becomes defaults when NULL; then its
 * version (every options struct's first member) must be the one this
 * library knows. 0, or ES_EINVAL naming the function fn. */
static inline int es__options_pick(const void **opts, const void *defaults, unsigned int known,
                                   const char *fn)
{
	unsigned int version;
	if (!*opts)
		*opts = defaults;
	memcpy(&version, *opts, sizeof version);
	if (version != known)
		return es_error_set(ES_EINVAL, "%s: unknown options version %u", fn, version);
	return 0;
}

/* Defines es_<x>_options_init for type es_<x>_options with INIT and VERSION macros. */
#define ES__OPTIONS_INIT_FN(fn, type, init, known)                                  \
	int fn(type *opts, unsigned int version)                                     \
	{                                                                            \
		const type defaults = init;                                          \
		return es__options_init(opts, &defaults, sizeof defaults, version, known, #type); \
	}

#endif
