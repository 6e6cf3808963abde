#!/bin/sh
# micronas ports / emulate / profile / validate from the outside, against the
# emulated board: the port line, profiling into a table, validate's JSON,
# an interrupted profile resumed, QEMU killed under a running command,
# emulate stopping QEMU on SIGTERM (no process left), a waiting board leaving
# the host's cores idle, and the second target
# (emulate --preset nucleo-f446re: the Cortex-M4 mps2-an386, profiled and
# validated the same way).  A missing QEMU or firmware fails here (emulate's
# message names the Debian package).
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
# shellcheck source=tests/lib/qemu.sh
. "$MN_TOP_SRCDIR/tests/lib/qemu.sh"
emu_begin

"$mn" ports >"$tmp/ports" 2>&1; rc=$?
check "ports exits 0" [ $rc -eq 0 ]
"$mn" ports --json >"$tmp/ports.json"; rc=$?
check "ports --json exits 0" [ $rc -eq 0 ]
check "ports --json: one object per line with the documented keys" \
	sh -c "! grep -v '^{\"name\":.*,\"transport\":.*,\"description\":.*,\"usb_vid\":.*,\"usb_pid\":.*,\"manufacturer\":.*,\"product\":.*,\"serial\":.*}\$' '$tmp/ports.json'"
sed 's/^/# /' "$tmp/ports.json"
check "ports --json: an unknown value is null, never \"\" ($(wc -l <"$tmp/ports.json") ports)" \
	sh -c "! grep -q ':\"\"[,}]' '$tmp/ports.json'"
"$mn" profile --repeats 3 2>"$tmp/err"; rc=$?
check "profile without --port is a usage error (2)" sh -c "[ $rc -eq 2 ] && grep -q 'no --port given' '$tmp/err'"
"$mn" validate --port /dev/ttyNOSUCH9 --preset nucleo-f746zg '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|' 2>"$tmp/err"; rc=$?
check "validate on a missing port exits 1 with one line" \
	sh -c "[ $rc -eq 1 ] && grep -q 'no such port' '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"
"$mn" validate --port /dev/null '|bad|' 2>"$tmp/err"; rc=$?
check "a malformed arch is refused before the board is touched" \
	sh -c "[ $rc -eq 1 ] && grep -q 'bad arch string' '$tmp/err'"
# Without --weights the board runs the preset's network: every shape flag,
# --input-channels too, is a usage error before the port is opened.
for f in "--resolution 16" "--input-channels 1"; do
	# shellcheck disable=SC2086
	timeout 20 "$mn" validate --port /dev/null '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|' \
		$f >"$tmp/out" 2>"$tmp/err"; rc=$?
	check "validate $f without --weights: exit 2, one line ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'shape flags go with --weights' '$tmp/err'"
done

timeout 30 "$mn" emulate --qemu no-such-qemu-here >"$tmp/out" 2>"$tmp/err"; rc=$?
check "emulate without QEMU names the Debian package" \
	sh -c "[ $rc -eq 1 ] && grep -q 'apt-get install qemu-system-arm' '$tmp/err' && [ ! -s '$tmp/out' ]"
timeout 30 "$mn" emulate --firmware /etc/hostname >"$tmp/out" 2>"$tmp/err"; rc=$?
check "emulate with a wrong image fails clearly ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'qemu-mps2-an500 build' '$tmp/err' && [ ! -s '$tmp/out' ]"
# A QEMU that names its pty, which is gone when micronas connects, and exits
# a moment later (the race CI met with a wrong image): the error still says
# QEMU stopped and why.
cat >"$tmp/quick-qemu" <<'EOF'
#!/bin/sh
echo "char device redirected to /dev/pts/999999 (label serial0)" >&2
echo "qemu: fatal: bad image" >&2
sleep 0.3
exit 1
EOF
chmod +x "$tmp/quick-qemu"
timeout 30 "$mn" emulate --qemu "$tmp/quick-qemu" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a QEMU gone before the connect is reported as stopped ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'QEMU exited' '$tmp/err' && grep -q 'bad image' '$tmp/err'"

if ! emu_start || [ -z "$qemu_pid" ]; then
	check "micronas emulate starts: $(cat "$tmp/emu.err")" false
	tap_done
	exit 1
