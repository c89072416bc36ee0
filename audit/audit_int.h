/*
 * audit_int.h - what the audit module's files share: a growable byte
 * buffer with JSON and CSV text helpers, the hash chain's record syntax, a
 * reader that splits a dump into records, and protobuf <-> JSON.
 * Nothing here is installed.
 */
#ifndef ES_AUDIT_INT_H
#define ES_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <protobuf-c/protobuf-c.h>

#include "evstore/audit.h"
#include "evstore/import.h"

/* ---- buf.c: growable buffer ------------------------------------------ */

/* A failed allocation is sticky: later writes do nothing and `failed` says
 * so, so a record is built without checking every append. */
typedef struct es_audit__buf {
	char *data;
	size_t len, cap;
	bool failed;
} es_audit__buf;

void es_audit__buf_free(es_audit__buf *b);
/* The slow path of es_audit__buf_reserve: grows the buffer. */
bool es_audit__buf_grow(es_audit__buf *b, size_t extra);

/* Room for extra more bytes; false (and nothing written later) if out of memory. */
static inline bool es_audit__buf_reserve(es_audit__buf *b, size_t extra)
{
	return (!b->failed && extra <= b->cap - b->len) || es_audit__buf_grow(b, extra);
}

static inline void es_audit__buf_put(es_audit__buf *b, const void *p, size_t n)
{
	if (n && es_audit__buf_reserve(b, n)) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
	}
}

static inline void es_audit__buf_putc(es_audit__buf *b, char c)
{
	if (es_audit__buf_reserve(b, 1))
		b->data[b->len++] = c;
}

/* A string literal, without measuring it at run time. */
#define ES_AUDIT_PUT_LIT(b, lit) es_audit__buf_put((b), "" lit, sizeof(lit) - 1)

void es_audit__buf_puts(es_audit__buf *b, const char *s);
void es_audit__buf_u64(es_audit__buf *b, uint64_t v);
void es_audit__buf_i64(es_audit__buf *b, int64_t v);
/* p[0..n) as 2n lowercase hex digits at out (not terminated). */
void es_audit__hex_text(char *out, const uint8_t *p, size_t n);
void es_audit__buf_hex(es_audit__buf *b, const uint8_t *p, size_t n);
void es_audit__buf_base64(es_audit__buf *b, const void *p, size_t n);
/* Decodes standard base64 with padding into out (room for n / 4 * 3 bytes).
 * Strict: anything but the canonical encoding of the result is refused. */
bool es_audit__base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t n);
/* A JSON string literal of s[0..n). Valid UTF-8 is copied; each byte of an
 * invalid sequence becomes \udcXX (the "surrogateescape" convention), and
 * the return is false: the text can be read, but not parsed back exactly. */
bool es_audit__buf_json_string(es_audit__buf *b, const char *s, size_t n);
/* A CSV cell: quoted (quotes doubled) only if it holds , " CR or LF, as
 * Python's csv module does by default. */
void es_audit__buf_csv_cell(es_audit__buf *b, const char *s, size_t n);
/* Shortest text that reads back as the same double / float: "NaN",
 * "Infinity" and "-Infinity" quoted, else a JSON number that always has a
 * '.' or an exponent (so -0.0 stays -0.0 and parsers keep it a real). */
void es_audit__buf_double(es_audit__buf *b, double v);
void es_audit__buf_float(es_audit__buf *b, float v);
/* An id as UUID text, quoted for JSON when `quote`. */
void es_audit__buf_uuid(es_audit__buf *b, const uint8_t id[16], bool quote);
/* RFC 3339 UTC time with nine fraction digits, quoted for JSON when `quote`. */
void es_audit__buf_time(es_audit__buf *b, int64_t ns, bool quote);

/* The same, remembering the text of the last second: events come in time
 * order, so most share their second with the one before. */
typedef struct es_audit__time_cache {
	bool valid;
	int64_t sec;
	char prefix[24]; /* "YYYY-MM-DDTHH:MM:SS." */
} es_audit__time_cache;
void es_audit__buf_time_cached(es_audit__buf *b, es_audit__time_cache *c, int64_t ns, bool quote);

