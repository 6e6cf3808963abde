#!/bin/sh
# micronas export: model.py runs under Debian's python3-torch, has micronas
# cost's parameter count, computes micronas's own network (train-mode and
# BN-folded, to 1e-4 on real images), and its main trains and saves weights
# micronas reads back.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
A1='|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
A2='|avg_pool_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|'

. "$MN_TOP_SRCDIR/tests/lib/python.sh"
python_with torch python3-torch || { tap_done; exit 1; }

# params_match LABEL FILE KEY COST-ARGS...: the parameter count model.py
# printed on FILE's "KEY N" line equals `micronas cost --json COST-ARGS`'s.
params_match() {
	label=$1 file=$2 key=$3
	shift 3
	want=$("$mn" cost --json "$@" | sed 's/.*"params_m":\([0-9.]*\).*/\1/')
	got=$(sed -n "s/^$key //p" "$file")
	gotm=$(awk "BEGIN{printf \"%.6f\", ${got:-0}/1e6}")
	check "$label params ($got) = micronas cost ($want M)" [ -n "$got" -a "$gotm" = "$want" ]
}

data="$MN_TOP_SRCDIR/../shared/data/cifar10/data_batch_subset.bin"
if [ -r "$data" ]; then
	imgs="$tmp/img.bin"; head -c $((3073 * 64)) "$data" >"$imgs"
else
	echo "# SKIP-NOTE ../shared/data/cifar10 is not present: generated images instead of CIFAR-10 ones"
	imgs=
fi

"$mn" export "$A1" -o "$tmp/d1" >"$tmp/out" 2>&1
check "export exits 0 and writes model.py" [ -s "$tmp/d1/model.py" ]
check "model.py imports torch and the standard library only" \
	sh -c "! grep -E '^(import|from) ' '$tmp/d1/model.py' | grep -vE '^import (argparse|ast|json|math|os|struct|sys|time|torch)\$|^import torch.nn( as nn)?\$|^import torch.nn.functional as F\$'"
# A Python without PyTorch (python -S: no site-packages, so no torch) gets
# one line naming the fix, not a traceback.
env -u PYTHONPATH "$py" -S -B "$tmp/d1/model.py" --help >/dev/null 2>"$tmp/notorch.err"; rc=$?
echo "# $(cat "$tmp/notorch.err")"
check "model.py without PyTorch: exit 1, one line naming python3-torch" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/notorch.err') -eq 1 ] && grep -q 'needs PyTorch.*apt-get install python3-torch' '$tmp/notorch.err'"
# The record size names the format, not the file name: CIFAR-10 records
# in a file named train.bin (CIFAR-100's name; bench_export.sh's split) are
# CIFAR-10 to model.py as to micronas.
mkdir -p "$tmp/c10"
"$py" -B -c "import sys; sys.path.insert(0, '$tmp/d1'); import model
open('$tmp/c10/train.bin', 'wb').write(bytes([9] + [7] * 3072 + [3] + [1] * 3072))
x, y = model.load_cifar(['$tmp/c10/train.bin'])
print(tuple(x.shape), y.tolist())" >"$tmp/c10.out" 2>&1
echo "# $(cat "$tmp/c10.out")"
check "model.py reads CIFAR-10 records named train.bin as CIFAR-10: 2 images, labels 9 and 3" \
	grep -qxF "(2, 3, 32, 32) [9, 3]" "$tmp/c10.out"
"$mn" export "$A1" --data "$tmp/c10/train.bin" -o "$tmp/d10" >/dev/null 2>"$tmp/c10.err"; rc=$?
check "micronas reads the same file as CIFAR-10: export --data gives 10 classes ($(head -c 200 "$tmp/c10.err"))" \
	sh -c "[ $rc -eq 0 ] && grep -qx 'CLASSES = 10' '$tmp/d10/model.py'"
# A smaller network with every op, for the forward comparison.
"$mn" export "$A2" --channels 8 --cells 2 -o "$tmp/d2" >/dev/null
"$py" -B "$MN_TOP_SRCDIR/tests/test_export_forward.py" "$tmp/d1" "$tmp/d2" "$tmp" $imgs >"$tmp/py.out" 2>&1
check "model.py builds, runs and saves weights" [ -s "$tmp/folded.safetensors" ]
sed 's/^/# /' "$tmp/py.out"
# The default preset's network (C=16, N=5) and the small one: parameters.
params_match model.py "$tmp/py.out" params_default "$A1"
params_match "C=8 N=2" "$tmp/py.out" params --channels 8 --cells 2 "$A2"
"$MN_TOP_BUILDDIR/tests/test_export_forward" "$tmp/raw.safetensors" "$tmp/folded.safetensors" \
	"$A2" 8 2 32 10 >"$tmp/fwd.out" 2>&1
