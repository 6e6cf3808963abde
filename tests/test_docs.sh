#!/bin/sh
# Every command and option that works is documented: the commands of
# cli/main.c and the long options of every command's getopt table (listed
# from the source by cli_options.sh) appear in man/micronas.1, each option in
# its command's synopsis or section; every key of the TUI's key table
# (ui/keys.c, which also draws the ? screen) is in the man page's tui
# section, and has help text for the ? screen.
top="$MN_TOP_SRCDIR"
. "$top/tests/tap.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The man page as text: roff's \- is a plain hyphen.
sed 's/\\-/-/g; s/\\(em/-/g' "$top/man/micronas.1" >"$tmp/man"

# section CMD: the command's synopsis lines and its .SS section.
section() {
	awk -v c="$1" '
		/^\.SH / { syn = ($0 == ".SH SYNOPSIS") }
		syn && /^\.B micronas / { in_syn = ($0 == ".B micronas " c) }
		syn && /^\.br/ { in_syn = 0 }
		/^\.S[SH] / { in_ss = ($0 == ".SS " c) }
		(syn && in_syn) || in_ss' "$tmp/man"
}

sed -n 's/^[[:space:]]*{"\([a-z]*\)", ".*", mn_cmd_[a-z]*},$/\1/p' "$top/cli/main.c" >"$tmp/cmds"
check "the command table lists commands ($(tr '\n' ' ' <"$tmp/cmds"))" [ "$(wc -l <"$tmp/cmds")" -ge 10 ]
missing=
for c in $(cat "$tmp/cmds"); do
	grep -q "^\.SS $c\$" "$tmp/man" && grep -q "^\.B micronas $c\$" "$tmp/man" || missing="$missing $c"
done
check "every command has a synopsis line and a section in the man page${missing:+ (missing:$missing)}" [ -z "$missing" ]

sh "$top/tests/cli_options.sh" "$top" >"$tmp/opts"
check "the option tables list options ($(wc -l <"$tmp/opts"))" [ "$(wc -l <"$tmp/opts")" -ge 60 ]
# --help is described once for every command.
check "the man page says every command takes --help" grep -q 'COMMAND --help' "$tmp/man"
missing=
while read -r c o kind; do
	[ "$o" = --help ] && continue
	section "$c" | grep -q -- "$o\([^a-z0-9-]\|\$\)" || missing="$missing $c$o"
done <"$tmp/opts"
check "every option is in its command's synopsis or section${missing:+ (missing:$missing)}" [ -z "$missing" ]
# Each command's --help names its options too (-o's long spelling aside).
missing=
while read -r c o kind; do
	case "$o" in --help|--output) continue ;; esac
	"$MN_TOP_BUILDDIR/micronas" "$c" --help 2>&1 | grep -q -- "$o\([^a-z0-9-]\|\$\)" ||
		missing="$missing $c$o"
done <"$tmp/opts"
check "every option is in its command's --help${missing:+ (missing:$missing)}" [ -z "$missing" ]

# The TUI's keys: each row of the key table has a label and help text, and
# each label's keys are in the man page's tui section.
awk '/static const struct tui_key_row rows\[\]/,/^};/' "$top/ui/keys.c" |
	tr '\n' ' ' | grep -o '{"[^"]*", [^,]*, [01], "[^"]*"' >"$tmp/keys"
check "the key table has rows ($(wc -l <"$tmp/keys"))" [ "$(wc -l <"$tmp/keys")" -ge 15 ]
check "every key row has help text for the ? screen" sh -c "! grep -q ', [01], \"\"' '$tmp/keys'"
section tui >"$tmp/tui"
missing=
labels=$(sed 's/^{"\([^"]*\)".*/\1/' "$tmp/keys" | tr ' ' '\n' | tr '/' '\n' | grep -v '^$')
for k in $labels; do
	grep -Fq -- "$k" "$tmp/tui" || missing="$missing $k"
done
check "every key of the key table is in the man page's tui section${missing:+ (missing:$missing)}" [ -z "$missing" ]
tap_done