/* ---- encode.c: an event in the dump's encoding ------------------------ */

/* A cell's text as last written, and the value it shows. */
typedef struct es_audit__cell_cache {
	bool valid;
	int64_t value;
	size_t len;
	char text[48];
} es_audit__cell_cache;

#define ES_AUDIT__ENCODER_ARENA (64 * 1024)

/* Reused buffers for encoding events one after another. Not movable once
 * initialised (the arena points into it). */
typedef struct es_audit__encoder {
	bool json;              /* JSONL, else CSV */
	es_descriptor_fn descriptor;
	void *descriptor_user_data;
	es_audit__buf line;     /* the record being built */
	es_audit__buf scratch;  /* a CSV cell before it is quoted into line */
	es_audit__buf decoded;  /* a lossy payload's decoded form, kept for its note */
	es_audit__time_cache times;
	es_audit__cell_cache at_text, at_ns; /* recorded_at's two cells */
	uint64_t raw_payloads;  /* payloads written as base64 */
	es_arena arena;         /* payload decoding (and upcasting, in es_dump) */
	unsigned char arena_buf[ES_AUDIT__ENCODER_ARENA];
} es_audit__encoder;

void es_audit__encoder_init(es_audit__encoder *e, bool json, es_descriptor_fn descriptor,
                            void *descriptor_user_data);
void es_audit__encoder_free(es_audit__encoder *e);
/* Appends ev's columns to e->line: a JSONL object without its closing brace
 * (the hashes come next), or a CSV row up to its hash cells.
 * 0, or ES_ECORRUPT (malformed metadata). */
int es_audit__encode_event(es_audit__encoder *e, const es_event *ev);

/* ---- chain.c: the hash chain ------------------------------------------ */

#define ES_AUDIT_HASH_SIZE 32
#define ES_AUDIT_HEX 64
/* JSONL: the hashed part ends with "prev_hash":"<hex>"; the line goes on
 * with ,"hash":"<hex>"} and a newline. */
#define ES_AUDIT_JSONL_PREV "\"prev_hash\":\""
#define ES_AUDIT_JSONL_HASH ",\"hash\":\""
/* An event record's columns in order (FORMAT.md "Events"): the JSONL
 * members and the CSV cells before the hashes. X(name) for each. */
#define ES_AUDIT_EVENT_COLUMNS(X)                                                         \
	X(position) X(stream) X(version) X(id) X(type) X(schema_version) X(recorded_at)   \
	X(recorded_at_ns) X(occurred_at) X(correlation_id) X(causation_id) X(metadata)    \
	X(data)
#define ES_AUDIT__COLUMN_NAME(name) #name ","
#define ES_AUDIT__COLUMN_ONE(name) +1
#define ES_AUDIT_EVENT_COLUMN_COUNT (0 ES_AUDIT_EVENT_COLUMNS(ES_AUDIT__COLUMN_ONE))
/* The CSV column row: fixed, and hashed to start a CSV file's chain. */
#define ES_AUDIT_CSV_COLUMNS ES_AUDIT_EVENT_COLUMNS(ES_AUDIT__COLUMN_NAME) "prev_hash,hash"
#define ES_AUDIT_CSV_CELLS (ES_AUDIT_EVENT_COLUMN_COUNT + 2)

/* SHA-256 from OpenSSL's libcrypto, through one reused context per dump,
 * verification or load (a fresh context per record costs half the speed). */
typedef struct es_audit__hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
} es_audit__hasher;

/* 0, or ES_ENOMEM when libcrypto cannot provide SHA-256. */
int es_audit__hasher_init(es_audit__hasher *h);
void es_audit__hasher_free(es_audit__hasher *h);
void es_audit__sha256(es_audit__hasher *h, uint8_t out[ES_AUDIT_HASH_SIZE], const void *p, size_t n);
void es_audit__hex(char out[ES_HASH_HEX_SIZE], const uint8_t hash[ES_AUDIT_HASH_SIZE]);
/* Parses 64 lowercase hex digits. */
bool es_audit__unhex(uint8_t out[ES_AUDIT_HASH_SIZE], const char *hex);

