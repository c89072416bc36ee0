/*
 * crash.h - the crash campaign's shared pieces: the record a workload child
 * sends its parent about each operation (an intent before the call, an
 * acknowledgement only after the call returned 0), how a raw event names the
 * operation it belongs to, the ledger the parent keeps, and the entry points
 * of the three halves: the child's workload (crash_workload.c), the parent's
 * verifier (crash_verify.c) and the driver (crash_campaign.c).
 */
#ifndef ES_CRASH_H
#define ES_CRASH_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#define CR_ACCOUNTS 4        /* few accounts: they cross the snapshot interval often */
#define CR_RAW_STREAMS 6
#define CR_MAX_PARTS 3       /* streams one raw batch appends to */
#define CR_MAX_EVENTS 4      /* events per part */
#define CR_MAX_FILLER 6000   /* larger than a page: exercises LMDB overflow pages */
#define CR_RAW_HEADER 16     /* op id, part, index, 2 unused, filler length */
#define CR_MAGIC 0x45534352u
#define CR_RAW_TYPE "CrashRaw"
#define CR_PROBE_STREAM "raw-probe"

/* Operation ids: cycle << 32 | worker << 24 | sequence, so the ids of later
 * cycles sort after earlier ones. The parent's own operations use these
 * worker numbers. */
#define CR_WORKER_SETUP 0xFEu
#define CR_WORKER_PROBE 0xFFu

enum cr_phase { CR_INTENT = 1, CR_ACK = 2, CR_FAIL = 3 };
/* CR_PROJECT: a catch-up of the bank's read models; only its failure is
 * reported (it has no intent: it changes no events). */
enum cr_op { CR_RAW = 1, CR_BATCH, CR_DEPOSIT, CR_WITHDRAW, CR_TRANSFER, CR_PROJECT };

typedef struct cr_part {
	char stream[24];
	int64_t first_version;  /* ACK: version of the part's first event */
	uint32_t count;
	uint32_t unused;
	uint64_t first_position; /* ACK of a raw op: global position of the part's first event */
} cr_part;

/* One record on the pipe: well under PIPE_BUF, so each write() is atomic
 * even with several threads writing. */
typedef struct cr_record {
	uint32_t magic;
	uint16_t phase;
	uint16_t op;
	uint64_t op_id;
	int64_t amount;            /* commands */
	uint32_t acct[2];          /* commands: account indexes (from, to) */
	uint32_t nparts;           /* raw ops: parts; commands: events expected */
	uint32_t filler;           /* raw ops: filler bytes per event */
	cr_part parts[CR_MAX_PARTS];
	int32_t rc;                /* CR_FAIL: the unexpected error */
	char text[180];            /* CR_FAIL: its message */
} cr_record;

/* ---- raw events ---- */

/* The id of event `index` of part `part` of an operation. */
void cr_raw_id(uint8_t out[16], uint64_t op_id, unsigned part, unsigned index);
/* Fills buf (CR_RAW_HEADER + filler bytes) with the payload of that event. */
void cr_raw_payload(uint8_t *buf, uint64_t op_id, unsigned part, unsigned index, uint32_t filler);
/* Parses a raw payload and, if check_filler, checks every filler byte:
 * 0, or -1 when malformed or torn. */
int cr_raw_parse(const void *payload, size_t len, uint64_t *op_id, unsigned *part,
                 unsigned *index, uint32_t *filler, int check_filler);
/* "account-c<i>" and "c<i>". */
void cr_account_stream(char out[32], unsigned i);
void cr_account_id(char out[16], unsigned i);
/* "op-<16 hex digits>": the reference a command carries. */
void cr_reference(char out[24], uint64_t op_id);
/* splitmix64 step. */
uint64_t cr_rand(uint64_t *state);

/* ---- the child ---- */

/* A workload's settings (cr_child_run passes the crash campaign's). */
typedef struct cr_workload_opts {
	const char *dir;
	uint64_t cycle;        /* the high part of every op id */
	uint64_t seed;
	int threads;
	int nosync;
	int ops;               /* per worker; 0: until killed */
	int fd;                /* records go here, one write(2) each */
	size_t map_size;       /* 0: the default; small, the map grows during the run */
	int commands_only;     /* only bank commands: accounts cross their snapshot interval sooner */
	uint32_t filler_min;   /* raw events carry at least this many filler bytes */
	int inline_models;     /* the bank's read models run inline (es_bank_read_model_inline) */
	int dies;              /* exits without closing the store, as a killed process would */
} cr_workload_opts;

/* Runs a workload as cr_child_run does; never returns. */
void cr_workload_run(const cr_workload_opts *o) __attribute__((noreturn));

/* Opens the store and runs `threads` workers until killed, or, if ops > 0,
 * until each has run ops operations; then closes the store and exits 0.
 * Never returns. */
void cr_child_run(const char *dir, uint64_t cycle, uint64_t seed, int threads, int nosync, int ops,
                  int fd) __attribute__((noreturn));

/* ---- the parent's ledger and verifier ---- */

/* What the parent knows of one operation, and what the latest scan found. */
typedef struct cr_entry {
	cr_record rec;             /* the intent; first versions from the ack */
	int acked;
	uint32_t found[CR_MAX_PARTS];
	int64_t first[CR_MAX_PARTS];
	uint64_t first_pos[CR_MAX_PARTS];
	int64_t recorded_at;
	int split_time;            /* events of the op with different recorded_at */
	char transfer_id[64];
} cr_entry;

typedef struct cr_ledger {
	cr_entry *e;               /* sorted by op id */
	size_t n, cap;
	cr_record *pending;        /* this cycle's records, in arrival order */
	size_t n_pending, cap_pending;
	uint64_t acks, intents, fails;
	uint64_t verified_events;  /* log positions a clean verification has seen */
	int setup_partial;         /* the accounts may not all be open yet (a cut during setup) */
} cr_ledger;

/* Totals of the last verification, for the report. */
typedef struct cr_stats {
	uint64_t events, snapshots;
	uint64_t applied_ops;     /* operations whose events are all there */
	uint64_t applied_unacked; /* ... that the child never acknowledged (killed in between) */
	uint64_t lost_unacked;    /* intended, never acknowledged, not there (refused or killed) */
} cr_stats;

void cr_ledger_add(cr_ledger *lg, const cr_record *r);
/* Merges the cycle's pending records into the sorted ledger. Returns the
 * number of CR_FAIL records (unexpected errors in the child). */
size_t cr_ledger_commit(cr_ledger *lg);
void cr_ledger_free(cr_ledger *lg);

/* Opens the store and creates the accounts with their first deposits. Each
 * deposit's intent and acknowledgement go into lg (if not NULL) and are
 * written to fd (if >= 0); the intent before the account is opened. */
int cr_setup(cr_ledger *lg, const char *dir, int fd);
/* Reopens the store after a kill and checks everything; appends a probe.
 * Returns the number of problems found (printed to stderr). */
int cr_verify(cr_ledger *lg, const char *dir, uint64_t cycle, cr_stats *stats);

#endif
