#!/bin/sh
# The TUI driven for real in tmux (a private server, killed on exit): the
# emulated board comes up, a search runs and its rankings and progress move
# between two screens, a weight change re-ranks, the pick appears (and
# equals `micronas search`'s), the pick is validated on the emulated board
# and the board profiled, the result and the session log are saved, help,
# limits form, resize to 80x24 and to too small, quit with q (terminal modes
# restored, QEMU gone), SIGTERM and SIGINT (Ctrl-C) also restore the
# terminal, the ASCII fallback in the C locale, and `micronas` alone opening
# the TUI on a terminal but not in a pipe.
#
# Every screen captured is printed as TAP comments.  Missing tmux, QEMU or
# firmware fail the test naming the Debian package; a missing CIFAR-10 subset
# makes the search use the synthetic batch and says so in one SKIP-NOTE line.
mn="$MN_TOP_BUILDDIR/micronas"
top="$MN_TOP_SRCDIR"
. "$top/tests/tap.sh"
# shellcheck source=tests/lib/tmux.sh
. "$top/tests/lib/tmux.sh"
# shellcheck source=tests/lib/qemu.sh
. "$top/tests/lib/qemu.sh"

# ---- prerequisites: fail, naming the package --------------------------
tmux_present || tap_finish
check "tmux present ($(tmux -V))" true
qemu_present || tap_finish
check "QEMU present ($qemu)" true
fw="$MN_TOP_BUILDDIR/fw-profiler/build/qemu-mps2-an500/fw.elf"
if [ ! -f "$fw" ]; then
	if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
		check "firmware image $fw: not built; run make" false
	else
		check "firmware needs the cross compiler: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi, then configure and make" false
	fi
	tap_finish
fi
check "firmware image present" true

stop_cli() { [ -n "$cli_pid" ] && kill "$cli_pid" 2>/dev/null; }
cli_pid=
tmux_begin stop_cli

data="$top/../shared/data/cifar10/data_batch_subset.bin"
oracle="$top/../shared/data/nb201/nb201_cifar10.csv"
data_opt=
oracle_opt=
if [ -r "$data" ]; then
	data_opt="--data $data"
else
	echo "# SKIP-NOTE ../shared/data/cifar10/data_batch_subset.bin is not present: the TUI searched the synthetic batch"
fi
[ -r "$oracle" ] && oracle_opt="--oracle $oracle"
# Fast enough for a test, slow enough (~10 s) to see the search move.
fast="--batch 32 --repeat 2 --threads 1 --ntk-grad fixed-stats --az-channels 4 --az-cells 1"

# The same search from the command line, for the pick (weights of the TUI's
# second run), in the background meanwhile.
# shellcheck disable=SC2086
"$mn" search $data_opt $oracle_opt $fast --w-flops 0.5 --json >"$tmp/cli.json" 2>"$tmp/cli.err" &
cli_pid=$!

# ---- helpers ----------------------------------------------------------
field() { # field REGEX FILE: the first match, only the matching part
	grep -Eo "$1" "$2" | head -n 1
}

# ---- session a: the bench workflow at 100x30, UTF-8 --------------------
# Each session's shell writes stty.*.after before it prints TUI-EXIT, so a
# check that waits for that line finds the file complete (printed first, the
# line could be seen while stty was still writing it).
run_a="cd '$tmp' && stty -a >stty.before && env $envs LANG=C.UTF-8 LC_ALL=C.UTF-8 '$mn' tui $data_opt $oracle_opt $fast --no-extend --emulate --profile-repeats 1 --log '$tmp/live.log'; rc=\$?; stty -a >stty.after; echo TUI-EXIT=\$rc; sleep 600"
T new-session -d -s a -x 100 -y 30 "$run_a"

