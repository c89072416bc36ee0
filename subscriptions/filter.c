/*
 * filter.c - which events a subscription delivers: stream name prefixes,
 * event types, and the caller's predicate, in that order (cheapest first).
 */
#include <string.h>

#include "es_alloc.h"
#include "es_sub_filter.h"

static int copy_strings(char ***out, const char *const *in, size_t n, const char *what)
{
	*out = NULL;
	if (n == 0)
		return 0;
	if (!in)
		return es_error_set(ES_EINVAL, "es_subscription_open: %zu %s given but no array", n, what);
	if (!(*out = es_calloc(n, sizeof **out)))
		return es_error_set(ES_ENOMEM, "es_subscription_open: out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!in[i] || !*in[i])
			return es_error_set(ES_EINVAL, "es_subscription_open: %s[%zu] is NULL or empty", what, i);
		if (!((*out)[i] = es__strdup(in[i])))
			return es_error_set(ES_ENOMEM, "es_subscription_open: out of memory");
	}
	return 0;
}

int es__sub_filter_init(es__sub_filter *f, const es_subscription_options *opts)
{
	memset(f, 0, sizeof *f);
	f->fn = opts->filter;
	f->user_data = opts->filter_user_data;
	int rc = copy_strings(&f->prefixes, opts->stream_prefixes, opts->n_stream_prefixes,
	                      "stream_prefixes");
	f->n_prefixes = f->prefixes ? opts->n_stream_prefixes : 0;
	if (rc == 0) {
		rc = copy_strings(&f->types, opts->types, opts->n_types, "types");
		f->n_types = f->types ? opts->n_types : 0;
	}
	if (rc == 0 && f->n_prefixes && !(f->prefix_lens = es_calloc(f->n_prefixes, sizeof(size_t))))
		rc = es_error_set(ES_ENOMEM, "es_subscription_open: out of memory");
	for (size_t i = 0; rc == 0 && i < f->n_prefixes; i++)
		f->prefix_lens[i] = strlen(f->prefixes[i]);
	f->any = f->n_prefixes || f->n_types || f->fn;
	if (rc)
		es__sub_filter_free(f);
	return rc;
}

static void free_strings(char **s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		es_free(s[i]);
	es_free(s);
}

void es__sub_filter_free(es__sub_filter *f)
{
	free_strings(f->prefixes, f->n_prefixes);
	free_strings(f->types, f->n_types);
	es_free(f->prefix_lens);
	memset(f, 0, sizeof *f);
}

static bool any_prefix(const es__sub_filter *f, const char *stream)
{
	for (size_t i = 0; i < f->n_prefixes; i++)
		if (strncmp(stream, f->prefixes[i], f->prefix_lens[i]) == 0)
			return true;
	return false;
}

static bool any_type(const es__sub_filter *f, const char *type)
{
	for (size_t i = 0; i < f->n_types; i++)
		if (strcmp(type, f->types[i]) == 0)
			return true;
	return false;
}

bool es__sub_filter_match(const es__sub_filter *f, const es_event *ev)
{
	return (!f->n_prefixes || any_prefix(f, ev->stream)) && (!f->n_types || any_type(f, ev->type)) &&
	       (!f->fn || f->fn(ev, f->user_data));
}
