#!/usr/bin/env bash
# relay_bench.sh - measures the relay on loopback against the tests' 3-node
# cluster (cluster.sh), into an R3 stream: throughput of a catch-up of N
# events, and the lag from commit on the primary to committed in the
# follower's replica (p50/p99, es-follow's summary) while the store takes
# RATE events/s. Not a test (no assertion); run it on an idle machine:
#   tests/relay/relay_bench.sh build/tools build/tests/relay_helper [N] [RATE] [RUNS] [REPLICAS]
set -eu
bin=$1
helper=$2
count=${3:-200000}
rate=${4:-2000}
runs=${5:-3}
replicas=${6:-3}
. "$(dirname "$0")/../support/cli_expect.sh"
. "$(dirname "$0")/cluster.sh"
cluster_start
for run in $(seq 1 "$runs"); do
	db="$work/p$run"
	"$helper" append "$db" "$count" 0
	t0=$(date +%s.%N)
	"$bin/es-relay" --db "$db" --nats "$NATS_URLS" --js-stream "T$run" --create-stream --replicas "$replicas" 2>/dev/null
	t1=$(date +%s.%N)
	echo "run $run: relayed $count events in $(echo "$t1 - $t0" | bc) s: $(echo "$count / ($t1 - $t0)" | bc) events/s"
	# Lag: a relay and a follower run while the store takes $rate events/s.
	"$bin/es-relay" --db "$db" --nats "$NATS_URLS" --js-stream "T$run" --follow 2>/dev/null &
	rp=$!
	"$bin/es-follow" --db "$work/r$run" --nats "$NATS_URLS" --js-stream "T$run" >/dev/null
	"$bin/es-follow" --db "$work/r$run" --nats "$NATS_URLS" --js-stream "T$run" --follow --json >"$work/lag$run" &
	fp=$!
	sleep 1
	"$helper" append "$db" $((rate * 10)) "$rate"
	sleep 1
	kill -TERM $fp $rp
	wait $fp $rp || true
	echo "run $run: lag at $rate events/s: $(cat "$work/lag$run")"
done
