#!/bin/sh
# The memory model and the latency table against the emulated boards at
# inputs other than CIFAR's 32x32x3: 96x96 RGB (Visual Wake Words), 49x10x1
# (keyword spotting's MFCC image) and 48x48x1 (small grayscale images).  On
# both targets (the M7 image on QEMU mps2-an500, the M4 image on mps2-an386)
# `micronas profile` measures a table at the preset's input and `micronas
# validate` reports the firmware's measured peak SRAM, which must equal the
# memory model's and `micronas cost`'s, with the table's estimate within 2%
# of the measured latency.  96x96x3 travels in RUN_ARCH's 24-byte form, the
# others in the 28-byte form (fw-profiler/PROTOCOL.md).
# A missing QEMU or firmware fails here, as in test_board_cli.sh.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
# shellcheck source=tests/lib/qemu.sh
. "$MN_TOP_SRCDIR/tests/lib/qemu.sh"
emu_begin

A='|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'
B='|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|'
C='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'

# net TARGET NAME CHANNELS RESOLUTION INPUT-CHANNELS CLASSES: profile at
# that input, validate A B C, compare with the model and cost.  The channels
# fit the board's arena (the M4's 128 KB SRAM holds less).
net() {
	tg=$1 name=$1-$2 ch=$3 res=$4 ic=$5 k=$6
	cat >"$tmp/$name.ini" <<EOT
[network]
channels = $ch
cells = 1
resolution = $res
input_channels = $ic
classes = $k
EOT
	what="$tg: $res input, $ic channel(s), C=$ch"
	timeout 300 "$mn" profile --port "$port" --preset "$tmp/$name.ini" -o "$tmp/$name-lat.ini" \
		--repeats 3 >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ "$ic" = 3 ]; then icl=0; else icl=1; fi
	check "$what: profile writes a table for the input ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && grep -q '^resolution = $res\$' '$tmp/$name-lat.ini' &&
			[ \$(grep -c '^input_channels = $ic\$' '$tmp/$name-lat.ini') -eq $icl ]"
	timeout 300 "$mn" validate --port "$port" --preset "$tmp/$name.ini" \
		--latency-table "$tmp/$name-lat.ini" --json "$A" "$B" "$C" >"$tmp/val.json" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/val.json"
	check "$what: validate 3 archs ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$tmp/val.json') -eq 3 ]"
	"$mn" cost --channels "$ch" --cells 1 --resolution "$res" --input-channels "$ic" --classes "$k" \
		--json "$A" "$B" "$C" >"$tmp/cost.json"
	sed 's/.*"measured_sram_kb":\([0-9.]*\),"estimated_sram_kb":\([0-9.]*\),.*/\1 \2/' "$tmp/val.json" >"$tmp/sram"
	sed 's/.*"sram_kb":\([0-9.]*\)}$/\1/' "$tmp/cost.json" | paste "$tmp/sram" - >"$tmp/sram3"
	check "$what: measured peak SRAM = the model's = cost's, KB ($(tr '\n\t' '  ' <"$tmp/sram3"))" \
		sh -c "[ \$(wc -l <'$tmp/sram3') -eq 3 ] && awk 'NF != 3 || \$1 != \$2 || \$2 != \$3 { bad = 1 } END { exit bad }' '$tmp/sram3'"
	check "$what: latency estimate within 2% ($(sed 's/.*"error_pct":\([-0-9.]*\).*/\1/' "$tmp/val.json" | tr '\n' ' '))" \
		sh -c "sed 's/.*\"error_pct\":\([-0-9.]*\).*/\1/' '$tmp/val.json' | awk '\$1 > 2 || \$1 < -2 { bad = 1 } END { exit bad || NR != 3 }'"
}

# target NAME EMULATE-ARGS CHANNELS: the three inputs on one emulated board.
target() {
	tg=$1 args=$2 ch=$3
	# shellcheck disable=SC2086
	if ! emu_start $args; then
		check "$tg: emulate starts: $(cat "$tmp/emu.err")" false
		return
	fi
	net "$tg" vww "$ch" 96 3 2
	net "$tg" kws "$ch" 49x10 1 12
	net "$tg" gray "$ch" 48 1 5
	emu_stop
}

target m7 "" 4
target m4 "--preset nucleo-f446re" 2

# A table measured on a grayscale stem does not estimate an RGB network.
sed 's/^input_channels = 1$/input_channels = 3/' "$tmp/m4-gray.ini" >"$tmp/rgb.ini"
"$mn" validate --port /dev/null --preset "$tmp/rgb.ini" --latency-table "$tmp/m4-gray-lat.ini" "$A" \
	>"$tmp/out" 2>"$tmp/err"; rc=$?
check "an RGB preset with a grayscale table: exit 1, one line naming the input channels ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'measured on 1 input channel, the network has 3' '$tmp/err'"
tap_done
