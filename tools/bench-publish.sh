#!/usr/bin/env bash
# Benchmark: the latency of one flush of 100, 1,000 and 10,000 fields to
# a private redis-server on loopback TCP, as crossings-ingest sends it.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh >/dev/null
tools/build.sh >/dev/null
dir=$(mktemp -d /tmp/crossings-bench-publish.XXXXXX)
port=$((20000 + $$ % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$dir" >/dev/null &
pid=$!
trap 'kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.05
done
build/tools/bench-publish "127.0.0.1:$port" "$@"
