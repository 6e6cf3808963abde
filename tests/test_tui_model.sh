#!/bin/sh
# The TUI's trained-weights workflow driven in tmux on the emulated board
# carrying a deployed model: --weights shows the file in the status, v
# without an arch says how to give one, the weights form (m) takes the arch,
# v then runs the deployed int8 model in the background (the Model line and
# the log: every image bit-exact with the host reference, SRAM as
# estimated), v then x cancels it, other calibration (another model) and
# weights or an int8 model file naming another arch are refused in one
# line naming the fix, the int8 model file in the form makes the other
# calibration's v bit-exact again, weights exported for another network are
# refused naming the preset to pick, a bad --weights or --model ends the TUI
# before the screen in one line, q exits 0.
#
# A tiny network (C=8, N=1) keeps the model's firmware build short.  Missing
# tmux, QEMU or the cross compiler fail the test naming the Debian package.
mn="$MN_TOP_BUILDDIR/micronas"
top="$MN_TOP_SRCDIR"
. "$top/tests/tap.sh"
# shellcheck source=tests/lib/tmux.sh
. "$top/tests/lib/tmux.sh"
# shellcheck source=tests/lib/qemu.sh
. "$top/tests/lib/qemu.sh"
tmux_present || tap_finish
qemu_present || tap_finish
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
	check "cross compiler present (else: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)" false
	tap_finish
fi
check "tmux, QEMU and the cross compiler present" true

tmux_begin emu_stop

A='|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'
B='|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'
# The shipped preset at C=8, N=1, estimating with the built-in cycle model.
sed -e 's/^channels = .*/channels = 8/' -e 's/^cells = .*/cells = 1/' -e '/^latency_table/d' \
	"$top/presets/nucleo-f746zg.ini" >"$tmp/tiny.ini"
"$MN_TOP_BUILDDIR/tests/test_deploy" "$tmp/w.safetensors" >/dev/null 2>&1
check "random weights of arch A at C=8 N=1 written (test_deploy)" [ -s "$tmp/w.safetensors" ]
# The same tensors, with metadata naming arch B (as model.py writes it).
python3 - "$tmp/w.safetensors" "$tmp/wb.safetensors" "$B" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
h["__metadata__"] = {"format": "micronas-folded-1", "arch": sys.argv[3]}
hb = json.dumps(h).encode()
hb += b" " * (-len(hb) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
PY
check "the same weights naming arch B in their metadata" [ -s "$tmp/wb.safetensors" ]
# ...and naming arch A with another network (C=16 N=5), as model.py writes it.
python3 - "$tmp/w.safetensors" "$tmp/wc.safetensors" "$A" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
h["__metadata__"] = {"format": "micronas-folded-1", "arch": sys.argv[3], "channels": "16",
                     "cells": "5", "resolution": "32", "input_channels": "3", "classes": "10"}
hb = json.dumps(h).encode()
hb += b" " * (-len(hb) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])
PY
check "the same weights saying they are for C=16 N=5" [ -s "$tmp/wc.safetensors" ]

"$mn" deploy "$tmp/w.safetensors" "$A" --preset "$tmp/tiny.ini" -o "$tmp/out" >"$tmp/dep" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/dep" "$tmp/err"
check "deploy writes the emulated board's image" \
	sh -c "[ $rc -eq 0 ] && [ -s '$tmp/out/firmware/qemu-mps2-an500/fw.elf' ]"

emu_start --socket "$tmp/uart" --firmware "$tmp/out/firmware/qemu-mps2-an500/fw.elf"
check "the emulated board runs the model's image ($(cat "$tmp/emu.err"))" [ -n "$port" ]
[ -n "$port" ] || tap_finish

# form_v WEIGHTS TABS VALUE: the weights form with WEIGHTS in its first
# field and VALUE in the field TABS further down, applied; then v.
form_v() {
	T send-keys -t m m
	wait_for m "Trained weights for v" 10
	T send-keys -t m C-u
	T send-keys -t m -l "$1"
	fv_i=0
	while [ $fv_i -lt "$2" ]; do T send-keys -t m Tab; fv_i=$((fv_i + 1)); done
	T send-keys -t m C-u
	T send-keys -t m -l "$3"
	T send-keys -t m Enter
	sleep 0.5
	T send-keys -t m v
}

