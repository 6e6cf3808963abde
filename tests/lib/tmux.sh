# The TUI driven in tmux for the shell tests, sourced after tap.sh as
# . "$MN_TOP_SRCDIR/tests/lib/tmux.sh".  Each script talks to a private
# server of its own ($sock, killed on exit), never to the user's.
sock="mn-$(basename "$0" .sh)-$$"
# Deadlines are generous (a TSan build is ~10x slower); MN_TUI_TEST_SLOW
# multiplies them further.
slow=${MN_TUI_TEST_SLOW:-1}

# tmux_present: 0 when tmux is on the PATH; otherwise one failing point
# naming the Debian package, and 1.
tmux_present() {
	command -v tmux >/dev/null 2>&1 && return 0
	check "tmux is installed (apt-get install tmux)" false
	return 1
}

# tmux_begin [FUNCTION]: $tmp, a scratch directory holding the evaluation
# cache (every search starts cold, no atlas of the user's is found), and
# $envs, the environment a pane's micronas runs with.  On exit (INT, TERM
# and HUP exit 1) the server is killed, FUNCTION runs (the script's own
# background processes, stopped by pid) and $tmp is removed.
tmux_begin() {
	tmp=$(mktemp -d)
	XDG_CACHE_HOME="$tmp/cache"
	export XDG_CACHE_HOME
	envs="MN_TOP_SRCDIR='$MN_TOP_SRCDIR' MN_TOP_BUILDDIR='$MN_TOP_BUILDDIR' QEMU_SYSTEM_ARM='${QEMU_SYSTEM_ARM:-qemu-system-arm}' XDG_CACHE_HOME='$XDG_CACHE_HOME'"
	tmux_also=${1:-:}
	trap tmux_end EXIT
	trap 'exit 1' INT TERM HUP
}
tmux_end() {
	tmux -L "$sock" kill-server 2>/dev/null
	"$tmux_also"
	rm -rf "$tmp"
}

# T ARGS...: tmux on the private server.
T() { tmux -L "$sock" "$@"; }
# cap SESSION FILE: the pane's text now.
cap() { T capture-pane -p -t "$1" >"$2" 2>/dev/null; }
# show LABEL FILE: a screen into the log, as TAP comments.
show() {
	echo "# ---- screen: $1"
	sed 's/^/# |/' "$2"
}
# poll SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds (0)
# or SECONDS (times $slow) have passed (1).
poll() {
	poll_n=$(($1 * slow * 5))
	shift
	poll_i=0
	while [ $poll_i -le $poll_n ]; do
		"$@" && return 0
		sleep 0.2
		poll_i=$((poll_i + 1))
	done
	return 1
}
# screen_has SESSION REGEX: captures the pane into $tmp/screen; 0 on a match.
screen_has() {
	cap "$1" "$tmp/screen"
	grep -Eq "$2" "$tmp/screen"
}
# wait_for SESSION REGEX SECONDS: polls until the screen matches; the last
# screen is left in $tmp/screen.  0 when found.
wait_for() { poll "$3" screen_has "$1" "$2"; }
# screen_lacks SESSION REGEX: captures the pane into $tmp/screen; 0 when it
# was captured and has no match.
screen_lacks() {
	cap "$1" "$tmp/screen" || return 1
	! grep -Eq "$2" "$tmp/screen"
}
# wait_without SESSION REGEX SECONDS: polls until the screen no longer
# matches (a box closed, a message replaced); the last screen is left in
# $tmp/screen.  0 when gone.  A fixed sleep before one capture is not
# enough on a loaded machine, where the redraw can come later.
wait_without() { poll "$3" screen_lacks "$1" "$2"; }
# wait_show SESSION REGEX SECONDS LABEL: wait_for, then the screen into the
# log under LABEL; wait_for's status.
wait_show() {
	wait_for "$1" "$2" "$3"
	ws_rc=$?
	show "$4" "$tmp/screen"
	return $ws_rc
}
# log_wait REGEX SECONDS: polls the live session log ($tmp/live.log).
log_wait() { poll "$2" log_has "$1"; }
log_has() { grep -Eq "$1" "$tmp/live.log" 2>/dev/null; }
# pane_child SESSION: the pid of the program the pane's shell runs.
pane_child() {
	sh_pid=$(T display-message -p -t "$1" '#{pane_pid}')
	ps -o pid= --ppid "$sh_pid" | tr -d ' ' | head -n 1
}
