/*
 * verify.c - es_dump_verify: recompute a dump's hash chain and name the
 * first line that breaks it, and how.
 *
 * Every record states its predecessor's hash and its own. Reading in order,
 * the verifier keeps the last good record's hash (the tip) and the one
 * before. At the first record that fails:
 *   - its bytes do not match its own hash: it was changed, unless the next
 *     record follows the tip, which makes it an inserted line;
 *   - it is intact but does not follow the tip: if it follows the record
 *     before the tip, the tip was inserted; if its predecessor turns up
 *     later in the file, it is out of order; if the next record follows the
 *     tip, it was inserted; otherwise lines before it were removed;
 *   - the file ends before a trailer: it was truncated.
 * Only the first problem is reported: after it, nothing can be trusted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit_int.h"

typedef struct verifier {
	es_verify_result *r;
	es_audit__reader rd;
	es_audit__hasher hasher;
	es_audit__record_fn fn;
	void *user_data;
	uint8_t tip[ES_AUDIT_HASH_SIZE];  /* hash of the last good record */
	uint8_t tip2[ES_AUDIT_HASH_SIZE]; /* and of the one before it */
	uint64_t tip_line;
	uint64_t header_line;
	bool trailer;
	es_audit__buf cells[ES_AUDIT_CSV_CELLS];
} verifier;

const char *es_verify_problem_str(es_verify_problem problem)
{
	switch (problem) {
	case ES_VERIFY_OK: return "intact";
	case ES_VERIFY_CHANGED: return "changed";
	case ES_VERIFY_REMOVED: return "removed";
	case ES_VERIFY_INSERTED: return "inserted";
	case ES_VERIFY_REORDERED: return "reordered";
	case ES_VERIFY_TRUNCATED: return "truncated";
	case ES_VERIFY_NOT_A_DUMP: return "not a dump";
	default: return "unknown";
	}
}

