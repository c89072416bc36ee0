/*
 * suite.c - the subscriptions module's Check suite: one TCase per source
 * file (subscription.c, filter.c), added by the generated
 * subscriptions_tcases.h.
 */
#include "testutil.h"
#include "subscriptions_tcases.h"

int main(void)
{
	Suite *s = suite_create("subscriptions");
	es_add_tcases(s);
	return es_test_run(s);
}
