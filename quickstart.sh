#!/bin/sh
# Quick start on Debian 12, as root:
#   ./quickstart.sh run     install what is missing, build, run the main job
#                           (extra arguments go to micronas search)
#   ./quickstart.sh check   install what is missing, build, run the test suite
set -e
# A wrong first word is told before anything is installed or built.
case "${1:-run}" in
run | check) ;;
*)
	echo "quickstart: unknown command '$1': give run or check (usage: $0 run|check)" >&2
	exit 2
	;;
esac
# The build runs in the checkout; the search in the caller's directory, so
# relative paths given to it (--data, --preset) mean what they say.
here=$(pwd)
cd "$(dirname "$0")"
top=$(pwd)

# Build tools, the seven libraries, the firmware toolchain, the emulator,
# tmux (the TUI tests drive the real interface in it) and Open MPI (atlas
# builds split among processes with mpirun; optional for the build).
packages="build-essential autoconf automake pkg-config libncurses-dev libopenblas-dev
 liblapacke-dev libserialport-dev libinih-dev libstb-dev libcjson-dev gcc-arm-none-eabi
 libnewlib-arm-none-eabi qemu-system-arm tmux openmpi-bin libopenmpi-dev"
# The test suite also runs the exported PyTorch model (micronas export).
[ "${1:-run}" = check ] && packages="$packages python3-torch"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "quickstart: missing Debian packages:$missing; run as root or: sudo apt-get install$missing" >&2
		exit 1
	fi
	echo "quickstart: installing$missing"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"

case "${1:-run}" in
run)
	# dash exits on a shift with nothing to shift (a special builtin's
	# error), whatever follows it: shift only when "run" was given.
	[ $# -eq 0 ] || shift
	# The main job: a hardware-aware search for the embedded default board
	# (NUCLEO-F746ZG), with a synthetic input batch unless --data is given.
	cd "$here"
	exec "$top/micronas" search "$@"
	;;
check)
	set +e
	make --no-print-directory check
	rc=$?
	# make may print its own error lines after the suite; end on the count.
	[ -f tests/logs/summary ] && cat tests/logs/summary
	exit $rc
	;;
esac
