/*
 * es-migrate.c - copy a store into a new one in which every event is at its
 * current schema version, then prove the copy answers like the original.
 *
 * Events are read from the source's global log in order and written to an
 * empty store with import batches, so ids, streams, versions, recorded_at
 * and global positions all carry over (each is checked as it is written).
 * Bank events go through es_bank_registry(); other types are copied as they
 * are. Afterwards every account's state at a sample of times is compared
 * between the two stores.
 * Exit status: 0 copied and identical, 1 a failure or a difference, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "cli.h"

static const char usage_text[] =
	"usage: es-migrate --from DIR --to DIR\n"
	"Writes a new store at --to holding every event of --from brought to its\n"
	"current schema version (bank events through the bank's upcasters; events of\n"
	"other types are copied unchanged), keeping event ids, streams, versions,\n"
	"recorded_at and global positions.\n"
	"  --from DIR   the store to read (opened read-only; nothing may write to it\n"
	"               while it is migrated)\n"
	"  --to DIR     where to write; must not exist or be an empty directory. The\n"
	"               copy is built beside it (DIR.migrating-XXXXXX) and renamed into\n"
	"               place only once it is complete and checked.\n"
	"Stream states carry over: a soft-deleted stream is soft-deleted in the copy\n"
	"(one recreated after a delete is deleted at the same version, then\n"
	"recreated), and a tombstoned stream is tombstoned, after its events are\n"
	"copied. Account snapshots are rebuilt at the versions the source had them;\n"
	"snapshots of other aggregate types are not copied.\n"
	"Then each account (stream \"account-*\") is loaded in both stores at 20\n"
	"times spread over the log and at its last event, and must be identical.\n"
	"Exit status: 0 migrated and identical, 1 failure or difference, 2 usage.\n";

#define BATCH_EVENTS 1000   /* events per import transaction, about */
#define BATCH_ROOM (2 * BATCH_EVENTS) /* room to finish a source commit */
#define RENEW_EVENTS 4096   /* renew the source read this often (frees old pages) */
#define SAMPLE_TIMES 20
#define MAX_REPORTED 20     /* differences printed before only counting */

/* ---- small helpers ---- */

/* Prints the last error with context and returns ES_EXIT_FAIL: past the
 * command line, even ES_EINVAL means the migration failed, not the usage. */
static int fail(int rc, const char *what)
{
	const es_error *e = es_error_last();
	fprintf(stderr, "%s: %s: %s\n", es_cli_prog, what,
	        e->code == rc && e->message[0] ? e->message : es_strerror(rc));
	return ES_EXIT_FAIL;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", es_cli_prog);
		exit(ES_EXIT_FAIL);
	}
	return p;
}

static void *arena_copy(es_arena *a, const void *src, size_t len, int nul)
{
	char *p = es_arena_alloc(a, len + (nul ? 1 : 0));
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", es_cli_prog);
		exit(ES_EXIT_FAIL);
	}
	if (len)
		memcpy(p, src, len);
	if (nul)
		p[len] = '\0';
	return p;
}

/* ---- streams whose final state is not simply "live from version 0" ---- */

typedef struct special {
	char *name;
	int64_t head;
	int64_t first_visible;   /* > 0: soft-deleted at first_visible - 1 */
	es_stream_state state;
	int delete_done;
} special;

typedef struct stream_table {
	special *items;
	size_t n, cap;
	size_t streams;          /* all streams, for the summary */
	es_read *rd;
} stream_table;

static int note_stream(const char *stream, void *user_data)
{
	stream_table *t = user_data;
	es_stream_info si;
	int rc = es_stream_info_get(&si, t->rd, stream);
	if (rc)
		return rc;
	t->streams++;
	if (si.first_version == 0 && si.state == ES_STREAM_LIVE)
		return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if (!(t->items = realloc(t->items, t->cap * sizeof *t->items)))
			return es_error_set(ES_ENOMEM, "listing streams: out of memory");
	}
	special *s = &t->items[t->n++];
	if (!(s->name = strdup(stream)))
		return es_error_set(ES_ENOMEM, "listing streams: out of memory");
	s->head = si.head_version;
	s->first_visible = si.first_version;
	s->state = si.state;
	s->delete_done = 0;
	return 0;
}

static int cmp_special(const void *a, const void *b)
{
	return strcmp(((const special *)a)->name, ((const special *)b)->name);
}

