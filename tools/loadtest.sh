#!/usr/bin/env bash
# Load test the way users do: replay a crossings-gen capture with
# tcpreplay into a veth pair, crossings-ingest reading the other end
# with the af_packet vdev, publishing to a private Redis; then check
# that Redis holds exactly the counts the capture must give.
#
# usage: tools/loadtest.sh [--pps N | --topspeed] [--qpairs N]
#                          [--travellers N] [--workers N]
# Needs root (network namespace). Cleans up what it made.
set -eu
cd "$(dirname "$0")/.."
rate=(--pps 20000)
qpairs=1
travellers=50000
workers=1
# number OPTION VALUE: VALUE, a whole number from 1, or exit 2 naming it.
number() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "loadtest: $1: expected a number from 1" >&2; exit 2; }
	echo "$2"
}
while [ $# -gt 0 ]; do
	case $1 in
	--pps|--qpairs|--travellers|--workers)
		[ $# -ge 2 ] || { echo "loadtest: $1: needs a value" >&2; exit 2; }
		value=$(number "$1" "$2") || exit 2 ;;&
	--pps) rate=(--pps "$value"); shift 2 ;;
	--topspeed) rate=(--topspeed); shift ;;
	--qpairs) qpairs=$value; shift 2 ;;
	--travellers) travellers=$value; shift 2 ;;
	--workers) workers=$value; shift 2 ;;
	*) echo "loadtest: $1: unknown option" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "loadtest: needs root for a network namespace" >&2; exit 2; }
tools/install-deps.sh tcpreplay
tools/build.sh

work=$(mktemp -d /tmp/crossings-loadtest.XXXXXX)
ns=crossings-load-$$
. tools/redis-private.sh
. tools/eal-runtime.sh
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	redis_stop
	eal_runtime_remove "crossings-load-$$"
	rm -rf "$work"
}
trap cleanup EXIT

# Live replay: every scanner framed, event times in the frames, so the
# counts do not depend on when the replay runs.
pps=${rate[1]:-100000}
build/tools/crossings-gen --out "$work/load.pcap" --travellers "$travellers" \
	--pps "$pps" 2>&1 | sed 's/; counts in.*//'
frames=$(python3 -c "import os,sys; sys.path.insert(0,'tests')
f=open('$work/load.pcap','rb'); f.read(24); n=0
import struct
while True:
    h=f.read(16)
    if len(h)<16: break
    n+=1; f.seek(struct.unpack('<IIII',h)[2],1)
print(n)")

redis_start "$work"
printf '\n[redis]\nunix = %s\nflush_interval_ms = 500\n' "$work/redis.sock" >>"$work/load.ini"

ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add cr-a type veth peer name cr-b
ip -n "$ns" link set cr-a up
ip -n "$ns" link set cr-b up

cpus=$(nproc)
lcores=0@0
for i in $(seq 1 "$workers"); do
	lcores+=",$i@$((i < cpus ? i : cpus - 1))"
done
ip netns exec "$ns" build/app/crossings-ingest --no-pci --no-huge -m 1024 \
	--lcores "$lcores" --file-prefix "crossings-load-$$" --log-level lib.eal:warning \
	--vdev "net_af_packet0,iface=cr-a,qpairs=$qpairs,framecnt=8192" \
	-- --config "$work/load.ini" --idle-exit 3 --stats-interval 5 \
	>/dev/null 2>"$work/ingest.log" &
ingest=$!
sleep 2
ip netns exec "$ns" tcpreplay -i cr-b "${rate[@]}" "$work/load.pcap" >"$work/tcpreplay.log" 2>&1
wait $ingest || true

offered=$(grep -o 'Rated: .*' "$work/tcpreplay.log" | grep -oE '[0-9.]+ pps' | head -1)
sent=$(grep -oE 'Actual: [0-9]+ packets' "$work/tcpreplay.log" | grep -oE '[0-9]+')
echo
echo "replayed:  $sent of $frames frames at $offered (tcpreplay ${rate[*]})"
grep -E 'port 0: ipackets' "$work/ingest.log" | sed 's/.*port 0: /received:  /'
grep -E 'final: ' "$work/ingest.log" | sed 's/.*final: /pipeline:  /; s/ redis:.*//'
grep -E 'final: ' "$work/ingest.log" | grep -o 'redis: .*' | sed 's/^/           /'
python3 - "$work/load.expected.json" "$work/redis.sock" <<'PY'
import json, sys
sys.path.insert(0, "tests")
from ingest_lib import RedisServer, diff
redis = RedisServer.__new__(RedisServer)
redis.socket, redis.password = sys.argv[2], None
expected, got = json.load(open(sys.argv[1])), redis.counts()
print("redis:     %s" % ("holds exactly the expected counts" if got == expected else
                         "DIFFERS from the expected counts: " + diff(expected, got, 3)))
sys.exit(0 if got == expected else 1)
PY
