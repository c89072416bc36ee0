/*
 * bank_int.h - names shared by the bank domain's files.
 */
#ifndef ES_BANK_INT_H
#define ES_BANK_INT_H

#include <evstore/bank.h>

/* ES_ECORRUPT naming the event whose payload does not decode. */
int es__bank_undecodable(const es_event *ev);

#endif
