/*
 * paths.c - the scenarios of the fault suite (paths.h): open, append, batch
 * commit, stream and log reads, aggregate loads with snapshots and
 * upcasting, commands, snapshot writes, thinning and rebuilding, registry
 * builds, the integrity check, dumps, the importer and restores.
 *
 * Every scenario releases whatever it acquired on every path, failure or
 * not, and returns the first error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/audit.h>

#include "legacy_events.h"
#include "paths.h"
#include "world.h"

static void mix(uint64_t *d, uint64_t v)
{
	*d = (*d ^ v) * UINT64_C(0x100000001b3);
}

static void mix_account(uint64_t *d, const es_bank_account *a, const es_load_info *info)
{
	mix(d, (uint64_t)a->balance);
	mix(d, (uint64_t)a->deposited);
	mix(d, (uint64_t)a->withdrawn);
	mix(d, (uint64_t)a->status);
	mix(d, (uint64_t)info->version);
	mix(d, (uint64_t)info->snapshot_version);
	mix(d, info->events_folded);
}

/* ---- opening ---- */

static int open_with(const char *dir, int read_only)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = fw_clock;
	o.nosync = 1;
	o.read_only = read_only;
	es_db *db = NULL;
	int rc = es_db_open(&db, dir, &o);
	es_db_close(db);
	return rc;
}

static int p_open(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)db;
	return open_with(dir, 0);
}

static int p_open_read_only(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)db;
	return open_with(dir, 1);
}

static int p_create(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)db;
	char fresh[600];
	snprintf(fresh, sizeof fresh, "%s/fresh", dir);
	return open_with(fresh, 0);
}

/* ---- appending ---- */

static es_metadata note_md[2] = { { "who", "faults" }, { "trace", "0123456789abcdef" } };

static void note(es_event_data *ev, const char *type)
{
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->schema_version = 1;
	ev->payload = "fault";
	ev->payload_len = 5;
	ev->metadata = note_md;
	ev->metadata_count = 2;
}

static void mix_result(uint64_t *d, const es_append_result *r)
{
	mix(d, (uint64_t)r->first_version);
	mix(d, (uint64_t)r->head_version);
	mix(d, (uint64_t)r->replayed);
}

/* Two events, one of a type the store has never seen (interned). */
static int p_append(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_event_data ev[2];
	es_append_result r;
	note(&ev[0], "Noted");
	note(&ev[1], "FreshType");
	int rc = es_stream_append(&r, db, FW_PLAIN, 2, ev, 2);
	if (rc == 0)
		mix_result(d, &r);
	return rc;
}

/* The template's two events again, with their ids: an idempotent replay. */
static int p_append_replay(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_event_data ev[2];
	es_append_result r;
	note(&ev[0], "Noted");
	note(&ev[1], "Noted");
	memset(ev[0].id, FW_REPLAY_ID0, 16);
	memset(ev[1].id, FW_REPLAY_ID1, 16);
	int rc = es_stream_append(&r, db, FW_REPLAY, ES_NO_STREAM, ev, 2);
	if (rc == 0)
		mix_result(d, &r);
	return rc;
}

/* A transfer-shaped batch over two streams, one new, with a staged snapshot. */
static int p_batch(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_event_data out, in[2];
	es_append_result r[2];
	es_snapshot_key key = { 1, 0 };
	es_batch *b;
	note(&out, "Sent");
	note(&in[0], "Received");
	note(&in[1], "Received");
	int rc = es_batch_new(&b, db);
	if (rc)
		return rc;
	if ((rc = es_batch_append(b, FW_PLAIN, 2, &out, 1)) ||
	    (rc = es_batch_append(b, "s-other", ES_NO_STREAM, in, 2)) ||
	    (rc = es_snapshot_stage(b, FW_PLAIN, 3, &key, "state", 5))) {
		es_batch_free(b);
		return rc;
	}
	if ((rc = es_batch_commit(b, r)) == 0) {
		mix_result(d, &r[0]);
		mix_result(d, &r[1]);
	}
	return rc;
}

