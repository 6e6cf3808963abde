#!/bin/sh
# quickstart.sh's own steps, on a stand-in tree: dpkg-query says every
# package is installed, make does nothing, and ./micronas prints what it
# was run with, so nothing is installed or built here.
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree" "$tmp/bin" "$tmp/elsewhere"
cp "$MN_TOP_SRCDIR/quickstart.sh" "$tmp/tree/"
printf '#!/bin/sh\nexit 0\n' >"$tmp/tree/configure"
: >"$tmp/tree/Makefile"
printf '#!/bin/sh\necho "micronas $*"; pwd >"%s/cwd"\n' "$tmp" >"$tmp/tree/micronas"
printf '#!/bin/sh\necho "install ok installed"\n' >"$tmp/bin/dpkg-query"
printf '#!/bin/sh\necho make >>"%s/made"\n' "$tmp" >"$tmp/bin/make"
chmod +x "$tmp/tree/configure" "$tmp/tree/micronas" "$tmp/bin/dpkg-query" "$tmp/bin/make"
qs() { PATH="$tmp/bin:$PATH" sh "$tmp/tree/quickstart.sh" "$@"; }

# No argument means run (the script's default): before, dash's shift with
# nothing to shift ended the script with status 2 and no word after the
# build.
qs >"$tmp/out" 2>"$tmp/err"; rc=$?
check "no argument: runs micronas search, exit 0 (exit $rc: $(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 0 ] && grep -qx 'micronas search' '$tmp/out'"
qs run --w-latency 1 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "run ARGS: the arguments go to micronas search" \
	sh -c "[ $rc -eq 0 ] && grep -qx 'micronas search --w-latency 1' '$tmp/out'"
# Run from another directory: the search runs there, so a relative --data
# is the caller's file (before, it ran in the checkout).
(cd "$tmp/elsewhere" && qs run --data mine.bin) >"$tmp/out" 2>"$tmp/err"; rc=$?
check "run from another directory: the search runs in it ($(cat "$tmp/cwd"))" \
	sh -c "[ $rc -eq 0 ] && [ \"\$(cat '$tmp/cwd')\" = \"\$(cd '$tmp/elsewhere' && pwd)\" ]"

# A wrong first word: a usage error before anything is installed or built.
rm -f "$tmp/made"
qs bogus >"$tmp/out" 2>"$tmp/err"; rc=$?
check "bad command: exit 2, one line naming it and run|check ($(cat "$tmp/err"))" \
	sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/err') -eq 1 ] && grep -q \"'bogus'.*run or check\" '$tmp/err'"
check "bad command: nothing built first" [ ! -e "$tmp/made" ]
tap_done
