#!/bin/sh
# micronas score: per-arch output and JSON, determinism, and the resumable
# --all CSV (in chunks with --max), at small settings.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
. "$MN_TOP_SRCDIR/tests/lib/proc.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fast="--batch 8 --repeat 1 --ntk-grad fixed-stats --threads 2 --az-channels 4 --az-cells 1"
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
"$mn" score "$A1" "$A2" $fast --json --proxies estimate >"$tmp/e" 2>/dev/null; rc=$?
check "--proxies estimate: NWOT, SWAP and ZiCo null on every line" \
	sh -c "[ $rc -eq 0 ] && [ \$(grep -c '\"nwot\":null,\"swap\":null,\"zico\":null,' '$tmp/e') -eq 2 ]"
check "...and every other value, the estimate included, as with all of them" \
	sh -c "[ \"\$(sed 's/,\"nwot\".*,\"estimate\"/,\"estimate\"/' '$tmp/e')\" = \"\$(sed 's/,\"nwot\".*,\"estimate\"/,\"estimate\"/' '$tmp/a')\" ]"
"$mn" score "$A1" $fast --proxies estimate >"$tmp/t" 2>/dev/null; rc=$?
# The table's columns: arch, the 9 proxies (nwot, swap, zico 7th to 9th), the estimate.
check "--proxies estimate, table: '-' where NWOT, SWAP and ZiCo would be, numbers elsewhere" \
	sh -c "[ $rc -eq 0 ] && awk 'NR > 1 && NF == 11 && \$8 == \"-\" && \$9 == \"-\" && \$10 == \"-\" && \$2 + 0 == \$2 { n++ } END { exit n != 1 }' '$tmp/t'"
"$mn" score "$A1" $fast --json --seed 9 >"$tmp/c" 2>/dev/null
check "another seed, other scores" sh -c "! grep -qF \"\$(head -n 1 '$tmp/c')\" '$tmp/a'"
"$mn" score '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|' 2>"$tmp/err"; rc=$?
check "a malformed arch exits 1 with its column" sh -c "[ $rc -eq 1 ] && grep -q 'column' '$tmp/err'"
"$mn" score --all 2>/dev/null; rc=$?
check "--all without --out is a usage error" [ $rc -eq 2 ]
"$mn" score "$A2" $fast --max 1 >"$tmp/out" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "--max with arch strings (no --all): a usage error naming --all, nothing scored" \
	sh -c "[ $rc -eq 2 ] && grep -q -- '--max goes with --all' '$tmp/err' && [ ! -s '$tmp/out' ]"

# SIGTERM mid-run (default settings: seconds an arch): the arch in flight
# is cut short, the archs scored are printed, exit 1 saying how many.
# The second counts from when score blocks SIGTERM (after the synthetic
# batch is made and said): sent before, the signal would end it by the
# default action.
"$mn" score "$A1" "$A2" "$A1" "$A2" "$A1" "$A2" >"$tmp/int" 2>"$tmp/err" &
pid=$!
wait_blocks_term $pid 120
sleep 1
kill -TERM $pid
wait $pid; rc=$?
sed 's/^/# /' "$tmp/err"
k=$(sed -n 's/.*interrupted: \([0-9]*\) of 6 archs scored.*/\1/p' "$tmp/err")
check "SIGTERM: exit 1, 'interrupted: K of 6 archs scored', the K archs printed" \
	sh -c "[ $rc -eq 1 ] && [ -n '$k' ] && [ '$k' -lt 6 ] && [ \$(grep -c '^|' '$tmp/int') -eq '$k' ]"

