/*
 * bench_data.c - what every backend shares, so that all three do the same
 * work: the data set (bank events packed with protobuf-c, ~100-byte
 * payloads), the transaction schedules of W1/W1b, the command schedule and
 * threads of W2, the accounts and queries of W4, the comparators' fold (the
 * same unpack and arithmetic as the account aggregate), and small helpers:
 * clocks, ids, percentiles, temp dirs, the disk probe.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <evstore/bank.h>
#include <unistd.h>

#include "bank.pb-c.h"
#include "bench.h"

/* ---- deterministic content ---- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int bench_kind(uint64_t v)
{
	if (v == 0)
		return BENCH_OPENED;
	return v % 4 == 0 ? BENCH_WITHDRAWN : BENCH_DEPOSITED;
}

const char *bench_kind_name(int kind)
{
	static const char *const names[] = {
		ES_BANK_ACCOUNT_OPENED, ES_BANK_MONEY_DEPOSITED, ES_BANK_MONEY_WITHDRAWN,
	};
	return names[kind];
}

int bench_kind_of(const char *type, size_t len)
{
	for (int k = BENCH_OPENED; k <= BENCH_WITHDRAWN; k++)
		if (strlen(bench_kind_name(k)) == len && memcmp(bench_kind_name(k), type, len) == 0)
			return k;
	return -1;
}

static int64_t amount_of(uint64_t seed, uint64_t v)
{
	uint64_t h = mix(seed * 1000003u + v);
	return bench_kind(v) == BENCH_WITHDRAWN ? (int64_t)(h % 50000) + 100 : (int64_t)(h % 100000) + 100;
}

static size_t pack_opened(uint8_t *buf, uint64_t seed)
{
	char owner[96];
	snprintf(owner, sizeof owner, "Owner %05llu, %llu Example Street, Springfield",
	         (unsigned long long)seed, (unsigned long long)(seed % 997));
	Evstore__Bank__AccountOpened m = EVSTORE__BANK__ACCOUNT_OPENED__INIT;
	m.owner = owner;
	m.currency = (char *)"USD";
	m.overdraft_limit = 100000;
	return evstore__bank__account_opened__pack(&m, buf);
}

/* Deposits and withdrawals carry a reference, a transfer id and a
 * counterparty, as a transfer leg does: ~100 bytes packed. */
static size_t pack_amount(uint8_t *buf, uint64_t seed, uint64_t v)
{
	char ref[48], tid[40], other[24];
	uint64_t h = mix(seed ^ (v << 32));
	snprintf(ref, sizeof ref, "invoice INV-%08llu-%04llu paid by bank",
	         (unsigned long long)(h % 100000000), (unsigned long long)(v % 10000));
	snprintf(tid, sizeof tid, "%08llx-%04llx-7%03llx-8%03llx-%012llx",
	         (unsigned long long)(h >> 32), (unsigned long long)(h & 0xffff),
	         (unsigned long long)(v & 0xfff), (unsigned long long)(seed & 0xfff),
	         (unsigned long long)(mix(h) & 0xffffffffffffull));
	snprintf(other, sizeof other, "account-%05llu", (unsigned long long)(h % 100000));
	if (bench_kind(v) == BENCH_WITHDRAWN) {
		Evstore__Bank__MoneyWithdrawn m = EVSTORE__BANK__MONEY_WITHDRAWN__INIT;
		m.amount_minor = amount_of(seed, v);
		m.reference = ref, m.transfer_id = tid, m.counterparty = other;
		return evstore__bank__money_withdrawn__pack(&m, buf);
	}
	Evstore__Bank__MoneyDeposited m = EVSTORE__BANK__MONEY_DEPOSITED__INIT;
	m.amount_minor = amount_of(seed, v);
	m.reference = ref, m.transfer_id = tid, m.counterparty = other;
	return evstore__bank__money_deposited__pack(&m, buf);
}

size_t bench_pack(uint8_t *buf, uint64_t seed, uint64_t v)
{
	return v == 0 ? pack_opened(buf, seed) : pack_amount(buf, seed, v);
}

int64_t *bench_prefix_balances(uint64_t seed, size_t n)
{
	int64_t *out = malloc((n ? n : 1) * sizeof *out), bal = 0;
	for (size_t v = 0; out && v < n; v++) {
		int k = bench_kind(v);
		if (k != BENCH_OPENED)
			bal += k == BENCH_DEPOSITED ? amount_of(seed, v) : -amount_of(seed, v);
		out[v] = bal;
	}
	return out;
}

/* ---- the data set ---- */

