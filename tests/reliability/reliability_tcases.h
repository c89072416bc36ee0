/* reliability_tcases.h - the reliability suite's TCases, one per source file. */
#ifndef ES_RELIABILITY_TCASES_H
#define ES_RELIABILITY_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *rt_tc_jepsen(void);
TCase *rt_tc_diskfull(void);
TCase *rt_tc_deadproc(void);
TCase *rt_tc_readonly(void);
TCase *rt_tc_badstore(void);

static const es_tcase_fn reliability_tcases[] = {
	rt_tc_jepsen,
	rt_tc_diskfull,
	rt_tc_deadproc,
	rt_tc_readonly,
	rt_tc_badstore,
};
#endif