"$mn" score --all --out "$tmp/all.csv" --max 3 $fast 2>"$tmp/err"; rc=$?
check "--all --max 3 exits 0" [ $rc -eq 0 ]
rows() { grep -v '^#' "$1"; }
check "settings lines, then header + 3 rows" sh -c "[ \$(grep -c '^# ' '$tmp/all.csv') -ge 8 ] && [ \$(grep -vc '^#' '$tmp/all.csv') -eq 4 ]"
check "the settings lines record the seed and the batch" sh -c "grep -qx '# seed: 0' '$tmp/all.csv' && grep -qx '# batch: 8' '$tmp/all.csv'"
check "the header starts arch,ntk_cond,linear_regions" sh -c "grep -v '^#' '$tmp/all.csv' | head -n 1 | grep -q '^arch,ntk_cond,linear_regions'"
printf '|none~0|+|none~0|none~1|+|none~0|none~1|nor_co' >>"$tmp/all.csv"   # a torn line
"$mn" score --all --out "$tmp/all.csv" --max 2 $fast 2>"$tmp/err"; rc=$?
cat "$tmp/err" | sed 's/^/# /'
check "resuming says how many rows were there" grep -q 'resuming: 3 of 15625' "$tmp/err"
check "after resuming: header + 5 rows, the torn line dropped" [ "$(rows "$tmp/all.csv" | wc -l)" -eq 6 ]
check "no arch twice" [ "$(rows "$tmp/all.csv" | cut -d, -f1 | sort | uniq -d | wc -l)" -eq 0 ]
# A proxy of a degenerate cell (no path from input to output) is nan or -inf
# (AZ-NAS's trainability, NWOT's log-determinant): written as such.
check "every row is complete (the header's fields, numbers after the arch)" sh -c "grep -v '^#' '$tmp/all.csv' | awk -F, 'NR == 1 { n = NF; next } NF != n || \$1 !~ /^[|].*[|]\$/ { bad = 1 } { for (i = 2; i <= NF; i++) if (\$i !~ /^(-?[0-9.e+-]+|nan|-?inf)\$/) bad = 1 } END { exit bad }'"
cp "$tmp/all.csv" "$tmp/keep.csv"
"$mn" score --all --out "$tmp/all.csv" --max 2 $fast --seed 7 2>"$tmp/err"; rc=$?
cat "$tmp/err" | sed 's/^/# /'
check "resuming with another seed is refused (exit 1, naming the seed), the file untouched" \
	sh -c "[ $rc -eq 1 ] && grep -q 'seed 0, not 7' '$tmp/err' && cmp -s '$tmp/all.csv' '$tmp/keep.csv'"
"$mn" score --all --out "$tmp/all.csv" --max 2 --batch 9 --repeat 1 --ntk-grad fixed-stats 2>"$tmp/err"; rc=$?
check "resuming with another batch is refused" sh -c "[ $rc -eq 1 ] && grep -q 'batch 8, not 9' '$tmp/err'"
"$mn" score --all --out "$tmp/all.csv" --max 2 --repeat 1 --ntk-grad fixed-stats 2>"$tmp/err"; rc=$?
check "without --batch, score's batch is search's and the atlas's, MicroNAS's 32" \
	sh -c "[ $rc -eq 1 ] && grep -q 'batch 8, not 32' '$tmp/err'"
sed 's/^\(|[^,]*|\),[^,]*,/\1,oops,/' "$tmp/keep.csv" >"$tmp/bad.csv"
"$mn" score --all --out "$tmp/bad.csv" --max 1 $fast 2>"$tmp/err"; rc=$?
check "a malformed row is refused with its line, not counted as done" \
	sh -c "[ $rc -eq 1 ] && grep -q 'bad.csv:13: malformed row' '$tmp/err'"
echo 'something,else' >"$tmp/other.csv"
"$mn" score --all --out "$tmp/other.csv" --max 1 $fast 2>"$tmp/err"; rc=$?
check "a foreign file is refused, not appended to" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/other.csv') -eq 1 ]"
# A score file given to search --method atlas (same settings but the order)
# is refused naming the command each needs, not "order index, not seeded".
"$mn" search --method atlas $fast --atlas "$tmp/keep.csv" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "search --atlas of a score --all file: refused naming score --all and micronas atlas" \
	sh -c "[ $rc -eq 1 ] && grep -q 'written by micronas score --all (archs in index order); this needs a file written by micronas atlas' '$tmp/err'"
tap_done
