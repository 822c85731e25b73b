#!/usr/bin/env bash
# Benchmark: instructions per frame in each stage of the worker, under
# callgrind, on the capture tools/bench-ingest.sh replays.
#
# Time on a shared virtual machine varies by half from one minute to the
# next; instruction counts repeat to the last digit. They do not say how
# fast a stage runs (cache misses, the latency of a dependent chain),
# but they show a change in the work it does on any machine, noise or
# not. Counted while the worker runs steadily: after the deduplication
# table is pre-filled with PREFILL documents (slow under valgrind, hence
# a smaller default than bench-ingest.sh's) and the first two stats
# lines, for SECONDS of valgrind's time.
#
# The capture repeats, so after its first pass every record is a
# re-scan: the figures are those of a lookup that finds its key. A
# WINDOW_S shorter than a pass of the capture under valgrind (about a
# second for 131072 documents) makes every first scan a crossing again,
# counted and moved to the FIFO's tail: half the records then take the
# crossing path. The last line gives the mix.
#
# usage: tools/bench-instructions.sh [DOCS] [PREFILL] [SECONDS] [WINDOW_S]
set -eu
cd "$(dirname "$0")/.."
docs=${1:-4096}
prefill=${2:-100000}
seconds=${3:-15}
window=${4:-}
[[ $docs =~ ^[1-9][0-9]*$ && $prefill =~ ^[0-9]+$ && $seconds =~ ^[1-9][0-9]*$ &&
   $window =~ ^([1-9][0-9]*)?$ ]] || {
	echo "usage: tools/bench-instructions.sh [DOCS] [PREFILL] [SECONDS] [WINDOW_S]" \
		"(whole numbers; PREFILL may be 0)" >&2
	exit 2
}
# The vdev holds the whole capture in mbufs.
mbufs=$((2 * docs + 8192))
memory=$((1024 + 2 * docs / 256))
tools/install-deps.sh valgrind >/dev/null
tools/build.sh >/dev/null

work=$(mktemp -d /tmp/crossings-instructions.XXXXXX)
pid=
. tools/eal-runtime.sh
trap '[ -z "$pid" ] || kill -9 $pid 2>/dev/null; eal_runtime_remove bench-instructions-$$; rm -rf "$work"' EXIT
. tools/bench-capture.sh
bench_capture "$work" "$docs"
bench_config "$work" "$docs" "$prefill"
[ -z "$window" ] || sed -i "/^\[dedup\]/a window_s = $window" "$work/bench.ini"

(cd "$work" && exec valgrind --tool=callgrind --dump-instr=no \
	--collect-atstart=no --toggle-collect=worker_main \
	"$OLDPWD/build/app/crossings-ingest" -l 0,1 --no-huge -m "$memory" --no-pci \
	--log-level lib.eal:error --file-prefix bench-instructions-$$ \
	--vdev "net_pcap0,rx_pcap=$work/bench.pcap,infinite_rx=1" -- \
	--no-redis --config "$work/bench.ini" --stats-interval 1 \
	--dedup-prefill "$prefill" --mbufs "$mbufs" >/dev/null 2>"$work/ingest.log") &
pid=$!
running() { [ "$(grep -c 'stats: frames' "$work/ingest.log" || true)" -ge 2 ]; }
for _ in $(seq 600); do
	running && break
	kill -0 $pid 2>/dev/null || { cat "$work/ingest.log"; exit 1; }
	sleep 1
done
running || { echo "bench-instructions: no stats from the worker in 10 min" >&2; exit 1; }
callgrind_control -z $pid >/dev/null 2>&1
sleep "$seconds"
callgrind_control -d $pid >/dev/null 2>&1
kill -INT $pid
wait $pid || true
pid=

counts=$(ls "$work"/callgrind.out.*.1)
callgrind_annotate --inclusive=yes --threshold=100 "$counts" >"$work/inclusive.txt" 2>/dev/null
python3 - "$counts" "$work/inclusive.txt" <<'PY'
import re, sys
raw, inclusive = sys.argv[1], sys.argv[2]
# Frames: the calls to dedup_document_key(). Every frame of the capture
# holds one valid record, whose key is made once; the key stays a call
# of its own where link-time optimisation inlines the frame decoder.
# GCC names specialised copies name.isra.0 and the like: the part
# before the first dot is the function.
lines = open(raw).read().split("\n")
names, frames = {}, 0
for l in lines:
    m = re.match(r"c?fn=\((\d+)\) (.*)", l)
    if m:
        names[m.group(1)] = m.group(2).split(".")[0]
for i, l in enumerate(lines):
    m = re.match(r"cfn=\((\d+)\)", l)
    if m and names.get(m.group(1)) == "dedup_document_key":
        frames += int(lines[i + 1].split()[0].split("=")[1])
if frames == 0:
    sys.exit("bench-instructions: no frames counted (no call to dedup_document_key)")
# The MRZ check: the calls into mrz_check(), and into mrz_fast_check()
# from anywhere but mrz_check() (the data path tries it alone on raw
# datagrams), with all they call.
mrz, caller = 0, None
for i, l in enumerate(lines):
    m = re.match(r"fn=\((\d+)\)", l)
    if m:
        caller = names.get(m.group(1))
        continue
    m = re.match(r"cfn=\((\d+)\)", l)
    if m and caller != "mrz_check" and \
            names.get(m.group(1)) in ("mrz_check", "mrz_fast_check"):
        mrz += int(lines[i + 2].split()[1])
# Inclusive costs by function. Code inlined from a header is listed
# apart (header:function), so a function's parts are added up; the
# vdev's functions have no names: its outermost one is the receive.
cost, total = {}, 0
for l in open(inclusive):
    m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(.*?)(?: \[(.*)\])?$", l)
    if not m:
        continue
    n, where, obj = int(m.group(1).replace(",", "")), m.group(2), m.group(3) or ""
    if where == "PROGRAM TOTALS":
        total = n	# only worker_main is counted
    elif "librte_net_pcap" in obj:
        cost["rx"] = max(cost.get("rx", 0), n)
    else:
        fn = where.rsplit(":", 1)[-1].split(".")[0]
        cost[fn] = cost.get(fn, 0) + n
stages = [
    ("receive (pcap vdev)", cost.get("rx", 0)),
    ("free", cost.get("free_burst", 0)),
    ("decode", cost.get("wire_decode", 0)),
    ("MRZ check", mrz),
    ("document key", cost.get("dedup_document_key", 0)),
    ("dedup, counting, profiles", cost.get("own_records", 0)),
]
print("instructions per frame, %d frames counted:" % frames)
for name, n in stages:
    if n == 0:
        print("  %-28s %7s" % (name, "inlined, in the rest"))
    else:
        print("  %-28s %7.1f" % (name, n / frames))
print("  %-28s %7.1f" % ("the rest: scanner, loop, ...",
                         (total - sum(n for _, n in stages)) / frames))
print("  %-28s %7.1f" % ("worker, all", total / frames))
PY
# The mix over the whole run, counted part or not.
grep 'stats: frames' "$work/ingest.log" | tail -1 |
	grep -oE 'crossing [0-9]+ dup [0-9]+' | sed 's/^/records: /'