check "logits equal micronas's float networks to 1e-4 (test_export_forward)" \
	sh -c "grep -q '^1\.\.' '$tmp/fwd.out' && ! grep -q '^not ok' '$tmp/fwd.out'"
sed 's/^/# /' "$tmp/fwd.out"

# 49x10, one input channel, 12 classes: PyTorch's own conv arithmetic gives
# the last stage 13x3 (ceil(n/2) twice), the parameters are micronas cost's,
# and the logits equal micronas's float networks at that shape.
"$mn" export "$A2" --channels 4 --cells 1 --resolution 49x10 --input-channels 1 --classes 12 \
	-o "$tmp/d3" >"$tmp/out3" 2>&1
check "export --resolution 49x10 --input-channels 1 says so" grep -q '49x10x1 classes=12' "$tmp/out3"
"$py" -B "$MN_TOP_SRCDIR/tests/test_export_shape.py" "$tmp/d3" "$tmp" >"$tmp/py3.out" 2>&1
sed 's/^/# /' "$tmp/py3.out"
check "PyTorch's last stage of 49x10 is 13x3" grep -qx 'feature 13x3' "$tmp/py3.out"
params_match 49x10x1 "$tmp/py3.out" params --channels 4 --cells 1 --resolution 49x10 \
	--input-channels 1 --classes 12 "$A2"
"$MN_TOP_BUILDDIR/tests/test_export_forward" "$tmp/shape_raw.safetensors" "$tmp/shape_folded.safetensors" \
	"$A2" 4 1 49x10 12 1 >"$tmp/fwd3.out" 2>&1
check "49x10x1 logits equal micronas's float networks to 1e-4" \
	sh -c "grep -q '^1\.\.' '$tmp/fwd3.out' && ! grep -q '^not ok' '$tmp/fwd3.out'"
sed 's/^/# /' "$tmp/fwd3.out"

# main: one tiny training step (batch 8), weights micronas reads back.
check "model.py main trains one step and saves" [ -s "$tmp/trained.safetensors" ]
"$mn" deploy --check-only "$tmp/trained.safetensors" "$A2" --channels 8 --cells 2 >"$tmp/chk" 2>&1
check "micronas reads the trained weights as this arch's" grep -q 'match' "$tmp/chk"
"$mn" deploy --check-only "$tmp/trained.safetensors" "$A1" --channels 8 --cells 2 >"$tmp/chk" 2>"$tmp/err"; rc=$?
check "another arch is refused (exit 1), naming the first mismatch in one line" \
	sh -c "[ $rc -eq 1 ] && grep -q \"tensor 'cells.0.edge0.weight'\" '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"
# Own data: model.py trains on a NumPy set (uint8 NHWC, and float32 NHW at
# 49x10), normalised with the set's own statistics, which it keeps in the
# weights; deploy normalises its images with them.  That micronas computes
# the same statistics from the same file is what "the data's own agree"
# checks; another set's differ and are not used.
gen="$MN_TOP_BUILDDIR/tests/gen_data"
check "generated two 16x16 RGB sets (48 and 40 images, 3 classes, the same first 40)" \
	sh -c "'$gen' npy '$tmp/own.npy' 48 16 16 3 u8 && '$gen' npy '$tmp/other.npy' 40 16 16 3 u8"
net="--channels 4 --cells 1 --resolution 16 --classes 3"
"$mn" export "$A2" $net -o "$tmp/d4" >/dev/null
"$py" -B "$tmp/d4/model.py" --data "$tmp/own.npy" --test "$tmp/other.npy" --epochs 1 --batch 16 \
	--threads 1 -o "$tmp/own.safetensors" >"$tmp/own.out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/own.out"
check "model.py trains on a .npy set and saves" sh -c "[ $rc -eq 0 ] && [ -s '$tmp/own.safetensors' ] && grep -q 'test [0-9.]*%' '$tmp/own.out'"
# Without --threads, every CPU the process may use (torch alone may take
# one): as many as nproc says, and one when confined to one CPU.
for cpus in "all CPUs" "one CPU"; do
	run="$py"; want=$(nproc)
	[ "$cpus" = "one CPU" ] && { run="taskset -c 0 $py"; want=1; }
	$run -B "$tmp/d4/model.py" --data "$tmp/own.npy" --epochs 1 --batch 16 --max-steps 1 \
		-o "$tmp/thr.safetensors" >"$tmp/thr.out" 2>&1
	check "model.py without --threads, $cpus allowed: trains on $want ($(head -n 1 "$tmp/thr.out"))" \
		grep -q "on $want CPU threads*\$" "$tmp/thr.out"
