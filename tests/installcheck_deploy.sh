#!/bin/sh
# make installcheck (make distcheck runs it): the installed micronas
# deploys from the installed firmware sources, and its first deploy, with
# an empty cache, starts from the installed deploy objects, so it compiles
# model.c and model_cmd.c alone for each image.  Needs arm-none-eabi-gcc.
# Arguments: the installed micronas, and tests/test_deploy (which writes
# random weights for its C=8 N=1 network).
mn=$1
weights=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "installcheck_deploy: $*" >&2; exit 1; }
"$weights" "$tmp/w.safetensors" >/dev/null 2>&1
[ -s "$tmp/w.safetensors" ] || fail "$weights wrote no weights"
A='|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'
# From the temporary directory, so that no ./fw-profiler is found first.
cd "$tmp" || fail "cannot enter $tmp"
env -u MN_TOP_SRCDIR -u MN_FIRMWARE_SRC XDG_CACHE_HOME="$tmp/cache" "$mn" deploy w.safetensors "$A" \
	--channels 8 --cells 1 --calib 8 --eval 0 -o out >out.txt 2>err.txt ||
	fail "deploy failed: $(cat err.txt)"
for t in nucleo-f746zg qemu-mps2-an500; do
	[ -s "out/firmware/$t/fw.elf" ] || fail "no $t image"
	n=$(grep -Ec '^  (CC|AS) ' "out/firmware/$t.log")
	[ "$n" -eq 2 ] || fail "the first deploy compiled $n objects for $t, not 2: the installed objects were not used"
done
echo "installcheck_deploy: the installed micronas deployed, compiling 2 objects an image"
