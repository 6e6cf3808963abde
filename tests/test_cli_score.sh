#!/bin/sh
# micronas score: per-arch output and JSON, determinism, and the resumable
# --all CSV (in chunks with --max), at small settings.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fast="--batch 8 --repeat 1 --ntk-grad fixed-stats --threads 2"
A1='|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
A2='|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'

"$mn" score "$A1" "$A2" $fast --json >"$tmp/a" 2>"$tmp/err"; rc=$?
cat "$tmp/a" | sed 's/^/# /'
check "score exits 0" [ $rc -eq 0 ]
check "two JSON lines with arch, ntk_cond, linear_regions, the other proxies and the estimate" \
	[ "$(grep -c '^{"arch":"[^"]*","ntk_cond":[0-9.e+-]*,"linear_regions":[0-9.e+-]*,"az_expressivity":[^}]*,"zico":[0-9.e+-]*,"estimate":[0-9.e+-]*}$' "$tmp/a")" -eq 2 ]
check "the synthetic batch is announced" grep -q 'synthetic input batch' "$tmp/err"
check "an arch with no path to the output has NTK condition 100000 (NaN)" grep -q '"ntk_cond":100000,' "$tmp/a"
"$mn" score "$A1" "$A2" $fast --json >"$tmp/b" 2>/dev/null
check "same seed, same scores" cmp -s "$tmp/a" "$tmp/b"
"$mn" score "$A1" $fast --json --seed 9 >"$tmp/c" 2>/dev/null
check "another seed, other scores" sh -c "! grep -qF \"\$(head -n 1 '$tmp/c')\" '$tmp/a'"
"$mn" score '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|' 2>"$tmp/err"; rc=$?
check "a malformed arch exits 1 with its column" sh -c "[ $rc -eq 1 ] && grep -q 'column' '$tmp/err'"
"$mn" score --all 2>/dev/null; rc=$?
check "--all without --out is a usage error" [ $rc -eq 2 ]

"$mn" score --all --out "$tmp/all.csv" --max 3 $fast 2>"$tmp/err"; rc=$?
check "--all --max 3 exits 0" [ $rc -eq 0 ]
check "header + 3 rows" [ "$(wc -l <"$tmp/all.csv")" -eq 4 ]
check "the header" [ "$(head -n 1 "$tmp/all.csv")" = "arch,ntk_cond,linear_regions" ]
printf '|none~0|+|none~0|none~1|+|none~0|none~1|nor_co' >>"$tmp/all.csv"   # a torn line
"$mn" score --all --out "$tmp/all.csv" --max 2 $fast 2>"$tmp/err"; rc=$?
cat "$tmp/err" | sed 's/^/# /'
check "resuming says how many rows were there" grep -q 'resuming: 3 of 15625' "$tmp/err"
check "after resuming: header + 5 rows, the torn line dropped" [ "$(wc -l <"$tmp/all.csv")" -eq 6 ]
check "no arch twice" [ "$(cut -d, -f1 "$tmp/all.csv" | sort | uniq -d | wc -l)" -eq 0 ]
check "every row is complete" [ "$(grep -c '^|[^,]*|,[0-9.e+-]*,[0-9.e+-]*$' "$tmp/all.csv")" -eq 5 ]
echo 'something,else' >"$tmp/other.csv"
"$mn" score --all --out "$tmp/other.csv" --max 1 $fast 2>"$tmp/err"; rc=$?
check "a foreign file is refused, not appended to" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/other.csv') -eq 1 ]"
tap_done
