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

# Debian's torch is for Debian's python (a pyenv python3 may come first).
py=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
done
check "a python3 with torch (Debian: apt-get install python3-torch)" [ -n "$py" ]
[ -n "$py" ] || { tap_done; exit 1; }

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
	sh -c "! grep -E '^(import|from) ' '$tmp/d1/model.py' | grep -vE '^import (argparse|json|math|os|struct|sys|time|torch)\$|^import torch.nn( as nn)?\$|^import torch.nn.functional as F\$'"
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
"$mn" export "$A1" 2>"$tmp/err"; rc=$?
check "export without -o is a usage error (2)" [ $rc -eq 2 ]
"$mn" export 'bad' -o "$tmp/x" 2>"$tmp/err"; rc=$?
check "export of a bad arch exits 1" [ $rc -eq 1 ]
tap_done
