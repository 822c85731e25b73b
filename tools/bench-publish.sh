#!/usr/bin/env bash
# Benchmark: the latency of one flush of 100, 1,000 and 10,000 fields to
# a private redis-server on loopback TCP, as crossings-ingest sends it.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh >/dev/null
tools/build.sh >/dev/null
dir=$(mktemp -d /tmp/crossings-bench-publish.XXXXXX)
port=$((20000 + $$ % 20000))
. tools/redis-private.sh
trap 'redis_stop; rm -rf "$dir"' EXIT
redis_start "$dir" --port "$port" --bind 127.0.0.1
build/tools/bench-publish "127.0.0.1:$port" "$@"