int bench_data_init(bench_data *d, size_t n_streams, size_t per_stream)
{
	memset(d, 0, sizeof *d);
	d->n_streams = n_streams;
	d->per_stream = per_stream;
	d->n_events = n_streams * per_stream;
	d->names = malloc(n_streams * sizeof *d->names);
	d->off = malloc((d->n_events + 1) * sizeof *d->off);
	d->pool = malloc(d->n_events * 128); /* payloads stay under 128 bytes */
	if (!d->names || !d->off || !d->pool)
		return -1;
	uint32_t at = 0;
	for (size_t s = 0; s < n_streams; s++) {
		snprintf(d->names[s], BENCH_NAME_SIZE, "account-%05zu", s);
		for (size_t v = 0; v < per_stream; v++) {
			uint8_t buf[256];
			size_t len = bench_pack(buf, s, v);
			if (len > 128)
				return -1;
			d->off[s * per_stream + v] = at;
			memcpy(d->pool + at, buf, len);
			at += (uint32_t)len;
		}
		int64_t *bal = bench_prefix_balances(s, per_stream);
		if (!bal)
			return -1;
		d->balance_sum += bal[per_stream - 1];
		free(bal);
	}
	d->off[d->n_events] = at;
	return 0;
}

void bench_data_free(bench_data *d)
{
	free(d->names);
	free(d->off);
	free(d->pool);
	memset(d, 0, sizeof *d);
}

/* ---- W1 schedules ---- */

size_t bench_txn_count(const bench_data *d)
{
	return (d->n_events + BENCH_TXN_EVENTS - 1) / BENCH_TXN_EVENTS;
}

/* Stream by stream: whole streams, BENCH_TXN_EVENTS / per_stream of them. */
static size_t slices_clustered(bench_slice *out, const bench_data *d, size_t txn)
{
	size_t first = txn * BENCH_TXN_EVENTS, n = 0;
	for (size_t e = first; e < first + BENCH_TXN_EVENTS && e < d->n_events; n++) {
		size_t s = e / d->per_stream, v = e % d->per_stream;
		size_t count = d->per_stream - v;
		if (count > first + BENCH_TXN_EVENTS - e)
			count = first + BENCH_TXN_EVENTS - e;
		out[n] = (bench_slice){ (uint32_t)s, (uint32_t)v, (uint32_t)count };
		e += count;
	}
	return n;
}

/* Round robin: event e of the schedule is stream e % n_streams at version
 * e / n_streams, so each transaction touches BENCH_TXN_EVENTS streams. */
static size_t slices_interleaved(bench_slice *out, const bench_data *d, size_t txn)
{
	size_t first = txn * BENCH_TXN_EVENTS, n = 0;
	for (size_t e = first; e < first + BENCH_TXN_EVENTS && e < d->n_events; e++)
		out[n++] = (bench_slice){ (uint32_t)(e % d->n_streams), (uint32_t)(e / d->n_streams), 1 };
	return n;
}

size_t bench_txn_slices(bench_slice *out, const bench_data *d, int interleaved, size_t txn)
{
	return interleaved ? slices_interleaved(out, d, txn) : slices_clustered(out, d, txn);
}

/* ---- the comparators' fold ---- */

/* A stack arena for protobuf-c, as the account aggregate uses: no malloc
 * per event (docs/DESIGN.md "Reading and folding"; the design brief measured
 * 8.8M unpacks/s against 6.0M with malloc). */
typedef struct arena {
	_Alignas(16) unsigned char buf[1024];
	size_t used;
} arena;

static void *arena_alloc(void *data, size_t size)
{
	arena *a = data;
	size = (size + 15) & ~(size_t)15;
	if (size > sizeof a->buf - a->used)
		return NULL;
	void *p = a->buf + a->used;
	a->used += size;
	return p;
}

static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

static int apply_amount(bench_account *a, int64_t amount, int sign)
{
	int64_t *total = sign > 0 ? &a->deposited : &a->withdrawn;
	if (amount < 0 || __builtin_add_overflow(*total, amount, total))
		return -1;
	if (sign > 0)
		return __builtin_add_overflow(a->balance, amount, &a->balance) ? -1 : 0;
	return __builtin_sub_overflow(a->balance, amount, &a->balance) ? -1 : 0;
}

static int apply_opened(bench_account *a, ProtobufCAllocator *al, const uint8_t *p, size_t len)
{
	Evstore__Bank__AccountOpened *m = evstore__bank__account_opened__unpack(al, len, p);
	if (!m || m->overdraft_limit < 0)
		return -1;
	snprintf(a->owner, sizeof a->owner, "%s", m->owner);
	snprintf(a->currency, sizeof a->currency, "%s", m->currency);
	a->overdraft_limit = m->overdraft_limit;
	a->status = 0;
	return 0;
}

