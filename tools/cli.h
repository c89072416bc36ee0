/*
 * cli.h - what every evstore tool shares: exit statuses, error reporting,
 * JSON string output, and option values parsed with a usage error on failure.
 */
#ifndef ES_CLI_H
#define ES_CLI_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses every tool uses. */
#define ES_EXIT_OK 0
#define ES_EXIT_FAIL 1   /* refused, not found, a check failed, storage error */
#define ES_EXIT_USAGE 2  /* bad command line */

/* Program name used in messages; set once by main. */
extern const char *es_cli_prog;

/* Prints "prog: message" for an evstore error and returns its exit status:
 * ES_EXIT_USAGE for ES_EINVAL (the input was wrong), ES_EXIT_FAIL otherwise. */
int es_cli_fail(int rc);

/* Prints "prog: message" plus a hint to run --help; returns ES_EXIT_USAGE. */
int es_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s as a JSON string literal (quoted, escaped). */
void es_cli_json_string(FILE *out, const char *s);

/* Set by SIGINT and SIGTERM once es_cli_stop_on_signals ran: a tool that
 * runs until stopped looks at it between steps. */
extern volatile sig_atomic_t es_cli_stop;
/* Installs the handlers, without SA_RESTART, so a blocking wait returns. */
void es_cli_stop_on_signals(void);

/* Appends a repeatable option's value to list[*n] (at most max); prints a
 * usage error naming the option for an empty value or too many. */
int es_cli_list_add(const char **list, size_t *n, size_t max, const char *value, const char *option);

/* Parses a time (RFC 3339 or @ns); prints a usage error naming the option. */
int es_cli_time_arg(int64_t *out, const char *option, const char *text);
/* Parses a non-negative integer; prints a usage error naming the option. */
int es_cli_int_arg(int64_t *out, const char *option, const char *text);

#endif