run="cd '$tmp' && env $envs LANG=C.UTF-8 LC_ALL=C.UTF-8 '$mn' tui --preset '$tmp/tiny.ini' --threads 1 --no-extend --port '$port' --weights '$tmp/w.safetensors' --images 16 --log '$tmp/live.log'; echo TUI-EXIT=\$?; sleep 600"
T new-session -d -s m -x 200 -y 40 "$run"
wait_show m "board .*qemu-mps2-an500 fw [0-9]" 60 "start: weights loaded, board connected"
ok=$?
check "the status shows the board and the weights loaded by --weights" \
	sh -c "[ $ok -eq 0 ] && grep -q 'model w.safetensors' '$tmp/screen'"

# No search run, no arch in the form or the file: v says how to give one.
T send-keys -t m v
wait_show m "no arch for these weights" 10 "v without an arch"
ok=$?
check "v without an arch names the fix (s, or the arch in the form)" [ $ok -eq 0 ]

# The form: the weights, the arch, the calibration count.
T send-keys -t m m
wait_show m "Trained weights for v" 10 "the weights form"
ok=$?
check "m opens the weights form with the file loaded" \
	sh -c "[ $ok -eq 0 ] && grep -q 'w.safetensors' '$tmp/screen' && grep -q 'calibration images' '$tmp/screen' && grep -Eq 'images run on the board.*16' '$tmp/screen'"
T send-keys -t m Tab
T send-keys -t m -l "$A"
T send-keys -t m Enter
wait_for m "weights .*w.safetensors loaded" 10
check "the form loads the weights with the arch" [ $? -eq 0 ]

T send-keys -t m v
wait_show m "int8 exact [0-9]+/[0-9]+" 180 "the deployed model validated"
ok=$?
check "v runs the deployed model (--images 16): every image bit-exact with the host int8 reference" \
	sh -c "[ $ok -eq 0 ] && grep -q 'int8 exact 16/16' '$tmp/screen'"
check "the Model line: latency beside the estimate, SRAM equal to the memory model's" \
	sh -c "grep -Eq 'Model +[0-9.]+ ms, est [0-9.]+ ms, err [-+]?[0-9.]+%  SRAM ([0-9.]+)/\\1 KB' '$tmp/screen'"
check "the log has the result (latency, SRAM, bit-exact count, top-1 agreement with float and its 95% interval)" \
	grep -Eq "validated the deployed model .*w.safetensors .*latency measured [0-9.]+ ms \(median of 16 images\), estimated [0-9.]+ ms.*peak SRAM.*int8 16/16 bit-exact with the host, top-1 agrees with float on [0-9]+/16 \([0-9.]+-[0-9.]+% at 95%\)" "$tmp/live.log"

# v then x: cancelled (the TUI's next loop sees the job before x arrives).
T send-keys -t m v
T send-keys -t m x
log_wait "board model validation cancelled" 60
check "x cancels the model validation" [ $? -eq 0 ]

# Other calibration, other model: the board's is refused in one line.
T send-keys -t m m
wait_for m "Trained weights for v" 10
T send-keys -t m Tab Tab C-u
T send-keys -t m -l 16
T send-keys -t m Enter
sleep 0.5
T send-keys -t m v
log_wait "board model validation failed" 60
grep "board model validation failed" "$tmp/live.log" | sed 's/^/# /'
check "a board carrying another model is refused in one line naming the image to run" \
	sh -c "grep 'board model validation failed' '$tmp/live.log' | grep -q 'carries another model.*flash the image.*emulate --firmware'"

# The same count with deploy's int8 model file in the form (a model deployed
# elsewhere): v runs the file's values, which are the board's.  A weights
# file in that field is refused in the form first.
T send-keys -t m m
wait_for m "Trained weights for v" 10
T send-keys -t m Tab Tab Tab Tab C-u
T send-keys -t m -l "$tmp/w.safetensors"
T send-keys -t m Enter
wait_show m "not a micronas int8 model file" 10 "a weights file as the int8 model"
ok=$?
check "the form refuses a weights file as the int8 model, naming the file to give" \
	sh -c "[ $ok -eq 0 ] && grep -q 'give the' '$tmp/screen'"
