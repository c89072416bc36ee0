/*
 * bench.h - private interface of es-bench: the shared data set, the figures
 * each workload reports, the three backends (evstore, raw LMDB, SQLite) and
 * the report. Nothing here is installed.
 */
#ifndef ES_BENCH_H
#define ES_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the data set (bench_data.c) ------------------------------------- */

/* Kinds of bank event in the data set. */
enum { BENCH_OPENED = 0, BENCH_DEPOSITED = 1, BENCH_WITHDRAWN = 2 };

/* Events per transaction in W1/W1b, whatever the scale. */
#define BENCH_TXN_EVENTS 1000
/* Schema version of every payload (the bank's current one). */
#define BENCH_SCHEMA_VERSION 3
/* Longest stream name the bench makes, with its NUL. */
#define BENCH_NAME_SIZE 32

/* Every backend writes the same events: stream s, version v has payload
 * bench_payload(d, s, v). Payloads are packed once, before any timing. */
typedef struct bench_data {
	size_t n_streams, per_stream, n_events;
	char (*names)[BENCH_NAME_SIZE]; /* "account-%05d" */
	uint8_t *pool;                  /* every payload, back to back */
	uint32_t *off;                  /* per event: offset into pool; one more at the end */
	int64_t balance_sum;            /* sum of every account's final balance */
} bench_data;

int bench_data_init(bench_data *d, size_t n_streams, size_t per_stream);
void bench_data_free(bench_data *d);

static inline const uint8_t *bench_payload(const bench_data *d, size_t s, size_t v, size_t *len)
{
	size_t i = s * d->per_stream + v;
	*len = d->off[i + 1] - d->off[i];
	return d->pool + d->off[i];
}

/* The kind of the event at version v: the same in every stream. */
int bench_kind(uint64_t v);
/* Type name of a kind, as the bank stores it. */
const char *bench_kind_name(int kind);
/* Kind of a stored type name, or -1. */
int bench_kind_of(const char *type, size_t len);
/* Packs the payload of event (seed, v) into buf (>= 256 bytes); its length. */
size_t bench_pack(uint8_t *buf, uint64_t seed, uint64_t v);
/* Balance after each version of an account seeded `seed` with n events:
 * malloc'd array of n, to check time-travel answers. */
int64_t *bench_prefix_balances(uint64_t seed, size_t n);

/* One transaction's share of a stream: count events from version. */
typedef struct bench_slice {
	uint32_t stream, version, count;
} bench_slice;

/* W1 (interleaved = 0: 10 streams x 100 events) or W1b (1000 streams x 1
 * event): the slices of transaction txn; returns how many. out holds
 * BENCH_TXN_EVENTS slices. */
size_t bench_txn_slices(bench_slice *out, const bench_data *d, int interleaved, size_t txn);
size_t bench_txn_count(const bench_data *d);

/* ---- folding without evstore (raw LMDB and SQLite sides) -------------- */

/* The same state and arithmetic as es_bank_account, for the comparators. */
typedef struct bench_account {
	char owner[128];
	char currency[4];
	int64_t overdraft_limit, balance, deposited, withdrawn;
	int status;
} bench_account;

/* Unpacks one payload of a kind (on a stack arena, like evstore) and
 * applies it. 0, or -1 when it does not decode or overflows. */
int bench_apply(bench_account *a, int kind, const uint8_t *payload, size_t len);
/* Snapshot codec of bench_account: the bank's AccountState message. */
size_t bench_state_pack(uint8_t *buf, const bench_account *a); /* buf >= 256 bytes */
int bench_state_unpack(bench_account *a, const uint8_t *buf, size_t len);

/* ---- small helpers (bench_data.c) ------------------------------------- */

uint64_t bench_rng(uint64_t *state);          /* xorshift64* */
int64_t bench_mono_ns(void);                  /* CLOCK_MONOTONIC */
int64_t bench_wall_ns(void);                  /* CLOCK_REALTIME, for recorded_at */
void bench_uuid7(uint8_t id[16], uint64_t *rng, int64_t now_ns);
void bench_put_be64(uint8_t *p, uint64_t v);
uint64_t bench_get_be64(const uint8_t *p);
/* Sorts ns in place; the p-th percentile (0..100) in microseconds. */
double bench_percentile_us(int64_t *ns, size_t n, double p);
/* Creates a fresh directory under root named es-bench-<tag>-XXXXXX. */
int bench_mkdtemp(char *out, size_t size, const char *root, const char *tag);
/* p50 microseconds of a 4 KiB write + fdatasync in dir, -1 on failure. */
double bench_sync_probe_us(const char *dir);
/* Size of a file in bytes, 0 if missing. */
uint64_t bench_file_size(const char *dir, const char *name);

