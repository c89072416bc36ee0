/*
 * crash_verify.c - the crash campaign's checks after each kill. The parent
 * reopens the store and:
 *   - walks the whole log: positions contiguous from 1, recorded_at never
 *     decreasing, and each event traced back to the operation that asked for
 *     it (an event nobody asked for, or one applied twice, is a failure);
 *   - per operation: all of its events or none (a batch, a transfer's two
 *     legs), all at one recorded_at, and every acknowledged one complete at
 *     the versions and global positions its acknowledgement gave;
 *   - per stream: versions contiguous from 0 to the head, the same events
 *     as the log;
 *   - the bank: each account's load (through its snapshots) equals a naive
 *     fold of its events, and so does the load at every snapshot's version;
 *     no balance is below its overdraft limit; the total of balances equals
 *     the deposits minus the withdrawals found in the store (transfers only
 *     move money), and every transfer's legs agree;
 *   - as of the recorded_at of each of a few transfers, the balances
 *     (loaded as of that time) add up to the deposits minus withdrawals
 *     recorded up to then: a transfer is atomic in time too;
 *   - es_check finds no problem;
 *   - the store takes a new append, recorded after everything before it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/bank.h>
#include <evstore/check.h>

#include "bank.pb-c.h"
#include "crash.h"

#define MAX_STREAMS 32
#define MAX_PRINTED 30
#define MAX_AS_OF 8      /* transfers whose time the as-of check samples */

typedef struct scan_stream {
	char name[32];
	uint64_t count;
} scan_stream;

typedef struct scan {
	cr_ledger *lg;
	es_db *db;
	uint64_t cycle;
	int problems;
	uint64_t events;
	int64_t last_at;
	int64_t external;        /* deposits minus withdrawals, transfers excluded */
	unsigned opened[CR_ACCOUNTS];
	scan_stream streams[MAX_STREAMS];
	size_t n_streams;
	int64_t transfer_at[MAX_AS_OF];  /* recorded_at of sampled transfers */
	size_t n_transfer_at;
	uint64_t transfers_seen;
} scan;

