#!/usr/bin/env bash
# Configures (once) and builds the libFuzzer targets in build-fuzz/:
# clang, every library with coverage hooks, ASan and UBSan; no link-time
# optimisation (clang's needs a linker plugin, and fuzzing wants none).
set -eu
cd "$(dirname "$0")/.."
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Dbuildtype=debugoptimized -Db_lundef=false -Db_lto=false >/dev/null
fi
ninja -C build-fuzz tests/fuzz/fuzz_mrz tests/fuzz/fuzz_wire \
	tests/fuzz/fuzz_reasm tests/fuzz/fuzz_conf >/dev/null
