#!/bin/sh
# micronas deploy from the outside: the C sources it writes compile with the
# firmware's kernels (-Wall -Wextra -Werror) and reproduce micronas's host
# int8 reference bit for bit; a model too big for the board is refused with
# the numbers; broken or mismatched weights give one line.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
. "$MN_TOP_SRCDIR/tests/lib/deploy_driver.sh"
. "$MN_TOP_SRCDIR/tests/lib/proc.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
A='|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'
net="--channels 8 --cells 1"

"$MN_TOP_BUILDDIR/tests/test_deploy" "$tmp/w.safetensors" >"$tmp/gen.out" 2>&1
check "random weights written (test_deploy)" [ -s "$tmp/w.safetensors" ]

data="$MN_TOP_SRCDIR/../shared/data/cifar10/data_batch_subset.bin"
if [ -r "$data" ]; then
	head -c $((3073 * 48)) "$data" >"$tmp/img.bin"
	dflag="--data $tmp/img.bin"
else
	echo "# SKIP-NOTE ../shared/data/cifar10 is not present: calibrating on synthetic images"
	dflag=
fi
"$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 16 --no-firmware -o "$tmp/out" >"$tmp/dep" 2>"$tmp/err"; rc=$?
check "deploy exits 0" [ $rc -eq 0 ]
sed 's/^/# /' "$tmp/dep" "$tmp/err"
check "deploy writes model.h, model.c and check.bin" \
	sh -c "[ -s '$tmp/out/model.h' ] && [ -s '$tmp/out/model.c' ] && [ -s '$tmp/out/check.bin' ]"
check "deploy reports flash, SRAM and the int8/float agreement" \
	sh -c "grep -q '^flash: ' '$tmp/dep' && grep -q '^SRAM: ' '$tmp/dep' && grep -q 'top-1 agreement' '$tmp/dep'"
# The flash line reads "flash: TOTAL of BOARD KB (parts, the runtime one of
# them)": the parts add up to the total (each rounded to 0.1 KB).
check "the flash total is the sum of its parts, the runtime included, said against the board's" \
	awk '/^flash: / { t = $2; if ($3 != "of") exit 1; s = 0
		for (i = 2; i <= NF; i++) { k = $(i - 1); v = $i; gsub(/[();]/, "", k); gsub(/[();]/, "", v)
			if (k ~ /^(weights|biases|requantization|table|runtime)$/) s += v }
		ok = s > 0 && t - s < 0.3 && s - t < 0.3 } END { exit !ok }' "$tmp/dep"
# Threads share the calibration and the measure, never the result: one
# thread writes the same files and the same report line.
"$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 16 --no-firmware \
	--threads 1 -o "$tmp/out1" >"$tmp/dep1" 2>/dev/null
