/* audit_tcases.h - the audit suite's TCases: one per source file of audit/,
 * plus engine/check.c and the bank's descriptors.c, which the audit tools use. */
#ifndef ES_AUDIT_TCASES_H
#define ES_AUDIT_TCASES_H
#include <check.h>

typedef TCase *(*es_tcase_fn)(void);
TCase *es_tc_buf(void);
TCase *es_tc_chain(void);
TCase *es_tc_reader(void);
TCase *es_tc_writer(void);
TCase *es_tc_pbjson(void);
TCase *es_tc_jsonpb(void);
TCase *es_tc_dump(void);
TCase *es_tc_verify(void);
TCase *es_tc_load(void);
TCase *es_tc_check(void);
TCase *es_tc_descriptors(void);

static const es_tcase_fn audit_tcases[] = {
	es_tc_buf, es_tc_chain, es_tc_reader, es_tc_writer, es_tc_pbjson, es_tc_jsonpb,
	es_tc_dump, es_tc_verify, es_tc_load, es_tc_check, es_tc_descriptors,
};
#endif
