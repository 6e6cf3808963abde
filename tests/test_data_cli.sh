#!/bin/sh
# --data through the CLI on generated non-CIFAR sets (no ../shared needed):
# a 48x48 grayscale image folder of 5 classes and .npy sets (uint8 NHWC,
# float32 NHW) work in score; search on the folder takes the data's input
# (48x48, 5 classes) and `micronas cost --resolution 48 --classes 5`
# agrees with the costs it reports; a 49x10x1 .npy set of 12 classes does
# the same at 49x10; bad data exits 1 with one line.
mn="$MN_TOP_BUILDDIR/micronas"
gen="$MN_TOP_BUILDDIR/tests/gen_data"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fast="--batch 8 --repeat 1 --ntk-grad fixed-stats --threads 2 --az-channels 4 --az-cells 1"
A='|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|'

check "generated a 48x48 grayscale folder, 5 classes of 6 PNGs" "$gen" folder "$tmp/gray48" 48 5 6 1
check "generated a uint8 NHWC set (40 x 20 x 20 x 3)" "$gen" npy "$tmp/rgb.npy" 40 20 20 3 u8
check "generated a float32 NHW set (40 x 16 x 16)" "$gen" npy "$tmp/f32.npy" 40 16 16 0 f32

"$mn" score "$A" --data "$tmp/gray48" $fast --json >"$tmp/g1" 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/g1") $(cat "$tmp/err")"
check "score on the gray folder exits 0" [ $rc -eq 0 ]
check "one JSON line with both TE-NAS proxies first, then the others and the estimate" grep -q '^{"arch":"[^"]*","ntk_cond":[0-9.e+-]*,"linear_regions":[0-9.e+-]*,"az_expressivity":.*,"estimate":[0-9.e+-]*}$' "$tmp/g1"
check "no synthetic-data notice" sh -c "! grep -q synthetic '$tmp/err'"
"$mn" score "$A" --data "$tmp/gray48" $fast --json >"$tmp/g2" 2>/dev/null
check "the same scores on a second run" cmp -s "$tmp/g1" "$tmp/g2"
"$mn" score "$A" $fast --json >"$tmp/syn" 2>/dev/null
check "scores differ from the synthetic batch's (the folder is used)" sh -c "! cmp -s '$tmp/g1' '$tmp/syn'"

for set in rgb f32; do
	"$mn" score "$A" --data "$tmp/$set.npy" $fast --json >"$tmp/$set.out" 2>"$tmp/err"; rc=$?
	echo "# $(cat "$tmp/$set.out") $(cat "$tmp/err")"
	check "score on $set.npy exits 0 with one JSON line" sh -c "[ $rc -eq 0 ] && grep -c '\"ntk_cond\"' '$tmp/$set.out' | grep -qx 1"
done

# Bad data: exit 1, one line naming the file.
printf 'not numpy' >"$tmp/bad.npy"
cp "$tmp/rgb_labels.npy" "$tmp/bad_labels.npy"
"$mn" score "$A" --data "$tmp/bad.npy" $fast >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "a bad .npy exits 1 with one line naming it" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'bad.npy' '$tmp/err'"
mkdir "$tmp/gray48/class9"
"$mn" score "$A" --data "$tmp/gray48" $fast >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "an empty class folder exits 1 with one line naming it" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'class9' '$tmp/err'"
rmdir "$tmp/gray48/class9"
# Fewer images than the batch: one line with the fix, for score and atlas.
check "generated a set of 5 images" "$gen" npy "$tmp/five.npy" 5 16 16 3 u8
for cmd in score atlas; do
	if [ $cmd = score ]; then "$mn" score "$A" --data "$tmp/five.npy" $fast >/dev/null 2>"$tmp/err"; rc=$?
	else "$mn" atlas --data "$tmp/five.npy" --max 1 $fast >/dev/null 2>"$tmp/err"; rc=$?; fi
	echo "# $(cat "$tmp/err")"
	check "$cmd on 5 images at --batch 8 exits 1 with one line giving the --batch that fits" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'larger than the 5 images given (give more images, or --batch 5 or less)' '$tmp/err'"
done

field() { grep -o "\"$1\":[0-9.e+-]*" "$2"; }
# agree WHAT A.json B.json KEYS...: one point per key, its value the same
# in both.
agree() {
	what=$1 ja=$2 jb=$3
	shift 3
	for k in "$@"; do
		check "$what agree on $k ($(field $k "$ja"))" [ "$(field $k "$ja")" = "$(field $k "$jb")" ]
	done
}
# atlas_pick DATA NAME LABEL RES CLASSES: atlas --max 6 over DATA, then
# search --method atlas; the pick's costs are cost's at the data's input
# (RES, CLASSES, one channel).
atlas_pick() {
	"$mn" atlas --data "$1" $fast --max 6 >"$tmp/$2-at.out" 2>"$tmp/$2-at.err"; rc=$?
	check "atlas --max 6 on $3 exits 0 ($(tail -n 1 "$tmp/$2-at.err"))" [ $rc -eq 0 ]
	"$mn" search --method atlas --data "$1" $fast --json >"$tmp/$2-sa.json" 2>"$tmp/$2-sa.err"; rc=$?
	echo "# $(cat "$tmp/$2-sa.json")"
	check "search --method atlas on $3 exits 0" [ $rc -eq 0 ]
	pick=$(sed 's/^{"arch":"\([^"]*\)".*/\1/' "$tmp/$2-sa.json")
	"$mn" cost "$pick" --resolution "$4" --classes "$5" --input-channels 1 --runtime-flash-kb 100 \
		--json >"$tmp/$2-c2.json"
	agree "the atlas pick and cost --resolution $4" "$tmp/$2-sa.json" "$tmp/$2-c2.json" flops_m params_m sram_kb
}