__attribute__((format(printf, 2, 3)))
static void problem(scan *s, const char *fmt, ...)
{
	if (s->problems++ >= MAX_PRINTED)
		return;
	va_list ap;
	fprintf(stderr, "crash_campaign: cycle %llu: ", (unsigned long long)s->cycle);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static cr_entry *find_op(cr_ledger *lg, uint64_t op_id)
{
	size_t lo = 0, hi = lg->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lg->e[mid].rec.op_id == op_id)
			return &lg->e[mid];
		if (lg->e[mid].rec.op_id < op_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int is_raw(const cr_entry *e)
{
	return e->rec.op == CR_RAW || e->rec.op == CR_BATCH;
}

/* Events part p of an operation writes. */
static uint32_t part_count(const cr_entry *e, uint32_t p)
{
	if (p >= e->rec.nparts)
		return 0;
	return is_raw(e) ? e->rec.parts[p].count : 1;
}

static uint32_t total_count(const cr_entry *e, const uint32_t *counts)
{
	uint32_t n = 0;
	for (uint32_t p = 0; p < CR_MAX_PARTS; p++)
		n += counts ? counts[p] : part_count(e, p);
	return n;
}

static void count_stream(scan *s, const char *name)
{
	for (size_t i = 0; i < s->n_streams; i++)
		if (strcmp(s->streams[i].name, name) == 0) {
			s->streams[i].count++;
			return;
		}
	if (s->n_streams == MAX_STREAMS || strlen(name) >= sizeof s->streams[0].name) {
		problem(s, "unexpected stream '%s'", name);
		return;
	}
	snprintf(s->streams[s->n_streams].name, sizeof s->streams[0].name, "%s", name);
	s->streams[s->n_streams++].count = 1;
}

/* Records that event `index` of part `part` of e was found as ev. Within an
 * operation the log holds parts in order and each part's events in order. */
static void note(scan *s, cr_entry *e, uint32_t part, uint32_t index, const es_event *ev)
{
	if (total_count(e, e->found) == 0)
		e->recorded_at = ev->recorded_at;
	else if (e->recorded_at != ev->recorded_at)
		e->split_time = 1;
	if (index != e->found[part] || index >= part_count(e, part)) {
		problem(s, "operation %016llx: event %u of part %u found out of order or twice ('%s' "
		        "version %lld)", (unsigned long long)e->rec.op_id, index, part, ev->stream,
		        (long long)ev->version);
		return;
	}
	if (index == 0) {
		e->first[part] = ev->version;
		e->first_pos[part] = ev->position;
	}
	else if (ev->version != e->first[part] + index)
		problem(s, "operation %016llx: part %u is not contiguous in '%s' (version %lld)",
		        (unsigned long long)e->rec.op_id, part, ev->stream, (long long)ev->version);
	e->found[part]++;
}

static void scan_raw(scan *s, const es_event *ev)
{
	uint64_t op_id;
	unsigned part, index;
	uint32_t filler;
	uint8_t id[16];
	/* Filler bytes of older cycles were checked when they were new; es_check
	 * verifies every record's checksum each cycle. */
	int fresh = ev->position > s->lg->verified_events;
	if (strcmp(ev->type, CR_RAW_TYPE) != 0 ||
	    cr_raw_parse(ev->payload, ev->payload_len, &op_id, &part, &index, &filler, fresh) != 0) {
		problem(s, "'%s' version %lld: malformed or torn payload", ev->stream, (long long)ev->version);
		return;
	}
	cr_raw_id(id, op_id, part, index);
	cr_entry *e = find_op(s->lg, op_id);
	if (memcmp(id, ev->id, 16) != 0 || !e || !is_raw(e) || part >= e->rec.nparts ||
	    strcmp(e->rec.parts[part].stream, ev->stream) != 0 || filler != e->rec.filler) {
		problem(s, "'%s' version %lld: event of operation %016llx part %u, which nobody asked "
		        "for there", ev->stream, (long long)ev->version, (unsigned long long)op_id, part);
		return;
	}
	note(s, e, part, index, ev);
}

/* The fields the bank's money events share (MoneyDeposited and
 * MoneyWithdrawn have the same shape). */
typedef struct money_leg {
	int deposit;
	int64_t amount;
	char reference[64], transfer_id[64], counterparty[64];
} money_leg;

static int decode_leg(money_leg *leg, const es_event *ev)
{
	const ProtobufCMessageDescriptor *d = strcmp(ev->type, "MoneyDeposited") == 0
	        ? &evstore__bank__money_deposited__descriptor
	        : &evstore__bank__money_withdrawn__descriptor;
	Evstore__Bank__MoneyDeposited *m = (Evstore__Bank__MoneyDeposited *)protobuf_c_message_unpack(
	        d, NULL, ev->payload_len, ev->payload);
	if (!m)
		return -1;
	leg->deposit = d == &evstore__bank__money_deposited__descriptor;
	leg->amount = m->amount_minor;
	snprintf(leg->reference, sizeof leg->reference, "%s", m->reference);
	snprintf(leg->transfer_id, sizeof leg->transfer_id, "%s", m->transfer_id);
	snprintf(leg->counterparty, sizeof leg->counterparty, "%s", m->counterparty);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return 0;
}

/* Which part of e the leg in account `acct` is (-1: it does not belong). */
static int leg_part(const cr_entry *e, const money_leg *leg, unsigned acct)
{
	char other[16];
	if (leg->amount != e->rec.amount)
		return -1;
	if (e->rec.op == CR_DEPOSIT || e->rec.op == CR_WITHDRAW) {
		int want_deposit = e->rec.op == CR_DEPOSIT;
		return leg->deposit == want_deposit && e->rec.acct[0] == acct && !leg->transfer_id[0] ? 0 : -1;
	}
	if (e->rec.op != CR_TRANSFER || !leg->transfer_id[0])
		return -1;
	unsigned part = leg->deposit ? 1 : 0;
	cr_account_id(other, e->rec.acct[1 - part]);
	return e->rec.acct[part] == acct && strcmp(leg->counterparty, other) == 0 ? (int)part : -1;
}

static void scan_money(scan *s, const es_event *ev, unsigned acct)
{
	money_leg leg;
	unsigned long long op_id;
	cr_entry *e = NULL;
	int part = -1;
	if (decode_leg(&leg, ev) == 0 && sscanf(leg.reference, "op-%llx", &op_id) == 1 &&
	    (e = find_op(s->lg, op_id)) != NULL)
		part = leg_part(e, &leg, acct);
	if (part < 0) {
		problem(s, "'%s' version %lld: a %s nobody asked for (reference '%s')", ev->stream,
		        (long long)ev->version, ev->type, e ? leg.reference : "?");
		return;
	}
	if (e->rec.op == CR_TRANSFER) {
		/* the first leg found: sample its time (spread over the log) */
		if (total_count(e, e->found) == 0 &&
		    (s->transfers_seen++ % 16 == 0 || s->n_transfer_at == 0) && s->n_transfer_at < MAX_AS_OF)
			s->transfer_at[s->n_transfer_at++] = ev->recorded_at;
		if (total_count(e, e->found) == 0)
			snprintf(e->transfer_id, sizeof e->transfer_id, "%s", leg.transfer_id);
		else if (strcmp(e->transfer_id, leg.transfer_id) != 0)
			problem(s, "transfer %s: its legs carry transfer ids %s and %s", leg.reference,
			        e->transfer_id, leg.transfer_id);
	} else {
		s->external += leg.deposit ? leg.amount : -leg.amount;
	}
	note(s, e, (uint32_t)part, 0, ev);
}

static void scan_account(scan *s, const es_event *ev)
{
	unsigned acct = (unsigned)atoi(ev->stream + strlen("account-c"));
	if (acct >= CR_ACCOUNTS) {
		problem(s, "event in unknown account stream '%s'", ev->stream);
	} else if (strcmp(ev->type, "AccountOpened") == 0) {
		if (ev->version != 0 || s->opened[acct]++)
			problem(s, "'%s' opened again at version %lld", ev->stream, (long long)ev->version);
	} else if (strcmp(ev->type, "MoneyDeposited") == 0 || strcmp(ev->type, "MoneyWithdrawn") == 0) {
		scan_money(s, ev, acct);
	} else {
		problem(s, "'%s' version %lld: unexpected %s", ev->stream, (long long)ev->version, ev->type);
	}
}

static void scan_event(scan *s, const es_event *ev)
{
	if (ev->position != s->events + 1)
		problem(s, "log position %llu follows %llu", (unsigned long long)ev->position,
		        (unsigned long long)s->events);
	if (ev->recorded_at < s->last_at)
		problem(s, "recorded_at goes back at position %llu", (unsigned long long)ev->position);
	s->events = ev->position;
	s->last_at = ev->recorded_at;
	count_stream(s, ev->stream);
	if (strncmp(ev->stream, "raw-", 4) == 0)
		scan_raw(s, ev);
	else if (strncmp(ev->stream, "account-c", 9) == 0)
		scan_account(s, ev);
	else
		problem(s, "event in unknown stream '%s'", ev->stream);
}

static void scan_log(scan *s)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	int rc = es_read_begin(&rd, s->db);
	if (rc == 0 && (rc = es_log_iter(&it, rd, 1, ES_FORWARD, ES_NO_LIMIT)) == 0) {
		while ((rc = es_iter_next(&ev, it)) == 0)
			scan_event(s, &ev);
		es_iter_free(it);
	}
	es_read_end(rd);
	if (rc != ES_ITEROVER)
		problem(s, "walking the log: %s: %s", es_strerror(rc), es_error_last()->message);
}

/* All or nothing, at one time; acknowledged means all, where it was said. */
static void check_op(scan *s, cr_entry *e, cr_stats *st)
{
	uint32_t want = total_count(e, NULL), got = total_count(e, e->found);
	unsigned long long id = (unsigned long long)e->rec.op_id;
	if (got != 0 && got != want)
		problem(s, "operation %016llx (kind %u) is partly there: %u of %u events", id, e->rec.op, got, want);
	if (e->acked && got != want)
		problem(s, "operation %016llx (kind %u) was acknowledged but %u of its %u events are "
		        "missing", id, e->rec.op, want - got, want);
	if (e->split_time)
		problem(s, "operation %016llx has events at different recorded_at", id);
	for (uint32_t p = 0; e->acked && got == want && is_raw(e) && p < e->rec.nparts; p++)
		if (e->first[p] != e->rec.parts[p].first_version ||
		    e->first_pos[p] != e->rec.parts[p].first_position)
			problem(s, "operation %016llx part %u: acknowledged at version %lld of '%s' (position "
			        "%llu), found at %lld (position %llu)", id, p,
			        (long long)e->rec.parts[p].first_version, e->rec.parts[p].stream,
			        (unsigned long long)e->rec.parts[p].first_position, (long long)e->first[p],
			        (unsigned long long)e->first_pos[p]);
	st->applied_ops += got == want;
	st->applied_unacked += got == want && !e->acked;
	st->lost_unacked += got == 0 && !e->acked;
}

static void check_stream(scan *s, es_read *rd, const scan_stream *ss)
{
	es_stream_info info;
	es_iter *it;
	es_event ev;
	int64_t next = 0, last_at = 0;
	int rc = es_stream_info_get(&info, rd, ss->name);
	if (rc == 0 && (rc = es_stream_iter(&it, rd, ss->name, 0, ES_FORWARD, ES_NO_LIMIT)) == 0) {
		while ((rc = es_iter_next(&ev, it)) == 0) {
			if (ev.version != next++ || ev.recorded_at < last_at)
				problem(s, "'%s': version %lld out of sequence or time", ss->name, (long long)ev.version);
			last_at = ev.recorded_at;
		}
		es_iter_free(it);
	}
	if (rc != ES_ITEROVER)
		problem(s, "reading '%s': %s: %s", ss->name, es_strerror(rc), es_error_last()->message);
	else if ((uint64_t)next != ss->count || info.head_version != next - 1)
		problem(s, "'%s': %lld events (head %lld), but the log has %llu", ss->name, (long long)next,
		        (long long)info.head_version, (unsigned long long)ss->count);
}

static int count_name(const char *stream, void *user_data)
{
	(void)stream;
	(*(size_t *)user_data)++;
	return 0;
}

static void check_streams(scan *s)
{
	es_read *rd;
	size_t listed = 0;
	if (es_read_begin(&rd, s->db) != 0) {
		problem(s, "es_read_begin: %s", es_error_last()->message);
		return;
	}
	for (size_t i = 0; i < s->n_streams; i++)
		check_stream(s, rd, &s->streams[i]);
	if (es_stream_list(rd, NULL, NULL, ES_NO_LIMIT, count_name, &listed) != 0 || listed != s->n_streams)
		problem(s, "%zu streams listed, %zu in the log", listed, s->n_streams);
	es_read_end(rd);
}

#define MAX_SNAPS 4096

/* Naive fold of an account from version 0, applying every event; records the
 * state at each version in want_at[] (ascending). */
static int naive_fold(es_bank_account *out, es_read *rd, const char *stream, const int64_t *at,
                      size_t n_at, es_bank_account *states)
{
	es_iter *it;
	es_event ev;
	size_t k = 0;
	es_bank_account_type.init(out);
	int rc = es_stream_iter(&it, rd, stream, 0, ES_FORWARD, ES_NO_LIMIT);
	while (rc == 0 && (rc = es_iter_next(&ev, it)) == 0) {
		rc = es_aggregate_apply(&es_bank_account_type, out, &ev);
		while (rc == 0 && k < n_at && at[k] == ev.version)
			states[k++] = *out;
	}
	es_iter_free(it);
	return rc == ES_ITEROVER && k == n_at ? 0 : (rc ? rc : ES_ENOTFOUND);
}

static int same_account(const es_bank_account *a, const es_bank_account *b)
{
	return a->balance == b->balance && a->deposited == b->deposited && a->withdrawn == b->withdrawn &&
	       a->status == b->status && a->overdraft_limit == b->overdraft_limit &&
	       strcmp(a->currency, b->currency) == 0;
}

/* Every snapshot's load equals the naive fold at its version. */
static void check_snapshots(scan *s, const char *id, const int64_t *vers, size_t n,
                            const es_bank_account *states)
{
	for (size_t k = 0; k < n; k++) {
		es_bank_account a;
		es_load_info info;
		int rc = es_bank_account_load_at_version(&a, &info, s->db, id, vers[k]);
		if (rc || info.snapshot_version != vers[k] || !same_account(&a, &states[k]))
			problem(s, "account %s at snapshot version %lld: load (rc %d, from snapshot %lld) "
			        "differs from the naive fold", id, (long long)vers[k], rc,
			        (long long)info.snapshot_version);
	}
}

/* The balances model (caught up by check_models) agrees with the fold. */
static void check_model_account(scan *s, const char *id, const es_bank_account *naive)
{
	es_read *rd;
	es_bank_account m;
	int rc = es_read_begin(&rd, s->db);
	if (rc == 0) {
		rc = es_bank_balance_get(&m, rd, id);
		es_read_end(rd);
	}
	if (rc)
		problem(s, "account %s in the balances model: %s: %s", id, es_strerror(rc), es_error_last()->message);
	else if (!same_account(&m, naive))
		problem(s, "account %s: the balances model has %lld (deposited %lld, withdrawn %lld), the events "
		        "%lld (%lld, %lld)", id, (long long)m.balance, (long long)m.deposited,
		        (long long)m.withdrawn, (long long)naive->balance, (long long)naive->deposited,
		        (long long)naive->withdrawn);
}

/* Folds account i naively, compares loads and the model, returns its balance. */
static int64_t check_account(scan *s, unsigned i, cr_stats *st)
{
	char id[16], stream[32];
	int64_t *vers = NULL;
	size_t n = 0;
	es_bank_account naive, loaded, *states = NULL;
	es_load_info info;
	es_read *rd;
	cr_account_id(id, i);
	cr_account_stream(stream, i);
	int rc = es_read_begin(&rd, s->db);
	if (rc == 0 && (rc = es_snapshot_list(&vers, &n, rd, stream)) == 0 && n > 0 &&
	    !(states = calloc(n, sizeof *states)))
		rc = ES_ENOMEM;
	if (rc == 0)
		rc = naive_fold(&naive, rd, stream, vers, n, states);
	es_read_end(rd);
	if (rc == 0)
		check_snapshots(s, id, vers, n, states);
	if (rc == 0 && (rc = es_bank_account_load(&loaded, &info, s->db, id)) == 0 && !same_account(&naive, &loaded))
		problem(s, "account %s: load gives balance %lld, the naive fold %lld", id,
		        (long long)loaded.balance, (long long)naive.balance);
	if (rc == 0)
		check_model_account(s, id, &naive);
	if (rc)
		problem(s, "account %s: %s: %s", id, es_strerror(rc), es_error_last()->message);
	else if (naive.balance < -naive.overdraft_limit)
		problem(s, "account %s: balance %lld is below its overdraft limit %lld", id,
		        (long long)naive.balance, (long long)naive.overdraft_limit);
	st->snapshots += n;
	free(vers);
	free(states);
	return rc ? 0 : naive.balance;
}

static int add_net(const es_bank_day *day, void *user_data)
{
	*(int64_t *)user_data += day->net;
	return 0;
}

static int count_owned(const char *account_id, void *user_data)
{
	(void)account_id;
	++*(unsigned *)user_data;
	return 0;
}

/* The read models, caught up after the kill (the child ran catch-ups, and
 * in even cycles the models inline): the daily totals' net is what came in
 * and went out, the owner index holds every open account; the balances
 * model is checked per account (check_model_account). */
static void check_models(scan *s)
{
	if (s->problems)
		return; /* a damaged store: catching up writes to it, and may loop in it */
	es_read *rd;
	int64_t net = 0;
	unsigned owned = 0, opened = 0;
	int rc = es_bank_balances_catch_up(NULL, s->db);
	if (rc == 0)
		rc = es_bank_daily_catch_up(NULL, s->db);
	if (rc == 0)
		rc = es_bank_owners_catch_up(NULL, s->db);
	if (rc == 0 && (rc = es_read_begin(&rd, s->db)) == 0) {
		if ((rc = es_bank_daily_each(rd, INT64_MIN, INT64_MAX, add_net, &net)) == 0)
			rc = es_bank_accounts_of(rd, "Crash Test", count_owned, &owned);
		es_read_end(rd);
	}
	for (unsigned i = 0; i < CR_ACCOUNTS; i++)
		opened += s->opened[i] == 1;
	if (rc)
		problem(s, "the bank's read models: %s: %s", es_strerror(rc), es_error_last()->message);
	else if (net != s->external || owned != opened)
		problem(s, "the daily totals' net is %lld and the owner index holds %u accounts; the events say "
		        "%lld and %u", (long long)net, owned, (long long)s->external, opened);
}

static void check_bank(scan *s, cr_stats *st)
{
	int64_t total = 0;
	check_models(s);
	for (unsigned i = 0; i < CR_ACCOUNTS; i++) {
		if (s->lg->setup_partial && s->opened[i] == 0)
			continue; /* a cut before this account was opened */
		total += check_account(s, i, st);
		if (s->opened[i] != 1)
			problem(s, "account c%u opened %u times", i, s->opened[i]);
	}
	if (total != s->external)
		problem(s, "bank total %lld, but deposits minus withdrawals in the store are %lld",
		        (long long)total, (long long)s->external);
}

/* Deposits minus withdrawals recorded at or before t, from the ledger's
 * operations that are in the store (the scan found them whole). */
static int64_t external_at(const scan *s, int64_t t)
{
	int64_t sum = 0;
	for (size_t i = 0; i < s->lg->n; i++) {
		const cr_entry *e = &s->lg->e[i];
		if ((e->rec.op == CR_DEPOSIT || e->rec.op == CR_WITHDRAW) && e->found[0] && e->recorded_at <= t)
			sum += e->rec.op == CR_DEPOSIT ? e->rec.amount : -e->rec.amount;
	}
	return sum;
}

/* As of each sampled transfer's time, money was only moved. */
static void check_as_of(scan *s)
{
	for (size_t k = 0; k < s->n_transfer_at; k++) {
		int64_t t = s->transfer_at[k], total = 0;
		for (unsigned i = 0; i < CR_ACCOUNTS; i++) {
			char id[16];
			es_bank_account a;
			es_load_info info;
			cr_account_id(id, i);
			int rc = es_bank_account_load_as_of(&a, &info, s->db, id, t);
			if (rc == 0)
				total += a.balance;
			else if (rc != ES_ENOTFOUND)
				problem(s, "account %s as of %lld: %s: %s", id, (long long)t, es_strerror(rc),
				        es_error_last()->message);
		}
		if (total != external_at(s, t))
			problem(s, "as of %lld (a transfer's recorded_at) the balances add up to %lld, but "
			        "deposits minus withdrawals until then are %lld", (long long)t,
			        (long long)total, (long long)external_at(s, t));
	}
}

static void run_es_check(scan *s)
{
	es_check_options o = ES_CHECK_OPTIONS_INIT;
	es_check_stats cs;
	o.report = stderr;
	int rc = es_check(&cs, s->db, &o);
	if (rc != 0 || cs.problems != 0)
		problem(s, "es_check: %s (%llu problems): %s", es_strerror(rc),
		        (unsigned long long)cs.problems, es_error_last()->message);
}

/* A new append works and is recorded after everything already there. */
static void probe(scan *s)
{
	uint8_t buf[CR_RAW_HEADER + 8];
	es_event_data ev;
	es_append_result res;
	es_read *rd;
	es_event got;
	cr_record r;
	memset(&r, 0, sizeof r);
	memset(&ev, 0, sizeof ev);
	r = (cr_record){ .magic = CR_MAGIC, .phase = CR_INTENT, .op = CR_RAW, .nparts = 1, .filler = 8,
	                 .op_id = s->cycle << 32 | (uint64_t)CR_WORKER_PROBE << 24 };
	snprintf(r.parts[0].stream, sizeof r.parts[0].stream, "%s", CR_PROBE_STREAM);
	r.parts[0].count = 1;
	cr_raw_id(ev.id, r.op_id, 0, 0);
	cr_raw_payload(buf, r.op_id, 0, 0, r.filler);
	ev.type = CR_RAW_TYPE;
	ev.schema_version = 1;
	ev.payload = buf;
	ev.payload_len = sizeof buf;
	cr_ledger_add(s->lg, &r);
	int rc = es_stream_append(&res, s->db, CR_PROBE_STREAM, ES_ANY, &ev, 1);
	if (rc == 0 && (rc = es_read_begin(&rd, s->db)) == 0) {
		rc = es_stream_get(&got, rd, CR_PROBE_STREAM, res.first_version);
		if (rc == 0 && (memcmp(got.id, ev.id, 16) != 0 || got.recorded_at <= s->last_at))
			problem(s, "the probe append reads back wrong or not after the log's last time");
		es_read_end(rd);
	}
	if (rc)
		problem(s, "the store refuses a new append: %s: %s", es_strerror(rc), es_error_last()->message);
	r.phase = CR_ACK;
	r.parts[0].first_version = res.first_version;
	r.parts[0].first_position = ev.position;
	if (rc == 0)
		cr_ledger_add(s->lg, &r);
	cr_ledger_commit(s->lg);
}

int cr_verify(cr_ledger *lg, const char *dir, uint64_t cycle, cr_stats *stats)
{
	scan s;
	memset(&s, 0, sizeof s);
	memset(stats, 0, sizeof *stats);
	s.lg = lg;
	s.cycle = cycle;
	for (size_t i = 0; i < lg->n; i++) {
		cr_entry *e = &lg->e[i];
		memset(e->found, 0, sizeof e->found);
		e->split_time = 0;
		e->transfer_id[0] = '\0';
	}
	int rc = es_db_open(&s.db, dir, NULL);
	if (rc) {
		problem(&s, "the store does not open: %s: %s", es_strerror(rc), es_error_last()->message);
		return s.problems;
	}
	scan_log(&s);
	for (size_t i = 0; i < lg->n; i++)
		check_op(&s, &lg->e[i], stats);
	check_streams(&s);
	check_bank(&s, stats);
	check_as_of(&s);
	run_es_check(&s);
	probe(&s);
	es_db_close(s.db);
	stats->events = s.events;
	lg->verified_events = s.events;
	return s.problems;
}
