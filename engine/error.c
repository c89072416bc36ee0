/*
 * error.c - error texts, the thread-local last error, and the translation of
 * LMDB and errno codes into ES_E* codes (raw codes never reach a caller).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

static _Thread_local char last_message[512];
static _Thread_local es_error last_error = { ES_OK, "" };

const char *es_strerror(int code)
{
	switch (code) {
	case ES_OK: return "success";
	case ES_EINVAL: return "invalid argument";
	case ES_ENOMEM: return "out of memory";
	case ES_ECONFLICT: return "version conflict";
	case ES_EDUPLICATE: return "duplicate event id";
	case ES_EDELETED: return "stream is deleted";
	case ES_ENOTFOUND: return "not found";
	case ES_ECORRUPT: return "corrupt record";
	case ES_EIO: return "I/O error";
	case ES_EFORMAT: return "not a store of a supported format";
	case ES_EREADONLY: return "store is read-only";
	case ES_ETOOBIG: return "event too big";
	case ES_ENOSPC: return "no space left on device";
	case ES_EACCES: return "permission denied";
	case ES_EBUSY: return "resource busy";
	case ES_ESCHEMA: return "unknown schema version";
	case ES_EREJECTED: return "command rejected";
	case ES_ERANGE: return "value out of range";
	case ES_ETIMEDOUT: return "timed out";
	case ES_ITEROVER: return "no more items";
	default: return "unknown error";
	}
}

const es_error *es_error_last(void)
{
	last_error.message = last_message;
	return &last_error;
}

void es_error_clear(void)
{
	last_error.code = ES_OK;
	last_message[0] = '\0';
}

int es_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_message, sizeof last_message, fmt, ap);
	va_end(ap);
	last_error.code = code;
	return code;
}

int es__error_errno(int err, const char *what)
{
	int code;
	switch (err) {
	case ENOMEM: code = ES_ENOMEM; break;
	case ENOSPC: case EDQUOT: case EFBIG: code = ES_ENOSPC; break;
	case EACCES: case EPERM: code = ES_EACCES; break;
	case EROFS: code = ES_EREADONLY; break;
	case ENOENT: code = ES_ENOTFOUND; break;
	case EINVAL: code = ES_EINVAL; break;
	case EAGAIN: case EBUSY: code = ES_EBUSY; break;
	default: code = ES_EIO; break;
	}
	return es__error_set(code, "%s: %s", what, strerror(err));
}

int es__error_lmdb(int rc, const char *what)
{
	switch (rc) {
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_BAD_TXN:
		return es__error_set(ES_ECORRUPT, "%s: store is corrupted (%s)", what, mdb_strerror(rc));
	case MDB_INVALID: case MDB_VERSION_MISMATCH:
		return es__error_set(ES_EFORMAT, "%s: not an evstore store (%s)", what, mdb_strerror(rc));
	case MDB_READERS_FULL: case MDB_TLS_FULL: case MDB_TXN_FULL: case MDB_DBS_FULL:
		return es__error_set(ES_EBUSY, "%s: %s", what, mdb_strerror(rc));
	case MDB_MAP_FULL:
		return es__error_set(ES_ENOSPC, "%s: the memory map could not grow", what);
	case MDB_NOTFOUND:
		return es__error_set(ES_ENOTFOUND, "%s: not found", what);
	case MDB_KEYEXIST:
		return es__error_set(ES_EDUPLICATE, "%s: key exists", what);
	default:
		if (rc > 0)
			return es__error_errno(rc, what);
		return es__error_set(ES_EIO, "%s: %s", what, mdb_strerror(rc));
	}
}