fi
check "emulate prints the port first: $port" sh -c "echo '$port' | grep -q '^/dev/pts/[0-9]*\$'"

cat >"$tmp/small.ini" <<'EOF'
[network]
channels = 8
cells = 1
resolution = 16
classes = 10
EOF
timeout 60 "$mn" profile --port "$port" --preset "$tmp/small.ini" -o "$tmp/small-lat.ini" \
	--repeats 3 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "profile a small network exits 0 ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "profile says what it wrote" grep -q "^wrote $tmp/small-lat.ini: 22 measurements" "$tmp/out"
check "the table is labelled instruction-based" grep -q '^source = .*INSTRUCTION-BASED' "$tmp/small-lat.ini"
check "no partial file left" [ ! -e "$tmp/small-lat.ini.partial" ]
# A waiting board must leave the host's cores alone: the firmware sleeps in
# WFI until the UART has a byte (a polling loop kept QEMU at a whole core).
# check_idle TEXT: QEMU ($qemu_pid) used under 15% of a core over 2 s.
check_idle() {
	hz=$(getconf CLK_TCK)
	t0=$(awk '{ print $14 + $15 }' "/proc/$qemu_pid/stat"); sleep 2
	t1=$(awk '{ print $14 + $15 }' "/proc/$qemu_pid/stat")
	check "$1 ($((t1 - t0)) of $((2 * hz)) ticks in 2 s)" [ $((100 * (t1 - t0))) -lt $((15 * 2 * hz)) ]
}
check_idle "the waiting emulated board uses under 15% of a core"

A='|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'
B='|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|'
timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" --latency-table "$tmp/small-lat.ini" \
	--json "$A" "$B" >"$tmp/val.json" 2>"$tmp/err"; rc=$?
check "validate --json exits 0 ($(cat "$tmp/err"))" [ $rc -eq 0 ]
check "...with the table profiled on this board: no note of another board" \
	sh -c "! grep -q 'another board' '$tmp/err'"
check "one line per arch" [ "$(wc -l <"$tmp/val.json")" -eq 2 ]
num='-\{0,1\}[0-9][0-9]*\.[0-9]*'
check "JSON keys exactly arch, measured_ms, estimated_ms, error_pct, measured_sram_kb, estimated_sram_kb, board" \
	sh -c "[ \$(grep -c '^{\"arch\":\"|[^\"]*|\",\"measured_ms\":$num,\"estimated_ms\":$num,\"error_pct\":$num,\"measured_sram_kb\":$num,\"estimated_sram_kb\":$num,\"board\":\"qemu-mps2-an500\"}\$' '$tmp/val.json') -eq 2 ]"
sed 's/.*"measured_sram_kb":\([0-9.]*\),"estimated_sram_kb":\([0-9.]*\),.*/\1 \2/' "$tmp/val.json" >"$tmp/sram"
check "measured peak SRAM equals the estimate ($(tr '\n' ' ' <"$tmp/sram"))" \
	sh -c "awk '\$1 != \$2 { bad = 1 } END { exit bad }' '$tmp/sram'"
check "latency error within 3% ($(sed 's/.*"error_pct":\([-0-9.]*\).*/\1/' "$tmp/val.json" | tr '\n' ' '))" \
	sh -c "sed 's/.*\"error_pct\":\([-0-9.]*\).*/\1/' '$tmp/val.json' | awk '\$1 > 3 || \$1 < -3 { bad = 1 } END { exit bad }'"
timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" --latency-table "$tmp/small-lat.ini" \
	"$A" >"$tmp/val.txt" 2>"$tmp/err"; rc=$?
check "validate (text) shows measured and estimated" \
	sh -c "[ $rc -eq 0 ] && grep -q '^latency    measured .* ms, estimated .* ms, error ' '$tmp/val.txt' && grep -q '^peak SRAM  measured' '$tmp/val.txt' && ! grep -q MISMATCH '$tmp/val.txt'"
