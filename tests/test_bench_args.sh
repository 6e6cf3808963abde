#!/bin/sh
# The benchmarks' arguments (make check builds them): --help prints the
# usage and exits 0, an unknown flag or a bad number is a one-line usage
# error (exit 2), all before any work.  Before, most ignored what they did
# not know, --help included, and ran for up to an hour with the defaults.
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
b="$MN_TOP_BUILDDIR/bench"
# run NAME ARGS...: the benchmark with 20 s to answer; $rc, $tmp/out, $tmp/err.
run() {
	name=$1
	shift
	timeout 20 "$b/$name" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}
for name in bench_atlas bench_boards bench_kernels bench_ntk bench_quality bench_search bench_validate bench_quant; do
	run $name --help
	check "$name --help: exit 0, the usage on stdout ($(head -c 100 "$tmp/out"))" \
		sh -c "[ $rc -eq 0 ] && grep -q '^usage: $name' '$tmp/out'"
done
for name in bench_atlas bench_boards bench_kernels bench_ntk bench_quality bench_search; do
	run $name --bogus 1
	check "$name --bogus 1: exit 2, one line naming it ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q -- \"'--bogus'\" '$tmp/err'"
done
# A bad number names the option and the range.
for c in "bench_atlas --archs x" "bench_boards --max-sram-kb abc" "bench_kernels --calls 5x" \
	"bench_ntk --threads abc" "bench_quality --archs 2" "bench_quality --mode exakt" \
	"bench_search --what lookahed" "bench_search --batches 32,x" "bench_validate x" "bench_validate 0"; do
	run $c
	check "$c: exit 2, one line ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/err') -eq 1 ]"
done
# Run directly (not by make bench: no MN_TOP_SRCDIR), from another
# directory, a benchmark finds the presets of the tree it was built in, as
# a build-tree micronas does; before, bench_boards stopped at 'preset not
# found' and bench_search read ./presets after minutes of searches.
(cd "$tmp" && env -u MN_TOP_SRCDIR timeout 20 "$b/bench_boards" --skip-search 1 --skip-emulator 1 --archs 0 \
	>"$tmp/out" 2>"$tmp/err"); rc=$?
check "bench_boards run directly from elsewhere finds the presets ($(head -n 1 "$tmp/err"))" \
	sh -c "[ $rc -eq 0 ] && grep -q '^bench_boards: NUCLEO-F746ZG' '$tmp/out'"
# Copied out of its build tree, it cannot know where they are: one line
# saying what to do, at once (bench_search, before its minutes of searches).
for name in bench_boards bench_search; do
	cp "$b/$name" "$tmp/$name"
	(cd "$tmp" && env -u MN_TOP_SRCDIR timeout 20 "./$name" >"$tmp/out" 2>"$tmp/err" </dev/null); rc=$?
	check "$name out of its tree, no MN_TOP_SRCDIR: exit 1 at once, one line naming the fix ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'MN_TOP_SRCDIR.*make bench' '$tmp/err'"
done
tap_done