static int fail(verifier *v, es_verify_problem problem, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(verifier *v, es_verify_problem problem, uint64_t line, const char *fmt, ...)
{
	es_verify_result *r = v->r;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	r->problem = problem;
	r->line = line;
	return es_error_set(problem == ES_VERIFY_NOT_A_DUMP ? ES_EFORMAT : ES_ECORRUPT, "%s", r->message);
}

/* Reads the next record into v->rd.data: 1, 0 at the end, or an error. */
static int next(verifier *v, bool *complete)
{
	int rc = es_audit__reader_next(&v->rd, complete);
	if (rc == 1)
		v->r->lines = v->rd.line;
	return rc;
}

static void advance(verifier *v, const es_audit__link *l)
{
	memcpy(v->tip2, v->tip, ES_AUDIT_HASH_SIZE);
	memcpy(v->tip, l->stated, ES_AUDIT_HASH_SIZE);
	v->tip_line = v->rd.line;
}

/* ---- diagnosing the first failure ---- */

/* A record whose bytes do not match its own hash (or have no hash). */
static int diagnose_changed(verifier *v, const es_audit__link *l, uint64_t line)
{
	uint8_t stated[ES_AUDIT_HASH_SIZE];
	bool parsed = l->parsed, complete;
	memcpy(stated, l->stated, sizeof stated);
	int rc = next(v, &complete);
	if (rc < 0)
		return rc;
	es_audit__link n;
	if (rc == 1)
		es_audit__link_parse(&n, v->rd.data, v->rd.len, v->rd.format, &v->hasher);
	if (rc == 1 && n.parsed && !(parsed && memcmp(n.prev, stated, sizeof stated) == 0) &&
	    memcmp(n.prev, v->tip, sizeof v->tip) == 0)
		return fail(v, ES_VERIFY_INSERTED, line, "line %llu does not belong to the chain: "
		            "line %llu follows line %llu", (unsigned long long)line,
		            (unsigned long long)v->rd.line, (unsigned long long)v->tip_line);
	return fail(v, ES_VERIFY_CHANGED, line, "line %llu was changed: its content does not "
	            "match its hash", (unsigned long long)line);
}

/* An intact record that does not follow the tip. */
static int diagnose_link(verifier *v, const es_audit__link *l, uint64_t line)
{
	uint8_t want[ES_AUDIT_HASH_SIZE];
	memcpy(want, l->prev, sizeof want);
	if (v->tip_line > v->header_line && memcmp(want, v->tip2, sizeof want) == 0)
		return fail(v, ES_VERIFY_INSERTED, v->tip_line, "line %llu does not belong to the chain: "
		            "line %llu follows the line before it", (unsigned long long)v->tip_line,
		            (unsigned long long)line);
	bool complete, next_follows_tip = false, first = true;
	uint64_t found = 0;
	int rc;
	while (!found && (rc = next(v, &complete)) == 1) {
		es_audit__link n;
		es_audit__link_parse(&n, v->rd.data, v->rd.len, v->rd.format, &v->hasher);
		if (first && n.parsed && memcmp(n.prev, v->tip, sizeof v->tip) == 0)
			next_follows_tip = true;
		if (n.parsed && memcmp(n.stated, want, sizeof want) == 0)
			found = v->rd.line;
		first = false;
	}
	if (!found && rc < 0)
		return rc;
	if (found)
		return fail(v, ES_VERIFY_REORDERED, line, "line %llu is out of order: it belongs after "
		            "line %llu", (unsigned long long)line, (unsigned long long)found);
	if (next_follows_tip)
		return fail(v, ES_VERIFY_INSERTED, line, "line %llu does not belong to the chain: the "
		            "line after it follows line %llu", (unsigned long long)line,
		            (unsigned long long)v->tip_line);
	return fail(v, ES_VERIFY_REMOVED, line, "lines were removed before line %llu: it follows "
	            "a line that is not in the file (the last intact line is %llu)",
	            (unsigned long long)line, (unsigned long long)v->tip_line);
}

/* ---- headers and trailers ---- */

/* The members of a header or trailer: the JSONL line itself, or the CSV
 * data cell. NULL (with the error in v->r) if it does not parse. */
static json_t *record_json(verifier *v, const char *rec, size_t len)
{
	if (v->rd.format == ES_DUMP_CSV) {
		if (es_audit__csv_split(rec, len, v->cells, ES_AUDIT_CSV_CELLS) != ES_AUDIT_CSV_CELLS)
			return NULL;
		rec = v->cells[12].data;
		len = v->cells[12].len;
	}
	return rec ? json_loadb(rec, len, 0, NULL) : NULL;
}

static int check_header(verifier *v, const char *rec, size_t len, uint64_t line)
{
	json_t *h = record_json(v, rec, len);
	const char *format = json_string_value(json_object_get(h, "format"));
	json_t *version = json_object_get(h, "format_version");
	const char *want = v->rd.format == ES_DUMP_CSV ? "evstore-dump-csv" : "evstore-dump";
	int rc = 0;
	if (!format || strcmp(format, want) != 0 || !json_is_integer(version))
		rc = fail(v, ES_VERIFY_NOT_A_DUMP, line, "line %llu is not an evstore dump header",
		          (unsigned long long)line);
	else if (json_integer_value(version) > ES_DUMP_FORMAT_VERSION || json_integer_value(version) < 1)
		rc = fail(v, ES_VERIFY_NOT_A_DUMP, line, "the dump has format version %lld; this program "
		          "reads up to %d", (long long)json_integer_value(version), ES_DUMP_FORMAT_VERSION);
	else {
		v->r->complete = json_is_true(json_object_get(h, "complete"));
		v->r->upcast = json_is_true(json_object_get(h, "upcast"));
	}
	json_decref(h);
	return rc;
}

static int check_trailer(verifier *v, const char *rec, size_t len, uint64_t line)
{
	json_t *t = record_json(v, rec, len);
	json_t *count = json_object_get(t, "count");
	int rc = 0;
	if (!json_is_integer(count) || (uint64_t)json_integer_value(count) != v->r->events)
		rc = fail(v, ES_VERIFY_CHANGED, line, "the trailer on line %llu does not count the %llu "
		          "events in the file", (unsigned long long)line, (unsigned long long)v->r->events);
	json_decref(t);
	return rc;
}

/* The first record(s): the JSONL header line, or the CSV column row and
 * its #header row. Starts the chain. */
static int start(verifier *v)
{
	bool complete;
	int rc = next(v, &complete);
	if (rc <= 0)
		return rc < 0 ? rc : fail(v, ES_VERIFY_TRUNCATED, 1, "line 1: the file is empty: it "
		                          "has no header and no trailer");
	const char *rec = v->rd.data;
	size_t len = v->rd.len;
	if (len == strlen(ES_AUDIT_CSV_COLUMNS) && memcmp(rec, ES_AUDIT_CSV_COLUMNS, len) == 0) {
		v->rd.format = v->r->format = ES_DUMP_CSV;
		es_audit__sha256(&v->hasher, v->tip, rec, len);
		if ((rc = next(v, &complete)) <= 0)
			return rc < 0 ? rc : fail(v, ES_VERIFY_TRUNCATED, 2, "the file ends after its "
			                          "column row, without its trailer");
	} else if (es_audit__record_kind(rec, len, ES_DUMP_JSONL) != ES_AUDIT_REC_HEADER) {
		return fail(v, ES_VERIFY_NOT_A_DUMP, 1, "line 1 is neither a JSONL dump header nor the "
		            "CSV column row: not an evstore dump");
	}
	memcpy(v->tip2, v->tip, sizeof v->tip);
	es_audit__link l;
	uint64_t line = v->rd.line;
	es_audit__link_parse(&l, v->rd.data, v->rd.len, v->rd.format, &v->hasher);
	if (!l.parsed || memcmp(l.computed, l.stated, sizeof l.stated) != 0 ||
	    memcmp(l.prev, v->tip, sizeof v->tip) != 0 ||
	    es_audit__record_kind(v->rd.data, v->rd.len, v->rd.format) != ES_AUDIT_REC_HEADER)
		return fail(v, ES_VERIFY_CHANGED, line, "the header on line %llu was changed: it does "
		            "not match its hash", (unsigned long long)line);
	if ((rc = check_header(v, v->rd.data, v->rd.len, line)))
		return rc;
	if (v->fn && (rc = v->fn(v->rd.data, v->rd.len, ES_AUDIT_REC_HEADER, line, v->user_data)))
		return rc;
	advance(v, &l);
	v->header_line = line; /* nothing before the header can have been inserted */
	return 0;
}

/* ---- the chain ---- */

static int check_record(verifier *v, bool complete)
{
	es_audit__link l;
	const char *rec = v->rd.data;
	size_t len = v->rd.len;
	uint64_t line = v->rd.line;
	es_audit__link_parse(&l, rec, len, v->rd.format, &v->hasher);
	bool intact = l.parsed && memcmp(l.computed, l.stated, sizeof l.stated) == 0;
	if (!complete)
		return fail(v, ES_VERIFY_TRUNCATED, line, "line %llu is cut short: the file ends "
		            "without its trailer", (unsigned long long)line);
	if (v->trailer)
		return fail(v, ES_VERIFY_INSERTED, line, "line %llu comes after the trailer",
		            (unsigned long long)line);
	if (!intact)
		return diagnose_changed(v, &l, line);
	if (memcmp(l.prev, v->tip, sizeof v->tip) != 0)
		return diagnose_link(v, &l, line);
	es_audit__kind kind = es_audit__record_kind(rec, len, v->rd.format);
	int rc = 0;
	if (kind == ES_AUDIT_REC_EVENT)
		v->r->events++;
	else if (kind == ES_AUDIT_REC_TRAILER)
		rc = check_trailer(v, rec, len, line);
	else if (kind != ES_AUDIT_REC_STREAM)
		rc = fail(v, ES_VERIFY_CHANGED, line, "line %llu is not a dump record", (unsigned long long)line);
	if (rc == 0 && v->fn)
		rc = v->fn(rec, len, kind, line, v->user_data);
	if (rc)
		return rc;
	advance(v, &l);
	v->trailer = kind == ES_AUDIT_REC_TRAILER;
	return 0;
}

static int run(verifier *v)
{
	int rc = start(v);
	bool complete;
	while (rc == 0 && (rc = next(v, &complete)) == 1)
		rc = check_record(v, complete);
	if (rc < 0)
		return rc;
	if (!v->trailer)
		return fail(v, ES_VERIFY_TRUNCATED, v->r->lines, "the file ends after line %llu without "
		            "its trailer: it was truncated", (unsigned long long)v->r->lines);
	es_audit__hex(v->r->final_hash, v->tip);
	return 0;
}

int es_audit__verify(es_verify_result *out, FILE *in, es_audit__record_fn fn, void *user_data)
{
	if (!out || !in)
		return es_error_set(ES_EINVAL, "es_dump_verify: out and in are required");
	memset(out, 0, sizeof *out);
	verifier v = { .r = out, .fn = fn, .user_data = user_data };
	int rc = es_audit__hasher_init(&v.hasher);
	if (rc)
		return rc;
	es_audit__reader_init(&v.rd, in, ES_DUMP_JSONL);
	rc = run(&v);
	es_audit__reader_free(&v.rd);
	es_audit__hasher_free(&v.hasher);
	for (int i = 0; i < ES_AUDIT_CSV_CELLS; i++)
		es_audit__buf_free(&v.cells[i]);
	if (rc == 0)
		snprintf(out->message, sizeof out->message, "intact: %llu events, final hash %s",
		         (unsigned long long)out->events, out->final_hash);
	return rc;
}

int es_dump_verify(es_verify_result *out, FILE *in)
{
	return es_audit__verify(out, in, NULL, NULL);
}
