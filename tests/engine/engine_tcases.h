/* engine_tcases.h - the engine suite's TCases, one per engine source file. */
#ifndef ES_ENGINE_TCASES_H
#define ES_ENGINE_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_timefmt(void);
TCase *es_tc_append(void);
TCase *es_tc_read(void);
TCase *es_tc_streams(void);
TCase *es_tc_db(void);
TCase *es_tc_record(void);
TCase *es_tc_clock(void);
TCase *es_tc_check(void);
TCase *es_tc_error(void);
TCase *es_tc_alloc(void);
TCase *es_tc_group(void);

static const es_tcase_fn engine_tcases[] = {
	es_tc_timefmt,
	es_tc_append,
	es_tc_read,
	es_tc_streams,
	es_tc_db,
	es_tc_record,
	es_tc_clock,
	es_tc_check,
	es_tc_error,
	es_tc_alloc,
	es_tc_group,
};
#endif
