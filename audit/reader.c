/*
 * reader.c - splits a dump into records for verification and restoring: a
 * JSONL record is a line, handed out where getline read it; a CSV record is
 * a row, which may span lines when a quoted cell holds a newline, gathered
 * into a buffer. Memory is one record, whatever the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "audit_int.h"

void es_audit__reader_init(es_audit__reader *r, FILE *in, es_dump_format format)
{
	memset(r, 0, sizeof *r);
	r->in = in;
	r->format = format;
	r->next_line = 1;
}

void es_audit__reader_free(es_audit__reader *r)
{
	es_audit__buf_free(&r->rec);
	free(r->tmp);
	r->tmp = NULL;
	r->tmp_cap = 0;
}

/* RFC 4180 quotes pair up (a literal quote is doubled), so a row is open
 * while it has seen an odd number of them. */
static bool toggles_quotes(const char *s, size_t n)
{
	size_t count = 0;
	for (const char *p = s; (p = memchr(p, '"', n - (size_t)(p - s))) != NULL; p++)
		count++;
	return count % 2 == 1;
}

int es_audit__reader_next(es_audit__reader *r, bool *complete)
{
	bool in_quotes = false, got = false;
	r->rec.len = 0;
	r->line = r->next_line;
	*complete = false;
	for (;;) {
		errno = 0;
		ssize_t n = r->eof ? -1 : getline(&r->tmp, &r->tmp_cap, r->in);
		if (n < 0) {
			if (!r->eof && ferror(r->in)) {
				r->error = true;
				r->err = errno;
				return es_error_set(ES_EIO, "reading the dump near line %llu: %s",
				                    (unsigned long long)r->line, strerror(errno ? errno : EIO));
			}
			r->eof = true;
			r->data = r->rec.data; /* a CSV row cut short by the end */
			r->len = r->rec.len;
			return got ? 1 : 0;
		}
		got = true;
		r->next_line++;
		bool newline = n > 0 && r->tmp[n - 1] == '\n';
		size_t len = (size_t)n - (newline ? 1 : 0);
		if (r->format == ES_DUMP_JSONL) {
			/* A JSONL record is one line: read it where getline put it. */
			r->data = r->tmp;
			r->len = len;
			r->eof = !newline;
			*complete = newline;
			return 1;
		}
		es_audit__buf_put(&r->rec, r->tmp, len);
		if (r->rec.failed)
			return es_error_set(ES_ENOMEM, "reading the dump: out of memory at line %llu",
			                    (unsigned long long)r->line);
		if (toggles_quotes(r->tmp, len))
			in_quotes = !in_quotes;
		r->data = r->rec.data;
		r->len = r->rec.len;
		if (!newline) {
			r->eof = true;
			return 1;
		}
		if (!in_quotes) {
			*complete = true;
			return 1;
		}
		es_audit__buf_putc(&r->rec, '\n');
	}
}

/* One cell starting at *p; returns false if a quoted cell is malformed. */
static bool csv_cell(const char **p, const char *end, es_audit__buf *out)
{
	const char *s = *p;
	if (s < end && *s == '"') {
		for (s++; s < end; s++) {
			if (*s == '"') {
				if (s + 1 < end && s[1] == '"') {
					if (out) es_audit__buf_putc(out, '"');
					s++;
					continue;
				}
				s++;
				break;
			}
			if (out)
				es_audit__buf_putc(out, *s);
		}
		if (s < end && *s != ',')
			return false;
	} else {
		const char *c = memchr(s, ',', (size_t)(end - s));
		const char *stop = c ? c : end;
		if (out)
			es_audit__buf_put(out, s, (size_t)(stop - s));
		s = stop;
	}
	*p = s;
	return true;
}

int es_audit__csv_split(const char *rec, size_t len, es_audit__buf *cells, int max)
{
	const char *p = rec, *end = rec + len;
	int n = 0;
	for (;;) {
		es_audit__buf *out = n < max ? &cells[n] : NULL;
		if (out)
			out->len = 0;
		if (!csv_cell(&p, end, out))
			return -1;
		n++;
		if (p >= end)
			return n;
		p++; /* the comma */
	}
}