/* ---- figures (bench_report.c) ----------------------------------------- */

#define BENCH_MAX_FIGS 8

/* A backend's named figures for one workload run. */
typedef struct bench_figs {
	size_t n;
	const char *name[BENCH_MAX_FIGS];
	double value[BENCH_MAX_FIGS];
} bench_figs;

void bench_figs_set(bench_figs *f, const char *name, double value);
/* The figure, or -1 when absent. */
double bench_figs_get(const bench_figs *f, const char *name);
/* Per figure, the median of runs[0..n). */
void bench_figs_median(bench_figs *out, const bench_figs *runs, size_t n);

/* ---- workload shapes -------------------------------------------------- */

/* W2's shape. */
typedef struct bench_w2 {
	size_t threads, per_thread; /* commands per thread */
	size_t lone;                /* commands of the lone-commit run */
} bench_w2;

/* W4's shape. */
typedef struct bench_w4 {
	size_t small, big;          /* events of the two accounts */
	size_t queries;             /* per account per repeat */
	size_t repeat;
} bench_w4;

/* ---- W4: the accounts and the queries (bench_data.c) ----------------- */

/* A W4 account: every event has its own recorded_at, BENCH_TT_STEP apart,
 * as live commands would give (a batch's events share one commit time, so
 * the build imports them with these times). */
typedef struct bench_tt_account {
	const char *stream, *id;  /* "account-tt-small", "tt-small" */
	uint64_t seed;
	size_t n;
	int64_t base;             /* recorded_at of version 0 */
} bench_tt_account;

#define BENCH_TT_STEP 1000000 /* ns: one event per millisecond */

/* The small and the big account of w. */
void bench_tt_accounts(bench_tt_account out[2], const bench_w4 *w);

static inline int64_t bench_tt_time(const bench_tt_account *a, size_t v)
{
	return a->base + (int64_t)v * BENCH_TT_STEP;
}

/* One as-of query: the version and balance of account a at time t. */
typedef int (*bench_as_of_fn)(void *ctx, const bench_tt_account *a, int64_t t, int64_t *version,
                              int64_t *balance);

/* w->repeat rounds of w->queries timed queries per account at uniformly
 * random times in [first, last] recorded_at; every answer is checked.
 * Fills out[r] with p50_us_10k, p99_us_10k, p50_us_1m, p99_us_1m. */
int bench_w4_drive(bench_figs *out, const bench_w4 *w, const bench_tt_account acc[2],
                   bench_as_of_fn fn, void *ctx);

/* ---- W2: the command schedule and its threads (bench_data.c) ---------- */

/* One live command: a deposit to one stream (70%) or a transfer between
 * two (30%), each stream at an exact expected version. */
typedef struct bench_cmd {
	size_t n;                  /* 1 or 2 streams */
	uint32_t stream[2];
	int64_t expected[2];
	int kind[2];
	const uint8_t *payload[2];
	size_t len[2];
} bench_cmd;

/* How a backend runs commands. thread_begin makes a thread's context (an
 * SQLite connection, say); run commits one command durably: 0 or -1. */
typedef struct bench_cmd_ops {
	void *shared;
	void *(*thread_begin)(void *shared, size_t thread);
	void (*thread_end)(void *ctx);
	int (*run)(void *ctx, const bench_cmd *c);
} bench_cmd_ops;

/* Runs W2 over a store where every stream of d is at version 0: threads
 * on disjoint streams, then one thread alone. Fills commands_per_s,
 * mean_us, p50_us, p99_us, p999_us, max_us and lone_p50_us. */
int bench_w2_drive(bench_figs *out, const bench_data *d, const bench_w2 *w,
                   const bench_cmd_ops *ops);

/* ---- W6: subscriptions (bench_w6.c) ---------------------------------- */

/* W6's shape: the store's size, and how many wake-ups are timed. */
typedef struct bench_w6 {
	size_t events, wakeups;
} bench_w6;

/* W6's store holds events of two types; one in ten is the rare one. */
#define BENCH_W6_RARE "Rare"
#define BENCH_W6_STREAMS 1000
const char *bench_w6_type(size_t i);

