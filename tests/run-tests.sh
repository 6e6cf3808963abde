#!/bin/sh
# Runs every test entry (a program or a .sh script printing TAP), keeps each
# one's output in tests/logs/, and ends with the line "N passed, M failed",
# where N and M count TAP test points.  A program that crashes, times out,
# exits non-zero or prints fewer points than its plan counts as one more
# failure, so nothing can pass by dying early.
top_src=${MN_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
top_build=${MN_TOP_BUILDDIR:-$top_src}
export MN_TOP_SRCDIR="$top_src" MN_TOP_BUILDDIR="$top_build"
# Under ./configure --enable-tsan: the reports from inside OpenBLAS and Open
# MPI that TSan cannot judge (tests/tsan.supp says which and why).
export TSAN_OPTIONS="suppressions=$top_src/tests/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
logdir="$top_build/tests/logs"
mkdir -p "$logdir"
limit=${MN_TEST_TIMEOUT:-600}
passed=0
failed=0
for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	case "$t" in
	*.sh) cmd="sh $top_src/$t" ;;
	*) cmd="$top_build/$t" ;;
	esac
	start=$(date +%s)
	# Each test gets an empty cache directory of its own: nothing a test
	# runs reads or fills the user's ~/.cache/micronas.
	cache=$(mktemp -d "${TMPDIR:-/tmp}/mn-test-cache.XXXXXX")
	(cd "$top_build" && XDG_CACHE_HOME="$cache" timeout -k 5 "$limit" $cmd) >"$log" 2>&1
	rc=$?
	rm -rf "$cache"
	secs=$(( $(date +%s) - start ))
	ok=$(grep -c '^ok' "$log")
	bad=$(grep -c '^not ok' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	extra=0
	why=
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then extra=1; why=" (exit status $rc)"; fi
	if [ -z "$plan" ]; then extra=1; why="$why (no TAP plan)";
	elif [ "$plan" -ne $((ok + bad)) ]; then extra=1; why="$why (planned $plan, ran $((ok + bad)))"; fi
	passed=$((passed + ok))
	failed=$((failed + bad + extra))
	if [ $((bad + extra)) -eq 0 ]; then
		printf 'PASS %-28s %4d points %4ds\n' "$name" "$ok" "$secs"
	else
		printf 'FAIL %-28s %4d ok, %d not ok%s, log: %s\n' "$name" "$ok" "$bad" "$why" "$log"
		grep '^not ok' "$log" | head -n 20 | sed 's/^/     /'
	fi
	grep '^# SKIP-NOTE' "$log" | sed 's/^# SKIP-NOTE/     note:/'
done
echo "$passed passed, $failed failed" | tee "$logdir/summary"
[ "$failed" -eq 0 ]
