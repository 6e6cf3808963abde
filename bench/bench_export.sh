#!/bin/sh
# The loop from pick to int8 model (make bench): export the MicroNAS pick,
# train it briefly on the CIFAR-10 subset with model.py (the NAS-Bench-201
# recipe; MN_BENCH_EPOCHS epochs, default 3), deploy it to int8 and report
# the training time, the float and int8 accuracies on held-out images, the
# int8/float top-1 agreement and the deploy time.  Needs ../shared and a
# python3 with torch (Debian python3-torch).
set -e
mn="$MN_TOP_BUILDDIR/micronas"
data="$MN_TOP_SRCDIR/../shared/data/cifar10/data_batch_subset.bin"
epochs=${MN_BENCH_EPOCHS:-3}
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
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# 4660 images: the first 4000 train, the last 660 are held out (calibration
# uses the first 64 of them, the agreement and accuracies the other 596).
head -c $((3073 * 4000)) "$data" >"$tmp/train.bin"
tail -c $((3073 * 660)) "$data" >"$tmp/held.bin"
"$mn" export "$A" $net -o "$tmp" >/dev/null
echo "arch $A (C=$C N=$N, CIFAR-10 subset: 4000 train, 660 held out), $epochs epochs"
t0=$(date +%s.%N)
"$py" "$tmp/model.py" --data "$tmp/train.bin" --test "$tmp/held.bin" --epochs "$epochs" \
	--threads 2 -o "$tmp/w.safetensors"
t1=$(date +%s.%N)
echo "training: $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s wall"
t0=$(date +%s.%N)
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/held.bin" --calib 64 --eval 596 -o "$tmp/out"
t1=$(date +%s.%N)
echo "deploy (with 596 int8 + float evaluations): $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s wall"
t0=$(date +%s.%N)
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/held.bin" --calib 64 --eval 0 -o "$tmp/out" >/dev/null
t1=$(date +%s.%N)
echo "deploy alone (calibration on 64 images, C sources): $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s wall"