wait_show a "board emulated qemu-mps2-an500 fw [0-9]" 60 "start, emulated board up"
ok=$?
check "the status shows the emulated board and its firmware version" [ $ok -eq 0 ]
check "status: preset, data source, limits (the board's SRAM and flash), weights; footer with keys" \
	sh -c "grep -q 'preset default' '$tmp/screen' && grep -Eq 'data (data_batch_subset.bin|synthetic)' '$tmp/screen' &&
	       grep -q 'limits lat any, SRAM≤320 KB, flash≤1024 KB' '$tmp/screen' && grep -q 'weights flops 0, latency 1' '$tmp/screen' &&
	       tail -n 1 '$tmp/screen' | grep -q 's search' && tail -n 1 '$tmp/screen' | grep -q 'v validate' && tail -n 1 '$tmp/screen' | grep -q 'q quit'"
check "the search waits for s" grep -q 'Search idle: s starts it' "$tmp/screen"

tui_pid=$(pane_child a)
qemu_pid=$(qemu_child "$tui_pid")
check "QEMU runs as the TUI's child (pid ${qemu_pid:-none})" [ -n "$qemu_pid" ]

# Two screens mid-search with different progress and rankings.
T send-keys -t a s
first=
second=
i=0
while [ $i -le $((600 * slow)) ]; do
	cap a "$tmp/s"
	c=$(field 'RUNNING round [0-9]/3 cand [0-9]+/[0-9]+' "$tmp/s")
	if [ -n "$c" ] && grep -Eq '^.[1-3]<-[0-2] +[a-z0-9]+ +[-+][0-9]' "$tmp/s"; then
		if [ -z "$first" ]; then
			first=$c
			cp "$tmp/s" "$tmp/mid1"
		elif [ "$c" != "$first" ]; then
			second=$c
			cp "$tmp/s" "$tmp/mid2"
			break
		fi
	fi
	grep -q 'DONE round' "$tmp/s" && break
	sleep 0.1
	i=$((i + 1))
done
[ -f "$tmp/mid1" ] && show "mid-search 1 ($first)" "$tmp/mid1"
[ -f "$tmp/mid2" ] && show "mid-search 2 ($second)" "$tmp/mid2"
check "two mid-search screens: progress moved ($first -> $second)" test -n "$first" -a -n "$second"
check "the rankings changed between them" \
	sh -c "[ -f '$tmp/mid1' ] && [ -f '$tmp/mid2' ] && [ \"\$(grep -E '^.[1-3]<-[0-2] ' '$tmp/mid1' | cut -c1-58)\" != \"\$(grep -E '^.[1-3]<-[0-2] ' '$tmp/mid2' | cut -c1-58)\" ]"
check "mid-search: a progress bar, elapsed and ETA, candidates with dK/dR, ops left per edge" \
	sh -c "grep -Eq 'cand [0-9]+/[0-9]+ \[' '$tmp/mid2' && grep -Eq 'ETA ([0-9.]+s|[0-9]+m[0-9]+s|[0-9]+h[0-9]+m|\?)' '$tmp/mid2' &&
	       grep -q 'edge op' '$tmp/mid2' && grep -q 'Ops left' '$tmp/mid2' && grep -Eq '3<-2 (sk|··)' '$tmp/mid2'"

wait_show a 'DONE round 3/3' 600 "search done"
ok=$?
check "the search finishes" [ $ok -eq 0 ]
check "the pick is shown (compact arch, latency, FLOPs, SRAM, flash)" \
	grep -Eq 'Pick +(sk|c1|c3|ap|--) \| .* ms +[0-9.]+ MFLOPs +SRAM [0-9.]+ KB +flash' "$tmp/screen"
[ -n "$oracle_opt" ] && check "with the oracle: the pick's NAS-Bench-201 accuracy" grep -Eq 'Pick .* acc [0-9.]+%' "$tmp/screen"
check "round 3: 12 candidates, the op pruned on each of the 6 edges marked x" \
	sh -c "[ \$(grep -Ec '^x[1-3]<-[0-2] ' '$tmp/screen') -eq 6 ] && grep -q 'round 3/3 final 12/12' '$tmp/screen'"
