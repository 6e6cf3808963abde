# Waiting on another process's state rather than on time, for the shell
# tests, sourced after tap.sh as . "$MN_TOP_SRCDIR/tests/lib/proc.sh".

# blocks_term PID: 0 when PID, a background job of this shell, has started
# its program (its executable is no longer this shell's: between fork and
# exec the shell's child blocks every signal) and that program's main thread
# blocks SIGTERM (SigBlk in /proc/PID/status, bit 15).  micronas's
# long-running commands block it before they start their work and then stop
# cleanly on it; a SIGTERM sent before that ends the process by the default
# action instead.
blocks_term() {
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" != "$(readlink "/proc/$$/exe")" ] || return 1
	bt_mask=$(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[ -n "$bt_mask" ] || return 1
	# The low 32 signals (the last 8 hex digits) fit any shell's arithmetic.
	bt_low=$(printf '%s' "$bt_mask" | tail -c 8)
	[ $((0x$bt_low & 0x4000)) -ne 0 ]
}

# wait_blocks_term PID SECONDS: polls until PID blocks SIGTERM (0), or it
# has exited or SECONDS have passed (1).  The bound only stops a hang: a
# loaded machine may take seconds to start a program.
wait_blocks_term() {
	wbt_i=0
	while [ $wbt_i -lt $(($2 * 20)) ] && kill -0 "$1" 2>/dev/null; do
		blocks_term "$1" && return 0
		sleep 0.05; wbt_i=$((wbt_i + 1))
	done
	return 1
}
