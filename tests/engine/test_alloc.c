/*
 * test_alloc.c - engine/alloc.c: es_set_allocator routes the library's own
 * allocations through the caller's functions (with their payload), an
 * incomplete allocator means libc, and the es__ helpers behave like libc's.
 * (tests/faults/ fails each allocation of the main API paths in turn.)
 */
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "engine_tcases.h"
#include "enginetest.h"

typedef struct counts {
	long mallocs, reallocs, frees;
	long live; /* blocks handed out and not yet freed */
} counts;

static void *count_malloc(size_t size, void *user_data)
{
	((counts *)user_data)->mallocs++;
	((counts *)user_data)->live++;
	return malloc(size);
}

static void *count_realloc(void *ptr, size_t size, void *user_data)
{
	((counts *)user_data)->reallocs++;
	((counts *)user_data)->live += ptr == NULL;
	return realloc(ptr, size);
}

static void count_free(void *ptr, void *user_data)
{
	((counts *)user_data)->frees++;
	((counts *)user_data)->live--;
	free(ptr);
}

static counts seen;

static void hook_setup(void)
{
	es_allocator a = { count_malloc, count_realloc, count_free, &seen };
	memset(&seen, 0, sizeof seen);
	es_set_allocator(&a);
}

static void hook_teardown(void)
{
	es_set_allocator(NULL);
}

START_TEST(library_allocations_go_through_the_hook)
{
	es_registry *reg;
	ck_assert_es(es_registry_new(&reg), 0);
	ck_assert_es(es_registry_set_current(reg, "A", 2), 0);
	ck_assert_int_ge(seen.mallocs, 2);   /* the registry, the type name */
	ck_assert_int_ge(seen.reallocs, 1);  /* the array of current versions */
	es_registry_free(reg);
	ck_assert_int_eq(seen.live, 0);
}
END_TEST

START_TEST(stores_allocate_through_the_hook)
{
	et_setup();
	et_append_ok(et_db, "s", ES_NO_STREAM, 3);
	ck_assert_uint_eq(et_count(et_db, "s"), 3);
	et_teardown();
	ck_assert_int_gt(seen.mallocs, 0);
	ck_assert_int_eq(seen.live, 0); /* everything given back at close */
}
END_TEST

START_TEST(incomplete_allocator_means_libc)
{
	es_allocator half = { count_malloc, NULL, count_free, &seen };
	es_set_allocator(&half);
	void *p = es_malloc(10);
	ck_assert_ptr_nonnull(p);
	es_free(p);
	ck_assert_int_eq(seen.mallocs, 0);
	ck_assert_int_eq(seen.frees, 0);
}
END_TEST

START_TEST(helpers_behave_like_libc)
{
	unsigned char *z = es_calloc(4, 8);
	ck_assert_ptr_nonnull(z);
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(z[i], 0);
	z = es_realloc(z, 64);
	ck_assert_ptr_nonnull(z);
	es_free(z);
	es_free(NULL); /* a no-op, never passed to free_fn */
	ck_assert_ptr_null(es_calloc((size_t)-1 / 2, 4)); /* count * size overflows */
	char *s = es__strdup("hello");
	ck_assert_str_eq(s, "hello");
	es_free(s);
	s = es__strndup("hello", 3);
	ck_assert_str_eq(s, "hel");
	es_free(s);
	void *zero = es_malloc(0); /* never NULL for size 0 */
	ck_assert_ptr_nonnull(zero);
	es_free(zero);
	ck_assert_int_eq(seen.live, 0);
}
END_TEST

TCase *es_tc_alloc(void)
{
	TCase *tc = tcase_create("alloc");
	tcase_add_checked_fixture(tc, hook_setup, hook_teardown);
	tcase_add_test(tc, library_allocations_go_through_the_hook);
	tcase_add_test(tc, stores_allocate_through_the_hook);
	tcase_add_test(tc, incomplete_allocator_means_libc);
	tcase_add_test(tc, helpers_behave_like_libc);
	return tc;
}
