/*
 * bank_int.h - names shared by the bank domain's files.
 */
#ifndef ES_BANK_INT_H
#define ES_BANK_INT_H

#include <evstore/engine.h>

/* Event type names at the current schema version. */
#define ES_BANK_ACCOUNT_OPENED "AccountOpened"
#define ES_BANK_MONEY_DEPOSITED "MoneyDeposited"
#define ES_BANK_MONEY_WITHDRAWN "MoneyWithdrawn"
#define ES_BANK_ACCOUNT_FROZEN "AccountFrozen"
#define ES_BANK_ACCOUNT_UNFROZEN "AccountUnfrozen"
#define ES_BANK_ACCOUNT_CLOSED "AccountClosed"
/* Schema version of today's bank events (see schema/ for the history). */
#define ES_BANK_SCHEMA_VERSION 3

/* ES_ECORRUPT naming the event whose payload does not decode. */
int es__bank_undecodable(const es_event *ev);

#endif
