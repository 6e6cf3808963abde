#!/bin/sh
# micronas atlas as a user runs it, at small settings on the synthetic batch:
# the cache file and its extension (--max twice), another seed's file, the
# pick of `search --method atlas` and its latency weight, the Pareto front,
# the missing-atlas hint, an atlas of the estimate's proxies alone
# (--proxies estimate: its own file, the same estimate values, picked from
# with or without the flag; another file refused naming the flag that differs),
# and a 2-rank mpirun against one process: the same
# rows, a stop (every rank, or rank 0 alone) and rank 0's write error resumed
# or reported with nothing lost.
mn="$MN_TOP_BUILDDIR/micronas"
. "$MN_TOP_SRCDIR/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
fast="--batch 8 --repeat 1 --ntk-grad fixed-stats --az-channels 4 --az-cells 1"
nolimits="--max-latency-ms 0 --max-sram-kb 0 --max-flash-kb 0"
rows() { grep -v '^#' "$1" | tail -n +2; }

"$mn" atlas $fast --max 12 >"$tmp/out1" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
path=$(tail -n 1 "$tmp/out1")
check "atlas --max 12 exits 0, its last line the file" sh -c "[ $rc -eq 0 ] && [ -f '$path' ]"
check "the file is in \$XDG_CACHE_HOME/micronas/" sh -c "case '$path' in '$tmp/cache/micronas/atlas-'*.csv) true;; *) false;; esac"
"$mn" atlas $fast --max 6 --json >"$tmp/out2" 2>"$tmp/err"; rc=$?
cat "$tmp/out2" | sed 's/^/# /'
check "then --max 6 extends the same file to 18 archs" sh -c "[ $rc -eq 0 ] && [ \$(grep -v '^#' '$path' | tail -n +2 | wc -l) -eq 18 ]"
check "--json: path, archs, complete" grep -q "^{\"path\":\"$path\",\"archs\":18,\"complete\":false}\$" "$tmp/out2"
check "the settings lines record the estimate's network (--az-channels 4 --az-cells 1)" \
	grep -q '^# proxy_network: .*az_channels=4 az_cells=1 ' "$path"
check "no arch twice" [ "$(rows "$path" | cut -d, -f1 | sort | uniq -d | wc -l)" -eq 0 ]
"$mn" atlas $fast --max 2 --seed 3 >"$tmp/out3" 2>/dev/null
other=$(tail -n 1 "$tmp/out3")
check "another seed gives another file" sh -c "[ -f '$other' ] && [ '$other' != '$path' ]"
check "with other archs first (the seed's order)" sh -c "[ \"\$(grep -v '^#' '$other' | tail -n +2 | head -n 2 | cut -d, -f1)\" != \"\$(grep -v '^#' '$path' | tail -n +2 | head -n 2 | cut -d, -f1)\" ]"

"$mn" search --method atlas $fast $nolimits --w-flops 0 --w-latency 0 --json >"$tmp/p0" 2>"$tmp/err"; rc=$?
cat "$tmp/p0" | sed 's/^/# /'
check "search --method atlas exits 0" [ $rc -eq 0 ]
check "its JSON has the search keys, method and atlas_archs" \
	grep -q '^{"arch":"[^"]*","flops_m":.*"latency_ms":.*"sram_kb":.*"flash_kb":.*"seconds":.*"method":"atlas","atlas_archs":18,' "$tmp/p0"
check "...and the limits it picked within (none here)" \
	grep -q '"limits":{"max_latency_ms":0,"max_sram_kb":0,"max_flash_kb":0},' "$tmp/p0"
# (its speed is a bench figure, bench_atlas, not a timed test)
check "and names the atlas file it used" grep -qF "\"atlas\":\"$path\"" "$tmp/p0"
"$mn" atlas --pareto latency $fast >"$tmp/front" 2>/dev/null; rc=$?
sed 's/^/# /' "$tmp/front"
check "the latency front: CSV by increasing latency and estimate" sh -c "[ $rc -eq 0 ] && tail -n +2 '$tmp/front' | awk -F, 'NR > 1 && !(\$3 >= l && \$2 > e) { bad = 1 } { l = \$3; e = \$2 } END { exit bad }'"
best=$(tail -n 1 "$tmp/front" | cut -d, -f1)
fastest=$(sed -n 2p "$tmp/front" | cut -d, -f1)
check "weights 0 pick the front's best estimate" grep -qF "\"arch\":\"$best\"" "$tmp/p0"
"$mn" search --method atlas $fast $nolimits --w-flops 0 --w-latency 100 --json >"$tmp/p1" 2>/dev/null
check "a large latency weight picks the front's fastest arch" grep -qF "\"arch\":\"$fastest\"" "$tmp/p1"
lat() { sed 's/.*"latency_ms":\([0-9.]*\).*/\1/' "$1"; }
check "so a larger latency weight gives a pick of lower latency ($(lat "$tmp/p1") vs $(lat "$tmp/p0") ms)" \
	sh -c "[ '$best' = '$fastest' ] || awk 'BEGIN { exit !($(lat "$tmp/p1") < $(lat "$tmp/p0")) }'"