/* ---- reading ---- */

static int walk_metadata(uint64_t *d, const es_event *ev)
{
	size_t cursor = 0, kl, vl;
	const char *k, *v;
	int rc;
	while ((rc = es_event_metadata_next(ev, &cursor, &k, &kl, &v, &vl)) == 0)
		mix(d, kl * 1000 + vl);
	return rc == ES_ITEROVER ? 0 : rc;
}

/* Drains it, folding versions, positions and metadata into d. */
static int drain(uint64_t *d, es_iter *it)
{
	es_event ev;
	int rc;
	while ((rc = es_iter_next(&ev, it)) == 0) {
		mix(d, (uint64_t)ev.version);
		mix(d, ev.position);
		mix(d, ev.payload_len);
		if ((rc = walk_metadata(d, &ev)))
			return rc;
	}
	return rc == ES_ITEROVER ? 0 : rc;
}

static int iterate_stream(uint64_t *d, es_read *rd, const char *stream, es_direction dir, size_t limit)
{
	es_iter *it;
	int rc = es_stream_iter(&it, rd, stream, dir == ES_FORWARD ? 0 : ES_HEAD, dir, limit);
	if (rc)
		return rc;
	rc = drain(d, it);
	es_iter_free(it);
	return rc;
}

/* Half a stream, a renew, then the rest from the same iterator. */
static int iterate_across_renew(uint64_t *d, es_read *rd)
{
	es_iter *it = NULL;
	es_event ev;
	int rc = es_stream_iter(&it, rd, "account-a", 0, ES_FORWARD, ES_NO_LIMIT);
	for (int i = 0; rc == 0 && i < 100; i++)
		if ((rc = es_iter_next(&ev, it)) == 0)
			mix(d, (uint64_t)ev.version);
	if (rc == 0 && (rc = es_read_renew(rd)) == 0)
		rc = drain(d, it);
	es_iter_free(it);
	return rc;
}

static int point_reads(uint64_t *d, es_read *rd)
{
	es_event ev;
	es_stream_info si;
	int64_t v;
	int rc = es_stream_get(&ev, rd, "account-b", 2);
	if (rc == 0) {
		mix(d, ev.position);
		rc = es_stream_info_get(&si, rd, "account-a");
	}
	if (rc == 0 && (rc = es_stream_version_at(&v, rd, "account-a", ev.recorded_at)) == 0)
		mix(d, (uint64_t)v);
	return rc;
}

static int p_stream_read(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_read *rd;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	if ((rc = iterate_stream(d, rd, FW_PLAIN, ES_FORWARD, ES_NO_LIMIT)) == 0 &&
	    (rc = iterate_stream(d, rd, "account-a", ES_BACKWARD, 5)) == 0 &&
	    (rc = point_reads(d, rd)) == 0)
		rc = iterate_across_renew(d, rd);
	es_read_end(rd);
	return rc;
}

static int p_log_read(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_read *rd;
	es_iter *it = NULL;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	if ((rc = es_log_iter(&it, rd, 0, ES_FORWARD, ES_NO_LIMIT)) == 0) {
		rc = drain(d, it);
		es_iter_free(it);
	}
	if (rc == 0 && (rc = es_log_iter(&it, rd, ES_LOG_END, ES_BACKWARD, 20)) == 0) {
		rc = drain(d, it);
		es_iter_free(it);
	}
	es_read_end(rd);
	return rc;
}

static int name_seen(const char *stream, void *user_data)
{
	mix(user_data, strlen(stream));
	return 0;
}

static int p_stream_list(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_read *rd;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	rc = es_stream_list(rd, "account-", NULL, ES_NO_LIMIT, name_seen, d);
	es_read_end(rd);
	return rc;
}

/* ---- aggregates ---- */