/* Ends a record whose hashed part is b->data[0..len): for JSONL appends
 * ,"prev_hash":"<prev>" then hashes, then ,"hash":"<h>"}\n; for CSV appends
 * ,<prev>, hashes, then ,<h>\n. Writes the new hash to prev. */
void es_audit__seal(es_audit__buf *b, es_dump_format format, uint8_t prev[ES_AUDIT_HASH_SIZE],
                    es_audit__hasher *h);
/* The same for a record that starts at b->data[start] (after others). */
void es_audit__seal_from(es_audit__buf *b, size_t start, es_dump_format format,
                         uint8_t prev[ES_AUDIT_HASH_SIZE], es_audit__hasher *h);

/* What the chain syntax says about one record, before any hash is checked. */
typedef struct es_audit__link {
	bool parsed;            /* the record ends in a well-formed prev/hash pair */
	const char *body;       /* the hashed bytes */
	size_t body_len;
	uint8_t prev[ES_AUDIT_HASH_SIZE];
	uint8_t stated[ES_AUDIT_HASH_SIZE];
	uint8_t computed[ES_AUDIT_HASH_SIZE];
} es_audit__link;

/* Splits a record (without its newline) into its hashed part and hashes. */
void es_audit__link_parse(es_audit__link *l, const char *rec, size_t len, es_dump_format format,
                          es_audit__hasher *h);

/* The kinds of record in a dump. */
typedef enum es_audit__kind {
	ES_AUDIT_REC_OTHER = 0,
	ES_AUDIT_REC_HEADER,
	ES_AUDIT_REC_EVENT,
	ES_AUDIT_REC_STREAM,
	ES_AUDIT_REC_TRAILER
} es_audit__kind;

es_audit__kind es_audit__record_kind(const char *rec, size_t len, es_dump_format format);

/* ---- writer.c: sealing and writing on a thread of its own ------------- */

typedef struct es_audit__writer es_audit__writer;

/* A writer to f; nothing runs until es_audit__writer_run. */
int es_audit__writer_start(es_audit__writer **out, FILE *f, es_dump_format format);
/* Unsealed text that starts the chain (the CSV column row, with its
 * newline): written first, its hash is the first record's predecessor.
 * Only before es_audit__writer_run. */
int es_audit__writer_raw(es_audit__writer *w, const char *text, size_t len);
/* Starts the thread. 0 or ES_ENOMEM. */
int es_audit__writer_run(es_audit__writer *w);
/* Queues a record's body (copied): the thread seals and writes it. 0, or
 * the thread's error (ES_EIO, ES_ENOSPC, ES_ENOMEM) with its message. */
int es_audit__writer_put(es_audit__writer *w, const char *body, size_t len);
/* Waits until every queued record is written (or, with abort, stops), then
 * frees the writer. The FILE is not flushed. 0 or the thread's error;
 * final_hash and bytes (may be NULL) get the last hash and bytes written. */
int es_audit__writer_finish(es_audit__writer *w, bool abort, char final_hash[ES_HASH_HEX_SIZE],
                            uint64_t *bytes);

/* ---- reader.c: records of a dump -------------------------------------- */

/* Reads a dump record by record: a line, or for CSV a row, whose quoted
 * cells may hold newlines. The record is valid until the next call. */
typedef struct es_audit__reader {
	FILE *in;
	es_dump_format format;
	const char *data;       /* the record: in tmp (JSONL) or rec (CSV) */
	size_t len;
	es_audit__buf rec;      /* a CSV row gathered from its lines */
	char *tmp;              /* getline's buffer */
	size_t tmp_cap;
	uint64_t line;          /* physical line where the last record began */
	uint64_t next_line;
	bool eof;
	bool error;             /* a read error (errno saved in err) */
	int err;
} es_audit__reader;

