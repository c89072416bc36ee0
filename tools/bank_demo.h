/*
 * bank_demo.h - the bank demo: a simulated year on an embedded store.
 */
#ifndef ES_BANK_DEMO_H
#define ES_BANK_DEMO_H

/* Runs the demo in directory db_path (which must not hold a store yet).
 * Returns a process exit status. */
int es_bank_demo(const char *db_path);

#endif
