/*
 * world.c - the fault suite's template store and state captures (world.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "legacy_events.h"
#include "testutil.h"
#include "world.h"

const char *const fw_accounts[FW_ACCOUNTS] = { "a", "b", "c", "old" };

#define FW_T0 INT64_C(1800000000000000000)
static int64_t now_ns = FW_T0;

void fw_clock_reset(void)
{
	now_ns = FW_T0;
}

int64_t fw_clock(void *user_data)
{
	(void)user_data;
	return now_ns += 1000000;
}

static es_db *open_dir(const char *dir, int *rc)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = fw_clock;
	o.nosync = 1; /* nothing here is about power loss */
	es_db *db = NULL;
	*rc = es_db_open(&db, dir, &o);
	return db;
}

es_db *fw_open(const char *dir)
{
	int rc;
	es_db *db = open_dir(dir, &rc);
	ck_assert_es(rc, 0);
	return db;
}

/* The template is built outside any test (in a child of main), where Check
 * cannot report: a failure is printed and ends the child. */
static void must_ok(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "faults: building the template: %s: %s\n", what, es_error_last()->message);
		_exit(1);
	}
}
#define must(call, expected) must_ok((call) == (expected) ? 0 : -1, #call)

static void deposits(es_db *db, const char *id, int n)
{
	for (int i = 0; i < n; i++)
		must(es_bank_deposit(db, id, 100 + i, "seed"), 0);
}

static void build_old(es_db *db)
{
	legacy_event e;
	legacy_opened(&e, 1, "Old Timer", "USD", 0);
	must(legacy_append(db, "account-old", ES_NO_STREAM, &e), 0);
	for (int i = 0; i < 4; i++) {
		legacy_money(&e, 1, 1, 1010 + i, (1010 + i) / 100.0, "v1");
		must(legacy_append(db, "account-old", i, &e), 0);
	}
	legacy_money(&e, 1, 0, 250, 2.50, "v1");
	must(legacy_append(db, "account-old", 4, &e), 0);
}

static void build_streams(es_db *db)
{
	es_metadata md[2] = { { "who", "seed" }, { "why", "faults" } };
	es_event_data ev[3];
	memset(ev, 0, sizeof ev);
	for (int i = 0; i < 3; i++) {
		ev[i].type = "Noted";
		ev[i].schema_version = 1;
		ev[i].payload = "note";
		ev[i].payload_len = 4;
		ev[i].metadata = md;
		ev[i].metadata_count = 2;
		ev[i].occurred_at = 42;
	}
	must(es_stream_append(NULL, db, FW_PLAIN, ES_NO_STREAM, ev, 3), 0);
	memset(ev[0].id, 0, 16);
	must(es_stream_append(NULL, db, "s-gone", ES_NO_STREAM, ev, 1), 0);
	must(es_stream_delete(db, "s-gone", ES_ANY), 0);
	must(es_stream_tombstone(db, "s-dead", ES_ANY), 0);
	memset(ev[0].id, FW_REPLAY_ID0, 16);
	memset(ev[1].id, FW_REPLAY_ID1, 16);
	must(es_stream_append(NULL, db, FW_REPLAY, ES_NO_STREAM, ev, 2), 0);
	es_snapshot_key key = FW_SNAPSHOT_KEY;
	must(es_snapshot_write(db, FW_PLAIN, 1, &key, "state", 5), 0);
}

void fw_build(const char *dir)
{
	int rc;
	es_db *db = open_dir(dir, &rc);
	must_ok(rc, "opening");
	must(es_bank_open(db, "a", "Alice", "USD", 5000), 0);
	must(es_bank_open(db, "b", "Bob", "USD", 0), 0);
	must(es_bank_open(db, "c", "Carol", "USD", 0), 0);
	deposits(db, "a", 249);
	deposits(db, "b", 5);
	deposits(db, "c", 98);
	build_old(db);
	build_streams(db);
	es_db_close(db);
}