"$mn" search --method atlas $fast --seed 77 2>"$tmp/err"; rc=$?
cat "$tmp/err" | sed 's/^/# /'
check "no atlas yet: exit 1 with the command that builds it" \
	sh -c "[ $rc -eq 1 ] && grep -q 'build it with: micronas atlas --seed 77 --batch 8 --repeat 1 --init code --ntk-grad fixed-stats' '$tmp/err'"
"$mn" atlas $fast --max 1 --out "$other" 2>"$tmp/err"; rc=$?
check "extending another seed's file with these settings is refused" sh -c "[ $rc -eq 1 ] && grep -q 'seed 3, not 0' '$tmp/err'"

# --proxies estimate: NWOT, SWAP and ZiCo left out, the rest as in the full atlas.
"$mn" atlas $fast --max 12 --proxies estimate >"$tmp/oute" 2>"$tmp/err"; rc=$?
est=$(tail -n 1 "$tmp/oute")
est_dir=$(dirname "$est")
check "atlas --proxies estimate exits 0 with a file of its own" sh -c "[ $rc -eq 0 ] && [ -f '$est' ] && [ '$est' != '$path' ]"
check "its settings say so (all_proxies=0)" grep -q '^# proxy_network: .*all_proxies=0' "$est"
check "its NWOT, SWAP and ZiCo are nan in every row" \
	sh -c "[ \$(grep -v '^#' '$est' | tail -n +2 | grep -c ',nan,nan,nan\$') -eq 12 ]"
check "the other columns are the full atlas's, row for row" \
	sh -c "[ \"\$(grep -v '^#' '$est' | tail -n +2 | cut -d, -f1-7)\" = \"\$(grep -v '^#' '$path' | tail -n +2 | head -n 12 | cut -d, -f1-7)\" ]"
"$mn" search --method atlas $fast --seed 5 >/dev/null 2>"$tmp/err"; rc=$? # no atlas of seed 5 at all
check "no atlas of these settings, of either proxy set: exit 1, the command that builds it" \
	sh -c "[ $rc -eq 1 ] && grep -q 'no atlas for these settings yet .*; build it with: micronas atlas .*--seed 5' '$tmp/err'"
"$mn" atlas $fast --max 3 --seed 5 --proxies estimate >/dev/null 2>&1
"$mn" search --method atlas $fast $nolimits --seed 5 --proxies estimate --json >"$tmp/pe" 2>/dev/null; rc=$?
check "search --method atlas --proxies estimate picks from it" \
	sh -c "[ $rc -eq 0 ] && grep -q '\"method\":\"atlas\",\"atlas_archs\":3,' '$tmp/pe'"
