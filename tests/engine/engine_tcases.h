/* engine_tcases.h - the engine suite's TCases, one per engine source file. */
#ifndef ES_ENGINE_TCASES_H
#define ES_ENGINE_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_timefmt(void);

static const es_tcase_fn engine_tcases[] = {
	es_tc_timefmt,
};
#endif
