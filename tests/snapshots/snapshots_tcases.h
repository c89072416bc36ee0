/* snapshots_tcases.h - the snapshots suite's TCases, one per source file. */
#ifndef ES_SNAPSHOTS_TCASES_H
#define ES_SNAPSHOTS_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_snapshot(void);

static const es_tcase_fn snapshots_tcases[] = {
	es_tc_snapshot,
};
#endif
