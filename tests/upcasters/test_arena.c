/*
 * test_arena.c - the arena upcasters and payload decoding allocate from:
 * every block 16-byte aligned, spills to the heap when the buffer is full
 * (earlier blocks intact), reset starts over at the buffer, and an arena
 * with no buffer serves every request, even of size 0.
 */
#include <stdint.h>
#include <string.h>

#include <evstore/upcaster.h>

#include "testutil.h"
#include "upcasters_tcases.h"

static int aligned(const void *p)
{
	return ((uintptr_t)p & 15u) == 0;
}

static int inside(const void *p, const unsigned char *buf, size_t size)
{
	return (const unsigned char *)p >= buf && (const unsigned char *)p < buf + size;
}

START_TEST(test_alignment)
{
	_Alignas(16) unsigned char buf[512];
	es_arena a;
	es_arena_init(&a, buf, sizeof buf);
	static const size_t sizes[] = { 1, 3, 16, 17, 5, 31, 8, 64 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = es_arena_alloc(&a, sizes[i]);
		ck_assert_ptr_nonnull(p);
		ck_assert_msg(aligned(p), "allocation %zu (size %zu) is not 16-byte aligned", i, sizes[i]);
		ck_assert(inside(p, buf, sizeof buf));
		memset(p, 0xa0 + (int)i, sizes[i]);
	}
	es_arena_release(&a);
}
END_TEST

START_TEST(test_spill_keeps_earlier_blocks)
{
	_Alignas(16) unsigned char buf[64];
	es_arena a;
	es_arena_init(&a, buf, sizeof buf);
	char *first = es_arena_alloc(&a, 40);
	memcpy(first, "kept in the buffer", 19);
	char *spilled[4];
	for (size_t i = 0; i < 4; i++) {
		spilled[i] = es_arena_alloc(&a, 100 + i);  /* does not fit: heap */
		ck_assert_ptr_nonnull(spilled[i]);
		ck_assert(aligned(spilled[i]));
		ck_assert(!inside(spilled[i], buf, sizeof buf));
		memset(spilled[i], 'a' + (int)i, 100 + i);
	}
	char *small = es_arena_alloc(&a, 16);       /* still fits after the first block */
	ck_assert(inside(small, buf, sizeof buf));
	ck_assert_str_eq(first, "kept in the buffer");
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(spilled[i][99 + i], 'a' + (int)i);
	ck_assert_ptr_null(es_arena_alloc(&a, SIZE_MAX)); /* too big even for the heap */
	es_arena_release(&a);
}
END_TEST

START_TEST(test_reset_starts_over)
{
	_Alignas(16) unsigned char buf[128];
	es_arena a;
	es_arena_init(&a, buf, sizeof buf);
	void *p = es_arena_alloc(&a, 100);
	ck_assert_ptr_eq(p, buf);
	ck_assert_ptr_nonnull(es_arena_alloc(&a, 1000)); /* a spill, freed by reset */
	es_arena_reset(&a);
	ck_assert_ptr_eq(es_arena_alloc(&a, 8), buf);
	ck_assert_ptr_eq(es_arena_alloc(&a, 8), buf + 16);
	es_arena_reset(&a);
	ck_assert_ptr_eq(es_arena_alloc(&a, 128), buf); /* exactly full */
	void *more = es_arena_alloc(&a, 1);               /* full: spills */
	ck_assert_ptr_nonnull(more);
	ck_assert(!inside(more, buf, sizeof buf));
	es_arena_release(&a);
}
END_TEST

/* Regression: an arena without a buffer returned NULL + 0 (undefined, and
 * read by callers as out of memory) for a request of size 0. */
START_TEST(test_no_buffer_spills_everything)
{
	es_arena a;
	es_arena_init(&a, NULL, 0);
	void *zero = es_arena_alloc(&a, 0);
	ck_assert_ptr_nonnull(zero);
	ck_assert(aligned(zero));
	char *p = es_arena_alloc(&a, 10);
	ck_assert_ptr_nonnull(p);
	ck_assert(aligned(p));
	memcpy(p, "123456789", 10);
	es_arena_reset(&a);
	ck_assert_ptr_nonnull(es_arena_alloc(&a, 0));
	es_arena_release(&a);
}
END_TEST

TCase *es_tc_arena(void)
{
	TCase *tc = tcase_create("arena");
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_spill_keeps_earlier_blocks);
	tcase_add_test(tc, test_reset_starts_over);
	tcase_add_test(tc, test_no_buffer_spills_everything);
	return tc;
}
