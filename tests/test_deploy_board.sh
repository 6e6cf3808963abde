#!/bin/sh
# deploy -> emulated board -> validate --weights, from the outside: deploy
# writes the firmware images; the emulated board started on the model's
# image runs every image bit-exact with the host int8 reference (JSON keys
# int8_exact, top1_agree_float, int8_accuracy); a board carrying another
# model, and one carrying none (the profiler firmware), are refused in one
# line naming the image to run; with --model (deploy's int8 model file)
# the model another quantization would refuse validates.  Needs arm-none-eabi-gcc and QEMU (a
# missing one fails here, naming the Debian package).
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d)
emu_pid=
stop_emulator() {
	# Only the process this script started, by its pid.
	[ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	emu_pid=
}
trap 'stop_emulator; rm -rf "$tmp"' EXIT
nstart=0
start_emulator() {
	nstart=$((nstart + 1))
	: >"$tmp/emu.out" # before the background start: the loop must not see the last one's
	"$mn" emulate --socket "$tmp/uart$nstart" "$@" >"$tmp/emu.out" 2>"$tmp/emu.err" &
	emu_pid=$!
	i=0
	# (emulate's own limits, 10 s for the socket and 20 s for the
	# firmware's answer, end the wait first)
	while [ $i -lt 600 ] && ! { [ -s "$tmp/emu.out" ] && grep -q 'QEMU (pid' "$tmp/emu.err"; } &&
		kill -0 "$emu_pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	port=$(head -n 1 "$tmp/emu.out")
	qemu_pid=$(sed -n 's/.*QEMU (pid \([0-9]*\)).*/\1/p' "$tmp/emu.err")
	[ -n "$port" ]
}
# qemu_cpu: the CPU time QEMU ($qemu_pid) has used, in clock ticks.
qemu_cpu() { awk '{ print $14 + $15 }' "/proc/$qemu_pid/stat" 2>/dev/null; }
A='|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'
net="--channels 8 --cells 1"

"$MN_TOP_BUILDDIR/tests/test_deploy" "$tmp/w.safetensors" >/dev/null 2>&1
check "random weights written (test_deploy)" [ -s "$tmp/w.safetensors" ]
data="$MN_TOP_SRCDIR/../shared/data/cifar10/data_batch_subset.bin"
if [ -r "$data" ]; then
	head -c $((3073 * 40)) "$data" >"$tmp/img.bin"
	dflag="--data $tmp/img.bin"
else
	echo "# SKIP-NOTE ../shared/data/cifar10 is not present: synthetic images (no accuracy)"
	dflag=
fi
check "cross compiler present (else: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)" \
	sh -c "command -v arm-none-eabi-gcc >/dev/null"
"$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 8 -o "$tmp/out" >"$tmp/dep" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/dep" "$tmp/err"
check "deploy exits 0 and writes the board's and the emulated board's images" \
	sh -c "[ $rc -eq 0 ] && [ -s '$tmp/out/firmware/nucleo-f746zg/fw.bin' ] && [ -s '$tmp/out/firmware/qemu-mps2-an500/fw.elf' ]"
check "deploy writes the int8 model file too and names it with its fingerprint" \
	sh -c "[ -s '$tmp/out/model.int8.safetensors' ] && grep -q 'model.int8.safetensors: the same model for validate --model (fingerprint [0-9a-f]\{8\})' '$tmp/dep'"

# The firmware's objects that do not read the model are kept in the cache
# (XDG_CACHE_HOME, the test's own): a second deploy compiles model.c and
# model_cmd.c alone, and its images are the first's byte for byte.  The
# first, its cache empty, started it from the build's deploy-objects
# (fw-profiler/build/deploy-objects/TARGET), so it compiled as few.  A
# cached object cut short (a compiler killed outright) costs one rebuild,
# not the deploy; a cache another deploy holds is left alone.
objc=$(ls -d "$XDG_CACHE_HOME"/micronas/firmware-objects/*/nucleo-f746zg 2>/dev/null | head -n 1)
same_images() { # DIR: its images equal the first deploy's
	cmp -s "$1/firmware/nucleo-f746zg/fw.bin" "$tmp/out/firmware/nucleo-f746zg/fw.bin" &&
		cmp -s "$1/firmware/qemu-mps2-an500/fw.bin" "$tmp/out/firmware/qemu-mps2-an500/fw.bin"
}
compiled() { # DIR TARGET: how many objects make compiled or assembled
	grep -Ec '^  (CC|AS) ' "$1/firmware/$2.log"
}
check "the first deploy, its cache empty, compiles 2 objects a board: the rest are the build's deploy-objects ($(compiled "$tmp/out" nucleo-f746zg), $(compiled "$tmp/out" qemu-mps2-an500))" \
	sh -c "[ -s '$MN_TOP_BUILDDIR/fw-profiler/build/deploy-objects/nucleo-f746zg/cc-version' ] && [ $(compiled "$tmp/out" nucleo-f746zg) -eq 2 ] && [ $(compiled "$tmp/out" qemu-mps2-an500) -eq 2 ]"
"$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 8 -o "$tmp/outc" >/dev/null 2>"$tmp/err"; rc=$?
echo "# again: $(compiled "$tmp/outc" nucleo-f746zg) and $(compiled "$tmp/outc" qemu-mps2-an500) objects compiled; $(grep built "$tmp/err")"
check "a second deploy compiles 2 objects a board (model.c, model_cmd.c), the same images" \
	sh -c "[ $rc -eq 0 ] && [ -n '$objc' ] && [ $(compiled "$tmp/outc" nucleo-f746zg) -eq 2 ] && [ $(compiled "$tmp/outc" qemu-mps2-an500) -eq 2 ]" &&
	check "...byte for byte" same_images "$tmp/outc"
if [ -n "$objc" ]; then
	printf 'cut' >"$objc/exec.o"
	"$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 8 -o "$tmp/outx" >/dev/null 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/err"
	check "a cached object cut short: the deploy succeeds, the board rebuilt afresh ($(compiled "$tmp/outx" nucleo-f746zg) objects), the same images" \
		sh -c "[ $rc -eq 0 ] && [ $(compiled "$tmp/outx" nucleo-f746zg) -ge 12 ] && [ \$(wc -c <'$objc/exec.o') -gt 3 ]" &&
		check "...byte for byte" same_images "$tmp/outx"
	# (Built without kept objects: the same images as the first deploy's, made
	# from the build's objects.)
	flock "$objc.lock" "$mn" deploy "$tmp/w.safetensors" "$A" $net $dflag --calib 32 --eval 8 -o "$tmp/outl" \
		>/dev/null 2>"$tmp/err"; rc=$?
	check "the board's cache held by another: built with the image ($(compiled "$tmp/outl" nucleo-f746zg) objects, in DIR), the emulated one's from the cache, the same images" \
		sh -c "[ $rc -eq 0 ] && grep -q 'CC .*outl/firmware/nucleo-f746zg/exec.o' '$tmp/outl/firmware/nucleo-f746zg.log' && [ $(compiled "$tmp/outl" qemu-mps2-an500) -eq 2 ]" &&
		check "...byte for byte" same_images "$tmp/outl"
fi

if start_emulator --firmware "$tmp/out/firmware/qemu-mps2-an500/fw.elf"; then
	"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net $dflag --calib 32 \
		--images 8 --json >"$tmp/v.json" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/v.json" "$tmp/err"
	check "validate --weights on the model's image exits 0" [ $rc -eq 0 ]
	check "every image bit-exact with the host int8 reference (int8_exact 1)" \
		grep -q '"images":8,"int8_exact":1.000000,' "$tmp/v.json"
	check "the JSON has top1_agree_float and int8_accuracy beside today's keys" \
		sh -c "grep -q '\"top1_agree_float\":[0-9.]*,' '$tmp/v.json' && grep -q '\"int8_accuracy\":' '$tmp/v.json' && grep -q '\"measured_ms\":' '$tmp/v.json' && grep -q '\"estimated_sram_kb\":' '$tmp/v.json'"
	check "the board's peak SRAM equals the memory model's" \
		sh -c "grep -q '\"measured_sram_kb\":\([0-9.]*\),\"estimated_sram_kb\":\1,' '$tmp/v.json'"
	# Other calibration, other model: the board's fingerprint differs.
	"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net $dflag --calib 16 \
		--images 2 >"$tmp/out2" 2>"$tmp/err"; rc=$?
	grep -v '^micronas validate: estimating\|is emulated\|no CIFAR-10 data given' "$tmp/err" >"$tmp/err1"
	check "a board carrying another model is refused in one line naming the fix ($(cat "$tmp/err1"))" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] && grep -q 'carries another model.*emulate --firmware' '$tmp/err1' && [ ! -s '$tmp/out2' ]"
	# The same quantization mismatch, as on a computer whose BLAS rounds
	# the calibration otherwise: --model takes the deployed values.
	"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net $dflag --calib 16 \
		--model "$tmp/out/model.int8.safetensors" --images 4 --json >"$tmp/v3.json" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/v3.json" "$tmp/err"
	check "with --model DIR/model.int8.safetensors the same board validates, every image bit-exact" \
		sh -c "[ $rc -eq 0 ] && grep -q '\"images\":4,\"int8_exact\":1.000000,' '$tmp/v3.json'"
	# The text report gives the agreement's 95% interval: 4 images tell
	# little (4/4 is 51.0-100.0%).
	"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net $dflag --calib 16 \
		--model "$tmp/out/model.int8.safetensors" --images 4 >"$tmp/v3.txt" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/v3.txt"
	check "the text report adds the agreement's 95% interval" \
		sh -c "[ $rc -eq 0 ] && grep -q '^int8 .*4/4 images bit-exact.*top-1 agrees with float on [0-4]/4 ([0-9.]*-[0-9.]*% at 95%)' '$tmp/v3.txt'"
	# Interrupted (SIGTERM, as Ctrl-C: a background job of sh ignores
	# SIGINT), validate --weights reports the images already run, marked
	# partial, then one error line.  --model fixes the model, so any data
	# serves: 399 images take about a minute on the emulated board.
	# The signal goes once QEMU has spent 1 s of CPU time on this run:
	# an image took it 0.18-0.2 s (18-20 clock ticks each over 10 and 40
	# images, /proc/PID/stat), so some are done and most are not, on a
	# machine of any load.  (A fixed 8 s sleep counted the start too:
	# loading, calibrating and connecting on a loaded machine could leave
	# no image run.)
	"$MN_TOP_BUILDDIR/tests/gen_data" npy "$tmp/big.npy" 400 32 32 3 u8 10 >/dev/null 2>&1
	hz=$(getconf CLK_TCK)
	c0=$(qemu_cpu)
	"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net --data "$tmp/big.npy" \
		--calib 1 --model "$tmp/out/model.int8.safetensors" --images 399 --json \
		>"$tmp/vi.json" 2>"$tmp/err" &
	vpid=$!
	i=0
	while [ $i -lt 3000 ] && kill -0 $vpid 2>/dev/null && [ $(($(qemu_cpu) - c0)) -lt "$hz" ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -TERM $vpid
	wait $vpid; rc=$?
	sed 's/^/# /' "$tmp/vi.json" "$tmp/err"
	got=$(sed -n 's/.*"images":\([0-9]*\),.*/\1/p' "$tmp/vi.json")
	check "interrupted validate --weights: exit 1, the images run so far as one JSON line marked partial, every one bit-exact" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/vi.json') -eq 1 ] && grep -q '\"images\":$got,\"int8_exact\":1.000000,.*,\"partial\":true}\$' '$tmp/vi.json' && [ '$got' -gt 0 ] && [ '$got' -lt 399 ]"
	check "...and one error line saying how many of the 399 ran" \
		grep -q "^micronas validate: interrupted after $got of 399 images" "$tmp/err"
	# The model's image has no synthetic weights: profile and validate
	# without --weights are refused with the image to run instead, not
	# "use a smaller network".
	"$mn" validate --port "$port" "$A" >/dev/null 2>"$tmp/err"; rc=$?
	grep -v '^micronas validate: estimating\|is emulated' "$tmp/err" >"$tmp/err1"
	check "validate without --weights on the model's image: one line naming the profiler firmware ($(cat "$tmp/err1"))" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] && grep -q 'deployed model.*micronas emulate. without --firmware' '$tmp/err1' && ! grep -q 'smaller network' '$tmp/err1'"
	# A profile refused at its first measurement keeps nothing, so it
	# leaves no partial file to block the run on the profiler firmware.
	printf '[network]\nchannels = 8\ncells = 1\n' >"$tmp/small.ini"
	"$mn" profile --port "$port" --preset "$tmp/small.ini" --repeats 1 -o "$tmp/t.ini" \
		>/dev/null 2>"$tmp/err"; rc=$?
	check "profile on the model's image: exit 1, one line, no partial file left ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && [ ! -e '$tmp/t.ini.partial' ] && ! grep -q 'kept in' '$tmp/err'"
	stop_emulator
else
	check "micronas emulate --firmware starts on the model's image: $(cat "$tmp/emu.err")" false
fi

# The profiler firmware carries no model.
if start_emulator; then
	"$mn" validate --port "$port" --weights "$tmp/w.safetensors" "$A" $net $dflag --calib 32 \
		--images 2 >/dev/null 2>"$tmp/err"; rc=$?
	grep -v '^micronas validate: estimating\|is emulated\|no CIFAR-10 data given' "$tmp/err" >"$tmp/err1"
	check "the profiler firmware is refused in one line naming the image ($(cat "$tmp/err1"))" \
		sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err1') -eq 1 ] && grep -q 'carries no deployed model.*emulate --firmware DIR/firmware/qemu-mps2-an500/fw.elf' '$tmp/err1'"
	"$mn" profile --port "$port" --preset "$tmp/small.ini" --repeats 1 -o "$tmp/t.ini" \
		>/dev/null 2>"$tmp/err"; rc=$?
	check "the same profile then runs on the profiler firmware ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && [ -s '$tmp/t.ini' ] && [ ! -e '$tmp/t.ini.partial' ]"
	stop_emulator
else
	check "micronas emulate starts: $(cat "$tmp/emu.err")" false
fi
tap_done
