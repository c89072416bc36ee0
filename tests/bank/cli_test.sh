#!/bin/sh
# cli_test.sh - es-bank from the command line: each command's output; exit 1
# with a message on stderr when the bank refuses; exit 2 for usage errors;
# balances --at a time (exact to the nanosecond, times taken from
# `history --json`) and --version; JSON that parses; and the demo.
# Usage: sh cli_test.sh /path/to/es-bank
set -u

BIN=${1:?usage: cli_test.sh ES_BANK}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/es-bank-cli.XXXXXX") || exit 1
# Removed when every check passed; kept, and named, when one failed.
trap 'st=$?; if [ "$st" -eq 0 ]; then rm -rf "$DIR"; else echo "cli_test: files kept in $DIR" >&2; fi' EXIT
trap 'exit 1' INT TERM
DB=$DIR/bank
OUT=$DIR/out
ERR=$DIR/err
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run WANT_EXIT ARGS...: runs es-bank --db $DB ARGS, checks its exit status.
run() {
	want=$1
	shift
	"$BIN" --db "$DB" "$@" >"$OUT" 2>"$ERR"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "es-bank $*: exit $got, want $want"
		sed 's/^/    stdout: /' "$OUT"
		sed 's/^/    stderr: /' "$ERR"
	fi
}

# out_is TEXT: stdout is exactly TEXT (one line).
out_is() {
	[ "$(cat "$OUT")" = "$1" ] || fail "stdout '$(cat "$OUT")', want '$1'"
}

# err_has TEXT...: stderr contains each TEXT.
err_has() {
	for t in "$@"; do
		grep -qF -- "$t" "$ERR" || fail "stderr '$(cat "$ERR")' lacks '$t'"
	done
}

# refused ARGS...: exit 1, a message on stderr, nothing on stdout.
refused() {
	run 1 "$@"
	[ -s "$ERR" ] || fail "es-bank $*: no message on stderr"
	[ -s "$OUT" ] && fail "es-bank $*: printed '$(cat "$OUT")'"
}

# usage ARGS...: exit 2 and a message on stderr.
usage() {
	run 2 "$@"
	[ -s "$ERR" ] || fail "es-bank $*: no message on stderr"
}

# ---- each command's success output --------------------------------------
run 0 open alice --owner "Alice Smith"
out_is "opened account alice for Alice Smith in USD"
run 0 open bob --owner Bob --overdraft 10.00
out_is "opened account bob for Bob in USD"
run 0 open eve --owner Eve --currency EUR
out_is "opened account eve for Eve in EUR"
run 0 deposit alice 100.50 --ref salary
out_is "deposited 100.50 alice"
run 0 withdraw alice 0.5
out_is "withdrew 0.5 alice"
run 0 transfer alice bob 25
out_is "transferred 25 from alice to bob"
run 0 balance alice
out_is "75.00 USD"
run 0 balance bob
out_is "25.00 USD"

# ---- refusals: exit 1, a message naming the account ----------------------
refused open alice --owner Again
err_has alice "already exists"
refused withdraw bob 35.01
err_has bob "insufficient funds"
run 0 withdraw bob 35.00
run 0 balance bob
out_is "-10.00 USD"
refused transfer bob alice 0.01
err_has bob "insufficient funds"
run 0 freeze alice --ref audit
out_is "alice: freeze done"
refused withdraw alice 1
err_has alice frozen
refused transfer alice bob 1
err_has alice frozen
run 0 deposit alice 1
run 0 unfreeze alice
out_is "alice: unfreeze done"
run 0 withdraw alice 1
refused close bob
err_has bob "not zero"
run 0 deposit bob 10
run 0 close bob
out_is "bob: close done"
refused deposit bob 1
err_has bob closed
refused transfer alice bob 1
err_has bob closed
refused transfer alice eve 1
err_has alice eve "currencies differ"
refused deposit ghost 1
err_has ghost
refused balance ghost
err_has ghost
refused history ghost
err_has ghost
refused balance alice --version 99
err_has alice

# ---- usage errors: exit 2 ----------------------------------------------
usage
usage fly alice
usage deposit alice
usage deposit alice 1 2
usage open carol
usage open carol --owner Carol --currency usd
usage open carol --owner Carol --overdraft -1
usage transfer alice bob
usage deposit alice 12.345
usage deposit alice -5
usage deposit alice 1e3
usage deposit alice 0
usage deposit alice ""
usage deposit alice " 5"
usage withdraw alice 1.2.3
usage transfer alice eve 12.345
usage balance alice --at yesterday
usage balance alice --at 2026-01-01T00:00:00
usage balance alice --at @12x
usage balance alice --at 2026-01-01T00:00:00Z --version 1
usage balance alice --version -1
usage balance alice --version abc
usage balance alice extra
usage history alice --since nonsense
usage history alice --until 2026-13-01T00:00:00Z
usage --frobnicate balance alice
usage demo extra
run 0 --help
grep -q "usage: es-bank" "$OUT" || fail "--help prints no usage"
# Nothing above wrote anything: carol was never opened.
refused balance carol

