#!/usr/bin/env bash
# Runs every test suite (unit, eal, integration, system) with meson, then the
# unit and integration suites again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then the libFuzzer targets (built with clang)
# for a fixed number of runs each.
# Ends with one line "N passed, N failed" over every test case run;
# exits non-zero when any failed.
set -u
cd "$(dirname "$0")/.."
tools/install-deps.sh tcpreplay clang libclang-rt-14-dev systemd || exit 2
tools/build.sh || { echo "0 passed, 1 failed"; exit 1; }

status=0
meson test -C build --no-rebuild --print-errorlogs --verbose \
	--num-processes 1 || status=1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The sanitizer builds look for faults, not speed: no link-time
# optimisation, which only makes their links slower.
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined \
		-Dbuildtype=debugoptimized -Db_lundef=false -Db_lto=false >/dev/null || status=1
fi
ninja -C build-asan >/dev/null || status=1
meson test -C build-asan --no-rebuild --print-errorlogs --verbose \
	--suite unit --suite integration --num-processes 1 || status=1

# libFuzzer prints a line per new input: only a failure's log is shown.
tools/fuzz-build.sh || status=1
meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz \
	--num-processes 1 || status=1

# Sum test cases: Check's summary lines, TAP lines of script tests, and
# one per test that printed neither; a test whose process failed counts
# as failed even where its output claimed otherwise.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json <<'PY'
import json, re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok_run = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        p = f = 0
        checks = re.findall(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", out)
        for c, fl, er in checks:
            f += int(fl) + int(er)
            p += int(c) - int(fl) - int(er)
        tap_ok = len(re.findall(r"^ok \d+", out, re.M))
        tap_bad = len(re.findall(r"^not ok \d+", out, re.M))
        # A skipped check passed nothing: counted apart.
        tap_skip = len(re.findall(r"^ok \d+ - # SKIP", out, re.M))
        p += tap_ok - tap_skip
        f += tap_bad
        skipped += tap_skip
        if not checks and not tap_ok and not tap_bad:
            p, f = (1, 0) if ok_run else (0, 1)
        elif not ok_run and f == 0:
            f = 1
        passed += p
        failed += f
if skipped:
    print(f"{skipped} skipped (each says why above)")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
[ $? -eq 0 ] || status=1
exit $status
