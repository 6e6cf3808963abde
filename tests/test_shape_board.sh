#!/bin/sh
# The memory model and the latency table against the emulated boards at
# 96x96 (Visual Wake Words' input): on both targets (the M7 image on QEMU
# mps2-an500, the M4 image on mps2-an386) `micronas validate` reports the
# firmware's measured peak SRAM, which must equal the memory model's and
# `micronas cost`'s, and the estimate from a table profiled at 96x96 must
# be within 2% of the measured latency.  49x10x1 (keyword spotting) cannot
# travel: RUN_ARCH carries one side and an RGB stem, so validate refuses it
# in one line before touching the board (the executor itself runs it:
# tests/test_shape_memory checks its peak against the model at 49x10x1).
# A missing QEMU or firmware fails here, as in test_board_cli.sh.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d)
emu_pid=
cleanup() {
	# Only the emulator this script started, by its pid.
	[ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

start_emulator() {
	: >"$tmp/emu.out"
	"$mn" emulate "$@" >"$tmp/emu.out" 2>"$tmp/emu.err" &
	emu_pid=$!
	i=0
	while [ $i -lt 200 ] && [ ! -s "$tmp/emu.out" ] && kill -0 "$emu_pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	port=$(head -n 1 "$tmp/emu.out")
	[ -n "$port" ]
}
stop_emulator() {
	kill -TERM "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
	emu_pid=
}

A='|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'
B='|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|'
C='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'

# board NAME EMULATE-ARGS CHANNELS: profile at 96x96, validate A B C, compare.
# The channels fit the board's arena (the M4's 128 KB SRAM holds less).
board() {
	name=$1 args=$2 ch=$3
	cat >"$tmp/$name.ini" <<EOT
[network]
channels = $ch
cells = 1
resolution = 96
classes = 2
EOT
	# shellcheck disable=SC2086
	if ! start_emulator $args; then
		check "$name: emulate starts: $(cat "$tmp/emu.err")" false
		return
	fi
	timeout 300 "$mn" profile --port "$port" --preset "$tmp/$name.ini" -o "$tmp/$name-lat.ini" \
		--repeats 3 >"$tmp/out" 2>"$tmp/err"; rc=$?
	check "$name: profile at 96x96, C=$ch ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && grep -q '^resolution = 96\$' '$tmp/$name-lat.ini'"
	timeout 300 "$mn" validate --port "$port" --preset "$tmp/$name.ini" \
		--latency-table "$tmp/$name-lat.ini" --json "$A" "$B" "$C" >"$tmp/val.json" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/val.json"
	check "$name: validate 3 archs at 96x96 ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$tmp/val.json') -eq 3 ]"
	"$mn" cost --channels "$ch" --cells 1 --resolution 96 --classes 2 --json "$A" "$B" "$C" >"$tmp/cost.json"
	sed 's/.*"measured_sram_kb":\([0-9.]*\),"estimated_sram_kb":\([0-9.]*\),.*/\1 \2/' "$tmp/val.json" >"$tmp/sram"
	sed 's/.*"sram_kb":\([0-9.]*\)}$/\1/' "$tmp/cost.json" | paste "$tmp/sram" - >"$tmp/sram3"
	check "$name: measured peak SRAM = the model's = cost's, KB ($(tr '\n\t' '  ' <"$tmp/sram3"))" \
		sh -c "[ \$(wc -l <'$tmp/sram3') -eq 3 ] && awk 'NF != 3 || \$1 != \$2 || \$2 != \$3 { bad = 1 } END { exit bad }' '$tmp/sram3'"
	check "$name: latency estimate within 2% ($(sed 's/.*"error_pct":\([-0-9.]*\).*/\1/' "$tmp/val.json" | tr '\n' ' '))" \
		sh -c "sed 's/.*\"error_pct\":\([-0-9.]*\).*/\1/' '$tmp/val.json' | awk '\$1 > 2 || \$1 < -2 { bad = 1 } END { exit bad || NR != 3 }'"
	stop_emulator
}

board m7 "" 4
board m4 "--preset nucleo-f446re" 2

# 49x10x1 cannot be carried by RUN_ARCH: one line, exit 1, the board untouched.
cat >"$tmp/kws.ini" <<'EOT'
[network]
channels = 4
cells = 1
resolution = 49x10
input_channels = 1
classes = 12
EOT
"$mn" validate --port /dev/null --preset "$tmp/kws.ini" "$A" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "validate at 49x10x1 exits 1 with one line naming RUN_ARCH ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'RUN_ARCH carries a square RGB' '$tmp/err'"
tap_done
