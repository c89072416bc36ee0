/* aggregates_tcases.h - the aggregates suite's TCases, one per source file. */
#ifndef ES_AGGREGATES_TCASES_H
#define ES_AGGREGATES_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_fold(void);
TCase *es_tc_command(void);
TCase *es_tc_rebuild(void);

static const es_tcase_fn aggregates_tcases[] = {
	es_tc_fold,
	es_tc_command,
	es_tc_rebuild,
};
#endif
