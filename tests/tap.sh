# TAP helpers for the shell tests, sourced as . "$MN_TOP_SRCDIR/tests/tap.sh".
# check DESCRIPTION COMMAND...: one test point, ok when COMMAND succeeds.
# tap_done: the plan, and the exit status (non-zero when a point failed).
# tap_finish: the same, then exit (a test that cannot go on).
tap_n=0
tap_fails=0
check() {
	tap_desc=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $tap_desc"
	else
		echo "not ok $tap_n - $tap_desc"
		tap_fails=$((tap_fails + 1))
	fi
}
tap_done() {
	echo "1..$tap_n"
	[ "$tap_fails" -eq 0 ]
}
tap_finish() {
	tap_done
	exit $?
}
