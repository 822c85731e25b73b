#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds, starts a
# private redis-server (unix socket, no persistence), generates the
# default scenario (late September 2022 on the Georgian, Kazakh and
# Finnish borders), runs crossings-ingest on it through the pcap vdev,
# and asks crossings-query what happened. Stops what it started.
#
# usage: tools/demo.sh [TRAVELLERS]     (default 60000)
set -eu
cd "$(dirname "$0")/.."
travellers=${1:-60000}
tools/install-deps.sh
tools/build.sh

work=$(mktemp -d /tmp/crossings-demo.XXXXXX)
. tools/redis-private.sh
. tools/eal-runtime.sh
trap 'redis_stop; eal_runtime_remove "crossings-demo-$$"; rm -rf "$work"' EXIT
redis_start "$work"
query() { build/tools/crossings-query --redis "unix:$work/redis.sock" "$@"; }

echo "== crossings-gen: $travellers travellers, 15 September - 5 October 2022"
build/tools/crossings-gen --out "$work/sept2022.pcap" --travellers "$travellers"
printf '\n[redis]\nunix = %s\n' "$work/redis.sock" >>"$work/sept2022.ini"

echo
echo "== crossings-ingest on the capture (pcap vdev), publishing to Redis"
# One worker lcore besides the main one; both share a CPU on a 1-CPU box.
cpus=$(nproc)
build/app/crossings-ingest --no-pci --no-huge -m 1024 \
	--lcores "0@0,1@$((cpus > 1 ? 1 : 0))" --file-prefix "crossings-demo-$$" \
	--log-level lib.eal:warning --vdev "net_pcap0,rx_pcap=$work/sept2022.pcap" \
	-- --config "$work/sept2022.ini" --idle-exit 1 --stats-interval 0 2>&1 |
	grep -E 'final:|final flush|lost'

echo
echo "== Crossings per checkpoint"
query --by checkpoint
echo
echo "== Exits per day, every checkpoint: the surge after 21 September"
query --direction exit --from 2022-09-15 --to 2022-10-05 --by day
echo
echo "== Top nationalities"
query --by nat --top 5
echo
echo "== Russian men aged 18-27 who left through Verkhny Lars on 27 September"
query --checkpoint verkhny-lars --direction exit --from 2022-09-27 --to 2022-09-27 \
	--nat RUS --sex M --age 18-27
echo
echo "== The node"
query status | sed -n '1,8p'
echo
python3 - "$work/sept2022.expected.json" "$work/redis.sock" <<'PY'
import json, subprocess, sys
sys.path.insert(0, "tests")
from ingest_lib import RedisServer
redis = RedisServer.__new__(RedisServer)
redis.socket, redis.password = sys.argv[2], None
same = redis.counts() == json.load(open(sys.argv[1]))
print("== Redis holds exactly the counts crossings-gen computed for the capture: %s"
      % ("yes" if same else "NO"))
sys.exit(0 if same else 1)
PY