check "a table of this firmware brings no note" sh -c "! grep -q 'profiled on firmware' '$tmp/err'"
# The same table as an older firmware wrote it: validate still runs, with a
# note naming both versions and the fix.
sed 's/^\(source = micronas profile on [^ ]* fw \)[^:]*:/\10.1.0:/' "$tmp/small-lat.ini" >"$tmp/old-lat.ini"
timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" --latency-table "$tmp/old-lat.ini" \
	"$A" >"$tmp/val.txt" 2>"$tmp/err"; rc=$?
echo "# $(grep note "$tmp/err")"
check "a table profiled on another firmware: a note naming both versions and 'micronas profile'" \
	sh -c "[ $rc -eq 0 ] && grep -q '^latency    measured' '$tmp/val.txt' && grep -q 'note: the latency table was profiled on firmware 0.1.0 and the board runs [0-9].*run .micronas profile. again' '$tmp/err'"
timeout 60 "$mn" validate --port "$port" --latency-table "$tmp/small-lat.ini" "$A" 2>"$tmp/err"; rc=$?
check "a table made for another network is refused" sh -c "[ $rc -eq 1 ] && grep -q 'small-lat.ini' '$tmp/err'"

# An interrupted profile keeps its measurements and resumes.
"$mn" profile --port "$port" -o "$tmp/full.ini" --repeats 10 >"$tmp/out" 2>"$tmp/err" &
prof=$!
# (The loop ends as soon as 3 are kept; its bound only stops a hang.)
i=0
while [ $i -lt 2400 ] && kill -0 $prof 2>/dev/null; do
	c=$(grep -c '^stage' "$tmp/full.ini.partial" 2>/dev/null)
	[ "${c:-0}" -ge 3 ] && break
	sleep 0.05; i=$((i + 1))
done
kill -TERM $prof
wait $prof; rc=$?
check "SIGTERM stops profile with exit 1 ($(cat "$tmp/err"))" [ $rc -eq 1 ]
check "it says what it kept and how to resume" \
	grep -q "interrupted: [0-9]* of 22 measurements kept in $tmp/full.ini.partial (run the same command again to resume)" "$tmp/err"
kept=$(grep -c ' = [0-9]*$' "$tmp/full.ini.partial" 2>/dev/null)
check "the partial file holds measurements" [ -n "$kept" ]
timeout 60 "$mn" profile --port "$port" -o "$tmp/full.ini" --repeats 3 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "resuming with other settings is refused, nothing lost" \
	sh -c "[ $rc -eq 1 ] && grep -q 'another run (--repeats 10, now 3)' '$tmp/err' && [ -e '$tmp/full.ini.partial' ]"
timeout 90 "$mn" profile --port "$port" -o "$tmp/full.ini" --repeats 10 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "the same command resumes and finishes ($(cat "$tmp/out"))" [ $rc -eq 0 ]
check "it said it resumed" grep -q "resuming from $tmp/full.ini.partial" "$tmp/err"
check "measurements were taken from the partial file" grep -q '([1-9][0-9]* resumed)' "$tmp/out"
check "table written, partial removed" sh -c "[ -s '$tmp/full.ini' ] && [ ! -e '$tmp/full.ini.partial' ]"

# QEMU killed while validate waits: a clear error, no hang; emulate notices.
H='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
timeout 120 "$mn" validate --port "$port" --latency-table "$tmp/full.ini" "$H" "$H" "$H" "$H" "$H" "$H" >"$tmp/out" 2>"$tmp/err" &
val=$!
# Six archs of two ~0.4 G-instruction inferences each.  QEMU is killed once
# the first arch's result is printed: validate has then sent the second
# RUN_ARCH and waits for its reply.  (A fixed 2 s sleep could end before the
# handshake on a loaded machine: connecting takes up to 1 s, as QEMU polls a
# reopened pty, and the kill then hit the HELLO.)
i=0
while [ $i -lt 1200 ] && kill -0 $val 2>/dev/null && ! grep -q '^arch ' "$tmp/out"; do
	sleep 0.1; i=$((i + 1))
done
kill -KILL "$qemu_pid"
start=$(date +%s)
wait $val; rc=$?
secs=$(( $(date +%s) - start ))
check "validate fails when QEMU is killed after the first arch (exit $rc, $(grep -c '^arch ' "$tmp/out") arch done)" \
	sh -c "[ $rc -eq 1 ] && [ \$(grep -c '^arch ' '$tmp/out') -eq 1 ]"
