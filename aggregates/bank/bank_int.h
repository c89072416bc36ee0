/*
 * bank_int.h - names shared by the bank domain's files.
 */
#ifndef ES_BANK_INT_H
#define ES_BANK_INT_H

#include <evstore/bank.h>

/* ES_ECORRUPT naming the event whose payload does not decode. */
int es__bank_undecodable(const es_event *ev);

/* The options every read model starts from (models.c): its name and
 * handler, over the account streams. */
void es__bank_model_options(es_projection_options *o, const char *name, es_projection_fn handler);
/* The options of each read model (balances.c, daily.c, owners.c): 0 or
 * ES_ENOMEM. What o->user_data points at is the caller's to es_free. */
int es__bank_balances_options(es_projection_options *o);
int es__bank_daily_options(es_projection_options *o);
int es__bank_owners_options(es_projection_options *o);

#endif
