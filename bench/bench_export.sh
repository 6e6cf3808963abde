#!/bin/sh
# The loop from pick to int8 model on the board (make bench): export the
# MicroNAS pick, train it briefly on the CIFAR-10 subset with model.py (the
# NAS-Bench-201 recipe; MN_BENCH_EPOCHS epochs, default 3), deploy it to
# int8 and report the training time, the float and int8 accuracies and the
# int8/float top-1 agreement on held-out images, the deploy time (sources
# alone, then with both firmware images three ways), then run the deployed model on the emulated
# board: bit-exactness and latency against the profiled table's estimate.
# Needs ../shared, python3 with torch (Debian python3-torch), and for the
# board part arm-none-eabi-gcc and qemu-system-arm.
set -e
mn="$MN_TOP_BUILDDIR/micronas"
data="$MN_TOP_SRCDIR/../shared/data/cifar10/data_batch_subset.bin"
epochs=${MN_BENCH_EPOCHS:-3}
# MN_BENCH_SEEDS=K (default 1): before the board part, train K-1 more models
# (seeds 1..K-1, same recipe) and report each one's agreement and the
# pooled count, so one model's luck is told from the int8 model's rate.
seeds=${MN_BENCH_SEEDS:-1}
# The network size (default: the preset's C=16, N=5); smaller ones train
# in minutes on a shared 2-core machine.
C=${MN_BENCH_CHANNELS:-16}
N=${MN_BENCH_CELLS:-5}
net="--channels $C --cells $N"
A='|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'
if [ ! -r "$data" ]; then
	echo "bench_export: ../shared/data/cifar10 is not present: nothing to train on"
	exit 0
fi
py=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "bench_export: needs python3 with torch: apt-get install python3-torch"; exit 1; }
tmp=$(mktemp -d)
emu_pid=
trap '[ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }
# 4660 images: the first 4000 train, the last 596 are held out.  The
# activation ranges are calibrated on 64 training images (the
# representative set TFLite's converter asks for is training data); the
# deploy data file is those 64 followed by the 596 held-out ones.
head -c $((3073 * 4000)) "$data" >"$tmp/train.bin"
tail -c $((3073 * 596)) "$data" >"$tmp/held.bin"
head -c $((3073 * 64)) "$tmp/train.bin" >"$tmp/calib.bin"
cat "$tmp/calib.bin" "$tmp/held.bin" >"$tmp/deploy.bin"
"$mn" export "$A" $net -o "$tmp" >/dev/null
echo "arch $A (C=$C N=$N, CIFAR-10 subset: 4000 train, 596 held out), $epochs epochs"
t0=$(date +%s.%N)
"$py" "$tmp/model.py" --data "$tmp/train.bin" --test "$tmp/held.bin" --epochs "$epochs" \
	--threads 2 -o "$tmp/w.safetensors"
t1=$(date +%s.%N)
echo "training: $(secs $t0 $t1) s wall on $(nproc) cores ($(uptime | sed 's/.*load/load/'))"
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/deploy.bin" --calib 64 --eval 596 \
	--no-firmware -o "$tmp/out"
# Where the disagreements come from: each tensor group rounded alone in
# the float forward, with the ranges and the bias correction deploy uses
# (bench_quant.c).
"$MN_TOP_BUILDDIR/bench/bench_quant" "$tmp/w.safetensors" "$A" "$tmp/deploy.bin" "$C" "$N" 64 596
t0=$(date +%s.%N)
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/deploy.bin" --calib 64 --eval 0 \
	--no-firmware -o "$tmp/out" >/dev/null
t1=$(date +%s.%N)
echo "deploy, sources only (calibration on 64 images, model.c): $(secs $t0 $t1) s wall on $(nproc) cores"

# More training seeds: one deploy line each (its agreement with the 95%
# interval), then the pooled count over all seeds.
if [ "$seeds" -gt 1 ]; then
	agree() { sed -n 's/.*agreement \([0-9]*\)\/\([0-9]*\) .*/\1 \2/p'; }
	"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/deploy.bin" --calib 64 --eval 596 \
		--no-firmware -o "$tmp/out0" | agree >"$tmp/agree"
	sd=1
	while [ $sd -lt "$seeds" ]; do
		"$py" "$tmp/model.py" --data "$tmp/train.bin" --test "$tmp/held.bin" --epochs "$epochs" \
			--threads 2 --seed $sd -o "$tmp/w$sd.safetensors" | tail -n 2 | head -n 1
		"$mn" deploy "$tmp/w$sd.safetensors" "$A" $net --data "$tmp/deploy.bin" --calib 64 --eval 596 \
			--no-firmware -o "$tmp/out$sd" >"$tmp/dep$sd"
		echo "seed $sd: $(grep agreement "$tmp/dep$sd")"
		agree <"$tmp/dep$sd" >>"$tmp/agree"
		sd=$((sd + 1))
	done
	awk -v k="$seeds" '{a += $1; n += $2} END {printf "pooled over %d seeds: %d/%d agree (%.2f%%)\n", k, a, n, 100 * a / n}' "$tmp/agree"
fi
command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null || {
	echo "bench_export: no arm-none-eabi-gcc or qemu-system-arm: the board part is skipped"; exit 0; }
# The whole deploy, both firmware images included, three ways: with no
# cache to keep objects in (XDG_CACHE_HOME a file: every firmware object
# compiled), with an empty cache (started from the build's
# deploy-objects: deploy_fw.h), then again into another directory (the
# objects kept from the deploy before).
: >"$tmp/no-cache"
deploy_timed() { # XDG_CACHE_HOME OUT: the seconds of one deploy
	t0=$(date +%s.%N)
	XDG_CACHE_HOME="$1" "$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/deploy.bin" \
		--calib 64 --eval 0 -o "$2" | grep 'built in' >&2
	t1=$(date +%s.%N)
	secs $t0 $t1
}
tn=$(deploy_timed "$tmp/no-cache" "$tmp/out")
te=$(deploy_timed "$tmp/cache" "$tmp/out")
ta=$(deploy_timed "$tmp/cache" "$tmp/out2")
echo "deploy with both firmware images: $tn s compiling every object, $te s with an empty cache (the build's objects), $ta s again (the objects kept) wall on $(nproc) cores ($(uptime | sed 's/.*load/load/'))"
# start_emulator ARGS: the emulated board on a socket of its own.
n=0
start_emulator() {
	n=$((n + 1))
	: >"$tmp/emu.out"
	"$mn" emulate --socket "$tmp/uart$n" "$@" >"$tmp/emu.out" 2>"$tmp/emu.err" &
	emu_pid=$!
	i=0
	while [ $i -lt 300 ] && [ ! -s "$tmp/emu.out" ]; do sleep 0.1; i=$((i + 1)); done
	port=$(head -n 1 "$tmp/emu.out")
}
printf '[network]\nchannels = %s\ncells = %s\n' "$C" "$N" >"$tmp/net.ini"
start_emulator
"$mn" profile --port "$port" --preset "$tmp/net.ini" -o "$tmp/lat.ini" >/dev/null
kill -TERM "$emu_pid"; wait "$emu_pid" || true
start_emulator --firmware "$tmp/out/firmware/qemu-mps2-an500/fw.elf"
"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net --data "$tmp/deploy.bin" \
	--calib 64 --images 16 --latency-table "$tmp/lat.ini" 2>/dev/null
kill -TERM "$emu_pid"; wait "$emu_pid" || true
emu_pid=
