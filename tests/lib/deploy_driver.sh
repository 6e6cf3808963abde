# Builds tests/deploy_driver.c against the sources `micronas deploy` wrote,
# with the host compiler and the firmware's kernels, for the shell tests
# that check a deployed model on the host; sourced after tap.sh as
# . "$MN_TOP_SRCDIR/tests/lib/deploy_driver.sh".

# build_driver OUTDIR PROGRAM: compiles OUTDIR/model.c into PROGRAM
# (-Wall -Wextra -Werror); the compiler's first lines are printed as TAP
# comments.  Its status.
build_driver() {
	bd_fw="$MN_TOP_SRCDIR/fw-profiler"
	${CC:-cc} -std=c11 -O1 -Wall -Wextra -Werror -I"$1" -I"$bd_fw" \
		"$MN_TOP_SRCDIR/tests/deploy_driver.c" "$1/model.c" "$bd_fw/qnet.c" "$bd_fw/kernels.c" \
		-o "$2" 2>"$2.cc.err"
	bd_rc=$?
	sed 's/^/# /' "$2.cc.err" | head -5
	return $bd_rc
}
