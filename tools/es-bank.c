/*
 * es-bank.c - the bank on an embedded store, from the command line:
 * accounts, deposits, withdrawals, transfers, time-travel balances, history,
 * and the demo (the project's main job, in bank_demo.c).
 * Exit status: 0 success, 1 refused by the domain or the store, 2 usage.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

#include "bank_chart.h"
#include "bank_demo.h"
#include "bank_reads.h"
#include "cli.h"

static const char usage_text[] =
	"usage: es-bank [--db DIR] COMMAND ...\n"
	"  open ACCOUNT --owner NAME [--currency USD] [--overdraft AMOUNT]\n"
	"  deposit ACCOUNT AMOUNT [--ref TEXT]\n"
	"  withdraw ACCOUNT AMOUNT [--ref TEXT]\n"
	"  transfer FROM TO AMOUNT [--ref TEXT]\n"
	"  freeze ACCOUNT | unfreeze ACCOUNT | close ACCOUNT\n"
	"  balance ACCOUNT [--at TIME | --version N] [--json]\n"
	"  history ACCOUNT [--since TIME] [--until TIME] [--json]\n"
	"  top [-n N] [--json]          largest balances per currency, from the balances read model\n"
	"  daily [--since TIME] [--until TIME] [--json]   money in, out and moved per currency and day\n"
	"  accounts --owner NAME [--json]   the owner's accounts, from the owner index\n"
	"  projections [--json]         each read model's position, lag and state\n"
	"  chart ACCOUNT -o FILE.svg [--since TIME] [--until TIME]   the balance over time\n"
	"  rebuild NAME                 build a read model again and put it in place\n"
	"  demo [--db DIR]\n"
	"TIME is RFC 3339 (2026-11-21T10:03:00Z) or @NANOSECONDS. AMOUNT is decimal (12.34).\n"
	"--db defaults to ./bank-data.\n";

/* Everything the command line can say; each command reads what it needs. */
typedef struct args {
	const char *db;
	const char *owner, *currency, *overdraft, *ref;
	const char *at, *version, *since, *until, *count, *output;
	int json;
	char **pos;     /* positional words after the command */
	int npos;
} args;