void fw_copy(const char *from, const char *to)
{
	char src[600], dst[600], buf[1 << 16];
	snprintf(src, sizeof src, "%s/data.mdb", from);
	snprintf(dst, sizeof dst, "%s/data.mdb", to);
	ck_assert_int_eq(mkdir(to, 0700), 0);
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert(in >= 0 && out >= 0);
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

static int add_stream(const char *stream, void *user_data)
{
	fw_state *s = user_data;
	ck_assert_uint_lt(s->n_streams, FW_MAX_STREAMS);
	snprintf(s->streams[s->n_streams++].name, ES_STREAM_NAME_MAX + 1, "%s", stream);
	return 0;
}

static void capture_streams(fw_state *s, es_read *rd)
{
	ck_assert_es(es_log_head(&s->log_head, rd), 0);
	ck_assert_es(es_stream_list(rd, NULL, NULL, ES_NO_LIMIT, add_stream, s), 0);
	for (size_t i = 0; i < s->n_streams; i++) {
		int64_t *snaps = NULL;
		ck_assert_es(es_stream_info_get(&s->streams[i].info, rd, s->streams[i].name), 0);
		ck_assert_es(es_snapshot_list(&snaps, &s->streams[i].n_snaps, rd, s->streams[i].name), 0);
		ck_assert_uint_le(s->streams[i].n_snaps, FW_MAX_SNAPS);
		if (s->streams[i].n_snaps)
			memcpy(s->streams[i].snaps, snaps, s->streams[i].n_snaps * sizeof *snaps);
		free(snaps); /* es_snapshot_list's array is libc's */
	}
}

void fw_capture(fw_state *s, es_db *db)
{
	es_read *rd;
	memset(s, 0, sizeof *s);
	ck_assert_es(es_check(NULL, db, NULL), 0);
	ck_assert_es(es_read_begin(&rd, db), 0);
	capture_streams(s, rd);
	es_read_end(rd);
	for (size_t i = 0; i < FW_ACCOUNTS; i++) {
		es_load_info info;
		s->accounts[i].rc = es_bank_account_load(&s->accounts[i].state, &info, db, fw_accounts[i]);
		ck_assert_es(s->accounts[i].rc, 0);
		s->accounts[i].version = info.version;
	}
}

static void assert_same_account(const es_bank_account *x, const es_bank_account *y, const char *what)
{
	ck_assert_msg(strcmp(x->owner, y->owner) == 0 && strcmp(x->currency, y->currency) == 0 &&
	              x->decimals == y->decimals && x->overdraft_limit == y->overdraft_limit &&
	              x->balance == y->balance && x->status == y->status &&
	              x->deposited == y->deposited && x->withdrawn == y->withdrawn,
	              "%s: account of '%s' changed (balance %lld -> %lld)", what, x->owner,
	              (long long)x->balance, (long long)y->balance);
}

void fw_assert_same(const fw_state *a, const fw_state *b, const char *what)
{
	ck_assert_msg(a->log_head == b->log_head, "%s: log head %llu -> %llu", what,
	              (unsigned long long)a->log_head, (unsigned long long)b->log_head);
	ck_assert_msg(a->n_streams == b->n_streams, "%s: %zu streams -> %zu", what, a->n_streams, b->n_streams);
	for (size_t i = 0; i < a->n_streams; i++) {
		ck_assert_str_eq(a->streams[i].name, b->streams[i].name);
		ck_assert_msg(memcmp(&a->streams[i].info, &b->streams[i].info, sizeof a->streams[i].info) == 0,
		              "%s: stream '%s' changed (head %lld -> %lld)", what, a->streams[i].name,
		              (long long)a->streams[i].info.head_version, (long long)b->streams[i].info.head_version);
		ck_assert_msg(a->streams[i].n_snaps == b->streams[i].n_snaps &&
		              memcmp(a->streams[i].snaps, b->streams[i].snaps, sizeof a->streams[i].snaps) == 0,
		              "%s: snapshots of '%s' changed", what, a->streams[i].name);
	}
	for (size_t i = 0; i < FW_ACCOUNTS; i++) {
		ck_assert_int_eq(a->accounts[i].rc, b->accounts[i].rc);
		ck_assert_int_eq(a->accounts[i].version, b->accounts[i].version);
		assert_same_account(&a->accounts[i].state, &b->accounts[i].state, what);
	}
}
