#!/usr/bin/env bash
# relay_test.sh - es-relay and es-follow against a real 3-node NATS JetStream
# cluster (cluster.sh) on loopback. Usage: relay_test.sh BIN_DIR RELAY_HELPER
set -eu
bin=$1
helper=$2
. "$(dirname "$0")/../support/cli_expect.sh"
. "$(dirname "$0")/cluster.sh"
# At exit, whatever happened: the background jobs, then the cluster.
relay_cleanup() {
	touch "$work/stop-appender"
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	cluster_stop
}
cli_on_exit=relay_cleanup
relay="$bin/es-relay"
follow="$bin/es-follow"
bank="$bin/es-bank"
P="$work/primary"
R="$work/replica"

# ---- usage and unreachable NATS (before the cluster exists) ----
expect 2 "js-stream" -- "$relay" --db "$P" --nats nats://127.0.0.1:1
expect 2 "replicas" -- "$relay" --db "$P" --nats nats://127.0.0.1:1 --js-stream EV --create-stream --replicas 0
expect 2 "db" -- "$follow" --nats nats://127.0.0.1:1 --js-stream EV
expect 2 "unexpected argument 'x'" -- "$relay" --db "$P" --nats u --js-stream EV x
expect 0 "exactly once" -- "$relay" --help
"$bank" --db "$P" open acc-0 --owner zero >/dev/null
set -- $(python3 "$here/jsz.py" free-ports 1)
expect 1 "cannot connect to NATS at nats://127.0.0.1:$1" -- "$relay" --db "$P" --nats "nats://127.0.0.1:$1" --js-stream EV
expect 1 "cannot connect to NATS" -- "$follow" --db "$R" --nats "nats://127.0.0.1:$1" --js-stream EV

cluster_start
for i in 1 2 3 4; do "$bank" --db "$P" open "acc-$i" --owner "o$i" >/dev/null; done

# The bank appends while the tests below run.
appender() {
	n=0
	while [ ! -e "$work/stop-appender" ]; do
		n=$((n + 1))
		"$bank" --db "$P" deposit "acc-$((n % 4 + 1))" 1.00 >/dev/null
		echo $n >"$work/appended"
	done
}
appender &
appender_pid=$!

start_relay() { # start_relay NAME: es-relay --follow in the background, its pid in $relay_pid
	"$relay" --db "$P" --nats "$NATS_URLS" --js-stream EV --create-stream --replicas 3 --follow \
		>"$work/$1.out" 2>"$work/$1.err" &
	relay_pid=$!
}
start_follower() {
	"$follow" --db "$R" --nats "$NATS_URLS" --js-stream EV --follow >/dev/null 2>>"$work/follower.err" &
	follower_pid=$!
}

# ---- exactly once under faults: kill -9 the relay 24 times, the leader twice ----
start_relay relay0
wait_for 150 "$relay" --db "$P" --js-stream EV --status || fail "the relay published nothing"
kill -9 $relay_pid 2>/dev/null || true; wait $relay_pid 2>/dev/null || true
start_follower
downed=""
for round in $(seq 1 24); do
	start_relay "relay$round"
	sleep "0.$((RANDOM % 8 + 1))"
	if [ "$round" = 8 ] || [ "$round" = 16 ]; then
		downed=$(stream_leader EV)
		[ -n "$downed" ] || fail "no leader for JetStream stream EV"
		node_kill "$downed"
		sleep "0.$((RANDOM % 5 + 3))"
	fi
	kill -9 $relay_pid 2>/dev/null || true; wait $relay_pid 2>/dev/null || true
	if [ -n "$downed" ]; then node_start "$downed"; downed=""; fi
	if [ $((round % 6)) = 0 ]; then
		kill -9 $follower_pid 2>/dev/null || true; wait $follower_pid 2>/dev/null || true
		start_follower
	fi
done
kill -9 $follower_pid 2>/dev/null || true; wait $follower_pid 2>/dev/null || true
passed=$((passed + 1))

# ---- a second relay on the same JetStream stream is refused ----
start_relay first; first=$relay_pid
start_relay second; second=$relay_pid
refused=""
tries=300 # a bound, not a timing: a refusal needs a publish, and the bank appends
while [ -z "$refused" ] && [ $((tries -= 1)) -gt 0 ]; do
	if ! kill -0 $first 2>/dev/null; then refused=first; other=$second; fi
	if ! kill -0 $second 2>/dev/null; then refused=second; other=$first; fi
	sleep 0.2
