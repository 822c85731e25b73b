#!/usr/bin/env bash
# Fuzzing campaign: each libFuzzer target of tests/fuzz for SECONDS
# (default 300), built with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/. The corpora stay in
# build-fuzz/corpus/, so each campaign goes on where the last stopped.
# An input that crashes, trips a sanitizer or makes the two sides of a
# differential target disagree is left in build-fuzz/findings/.
#
# usage: tools/fuzz.sh [SECONDS] [TARGET...]	(targets: mrz wire reasm conf)
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-300}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mrz wire reasm conf)
tools/install-deps.sh clang libclang-rt-14-dev
tools/fuzz-build.sh
mkdir -p build-fuzz/findings
status=0
for t in "${targets[@]}"; do
	mkdir -p "build-fuzz/corpus/$t"
	echo "fuzz: $t for $seconds s" >&2
	rc=0
	(cd build-fuzz/findings &&
	 python3 ../../tests/fuzz/run_fuzz.py "../tests/fuzz/fuzz_$t" "$t" \
		--seconds "$seconds" --corpus "../corpus/$t") \
		>"build-fuzz/fuzz-$t.log" 2>&1 || rc=$?
	grep -E "DONE|ERROR|SUMMARY|Test unit" "build-fuzz/fuzz-$t.log" || true
	[ $rc -eq 0 ] || { echo "fuzz: $t failed, see build-fuzz/fuzz-$t.log" >&2; status=1; }
done
exit $status