# ---- time travel, exact to the nanosecond -------------------------------
run 0 history alice --json
python3 -m json.tool "$OUT" >/dev/null || fail "history --json does not parse: $(cat "$OUT")"
# One line per event: version, recorded_at_ns, balance.
python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["version"], e["recorded_at_ns"], e["balance"], e["currency"])
' "$OUT" >"$DIR/events" || fail "history --json: fields missing"
[ "$(wc -l <"$DIR/events")" -eq 8 ] || fail "alice has $(wc -l <"$DIR/events") events, want 8"
prev=""
while read -r version ns balance currency; do
	run 0 balance alice --at "@$ns"
	out_is "$balance $currency"
	run 0 balance alice --version "$version"
	out_is "$balance $currency"
	if [ -z "$prev" ]; then
		refused balance alice --at "@$((ns - 1))"
		err_has alice "did not exist"
	else
		run 0 balance alice --at "@$((ns - 1))"
		out_is "$prev $currency"
		run 0 balance alice --at "@$((ns - 1))" --json
		python3 -m json.tool "$OUT" >/dev/null || fail "balance --at --json: $(cat "$OUT")"
	fi
	prev=$balance
done <"$DIR/events"
run 0 balance alice --json
python3 -m json.tool "$OUT" >/dev/null || fail "balance --json does not parse: $(cat "$OUT")"
python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
assert b["account"] == "alice" and b["balance"] == "75.00" and b["balance_minor"] == 7500, b
assert b["currency"] == "USD" and b["status"] == "open" and b["version"] == 7, b
' "$OUT" || fail "balance --json: $(cat "$OUT")"
run 0 history bob
[ "$(wc -l <"$OUT")" -eq 5 ] || fail "history bob: $(wc -l <"$OUT") lines, want 5"
# A window holding only the last event.
last_ns=$(tail -n 1 "$DIR/events" | cut -d' ' -f2)
run 0 history alice --since "@$last_ns" --json
python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert [e["version"] for e in h] == [7], h
' "$OUT" || fail "history --since: $(cat "$OUT")"

# ---- the read side: top and projections, from the balances model ----------
run 0 projections
grep -q "bank-balances .* behind" "$OUT" || fail "projections before any catch-up: $(cat "$OUT")"
run 0 top -n 1 --json
python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert [(a["currency"], a["account"]) for a in t["accounts"]] == [("EUR", "eve"), ("USD", "alice")], t
assert t["accounts"][1]["balance"] == "75.00", t
' "$OUT" || fail "top --json: $(cat "$OUT")"
run 0 top
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "top: $(wc -l <"$OUT") lines, want 3 (alice and bob in USD, eve in EUR)"
run 0 projections --json
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p[0]["projection"] == "bank-balances" and p[0]["behind"] == 0 and p[0]["state"] == "caught up", p
' "$OUT" || fail "projections --json: $(cat "$OUT")"
run 0 daily --json
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
usd = [x for x in d if x["currency"] == "USD"]
assert usd and all(set(x) >= {"day", "deposited", "withdrawn", "transferred", "net"} for x in usd), d
' "$OUT" || fail "daily --json: $(cat "$OUT")"
run 0 accounts --owner "Alice Smith"
grep -q "^alice .* 75.00 USD  open$" "$OUT" || fail "accounts --owner: $(cat "$OUT")"
refused accounts --owner Nobody
usage accounts
usage daily --since 2026-02-01T00:00:00Z --until 2026-01-01T00:00:00Z
run 0 chart alice -o "$DIR/alice.svg"
python3 -c '
import sys, xml.etree.ElementTree as ET
svg = ET.parse(sys.argv[1]).getroot()
ns = {"s": "http://www.w3.org/2000/svg"}
path = svg.find("s:path", ns).get("d")
assert path.count("H") == 7, path        # one step per event after the first of alice
texts = [t.text for t in svg.findall("s:text", ns)]
assert "Balance of alice (USD)" in texts and "75.00" not in texts[:1], texts
' "$DIR/alice.svg" || fail "chart: $(cat "$DIR/alice.svg")"
usage chart alice
refused chart nobody -o "$DIR/nobody.svg"
[ -e "$DIR/nobody.svg" ] && fail "chart of an unknown account left a file"
refused chart alice -o "$DIR/no/such/dir.svg"
run 0 rebuild bank-balances
grep -q "^rebuilt bank-balances: .* events, now at position" "$OUT" || fail "rebuild: $(cat "$OUT")"
run 0 balance alice
out_is "75.00 USD"
run 0 top -n 1 --json
grep -q '"balance":"75.00"' "$OUT" || fail "top after rebuild: $(cat "$OUT")"
usage rebuild nothing-like-it
err_has "no bank read model named 'nothing-like-it'"
usage rebuild
usage top -n 0
err_has "-n: at least 1"
usage top -n x
usage top extra

# ---- the demo ------------------------------------------------------------
"$BIN" demo --db "$DIR/demo" >"$OUT" 2>"$ERR"
status=$?
[ "$status" -eq 0 ] || fail "demo: exit $status: $(cat "$ERR")"
grep -q " OK$" "$OUT" || fail "demo printed no OK line"
grep -q "MISMATCH" "$OUT" && fail "demo printed MISMATCH"
grep -q "^Read models: .* accounts against their aggregates: OK$" "$OUT" || fail "demo did not check the read model"
"$BIN" demo --db "$DIR/demo" >"$OUT" 2>"$ERR"
status=$?
[ "$status" -eq 2 ] || fail "demo on an existing directory: exit $status, want 2"
grep -qF "$DIR/demo" "$ERR" || fail "demo refusal does not name the directory"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "es-bank CLI: all checks passed"
