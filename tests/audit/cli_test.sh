#!/bin/sh
# cli_test.sh - es-dump, es-load and es-check as scripts and auditors use
# them: real JSON and CSV parsers (python3) read the output, tampered files
# and damaged stores are caught, bad input gets exit status 2 (usage) or 1
# (failure), failing outputs are errors, and dump -> load -> dump gives the
# same bytes.
#   cli_test.sh TOOLS_DIR FIXTURE_HELPER
set -eu
tools=$1
fixture=$2
dump=$tools/es-dump
load=$tools/es-load
check=$tools/es-check
. "$(dirname "$0")/../support/cli_expect.sh"

ok() { passed=$((passed + 1)); }

"$fixture" "$work/store"

# ---- JSON Lines: a real parser, every bank type at every schema version ----
expect 0 -- "$dump" --db "$work/store" -o "$work/a.jsonl"
python3 - "$work/a.jsonl" <<'EOF'
import json, sys
keys = ["position", "stream", "version", "id", "type", "schema_version", "recorded_at",
        "recorded_at_ns", "occurred_at", "correlation_id", "causation_id", "metadata", "data",
        "prev_hash", "hash"]
want = {("AccountOpened", 1), ("Deposit", 1), ("Withdrawal", 1), ("AccountClosed", 1),
        ("AccountOpened", 2), ("MoneyDeposited", 2), ("MoneyWithdrawn", 2), ("AccountClosed", 2),
        ("AccountOpened", 3), ("MoneyDeposited", 3), ("MoneyWithdrawn", 3), ("AccountFrozen", 3),
        ("AccountUnfrozen", 3), ("AccountClosed", 3)}
text = open(sys.argv[1], encoding="utf-8").read()
lines = text.split("\n")
assert lines[-1] == "", "the file must end with a newline"
seen, events = set(), 0
for n, line in enumerate(lines[:-1], 1):
    obj = json.loads(line)
    if "position" not in obj:
        continue
    events += 1
    assert list(obj) == keys, (n, list(obj))
    assert obj["position"] == events
    if "@base64" not in obj["data"]:
        seen.add((obj["type"], obj["schema_version"]))
head, trailer = json.loads(lines[0]), json.loads(lines[-2])
assert head["format"] == "evstore-dump" and head["format_version"] == 1
assert trailer["count"] == events
assert not want - seen, want - seen
legacy = [json.loads(l) for l in lines[:-1] if '"account-legacy1"' in l]
assert legacy[1]["data"] == {"amount": 0.30000000000000004, "reference": "first"}
EOF
ok

expect 0 -- "$dump" --db "$work/store" --upcast -o "$work/up.jsonl"
python3 - "$work/up.jsonl" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    obj = json.loads(line)
    if obj.get("stream", "").startswith("account-"):
        assert obj["schema_version"] == 3, obj
        assert obj["type"] not in ("Deposit", "Withdrawal"), obj
        if obj["stream"] == "account-legacy1" and obj["version"] == 1:
            assert obj["data"]["amount_minor"] == "30", obj
EOF
ok

# ---- CSV: a real reader, and its writer gives back the same bytes ----
expect 0 -- "$dump" --db "$work/store" --format csv -o "$work/a.csv"
python3 - "$work/a.csv" "$work/a.jsonl" <<'EOF'
import csv, io, json, sys
raw = open(sys.argv[1], encoding="utf-8", newline="").read()
rows = list(csv.reader(io.StringIO(raw, newline="")))
assert all(len(r) == 15 for r in rows), [len(r) for r in rows]
assert rows[0][0] == "position" and rows[1][0] == "#header" and rows[-1][0] == "#trailer"
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
assert out.getvalue() == raw, "csv.writer does not reproduce the file"
events = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.startswith('{"position"')]
body = [r for r in rows[2:] if not r[0].startswith("#")]
assert len(body) == len(events)
for r, e in zip(body, events):
    assert int(r[0]) == e["position"] and r[1] == e["stream"] and r[4] == e["type"]
    assert json.loads(r[12]) == e["data"] and json.loads(r[11]) == e["metadata"]
    assert r[8] == (e["occurred_at"] or "")
EOF
ok