pick1=$(field 'Pick +[^ ]+ \| [^|]+ \| [a-z0-9-]+ [a-z0-9-]+ [a-z0-9-]+' "$tmp/screen")

# The look-ahead: after the pick the engine measures the searches of the
# weights a few keys away (said on the progress line), so F below answers
# from the cache: its pick is made with no new evaluation.
look=0
grep -q 'measuring ahead' "$tmp/screen" && look=1
wait_for a 'measuring ahead' 5 && look=1
show "measuring ahead" "$tmp/screen"
wait_for a 'DONE round .* [0-9]+ evaluations *$' 600
ok=$?
show "look-ahead over" "$tmp/screen"
check "after the pick the progress line says it measures ahead, then stops" sh -c "[ $look -eq 1 ] && [ $ok -eq 0 ]"

# Sort by score (K: previous column from edge), then change the FLOPs weight.
T send-keys -t a K
wait_for a 'sort:score' 10
cp "$tmp/screen" "$tmp/before_w"
show "sorted by score, weights flops 0" "$tmp/before_w"
check "K sorts by the score column" grep -q 'sort:score' "$tmp/before_w"
T send-keys -t a F
wait_for a 'weights flops 0.5, latency 1' 10
ok=$?
cp "$tmp/screen" "$tmp/after_w"
show "right after F" "$tmp/after_w"
check "F raises the FLOPs weight to 0.5 at once" [ $ok -eq 0 ]
wait_for a 'DONE round 3/3' 600
cp "$tmp/screen" "$tmp/rerun"
show "re-ranked and re-run with flops 0.5" "$tmp/rerun"
scores() { grep -E '^.[1-3]<-[0-2] ' "$1" | cut -c1-57 | awk '{print $NF}' | tr '\n' ' '; }
check "the ranking changed with the weight (scores: $(scores "$tmp/before_w") -> $(scores "$tmp/rerun"))" \
	[ "$(scores "$tmp/before_w")" != "$(scores "$tmp/rerun")" ]
evals() { grep -Eo "latency 1, [0-9.]+ s, [0-9]+ evaluations\)" "$tmp/live.log" | sed -n "$1p" | grep -Eo '[0-9]+ evaluations'; }
check "F after the look-ahead: the new pick needed no new evaluation ($(evals 1) -> $(evals 2))" \
	sh -c "[ -n \"$(evals 2)\" ] && [ \"$(evals 1)\" = \"$(evals 2)\" ]"

# Validate the pick on the emulated board.
T send-keys -t a v
wait_show a 'Valid +measured [0-9.]+ ms' 120 "validated"
ok=$?
check "v validates the pick on the emulated board" [ $ok -eq 0 ]
meas=$(field 'SRAM [0-9.]+/[0-9.]+ KB' "$tmp/screen")
m1=$(echo "$meas" | sed 's|SRAM \([0-9.]*\)/.*|\1|')
m2=$(echo "$meas" | sed 's|.*/\([0-9.]*\) KB|\1|')
check "measured vs estimated latency with the error ($(field 'measured [0-9.]+ ms, est [0-9.]+ ms, err [-+][0-9.]+%' "$tmp/screen"))" \
	grep -Eq 'measured [0-9.]+ ms, est [0-9.]+ ms, err [-+][0-9.]+%' "$tmp/screen"
check "measured peak SRAM equals the estimate ($meas)" test -n "$m1" -a "$m1" = "$m2"

# Profile the board (1 repeat per op): progress, then the table.
T send-keys -t a p
wait_for a 'profile [0-9]+/22|wrote ' 60
show "profiling" "$tmp/screen"
wait_show a 'wrote .*qemu-mps2-an500-latency.ini' 120 "profiled"
ok=$?
check "p profiles the board into qemu-mps2-an500-latency.ini" \
	sh -c "[ $ok -eq 0 ] && grep -q '^\[stage2\]' '$tmp/qemu-mps2-an500-latency.ini'"