done
[ -n "$refused" ] || fail "two relays published to one JetStream stream and neither was refused"
set +e; wait "$(eval echo \$$refused)"; st=$?; set -e
[ "$st" = 1 ] || fail "the refused relay exited $st, expected 1"
grep -q "another relay publishes to it" "$work/$refused.err" || fail "the refused relay did not say why: $(cat "$work/$refused.err")"
# The other one may have been refused too (both fenced each other); if it
# still runs, SIGTERM stops it cleanly.
if kill -TERM $other 2>/dev/null; then
	set +e; wait $other; st=$?; set -e
	[ "$st" = 0 ] || grep -q "another relay publishes to it" "$work/$([ $refused = first ] && echo second || echo first).err" ||
		fail "SIGTERM: the remaining relay exited $st, expected 0"
fi
passed=$((passed + 1))

# ---- an event at the store's maximum size goes through ----
"$helper" append-big "$P" big-1 || fail "appending the maximum-size event"
# At least 100 deposits, however slow the machine (a sanitizer build starts
# es-bank slowly): a count, not a time.
for _ in $(seq 1200); do
	[ "$(cat "$work/appended" 2>/dev/null || echo 0)" -gt 100 ] && break
	sleep 0.1
done
touch "$work/stop-appender"
wait $appender_pid
expect 0 "stopped" -- "$relay" --db "$P" --nats "$NATS_URLS" --js-stream EV

# JetStream sequence i carries position i, every position once, up to the head.
expect 0 "lag_events 0" -- "$relay" --db "$P" --js-stream EV --status
head=$(sed -n 's/^log_head //p' "$work/out")
"$helper" list "${NATS_URLS%%,*}" EV >"$work/list" || fail "listing JetStream stream EV"
awk -v head="$head" '$1 != $2 || $1 != NR { print "seq " $1 " carries position " $2; bad = 1 }
	END { if (NR != head) { print NR " messages, log head " head; bad = 1 } exit bad }' "$work/list" \
	|| fail "JetStream stream EV does not hold each event once in log order"
[ "$head" -gt 100 ] || fail "only $head events were appended"
passed=$((passed + 1))

# The follower's replica dumps byte for byte as the primary does.
expect 0 "replica at position $head" -- "$follow" --db "$R" --nats "$NATS_URLS" --js-stream EV
"$bin/es-dump" --db "$P" -o "$work/primary.dump"
"$bin/es-dump" --db "$R" -o "$work/replica.dump"
cmp "$work/primary.dump" "$work/replica.dump" || fail "the replica's dump differs from the primary's"
passed=$((passed + 1))

# ---- a filtered relay publishes only its matches ----
expect 0 "stopped" -- "$relay" --db "$P" --nats "$NATS_URLS" --js-stream ACC2 --subject-prefix acc2 \
	--stream-prefix account-acc-2 --create-stream --replicas 3
"$bin/es-tail" --db "$P" --stream-prefix account-acc-2 --format text | awk '{ print $1 }' >"$work/want"
"$helper" list "${NATS_URLS%%,*}" ACC2 | awk '$3 !~ /^acc2\.account-acc-2$/ { print "bad subject " $3; exit 1 }
	{ print $2 }' >"$work/got" || fail "the filtered relay published a non-matching subject"
[ -s "$work/want" ] || fail "no events of account-acc-2"
cmp "$work/want" "$work/got" || fail "the filtered relay's positions differ from the matching events'"
passed=$((passed + 1))

# ---- bad input ----
# A JetStream stream holding a foreign message.
"$bank" --db "$work/empty" open x --owner x >/dev/null
expect 0 "created" -- "$relay" --db "$work/empty" --nats "$NATS_URLS" --js-stream FOREIGN --create-stream --subject-prefix f
"$helper" publish "${NATS_URLS%%,*}" f.intruder || fail "publishing a foreign message"
expect 1 "not an evstore event" -- "$relay" --db "$work/empty" --nats "$NATS_URLS" --js-stream FOREIGN --subject-prefix f
# The stream holds another store's events.
expect 1 "holds another store's events" -- "$relay" --db "$work/empty" --nats "$NATS_URLS" --js-stream EV
# A replica dir holding another store.
expect 1 "replica has diverged" -- "$follow" --db "$work/empty" --nats "$NATS_URLS" --js-stream EV
# No such JetStream stream without --create-stream.
expect 1 "no JetStream stream 'NOPE'" -- "$relay" --db "$P" --nats "$NATS_URLS" --js-stream NOPE

echo "$passed passed"
