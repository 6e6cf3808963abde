#!/bin/sh
# micronas cost from the outside: output, JSON, exit codes, positioned errors.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
A1='|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
A2='|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'

"$mn" cost "$A1" "$A2" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "cost exits 0" [ $rc -eq 0 ]
check "table shows 188.66241 MFLOPs" grep -q ' 188.66241 ' "$tmp/out"
check "table shows 0.372346 M params" grep -q ' 0.372346 ' "$tmp/out"

"$mn" cost --json "$A2" >"$tmp/json"; rc=$?
check "json exits 0" [ $rc -eq 0 ]
check "json has the five keys" grep -q '^{"arch":"|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|","flops_m":51.036810,"params_m":0.372346,"flash_kb":[0-9.]*,"sram_kb":[0-9.]*}$' "$tmp/json"
check "json: one line per arch" [ "$("$mn" cost --json "$A1" "$A2" | wc -l)" -eq 2 ]

"$mn" cost '|nor_conv_3x3~0|+|none~0|conv_3x3~1|+|none~0|none~1|none~2|' >"$tmp/out" 2>"$tmp/err"; rc=$?
check "malformed arch exits 1" [ $rc -eq 1 ]
check "error names column 26 and the bad op" grep -q "at column 26: unknown op 'conv_3x3'" "$tmp/err"
check "error is one line" [ "$(wc -l <"$tmp/err")" -eq 1 ]
check "nothing printed on stdout for a bad batch" [ ! -s "$tmp/out" ]

"$mn" cost '' 2>"$tmp/err"; rc=$?
check "empty arch exits 1 with a reason" sh -c "[ $rc -eq 1 ] && grep -q 'empty arch string' '$tmp/err'"
"$mn" cost --channels x "$A1" 2>"$tmp/err"; rc=$?
check "bad --channels is a usage error (2)" sh -c "[ $rc -eq 2 ] && grep -q -- '--channels needs a whole number' '$tmp/err'"
"$mn" cost --resolution 49x "$A1" 2>"$tmp/err"; rc=$?
check "resolution 49x is refused (2), naming the syntax" sh -c "[ $rc -eq 2 ] && grep -q 'needs R or HxW' '$tmp/err'"
"$mn" cost --resolution 49x10 --json "$A1" >"$tmp/a" && "$mn" cost --resolution 10x49 --json "$A1" >"$tmp/b"
check "49x10 and 10x49 cost the same" cmp -s "$tmp/a" "$tmp/b"
"$mn" cost --resolution 32x32 --json "$A1" >"$tmp/a" && "$mn" cost --resolution 32 --json "$A1" >"$tmp/b"
check "32x32 is 32" cmp -s "$tmp/a" "$tmp/b"
"$mn" cost --bogus "$A1" 2>"$tmp/err"; rc=$?
check "unknown option exits 2" [ $rc -eq 2 ]
"$mn" cost 2>"$tmp/err"; rc=$?
check "no arch exits 2" [ $rc -eq 2 ]
"$mn" frobnicate 2>"$tmp/err"; rc=$?
check "unknown command exits 2" [ $rc -eq 2 ]
"$mn" cost --help >"$tmp/out"; rc=$?
check "cost --help exits 0 and documents --json" sh -c "[ $rc -eq 0 ] && grep -q -- '--json' '$tmp/out'"
"$mn" --version >"$tmp/out"; rc=$?
check "--version prints the version" sh -c "[ $rc -eq 0 ] && grep -q '^micronas [0-9]' '$tmp/out'"
"$mn" --help >"$tmp/out"; rc=$?
check "--help lists cost" sh -c "[ $rc -eq 0 ] && grep -q '^  cost' '$tmp/out'"
"$mn" cost --channels 8 --cells 1 --resolution 16 --classes 100 --json '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|' >"$tmp/out"
check "shape flags change the result (0.517348 MFLOPs)" grep -q '"flops_m":0.517348' "$tmp/out"
# A result that cannot reach its reader: exit 1 and one line saying why.
"$mn" cost '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|' >/dev/full 2>"$tmp/err"; rc=$?
check "stdout on a full disk: exit 1, one line naming it ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'cannot write to standard output: No space left on device' '$tmp/err'"
tap_done
