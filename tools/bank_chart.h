/*
 * bank_chart.h - es-bank chart: an account's balance over time as an SVG
 * line chart (axes, dates, amounts), readable in any browser.
 */
#ifndef ES_BANK_CHART_H
#define ES_BANK_CHART_H

#include <stdint.h>

#include <evstore/evstore.h>

/* Writes the chart of account's balance in [since, until] (ns; INT64_MIN /
 * INT64_MAX: its whole life) to path, replacing it only once complete.
 * Prints errors; returns an exit status. */
int es_bank_chart(es_db *db, const char *account, int64_t since, int64_t until, const char *path);

#endif
