#!/usr/bin/env bash
# Configures (once) and builds crossings in build/.
set -eu
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