/* How a backend's listener waits for new events, for the wake-up driver. */
typedef struct bench_wake_ops {
	const char *name, *dir;
	void *ctx;           /* the writer's handle */
	int ctx_for_thread;  /* a listener thread shares ctx, else opens its own */
	/* Commits event i durably. 0 or -1. */
	int (*append)(void *ctx, size_t i);
	/* Listens from the log's end (ctx NULL: opens dir itself), sets *ready
	 * once it waits, then stores the CLOCK_MONOTONIC time of each of n
	 * deliveries. 0 or -1. */
	int (*listen)(void *ctx, const char *dir, _Atomic int *ready, int64_t *delivered, size_t n);
} bench_wake_ops;

/* n appends a millisecond apart, timed from each append's return to its
 * delivery, with the listener in a thread, then in another process: fills
 * wake_p50_us, wake_p99_us, xproc_p50_us, xproc_p99_us (signed: a listener
 * may see an event before the writer's call has returned). */
int bench_wake_drive(bench_figs *out, const bench_wake_ops *ops, size_t n);

/* ---- backends ---------------------------------------------------------- */

/* One side of the comparison: each workload runs the same data through it. */
typedef struct bench_backend {
	const char *name;           /* "evstore", "sqlite", "lmdb" */
	/* W1/W1b into an empty dir: events_per_s, bytes_per_event. With model
	 * (W1i), a balances read model is kept in the same transactions. */
	int (*import)(bench_figs *out, const bench_data *d, const char *dir, int interleaved, int model);
	/* W2 into an empty dir: the figures of bench_w2_drive;
	 * model as import's (W2i). */
	int (*commands)(bench_figs *out, const bench_data *d, const char *dir, const bench_w2 *w, int model);
	/* import and commands keep a read model when asked (0: W1i and W2i
	 * skip this backend). */
	int models;
	/* W3 over a dir written by import(dir, interleaved = 0): events_per_s. */
	int (*fold)(bench_figs *out, const bench_data *d, const char *dir);
	/* W4 into an empty dir: out[0..w->repeat) get p50_us_10k, p99_us_10k,
	 * p50_us_1m, p99_us_1m. */
	int (*timetravel)(bench_figs *out, const bench_data *d, const char *dir, const bench_w4 *w);
	/* W5 over an import's dir, or NULL: events_per_s, peak_rss_kib,
	 * peak_anon_kib. */
	int (*dump)(bench_figs *out, const bench_data *d, const char *dir);
	/* W6 into an empty dir, or NULL: scan_events_per_s (a plain log scan),
	 * events_per_s (catch-up, no filter), rare_events_per_s (log positions
	 * covered per second with a 10% type filter) and bench_wake_drive's. */
	int (*subscribe)(bench_figs *out, const bench_w6 *w, const char *dir);
	/* W7 over an import's dir, or NULL: events_per_s into a balances read
	 * model kept from the events (every run from position 0). */
	int (*project)(bench_figs *out, const bench_data *d, const char *dir);
} bench_backend;

extern const bench_backend bench_evstore;
/* evstore's W6 (bench_evstore_w6.c). */
int bench_evstore_subscribe(bench_figs *out, const bench_w6 *w, const char *dir);
/* evstore's W7 (bench_evstore_w7.c). */
int bench_evstore_project(bench_figs *out, const bench_data *d, const char *dir);
extern const bench_backend bench_lmdb;
#ifdef ES_BENCH_HAVE_SQLITE
extern const bench_backend bench_sqlite;
#endif

/* es-bench --w5-child DIR: dumps DIR's store in a fresh process. */
int bench_dump_child(const char *dir);

/* Prints "es-bench: <backend>: <what>" to stderr; returns -1. */
int bench_fail(const char *backend, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the report (bench_report.c) -------------------------------------- */

#define BENCH_MAX_BACKENDS 3

/* One workload's medians, per backend (NULL where not run). */
typedef struct bench_row {
	const char *workload;       /* "W1", ..., "storage" */
	const char *headline;       /* the figure the ratios compare */
	const bench_figs *figs[BENCH_MAX_BACKENDS];
} bench_row;

typedef struct bench_report {
	const char *backends[BENCH_MAX_BACKENDS]; /* [0] is evstore */
	size_t n_backends;
	bench_row rows[12];
	size_t n_rows;
	const char *notes[8];       /* printed under the table and into the JSON */
	size_t n_notes;
} bench_report;

/* The ratio of the headline figure, oriented so > 1 means evstore is
 * better; 0 when either side is missing. */
double bench_ratio(const bench_row *row, size_t backend);
void bench_report_print(FILE *out, const bench_report *r);
int bench_report_json(const char *path, const bench_report *r, const char *mode, size_t repeat);

#endif
