# cli_expect.sh - sourced by the tools' CLI tests: a work directory ($work)
# removed when every check passed, kept (writable again) and named when one
# failed; fail MESSAGE; and expect STATUS [TEXT] -- COMMAND..., which runs
# COMMAND with its output in $work/out and $work/err and checks its exit
# status and a text that stdout or stderr must hold. Counts in $passed.
# A test that starts servers defines cli_on_exit (a command run first at exit).
work=$(mktemp -d)
trap 'st=$?; ${cli_on_exit:-true}; chmod -R u+rwx "$work" 2>/dev/null
      if [ "$st" -eq 0 ]; then rm -rf "$work"; else echo "cli_test: files kept in $work" >&2; fi' EXIT
passed=0

fail() {
	echo "FAIL: $*" >&2
	echo "--- stdout"; cat "$work/out" 2>/dev/null || true
	echo "--- stderr"; cat "$work/err" 2>/dev/null || true
	echo "$passed passed, 1 failed"
	exit 1
}

expect() {
	want=$1; shift
	text=""
	if [ "$1" != "--" ]; then text=$1; shift; fi
	shift
	set +e
	"$@" >"$work/out" 2>"$work/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || fail "$* exited $got, expected $want"
	if [ -n "$text" ] && ! grep -q -- "$text" "$work/out" "$work/err"; then
		fail "$*: output lacks '$text'"
	fi
	passed=$((passed + 1))
}