static int load_as_of_middle(uint64_t *d, es_db *db)
{
	es_read *rd;
	es_event ev;
	es_bank_account acc;
	es_load_info info;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	rc = es_stream_get(&ev, rd, "account-a", 150);
	int64_t t = ev.recorded_at;
	es_read_end(rd);
	if (rc == 0 && (rc = es_bank_account_load_as_of(&acc, &info, db, "a", t)) == 0)
		mix_account(d, &acc, &info);
	return rc;
}

static int history_line(const es_event *ev, const es_bank_account *before, const es_bank_account *after, void *user_data)
{
	mix(user_data, (uint64_t)ev->version);
	mix(user_data, (uint64_t)(after->balance - before->balance));
	return 0;
}

/* Latest (from the snapshot at 199), at a version (from 99), as of a time,
 * and a history walk. */
static int p_load(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_bank_account acc;
	es_load_info info;
	int rc = es_bank_account_load(&acc, &info, db, "a");
	if (rc == 0) {
		mix_account(d, &acc, &info);
		rc = es_bank_account_load_at_version(&acc, &info, db, "a", 150);
	}
	if (rc == 0) {
		mix_account(d, &acc, &info);
		rc = load_as_of_middle(d, db);
	}
	return rc ? rc : es_bank_history(db, "b", INT64_MIN, INT64_MAX, history_line, d);
}

/* Release 1 events through the upcaster chain. */
static int p_load_v1(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_bank_account acc;
	es_load_info info;
	int rc = es_bank_account_load(&acc, &info, db, "old");
	if (rc == 0)
		mix_account(d, &acc, &info);
	return rc;
}

static int p_deposit(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)dir;
	return es_bank_deposit(db, "b", 500, "fault");
}

/* c's 100th event: the command stages a snapshot in its batch. */
static int p_deposit_snapshot(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)dir;
	return es_bank_deposit(db, "c", 1, "fault");
}

static int p_transfer(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)dir;
	return es_bank_transfer(db, "a", "b", 250, "fault");
}

static int p_rejected(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)dir;
	int rc = es_bank_withdraw(db, "b", INT64_C(1) << 40, "too much");
	return rc == ES_EREJECTED ? 0 : rc ? rc : ES_EINVAL;
}

/* ---- snapshots ---- */

static int p_snapshot_write(uint64_t *d, es_db *db, const char *dir)
{
	(void)d; (void)dir;
	es_snapshot_key key = FW_SNAPSHOT_KEY;
	return es_snapshot_write(db, FW_PLAIN, 2, &key, "state-2", 7);
}

static int p_snapshot_find(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_snapshot_key key = FW_SNAPSHOT_KEY;
	es_snapshot snap;
	es_read *rd;
	int64_t *list = NULL;
	size_t n = 0;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	if ((rc = es_snapshot_find(&snap, rd, FW_PLAIN, ES_HEAD, &key, NULL, NULL)) == 0 &&
	    (rc = es_snapshot_list(&list, &n, rd, "account-a")) == 0) {
		mix(d, (uint64_t)snap.version);
		mix(d, snap.state_len);
		mix(d, n);
	}
	free(list);
	es_read_end(rd);
	return rc;
}

static int p_thin(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_thin_options o = ES_THIN_OPTIONS_INIT;
	size_t removed = 0;
	o.keep_one_in = 2;
	o.older_than = INT64_MAX;
	int rc = es_snapshot_thin(&removed, db, "account-a", &o);
	mix(d, removed);
	return rc;
}

static int p_rebuild(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	size_t n = 0;
	int rc = es_aggregate_rebuild_snapshots(&n, db, &es_bank_account_type);
	mix(d, n);
	return rc;
}

/* ---- registries and the check ---- */

static int step_copy(const void **payload, size_t *len, const es_upcast_event *in, es_arena *arena, void *user_data)
{
	(void)user_data;
	void *p = es_arena_alloc(arena, in->payload_len + 1);
	if (!p)
		return es_error_set(ES_ENOMEM, "step: out of memory");
	memcpy(p, in->payload, in->payload_len);
	*payload = p;
	*len = in->payload_len;
	return 0;
}

