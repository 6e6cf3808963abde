#!/bin/sh
# An option's value that looks like an option is a usage error, for every
# option of every command taking a value (listed from the source by
# cli_options.sh): "micronas CMD --OPT --help" must not take "--help" as the
# value (it would read a data path, a port or a file called "--help") but
# stop with one line naming both, exit 2 as the other usage errors do.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# In a directory of its own: a regression would write files called --help.
cd "$tmp" || exit 1

sh "$MN_TOP_SRCDIR/tests/cli_options.sh" "$MN_TOP_SRCDIR" >"$tmp/opts"
check "the option tables list options that take values" [ "$(grep -c ' required$' "$tmp/opts")" -ge 20 ]
grep ' required$' "$tmp/opts" | while read -r cmd opt kind; do
	# timeout: without the check some commands would start (QEMU, a port).
	timeout 20 "$mn" "$cmd" "$opt" --help </dev/null >"$tmp/out" 2>"$tmp/err"
	echo "$? $cmd $opt $(head -c 300 "$tmp/err")"
done >"$tmp/results"
sed 's/^/# /' "$tmp/results" | head -n 3
bad=$(awk '$1 != 2' "$tmp/results")
check "every 'CMD --OPT --help' exits 2" [ -z "$bad" ]
[ -z "$bad" ] || echo "$bad" | sed 's/^/#   /'
bad=$(grep -v "needs a value but is followed by the option '--help'" "$tmp/results")
check "...and names the option and the option taken for its value" [ -z "$bad" ]
[ -z "$bad" ] || echo "$bad" | sed 's/^/#   /'

# The issue's own example.
"$mn" search --data --max-latency-ms 1 >"$tmp/out" 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "search --data --max-latency-ms 1: exit 2" [ $rc -eq 2 ]
check "...one line on stderr naming --data and --max-latency-ms" \
	sh -c "[ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q -- \"--data needs a value but is followed by the option '--max-latency-ms'\" '$tmp/err'"
check "...nothing on stdout" [ ! -s "$tmp/out" ]
"$mn" profile -o --port x >/dev/null 2>"$tmp/err"; rc=$?
check "a short option's value too (profile -o --port): exit 2" \
	sh -c "[ $rc -eq 2 ] && grep -q -- \"-o needs a value\" '$tmp/err'"

# Negative numbers are values, not options: they reach the number check.
"$mn" search --w-latency -0.5 >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "--w-latency -0.5 is read as a number (its range error, not 'needs a value')" \
	sh -c "[ $rc -ne 0 ] && grep -q -- '-0.5' '$tmp/err' && ! grep -q 'needs a value but' '$tmp/err'"
"$mn" cost --channels -8 none~0+none~0+none~1+none~0+none~1+none~2 >/dev/null 2>"$tmp/err"
check "--channels -8 is read as a number" sh -c "grep -q 'whole number' '$tmp/err'"
# A lone '-' and a value attached with '=' are taken as written.
"$mn" search --data=--no-such-dir --max-sram-kb 1 >/dev/null 2>"$tmp/err"; rc=$?
check "--data=--no-such-dir is a path (exit 1, the path named)" \
	sh -c "[ $rc -eq 1 ] && grep -q -- '--no-such-dir' '$tmp/err' && ! grep -q 'needs a value but' '$tmp/err'"
"$mn" cost --bogus >/dev/null 2>"$tmp/err"; rc=$?
check "an unknown option is still one usage line, exit 2" \
	sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'unknown or incomplete option' '$tmp/err'"

# A flag's bad word or number is said in flags ("--proxies 'x' is not one
# of: all (...), estimate (...)"), not as a preset file's "key = 'value'"
# (a preset file's error still names file, line, section and key:
# test_preset).  Every command's enumerated flags, from its usage
# ("--FLAG a|b"): exit 2, one line, each word of the usage offered.
: >"$tmp/enum"
for cmd in $("$mn" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
	"$mn" "$cmd" --help </dev/null 2>/dev/null | grep -o -- '--[a-z-]* [a-z0-9-]*\(|[a-z0-9-]*\)\{1,\}' | sort -u |
	while read -r flag words; do
		timeout 20 "$mn" "$cmd" "$flag" bogus </dev/null >/dev/null 2>"$tmp/err"; rc=$?
		ok=1
		[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
			grep -q -- "^micronas $cmd: $flag 'bogus' is not one of: " "$tmp/err" || ok=0
		for w in $(echo "$words" | tr '|' ' '); do
			grep -q -- "[: ]$w\( (\|,\|$\)" "$tmp/err" || ok=0
		done
		echo "$ok $cmd $flag: $(cat "$tmp/err")"
	done >>"$tmp/enum"
done
sed 's/^/# /' "$tmp/enum"
check "enumerated flags found in the usages (search, score, atlas, tui)" \
	sh -c "[ \$(wc -l <'$tmp/enum') -ge 14 ] && grep -q ' search --method' '$tmp/enum' && grep -q ' atlas --pareto' '$tmp/enum'"
check "...each bad word: exit 2, one line '--FLAG 'bogus' is not one of: ' and every word" \
	sh -c "! grep -q '^0' '$tmp/enum'"
for c in "search --batch lots" "atlas --seed -1" "tui --w-latency x"; do
	"$mn" $c </dev/null >/dev/null 2>"$tmp/err"; rc=$?
	check "$c: said in flags ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 2 ] && grep -q -- \"^micronas [a-z]*: --[a-z-]* '[^']*' is \" '$tmp/err' && ! grep -q \" = '\" '$tmp/err'"
done
tap_done
