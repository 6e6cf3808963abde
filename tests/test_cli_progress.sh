#!/bin/sh
# The long commands (score --all, atlas, profile) stay quiet and parseable
# without a terminal (no progress bar, no carriage returns: one notice line
# at most, and the resume line) and show progress with an ETA on one
# (a pty from script(1)).  The ETA arithmetic after a resume is
# test_cli_eta's.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
# shellcheck source=tests/lib/qemu.sh
. "$MN_TOP_SRCDIR/tests/lib/qemu.sh"
emu_begin
XDG_CACHE_HOME="$tmp/cache"; export XDG_CACHE_HOME
fast="--batch 8 --repeat 1 --ntk-grad fixed-stats --threads 2 --az-channels 4 --az-cells 1"
cd "$tmp" || exit 1
quiet() { # quiet FILE: no carriage return, no bar, no ETA
	! grep -q "$(printf '\r')" "$1" && ! grep -q 'ETA' "$1" && ! grep -q '\[#*\.*\]' "$1"
}

"$mn" score --all --max 3 --out s.csv $fast >s.out 2>s.err; rc=$?
sed 's/^/# score: /' s.err
quiet s.err; q=$?
check "score --all without a terminal: exit 0, no progress on stderr" [ $rc -eq 0 -a $q -eq 0 ]
check "...stderr holds at most the data notice" [ "$(wc -l <s.err)" -le 1 ]
"$mn" score --all --max 6 --out s.csv $fast >s.out 2>s.err; rc=$?
sed 's/^/# score resumed: /' s.err
check "resumed: one line says what was resumed, still no progress" \
	sh -c "[ $rc -eq 0 ] && grep -q 'resuming: 3 of 15625 archs already in s.csv' s.err"
quiet s.err; check "...and no progress" [ $? -eq 0 ]
"$mn" atlas --max 3 --out a.csv $fast >a.out 2>a.err; rc=$?
quiet a.err; q=$?
check "atlas without a terminal: exit 0, no progress" [ $rc -eq 0 -a $q -eq 0 ]

if command -v script >/dev/null 2>&1; then
	script -qc "'$mn' score --all --max 9 --out s.csv $fast" /dev/null </dev/null >tty.out 2>&1
	tr '\r' '\n' <tty.out | grep ETA | tail -n 2 | sed 's/^/# tty: /'
	check "on a terminal: a bar with the rate and an ETA" grep -Eq '\] [0-9]+/15625 archs +[0-9.]+ archs/s +ETA ' tty.out
	check "...the first report after a resume: rate 0, ETA unknown (the resumed rows took no time now)" \
		sh -c "tr '\r' '\n' <tty.out | grep ETA | head -n 1 | grep -Eq ' [0-9]+/15625 archs  0.00 archs/s  ETA \\?'"
else
	check "script(1) to give a terminal (apt-get install bsdutils)" false
fi

# profile, against the emulated board.
emu_start
check "the emulated board starts" [ -n "$port" ]
"$mn" profile --port "$port" --repeats 1 -o t.ini >p.out 2>p.err; rc=$?
check "profile without a terminal: exit 0, nothing on stderr" sh -c "[ $rc -eq 0 ] && [ ! -s p.err ]"
check "...one parseable line on stdout" sh -c "[ \$(wc -l <p.out) -eq 1 ] && grep -Eq '^wrote t.ini: [0-9]+ measurements \([0-9]+ resumed\)' p.out"
if command -v script >/dev/null 2>&1; then
	script -qc "'$mn' profile --port '$port' --repeats 1 -o t2.ini" /dev/null </dev/null >ptty.out 2>&1
	check "profile on a terminal: each step with an ETA" grep -Eq '\[ *[0-9]+/[0-9]+\] ETA ([0-9hms]+|\?) ' ptty.out
fi
tap_done
