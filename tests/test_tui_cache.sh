#!/bin/sh
# The TUI says when it cannot use the evaluation cache, as micronas search
# does (driven in tmux, a private server killed on exit): a corrupt cache
# file is ignored and replaced with a warning in the session log and on the
# message line, and so is a cache directory that cannot be made (the search
# then keeps nothing).  Before, both were silent.
mn="$MN_TOP_BUILDDIR/micronas"
top="$MN_TOP_SRCDIR"
. "$top/tests/tap.sh"
# shellcheck source=tests/lib/tmux.sh
. "$top/tests/lib/tmux.sh"
tmux_present || tap_finish
tmux_begin
fast="--batch 8 --repeat 1 --threads 1 --ntk-grad fixed-stats --no-extend"
envs="$envs LANG=C.UTF-8 LC_ALL=C.UTF-8"

# The cache of these settings, made by a search, then corrupted.
"$mn" search --batch 8 --repeat 1 --threads 1 --ntk-grad fixed-stats >/dev/null 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
cache=$(ls "$XDG_CACHE_HOME"/micronas/eval-*.bin 2>/dev/null | head -n 1)
check "micronas search writes the evaluation cache" sh -c "[ $rc -eq 0 ] && [ -f '$cache' ]"
echo garbage >"$cache"
"$mn" search --batch 8 --repeat 1 --threads 1 --ntk-grad fixed-stats >/dev/null 2>"$tmp/err"
sed 's/^/# /' "$tmp/err"
check "micronas search warns of the corrupt cache" grep -q 'warning: ignoring the corrupt evaluation cache' "$tmp/err"
echo garbage >"$cache"

T new-session -d -s c -x 120 -y 30 "cd '$tmp' && env $envs '$mn' tui $fast --log '$tmp/live.log'; sleep 600"
log_wait 'ignoring the corrupt evaluation cache' 30
ok=$?
sed 's/^/# log: /' "$tmp/live.log"
check "the TUI logs the corrupt cache as a warning" [ $ok -eq 0 ]
wait_show c 'warning: ignoring the corrupt' 10 "corrupt cache"
ok=$?
check "...and shows it on the message line" [ $ok -eq 0 ]
T send-keys -t c q

# A cache "directory" that is a file: nothing can be kept.
: >"$tmp/not-a-dir"
rm -f "$tmp/live.log"
T new-session -d -s f -x 120 -y 30 "cd '$tmp' && env $envs XDG_CACHE_HOME='$tmp/not-a-dir' '$mn' tui $fast --log '$tmp/live.log'; sleep 600"
log_wait 'without a persistent cache' 30
ok=$?
sed 's/^/# log: /' "$tmp/live.log"
check "XDG_CACHE_HOME a file: the TUI logs that it searches without a persistent cache" [ $ok -eq 0 ]
wait_show f 'warning: cannot create the cache directory' 10 "no cache directory"
ok=$?
check "...and shows it on the message line" [ $ok -eq 0 ]
T send-keys -t f q
tap_done
