#!/bin/sh
# make fuzz: builds every libFuzzer target (arch strings, presets, latency
# tables, CIFAR files, the serial protocol's host side, .npy headers,
# safetensors files, int8 model files, atlas files, evaluation-cache files) under ASan+UBSan
# with clang and
# runs each for FUZZ_RUNS executions (default 1,000,000) from its kept seed
# corpus (tests/fuzz/corpus/NAME/, copied to a scratch dir so the kept one
# stays small).  Usage: run.sh SRCDIR [TARGET...]; a crash stops the run and
# leaves tests/fuzz-crash-* to turn into a regression test.
set -e
top=$1; shift
runs=${FUZZ_RUNS:-1000000}
command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang" >&2; exit 1; }
targets=${*:-"arch preset latency_table cifar protocol npy safetensors qmodel atlas eval_cache"}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -DMN_DATADIR=\"/nonexistent\" -I. -Isrc/export -I$top/src -I$top/fw-profiler -I$top/tests"
libs="$(pkg-config --libs openblas lapacke libserialport inih stb libcjson 2>/dev/null || echo -lopenblas -llapacke -lserialport -linih -lstb -lcjson) -lm -lpthread"

# The engine's sources, instrumented once for every target.
mkdir -p tests/fuzz-obj
objs=
# atlas_mpi.c needs MPI's compiler wrapper and no fuzz target reaches it.
for c in $(cd "$top" && find src -name '*.c' ! -name atlas_mpi.c | sort) fw-profiler/proto_codec.c fw-profiler/qnet.c fw-profiler/kernels.c fw-profiler/model_id.c; do
	o=tests/fuzz-obj/$(echo "$c" | tr / _ | sed 's/\.c$/.o/')
	if [ ! -f "$o" ] || [ "$top/$c" -nt "$o" ]; then
		clang $cflags $san -fsanitize=fuzzer-no-link $(pkg-config --cflags openblas lapacke stb libcjson 2>/dev/null) \
			-c "$top/$c" -o "$o"
	fi
	objs="$objs $o"
done

for t in $targets; do
	echo "== fuzz_$t: $runs executions"
	# the int8 model file's target quantizes a network of the tests' random weights
	extra=
	[ "$t" = qmodel ] && extra="$top/tests/rand_weights.c"
	clang $cflags $san -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$t.c" $extra $objs $libs -o tests/fuzz_$t
	rm -rf tests/fuzz-work && mkdir -p tests/fuzz-work
	cp "$top"/tests/fuzz/corpus/$t/* tests/fuzz-work/
	dict=
	[ -f "$top/tests/fuzz/$t.dict" ] && dict="-dict=$top/tests/fuzz/$t.dict"
	# inputs up to 4 KB, but the int8 model file's valid seed is 9 KB
	maxlen=4096
	[ "$t" = qmodel ] && maxlen=16384
	./tests/fuzz_$t -runs="$runs" -max_len=$maxlen -artifact_prefix=tests/fuzz- $dict \
		tests/fuzz-work 2>&1 | grep -E '^(#[0-9]+ +DONE|Done|==[0-9]+==ERROR|SUMMARY)' || true
	# libFuzzer exits non-zero on a finding; grep above hides its status,
	# so look for artifacts instead.
	if ls tests/fuzz-crash-* tests/fuzz-leak-* tests/fuzz-timeout-* >/dev/null 2>&1; then
		echo "fuzz_$t: finding saved as $(ls tests/fuzz-crash-* tests/fuzz-leak-* tests/fuzz-timeout-* 2>/dev/null | head -1)" >&2
		exit 1
	fi
done