# ---- --verify: intact files pass, each kind of tampering is named ----
expect 0 intact -- "$dump" --verify "$work/a.jsonl"
expect 0 intact -- "$dump" --verify "$work/a.csv"
expect 0 intact -- sh -c "\"$dump\" --verify - < \"$work/a.jsonl\""
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
for ext in ("jsonl", "csv"):
    lines = open(f"{work}/a.{ext}", "rb").read().split(b"\n")[:-1]
    def save(name, ls, cut=0):
        data = b"\n".join(ls) + b"\n"
        open(f"{work}/t-{name}.{ext}", "wb").write(data[:len(data) - cut] if cut else data)
    x = list(lines)
    i = next(n for n, l in enumerate(x) if b"12345" in l)
    x[i] = x[i].replace(b"12345", b"12346", 1)
    save(f"changed-{i + 1}", x)
    save("removed-10", lines[:9] + lines[10:])
    save("inserted-9", lines[:8] + [lines[3]] + lines[8:])
    x = list(lines); x[10], x[11] = x[11], x[10]
    save("reordered-11", x)
    save(f"truncated-{len(lines) - 1}", lines[:-1])
    save("truncated-12", lines[:12], cut=20)
EOF
for ext in jsonl csv; do
	for f in "$work"/t-*."$ext"; do
		name=$(basename "$f" ".$ext")
		kind=${name#t-}; line=${kind##*-}; kind=${kind%-*}
		expect 1 "$kind: .*line $line" -- "$dump" --verify "$f"
	done
done
expect 1 "not a dump" -- "$dump" --verify "$work/store/data.mdb"
expect 1 -- "$dump" --verify "$work/no-such-file"

# ---- es-load: a broken file is refused, naming the line; round trip ----
changed=$(ls "$work"/t-changed-*.jsonl)
cline=$(basename "$changed" .jsonl); cline=${cline##*-}
expect 1 "line $cline" -- "$load" --db "$work/refused" "$changed"
expect 1 "truncated" -- "$load" --db "$work/refused2" "$work/t-truncated-12.jsonl"
expect 1 "not empty" -- "$load" --db "$work/store" "$work/a.jsonl"
expect 1 "only JSONL" -- "$load" --db "$work/fromcsv" "$work/a.csv"
expect 1 "upcast" -- "$load" --db "$work/fromup" "$work/up.jsonl"
expect 0 "loaded 30 events" -- "$load" --db "$work/restored" "$work/a.jsonl"
expect 0 -- "$dump" --db "$work/restored" -o "$work/b.jsonl"
cmp "$work/a.jsonl" "$work/b.jsonl" || fail "dump -> load -> dump is not byte-identical"
ok
expect 0 -- sh -c "\"$load\" --db \"$work/piped\" - < \"$work/a.jsonl\""
expect 0 -- "$dump" --db "$work/piped" -o "$work/c.jsonl"
cmp "$work/a.jsonl" "$work/c.jsonl" || fail "loading from stdin is not byte-identical"
ok
expect 0 ": ok" -- "$check" --db "$work/restored"

# ---- es-check: a clean store passes; damage made on purpose is found ----
expect 0 ": ok" -- "$check" --db "$work/store"
for damage in flip-record:"corrupt record: stream 'account-a' version 1" \
              delete-log:"log gap: log positions 3..3" \
              delete-id:"id missing: stream 'account-a' version 2" \
              delete-event:"version gap: stream 'account-a': versions 2..2" \
              head-past:"version gap: stream 'account-a': versions 4..5" \
              snapshot-past:"snapshot orphan: stream 'account-a': the snapshot at version 8" \
              snapshot-checksum:"snapshot corrupt: stream 'misc-1'" \
              time-order:"time order: stream 'account-a' version 2"; do
	kind=${damage%%:*}
	rm -rf "$work/copy"
	cp -r "$work/store" "$work/copy"
	"$fixture" --damage "$kind" "$work/copy" || fail "damaging with $kind"
	expect 1 "${damage#*:}" -- "$check" --db "$work/copy"
done

# ---- bad input ----
touch "$work/plainfile"
mkdir "$work/garbage" && head -c 8192 /dev/urandom > "$work/garbage/data.mdb"
mkdir "$work/lmdb" && "$fixture" --plain "$work/lmdb"
for tool in "$dump" "$check"; do
	expect 1 -- "$tool" --db "$work/no-such-store"
	expect 1 "not a directory" -- "$tool" --db "$work/plainfile"
	expect 1 -- "$tool" --db "$work/garbage"
	expect 1 "not an evstore store" -- "$tool" --db "$work/lmdb"
done
expect 1 -- "$load" --db "$work/plainfile" "$work/a.jsonl"
if [ "$(id -u)" != 0 ]; then
	cp -r "$work/store" "$work/locked" && chmod 000 "$work/locked"
	expect 1 -- "$dump" --db "$work/locked"
	expect 1 -- "$check" --db "$work/locked"
	chmod 700 "$work/locked"
fi
# Unreadable even for root: the data file is a directory.
mkdir -p "$work/unreadable/data.mdb"
expect 1 -- "$dump" --db "$work/unreadable"
expect 1 -- "$check" --db "$work/unreadable"
s="$work/store"
expect 2 "since" -- "$dump" --db "$s" --since yesterday
expect 2 "until" -- "$dump" --db "$s" --until 2026-13-01T00:00:00Z
expect 2 "after" -- "$dump" --db "$s" --since 2026-01-02T00:00:00Z --until 2026-01-01T00:00:00Z
expect 2 "from-position" -- "$dump" --db "$s" --from-position -1
expect 2 "from-position" -- "$dump" --db "$s" --from-position 5 --to-position 4
expect 2 "to-position" -- "$dump" --db "$s" --to-position ten
expect 2 "do not go together" -- "$dump" --db "$s" --stream a --stream-prefix b
expect 2 "format" -- "$dump" --db "$s" --format xml
expect 2 "type" -- "$dump" --db "$s" --type ,
expect 2 -- "$dump" --db "$s" --bogus
expect 2 "db" -- "$dump"
expect 2 "verify" -- "$dump" --verify "$work/a.jsonl" --db "$s"
expect 2 -- "$dump" --db "$s" extra
expect 2 -- "$load" --db "$work/x"
expect 2 -- "$load" "$work/a.jsonl"
expect 2 -- "$check"
expect 2 -- "$check" --db "$s" extra

# ---- filters ----
count() { "$dump" --db "$s" "$@" | grep -c '^{"position"' || true; }
[ "$(count --stream account-a)" = 4 ] || fail "--stream"
[ "$(count --stream-prefix account-legacy)" = 9 ] || fail "--stream-prefix"
[ "$(count --type Deposit,Withdrawal)" = 3 ] || fail "--type list"
[ "$(count --type Deposit --type AccountOpened)" = 6 ] || fail "--type repeated"
[ "$(count --from-position 3 --to-position 5)" = 3 ] || fail "positions"
t10=$(sed -n 11p "$work/a.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recorded_at"])')
t12=$(sed -n 13p "$work/a.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recorded_at"])')
[ "$(count --since "$t10" --until "$t12")" = 3 ] || fail "--since/--until inclusive"
ok