# A hang would wait out the RUN_ARCH timeout (25 s for this arch:
# mn_board_timeout_ms of its mn_board_run_work).
check "within seconds of the kill (${secs}s), not a hang" [ $secs -le 20 ]
check "one line: the board went away ($(tail -n 1 "$tmp/err"))" \
	sh -c "tail -n 1 '$tmp/err' | grep -q 'went away while waiting for the RUN_ARCH reply' && [ \$(grep -c 'went away' '$tmp/err') -eq 1 ]"
wait_gone "$emu_pid" 5
wait "$emu_pid"; rc=$?
emu_pid=
check "emulate exits 1 when QEMU dies under it" [ $rc -eq 1 ]
check "and says so" grep -q 'QEMU stopped on its own (killed by signal 9)' "$tmp/emu.err"

# emulate on a unix socket, stopped by SIGTERM: QEMU is gone afterwards.
sock="$tmp/board.sock"
if emu_start --socket "$sock" && [ -n "$qemu_pid" ]; then
	check "socket port: $port" [ "$port" = "unix:$sock" ]
	timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" --latency-table "$tmp/small-lat.ini" \
		--json "$A" >"$tmp/val.json" 2>"$tmp/err"; rc=$?
	check "validate over the socket ($(cat "$tmp/err"))" [ $rc -eq 0 ]
	emu_stop; rc=$?
	check "emulate exits 0 on SIGTERM" [ $rc -eq 0 ]
	check "QEMU (pid $qemu_pid) is gone" wait_gone "$qemu_pid" 5
	check "the socket is removed" [ ! -e "$sock" ]
else
	check "emulate --socket starts: $(cat "$tmp/emu.err")" false
fi

# From any directory: the build tree's micronas finds its presets and its
# firmware beside itself, without MN_TOP_SRCDIR or MN_TOP_BUILDDIR, and says
# where it looked when something is missing.
mn_abs="$(cd "$(dirname "$mn")" && pwd)/micronas"
src_abs="$(cd "$MN_TOP_SRCDIR" && pwd)"
away="$tmp/away"
mkdir -p "$away/xdg"
# env -C: the program itself is the background job (its pid is $!).
away() { env -C "$away" -u MN_TOP_SRCDIR -u MN_TOP_BUILDDIR -u MN_FIRMWARE \
	XDG_CONFIG_HOME="$away/xdg" "$mn_abs" "$@"; }
away validate --port /dev/ttyNOSUCH9 --preset nucleo-f746zg "$A" 2>"$tmp/err"; rc=$?
check "from another directory --preset nucleo-f746zg is found in the program's tree ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'no such port' '$tmp/err'"
away search --preset no-such-preset 2>"$tmp/err"; rc=$?
check "a preset not found names the places looked in, the program's tree among them" \
	sh -c "[ $rc -eq 1 ] && grep -qF '$src_abs/presets/no-such-preset.ini' '$tmp/err' && grep -qF '$away/xdg/micronas/no-such-preset.ini' '$tmp/err'"
# env -C: the program itself is the background job (its pid is $!).
emu_launch env -C "$away" -u MN_TOP_SRCDIR -u MN_TOP_BUILDDIR -u MN_FIRMWARE XDG_CONFIG_HOME="$away/xdg" \
	"$mn_abs" emulate
check "from another directory micronas emulate finds the firmware and starts ($(cat "$tmp/emu.err"))" \
	grep -q '^/dev/pts/[0-9]*$' "$tmp/emu.out"
emu_stop
# The second target: each board's preset starts its own emulated counterpart.
timeout 30 "$mn" emulate --preset no-such-board >"$tmp/out" 2>"$tmp/err"; rc=$?
check "emulate --preset with an unknown preset exits 1 ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && grep -q \"preset 'no-such-board' not found\" '$tmp/err' && [ ! -s '$tmp/out' ]"
MN_FIRMWARE="$MN_TOP_BUILDDIR/fw-profiler/build/qemu-mps2-an500/fw.elf" timeout 30 "$mn" emulate \
	--preset nucleo-f446re >"$tmp/out" 2>"$tmp/err"; rc=$?