# search takes the data's input; cost at that input reports the same.
"$mn" search --data "$tmp/gray48" $fast --json >"$tmp/s.json" 2>"$tmp/s.err"; rc=$?
echo "# $(cat "$tmp/s.err")"
echo "# $(cat "$tmp/s.json")"
check "search on the gray folder exits 0" [ $rc -eq 0 ]
check "search says the network input comes from the data" grep -q "network input 48x48x1, 5 classes" "$tmp/s.err"
arch=$(sed 's/^{"arch":"\([^"]*\)".*/\1/' "$tmp/s.json")
"$mn" cost "$arch" --resolution 48 --classes 5 --input-channels 1 --runtime-flash-kb 100 --json >"$tmp/c.json"; rc=$?
echo "# $(cat "$tmp/c.json")"
check "cost --resolution 48 --classes 5 --input-channels 1 exits 0" [ $rc -eq 0 ]
agree "search and cost --resolution 48" "$tmp/s.json" "$tmp/c.json" flops_m params_m sram_kb flash_kb
"$mn" cost "$arch" --runtime-flash-kb 100 --json >"$tmp/c32.json"
check "and cost at the default 32x32, 10 classes does not" sh -c "! cmp -s '$tmp/c.json' '$tmp/c32.json'"
# The atlas of the same data: its pick's costs are of the data's network too.
atlas_pick "$tmp/gray48" gray "the gray folder" 48 5
# A preset's latency table made for 32x32x3 gives way to the built-in model.
"$mn" search --preset nucleo-f746zg --data "$tmp/gray48" $fast --json >"$tmp/p.json" 2>"$tmp/p.err"; rc=$?
echo "# $(cat "$tmp/p.err")"
check "search --preset nucleo-f746zg on the gray folder exits 0" [ $rc -eq 0 ]
check "it says the preset's latency table is replaced by the built-in model" \
	grep -q 'latency table .*nucleo-f746zg-latency.ini is not for 48x48x1, 5 classes: using the built-in cycle model' "$tmp/p.err"

# 49x10x1, 12 classes (keyword spotting's MFCC frames): the whole frames
# go through score, atlas --max, search and cost; the network is 49x10 ->
# 25x5 -> 13x3 (ceil(n/2)) everywhere, so search, the atlas pick and cost
# --resolution 49x10 report the same costs.
check "generated a 49x10 uint8 set of 12 classes" "$gen" npy "$tmp/kws.npy" 48 49 10 0 u8 12
"$mn" score "$A" --data "$tmp/kws.npy" $fast --json >"$tmp/kws.out" 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/kws.out") $(cat "$tmp/err")"
check "score on 49x10 exits 0" sh -c "[ $rc -eq 0 ] && grep -q '\"ntk_cond\"' '$tmp/kws.out'"
"$mn" search --data "$tmp/kws.npy" $fast --json >"$tmp/ks.json" 2>"$tmp/ks.err"; rc=$?
echo "# $(cat "$tmp/ks.err")"
echo "# $(cat "$tmp/ks.json")"
check "search on 49x10 exits 0" [ $rc -eq 0 ]
check "search says the network input is 49x10x1, 12 classes" grep -q "network input 49x10x1, 12 classes" "$tmp/ks.err"
arch=$(sed 's/^{"arch":"\([^"]*\)".*/\1/' "$tmp/ks.json")
"$mn" cost "$arch" --resolution 49x10 --classes 12 --input-channels 1 --runtime-flash-kb 100 --json >"$tmp/kc.json"; rc=$?
echo "# $(cat "$tmp/kc.json")"
check "cost --resolution 49x10 --classes 12 --input-channels 1 exits 0" [ $rc -eq 0 ]
agree "search and cost --resolution 49x10" "$tmp/ks.json" "$tmp/kc.json" flops_m params_m sram_kb flash_kb
"$mn" cost "$arch" --resolution 48x8 --classes 12 --input-channels 1 --runtime-flash-kb 100 --json >"$tmp/kc48.json"
check "and cost at the old crop, 48x8, does not" sh -c "! cmp -s '$tmp/kc.json' '$tmp/kc48.json'"
atlas_pick "$tmp/kws.npy" kws 49x10 49x10 12

# The stem follows the input channels: 1 instead of 3 saves C*R*R*2*9 MACs
# and 2*9*C weights (C=16, R=32: 294912 MACs, 288 params).
"$mn" cost "$A" --json >"$tmp/rgb.c"
"$mn" cost "$A" --input-channels 1 --json >"$tmp/gray.c"
d=$(awk -F'[:,]' '{for (i = 1; i < NF; i++) { if ($i == "\"flops_m\"") f[NR] = $(i + 1); if ($i == "\"params_m\"") p[NR] = $(i + 1) }}
	END {printf "%.0f %.0f", (f[1] - f[2]) * 1e6, (p[1] - p[2]) * 1e6}' "$tmp/rgb.c" "$tmp/gray.c")
check "cost --input-channels 1 takes the stem's 294912 MACs and 288 params off ($d)" [ "$d" = "294912 288" ]
tap_done
