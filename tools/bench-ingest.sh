#!/usr/bin/env bash
# Benchmark: crossings-ingest against dpdk-testpmd rxonly on the same
# capture, the same lcores, in the same run.
#
# The capture holds TD3 raw records (DOCS distinct documents, each also
# re-scanned), replayed from memory by the pcap vdev (infinite_rx=1).
# One worker lcore; the deduplication table is pre-filled with PREFILL
# documents. crossings-ingest runs with --no-redis and publishing to a
# private redis-server (flush every 100 ms), to show that publishing
# does not slow the workers. The run without Redis records where the
# worker's time goes (--record-core-cycles): nanoseconds a frame in the
# vdev's receive and in the rest of the pipeline.
#
# A shared virtual machine runs the same binary at rates that differ by
# half from one minute to the next, so the three programs take turns
# for ROUNDS rounds of SECONDS each: each ratio is taken within a round
# (its programs saw about the same machine), and the figures printed
# are medians over the rounds. Around each round of crossings-ingest,
# build/tools/bench-core measures on the worker's CPU how many adds a
# cycle the core gives it (about 3 unshared, half that while the other
# hardware thread of the core is busy), to tell a slow round from a
# shared core.
#
# usage: tools/bench-ingest.sh [SECONDS] [DOCS] [PREFILL] [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-10}
docs=${2:-4096}
prefill=${3:-1000000}
rounds=${4:-3}
[[ $seconds =~ ^[1-9][0-9]*$ && $docs =~ ^[1-9][0-9]*$ && $prefill =~ ^[0-9]+$ &&
   $rounds =~ ^[1-9][0-9]*$ ]] || {
	echo "usage: tools/bench-ingest.sh [SECONDS] [DOCS] [PREFILL] [ROUNDS]" \
		"(whole numbers; PREFILL may be 0)" >&2
	exit 2
}
tools/install-deps.sh dpdk-dev >/dev/null
tools/build.sh >/dev/null

work=$(mktemp -d /tmp/crossings-bench.XXXXXX)
. tools/eal-runtime.sh
trap 'eal_runtime_remove bench-ingest-$$ bench-testpmd-$$; rm -rf "$work"' EXIT

# Hugepages where we may set them up (root); else plain memory.
mem=(--no-huge -m 2048)
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	pages=$(cat /proc/sys/vm/nr_hugepages)
	[ "$pages" -ge 1024 ] || echo 1024 > /proc/sys/vm/nr_hugepages
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
	if [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1024 ]; then
		mem=(-m 1800 --huge-unlink)
	fi
fi

. tools/bench-capture.sh
bench_capture "$work" "$docs"
bench_config "$work" "$docs" "$prefill"

vdev="net_pcap0,rx_pcap=$work/bench.pcap,infinite_rx=1"
eal=(-l 0,1 "${mem[@]}" --no-pci --log-level lib.eal:error)

# Redis on the main lcore's CPU: on a small machine it would otherwise
# take turns with the busy-polling worker, which says nothing about
# publishing.
. tools/redis-private.sh
trap 'redis_stop; eal_runtime_remove bench-ingest-$$ bench-testpmd-$$; rm -rf "$work"' EXIT
REDIS_CPU=0 redis_start "$work"
printf '[redis]\nunix = %s\nflush_interval_ms = 100\n' "$work/redis.sock" \
	>>"$work/bench.ini"

# run_ingest LOG [OPTIONS]: SECONDS of crossings-ingest, then SIGINT.
run_ingest() {
	local log=$1
	shift
	build/app/crossings-ingest "${eal[@]}" --file-prefix bench-ingest-$$ \
		--vdev "$vdev" -- --config "$work/bench.ini" --stats-interval 1 \
		--dedup-prefill "$prefill" --mbufs 65536 "$@" >/dev/null 2>"$log" &
	local pid=$!
	sleep "$seconds"
	kill -INT $pid
	wait $pid || { cat "$log"; exit 1; }
}
run_testpmd() {
	timeout -s INT "$seconds" dpdk-testpmd "${eal[@]}" --file-prefix bench-testpmd-$$ \
		--vdev "$vdev" -- --forward-mode=rxonly --stats-period 1 \
		--total-num-mbufs 65536 --no-lsc-interrupt -a >"$1" 2>&1 || true
}
# The worker is lcore 1 of -l 0,1: CPU 1.
core() { taskset -c 1 build/tools/bench-core 1 | cut -d' ' -f1 >>"$1"; }
for r in $(seq "$rounds"); do
	core "$work/core.$r.txt"
	run_ingest "$work/ingest.$r.log" --no-redis --record-core-cycles
	core "$work/core.$r.txt"
	run_ingest "$work/ingest-redis.$r.log"
	run_testpmd "$work/testpmd.$r.log"
