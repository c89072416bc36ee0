# cluster.sh - sourced by the relay tests: a 3-node NATS JetStream cluster on
# loopback ports, configured and stored under $work/nats, started by
# cluster_start (which waits for a meta leader) and stopped by cluster_stop,
# which the tests run at exit whatever happens (cli_on_exit).
# Needs nats-server (scripts/install-deps.sh installs it): missing, it fails.
here=$(cd "$(dirname "$0")" && pwd)
NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$NATS_SERVER" ] || { echo "FAIL: nats-server not found (run scripts/install-deps.sh)" >&2; exit 1; }

cluster_stop() {
	for i in 1 2 3; do
		pid=$(cat "$work/nats/n$i.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for i in 1 2 3; do
		pid=$(cat "$work/nats/n$i.pid" 2>/dev/null || true)
		[ -n "$pid" ] && { wait "$pid" 2>/dev/null || true; }
		rm -f "$work/nats/n$i.pid"
	done
}
cli_on_exit=cluster_stop

node_start() { # node_start I
	"$NATS_SERVER" -c "$work/nats/n$1.conf" >>"$work/nats/n$1.log" 2>&1 &
	echo $! >"$work/nats/n$1.pid"
}

node_kill() { # node_kill I: kill -9
	pid=$(cat "$work/nats/n$1.pid")
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$work/nats/n$1.pid"
}

# wait_for TRIES COMMAND...: runs COMMAND every 0.2 s until it succeeds.
wait_for() {
	n=$1; shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.2
	done
}

has_meta_leader() {
	[ -n "$(python3 "$here/jsz.py" "${mon[1]}" meta)" ]
}

# The node number leading JetStream stream $1 (empty if none).
stream_leader() {
	name=$(python3 "$here/jsz.py" "${mon[1]}" stream "$1")
	[ -n "$name" ] || name=$(python3 "$here/jsz.py" "${mon[2]}" stream "$1")
	echo "${name#n}"
}

cluster_start() {
	mkdir -p "$work/nats"
	set -- $(python3 "$here/jsz.py" free-ports 9)
	client=(x "$1" "$2" "$3"); route=(x "$4" "$5" "$6"); mon=(x "$7" "$8" "$9")
	NATS_URLS="nats://127.0.0.1:${client[1]},nats://127.0.0.1:${client[2]},nats://127.0.0.1:${client[3]}"
	for i in 1 2 3; do
		cat >"$work/nats/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${client[$i]}
http: 127.0.0.1:${mon[$i]}
max_payload: 8MB
jetstream { store_dir: "$work/nats/store$i", max_file_store: 1G, max_memory_store: 64M }
cluster {
  name: evstore-test
  listen: 127.0.0.1:${route[$i]}
  routes: [ nats-route://127.0.0.1:${route[1]}, nats-route://127.0.0.1:${route[2]}, nats-route://127.0.0.1:${route[3]} ]
}
CONF
		node_start "$i"
	done
	wait_for 150 has_meta_leader || fail "the NATS cluster elected no JetStream leader (logs in $work/nats)"
}
