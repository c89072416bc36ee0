/* bank_tcases.h - the bank suite's TCases, one per source file of aggregates/bank/. */
#ifndef ES_BANK_TCASES_H
#define ES_BANK_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_money(void);
TCase *es_tc_account(void);
TCase *es_tc_commands(void);
TCase *es_tc_history(void);
TCase *es_tc_wire(void);

static const es_tcase_fn bank_tcases[] = {
	es_tc_money,
	es_tc_account,
	es_tc_commands,
	es_tc_history,
	es_tc_wire,
};
#endif
