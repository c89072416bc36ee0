/*
 * suite.c - the reliability suite: a Jepsen-style bank over several
 * processes and threads, a full disk, a store left locked by a dead process,
 * read-only stores, and stores that are not (or not yet) readable. One TCase
 * per test file, added by the generated reliability_tcases.h. The crash
 * campaign is a separate program (tests/crash/).
 */
#include "testutil.h"
#include "reliability_tcases.h"

int main(void)
{
	Suite *s = suite_create("reliability");
	es_add_tcases(s);
	return es_test_run(s);
}
