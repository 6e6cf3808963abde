#!/bin/sh
# The firmware Makefile's kept objects travel: built for a model's image
# without one (the objects target, as deploy-objects runs it) and copied
# elsewhere with their times (as deploy starts its cache from the build's
# or the installed deploy-objects), they are up to date there, and a
# header touched since rebuilds exactly the objects whose .d file names
# it: the .d files name their object as $(OBJDIR)/x.o, not by the path
# they were built at.  Works on a copy of fw-profiler/.  Needs
# arm-none-eabi-gcc (a missing one fails here, naming the Debian package).
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check "cross compiler present (else: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)" \
	sh -c "command -v arm-none-eabi-gcc >/dev/null"
command -v arm-none-eabi-gcc >/dev/null || tap_finish
mkdir "$tmp/src"
cp "$MN_TOP_SRCDIR"/fw-profiler/Makefile "$MN_TOP_SRCDIR"/fw-profiler/*.[chS] \
	"$MN_TOP_SRCDIR"/fw-profiler/*.ld "$tmp/src/"
# Times set outright, so that no file system's clock granularity decides:
# the sources from 2001, the objects as built (now), later from 2017, and
# a touched file from 2020.
touch -d @1000000000 "$tmp"/src/*
objects() { # OBJDIR: make the kept objects of the emulated M7 image there; how many compiled
	make --no-print-directory -C "$tmp/src" TARGET=qemu-mps2-an500 BUILDDIR="$tmp/build" \
		MODEL="$tmp/no-model" OBJDIR="$1" objects >"$tmp/log" 2>&1 || { echo "# $(tail -n 3 "$tmp/log")"; echo fail; return; }
	grep -Ec '^  (CC|AS) ' "$tmp/log"
}
n=$(objects "$tmp/a")
check "the objects target builds the image's shared objects, no image ($n compiled)" \
	sh -c "[ '$n' -ge 10 ] && [ -s '$tmp/a/qnet.o' ] && [ -s '$tmp/a/cc-version' ] && [ ! -e '$tmp/a/model_cmd.o' ] && [ ! -e '$tmp/build/qemu-mps2-an500/fw.elf' ]"
check "every .d file names its object as \$(OBJDIR)/x.o" \
	sh -c "for d in '$tmp'/a/*.d; do head -n 1 \"\$d\" | grep -q '^\$(OBJDIR)/[a-z_0-9]*\.o:' || exit 1; done"
mkdir "$tmp/b"
cp -p "$tmp"/a/* "$tmp/b/"
n=$(objects "$tmp/b")
check "copied with their times elsewhere, they are up to date ($n compiled)" [ "$n" = 0 ]
touch -d @1500000000 "$tmp"/b/*
touch -d @1600000000 "$tmp/src/qnet.h"
want=$(grep -l 'qnet\.h' "$tmp"/b/*.d | wc -l)
n=$(objects "$tmp/b")
check "qnet.h touched: the $want objects whose .d names it are rebuilt there ($n compiled)" \
	sh -c "[ '$want' -ge 2 ] && [ '$n' = '$want' ] && grep -q 'CC .*/b/qnet.o' '$tmp/log'"
touch -d @1500000000 "$tmp"/b/*
touch -d @1600000000 "$tmp/src/Makefile"
n=$(objects "$tmp/b")
want=$(ls "$tmp"/b/*.o | wc -l)
check "the Makefile (the flags) touched: all $want rebuilt ($n compiled)" [ "$n" = "$want" ]
tap_done
