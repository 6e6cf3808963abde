#!/bin/sh
# The int8 model at inputs other than CIFAR's 32x32x3, from the outside:
# keyword spotting's 49x10 MFCC frames (1 channel, 12 classes; calibrated on
# a generated .npy set) and a 48x48 grayscale image (5 classes; synthetic
# calibration).  For each, random folded weights (write_rand_weights) are
# deployed; the generated sources reproduce the
# host int8 reference bit for bit on the host; the emulated board started
# on the deployed image runs every image bit-exact, in exactly the SRAM the
# memory model predicts, and its latency is within 2% of the estimate from
# a table profiled on the same board.  Needs arm-none-eabi-gcc and QEMU (a missing one
# fails here, naming the Debian package).
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
. "$MN_TOP_SRCDIR/tests/lib/qemu.sh"
. "$MN_TOP_SRCDIR/tests/lib/deploy_driver.sh"
emu_begin
A='|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'
check "cross compiler present (else: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)" \
	sh -c "command -v arm-none-eabi-gcc >/dev/null"
qemu_present

# one NAME H W INPUT_CHANNELS CLASSES [DATA]
one() {
	name=$1 h=$2 w=$3 ic=$4 k=$5 data=${6:-}
	dflag= kind=synthetic
	[ -n "$data" ] && dflag="--data $data" kind=real
	d="$tmp/$name"
	mkdir -p "$d"
	net="--channels 8 --cells 1 --resolution ${h}x$w --input-channels $ic --classes $k"
	"$MN_TOP_BUILDDIR/tests/write_rand_weights" "$d/w.safetensors" "$A" 8 1 "$h" "$w" "$ic" "$k" \
		2>"$d/err"
	check "$name: random weights written ($(cat "$d/err"))" [ -s "$d/w.safetensors" ]
	"$mn" deploy "$d/w.safetensors" "$A" $net $dflag --calib 16 --eval 8 -o "$d/out" >"$d/dep" 2>"$d/err"
	rc=$?
	sed 's/^/# /' "$d/dep" "$d/err"
	check "$name: deploy exits 0 and names the ${h}x${w}x$ic input" \
		sh -c "[ $rc -eq 0 ] && grep -q 'int8 model of C=8 N=1 ${h}x${w}x$ic classes=$k' '$d/dep' && grep -q 'calibrated on 16 $kind images' '$d/dep' && [ -s '$d/out/firmware/qemu-mps2-an500/fw.elf' ]"
	check "$name: model.h gives the input's height, width and channels" \
		sh -c "grep -q '^#define MN_MODEL_HEIGHT $h\$' '$d/out/model.h' && grep -q '^#define MN_MODEL_WIDTH $w\$' '$d/out/model.h' && grep -q '^#define MN_MODEL_INPUT_CHANNELS $ic\$' '$d/out/model.h'"
	build_driver "$d/out" "$d/driver"
	"$d/driver" "$d/out/check.bin" >"$d/drv" 2>&1; rc=$?
	check "$name: the generated sources reproduce the host int8 logits bit for bit ($(cat "$d/drv"))" \
		[ $rc -eq 0 ]
	if [ -n "$data" ]; then
		# check.bin's images are the first evaluation images, after the
		# 16 calibration ones: made again from the .npy's raw bytes
		"$d/driver" "$d/out/check.bin" "$data" 16 >"$d/drv" 2>&1; rc=$?
		check "$name: mn_model_input_from_pixels makes check.bin's int8 inputs from the raw 8-bit pixels ($(cat "$d/drv"))" \
			sh -c "[ $rc -eq 0 ] && grep -q '^#define MN_MODEL_PIXEL_INPUT 1' '$d/out/model.h'"
	fi
	# The latency table of this network, profiled on the profiler firmware.
	printf '[network]\nchannels = 8\ncells = 1\nresolution = %sx%s\ninput_channels = %s\nclasses = %s\n' \
		"$h" "$w" "$ic" "$k" >"$d/net.ini"
	if emu_start --socket "$d/uart0"; then
		"$mn" profile --port "$port" --preset "$d/net.ini" -o "$d/lat.ini" --repeats 3 \
			>/dev/null 2>"$d/err"
		emu_stop
	fi
	check "$name: profiled its latency table ($(head -n 1 "$d/err"))" [ -s "$d/lat.ini" ]
	if emu_start --socket "$d/uart" --firmware "$d/out/firmware/qemu-mps2-an500/fw.elf"; then
		"$mn" validate --port "$port" --weights "$d/w.safetensors" "$A" $net $dflag --calib 16 \
			--images 6 --latency-table "$d/lat.ini" --json >"$d/v.json" 2>"$d/err"; rc=$?
		sed 's/^/# /' "$d/v.json" "$d/err"
		check "$name: on the emulated board every image is bit-exact with the host int8 reference" \
			sh -c "[ $rc -eq 0 ] && grep -q '\"images\":6,\"int8_exact\":1.000000,' '$d/v.json'"
		if [ -n "$data" ]; then
			check "$name: labelled data: the int8 accuracy is reported" \
				grep -q '"int8_accuracy":[0-9]' "$d/v.json"
		fi
		e=$(sed -n 's/.*"error_pct":\([-0-9.]*\).*/\1/p' "$d/v.json")
		check "$name: the deployed model's latency within 2% of the profiled table's estimate ($e%)" \
			sh -c "echo '$e' | awk 'NF == 1 && \$1 < 2 && \$1 > -2 { ok = 1 } END { exit !ok }'"
		check "$name: the table is of the model image's release: no firmware note" \
			sh -c "! grep -q 'profiled on firmware' '$d/err'"
		sram=$(sed 's/.*"measured_sram_kb":\([0-9.]*\),"estimated_sram_kb":\([0-9.]*\),.*/\1 \2/' "$d/v.json")
		check "$name: the board's peak SRAM equals the memory model's ($sram)" \
			sh -c "echo '$sram' | awk 'NF == 2 && \$1 == \$2 { ok = 1 } END { exit !ok }'"
		emu_stop
	else
		check "$name: the emulated board starts ($(head -n 1 "$tmp/emu.err"))" false
	fi
}
# 60 frames of 49x10 one-channel uint8 in 12 classes, with their labels
"$MN_TOP_BUILDDIR/tests/gen_data" npy "$tmp/kws.npy" 60 49 10 1 u8 12 >/dev/null 2>&1
check "a 49x10x1 .npy set generated (gen_data)" [ -s "$tmp/kws_labels.npy" ]
one kws 49 10 1 12 "$tmp/kws.npy"
one gray 48 48 1 5
tap_done
