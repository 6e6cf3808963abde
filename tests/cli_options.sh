#!/bin/sh
# Lists every long option of every micronas command from the source (the
# getopt_long tables in cli/cmd_*.c, with the shared MN_CLI_SHAPE_LONGOPTS
# of cli/cli.h expanded), one "COMMAND OPTION KIND" line each, KIND being
# required, no or optional.  Sourced by the tests that check every option
# (usage errors, the man page) so that a new option is checked without
# editing them.
# usage: sh cli_options.sh SRCDIR
src=$1
shape=$(sed -n '/#define MN_CLI_SHAPE_LONGOPTS/,/^[^\t#]/p' "$src/cli/cli.h" |
	grep -o '{"[a-z0-9-]*", [a-z]*_argument' | sed 's/{"\([^"]*\)", \([a-z]*\)_argument/\1 \2/')
for f in "$src"/cli/cmd_*.c; do
	cmd=$(basename "$f" .c)
	cmd=${cmd#cmd_}
	# Only the option table of the command's own entry point.
	sed -n '/static const struct option opts\[\]/,/};/p' "$f" |
		grep -o '{"[a-z0-9-]*", [a-z]*_argument' |
		sed "s/{\"\([^\"]*\)\", \([a-z]*\)_argument/$cmd --\1 \2/"
	if sed -n '/static const struct option opts\[\]/,/};/p' "$f" | grep -q MN_CLI_SHAPE_LONGOPTS; then
		echo "$shape" | sed "s/^/$cmd --/"
	fi
done
