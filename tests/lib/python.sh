# A python3 that imports a module, for the shell tests, sourced after
# tap.sh as . "$MN_TOP_SRCDIR/tests/lib/python.sh".  Debian's modules are
# for Debian's python, and a pyenv python3 may come first on the PATH.

# python_with MODULE PACKAGE: sets $py to the first python3 (the PATH's,
# then /usr/bin's) that imports MODULE; one point, failing with the Debian
# PACKAGE to install when there is none (then returns 1).
python_with() {
	py=
	for p in python3 /usr/bin/python3; do
		if command -v "$p" >/dev/null && "$p" -c "import $1" 2>/dev/null; then py=$p; break; fi
	done
	check "a python3 with $1 (Debian: apt-get install $2)" [ -n "$py" ]
	[ -n "$py" ]
}
