/*
 * test_error.c - engine/error.c: every errno and LMDB code a caller could
 * meet is translated into an ES_E* code with a message naming the
 * operation; raw codes never leak out. The fixed texts and the last error.
 */
#include <errno.h>
#include <lmdb.h>
#include <string.h>

#include "db.h"
#include "engine_tcases.h"
#include "enginetest.h"

START_TEST(errno_codes_are_translated)
{
	static const struct { int err, code; } map[] = {
		{ ENOMEM, ES_ENOMEM }, { ENOSPC, ES_ENOSPC }, { EDQUOT, ES_ENOSPC }, { EFBIG, ES_ENOSPC },
		{ EACCES, ES_EACCES }, { EPERM, ES_EACCES }, { EROFS, ES_EREADONLY },
		{ ENOENT, ES_ENOTFOUND }, { EINVAL, ES_EINVAL }, { EAGAIN, ES_EBUSY }, { EBUSY, ES_EBUSY },
		{ EIO, ES_EIO }, { ENXIO, ES_EIO },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		ck_assert_int_eq(es__error_errno(map[i].err, "doing it"), map[i].code);
		ck_assert_int_eq(es_error_last()->code, map[i].code);
		et_assert_msg_has("doing it: ");
		et_assert_msg_has(strerror(map[i].err));
	}
}
END_TEST

START_TEST(lmdb_codes_are_translated)
{
	static const struct { int rc, code; } map[] = {
		{ MDB_CORRUPTED, ES_ECORRUPT }, { MDB_PAGE_NOTFOUND, ES_ECORRUPT }, { MDB_BAD_TXN, ES_ECORRUPT },
		{ MDB_INVALID, ES_EFORMAT }, { MDB_VERSION_MISMATCH, ES_EFORMAT },
		{ MDB_READERS_FULL, ES_EBUSY }, { MDB_TLS_FULL, ES_EBUSY }, { MDB_TXN_FULL, ES_EBUSY },
		{ MDB_DBS_FULL, ES_EBUSY }, { MDB_MAP_FULL, ES_ENOSPC }, { MDB_NOTFOUND, ES_ENOTFOUND },
		{ MDB_KEYEXIST, ES_EDUPLICATE }, { MDB_PANIC, ES_EIO }, { ENOSPC, ES_ENOSPC },
		{ EACCES, ES_EACCES },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		ck_assert_int_eq(es__error_lmdb(map[i].rc, "the thing"), map[i].code);
		et_assert_msg_has("the thing");
	}
}
END_TEST

START_TEST(every_code_has_a_text)
{
	static const int codes[] = {
		ES_OK, ES_EINVAL, ES_ENOMEM, ES_ECONFLICT, ES_EDUPLICATE, ES_EDELETED, ES_ENOTFOUND,
		ES_ECORRUPT, ES_EIO, ES_EFORMAT, ES_EREADONLY, ES_ETOOBIG, ES_ENOSPC, ES_EACCES,
		ES_EBUSY, ES_ESCHEMA, ES_EREJECTED, ES_ERANGE, ES_ETIMEDOUT, ES_ITEROVER,
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		ck_assert_str_ne(es_strerror(codes[i]), "unknown error");
	ck_assert_str_eq(es_strerror(-999), "unknown error");
	ck_assert_str_eq(es_strerror(1), "unknown error");
}
END_TEST

START_TEST(last_error_set_and_cleared)
{
	ck_assert_int_eq(es_error_set(ES_ERANGE, "value %d of %s", 7, "x"), ES_ERANGE);
	ck_assert_int_eq(es_error_last()->code, ES_ERANGE);
	ck_assert_str_eq(es_error_last()->message, "value 7 of x");
	es_error_clear();
	ck_assert_int_eq(es_error_last()->code, ES_OK);
	ck_assert_str_eq(es_error_last()->message, "");
}
END_TEST

TCase *es_tc_error(void)
{
	TCase *tc = tcase_create("error");
	tcase_add_test(tc, errno_codes_are_translated);
	tcase_add_test(tc, lmdb_codes_are_translated);
	tcase_add_test(tc, every_code_has_a_text);
	tcase_add_test(tc, last_error_set_and_cleared);
	return tc;
}