# Save: JSON with search --json's keys, the arch, the session log.
T send-keys -t a w
wait_for a 'Save BASE.json' 10
show "save box" "$tmp/screen"
T send-keys -t a Enter
wait_for a 'saved micronas-result.json' 10
ok=$?
check "w saves micronas-result.json, .arch, .log" \
	sh -c "[ $ok -eq 0 ] && [ -s '$tmp/micronas-result.json' ] && [ -s '$tmp/micronas-result.arch' ] && [ -s '$tmp/micronas-result.log' ]"
wait "$cli_pid"
cli_rc=$?
cli_pid=
keys() { sed 's/"rounds":\[.*\]/"rounds":[]/' "$1" | grep -Eo '"[a-z_]+":' | tr -d '\n'; }
check "micronas search --json ran (exit $cli_rc)" [ "$cli_rc" -eq 0 ]
check "the JSON has search --json's keys in its order ($(keys "$tmp/micronas-result.json"))" \
	sh -c "[ -n \"\$(cat '$tmp/cli.json')\" ] && [ \"$(keys "$tmp/micronas-result.json")\" = \"$(keys "$tmp/cli.json")\" ]"
tui_arch=$(sed 's/^{"arch":"\([^"]*\)".*/\1/' "$tmp/micronas-result.json")
cli_arch=$(sed 's/^{"arch":"\([^"]*\)".*/\1/' "$tmp/cli.json")
check "the TUI's pick equals micronas search's ($tui_arch)" test -n "$tui_arch" -a "$tui_arch" = "$cli_arch"
check "the .arch file holds the pick" [ "$(cat "$tmp/micronas-result.arch")" = "$tui_arch" ]
check "the JSON records weights flops 0.5" grep -q '"weights":{"flops":0.5,"latency":1}' "$tmp/micronas-result.json"
echo "# session log:"
sed 's/^/# log: /' "$tmp/micronas-result.log"
check "the session log has timestamped starts, weight change, picks, validation, profile" \
	sh -c "grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  search started' '$tmp/micronas-result.log' &&
	       grep -q 'weights changed: flops 0.5 latency 1' '$tmp/micronas-result.log' &&
	       [ \$(grep -c '  pick |' '$tmp/micronas-result.log') -ge 2 ] &&
	       grep -q 'validated |' '$tmp/micronas-result.log' && grep -q 'profiled ' '$tmp/micronas-result.log'"
check "--log wrote the same events as they happened" grep -q 'validated |' "$tmp/live.log"

# Help.
T send-keys -t a '?'
wait_show a 'keys \(any key closes\)' 10 "help"
ok=$?
check "? opens the help" [ $ok -eq 0 ]
T send-keys -t a Space
wait_without a 'any key closes' 10
ok=$?
check "any key closes it" [ $ok -eq 0 ]

# The limits form: a latency limit, drawn in the plot.
T send-keys -t a c
wait_for a 'Hard limits' 10
T send-keys -t a C-u 3 0 0 Enter
wait_for a 'limits lat≤300 ms' 10
ok=$?
wait_for a 'DONE round 3/3' 600
show "max latency 300 ms" "$tmp/screen"
check "c edits the limits (latency <= 300 ms shown, the line labelled in the plot)" \
	sh -c "[ $ok -eq 0 ] && grep -q 'max 300' '$tmp/screen'"
lat=$(grep '^Pick' "$tmp/screen" | grep -Eo '[0-9.]+ ms' | head -n 1 | awk '{print $1}')
check "the new pick is within 300 ms ($lat ms)" awk -v l="$lat" 'BEGIN { exit !(l != "" && l + 0 <= 300) }'

