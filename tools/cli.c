/*
 * cli.c - shared helpers of the evstore tools (see cli.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include <evstore/evstore.h>

#include "cli.h"

const char *es_cli_prog = "evstore";
volatile sig_atomic_t es_cli_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	es_cli_stop = 1;
}

void es_cli_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART: waits return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int es_cli_fail(int rc)
{
	const es_error *e = es_error_last();
	fprintf(stderr, "%s: %s\n", es_cli_prog, e->code == rc && e->message[0] ? e->message : es_strerror(rc));
	return rc == ES_EINVAL ? ES_EXIT_USAGE : ES_EXIT_FAIL;
}

int es_cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", es_cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(run '%s --help' for usage)\n", es_cli_prog);
	return ES_EXIT_USAGE;
}

void es_cli_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

int es_cli_time_arg(int64_t *out, const char *option, const char *text)
{
	if (es_time_parse(out, text) == 0)
		return 0;
	return es_cli_usage_error("%s: %s", option, es_error_last()->message);
}

int es_cli_int_arg(int64_t *out, const char *option, const char *text)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0 || text[0] == '-' || text[0] == '+' || text[0] == ' ')
		return es_cli_usage_error("%s: '%s' is not a non-negative integer", option, text);
	*out = v;
	return 0;
}

int es_cli_list_add(const char **list, size_t *n, size_t max, const char *value, const char *option)
{
	if (!*value)
		return es_cli_usage_error("%s: the value is empty", option);
	if (*n >= max)
		return es_cli_usage_error("%s: at most %zu", option, max);
	list[(*n)++] = value;
	return 0;
}