check "deploy --threads 1: the same model.c, check.bin and agreement as on every core" \
	sh -c "cmp -s '$tmp/out/model.c' '$tmp/out1/model.c' && cmp -s '$tmp/out/check.bin' '$tmp/out1/check.bin' &&
	       [ \"\$(grep -o 'agreement [^(]*' '$tmp/dep')\" = \"\$(grep -o 'agreement [^(]*' '$tmp/dep1')\" ]"
"$mn" deploy "$tmp/w.safetensors" "$A" $net --threads 0 -o "$tmp/out0" >/dev/null 2>"$tmp/err0"; rc=$?
check "deploy --threads 0 is a usage error (2), in one line" \
	sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/err0') -eq 1 ] && grep -q -- '--threads' '$tmp/err0'"
fw="$MN_TOP_SRCDIR/fw-profiler"
build_driver "$tmp/out" "$tmp/driver"
check "the generated sources build with the firmware's kernels (-Wall -Wextra -Werror)" [ -x "$tmp/driver" ]
"$tmp/driver" "$tmp/out/check.bin" >"$tmp/drv" 2>&1; rc=$?
check "the generated model reproduces micronas's int8 logits bit for bit ($(cat "$tmp/drv"))" [ $rc -eq 0 ]

# Raw 8-bit RGB pixels (HWC) to the model's input, on the board's side:
# a generated .npy set deployed, then check.bin's int8 inputs (its first
# evaluation images, after the 32 calibration ones) made again from the
# set's bytes by mn_model_input_from_pixels.
"$MN_TOP_BUILDDIR/tests/gen_data" npy "$tmp/rgb.npy" 48 32 32 3 u8 10 >/dev/null 2>&1
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/rgb.npy" --calib 32 --eval 8 --no-firmware \
	-o "$tmp/outp" >"$tmp/depp" 2>&1
build_driver "$tmp/outp" "$tmp/driverp"
"$tmp/driverp" "$tmp/outp/check.bin" "$tmp/rgb.npy" 32 >"$tmp/drvp" 2>&1; rc=$?
check "8-bit data: mn_model_input_from_pixels turns raw HWC pixels into check.bin's int8 inputs ($(cat "$tmp/drvp"))" \
	sh -c "[ $rc -eq 0 ] && grep -q 'pixels 8/8' '$tmp/drvp' && grep -q 'mn_model_input_from_pixels takes raw' '$tmp/depp'"
# --calib taking every image leaves none after them: the comparison is then
# on calibration images, and the report line says so (not when some are left).
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/rgb.npy" --calib 100 --eval 8 --no-firmware \
	-o "$tmp/outc" >"$tmp/depc" 2>&1; rc=$?
check "--calib 100 of 48 images: the agreement line says it is measured on calibration images ($(grep agreement "$tmp/depc"))" \
	sh -c "[ $rc -eq 0 ] && grep -q 'agreement [0-8]/8 .*; measured on calibration images (--calib 100 took all 48: a lower --calib leaves unseen ones)' '$tmp/depc'"
check "...and with images left after --calib 32 it says nothing of the kind" \
	sh -c "grep -q 'agreement [0-8]/8' '$tmp/depp' && ! grep -q 'calibration images (' '$tmp/depp'"
"$mn" validate --port /dev/null --weights "$tmp/w.safetensors" "$A" $net --data "$tmp/rgb.npy" --calib 100 \
	>/dev/null 2>"$tmp/err"
check "validate --weights --calib 100 of 48 images: a note says the board runs calibration images" \
	grep -q 'note: --calib 100 takes all 48 images of .*rgb.npy, so the board runs calibration images' "$tmp/err"
# Labels the network cannot give (10-class data, 5-class network): an
# accuracy would count images it can never get right; refused in one line
# before any calibration, by deploy and by validate --weights alike.
"$MN_TOP_BUILDDIR/tests/write_rand_weights" "$tmp/w5.safetensors" "$A" 8 1 32 32 3 5
"$mn" deploy "$tmp/w5.safetensors" "$A" $net --classes 5 --data "$tmp/rgb.npy" --calib 32 --eval 8 \
	--no-firmware -o "$tmp/out5" >"$tmp/out5.txt" 2>"$tmp/err"; rc=$?
check "deploy: labels 0-9 on a 5-class network: exit 1, one line naming label 9, 5 classes and the fix ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'rgb.npy has labels up to 9 but the network has 5 classes; pass --classes 10 .* or give data of 5 classes' '$tmp/err' && [ ! -e '$tmp/out5' ] && [ ! -s '$tmp/out5.txt' ]"
"$mn" validate --port /dev/null --weights "$tmp/w5.safetensors" "$A" $net --classes 5 --data "$tmp/rgb.npy" \
	>/dev/null 2>"$tmp/err"; rc=$?
grep -v '^micronas validate: estimating' "$tmp/err" >"$tmp/err1"
check "validate --weights: the same line, before the port is opened ($(cat "$tmp/err1"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] && grep -q 'has labels up to 9 but the network has 5 classes' '$tmp/err1'"
# Float data have no byte table: model.h offers no pixel function.
"$MN_TOP_BUILDDIR/tests/gen_data" npy "$tmp/f.npy" 40 32 32 3 f32 10 >/dev/null 2>&1
"$mn" deploy "$tmp/w.safetensors" "$A" $net --data "$tmp/f.npy" --calib 32 --eval 8 --no-firmware \
	-o "$tmp/outf" >/dev/null 2>&1
check "float data: deploy writes no pixel function (model.h without MN_MODEL_PIXEL_INPUT)" \
	sh -c "[ -s '$tmp/outf/model.h' ] && ! grep -q 'MN_MODEL_PIXEL_INPUT' '$tmp/outf/model.h'"

# The emulated board: the same sources cross-compiled for the Cortex-M7
# (kernels.c's DSP paths), with fw-profiler/model_check.c comparing the
# logits of check.bin's images on the board itself.
armcc=arm-none-eabi-gcc
qemu=${QEMU_SYSTEM_ARM:-qemu-system-arm}
check "cross compiler present (else: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)" \
	sh -c "command -v $armcc >/dev/null"
check "QEMU present (else: apt-get install qemu-system-arm)" sh -c "command -v '$qemu' >/dev/null"
printf '\t.section .rodata.check, "a"\n\t.balign 4\n\t.global mn_check_bin\nmn_check_bin:\n\t.incbin "%s"\n\t.global mn_check_bin_end\nmn_check_bin_end:\n' \
	"$tmp/out/check.bin" >"$tmp/check.S"
$armcc -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 -std=gnu11 -O2 -Wall -Wextra \
	-Werror -ffunction-sections -fdata-sections -I"$fw" -I"$tmp/out" -DMNFW_NUM_IRQ=32 \
	-DMC_SEMIHOSTING -nostartfiles --specs=nano.specs -L"$fw" -T"$fw/qemu-mps2-an500.ld" \
	-Wl,--gc-sections "$fw/startup.S" "$fw/vectors.c" "$fw/board_qemu.c" "$fw/timebase.c" \
	"$fw/kernels.c" "$fw/kernels_m7.S" "$fw/qnet.c" "$tmp/out/model.c" "$fw/model_check.c" \
	"$tmp/check.S" -o "$tmp/mc.elf" 2>"$tmp/arm.err"
check "the generated sources cross-compile for the Cortex-M7 with the firmware's kernels" [ -s "$tmp/mc.elf" ]
sed 's/^/# /' "$tmp/arm.err" | head -5
timeout 300 "$qemu" -M mps2-an500 -nographic -monitor none -icount shift=0 \
	-semihosting-config enable=on,target=native -serial stdio -kernel "$tmp/mc.elf" \
	</dev/null >"$tmp/qemu.out" 2>&1
check "the emulated board reproduces the host int8 logits bit for bit ($(tr -d '\r' <"$tmp/qemu.out" | head -1))" \
	grep -q '^exact 8/8 ' "$tmp/qemu.out"

# Interrupted (SIGTERM, as Ctrl-C: a background job of sh ignores SIGINT),
# deploy stops between steps as the other long commands do: one line
# saying so and what DIR holds, exit 1 (before, the signal killed it:
# exit 130 or 143, with whatever it had written).  During the calibration
# (20000 synthetic images: minutes), once its synthetic-data note (said
# with the signals blocked) is out: DIR is not made.
"$mn" deploy "$tmp/w.safetensors" "$A" $net --calib 20000 --eval 0 --no-firmware -o "$tmp/outi" \
	>"$tmp/depi" 2>"$tmp/err" &
pid=$!
for i in $(seq 1 600); do grep -q synthetic "$tmp/err" && break; sleep 0.1; done
sleep 0.3
kill -TERM $pid
wait $pid; rc=$?
grep -v synthetic "$tmp/err" >"$tmp/err1"
check "stopped while calibrating: exit 1, one line, nothing written ($(cat "$tmp/err1"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] &&
	       grep -q 'interrupted before anything was written ($tmp/outi is as it was)' '$tmp/err1' && [ ! -e '$tmp/outi' ]"
# While the firmware builds (a stand-in make that writes half an image and
# waits; ARM_CC=true passes the compiler check), with images of an older
# model in DIR: the sources stay (written whole), no image is left, and make
# is stopped.
mkdir -p "$tmp/bin" "$tmp/outb/firmware/nucleo-f746zg"
echo old >"$tmp/outb/firmware/nucleo-f746zg/fw.bin"
cat >"$tmp/bin/make" <<'SH'
#!/bin/sh
for a; do case $a in TARGET=*) t=${a#TARGET=} ;; BUILDDIR=*) b=${a#BUILDDIR=} ;; esac; done
mkdir -p "$b/$t" && printf half >"$b/$t/fw.elf" && echo $$ >>"$b/../makes" && exec sleep 120
SH
chmod +x "$tmp/bin/make"
PATH="$tmp/bin:$PATH" ARM_CC=true "$mn" deploy "$tmp/w.safetensors" "$A" $net --calib 16 --eval 8 \
	-o "$tmp/outb" >"$tmp/depb" 2>"$tmp/err" &
pid=$!
for i in $(seq 1 600); do [ "$(cat "$tmp/outb/makes" 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.1; done
kill -TERM $pid
wait $pid; rc=$?
grep -v synthetic "$tmp/err" >"$tmp/err1"
check "stopped while building the firmware: exit 1, one line naming what is written and what is not ($(cat "$tmp/err1"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] &&
	       grep -q 'interrupted while building the firmware: $tmp/outb/model.c, model.h, check.bin and model.int8.safetensors are written, no firmware image is left' '$tmp/err1'"
check "...the sources whole, no image (neither the half one nor the older model's), make stopped" \
	sh -c "[ -s '$tmp/outb/model.c' ] && [ -s '$tmp/outb/model.h' ] && [ -s '$tmp/outb/check.bin' ] &&
	       [ -s '$tmp/outb/model.int8.safetensors' ] && [ -z \"\$(find '$tmp/outb' -name 'fw.*' -o -name '*.tmp')\" ] &&
	       for p in \$(cat '$tmp/outb/makes'); do ! kill -0 \$p 2>/dev/null || exit 1; done"
# validate --weights quantizes the weights as deploy does before it talks
# to a board; interrupted there it ends the same way, with one line (before,
# its signals were blocked only after the calibration, and the signal
# killed it).  The port is never reached.
"$mn" validate --weights "$tmp/w.safetensors" "$A" $net --calib 20000 --port "$tmp/no-such-port" \
	>"$tmp/vali" 2>"$tmp/err" &
pid=$!
wait_blocks_term $pid 60
kill -TERM $pid
wait $pid; rc=$?
grep -v 'cycle model' "$tmp/err" >"$tmp/err1"
check "validate --weights stopped while calibrating: exit 1, one line ($(cat "$tmp/err1"))" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] &&
	       grep -q 'interrupted while quantizing the weights' '$tmp/err1'"
kill $(cat "$tmp/outb/makes") 2>/dev/null # (left running only when the check failed)

# A board too small: refused with the numbers, nothing written.
cat >"$tmp/tiny.ini" <<'INI'
[board]
name = TINY
sram_kb = 16
flash_kb = 64
runtime_flash_kb = 10
INI
"$mn" deploy "$tmp/w.safetensors" "$A" $net --preset "$tmp/tiny.ini" -o "$tmp/out2" >/dev/null 2>"$tmp/err"; rc=$?
check "a model over the board's SRAM is refused (exit 1) with the numbers, in one line" \
	sh -c "[ $rc -eq 1 ] && grep -q 'does not fit TINY' '$tmp/err' && grep -q 'SRAM 32.0 KB .* of 16.0 KB' '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"
check "nothing written for a refused model" [ ! -e "$tmp/out2" ]
# A board whose flash holds the memory model (weights, biases, runtime) but
# not the int8 model with its requantization and input tables: refused
# after calibration, with the numbers and the limit to search with.
mm=$(sed -n 's/^flash: .*; memory model \([0-9.]*\) KB$/\1/p' "$tmp/dep")
real=$(sed -n 's/^flash: \([0-9.]*\) of .*/\1/p' "$tmp/dep")
edge=$(awk -v m="$mm" -v r="$real" 'BEGIN { printf "%.1f", (m + r) / 2 }')
cat >"$tmp/edge.ini" <<INI
[board]
name = EDGE
sram_kb = 320
flash_kb = $edge
runtime_flash_kb = 100
INI
"$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 16 --no-firmware --preset "$tmp/edge.ini" \
	-o "$tmp/out3" >/dev/null 2>"$tmp/err0"; rc=$?
sed 's/^/# /' "$tmp/err0"
grep -v 'using a synthetic input batch' "$tmp/err0" >"$tmp/err" # (without ../shared)
check "flash between the memory model's $mm KB and the model's $real KB ($edge KB): refused in one line with both" \
	sh -c "[ -n '$mm' ] && [ -n '$real' ] && [ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] &&
	       grep -q 'int8 model does not fit EDGE: flash $real KB (weights .* + requantization .*) of $edge KB, though the memory model.s $mm KB fits' '$tmp/err' &&
	       grep -q 'search with --max-flash-kb [0-9]' '$tmp/err'"
check "nothing written for it either" [ ! -e "$tmp/out3" ]

# An output path so long that its files' paths would be cut: refused
# before any work, rather than writing to the cut path.
long=$(printf '%04100d' 0 | tr 0 d)
"$mn" deploy "$tmp/w.safetensors" "$A" $net -o "$tmp/$long" >/dev/null 2>"$tmp/err"; rc=$?
check "an -o DIR over 4000 bytes: exit 2, one line naming the fix" \
	sh -c "[ $rc -eq 2 ] && grep -q 'longer than 4000 bytes; give a shorter path' '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"

# Broken and mismatched weights.
head -c 100 "$tmp/w.safetensors" >"$tmp/cut.safetensors"
"$mn" deploy "$tmp/cut.safetensors" "$A" $net -o "$tmp/out3" 2>"$tmp/err"; rc=$?
check "a truncated file: exit 1, one line naming the file" \
	sh -c "[ $rc -eq 1 ] && grep -q 'cut.safetensors: not a valid safetensors file' '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"
"$mn" deploy "$tmp/w.safetensors" "$A" --channels 16 --cells 1 -o "$tmp/out3" 2>"$tmp/err"; rc=$?
check "weights of another width: exit 1 naming the first tensor and both shapes" \
	sh -c "[ $rc -eq 1 ] && grep -q \"tensor 'stem.weight' has shape \[8, 3, 3, 3\], this arch needs \[16, 3, 3, 3\]\" '$tmp/err'"
"$mn" deploy "$tmp/w.safetensors" "$A" $net 2>"$tmp/err"; rc=$?
check "deploy without -o is a usage error (2)" [ $rc -eq 2 ]
tap_done