# Resize: 80x24 keeps every panel; too small says so.
# The redraw after a resize comes when the TUI gets to it: each screen is
# waited for (a fixed 1 s sleep could capture the old one on a loaded machine).
fits_80x24() {
	cap a "$tmp/screen" && [ "$(wc -l <"$tmp/screen")" -eq 24 ] && grep -q 'Search DONE' "$tmp/screen" &&
		grep -q '^Pick' "$tmp/screen" && grep -q 'Rankings' "$tmp/screen" && grep -q 'Ops left' "$tmp/screen" &&
		grep -Eq 'lat\(x\) vs acc|Trade-off|lat\(x\) vs proxy' "$tmp/screen" && tail -n 1 "$tmp/screen" | grep -q 'q quit'
}
T resize-window -t a -x 80 -y 24
poll 10 fits_80x24
ok=$?
show "80x24" "$tmp/screen"
check "at 80x24: status, progress, pick, rankings, ops, plot and footer fit" [ $ok -eq 0 ]
T resize-window -t a -x 50 -y 15
wait_show a 'needs 60x20' 10 "50x15"
ok=$?
check "too small: says the size it needs" [ $ok -eq 0 ]
T resize-window -t a -x 100 -y 30
wait_for a 'Search DONE' 10

# Quit: exit 0, terminal modes as before, QEMU stopped.
T send-keys -t a q
wait_for a 'TUI-EXIT=' 60
ok=$?
show "after q" "$tmp/screen"
check "q quits with status 0" grep -q 'TUI-EXIT=0' "$tmp/screen"
check "the terminal was restored (stty -a the same as before, the TUI's screen gone)" \
	sh -c "cmp -s '$tmp/stty.before' '$tmp/stty.after' && ! grep -q 'Rankings' '$tmp/screen'"
check "QEMU (pid $qemu_pid) was stopped" sh -c "! kill -0 $qemu_pid 2>/dev/null"

# ---- session b: C locale (ASCII), SIGTERM ------------------------------
# A cache of its own: session a's values (the same settings when ../shared
# is absent and both use the synthetic batch) would finish it at once.
run_b="cd '$tmp' && stty -a >stty.b.before && env $envs XDG_CACHE_HOME='$tmp/cache-b' LANG=C LC_ALL=C '$mn' tui $fast --no-extend --start; rc=\$?; stty -a >stty.b.after; echo TUI-EXIT=\$rc; sleep 600"
T new-session -d -s b -x 80 -y 24 "$run_b"
wait_show b 'RUNNING round [0-9]/3 cand ([4-9]|[1-9][0-9])/' 120 "C locale, mid-search"
ok=$?
check "C locale: the search runs (synthetic batch, said so)" \
	sh -c "[ $ok -eq 0 ] && grep -q 'data synthetic' '$tmp/screen'"
check "C locale: ASCII only (bar, plot, separators)" \
	sh -c "! LC_ALL=C grep -q '[^ -~]' '$tmp/screen' && grep -Eq '\[#+\.+\]' '$tmp/screen' && grep -q ' | ' '$tmp/screen'"
tui_pid=$(pane_child b)
kill -TERM "$tui_pid"
wait_show b 'TUI-EXIT=' 60 "after SIGTERM"
ok=$?
check "SIGTERM: the TUI ends (status 1) and says why" \
	sh -c "[ $ok -eq 0 ] && grep -q 'TUI-EXIT=1' '$tmp/screen' && grep -q 'interrupted by SIGTERM' '$tmp/screen'"
check "SIGTERM: terminal modes restored" cmp -s "$tmp/stty.b.before" "$tmp/stty.b.after"

