/*
 * bank_reads.h - es-bank's read-side commands, answered from the bank's
 * read models (the balances projection) rather than by folding accounts.
 */
#ifndef ES_BANK_READS_H
#define ES_BANK_READS_H

#include <evstore/evstore.h>

/* es-bank top [-n N] [--json]: the largest balances per currency, after
 * bringing the balances model up to the log head. An exit status. */
int es_bank_cmd_top(es_db *db, const char *count, int json);
/* es-bank daily [--since T] [--until T] [--json]: per currency and day. */
int es_bank_cmd_daily(es_db *db, const char *since, const char *until, int json);
/* es-bank accounts --owner NAME [--json]: the owner's accounts and balances. */
int es_bank_cmd_accounts(es_db *db, const char *owner, int json);
/* es-bank rebuild NAME: one read model built again and put in place, with
 * progress on a terminal. */
int es_bank_cmd_rebuild(es_db *db, const char *name);
/* es-bank projections [--json]: each read model's position, lag and state. */
int es_bank_cmd_projections(es_db *db, int json);
/* Catches the read models up and checks every one of the first n
 * accounts ("acct-0001"...) against a load of the account, and that the
 * daily nets add up to the total of all balances: the demo's check. Prints
 * the result; an exit status. */
int es_bank_check_balances(es_db *db, int n);

#endif