static special *find_special(stream_table *t, const char *stream)
{
	special key = { (char *)stream, 0, 0, 0, 0 };
	return t->n ? bsearch(&key, t->items, t->n, sizeof *t->items, cmp_special) : NULL;
}

static void table_free(stream_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].name);
	free(t->items);
}

/* ---- the copy ---- */

/* Where an event waiting in the batch came from, to check the copy
 * against (es_batch_append wants the es_event_data contiguous, so this
 * lives in a parallel array). */
typedef struct pending {
	const char *stream;
	int64_t version;
	uint64_t position;
} pending;

typedef struct copier {
	es_db *dst;
	const es_registry *reg;
	stream_table *table;
	es_event_data *events;   /* the batch, in log order */
	pending *from;           /* and where each came from */
	size_t n;
	es_arena arena;          /* the batch's strings and payloads */
	es_arena scratch;        /* one event's upcast */
	uint64_t copied, upcast, foreign, deletes;
} copier;

static void copy_metadata(copier *c, es_event_data *d, const es_event *ev)
{
	size_t cur = 0, n = 0, kl, vl;
	const char *k, *v;
	while (es_event_metadata_next(ev, &cur, &k, &kl, &v, &vl) == 0)
		n++;
	if (n == 0)
		return;
	es_metadata *m = es_arena_alloc(&c->arena, n * sizeof *m);
	if (!m) {
		fprintf(stderr, "%s: out of memory\n", es_cli_prog);
		exit(ES_EXIT_FAIL);
	}
	cur = 0;
	for (size_t i = 0; i < n && es_event_metadata_next(ev, &cur, &k, &kl, &v, &vl) == 0; i++) {
		m[i].key = arena_copy(&c->arena, k, kl, 1);
		m[i].value = arena_copy(&c->arena, v, vl, 1);
	}
	d->metadata = m;
	d->metadata_count = n;
}

/* Upcasts a copy of ev and queues it, every byte copied out of the read. */
static int queue_event(copier *c, const es_event *ev)
{
	es_event up = *ev;
	es_arena_reset(&c->scratch);
	int rc = es_registry_upcast(&up, c->reg, &c->scratch);
	if (rc) {
		char why[512];
		snprintf(why, sizeof why, "%s", es_error_last()->message);
		return es_error_set(rc, "position %" PRIu64 ": %s", ev->position, why);
	}
	c->upcast += up.type != ev->type || up.schema_version != ev->schema_version;
	c->foreign += es_registry_current(c->reg, up.type) == 0;
	pending *p = &c->from[c->n];
	es_event_data *d = &c->events[c->n++];
	memset(d, 0, sizeof *d);
	memcpy(d->id, ev->id, 16);
	memcpy(d->correlation_id, ev->correlation_id, 16);
	memcpy(d->causation_id, ev->causation_id, 16);
	d->type = arena_copy(&c->arena, up.type, strlen(up.type), 1);
	d->schema_version = up.schema_version;
	d->occurred_at = ev->occurred_at;
	d->payload = arena_copy(&c->arena, up.payload, up.payload_len, 0);
	d->payload_len = up.payload_len;
	d->version = ev->version;       /* out fields: overwritten by the commit */
	d->recorded_at = ev->recorded_at; /* in, for an import batch */
	copy_metadata(c, d, ev);
	p->stream = arena_copy(&c->arena, ev->stream, strlen(ev->stream), 1);
	p->version = ev->version;
	p->position = ev->position;
	return 0;
}

/* After the commit, every event must sit where it sat in the source. */
static int check_placed(const copier *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const pending *p = &c->from[i];
		const es_event_data *d = &c->events[i];
		if (d->position != p->position || d->version != p->version)
			return es_error_set(ES_ECORRUPT, "stream '%s' version %" PRId64 " (position %" PRIu64
			                    ") landed at version %" PRId64 ", position %" PRIu64, p->stream,
			                    p->version, p->position, d->version, d->position);
	}
	return 0;
}

/* Appends the queued events in one import batch; a run of one stream's
 * events is one append, expecting exactly the version before its first. */