done
check "the weights keep the input mean and std (3 channels)" \
	sh -c "head -c 4096 '$tmp/own.safetensors' | grep -aq '\"input_mean\":\"[^,\"]*,[^,\"]*,[^,\"]*\",\"input_std\"'"
"$mn" deploy "$tmp/own.safetensors" "$A2" $net --data "$tmp/own.npy" --calib 16 --eval 16 --no-firmware \
	-o "$tmp/dep4" >"$tmp/dep4.out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/dep4.out"
check "deploy on the training set: model.py's statistics are micronas's" \
	sh -c "[ $rc -eq 0 ] && grep -q \"training statistics (model.py's mean and std; the data's own agree)\" '$tmp/dep4.out'"
"$mn" deploy "$tmp/own.safetensors" "$A2" $net --data "$tmp/other.npy" --calib 16 --eval 16 --no-firmware \
	-o "$tmp/dep5" >"$tmp/dep5.out" 2>&1; rc=$?
check "deploy on another set scales it as in training, and says so" \
	sh -c "[ $rc -eq 0 ] && grep -q \"the data's own differ, so its images are scaled as in training\" '$tmp/dep5.out'"
# gen_data's sets share their first images (one seeded pattern), so both
# deploys calibrate on the same 16 images: scaled alike, they give the same
# model, although the two files' own statistics differ.
check "the same calibration images in another file give the same model.c" \
	cmp -s "$tmp/dep4/model.c" "$tmp/dep5/model.c"
# Bad metadata: one line naming the key.
for bad in "input_mean=1,x" "input_std=1,0,1" "input_mean=1,2"; do
	"$py" -B -c "import sys; sys.path.insert(0, '$tmp/d4'); import model
t, m = model.read_safetensors('$tmp/own.safetensors'); k, v = '$bad'.split('=')
m[k] = v
if k == 'input_mean' and v == '1,2': del m['input_std']
model.write_safetensors(t, '$tmp/bad.safetensors', m)"
	"$mn" deploy "$tmp/bad.safetensors" "$A2" $net --data "$tmp/own.npy" --no-firmware -o "$tmp/dep6" \
		>/dev/null 2>"$tmp/err"; rc=$?
	echo "# $(cat "$tmp/err")"
	case $bad in
	input_mean=1,x) want="metadata input_mean '1,x' is not 3 finite numbers" ;;
	input_std=*) want="metadata input_std '1,0,1' is not 3 finite numbers separated by commas, each above 0" ;;
	*) want="the metadata has input_mean but no input_std" ;;
	esac
	check "weights with metadata $bad: deploy exits 1, one line: $want" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -qF \"bad.safetensors: $want\" '$tmp/err'"
done
# 49x10 float32 frames of one channel (N x H x W), 12 classes.
check "generated a 49x10 float32 set of 12 classes" "$gen" npy "$tmp/kws.npy" 36 49 10 0 f32 12
net="--channels 4 --cells 1 --resolution 49x10 --input-channels 1 --classes 12"
"$mn" export "$A2" $net -o "$tmp/d5" >/dev/null
"$py" -B "$tmp/d5/model.py" --data "$tmp/kws.npy" --epochs 1 --batch 12 --threads 1 \
	-o "$tmp/kws.safetensors" >"$tmp/kws.out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/kws.out"
"$mn" deploy "$tmp/kws.safetensors" "$A2" $net --data "$tmp/kws.npy" --calib 16 --eval 16 --no-firmware \
	-o "$tmp/dep7" >"$tmp/dep7.out" 2>&1; rc2=$?
sed 's/^/# /' "$tmp/dep7.out"
check "49x10x1 float frames: model.py trains, deploy agrees on the statistics" \
	sh -c "[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q \"the data's own agree\" '$tmp/dep7.out'"
# The same weights without their shape flags: the refusal gives every flag
# of the file's network, from model.py's metadata (input_channels too).
"$py" -c "import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
m = json.loads(raw[8:8 + struct.unpack('<Q', raw[:8])[0]])['__metadata__']
assert (m['resolution'], m['input_channels'], m['classes']) == ('49x10', '1', '12'), m" \
	"$tmp/kws.safetensors" 2>"$tmp/err"
check "model.py's metadata names the input channels ($(tail -1 "$tmp/err"))" [ $? -eq 0 ]
"$mn" deploy "$tmp/kws.safetensors" "$A2" --channels 4 --cells 1 --check-only >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "49x10x1 weights deployed as 32x32x3: exit 1, one line giving --resolution 49x10 --input-channels 1 --classes 12" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q -- 'with --channels 4 --cells 1 --resolution 49x10 --input-channels 1 --classes 12: give those flags)' '$tmp/err'"
"$py" -B "$tmp/d4/model.py" --data "$tmp/kws.npy" --epochs 1 -o "$tmp/x.safetensors" >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "model.py on data of other input channels exits with one line giving --input-channels" \
	sh -c "[ $rc -ne 0 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'export with --input-channels 1' '$tmp/err'"

