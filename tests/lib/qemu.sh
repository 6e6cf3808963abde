# The emulated board (`micronas emulate` running QEMU) for the shell tests,
# sourced after tap.sh as . "$MN_TOP_SRCDIR/tests/lib/qemu.sh".  The script
# sets $mn (the micronas program) and $tmp (its scratch directory, made by
# emu_begin or by the script, whose EXIT trap then calls emu_stop).
qemu=${QEMU_SYSTEM_ARM:-qemu-system-arm}
emu_pid=

# emu_begin: $tmp, a scratch directory; on exit the emulator this script
# started is stopped and $tmp removed.
emu_begin() {
	tmp=$(mktemp -d)
	trap 'emu_stop; rm -rf "$tmp"' EXIT
}

# qemu_present: 0 when $qemu is on the PATH; otherwise one failing point
# naming the Debian package, and 1.
qemu_present() {
	command -v "$qemu" >/dev/null 2>&1 && return 0
	check "QEMU present: MISSING, install it: apt-get install qemu-system-arm" false
	return 1
}

# emu_launch COMMAND...: runs COMMAND (a `micronas emulate`) in the
# background, stdout in $tmp/emu.out, stderr in $tmp/emu.err, and waits up
# to $emu_wait tenths of a second (600 unless set) until it has printed its
# port and its "QEMU (pid N)" line, or has exited.  Sets emu_pid, port and
# qemu_pid; 0 when the port was printed.  The default outlasts emulate's own
# limits (10 s for QEMU's pty or socket, then 20 s for the firmware's
# answer), so a slow start ends in emulate's message, not in an empty port.
emu_launch() {
	# Emptied before the background start: the wait must not see the last
	# board's port.
	: >"$tmp/emu.out"
	"$@" >"$tmp/emu.out" 2>"$tmp/emu.err" &
	emu_pid=$!
	emu_i=0
	# emulate prints the port, then the QEMU line: wait for both, so that
	# qemu_pid is not read between the two.
	while [ $emu_i -lt "${emu_wait:-600}" ] && kill -0 "$emu_pid" 2>/dev/null &&
		! { [ -s "$tmp/emu.out" ] && grep -q 'QEMU (pid' "$tmp/emu.err"; }; do
		sleep 0.1; emu_i=$((emu_i + 1))
	done
	port=$(head -n 1 "$tmp/emu.out")
	qemu_pid=$(sed -n 's/.*QEMU (pid \([0-9]*\)).*/\1/p' "$tmp/emu.err")
	[ -n "$port" ]
}

# emu_start ARGS...: emu_launch "$mn" emulate ARGS...
emu_start() {
	emu_launch "$mn" emulate "$@"
}

# emu_stop: SIGTERM to the emulator this script started (by its pid, never
# by name), waits for it; returns its exit status (0 when none runs).
emu_stop() {
	[ -n "$emu_pid" ] || return 0
	kill -TERM "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
	emu_rc=$?
	emu_pid=
	return $emu_rc
}

# qemu_child PID: the pid of the QEMU that process PID started (the TUI's
# --emulate), empty when there is none.
qemu_child() {
	ps -o pid=,comm= --ppid "$1" | awk '/qemu/ {print $1}' | head -n 1
}

# wait_gone PID SECONDS: 0 once PID has exited (polling), 1 if still there.
wait_gone() {
	wg_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $wg_i -ge $(($2 * 10)) ] && return 1
		sleep 0.1; wg_i=$((wg_i + 1))
	done
	return 0
}