static int fill_registry(es_registry *reg)
{
	es_upcaster steps[] = {
		{ "Old", 1, "New", "rename-old", 1, step_copy, NULL },
		{ "New", 2, NULL, "new-v3", 1, step_copy, NULL },
		{ "Other", 1, NULL, "other-v2", 1, step_copy, NULL },
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof steps / sizeof steps[0]; i++)
		rc = es_registry_add(reg, &steps[i]);
	if (rc == 0) rc = es_registry_set_current(reg, "New", 3);
	if (rc == 0) rc = es_registry_set_current(reg, "Other", 2);
	return rc ? rc : es_registry_validate(reg);
}

/* A registry built, validated and used with a stackless arena (every
 * upcast payload spills to the heap). */
static int p_registry(uint64_t *d, es_db *db, const char *dir)
{
	(void)db; (void)dir;
	es_registry *reg;
	es_arena arena;
	int rc = es_registry_new(&reg);
	if (rc)
		return rc;
	es_arena_init(&arena, NULL, 0);
	es_event ev = { .stream = "s", .type = "Old", .schema_version = 1, .payload = "xyz", .payload_len = 3 };
	if ((rc = fill_registry(reg)) == 0 && (rc = es_registry_upcast(&ev, reg, &arena)) == 0) {
		mix(d, ev.schema_version);
		mix(d, es_registry_fingerprint(reg));
	}
	es_arena_release(&arena);
	es_registry_free(reg);
	return rc;
}

/* The first use of the account type in this process: the bank registry is
 * built (and kept) inside es_aggregate_apply. */
static int p_bank_registry(uint64_t *d, es_db *db, const char *dir)
{
	(void)db; (void)dir;
	legacy_event e;
	es_bank_account acc;
	legacy_money(&e, 1, 1, 1234, 12.34, "v1");
	es_event ev = { .stream = "account-x", .type = e.data.type, .schema_version = 1,
	                .payload = e.data.payload, .payload_len = e.data.payload_len };
	es_bank_account_type.init(&acc);
	int rc = es_aggregate_apply(&es_bank_account_type, &acc, &ev);
	if (rc == 0)
		mix(d, (uint64_t)acc.balance);
	return rc;
}

/* ---- audit ---- */

/* Dumps the store and folds every byte of the dump into the digest: a
 * failure absorbed on the way must not change a single byte. */
static int dump_as(uint64_t *d, es_db *db, es_dump_format format)
{
	FILE *f = tmpfile();
	if (!f)
		return es_error_set(ES_EIO, "tmpfile failed");
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.format = format;
	es_dump_stats st;
	int rc = es_dump(&st, db, f, &o);
	if (rc == 0) {
		mix(d, st.events);
		rewind(f);
		for (int c; (c = getc(f)) != EOF;)
			mix(d, (uint64_t)c);
	}
	fclose(f);
	return rc;
}

static int p_dump_jsonl(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	return dump_as(d, db, ES_DUMP_JSONL);
}

static int p_dump_csv(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	return dump_as(d, db, ES_DUMP_CSV);
}

static int p_check(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_check_stats st;
	int rc = es_check(&st, db, NULL);
	mix(d, st.events);
	mix(d, st.snapshots);
	return rc;
}

/* The importer on a store that holds a prefix: a new stream's events after
 * the store's last position and time, and a name tombstoned, committed in
 * one batch at the finish; a failure leaves the store as it was. */