static int flush(copier *c)
{
	es_batch *b;
	if (c->n == 0)
		return 0;
	int rc = es_batch_new(&b, c->dst);
	if (rc == 0)
		rc = es_batch_import(b);
	for (size_t i = 0, j; rc == 0 && i < c->n; i = j) {
		for (j = i + 1; j < c->n && strcmp(c->from[j].stream, c->from[i].stream) == 0; j++)
			;
		int64_t v0 = c->from[i].version;
		rc = es_batch_append(b, c->from[i].stream, v0 == 0 ? ES_NO_STREAM : v0 - 1,
		                     &c->events[i], j - i);
	}
	if (rc) {
		es_batch_free(b);
		return rc;
	}
	if ((rc = es_batch_commit(b, NULL)) == 0)
		rc = check_placed(c);
	c->copied += c->n;
	c->n = 0;
	es_arena_reset(&c->arena);
	return rc;
}

/* A stream deleted and then recreated in the source: delete it in the copy
 * just before its first visible event, as the source did. */
static int delete_before(copier *c, const es_event *ev)
{
	special *s = find_special(c->table, ev->stream);
	if (!s || s->first_visible == 0 || ev->version != s->first_visible || s->delete_done)
		return 0;
	int rc = flush(c);
	if (rc == 0)
		rc = es_stream_delete(c->dst, ev->stream, ev->version - 1);
	s->delete_done = 1;
	c->deletes++;
	return rc;
}

static int copy_log(copier *c, es_read *rd, uint64_t head)
{
	es_iter *it;
	es_event ev;
	uint64_t since_renew = 0;
	int rc = es_log_iter(&it, rd, 1, ES_FORWARD, (size_t)head);
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0) {
		/* Events sharing a recorded_at were one commit in the source (a
		 * batch is atomic in time); keep them in one import commit too. */
		if ((c->n >= BATCH_EVENTS && ev.recorded_at != c->events[c->n - 1].recorded_at) ||
		    c->n == BATCH_ROOM)
			rc = flush(c);
		if (rc || (rc = delete_before(c, &ev)) || (rc = queue_event(c, &ev)))
			break;
		/* Everything queued is copied out, so the read may move on. */
		if (++since_renew == RENEW_EVENTS) {
			since_renew = 0;
			rc = es_read_renew(rd);
		}
	}
	es_iter_free(it);
	if (rc == ES_ITEROVER)
		rc = flush(c);
	return rc;
}