# ---- failing outputs: never a silently short file ----
expect 1 "space" -- "$dump" --db "$s" -o /dev/full
expect 1 "cannot write" -- "$dump" --db "$s" -o "$work/no-such-dir/out.jsonl"
echo "precious" > "$work/keep.jsonl"
expect 1 -- "$dump" --db "$work/no-such-store" -o "$work/keep.jsonl"
grep -q precious "$work/keep.jsonl" || fail "a failed dump replaced its -o file"
ok
"$fixture" --big 20000 "$work/big"
set +e
("$dump" --db "$work/big" 2>"$work/pipe-err"; echo $? > "$work/pipe-status") | head -c 100 > /dev/null
set -e
[ "$(cat "$work/pipe-status")" = 1 ] || fail "a closed pipe gave exit status $(cat "$work/pipe-status")"
grep -q "closed the pipe" "$work/pipe-err" || fail "a closed pipe gave no clear error"
ok

# ---- progress: on a terminal only ----
expect 0 -- "$dump" --db "$work/big" -o "$work/big.jsonl"
[ ! -s "$work/err" ] || fail "progress was written to a non-terminal"
ok
python3 - "$dump" "$work/big" <<'EOF'
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.run([sys.argv[1], "--db", sys.argv[2]], stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
text = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    text += chunk
assert p.returncode == 0
assert b"20000 events" in text and b"events/s" in text and b"100.0%" in text, text
EOF
ok

echo "$passed passed, 0 failed"