static int p_import(uint64_t *d, es_db *db, const char *dir)
{
	(void)dir;
	es_read *rd;
	es_iter *it;
	es_event last;
	uint64_t head = 0;
	int64_t at = 0;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	if ((rc = es_log_head(&head, rd)) == 0 && (rc = es_log_iter(&it, rd, ES_LOG_END, ES_BACKWARD, 1)) == 0) {
		if ((rc = es_iter_next(&last, it)) == 0)
			at = last.recorded_at;
		rc = rc == ES_ITEROVER ? 0 : rc;
		es_iter_free(it);
	}
	es_read_end(rd);
	es_importer *imp = NULL;
	if (rc || (rc = es_import_begin(&imp, db, NULL)) ||
	    (rc = es_import_stream_state(imp, "imported-reserved", ES_STREAM_TOMBSTONED, -1, 0)))
		goto out;
	for (int i = 0; i < 5 && rc == 0; i++) {
		es_imported_event e = { .stream = "imported", .version = i, .position = head + 1 + (uint64_t)i,
		                        .recorded_at = at + 1 + i, .type = "Note", .schema_version = 1,
		                        .payload = "imported", .payload_len = 8, .metadata = note_md,
		                        .metadata_count = 2 };
		e.id[0] = 0xee;
		e.id[15] = (uint8_t)(i + 1);
		rc = es_import_event(imp, &e);
	}
	if (rc == 0) {
		es_import_stats st;
		rc = es_import_finish(imp, &st);
		imp = NULL;
		mix(d, st.events);
		mix(d, st.tombstones);
	}
out:
	es_import_free(imp);
	return rc;
}

/* A dump of the store restored into a fresh one beside it: the dump in
 * memory, the restore's two threads (parser, committer) and its chunks. */
static int p_restore(uint64_t *d, es_db *db, const char *dir)
{
	(void)db;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	char fresh[600];
	o.read_only = 1;
	es_db *src = NULL, *dst = NULL;
	FILE *f = tmpfile();
	if (!f)
		return es_error_set(ES_EIO, "tmpfile failed");
	int rc = es_db_open(&src, dir, &o);
	es_dump_options dopts = ES_DUMP_OPTIONS_INIT;
	if (rc == 0 && (rc = es_dump(NULL, src, f, &dopts)) == 0) {
		o.read_only = 0;
		o.nosync = 1;
		snprintf(fresh, sizeof fresh, "%s/restored", dir);
		rewind(f);
		if ((rc = es_db_open(&dst, fresh, &o)) == 0) {
			es_restore_stats st;
			rc = es_restore(&st, dst, f, NULL);
			mix(d, st.events);
			mix(d, st.streams);
		}
	}
	es_db_close(dst);
	es_db_close(src);
	fclose(f);
	return rc;
}

/* name, scenario, store (none, a copy, a directory to open), writes */
const fault_path fault_paths[] = {
	{ "open", p_open, FP_DIR, false },
	{ "open-read-only", p_open_read_only, FP_DIR, false },
	{ "create", p_create, FP_DIR, false },
	{ "append", p_append, FP_STORE, true },
	{ "append-replay", p_append_replay, FP_STORE, true },
	{ "batch-transfer", p_batch, FP_STORE, true },
	{ "stream-read", p_stream_read, FP_STORE, false },
	{ "log-read", p_log_read, FP_STORE, false },
	{ "stream-list", p_stream_list, FP_STORE, false },
	{ "load-snapshot", p_load, FP_STORE, false },
	{ "load-v1-upcast", p_load_v1, FP_STORE, false },
	{ "command-deposit", p_deposit, FP_STORE, true },
	{ "command-snapshot", p_deposit_snapshot, FP_STORE, true },
	{ "command-transfer", p_transfer, FP_STORE, true },
	{ "command-rejected", p_rejected, FP_STORE, false },
	{ "snapshot-write", p_snapshot_write, FP_STORE, true },
	{ "snapshot-find", p_snapshot_find, FP_STORE, false },
	{ "snapshot-thin", p_thin, FP_STORE, true },
	{ "snapshot-rebuild", p_rebuild, FP_STORE, true },
	{ "check", p_check, FP_STORE, false },
	{ "import", p_import, FP_STORE, true },
	{ "restore", p_restore, FP_DIR, false },
	{ "dump-jsonl", p_dump_jsonl, FP_STORE, false },
	{ "dump-csv", p_dump_csv, FP_STORE, false },
	{ "registry-build", p_registry, FP_NONE, false },
	/* Last: the registry it builds is kept for the process. */
	{ "bank-registry", p_bank_registry, FP_NONE, false },
};
const size_t fault_path_count = sizeof fault_paths / sizeof fault_paths[0];