T send-keys -t m C-u
T send-keys -t m -l "$tmp/out/model.int8.safetensors"
T send-keys -t m Enter
log_wait "calibration 16 images, 16 run, int8 model .*model.int8.safetensors" 10
ok=$?
wait_for m "model w.safetensors \\(\\+int8\\)" 10
check "the form loads the int8 model file with the weights (calibration 16); the status says so" \
	sh -c "[ $ok -eq 0 ] && grep -q 'model w.safetensors (+int8)' '$tmp/screen'"
T send-keys -t m v
exact_runs() { [ "$(grep -c 'int8 16/16 bit-exact with the host' "$tmp/live.log")" -ge 2 ]; }
poll 180 exact_runs
ok=$?
wait_show m "Board  v runs the deployed model" 10 "the int8 model file validated"
check "v with the int8 model file: the board's model, every image bit-exact again, no failure shown" \
	sh -c "[ $ok -eq 0 ] && grep -q 'int8 exact 16/16' '$tmp/screen' && ! grep -q 'failed' '$tmp/screen'"

# Weights naming another arch than the one asked for: one line.
form_v "$tmp/wb.safetensors" 2 64
wait_show m "the weights are for c3 \\| -- c1 \\| ap sk c3, the arch given is c3 \\| sk c1 \\| ap sk c3: load" 10 "weights of another arch"
ok=$?
check "weights naming another arch are refused in one line" \
	sh -c "[ $ok -eq 0 ] && grep -q 'not validated: the weights .*wb.safetensors are for .*none~0' '$tmp/live.log'"

# The int8 model file (deployed for A) with arch B given: one line.
form_v "$tmp/w.safetensors" 1 "$B"
wait_show m "the int8 model is for c3 \\| sk c1 \\| ap sk c3, the arch given is c3 \\| -- c1 \\| ap sk c3: give" 10 "an int8 model of another arch"
ok=$?
check "an int8 model file of another arch than the one given is refused in one line" \
	sh -c "[ $ok -eq 0 ] && grep -q 'not validated: the int8 model .*model.int8.safetensors is for .*skip_connect~0' '$tmp/live.log'"

# Weights exported for another network: the TUI takes no shape flags, so
# its refusal names the preset (P) instead.
form_v "$tmp/wc.safetensors" 1 "$A"
wait_show m "are for C=16 N=5 32x32x3, 10 classes, this session's network is C=8 N=1 32x32x3, 10 classes: pick a preset" 10 "weights of another network"
ok=$?
check "weights exported for another network are refused naming both networks and P, not command-line flags" \
	sh -c "[ $ok -eq 0 ] && ! grep -q 'give those flags' '$tmp/screen'"

T send-keys -t m q
wait_for m "TUI-EXIT=" 20
check "q exits 0" grep -q "TUI-EXIT=0" "$tmp/screen"

# A weights file that cannot be read ends the TUI before the screen.
T new-session -d -s b -x 160 -y 10 "cd '$tmp' && env $envs '$mn' tui --preset '$tmp/tiny.ini' --no-extend --weights '$tmp/nope.safetensors'; echo TUI-EXIT=\$?; sleep 600"
wait_for b "TUI-EXIT=" 20
show "bad --weights" "$tmp/screen"
check "a bad --weights: exit 1, one line naming the file" \
	sh -c "grep -q 'TUI-EXIT=1' '$tmp/screen' && grep -c 'micronas tui: --weights: .*nope.safetensors' '$tmp/screen' | grep -qx 1"

# --model with a file that is not an int8 model, and --model alone.
T new-session -d -s c -x 250 -y 10 "cd '$tmp' && env $envs '$mn' tui --preset '$tmp/tiny.ini' --no-extend --weights '$tmp/w.safetensors' --model '$tmp/w.safetensors'; echo TUI-EXIT=\$?; sleep 600"
wait_for c "TUI-EXIT=" 20
show "bad --model" "$tmp/screen"
check "a --model that is not an int8 model: exit 1, one line naming it and the file to give" \
	sh -c "grep -q 'TUI-EXIT=1' '$tmp/screen' && grep -c 'micronas tui: --model: .*w.safetensors: not a micronas int8 model file.*model.int8.safetensors' '$tmp/screen' | grep -qx 1"
"$mn" tui --model "$tmp/out/model.int8.safetensors" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "--model without --weights: usage error (2) in one line" \
	sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/e') -eq 1 ] && grep -q 'goes with --weights' '$tmp/e'"
tap_finish
