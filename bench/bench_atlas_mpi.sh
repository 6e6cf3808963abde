#!/bin/sh
# How fast an atlas build split among MPI ranks stops (make bench): two
# ranks under mpirun, default settings, SIGTERM sent 3 and 6 s in, to every
# rank (what a signal to the job's process groups does) and to rank 0 alone
# (rank 0 then tells the other rank to stop).  The figure is the time from
# the signal until no rank is left, and the rows the file kept.
# mpirun's own exit is not the figure: when a rank exits non-zero (an
# interrupted build says exit 1) mpirun runs its kill sequence, SIGCONT,
# then SIGTERM a second later (odls_base_sigkill_timeout), to ranks that
# are already gone.
mn="$MN_TOP_BUILDDIR/micronas"
data="$MN_TOP_SRCDIR/../shared/data/cifar10/data_batch_subset.bin"
if ! "$mn" atlas --help | grep -q 'built with MPI' || ! command -v mpirun >/dev/null; then
	echo "bench_atlas_mpi: micronas was built without MPI (apt-get install openmpi-bin libopenmpi-dev, then ./configure)"
	exit 0
fi
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'pkill -TERM -f "$tmp/a.csv" 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
set --
[ -r "$data" ] && set -- --data "$data"
rows() { grep -v '^#' "$1" 2>/dev/null | tail -n +2 | wc -l; }
load() { cut -d' ' -f1 /proc/loadavg; }
echo "bench_atlas_mpi: 2 ranks, one thread each, $(nproc) cores, default settings${1:+, CIFAR-10 subset}"
# Ctrl-C's way: the signal to mpirun, which gives the ranks a second from
# its SIGTERM to their SIGKILL; rank 0 says what it kept only if it ends
# in time.
for delay in 3 6; do
	rm -f "$tmp/a.csv"
	mpirun --oversubscribe -n 2 "$mn" atlas "$@" --out "$tmp/a.csv" >/dev/null 2>"$tmp/err" &
	job=$!
	sleep "$delay"
	kill -TERM $job
	wait $job
	if grep -q 'interrupted:' "$tmp/err"; then said=yes; else said="no (killed first)"; fi
	echo "SIGTERM to mpirun ${delay} s in: rank 0 printed its 'interrupted' line: $said; $(rows "$tmp/a.csv") rows kept"
done
for who in all 0; do
	for delay in 3 6; do
		rm -f "$tmp/a.csv"
		l0=$(load)
		mpirun --oversubscribe -n 2 "$mn" atlas "$@" --out "$tmp/a.csv" >/dev/null 2>"$tmp/err" &
		job=$!
		sleep "$delay"
		pids=
		for p in $(pgrep -f "atlas.* --out $tmp/a.csv"); do
			[ "$(ps -o comm= -p "$p")" = mpirun ] && continue
			r=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
			[ "$who" = all ] || [ "$r" = 0 ] && pids="$pids $p"
			all="$all $p"
		done
		t0=$(date +%s.%N)
		kill -TERM $pids
		while :; do
			alive=
			for p in $all; do
				[ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && alive=1
			done
			[ -z "$alive" ] && break
			sleep 0.01
		done
		t1=$(date +%s.%N)
		wait $job
		all=
		echo "SIGTERM to rank(s) $who ${delay} s in: ranks gone after $(awk "BEGIN{printf \"%.3f\", $t1 - $t0}") s, $(rows "$tmp/a.csv") rows kept (load $l0 before)"
	done
done