int bench_apply(bench_account *a, int kind, const uint8_t *payload, size_t len)
{
	arena ar;
	ar.used = 0;
	ProtobufCAllocator al = { arena_alloc, arena_free, &ar };
	if (kind == BENCH_OPENED)
		return apply_opened(a, &al, payload, len);
	/* The same amount decoder the account aggregate uses, so every side
	 * decodes money events with the same code. */
	int64_t amount;
	if ((kind == BENCH_DEPOSITED || kind == BENCH_WITHDRAWN) && es_bank_amount_of(&amount, payload, len) == 0)
		return apply_amount(a, amount, kind == BENCH_DEPOSITED ? +1 : -1);
	return -1;
}

size_t bench_state_pack(uint8_t *buf, const bench_account *a)
{
	Evstore__Bank__AccountState m = EVSTORE__BANK__ACCOUNT_STATE__INIT;
	m.owner = (char *)a->owner;
	m.currency = (char *)a->currency;
	m.overdraft_limit = a->overdraft_limit;
	m.balance = a->balance;
	m.status = a->status;
	m.deposited = a->deposited;
	m.withdrawn = a->withdrawn;
	return evstore__bank__account_state__pack(&m, buf);
}

int bench_state_unpack(bench_account *a, const uint8_t *buf, size_t len)
{
	arena ar;
	ar.used = 0;
	ProtobufCAllocator al = { arena_alloc, arena_free, &ar };
	Evstore__Bank__AccountState *m = evstore__bank__account_state__unpack(&al, len, buf);
	if (!m)
		return -1;
	snprintf(a->owner, sizeof a->owner, "%s", m->owner);
	snprintf(a->currency, sizeof a->currency, "%s", m->currency);
	a->overdraft_limit = m->overdraft_limit;
	a->balance = m->balance;
	a->status = m->status;
	a->deposited = m->deposited;
	a->withdrawn = m->withdrawn;
	return 0;
}

/* ---- helpers ---- */

uint64_t bench_rng(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x2545f4914f6cdd1dull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

int64_t bench_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* UUIDv7: 48-bit milliseconds, version 7, variant 10, random low bits. */
void bench_uuid7(uint8_t id[16], uint64_t *rng, int64_t now_ns)
{
	uint64_t ms = (uint64_t)(now_ns / 1000000), r1 = bench_rng(rng), r2 = bench_rng(rng);
	for (int i = 0; i < 6; i++)
		id[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(id + 6, &r1, 2);
	memcpy(id + 8, &r2, 8);
	id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
	id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
}

void bench_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t bench_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

double bench_percentile_us(int64_t *ns, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(ns, n, sizeof *ns, cmp_i64);
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)ns[rank - 1] / 1000.0;
}

int bench_mkdtemp(char *out, size_t size, const char *root, const char *tag)
{
	if ((size_t)snprintf(out, size, "%s/es-bench-%s-XXXXXX", root, tag) >= size)
		return bench_fail(tag, "temporary directory name is too long");
	if (!mkdtemp(out))
		return bench_fail(tag, "mkdtemp %s: %s", out, strerror(errno));
	return 0;
}

uint64_t bench_file_size(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int bench_fail(const char *backend, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "es-bench: %s: ", backend);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* ---- W2: the command schedule and its threads ---- */

/* A thread's own streams are s = thread + k * threads: disjoint from every
 * other thread's, so each knows its versions without reading. */
typedef struct w2_thread {
	const bench_data *d;
	const bench_cmd_ops *ops;
	pthread_barrier_t *start;
	size_t t, threads, n_cmds, n_own;
	int64_t *ver;   /* per own stream: its head */
	int64_t *lat;   /* per command: ns */
	uint64_t rng;
	int transfers;  /* 0: deposits only (the lone run) */
	int rc;
} w2_thread;

static uint32_t own_stream(const w2_thread *w, size_t k)
{
	return (uint32_t)(w->t + k * w->threads);
}

static void cmd_leg(bench_cmd *c, const w2_thread *w, size_t i, size_t k, int kind)
{
	uint32_t s = own_stream(w, k);
	c->stream[i] = s;
	c->expected[i] = w->ver[k];
	c->kind[i] = kind;
	/* version 1 is a deposit and 4 a withdrawal in every stream */
	c->payload[i] = bench_payload(w->d, s, kind == BENCH_DEPOSITED ? 1 : 4, &c->len[i]);
}

static void next_cmd(bench_cmd *c, size_t k[2], w2_thread *w)
{
	k[0] = bench_rng(&w->rng) % w->n_own;
	if (!w->transfers || w->n_own < 2 || bench_rng(&w->rng) % 10 < 7) {
		c->n = 1;
		cmd_leg(c, w, 0, k[0], BENCH_DEPOSITED);
		return;
	}
	k[1] = (k[0] + 1 + bench_rng(&w->rng) % (w->n_own - 1)) % w->n_own;
	c->n = 2;
	cmd_leg(c, w, 0, k[0], BENCH_WITHDRAWN);
	cmd_leg(c, w, 1, k[1], BENCH_DEPOSITED);
}

static void *w2_main(void *arg)
{
	w2_thread *w = arg;
	void *ctx = w->ops->thread_begin(w->ops->shared, w->t);
	if (w->start)
		pthread_barrier_wait(w->start);
	w->rc = ctx ? 0 : -1;
	for (size_t i = 0; i < w->n_cmds && w->rc == 0; i++) {
		bench_cmd c;
		size_t k[2];
		next_cmd(&c, k, w);
		int64_t t0 = bench_mono_ns();
		w->rc = w->ops->run(ctx, &c);
		w->lat[i] = bench_mono_ns() - t0;
		for (size_t j = 0; j < c.n; j++)
			w->ver[k[j]]++;
	}
	if (ctx)
		w->ops->thread_end(ctx);
	return NULL;
}

static int w2_init(w2_thread *w, const bench_data *d, const bench_cmd_ops *ops, size_t t,
                   size_t threads, size_t n_cmds)
{
	memset(w, 0, sizeof *w);
	w->d = d, w->ops = ops, w->t = t, w->threads = threads, w->n_cmds = n_cmds;
	w->n_own = (d->n_streams - t + threads - 1) / threads;
	w->rng = 0x9e3779b97f4a7c15ull * (t + 1);
	w->transfers = 1;
	w->ver = calloc(w->n_own ? w->n_own : 1, sizeof *w->ver);
	w->lat = calloc(n_cmds ? n_cmds : 1, sizeof *w->lat);
	return w->ver && w->lat && w->n_own ? 0 : -1;
}

static void w2_free(w2_thread *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].ver);
		free(w[i].lat);
	}
	free(w);
}