void es_audit__reader_init(es_audit__reader *r, FILE *in, es_dump_format format);
void es_audit__reader_free(es_audit__reader *r);
/* 1 with a record (data/len, no trailing newline; *complete is
 * false when the file ended before the newline), 0 at the end, or a negative
 * ES_E* code. */
int es_audit__reader_next(es_audit__reader *r, bool *complete);

/* Splits a CSV record into cells (unquoted, copied into cells[i], which
 * must be freed with es_audit__buf_free). Returns the number of cells, or
 * -1 if malformed. At most max cells are kept. */
int es_audit__csv_split(const char *rec, size_t len, es_audit__buf *cells, int max);

/* ---- verify.c: shared with restore.c -------------------------------------- */

/* Called for every record of a file that is verified (after its hash is
 * checked and before the next record is read); non-zero stops. */
typedef int (*es_audit__record_fn)(const char *rec, size_t len, es_audit__kind kind,
                                   uint64_t line, void *user_data);
int es_audit__verify(es_verify_result *out, FILE *in, es_audit__record_fn fn, void *user_data);

/* ---- pbjson.c: protobuf -> JSON --------------------------------------- */

/* Why a payload could not be written as JSON losslessly (bits). */
#define ES_AUDIT_LOSSY_UTF8 1u     /* a string is not valid UTF-8 */
#define ES_AUDIT_LOSSY_UNKNOWN 2u  /* the payload has fields the descriptor lacks */
#define ES_AUDIT_LOSSY_NAN 4u      /* a NaN whose bits the text "NaN" cannot carry */

/* Writes msg as a JSON object, fields in descriptor (tag) order. Returns
 * ES_AUDIT_LOSSY_* bits: 0 when the JSON holds everything the bytes do. */
unsigned es_audit__pb_to_json(es_audit__buf *b, const ProtobufCMessage *msg);
/* Size of one element of a repeated field's array in a protobuf-c struct. */
size_t es_audit__element_size(ProtobufCType type);

/* ---- jsonpb.c: JSON -> protobuf ----------------------------------------- */

/* Builds a message of type desc from a JSON object written by
 * es_audit__pb_to_json, in arena, and packs it into arena.
 * 0, or ES_EINVAL with a message naming the field (path) that is wrong. */
int es_audit__pb_from_json(const void **bytes, size_t *len, const ProtobufCMessageDescriptor *desc,
                           json_t *obj, es_arena *arena);
/* Marks field f of the message at base present (optional and oneof fields). */
void es_audit__pb_set_present(const ProtobufCFieldDescriptor *f, char *base);

/* ---- jsonpb_fast.c: the same for a flat object, without jansson -------- */

/* 1 with the packed message in arena, or 0: not a case this path takes
 * (es_audit__pb_from_json then decides, errors included). */
int es_audit__pb_from_text(const void **bytes, size_t *len, const ProtobufCMessageDescriptor *desc,
                           const char *text, size_t text_len, es_arena *arena);
/* Scanners over dump text at *p (before end), advancing *p on success. A
 * string is plain ASCII without escapes (*s points into the text); numbers
 * are canonical JSON integers. false: not that, or not that simply. */
bool es_audit__text_lit(const char **p, const char *end, const char *s, size_t n);
bool es_audit__text_string(const char **s, size_t *n, const char **p, const char *end);
bool es_audit__text_u64(uint64_t *out, const char **p, const char *end);
bool es_audit__text_i64(int64_t *out, const char **p, const char *end);

/* ---- restore_parse.c: one event record of a dump ----------------------- */

/* Parses the event line rec (record `line` of the dump, whose chain syntax
 * es_audit__link_parse accepted: the fast path relies on its tail) into *ev, with its
 * strings, metadata and payload in arena; the payload is re-encoded through
 * descriptor when the dump decoded it. 0, or ES_ECORRUPT / ES_ESCHEMA /
 * ES_ENOMEM with a message starting "line N: ". */
int es_audit__parse_event(es_imported_event *ev, const char *rec, size_t len, uint64_t line,
                          es_descriptor_fn descriptor, void *descriptor_user_data, es_arena *arena);

#endif
