/*
 * suite.c - the reliability suite: a Jepsen-style bank over several
 * processes and threads, a full disk, a store left locked by a dead process,
 * read-only stores, and stores that are not (or not yet) readable. One TCase
 * per source file, listed in reliability_tcases.h. The crash campaign is a
 * separate program (tests/crash/).
 */
#include "testutil.h"
#include "reliability_tcases.h"

int main(void)
{
	Suite *s = suite_create("reliability");
	for (size_t i = 0; i < sizeof reliability_tcases / sizeof reliability_tcases[0]; i++)
		suite_add_tcase(s, reliability_tcases[i]());
	return es_test_run(s);
}
