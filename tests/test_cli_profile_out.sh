#!/bin/sh
# micronas profile -o DEST checks DEST before measuring anything: a
# directory, a path whose directory does not exist, or an empty name fail at
# once with one line naming DEST, the board untouched (no .partial file, no
# progress), instead of measuring the whole board and then failing to write.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
# shellcheck source=tests/lib/qemu.sh
. "$MN_TOP_SRCDIR/tests/lib/qemu.sh"
emu_begin
mkdir "$tmp/dir"

# Without a board: the destination is refused before the port is opened.
"$mn" profile --port /dev/ttyNOSUCH9 -o "$tmp/dir" >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "-o DIR (a directory): exit 1, one line naming DIR, before the port is opened" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q 'is a directory' '$tmp/err' && ! grep -q 'port' '$tmp/err'"
"$mn" profile --port /dev/ttyNOSUCH9 -o "$tmp/no/such/t.ini" >/dev/null 2>"$tmp/err"; rc=$?
echo "# $(cat "$tmp/err")"
check "-o in a missing directory: exit 1, one line naming the path" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q '$tmp/no/such/t.ini' '$tmp/err' && ! grep -q 'port' '$tmp/err'"
"$mn" profile --port /dev/ttyNOSUCH9 --output= >/dev/null 2>"$tmp/err"; rc=$?
check "an empty -o: exit 1" sh -c "[ $rc -eq 1 ] && ! grep -q 'port' '$tmp/err'"

# With the emulated board running: still nothing measured.
emu_start
check "the emulated board starts" [ -n "$port" ]
start=$(date +%s)
(cd "$tmp" && "$mn" profile --port "$port" --repeats 1 -o dir >out 2>err); rc=$?
secs=$(( $(date +%s) - start ))
echo "# ${secs}s: $(cat "$tmp/err")"
check "-o DIR with a live board: exit 1 naming DIR" \
	sh -c "[ $rc -eq 1 ] && grep -q 'dir: is a directory' '$tmp/err'"
check "...nothing measured: no progress, no .partial file, DIR unchanged" \
	sh -c "! grep -q '\[ *[0-9]*/' '$tmp/err' && [ -z \"\$(ls -A '$tmp/dir')\" ] && ! ls '$tmp' | grep -q partial"
tap_done