static int parse_args(args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "owner", required_argument, NULL, 'w' },
		{ "currency", required_argument, NULL, 'c' }, { "overdraft", required_argument, NULL, 'v' },
		{ "ref", required_argument, NULL, 'r' }, { "at", required_argument, NULL, 'a' },
		{ "version", required_argument, NULL, 'V' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' }, { "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char **slot[128] = { 0 };
	slot['d'] = &a->db; slot['w'] = &a->owner; slot['c'] = &a->currency; slot['v'] = &a->overdraft;
	slot['r'] = &a->ref; slot['a'] = &a->at; slot['V'] = &a->version; slot['s'] = &a->since;
	slot['u'] = &a->until; slot['n'] = &a->count; slot['o'] = &a->output;
	int c;
	while ((c = getopt_long(argc, argv, "hn:o:", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			exit(ES_EXIT_OK);
		}
		if (c == 'j')
			a->json = 1;
		else if (c > 0 && c < 128 && slot[c])
			*slot[c] = optarg;
		else
			return ES_EXIT_USAGE; /* getopt printed the problem */
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return 0;
}

static int want_args(const args *a, int n, const char *shape)
{
	if (a->npos - 1 == n)
		return 0;
	return es_cli_usage_error("%s takes %s", a->pos[0], shape);
}

/* Parses AMOUNT in the account's currency: the number of decimals allowed
 * depends on it, so the account is loaded first. */
static int account_amount(int64_t *out, es_db *db, const char *account, const char *text)
{
	es_bank_account acct;
	int rc = es_bank_account_load(&acct, NULL, db, account);
	if (rc)
		return es_cli_fail(rc);
	if (es_bank_money_parse(out, text, acct.decimals))
		return es_cli_usage_error("amount: %s", es_error_last()->message);
	if (*out == 0)
		return es_cli_usage_error("amount must be greater than zero");
	return 0;
}

static int cmd_open(es_db *db, const args *a)
{
	const char *currency = a->currency ? a->currency : "USD";
	int64_t overdraft = 0;
	int decimals = es_bank_currency_decimals(currency);
	if (want_args(a, 1, "ACCOUNT"))
		return ES_EXIT_USAGE;
	if (!a->owner)
		return es_cli_usage_error("open needs --owner NAME");
	if (decimals < 0)
		return es_cli_usage_error("--currency: %s", es_error_last()->message);
	if (a->overdraft && es_bank_money_parse(&overdraft, a->overdraft, decimals))
		return es_cli_usage_error("--overdraft: %s", es_error_last()->message);
	int rc = es_bank_open(db, a->pos[1], a->owner, currency, overdraft);
	if (rc)
		return es_cli_fail(rc);
	printf("opened account %s for %s in %s\n", a->pos[1], a->owner, currency);
	return 0;
}

static int cmd_money(es_db *db, const args *a)
{
	int is_deposit = strcmp(a->pos[0], "deposit") == 0;
	int64_t amount;
	if (want_args(a, 2, "ACCOUNT AMOUNT"))
		return ES_EXIT_USAGE;
	int rc = account_amount(&amount, db, a->pos[1], a->pos[2]);
	if (rc)
		return rc;
	rc = is_deposit ? es_bank_deposit(db, a->pos[1], amount, a->ref)
	                : es_bank_withdraw(db, a->pos[1], amount, a->ref);
	if (rc)
		return es_cli_fail(rc);
	printf("%s %s %s\n", is_deposit ? "deposited" : "withdrew", a->pos[2], a->pos[1]);
	return 0;
}

static int cmd_transfer(es_db *db, const args *a)
{
	int64_t amount;
	if (want_args(a, 3, "FROM TO AMOUNT"))
		return ES_EXIT_USAGE;
	int rc = account_amount(&amount, db, a->pos[1], a->pos[3]);
	if (rc)
		return rc;
	if ((rc = es_bank_transfer(db, a->pos[1], a->pos[2], amount, a->ref)))
		return es_cli_fail(rc);
	printf("transferred %s from %s to %s\n", a->pos[3], a->pos[1], a->pos[2]);
	return 0;
}

static int cmd_status(es_db *db, const args *a)
{
	if (want_args(a, 1, "ACCOUNT"))
		return ES_EXIT_USAGE;
	const char *cmd = a->pos[0];
	int rc = strcmp(cmd, "freeze") == 0 ? es_bank_freeze(db, a->pos[1], a->ref)
	         : strcmp(cmd, "unfreeze") == 0 ? es_bank_unfreeze(db, a->pos[1], a->ref)
	         : es_bank_close(db, a->pos[1], a->ref);
	if (rc)
		return es_cli_fail(rc);
	printf("%s: %s done\n", a->pos[1], cmd);
	return 0;
}

static void print_balance_json(const char *id, const es_bank_account *acct, const es_load_info *info)
{
	char bal[ES_BANK_MONEY_TEXT_SIZE], at[ES_TIME_TEXT_SIZE];
	es_bank_money_format(bal, sizeof bal, acct->balance, acct->decimals);
	es_time_format(at, sizeof at, info->recorded_at);
	printf("{\"account\":");
	es_cli_json_string(stdout, id);
	printf(",\"owner\":");
	es_cli_json_string(stdout, acct->owner);
	printf(",\"balance\":\"%s\",\"balance_minor\":%lld,\"currency\":\"%s\",\"status\":\"%s\","
	       "\"version\":%lld,\"recorded_at\":\"%s\",\"snapshot_version\":%lld,\"events_folded\":%llu}\n",
	       bal, (long long)acct->balance, acct->currency, es_bank_status_str(acct->status),
	       (long long)info->version, at, (long long)info->snapshot_version,
	       (unsigned long long)info->events_folded);
}

static int cmd_balance(es_db *db, const args *a)
{
	es_bank_account acct;
	es_load_info info;
	int64_t t, version;
	if (want_args(a, 1, "ACCOUNT"))
		return ES_EXIT_USAGE;
	if (a->at && a->version)
		return es_cli_usage_error("balance takes --at or --version, not both");
	int rc;
	if (a->at)
		rc = es_cli_time_arg(&t, "--at", a->at) ? -1 : es_bank_account_load_as_of(&acct, &info, db, a->pos[1], t);
	else if (a->version)
		rc = es_cli_int_arg(&version, "--version", a->version) ? -1
		     : es_bank_account_load_at_version(&acct, &info, db, a->pos[1], version);
	else
		rc = es_bank_account_load(&acct, &info, db, a->pos[1]);
	if (rc)
		return rc == -1 ? ES_EXIT_USAGE : es_cli_fail(rc);
	if (a->json) {
		print_balance_json(a->pos[1], &acct, &info);
		return 0;
	}
	char bal[ES_BANK_MONEY_TEXT_SIZE];
	es_bank_money_format(bal, sizeof bal, acct.balance, acct.decimals);
	printf("%s %s\n", bal, acct.currency);
	return 0;
}

typedef struct history_out {
	int json;
	int count;
} history_out;

static int print_entry(const es_event *ev, const es_bank_account *before, const es_bank_account *after, void *user_data)
{
	history_out *h = user_data;
	char at[ES_TIME_TEXT_SIZE], delta[ES_BANK_MONEY_TEXT_SIZE], bal[ES_BANK_MONEY_TEXT_SIZE];
	es_time_format(at, sizeof at, ev->recorded_at);
	es_bank_money_format(delta, sizeof delta, after->balance - before->balance, after->decimals);
	es_bank_money_format(bal, sizeof bal, after->balance, after->decimals);
	if (h->json) {
		printf("%s{\"version\":%lld,\"recorded_at\":\"%s\",\"recorded_at_ns\":%lld,\"type\":\"%s\","
		       "\"amount\":\"%s\",\"balance\":\"%s\",\"currency\":\"%s\",\"status\":\"%s\"}",
		       h->count ? ",\n " : "", (long long)ev->version, at, (long long)ev->recorded_at,
		       ev->type, delta, bal, after->currency, es_bank_status_str(after->status));
	} else {
		printf("%s  v%-5lld %-16s %12s  balance %s %s\n", at, (long long)ev->version, ev->type,
		       delta, bal, after->currency);
	}
	h->count++;
	return 0;
}

static int cmd_history(es_db *db, const args *a)
{
	int64_t since = INT64_MIN, until = INT64_MAX;
	history_out h = { a->json, 0 };
	if (want_args(a, 1, "ACCOUNT"))
		return ES_EXIT_USAGE;
	if ((a->since && es_cli_time_arg(&since, "--since", a->since)) ||
	    (a->until && es_cli_time_arg(&until, "--until", a->until)))
		return ES_EXIT_USAGE;
	if (h.json)
		printf("[");
	int rc = es_bank_history(db, a->pos[1], since, until, print_entry, &h);
	if (h.json)
		printf("]\n");
	return rc ? es_cli_fail(rc) : 0;
}

static int cmd_top(es_db *db, const args *a)
{
	return want_args(a, 0, "no arguments") ? ES_EXIT_USAGE : es_bank_cmd_top(db, a->count, a->json);
}

static int cmd_daily(es_db *db, const args *a)
{
	return want_args(a, 0, "no arguments") ? ES_EXIT_USAGE : es_bank_cmd_daily(db, a->since, a->until, a->json);
}

static int cmd_accounts(es_db *db, const args *a)
{
	return want_args(a, 0, "no arguments") ? ES_EXIT_USAGE : es_bank_cmd_accounts(db, a->owner, a->json);
}

static int cmd_chart(es_db *db, const args *a)
{
	int64_t since = INT64_MIN, until = INT64_MAX;
	if (want_args(a, 1, "ACCOUNT"))
		return ES_EXIT_USAGE;
	if (!a->output)
		return es_cli_usage_error("chart needs -o FILE.svg");
	if ((a->since && es_cli_time_arg(&since, "--since", a->since)) ||
	    (a->until && es_cli_time_arg(&until, "--until", a->until)))
		return ES_EXIT_USAGE;
	int rc = es_bank_chart(db, a->pos[1], since, until, a->output);
	if (rc == 0)
		printf("wrote %s\n", a->output);
	return rc;
}

static int cmd_rebuild(es_db *db, const args *a)
{
	return want_args(a, 1, "NAME (see projections)") ? ES_EXIT_USAGE : es_bank_cmd_rebuild(db, a->pos[1]);
}

static int cmd_projections(es_db *db, const args *a)
{
	return want_args(a, 0, "no arguments") ? ES_EXIT_USAGE : es_bank_cmd_projections(db, a->json);
}

typedef struct command {
	const char *name;
	int (*run)(es_db *db, const args *a);
	int writes;
} command;

static const command commands[] = {
	{ "open", cmd_open, 1 }, { "deposit", cmd_money, 1 }, { "withdraw", cmd_money, 1 },
	{ "transfer", cmd_transfer, 1 }, { "freeze", cmd_status, 1 }, { "unfreeze", cmd_status, 1 },
	{ "close", cmd_status, 1 }, { "balance", cmd_balance, 0 }, { "history", cmd_history, 0 },
	{ "top", cmd_top, 1 }, { "daily", cmd_daily, 1 }, { "accounts", cmd_accounts, 1 },
	{ "projections", cmd_projections, 0 }, { "chart", cmd_chart, 0 }, { "rebuild", cmd_rebuild, 1 },
};

int main(int argc, char **argv)
{
	args a = { .db = "./bank-data" };
	es_cli_prog = "es-bank";
	if (parse_args(&a, argc, argv))
		return ES_EXIT_USAGE;
	if (a.npos == 0)
		return es_cli_usage_error("a command is required");
	if (strcmp(a.pos[0], "demo") == 0)
		return a.npos == 1 ? es_bank_demo(a.db) : es_cli_usage_error("demo takes no arguments");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(a.pos[0], commands[i].name) != 0)
			continue;
		es_open_options o = ES_OPEN_OPTIONS_INIT;
		o.read_only = !commands[i].writes;
		es_db *db;
		int rc = es_db_open(&db, a.db, &o);
		if (rc)
			return es_cli_fail(rc);
		rc = commands[i].run(db, &a);
		es_db_close(db);
		return rc;
	}
	return es_cli_usage_error("unknown command '%s'", a.pos[0]);
}