# ---- session c: micronas alone on a terminal, Ctrl-C -------------------
# The wrapper shell traps SIGINT (a handler, reset to the default in the
# TUI) so that it lives on after Ctrl-C to print the status.
run_c="trap : INT; cd '$tmp' && stty -a >stty.c.before && env $envs LANG=C.UTF-8 '$mn'; rc=\$?; stty -a >stty.c.after; echo TUI-EXIT=\$rc; sleep 600"
T new-session -d -s c -x 100 -y 30 "$run_c"
wait_show c 'Search idle' 30 "micronas alone"
ok=$?
check "'micronas' alone on a terminal opens the TUI" [ $ok -eq 0 ]
# Lists: presets (the search is set up again) and boards.
T send-keys -t c P
wait_for c 'nucleo-f746zg' 10
show "preset list" "$tmp/screen"
check "P lists the embedded default and the shipped preset" \
	sh -c "grep -q 'default (embedded' '$tmp/screen' && grep -q ' nucleo-f746zg' '$tmp/screen'"
T send-keys -t c Down Enter
wait_show c 'preset nucleo-f746zg' 30 "preset nucleo-f746zg"
ok=$?
check "picking it sets the search up again with its latency table" \
	sh -c "[ $ok -eq 0 ] && grep -q 'table .*nucleo-f746zg-latency.ini' '$tmp/screen'"
T send-keys -t c b
# The list's later line: a loaded machine was once caught between drawing
# its first line and the rest.
wait_show c 'other port' 10 "board list"
ok=$?
check "b lists the emulated board, a typed port and the serial ports" \
	sh -c "[ $ok -eq 0 ] && grep -q 'emulated board (QEMU)' '$tmp/screen'"
T send-keys -t c Escape
sleep 0.5
T send-keys -t c C-c
wait_for c 'TUI-EXIT=' 60
show "after Ctrl-C" "$tmp/screen"
check "Ctrl-C (SIGINT): the TUI ends (status 1), terminal restored" \
	sh -c "grep -q 'TUI-EXIT=1' '$tmp/screen' && grep -q 'interrupted by SIGINT' '$tmp/screen' && cmp -s '$tmp/stty.c.before' '$tmp/stty.c.after'"
# ---- session d: the atlas ------------------------------------------------
# Started without an atlas: the log names the command that builds it; that
# command (with --max 30) builds a small one, a loads it, and the trade-off
# pane becomes its scatter.  The atlas pick is micronas search --method
# atlas's at each weight, and a weight key moves it; a search shows its
# provisional arch, then the final pick.
xdg_d="$tmp/cache-d"
asettings="--ntk-grad fixed-stats --batch 8 --repeat 1 --az-channels 4 --az-cells 1"
run_d="cd '$tmp' && env $envs XDG_CACHE_HOME='$xdg_d' LANG=C.UTF-8 LC_ALL=C.UTF-8 '$mn' tui $asettings --threads 1 --no-extend --log '$tmp/d.log'; echo TUI-EXIT=\$?; sleep 600"
T new-session -d -s d -x 120 -y 36 "$run_d"
wait_show d 'no atlas for these settings' 30 "no atlas"
ok=$?
check "without an atlas the message line says how to build one" [ $ok -eq 0 ]
acmd=$(sed -n 's/.*no atlas for these settings; build it with: //p' "$tmp/d.log" | head -n 1)
check "the log gives the exact command ($acmd)" \
	sh -c "echo '$acmd' | grep -q '^micronas atlas .*--batch 8 --repeat 1 .*--ntk-grad fixed-stats --az-channels 4 --az-cells 1'"
