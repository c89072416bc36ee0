#!/bin/sh
# cli_test.sh - es-tail as a script uses it: its JSON Lines are the dump's
# event lines without the hash chain (a real parser compares them), a
# checkpoint resumes with no gap and no repeat, --follow sees another
# process's commits and saves its checkpoint on SIGINT, a closed pipe ends
# it quietly, and bad input exits 2 (usage) or 1 (failure).
#   cli_test.sh TOOLS_DIR
set -eu
tools=$1
tail=$tools/es-tail
bank=$tools/es-bank
dump=$tools/es-dump
. "$(dirname "$0")/../support/cli_expect.sh"
db=$work/store

# wait_lines FILE N: until FILE has N lines (10 s at most).
wait_lines() {
	i=0
	while [ "$(wc -l <"$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ "$i" -le 200 ] || fail "$1 has $(wc -l <"$1") lines, expected $2"
		sleep 0.05
	done
}

"$bank" --db "$db" open alice --owner Alice --currency USD >/dev/null
"$bank" --db "$db" open bob --owner Bob --currency USD >/dev/null
"$bank" --db "$db" deposit alice 100.00 >/dev/null
"$bank" --db "$db" transfer alice bob 25.00 >/dev/null

# ---- the dump's event encoding, without the chain ----
expect 0 -- "$tail" --db "$db"
cp "$work/out" "$work/tail.jsonl"
"$dump" --db "$db" -o "$work/dump.jsonl"
python3 - "$work/tail.jsonl" "$work/dump.jsonl" <<'PY' || fail "es-tail's lines differ from the dump's"
import json, sys
tail = [json.loads(l) for l in open(sys.argv[1])]
dump = [json.loads(l) for l in open(sys.argv[2])]
events = [d for d in dump if "position" in d]
for d in events:
    del d["prev_hash"], d["hash"]
assert tail == events, (tail, events)
assert [list(t) for t in tail] == [list(e) for e in events]  # member order too
assert [t["position"] for t in tail] == [1, 2, 3, 4, 5]
PY
passed=$((passed + 1))

expect 0 "account-bob@1 MoneyDeposited" -- "$tail" --db "$db" --format text
[ "$(wc -l <"$work/out")" -eq 5 ] || fail "text format: expected 5 lines"
expect 0 -- "$tail" --db "$db" --type MoneyDeposited --stream-prefix account-b
[ "$(wc -l <"$work/out")" -eq 1 ] || fail "filters: expected the one deposit to bob"

# ---- checkpoints: resume with no gap and no repeat ----
expect 0 -- "$tail" --db "$db" --checkpoint audit --format text
[ "$(wc -l <"$work/out")" -eq 5 ] || fail "a new checkpoint starts at the beginning"
"$bank" --db "$db" deposit bob 1.00 >/dev/null
expect 0 "^6 " -- "$tail" --db "$db" --checkpoint audit --format text
[ "$(wc -l <"$work/out")" -eq 1 ] || fail "resume: expected only position 6"
expect 0 '"checkpoints":\[{"checkpoint":"audit","position":6,"behind":0}\]' -- "$tail" --db "$db" --lag --json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" || fail "--lag --json does not parse"

# ---- --follow: another process's commits, SIGINT saves the checkpoint ----
"$tail" --db "$db" --checkpoint live --follow --format text >"$work/follow" 2>"$work/follow-err" &
expect 2 "give one of" -- "$tail" --db "$db" --checkpoint x --from-start
wait_lines "$work/follow" 6
"$bank" --db "$db" deposit alice 2.00 >/dev/null
wait_lines "$work/follow" 7
kill -INT $!
set +e; wait $!; st=$?; set -e
[ "$st" -eq 0 ] || fail "es-tail --follow exited $st on SIGINT"
grep -q '^7 .*account-alice@3 MoneyDeposited' "$work/follow" || fail "--follow missed the new deposit"
expect 0 '"checkpoint":"live","position":7' -- "$tail" --db "$db" --lag --json
passed=$((passed + 1))

# ---- a closed pipe ends it quietly ----
( set +e; "$tail" --db "$db" --follow 2>"$work/pipe-err"; echo $? >"$work/pipe-status" ) | head -n 1 >/dev/null &
sleep 0.3
"$bank" --db "$db" deposit alice 3.00 >/dev/null
wait $!
[ "$(cat "$work/pipe-status")" = 0 ] || fail "closed pipe: exit $(cat "$work/pipe-status")"
[ ! -s "$work/pipe-err" ] || fail "closed pipe: it said $(cat "$work/pipe-err")"
passed=$((passed + 1))

# ---- bad input ----
expect 2 "--db DIR is required" -- "$tail"
expect 2 "neither jsonl nor text" -- "$tail" --db "$db" --format xml
expect 2 "is not a non-negative integer" -- "$tail" --db "$db" --after x
expect 2 "after the log head" -- "$tail" --db "$db" --after 999
expect 2 "--lag takes only" -- "$tail" --db "$db" --lag --follow
expect 2 "the value is empty" -- "$tail" --db "$db" --type ""
expect 1 "no store" -- "$tail" --db "$work/nothing"
expect 0 "usage: es-tail" -- "$tail" --help

echo "$passed passed"