done

python3 - "$work" "$rounds" <<'PY'
import re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
med = statistics.median
def ingest(path):
    # The first second holds start-up; the median resists a noisy neighbour.
    return [float(x) for x in re.findall(r"stats: frames \d+ \(([\d.]+) Mpps\)",
                                         open(path).read())][1:]
def split(path):
    """Medians of the seconds' receive and rest, in ns a frame."""
    t = re.findall(r"stats: .* time/frame: receive ([\d.]+) ns, the rest ([\d.]+) ns",
                   open(path).read())[1:]
    if not t:
        sys.exit("bench-ingest: no time a frame in %s" % path)
    return med([float(a) for a, _ in t]), med([float(b) for _, b in t])
def testpmd(path):
    pps = [int(x) / 1e6 for x in re.findall(r"Rx-pps:\s+(\d+)",
                                            open(path, errors="replace").read())]
    return [x for x in pps[1:] if x > 0]
a, r, b, best, rx, rest = [], [], [], [], [], []
for i in range(1, rounds + 1):
    sa = ingest("%s/ingest.%d.log" % (work, i))
    sr = ingest("%s/ingest-redis.%d.log" % (work, i))
    sb = testpmd("%s/testpmd.%d.log" % (work, i))
    if not sa or not sr or not sb:
        # The logs go with the work directory: say what most likely happened.
        sys.exit("bench-ingest: no figures in round %d: a program stopped, or the "
                 "rounds are too short to measure (the first second of each is "
                 "start-up); try more SECONDS" % i)
    a.append(med(sa)); r.append(med(sr)); b.append(med(sb)); best.append(max(sa))
    x, y = split("%s/ingest.%d.log" % (work, i))
    rx.append(x); rest.append(y)
    core = open("%s/core.%d.txt" % (work, i)).read().split()
    print("round %d: ingest %.2f Mpps (best second %.2f; receive %.1f + the rest "
          "%.1f ns a frame; worker core %s adds/cycle before and after), with "
          "Redis %.2f, testpmd rxonly %.2f; ingest/testpmd %.2f"
          % (i, a[-1], best[-1], x, y, "/".join(core), r[-1], b[-1], a[-1] / b[-1]))
log = open("%s/ingest.%d.log" % (work, rounds)).read()
occupancy = re.findall(r"dedup (\d+)/(\d+) \((\d+) B/doc\)", log)[-1]
flushes = re.findall(r"redis: flushes (\d+) pending (\d+)",
                     open("%s/ingest-redis.%d.log" % (work, rounds)).read())
print("crossings-ingest --no-redis: %.2f Mpps (median of %d rounds; min %.2f, max %.2f; "
      "best second %.2f), dedup table %s/%s documents, %s B/doc"
      % (med(a), rounds, min(a), max(a), max(best), *occupancy))
print("crossings-ingest time a frame: receive (pcap vdev) %.1f ns, the rest %.1f ns "
      "(medians of the rounds; 100 ns a frame is 10 Mpps)" % (med(rx), med(rest)))
print("crossings-ingest with Redis: %.2f Mpps (median of %d rounds; min %.2f, max %.2f), "
      "%s flushes acknowledged" % (med(r), rounds, min(r), max(r),
                                   flushes[-1][0] if flushes else "no"))
print("testpmd rxonly:              %.2f Mpps (median of %d rounds)" % (med(b), rounds))
print("ratio ingest / testpmd:      %.2f (median of the rounds' ratios)"
      % med([x / y for x, y in zip(a, b)]))
print("ratio Redis / --no-redis:    %.2f (median of the rounds' ratios)"
      % med([x / y for x, y in zip(r, a)]))
PY