/* Every command of every thread, for the percentiles. */
static int w2_latencies(bench_figs *out, const w2_thread *w, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i].n_cmds;
	int64_t *all = malloc(total * sizeof *all);
	if (!all)
		return -1;
	for (size_t i = 0, k = 0; i < n; k += w[i].n_cmds, i++)
		memcpy(all + k, w[i].lat, w[i].n_cmds * sizeof *all);
	double sum = 0;
	for (size_t i = 0; i < total; i++)
		sum += (double)all[i];
	/* the mean too: a backend whose waits are sleeps (SQLite's busy
	 * handler) can show a low p99 while its mean says what callers wait */
	bench_figs_set(out, "mean_us", total ? sum / (double)total / 1000.0 : 0);
	bench_figs_set(out, "p50_us", bench_percentile_us(all, total, 50));
	bench_figs_set(out, "p99_us", bench_percentile_us(all, total, 99));
	bench_figs_set(out, "p999_us", bench_percentile_us(all, total, 99.9));
	bench_figs_set(out, "max_us", bench_percentile_us(all, total, 100));
	free(all);
	return 0;
}

/* One thread alone, deposits only: what a lone durable commit costs. It
 * continues on thread 0's streams, whose versions it knows. */
static int w2_lone(bench_figs *out, w2_thread *w0, const bench_w2 *p)
{
	int64_t *lat = realloc(w0->lat, (p->lone ? p->lone : 1) * sizeof *lat);
	if (!lat)
		return -1;
	w0->lat = lat;
	w0->n_cmds = p->lone;
	w0->transfers = 0;
	w0->start = NULL;
	w2_main(w0);
	if (w0->rc)
		return -1;
	bench_figs_set(out, "lone_p50_us", bench_percentile_us(lat, p->lone, 50));
	return 0;
}

