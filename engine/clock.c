/*
 * clock.c - event ids: UUIDv7 generation (time-ordered and increasing, so
 * the event_ids index is written in append order) and their text form.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "db.h"

/* Random bits for ids come from a per-thread pool filled 4 KiB at a time:
 * one getrandom call per ~400 ids instead of one per id.
 *
 * The ids a process generates increase (RFC 9562's monotonic random
 * method): an id that would not sort after the previous one is the previous
 * one plus one. So the event_ids index takes generated ids at its end.
 *
 * A forked child must neither reuse its parent's pool (it would mint the
 * parent's next ids) nor count up from the parent's last id, so fork empties
 * the forking thread's pool (the only thread the child has) and the last id. */
static _Thread_local uint8_t pool[4096];
static _Thread_local size_t pool_left;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t last_id[16];

static void fork_prepare(void) { pthread_mutex_lock(&last_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&last_lock); }

static void fork_child(void)
{
	pool_left = 0;
	memset(last_id, 0, sizeof last_id);
	pthread_mutex_unlock(&last_lock);
}

static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static int random_bytes(uint8_t *out, size_t n)
{
	if (pool_left < n) {
		if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool)
			return es__error_errno(errno, "generating an event id");
		pool_left = sizeof pool;
	}
	pool_left -= n;
	memcpy(out, pool + pool_left, n);
	return 0;
}

#define RAND_B ((UINT64_C(1) << 62) - 1) /* the low 62 bits; above them, the variant */
#define RAND_A UINT64_C(0xfff)           /* the low 12 bits of the high half */

/* The next UUIDv7 after id: plus one in the random bits, carrying into
 * rand_a and then into the millisecond. */
static void id_increment(uint8_t id[16])
{
	uint64_t hi = es__get_be64(id), lo = es__get_be64(id + 8);
	if ((lo & RAND_B) != RAND_B) {
		lo++;
	} else { /* rand_b wraps to zero and carries */
		lo &= ~RAND_B;
		hi = (hi & RAND_A) != RAND_A ? hi + 1 : ((hi >> 16) + 1) << 16 | 0x7000;
	}
	es__put_be64(id, hi);
	es__put_be64(id + 8, lo);
}

static int random_id(uint8_t id[16], int64_t now_ns)
{
	uint64_t ms = now_ns > 0 ? (uint64_t)now_ns / 1000000 : 0;
	uint8_t rnd[10];
	int rc = random_bytes(rnd, sizeof rnd);
	if (rc)
		return rc;
	for (int i = 0; i < 6; i++)
		id[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(id + 6, rnd, 10);
	id[6] = (uint8_t)(0x70 | (id[6] & 0x0f)); /* version 7 */
	id[8] = (uint8_t)(0x80 | (id[8] & 0x3f)); /* RFC 4122 variant */
	return 0;
}

int es__uuidv7(uint8_t id[16], int64_t now_ns)
{
	pthread_once(&atfork_once, register_atfork);
	int rc = random_id(id, now_ns);
	if (rc)
		return rc;
	pthread_mutex_lock(&last_lock);
	if (memcmp(id, last_id, 16) <= 0) { /* same millisecond, or the clock stepped back */
		memcpy(id, last_id, 16);
		id_increment(id);
	}
	memcpy(last_id, id, 16);
	pthread_mutex_unlock(&last_lock);
	return 0;
}

int es_id_new(uint8_t out[16])
{
	if (!out)
		return es__error_set(ES_EINVAL, "es_id_new: out is NULL");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return es__uuidv7(out, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

bool es__id_is_zero(const uint8_t id[16])
{
	static const uint8_t zero[16];
	return memcmp(id, zero, 16) == 0;
}

void es_id_format(const uint8_t id[16], char out[ES_ID_TEXT_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[id[i] >> 4];
		*p++ = hex[id[i] & 15];
	}
	*p = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int es_id_parse(uint8_t out[16], const char *text)
{
	if (!out || !text)
		return es__error_set(ES_EINVAL, "es_id_parse: out and text are required");
	const char *p = text;
	for (int i = 0; i < 16; i++) {
		if ((i == 4 || i == 6 || i == 8 || i == 10) && *p++ != '-')
			return es__error_set(ES_EINVAL, "'%s' is not a UUID (8-4-4-4-12 hex digits)", text);
		int hi = hex_value(p[0]), lo = hi < 0 ? -1 : hex_value(p[1]);
		if (hi < 0 || lo < 0)
			return es__error_set(ES_EINVAL, "'%s' is not a UUID (8-4-4-4-12 hex digits)", text);
		out[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return *p ? es__error_set(ES_EINVAL, "'%s' is not a UUID (trailing text)", text) : 0;
}