# Without --proxies (all), the estimate's atlas of the same settings is
# read: it holds every proxy the pick reads.
"$mn" search --method atlas $fast $nolimits --seed 5 --json >"$tmp/pa" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "a missing full atlas: the pick is made from the estimate's one of the same settings, said on stderr" \
	sh -c "[ $rc -eq 0 ] && grep -q 'picking from the atlas built with --proxies estimate ($est_dir/' '$tmp/err' &&
	       [ \"\$(sed 's/,\"seconds\":[0-9.]*//' '$tmp/pa')\" = \"\$(sed 's/,\"seconds\":[0-9.]*//' '$tmp/pe')\" ]"
"$mn" search --method atlas $fast $nolimits --seed 5 >"$tmp/pt" 2>/dev/null
check "...and its settings line is that atlas's command (--proxies estimate)" \
	grep -q '^settings   micronas atlas .*--seed 5 .*--proxies estimate' "$tmp/pt"
check "...its SRAM and flash lines say no limit (as the pruning search's do)" \
	sh -c "grep -q '^SRAM .* KB (peak; no limit)\$' '$tmp/pt' && grep -q '^flash .* KB (runtime included; no limit)\$' '$tmp/pt'"
"$mn" search --method atlas $fast --seed 5 >"$tmp/pt" 2>/dev/null
check "...and, with the board's limits, name them" \
	sh -c "grep -q '^SRAM .* KB (peak; limit 320 KB)\$' '$tmp/pt' && grep -q '^flash .* KB (runtime included; limit 1024 KB)\$' '$tmp/pt'"
printf '[board]\nname = SMALL\nsram_kb = 16\nflash_kb = 120\nruntime_flash_kb = 100\n' >"$tmp/small.ini"
"$mn" search --method atlas --preset "$tmp/small.ini" $fast $nolimits --seed 5 --json >"$tmp/pj" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "without limits, a pick over a small board's SRAM and flash: noted on stderr as the pruning search notes it, JSON clean" \
	sh -c "[ $rc -eq 0 ] && grep -q 'note: the pick needs .* KB of flash .* more than the SMALL.s 120 KB; --max-flash-kb 120 searches only archs that fit' '$tmp/err' &&
	       grep -q 'note: the pick needs .* KB of SRAM at its peak, more than the SMALL.s 16 KB; --max-sram-kb 16' '$tmp/err' &&
	       [ \$(wc -l <'$tmp/pj') -eq 1 ] && grep -q '^{\"arch\":' '$tmp/pj'"
"$mn" atlas $fast --seed 5 --pareto latency >"$tmp/fr" 2>"$tmp/err"; rc=$?
check "atlas --pareto reads it too (a header and at least one row)" \
	sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$tmp/fr') -ge 2 ] && grep -q 'built with --proxies estimate' '$tmp/err'"
"$mn" atlas $fast --proxies most >/dev/null 2>"$tmp/err"; rc=$?
check "--proxies most: usage error naming the choices" sh -c "[ $rc -eq 2 ] && grep -q -- \"--proxies 'most' is not one of: all (every proxy), estimate\" '$tmp/err'"
# A file of other proxy-network settings is refused naming the flag that
# differs, not the settings line's internal fields (all_proxies=1).
"$mn" search --method atlas $fast --proxies estimate --atlas "$path" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "an atlas of all proxies given to --proxies estimate: refused naming --proxies" \
	sh -c "[ $rc -eq 1 ] && grep -q 'made with --proxies all, not --proxies estimate: ' '$tmp/err'"
cp "$path" "$tmp/before.csv"
"$mn" atlas $fast --az-cells 2 --max 1 --out "$path" >/dev/null 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "extending it with another --az-cells: refused naming --az-cells" \
	sh -c "[ $rc -eq 1 ] && grep -q 'made with --az-cells 1, not --az-cells 2: ' '$tmp/err'"
check "...and the file is untouched" cmp -s "$path" "$tmp/before.csv"
# A batch larger than the data: refused as atlas refuses it, not a hint
# whose command atlas would refuse.
"$mn" search --method atlas $fast --batch 2000 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "search --method atlas --batch 2000 on 1024 images: the batch refused, no build hint" \
	sh -c "[ $rc -eq 1 ] && grep -q -- '--batch 2000 is larger than the 1024 images' '$tmp/err' && ! grep -q 'build it with' '$tmp/err'"
# The hint's paths are quoted for the shell: pasted as printed, the
# command builds the very file asked for (a space and a quote in its name).
odd="$tmp/an atlas's.csv"
"$mn" search --method atlas $fast --atlas "$odd" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
hint=$(sed -n 's/.*build it with: //p' "$tmp/err")
(cd "$tmp" && PATH="$MN_TOP_BUILDDIR:$PATH" sh -c "$hint --max 1") >/dev/null 2>&1
check "a missing --atlas with a space and a quote: the hint, pasted, builds that file" \
	sh -c "[ $rc -eq 1 ] && [ -n \"\$(grep -v '^#' \"\$1\" | tail -n +2)\" ]" _ "$odd"

# Two builds of one file at once (two terminals, or one beside a TUI
# extending it): the second is refused in one line naming the first, and
# the first's file stays whole (no row twice, none torn) and resumable.
# Before, both wrote: a new file's head and rows over each other, or the
# same archs appended twice, and every later run refused the file.
# The first is stopped (SIGSTOP) while the second runs, so it cannot have
# finished its 30 archs and let the file go before the second tries it, however
# the two are scheduled; it goes on (SIGCONT) afterwards.
"$mn" atlas $fast --threads 1 --max 30 --seed 7 --out "$tmp/pair.csv" >/dev/null 2>"$tmp/err1" &
first=$!
i=0
while [ "$(rows "$tmp/pair.csv" 2>/dev/null | wc -l)" -lt 1 ] && [ $i -lt 1200 ] && kill -0 $first 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
kill -STOP $first
"$mn" atlas $fast --threads 1 --max 30 --seed 7 --out "$tmp/pair.csv" >/dev/null 2>"$tmp/err"; rc=$?
kill -CONT $first
wait $first; rc1=$?
sed 's/^/# /' "$tmp/err" | grep -v 'synthetic'
check "a second atlas on a file being written: exit 1, one line naming the other process" \
	sh -c "[ $rc -eq 1 ] && [ $rc1 -eq 0 ] && grep -q 'pair.csv: another micronas (pid $first) is writing this file' '$tmp/err' && [ \$(grep -vc synthetic '$tmp/err') -eq 1 ]"
check "...and the first one's file has its 30 archs, none twice" \
	sh -c "[ \$(grep -v '^#' '$tmp/pair.csv' | tail -n +2 | cut -d, -f1 | sort -u | wc -l) -eq 30 ] && [ \$(grep -v '^#' '$tmp/pair.csv' | tail -n +2 | wc -l) -eq 30 ]"
"$mn" atlas $fast --threads 1 --max 2 --seed 7 --out "$tmp/pair.csv" >/dev/null 2>&1; rc=$?
check "...which a rerun extends" sh -c "[ $rc -eq 0 ] && [ \$(grep -v '^#' '$tmp/pair.csv' | tail -n +2 | wc -l) -eq 32 ]"

# MPI: 2 ranks write the same rows as one process.
if "$mn" atlas --help | grep -q 'built with MPI' && command -v mpirun >/dev/null; then
	[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	# Under ./configure --enable-sanitizers, LeakSanitizer reports what Open
	# MPI's runtime keeps after MPI_Finalize, in components it has already
	# unloaded (the stacks have no symbols to suppress by).  Leak checks stay
	# on for every single-process run in this test, which covers the same
	# atlas code; ASan's other checks stay on for the ranks.
	mpi_env="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	"$mn" atlas $fast --max 10 --seed 4 --threads 1 --out "$tmp/one.csv" >/dev/null 2>&1
	env "$mpi_env" mpirun --oversubscribe -n 2 "$mn" atlas $fast --max 10 --seed 4 --out "$tmp/two.csv" >"$tmp/mpi" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/err"
	check "mpirun -n 2 exits 0 and prints the path once" sh -c "[ $rc -eq 0 ] && [ \"\$(cat '$tmp/mpi')\" = '$tmp/two.csv' ]"
	check "2 ranks write the same file as one process, row for row" cmp -s "$tmp/one.csv" "$tmp/two.csv"
	env "$mpi_env" mpirun --oversubscribe -n 2 "$mn" atlas $fast --max 5 --seed 4 --out "$tmp/two.csv" >/dev/null 2>&1
	# A usage error is said once, by rank 0, not once per rank.
	env "$mpi_env" mpirun --oversubscribe -n 2 "$mn" atlas $fast --max -1 >/dev/null 2>"$tmp/err"; rc=$?
	check "mpirun -n 2 with a bad --max: exit 2, the error said once ($(grep -c 'micronas atlas:' "$tmp/err") times)" \
		sh -c "[ $rc -eq 2 ] && [ \$(grep -c 'micronas atlas: --max needs' '$tmp/err') -eq 1 ]"
	# ... also when rank 0 is slow to start (a loaded machine): mpirun kills
	# the other ranks about a second after one exits non-zero, so a rank 1
	# that exited 2 first cut rank 0 off before it said what is wrong.
	printf '#!/bin/sh\n[ "$OMPI_COMM_WORLD_RANK" = 0 ] && sleep 3\nexec "$@"\n' >"$tmp/slow0"
	chmod +x "$tmp/slow0"
	env "$mpi_env" mpirun --oversubscribe -n 2 "$tmp/slow0" "$mn" atlas $fast --max -1 >/dev/null 2>"$tmp/err"; rc=$?
	check "mpirun -n 2, rank 0 slow to start, a bad --max: exit 2, said once ($(grep -c 'micronas atlas:' "$tmp/err") times)" \
		sh -c "[ $rc -eq 2 ] && [ \$(grep -c 'micronas atlas: --max needs' '$tmp/err') -eq 1 ]"
	env "$mpi_env" mpirun --oversubscribe -n 2 "$mn" atlas --help >"$tmp/out" 2>&1
	check "mpirun -n 2 atlas --help prints the usage once" [ "$(grep -c '^Usage: micronas atlas' "$tmp/out")" -eq 1 ]
	"$mn" atlas $fast --max 5 --seed 4 --out "$tmp/one.csv" >/dev/null 2>&1
	check "and resume it the same way" sh -c "cmp -s '$tmp/one.csv' '$tmp/two.csv' && [ \$(grep -v '^#' '$tmp/two.csv' | tail -n +2 | wc -l) -eq 15 ]"

	# A stop under mpirun: SIGTERM to every rank (what a process-group
	# signal does), then to rank 0 alone (rank 0 then tells rank 1 to stop
	# and cut its archs in flight; the handshake must not leave either rank
	# waiting).  Each keeps the rows written, and a rerun resumes them into
	# the file one process writes.  (How fast the ranks stop is a bench
	# figure, bench/bench_atlas_mpi.sh.)
	rank_pids() { # rank-number: the pids of this test's ranks with that rank
		for p in $(pgrep -f "atlas $fast --max 2000 --seed 5 --out $tmp/stop.csv"); do
			tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && echo "$p"
		done
	}
	for who in all 0; do
		rm -f "$tmp/stop.csv"
		env "$mpi_env" mpirun --oversubscribe -n 2 "$mn" atlas $fast --max 2000 --seed 5 --out "$tmp/stop.csv" >/dev/null 2>"$tmp/err" &
		job=$!
		i=0
		# (the bound only stops a hang: the loop ends at the 5th row)
		while [ $i -lt 2400 ] && kill -0 $job 2>/dev/null && [ "$(rows "$tmp/stop.csv" 2>/dev/null | wc -l)" -lt 5 ]; do
			sleep 0.05; i=$((i + 1))
		done
		if [ "$who" = all ]; then pids="$(rank_pids 0) $(rank_pids 1)"; else pids=$(rank_pids 0); fi
		kill -TERM $pids 2>/dev/null
		wait $job; rc=$?
		sed 's/^/# /' "$tmp/err" | grep -v '^# -*$' | head -n 5
		k=$(rows "$tmp/stop.csv" | wc -l)
		check "SIGTERM to rank(s) $who mid-build: the ranks end, rank 0 says what it kept ($k rows)" \
			sh -c "[ $rc -ne 0 ] && [ $k -ge 5 ] && [ $k -lt 2000 ] && grep -q 'interrupted: $k of 15625 archs in $tmp/stop.csv; rerun' '$tmp/err'"
		env "$mpi_env" mpirun --oversubscribe -n 2 "$mn" atlas $fast --max 10 --seed 5 --out "$tmp/stop.csv" >/dev/null 2>&1
		rm -f "$tmp/one.csv"
		"$mn" atlas $fast --max $((k + 10)) --seed 5 --out "$tmp/one.csv" >/dev/null 2>&1
		check "a rerun resumes it into the rows one process writes" cmp -s "$tmp/one.csv" "$tmp/stop.csv"
	done

	# Rank 0 failing mid-build (its disk full when it appends the first new
	# row: tests/fault_shim.so fails the flush) stops rank 1 too: the run
	# ends with rank 0's error, and the rows already in the file stay.
	mkdir "$tmp/full"
	"$mn" atlas $fast --max 3 --seed 6 --out "$tmp/full/f.csv" >/dev/null 2>&1
	cp "$tmp/full/f.csv" "$tmp/f3.csv"
	env "$mpi_env" mpirun --oversubscribe -n 2 -x LD_PRELOAD="$MN_TOP_BUILDDIR/tests/fault_shim.so" \
		-x MN_FAULT_DIR="$tmp/full" -x ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0" \
		"$mn" atlas $fast --max 50 --seed 6 --out "$tmp/full/f.csv" >/dev/null 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/err" | grep -v '^# -*$' | head -n 3
	check "rank 0's write error ends both ranks, exit non-zero, the error named" \
		sh -c "[ $rc -ne 0 ] && grep -q 'writing $tmp/full/f.csv failed: No space left on device (the rows written are kept; free some space there, then rerun to resume)' '$tmp/err'"
	# (The shim fails only the flush; what stdio buffered may still reach
	# the file at fclose, so the check is that the old rows are intact.)
	check "...and the file keeps its rows" sh -c "head -c \$(wc -c <'$tmp/f3.csv') '$tmp/full/f.csv' | cmp -s - '$tmp/f3.csv'"
else
	echo "# SKIP-NOTE micronas built without MPI (apt-get install openmpi-bin libopenmpi-dev, then ./configure)"
fi
tap_done