# Built the README's faster way (--proxies estimate): the TUI, searching
# with every proxy, reads it, as it holds what the pick reads.
# shellcheck disable=SC2086
XDG_CACHE_HOME="$xdg_d" "$mn" ${acmd#micronas } --max 30 --proxies estimate >"$tmp/atlas.out" 2>"$tmp/atlas.err"
rc=$?
check "that command with --max 30 --proxies estimate builds a 30-arch atlas (exit $rc)" \
	sh -c "[ $rc -eq 0 ] && [ -s \"\$(tail -n 1 '$tmp/atlas.out')\" ]"
T send-keys -t d a
wait_show d 'atlas: 30 of 15625 archs' 20 "atlas loaded"
ok=$?
check "a loads it: 30 of 15625 archs, built with --proxies estimate" \
	sh -c "[ $ok -eq 0 ] && grep -q 'atlas: 30 of 15625 archs .*(built with --proxies estimate)' '$tmp/d.log' '$tmp/screen'"
check "the scatter: title with its axes, y ticks, x ticks in ms, the atlas pick" \
	sh -c "grep -Eq 'Atlas .*(est\. acc|x ms)' '$tmp/screen' && [ \$(grep -c '┤' '$tmp/screen') -ge 2 ] &&
	       grep -Eq '[0-9]+ +[0-9]+ .* ms *\$' '$tmp/screen' && grep -q 'A atlas pick' '$tmp/screen' &&
	       LC_ALL=C grep -q \"\$(printf '\\342[\\240-\\243]')\" '$tmp/screen'"
# The CLI's atlas pick in the TUI's compact form.
compact() {
	sed 's/^{"arch":"\([^"]*\)".*/\1/' "$1" | tr -d '|' | tr '+' '\n' | sed 's/~[0-9]/ /g' | tr -s ' \n' '  ' |
		sed 's/nor_conv_3x3/c3/g; s/nor_conv_1x1/c1/g; s/skip_connect/sk/g; s/avg_pool_3x3/ap/g; s/none/--/g' |
		awk '{print $1 " | " $2 " " $3 " | " $4 " " $5 " " $6}'
}
tui_apick() { grep -Eo 'A atlas pick [a-z0-9-]+ \| [a-z0-9-]+ [a-z0-9-]+ \| [a-z0-9-]+ [a-z0-9-]+ [a-z0-9-]+' "$1" | sed 's/A atlas pick //'; }
# shellcheck disable=SC2086
XDG_CACHE_HOME="$xdg_d" "$mn" search --method atlas $asettings --json >"$tmp/ap1.json" 2>/dev/null
# shellcheck disable=SC2086
XDG_CACHE_HOME="$xdg_d" "$mn" search --method atlas $asettings --w-latency 0 --json >"$tmp/ap0.json" 2>/dev/null
p1=$(tui_apick "$tmp/screen")
check "atlas pick at latency weight 1 ($p1) = search --method atlas's ($(compact "$tmp/ap1.json"))" \
	test -n "$p1" -a "$p1" = "$(compact "$tmp/ap1.json")"
T send-keys -t d l l
wait_for d 'weights flops 0, latency 0 ' 10
sleep 0.3
cap d "$tmp/screen"
show "latency weight 0" "$tmp/screen"
p0=$(tui_apick "$tmp/screen")
# Whether the pick moves depends on the atlas's values: the CLI says which.
if [ "$(compact "$tmp/ap0.json")" != "$(compact "$tmp/ap1.json")" ]; then
	check "l l (latency weight 0) moves the atlas pick in the same frame ($p1 -> $p0)" \
		test -n "$p0" -a "$p0" != "$p1"
else
	check "l l (latency weight 0) keeps the atlas pick, as the CLI's is the same at both weights ($p0)" \
		test -n "$p0" -a "$p0" = "$p1"
fi
check "and it is search --method atlas --w-latency 0's ($(compact "$tmp/ap0.json"))" \
	test "$p0" = "$(compact "$tmp/ap0.json")"
# e: the atlas grows in the background while the search is idle.
T send-keys -t d e
wait_show d 'atlas (3[1-9]|[4-9][0-9]|[0-9]{3,})/15625' 120 "extending the atlas"
ok=$?
check "e extends the atlas while the search is idle (the status counts its rows)" [ $ok -eq 0 ]
T send-keys -t d s
wait_show d '^Pick .* provisional' 60 "provisional"
ok=$?
check "during the search the pick line shows the provisional arch" [ $ok -eq 0 ]
# (once the extension's chunk in flight has stopped: a moment after s)
wait_for d 'atlas [0-9]+/15625, waits for the search' 30
ok=$?
check "...and the status says the atlas waits for the search (it grew while idle)" [ $ok -eq 0 ]
wait_show d 'DONE round 3/3' 300 "search done, atlas"
ok=$?
check "then the final pick replaces it (done in the search's time)" \
	sh -c "[ $ok -eq 0 ] && ! grep -q '^Pick .*provisional' '$tmp/screen' && grep -Eq 'done in [0-9.]+s' '$tmp/screen' &&
	       grep -Eq '^Pick +(sk|c1|c3|ap|--) \|' '$tmp/screen'"
T send-keys -t d A
wait_without d 'A atlas pick' 10
show "A: the candidates" "$tmp/screen"
check "A switches the pane to the search's candidates" \
	sh -c "grep -Eq 'Trade-off|lat\(x\) vs' '$tmp/screen' && ! grep -q 'A atlas pick' '$tmp/screen'"
T send-keys -t d q
wait_for d 'TUI-EXIT=0' 30
check "q quits (status 0)" [ $? -eq 0 ]

# ---- session e: a board smaller than any pick ---------------------------
# 150 KB of flash, below the smallest arch of the space (172 KB with the
# runtime).  Its flash is the search's limit unless one is given: the TUI
# says that no arch fits and how to change the limits, and searches none.
sed 's/^flash_kb = .*/flash_kb = 150/' "$top/presets/nucleo-f746zg.ini" >"$tmp/small.ini"
cp "$top/presets/nucleo-f746zg-latency.ini" "$tmp/" # the preset names it beside itself
# small_board SESSION [FLAGS]: the TUI on that board, the search started
small_board() {
	T new-session -d -s "$1" -x 160 -y 30 "cd '$tmp' && env $envs LANG=C.UTF-8 LC_ALL=C.UTF-8 '$mn' tui --preset '$tmp/small.ini' $2 $data_opt $fast --no-extend --start; echo TUI-EXIT=\$?; sleep 600"
}
small_board e0
wait_show e0 'no arch fits the limits' 60 "a 150 KB board, its flash the limit"
ok=$?
check "a 150 KB board: its flash is the limit (flash<=150 KB), no arch fits, said with the key that edits the limits" \
	sh -c "[ $ok -eq 0 ] && grep -Eq 'flash(≤|<=)150 KB' '$tmp/screen' && grep -q 'no arch fits the limits (smallest: .* flash 172.2 KB); edit them with c' '$tmp/screen' && grep -q 'Search idle' '$tmp/screen'"
T send-keys -t e0 q
wait_for e0 'TUI-EXIT=0' 30
# With --max-flash-kb 0 the search runs over the whole space: the pick
# line shows its flash over the board's in the error colour, as search's
# note does on the command line.
# An atlas of these settings: its pick, over the board too, says so on
# the atlas pick line.
# shellcheck disable=SC2086
"$mn" atlas --preset "$tmp/small.ini" $data_opt $fast --max 4 --proxies estimate >/dev/null 2>&1
small_board e --max-flash-kb=0
wait_show e 'DONE round 3/3' 300 "a 150 KB board"
ok=$?
check "a pick over the board's flash says so on its line (flash N KB > board 150)" \
	sh -c "[ $ok -eq 0 ] && grep -Eq 'Pick .*SRAM [0-9.]+ KB +flash [0-9]+ KB > board 150' '$tmp/screen'"
check "...and so does the atlas pick's line (flash N KB > board 150)" \
	grep -Eq 'A atlas pick .* ms +flash [0-9]+ KB > board 150' "$tmp/screen"
T send-keys -t e q
wait_for e 'TUI-EXIT=0' 30

"$mn" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
check "'micronas' alone in a pipe: usage on stderr, exit 2" sh -c "[ $rc -eq 2 ] && grep -q '^Usage: micronas' '$tmp/err'"
"$mn" tui </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
check "'micronas tui' without a terminal: one line, exit 1" \
	sh -c "[ $rc -eq 1 ] && grep -q 'needs a terminal' '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"
tap_finish