/* Deletes and tombstones that come after a stream's last event. */
static int final_states(copier *c)
{
	for (size_t i = 0; i < c->table->n; i++) {
		special *s = &c->table->items[i];
		int rc = 0;
		if (s->first_visible > 0 && s->first_visible > s->head && !s->delete_done) {
			rc = es_stream_delete(c->dst, s->name, s->head);
			c->deletes++;
		}
		if (rc == 0 && s->state == ES_STREAM_TOMBSTONED)
			rc = es_stream_tombstone(c->dst, s->name, ES_ANY);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- account snapshots ---- */

typedef struct name_list {
	char **names;
	size_t n, cap;
} name_list;

static int collect_name(const char *stream, void *user_data)
{
	name_list *l = user_data;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if (!(l->names = realloc(l->names, l->cap * sizeof *l->names)))
			return es_error_set(ES_ENOMEM, "listing accounts: out of memory");
	}
	if (!(l->names[l->n] = strdup(stream)))
		return es_error_set(ES_ENOMEM, "listing accounts: out of memory");
	l->n++;
	return 0;
}

static void names_free(name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
}

/* Rebuilds one account's snapshots in the copy at the source's versions,
 * oldest first, so each load starts from the one written before it. */
static int snapshot_account(size_t *written, es_db *dst, const es_snapshot_key *key,
                            const char *stream, const int64_t *versions, size_t n)
{
	es_bank_account a;
	for (size_t i = 0; i < n; i++) {
		uint8_t *bytes = NULL;
		size_t len = 0;
		int rc = es_aggregate_load_at_version(&a, NULL, dst, &es_bank_account_type, stream, versions[i]);
		if (rc == ES_ENOTFOUND || rc == ES_EDELETED)
			continue; /* hidden by a delete: not part of today's stream */
		if (rc || (rc = es_bank_account_type.snapshot_encode(&bytes, &len, &a)))
			return rc;
		rc = es_snapshot_write(dst, stream, versions[i], key, bytes, len);
		free(bytes);
		if (rc)
			return rc;
		(*written)++;
	}
	return 0;
}

static int copy_snapshots(size_t *written, es_db *src, es_db *dst, const name_list *accounts)
{
	es_snapshot_key key = { es_bank_account_type.state_schema_version,
	                        es_registry_fingerprint(es_bank_registry()) };
	es_read *rd;
	int rc = 0;
	*written = 0;
	for (size_t i = 0; rc == 0 && i < accounts->n; i++) {
		int64_t *versions = NULL;
		size_t n = 0;
		if ((rc = es_read_begin(&rd, src)))
			return rc;
		rc = es_snapshot_list(&versions, &n, rd, accounts->names[i]);
		es_read_end(rd);
		if (rc == 0)
			rc = snapshot_account(written, dst, &key, accounts->names[i], versions, n);
		free(versions);
	}
	return rc;
}

/* ---- the check ---- */

typedef struct checker {
	es_read *src, *dst;
	int64_t times[SAMPLE_TIMES];
	size_t n_times;
	uint64_t compared, differences;
} checker;

/* recorded_at of SAMPLE_TIMES events spread evenly over the log. */
static int sample_times(checker *k, uint64_t head)
{
	k->n_times = 0;
	for (size_t i = 0; head > 0 && i < SAMPLE_TIMES; i++) {
		uint64_t pos = 1 + (head - 1) * i / (SAMPLE_TIMES - 1);
		es_iter *it;
		es_event ev;
		int rc = es_log_iter(&it, k->src, pos, ES_FORWARD, 1);
		if (rc == 0 && (rc = es_iter_next(&ev, it)) == 0)
			k->times[k->n_times++] = ev.recorded_at;
		es_iter_free(it);
		if (rc)
			return rc;
	}
	return 0;
}

static int same_account(const es_bank_account *a, const es_bank_account *b)
{
	return a->balance == b->balance && a->status == b->status && a->deposited == b->deposited &&
	       a->withdrawn == b->withdrawn && a->overdraft_limit == b->overdraft_limit &&
	       strcmp(a->owner, b->owner) == 0 && strcmp(a->currency, b->currency) == 0;
}

static void report(checker *k, const char *stream, int64_t t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(checker *k, const char *stream, int64_t t, const char *fmt, ...)
{
	char when[ES_TIME_TEXT_SIZE];
	va_list ap;
	if (++k->differences > MAX_REPORTED)
		return;
	es_time_format(when, sizeof when, t);
	fprintf(stderr, "%s: %s at %s: ", es_cli_prog, stream, when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Loads the account as of t in both stores; both must give the same answer:
 * the same state, or both "did not exist" / "deleted". */
static void compare_at(checker *k, const char *stream, int64_t t)
{
	es_bank_account a, b;
	char msg[512];
	int ra = es_aggregate_fold_as_of(&a, NULL, k->src, &es_bank_account_type, stream, t);
	snprintf(msg, sizeof msg, "%s", es_error_last()->message);
	int rb = es_aggregate_fold_as_of(&b, NULL, k->dst, &es_bank_account_type, stream, t);
	k->compared++;
	if (ra != rb)
		report(k, stream, t, "the source says %s (%s), the copy %s (%s)", es_strerror(ra),
		       ra ? msg : "loaded", es_strerror(rb), rb ? es_error_last()->message : "loaded");
	else if (ra != 0 && ra != ES_ENOTFOUND && ra != ES_EDELETED)
		report(k, stream, t, "neither store loads it: %s", msg);
	else if (ra == 0 && !same_account(&a, &b))
		report(k, stream, t, "balance %" PRId64 " (%s) in the source, %" PRId64 " (%s) in the copy",
		       a.balance, es_bank_status_str(a.status), b.balance, es_bank_status_str(b.status));
}

static int check_accounts(checker *k, const name_list *accounts)
{
	for (size_t i = 0; i < accounts->n; i++) {
		es_stream_info si;
		int rc = es_stream_info_get(&si, k->src, accounts->names[i]);
		if (rc)
			return rc;
		for (size_t j = 0; j < k->n_times; j++)
			compare_at(k, accounts->names[i], k->times[j]);
		if (si.last_recorded_at)
			compare_at(k, accounts->names[i], si.last_recorded_at);
	}
	return 0;
}

/* The stream table and log head must match too. */
static int check_streams(checker *k, const stream_table *t)
{
	uint64_t hs, hd;
	int rc = es_log_head(&hs, k->src);
	if (rc == 0)
		rc = es_log_head(&hd, k->dst);
	if (rc == 0 && hs != hd)
		return es_error_set(ES_ECORRUPT, "log head %" PRIu64 " in the copy, %" PRIu64 " in the source",
		                    hd, hs);
	for (size_t i = 0; rc == 0 && i < t->n; i++) {
		es_stream_info si;
		const special *s = &t->items[i];
		if ((rc = es_stream_info_get(&si, k->dst, s->name)))
			break;
		if (si.head_version != s->head || si.first_version != s->first_visible || si.state != s->state)
			rc = es_error_set(ES_ECORRUPT, "stream '%s' is head %" PRId64 ", first %" PRId64
			                  ", state %d in the copy; %" PRId64 ", %" PRId64 ", %d in the source",
			                  s->name, si.head_version, si.first_version, si.state, s->head,
			                  s->first_visible, s->state);
	}
	return rc;
}

static int verify(checker *k, es_db *src, es_db *dst, const stream_table *t, const name_list *accounts)
{
	uint64_t head;
	int rc = es_read_begin(&k->src, src);
	if (rc == 0 && (rc = es_read_begin(&k->dst, dst)) != 0)
		es_read_end(k->src);
	if (rc)
		return rc;
	if ((rc = es_log_head(&head, k->src)) == 0 && (rc = check_streams(k, t)) == 0 &&
	    (rc = sample_times(k, head)) == 0)
		rc = check_accounts(k, accounts);
	es_read_end(k->dst);
	es_read_end(k->src);
	return rc;
}

/* ---- the target directory ---- */

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = d != NULL;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	if (d)
		closedir(d);
	return empty;
}

/* 0 if dir is absent or an empty directory (rename(2) replaces an empty
 * directory); a usage error otherwise. */
static int check_target(const char *dir)
{
	struct stat st;
	char data[4096];
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 0 : es_cli_usage_error("--to %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return es_cli_usage_error("--to %s exists and is not a directory", dir);
	snprintf(data, sizeof data, "%s/data.mdb", dir);
	if (access(data, F_OK) == 0)
		return es_cli_usage_error("--to %s already holds a store; refusing to overwrite it", dir);
	if (!dir_is_empty(dir))
		return es_cli_usage_error("--to %s is not empty", dir);
	return 0;
}

static void remove_tmp(const char *tmp)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/data.mdb", tmp);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", tmp);
	unlink(path);
	snprintf(path, sizeof path, "%s/notify", tmp);
	unlink(path);
	rmdir(tmp);
}

/* Renames the finished copy into place and makes the rename durable. */
static int publish(const char *tmp, const char *dir)
{
	if (rename(tmp, dir) != 0) {
		fprintf(stderr, "%s: renaming %s to %s: %s\n", es_cli_prog, tmp, dir, strerror(errno));
		return ES_EXIT_FAIL;
	}
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", dir);
	int fd = open(dirname(parent), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return ES_EXIT_OK;
}

/* ---- main ---- */

typedef struct migration {
	const char *from, *to;
	char tmp[4096];
	es_db *src, *dst;
	stream_table table;
	name_list accounts;
	uint64_t head;
	size_t snapshots;
	copier c;
	checker k;
} migration;

static int parse_args(migration *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			exit(ES_EXIT_OK);
		} else if (c == 'f') {
			m->from = optarg;
		} else if (c == 't') {
			m->to = optarg;
		} else {
			return ES_EXIT_USAGE; /* getopt printed the problem */
		}
	}
	if (optind < argc)
		return es_cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!m->from || !m->to)
		return es_cli_usage_error("both --from and --to are required");
	return 0;
}