check "the M7 image for the M4 preset is refused, naming both ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'answers as qemu-mps2-an500, not qemu-mps2-an386' '$tmp/err' && [ ! -s '$tmp/out' ]"
if emu_start --preset nucleo-f446re && [ -n "$qemu_pid" ]; then
	check "emulate --preset nucleo-f446re prints the port first: $port" \
		sh -c "echo '$port' | grep -q '^/dev/pts/[0-9]*\$'"
	check "QEMU runs -M mps2-an386 with the qemu-mps2-an386 image" \
		sh -c "tr '\\0' ' ' </proc/$qemu_pid/cmdline | grep -q -- '-M mps2-an386 .*qemu-mps2-an386/fw.elf'"
	check_idle "and it waits without using a core either"
	timeout 60 "$mn" profile --port "$port" --preset "$tmp/small.ini" -o "$tmp/m4-lat.ini" \
		--repeats 3 >"$tmp/out" 2>"$tmp/err"; rc=$?
	check "profile the M4 board ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && grep -q '^board = qemu-mps2-an386' '$tmp/m4-lat.ini'"
	sed -n '/^\[stage0\]/,$p' "$tmp/m4-lat.ini" >"$tmp/m4-ops"
	sed -n '/^\[stage0\]/,$p' "$tmp/small-lat.ini" >"$tmp/m7-ops"
	check "its measurements differ from the M7 image's (other code, other instruction counts)" \
		sh -c "[ -s '$tmp/m4-ops' ] && ! cmp -s '$tmp/m4-ops' '$tmp/m7-ops'"
	timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" --latency-table "$tmp/m4-lat.ini" \
		--json "$A" "$B" >"$tmp/val.json" 2>"$tmp/err"; rc=$?
	check "validate on the M4 board ($(cat "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && [ \$(grep -c '\"board\":\"qemu-mps2-an386\"' '$tmp/val.json') -eq 2 ] && ! grep -q 'another board' '$tmp/err'"
	check "M4 latency error within 2% ($(sed 's/.*"error_pct":\([-0-9.]*\).*/\1/' "$tmp/val.json" | tr '\n' ' '))" \
		sh -c "sed 's/.*\"error_pct\":\([-0-9.]*\).*/\1/' '$tmp/val.json' | awk '\$1 > 2 || \$1 < -2 { bad = 1 } END { exit bad }'"
	sed 's/.*"measured_sram_kb":\([0-9.]*\),"estimated_sram_kb":\([0-9.]*\),.*/\1 \2/' "$tmp/val.json" >"$tmp/sram"
	check "M4 measured peak SRAM equals the estimate ($(tr '\n' ' ' <"$tmp/sram"))" \
		sh -c "awk '\$1 != \$2 { bad = 1 } END { exit bad }' '$tmp/sram'"
	# A table of the other board: validate runs, and says whose times the
	# estimate holds and the fix.
	timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" "$A" >/dev/null 2>"$tmp/err"; rc=$?
	check "the M7 preset's cycle model on the M4 board: a note naming both boards and the fix ($(grep 'another board' "$tmp/err"))" \
		sh -c "[ $rc -eq 0 ] && grep -q 'note: the board is qemu-mps2-an386, but the latency table.s times are of another board (the preset.s nucleo-f746zg (emulated: qemu-mps2-an500)).*give this board.s --preset or --latency-table' '$tmp/err'"
	timeout 60 "$mn" validate --port "$port" --preset "$tmp/small.ini" --latency-table "$tmp/small-lat.ini" \
		"$A" >/dev/null 2>"$tmp/err"; rc=$?
	check "a table profiled on the M7's emulated board: the note names it" \
		sh -c "[ $rc -eq 0 ] && grep -q 'another board (profiled on qemu-mps2-an500)' '$tmp/err'"
	emu_stop; rc=$?
	check "emulate --preset exits 0 on SIGTERM, QEMU gone" sh -c "[ $rc -eq 0 ] && ! kill -0 $qemu_pid 2>/dev/null"
else
	check "emulate --preset nucleo-f446re starts: $(cat "$tmp/emu.err")" false
fi

tap_done
