#!/bin/sh
# The man page's recipe for NAS-Bench-201's ImageNet16-120 (DATA): taken
# from man/micronas.1 as written and run on generated files in the set's
# pickle format, it gives a NumPy set micronas reads as 16x16x3 images of
# 120 classes, each row's R, G and B planes in the right pixels.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fast="--batch 8 --repeat 1 --ntk-grad fixed-stats --threads 2 --az-channels 4 --az-cells 1"

# The test command of the quick start installs numpy (with python3-torch).
. "$MN_TOP_SRCDIR/tests/lib/python.sh"
python_with numpy python3-numpy || { tap_done; exit 1; }

# The recipe: the lines between "python3 - <<'EOF'" and "EOF" in the man page.
sed -n "/^python3 - <<'EOF'\$/,/^EOF\$/p" "$MN_TOP_SRCDIR/man/micronas.1" | sed '1d;$d' >"$tmp/recipe.py"
check "the man page holds the recipe ($(wc -l <"$tmp/recipe.py") lines)" grep -q "imagenet16-120_labels.npy" "$tmp/recipe.py"

# Two batch files as the set ships them: dicts of 'data' (N x 768 bytes, R,
# G, B planes of 16x16) and 'labels' (1..1000).  Row 0 of batch 1 is
# R 10, G 20, B 30 with pixel (y=2, x=5) R 200; labels of row 0 is 7.
mkdir "$tmp/Imagenet16_train"
"$py" - "$tmp/Imagenet16_train" <<'PY' >"$tmp/gen.out"
import pickle, sys
import numpy as np
rng = np.random.default_rng(1)
kept = 0
for b in (1, 2):
    data = rng.integers(0, 256, (300, 768), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(1, 1001, 300)]
    if b == 1:
        data[0, :256], data[0, 256:512], data[0, 512:] = 10, 20, 30
        data[0, 2 * 16 + 5] = 200
        labels[0] = 7
        labels[1] = 120
        labels[2] = 121
    kept += sum(1 for v in labels if v <= 120)
    with open(f"{sys.argv[1]}/train_data_batch_{b}", "wb") as f:
        pickle.dump({"data": data, "labels": labels}, f)
print(kept)
PY
kept=$(cat "$tmp/gen.out")
check "generated two batch files ($kept rows of labels 1..120)" [ -s "$tmp/Imagenet16_train/train_data_batch_2" ]

(cd "$tmp" && "$py" recipe.py) 2>"$tmp/err"; rc=$?
check "the recipe runs (exit $rc)" [ $rc -eq 0 ]
"$py" - "$tmp" "$kept" <<'PY' >"$tmp/chk" 2>&1
import sys
import numpy as np
x = np.load(f"{sys.argv[1]}/imagenet16-120.npy")
y = np.load(f"{sys.argv[1]}/imagenet16-120_labels.npy")
n = int(sys.argv[2])
print("shape", x.shape, x.dtype, "labels", y.min(), y.max())
ok = x.shape == (n, 16, 16, 3) and x.dtype == np.uint8 and y.shape == (n,)
ok = ok and y.min() >= 0 and y.max() <= 119 and y[0] == 6 and y[1] == 119
ok = ok and tuple(x[0, 0, 0]) == (10, 20, 30) and tuple(x[0, 2, 5]) == (200, 20, 30)
print("ok" if ok else "wrong")
PY
sed "s/^/# /" "$tmp/chk"
check "$kept images of 16x16x3, labels 0..119, the planes in their pixels" grep -qx ok "$tmp/chk"

"$mn" search --data "$tmp/imagenet16-120.npy" $fast --json >"$tmp/s.json" 2>"$tmp/s.err"; rc=$?
echo "# $(head -c 300 "$tmp/s.err")"
check "search on it exits 0" [ $rc -eq 0 ]
check "search takes 16x16x3 and 120 classes from it" grep -q "network input 16x16x3, 120 classes" "$tmp/s.err"
tap_done