static int open_stores(migration *m)
{
	es_open_options ro = ES_OPEN_OPTIONS_INIT, rw = ES_OPEN_OPTIONS_INIT;
	ro.read_only = 1;
	int rc = es_db_open(&m->src, m->from, &ro);
	if (rc)
		return es_cli_fail(rc);
	snprintf(m->tmp, sizeof m->tmp, "%s.migrating-XXXXXX", m->to);
	if (!mkdtemp(m->tmp)) {
		fprintf(stderr, "%s: creating %s: %s\n", es_cli_prog, m->tmp, strerror(errno));
		m->tmp[0] = '\0';
		return ES_EXIT_FAIL;
	}
	rw.nosync = 1;                    /* one es_db_sync at the end instead */
	rw.max_event_size = (size_t)1 << 30; /* whatever the source allowed */
	if ((rc = es_db_open(&m->dst, m->tmp, &rw)))
		return fail(rc, "creating the copy");
	return 0;
}

/* Streams' states and the accounts, from one read taken before the copy. */
static int survey(migration *m)
{
	es_read *rd;
	int rc = es_read_begin(&rd, m->src);
	if (rc)
		return fail(rc, "reading the source");
	m->table.rd = rd;
	rc = es_log_head(&m->head, rd);
	if (rc == 0)
		rc = es_stream_list(rd, NULL, NULL, ES_NO_LIMIT, note_stream, &m->table);
	if (rc == 0)
		rc = es_stream_list(rd, "account-", NULL, ES_NO_LIMIT, collect_name, &m->accounts);
	es_read_end(rd);
	m->table.rd = NULL;
	if (m->table.n)
		qsort(m->table.items, m->table.n, sizeof *m->table.items, cmp_special);
	return rc ? fail(rc, "surveying the source") : 0;
}