# An image folder: export --data takes the network's input from it and
# writes the decoded pixels beside model.py, which trains on them; deploy on
# the folder finds the statistics model.py kept equal to its own.
check "generated a 24x24 grayscale folder of 4 classes" "$gen" folder "$tmp/fold" 24 4 6 1
"$mn" export "$A2" --channels 4 --cells 1 --data "$tmp/fold" -o "$tmp/d6" >"$tmp/d6.out" 2>"$tmp/d6.err"; rc=$?
sed 's/^/# /' "$tmp/d6.out" "$tmp/d6.err"
check "export --data FOLDER: the network is 24x24x1, 4 classes, and the pixels are written as a NumPy set" \
	sh -c "[ $rc -eq 0 ] && grep -q 'C=4 N=1 24x24x1 classes=4' '$tmp/d6.out' && grep -q 'the 24 images of .*fold as a NumPy set' '$tmp/d6.out' && grep -q \"train: python3 .*model.py --data .*data.npy\" '$tmp/d6.out'"
"$py" -c "import numpy as np; x = np.load('$tmp/d6/data.npy'); y = np.load('$tmp/d6/data_labels.npy')
assert x.shape == (24, 24, 24, 1) and x.dtype == np.uint8 and y.shape == (24,) and sorted(set(y.tolist())) == [0, 1, 2, 3], (x.shape, x.dtype, y)" 2>"$tmp/err"
check "numpy reads data.npy (24 x 24 x 24 x 1 uint8) and its labels (classes 0..3) ($(tail -1 "$tmp/err"))" [ $? -eq 0 ]
"$py" -B "$tmp/d6/model.py" --data "$tmp/d6/data.npy" --epochs 1 --batch 8 --threads 1 \
	-o "$tmp/fold.safetensors" >/dev/null 2>&1; rc=$?
"$mn" deploy "$tmp/fold.safetensors" "$A2" --channels 4 --cells 1 --resolution 24 --input-channels 1 \
	--classes 4 --data "$tmp/fold" --calib 8 --eval 8 --no-firmware -o "$tmp/dep8" >"$tmp/dep8.out" 2>&1; rc2=$?
sed 's/^/# /' "$tmp/dep8.out"
check "model.py trains on it; deploy on the folder: the same statistics" \
	sh -c "[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q \"the data's own agree\" '$tmp/dep8.out'"

"$mn" export "$A1" 2>"$tmp/err"; rc=$?
check "export without -o is a usage error (2)" [ $rc -eq 2 ]
"$mn" export 'bad' -o "$tmp/x" 2>"$tmp/err"; rc=$?
check "export of a bad arch exits 1" [ $rc -eq 1 ]

# model.py's -o is checked before training: a missing directory, a file
# for a directory or a directory for the file ended the whole training in
# a traceback, the weights lost (and left OUT.tmp beside a directory).
: >"$tmp/afile"
for out in "$tmp/nodir/w.safetensors" "$tmp/afile/w.safetensors" "$tmp/d4"; do
	"$py" -B "$tmp/d4/model.py" --data "$tmp/own.npy" --epochs 1 --max-steps 1 --batch 16 \
		--threads 1 -o "$out" >"$tmp/o.out" 2>"$tmp/o.err"; rc=$?
	check "model.py -o $out: exit 2 before training, the error names -o ($(tail -n 1 "$tmp/o.err"))" \
		sh -c "[ $rc -eq 2 ] && ! grep -q '^training' '$tmp/o.out' && tail -n 1 '$tmp/o.err' | grep -q 'error: -o '"
done
# Numbers out of range are usage errors before training: --epochs 0 saved
# untrained weights as "trained", --batch 0 and --lr -1 ended in a
# traceback, negative --holdout/--threads/--max-steps passed as 0, and an
# empty --test was ignored.
for bad in "--epochs 0" "--batch 0" "--lr -1" "--weight-decay -1" "--holdout -1" "--threads -1" \
	"--max-steps -1" "--test"; do
	"$py" -B "$tmp/d4/model.py" --data "$tmp/own.npy" --max-steps 1 $bad -o "$tmp/bad.safetensors" \
		>"$tmp/o.out" 2>"$tmp/o.err"; rc=$?
	check "model.py $bad: exit 2 before training, the error names it ($(tail -n 1 "$tmp/o.err"))" \
		sh -c "[ $rc -eq 2 ] && ! grep -q '^training' '$tmp/o.out' && tail -n 1 '$tmp/o.err' | grep -q -- 'error: .*${bad%% *}'"
done
tap_done
