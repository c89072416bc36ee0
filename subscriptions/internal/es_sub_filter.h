/*
 * es_sub_filter.h - the filter a subscription applies (filter.c), for
 * sibling modules that read the log themselves (inline projections). Not
 * installed, not exported.
 */
#ifndef ES_SUB_FILTER_H
#define ES_SUB_FILTER_H

#include <stdbool.h>

#include "evstore/subscription.h"

/* The options' filters, with their strings copied. */
typedef struct es__sub_filter {
	char **prefixes;
	size_t *prefix_lens;
	size_t n_prefixes;
	char **types;
	size_t n_types;
	es_subscription_filter_fn fn;
	void *user_data;
	bool any; /* some filter is set; without, everything matches */
} es__sub_filter;

/* Validates and copies opts' filters. 0, ES_EINVAL (naming the entry), ES_ENOMEM. */
int es__sub_filter_init(es__sub_filter *f, const es_subscription_options *opts);
void es__sub_filter_free(es__sub_filter *f);
bool es__sub_filter_match(const es__sub_filter *f, const es_event *ev);

#endif