static int copy(migration *m)
{
	copier *c = &m->c;
	es_read *rd;
	c->dst = m->dst;
	c->table = &m->table;
	if (!(c->reg = es_bank_registry()))
		return fail(ES_ENOMEM, "building the bank's upcasters");
	c->events = xcalloc(BATCH_ROOM, sizeof *c->events);
	c->from = xcalloc(BATCH_ROOM, sizeof *c->from);
	es_arena_init(&c->arena, xcalloc(1, (size_t)1 << 20), (size_t)1 << 20);
	es_arena_init(&c->scratch, NULL, 0);
	int rc = es_read_begin(&rd, m->src);
	if (rc == 0) {
		rc = copy_log(c, rd, m->head);
		es_read_end(rd);
	}
	if (rc == 0)
		rc = final_states(c);
	if (rc == 0)
		rc = copy_snapshots(&m->snapshots, m->src, m->dst, &m->accounts);
	if (rc == 0)
		rc = es_db_sync(m->dst);
	free(c->arena.buf);
	es_arena_release(&c->arena);
	es_arena_release(&c->scratch);
	free(c->events);
	free(c->from);
	return rc ? fail(rc, "copying") : 0;
}

static int check(migration *m)
{
	int rc = verify(&m->k, m->src, m->dst, &m->table, &m->accounts);
	if (rc)
		return fail(rc, "checking the copy");
	if (m->k.differences) {
		fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " account loads differ%s; the copy is left in %s\n",
		        es_cli_prog, m->k.differences, m->k.compared,
		        m->k.differences > MAX_REPORTED ? " (the first 20 shown)" : "", m->tmp);
		return ES_EXIT_FAIL;
	}
	return 0;
}

static void summary(const migration *m)
{
	const copier *c = &m->c;
	printf("copied %" PRIu64 " events in %zu streams: %" PRIu64 " upcast, %" PRIu64
	       " of types the bank registry does not know copied unchanged\n",
	       c->copied, m->table.streams, c->upcast, c->foreign);
	printf("stream states: %zu not plain live, %" PRIu64 " soft deletes replayed; %zu account "
	       "snapshots rebuilt\n", m->table.n, c->deletes, m->snapshots);
	printf("checked %zu accounts at %zu sampled times and their last event: %" PRIu64
	       " loads identical\n", m->accounts.n, m->k.n_times, m->k.compared);
	printf("migrated %s to %s\n", m->from, m->to);
}

int main(int argc, char **argv)
{
	migration m = { 0 };
	es_cli_prog = "es-migrate";
	int rc = parse_args(&m, argc, argv);
	if (rc || (rc = check_target(m.to)))
		return rc;
	if ((rc = open_stores(&m)) == 0 && (rc = survey(&m)) == 0 && (rc = copy(&m)) == 0)
		rc = check(&m);
	int keep = rc != 0 && m.k.differences > 0; /* keep a copy that differs, to look at */
	es_db_close(m.dst);
	es_db_close(m.src);
	if (rc == 0)
		rc = publish(m.tmp, m.to);
	else if (m.tmp[0] && !keep)
		remove_tmp(m.tmp);
	if (rc == 0)
		summary(&m);
	table_free(&m.table);
	names_free(&m.accounts);
	return rc;
}