int bench_w2_drive(bench_figs *out, const bench_data *d, const bench_w2 *p, const bench_cmd_ops *ops)
{
	w2_thread *w = calloc(p->threads, sizeof *w);
	pthread_t *tid = calloc(p->threads, sizeof *tid);
	pthread_barrier_t start;
	int rc = w && tid ? 0 : -1;
	for (size_t t = 0; rc == 0 && t < p->threads; t++)
		rc = w2_init(&w[t], d, ops, t, p->threads, p->per_thread);
	if (rc || pthread_barrier_init(&start, NULL, (unsigned)p->threads + 1)) {
		w2_free(w, w ? p->threads : 0);
		free(tid);
		return -1;
	}
	for (size_t t = 0; t < p->threads; t++) {
		w[t].start = &start;
		pthread_create(&tid[t], NULL, w2_main, &w[t]);
	}
	pthread_barrier_wait(&start);
	int64_t t0 = bench_mono_ns();
	for (size_t t = 0; t < p->threads; t++) {
		pthread_join(tid[t], NULL);
		rc = rc ? rc : w[t].rc;
	}
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	pthread_barrier_destroy(&start);
	bench_figs_set(out, "commands_per_s", (double)(p->threads * p->per_thread) / secs);
	if (rc == 0)
		rc = w2_latencies(out, w, p->threads);
	if (rc == 0)
		rc = w2_lone(out, &w[0], p);
	w2_free(w, p->threads);
	free(tid);
	return rc;
}

/* ---- the disk ---- */

/* p50 of a 4 KiB write + fdatasync in dir: what one durable commit costs
 * at least on this disk at this moment. Printed with the results because
 * this machine's disk is shared and its latency varies tenfold. */
double bench_sync_probe_us(const char *dir)
{
	char path[PATH_MAX];
	static const char block[4096];
	int64_t ns[32];
	snprintf(path, sizeof path, "%s/sync-probe", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	size_t n = 0;
	for (; n < 32; n++) {
		int64_t t0 = bench_mono_ns();
		if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block || fdatasync(fd) != 0)
			break;
		ns[n] = bench_mono_ns() - t0;
	}
	close(fd);
	unlink(path);
	return n == 32 ? bench_percentile_us(ns, n, 50) : -1;
}

/* ---- W4: the accounts and the queries ---- */

void bench_tt_accounts(bench_tt_account out[2], const bench_w4 *w)
{
	/* 2023-11-14: any past time will do; the big account's history starts
	 * a second after the small one's ends (imports must move forward). */
	int64_t base = 1700000000000000000;
	out[0] = (bench_tt_account){ "account-tt-small", "tt-small", 1000001, w->small, base };
	out[1] = (bench_tt_account){ "account-tt-big", "tt-big", 1000002, w->big,
	                             base + (int64_t)w->small * BENCH_TT_STEP + 1000000000 };
}

static int w4_account(double *p50, double *p99, const bench_w4 *w, const bench_tt_account *a,
                      bench_as_of_fn fn, void *ctx, uint64_t rng)
{
	int64_t *lat = malloc(w->queries * sizeof *lat), *bal = bench_prefix_balances(a->seed, a->n);
	int rc = lat && bal ? 0 : bench_fail("W4", "out of memory");
	int64_t span = bench_tt_time(a, a->n - 1) - a->base + 1;
	for (size_t i = 0; rc == 0 && i < w->queries; i++) {
		int64_t t = a->base + (int64_t)(bench_rng(&rng) % (uint64_t)span), ver = -1, balance = 0;
		int64_t want = (t - a->base) / BENCH_TT_STEP;
		int64_t t0 = bench_mono_ns();
		rc = fn(ctx, a, t, &ver, &balance);
		lat[i] = bench_mono_ns() - t0;
		if (rc == 0 && (ver != want || balance != bal[want]))
			rc = bench_fail("W4", "%s as of %lld: version %lld, balance %lld; expected %lld, %lld",
			                a->stream, (long long)t, (long long)ver, (long long)balance,
			                (long long)want, (long long)bal[want]);
	}
	*p50 = bench_percentile_us(lat, w->queries, 50);
	*p99 = bench_percentile_us(lat, w->queries, 99);
	free(lat);
	free(bal);
	return rc;
}

int bench_w4_drive(bench_figs *out, const bench_w4 *w, const bench_tt_account acc[2],
                   bench_as_of_fn fn, void *ctx)
{
	static const char *const names[2][2] = { { "p50_us_10k", "p99_us_10k" },
	                                          { "p50_us_1m", "p99_us_1m" } };
	for (size_t r = 0; r < w->repeat; r++)
		for (int k = 0; k < 2; k++) {
			double p50, p99;
			if (w4_account(&p50, &p99, w, &acc[k], fn, ctx, 77 + 1000 * r + (uint64_t)k))
				return -1;
			bench_figs_set(&out[r], names[k][0], p50);
			bench_figs_set(&out[r], names[k][1], p99);
		}
	return 0;
}
