#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End to end: crossings-gen -> crossings-ingest (pcap vdev) -> Redis,
compared exactly with the counts crossings-gen wrote, for several seeds
and scenarios, one and two RX queues; and the same through
crossings-query. Prints TAP.

usage: test_e2e.py CROSSINGS_GEN CROSSINGS_INGEST CROSSINGS_QUERY VERSION
"""

import collections
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ingest_lib  # noqa: E402
from ingest_lib import tap, tap_end, RedisServer, diff, eal_prefix, ingest_command  # noqa: E402

GEN, INGEST, QUERY = (os.path.abspath(a) for a in sys.argv[1:4])
VERSION = sys.argv[4]
TMP = tempfile.mkdtemp(prefix="crossings-e2e-")
_runs = 0




def generate(name, *args):
    out = os.path.join(TMP, name + ".pcap")
    p = subprocess.run([GEN, "--out", out] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.decode())
    base = out[:-5]
    return base, json.load(open(base + ".expected.json"))


def ingest(base, files, redis, workers=1):
    global _runs
    _runs += 1
    config = base + ".ini"
    with open(config, "a") as f:
        f.write("\n[redis]\nunix = %s\nflush_interval_ms = 300\n" % redis.socket)
    captures = [base + ".pcap"] if files == 1 else \
        ["%s-%d.pcap" % (base, i) for i in range(files)]
    vdev = "net_pcap0," + ",".join("rx_pcap=" + c for c in captures)
    cmd = ingest_command(INGEST, vdev, "crossings-e2e-%d-%d" % (os.getpid(), _runs),
                         config, ["--idle-exit", "1"], memory_mb=1024, workers=workers)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=300)


def scenario(name, files=1, workers=1, args=()):
    slug = "scenario-%d" % len(ingest_lib.RESULTS)
    base, expected = generate(slug, "--files", str(files), *args)
    redis = RedisServer(os.path.join(TMP, slug + "-redis")).start()
    try:
        p = ingest(base, files, redis, workers)
        got = redis.counts()
        tap("%s: Redis holds exactly the generator's counts" % name,
            p.returncode == 0 and got == expected,
            "exit %d; %s\n%s" % (p.returncode, diff(expected, got),
                                 p.stderr.decode()[-800:]))
        return redis, expected
    except Exception:
        redis.stop()
        raise


def query(redis, *args):
    p = subprocess.run([QUERY, "--redis", "unix:" + redis.socket] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode()


def check_queries(redis, expected):
    totals = collections.Counter()
    days = collections.Counter()
    nats = collections.Counter()
    for key, fields in expected.items():
        parts = key.split(":")
        if key == "crossings:checkpoints":
            continue
        if parts[3] == "all":
            totals[parts[1]] += fields.get("total", 0)
            for f, v in fields.items():
                if f.startswith("nat:"):
                    nats[f[4:]] += v
        elif parts[3] == "d" and parts[2] == "exit":
            d = parts[4]
            days["%s-%s-%s" % (d[:4], d[4:6], d[6:])] += fields.get("total", 0)
    rc, out = query(redis, "--by", "checkpoint", "--format", "json")
    got = {r["checkpoint"]: r["crossings"] for r in json.loads(out)["rows"]} if rc == 0 else {}
    tap("crossings-query --by checkpoint equals the generator's totals",
        got == dict(totals), "%s vs %s" % (got, dict(totals)))
    # Late re-scans run past the scenario's last day.
    rc, out = query(redis, "--direction", "exit", "--from", "2022-09-15", "--to",
                    "2022-10-10", "--by", "day", "--format", "csv")
    got = {l.split(",")[0]: int(l.split(",")[1]) for l in out.split()[1:]} if rc == 0 else {}
    tap("crossings-query --by day (exits) equals the generator's day keys",
        got == {k: v for k, v in days.items() if v}, "%s vs %s" % (got, dict(days)))
    rc, out = query(redis, "--by", "nat", "--top", "3", "--format", "csv")
    got = [l.split(",")[0] for l in out.split()[1:]] if rc == 0 else []
    tap("crossings-query --by nat --top 3: the three largest nationalities",
        got == sorted(nats, key=lambda k: (-nats[k], k))[:3], "%s vs %s" % (got, nats))


def test_determinism():
    a, ea = generate("same-a", "--seed", "7", "--travellers", "3000")
    b, eb = generate("same-b", "--seed", "7", "--travellers", "3000")
    c, ec = generate("other", "--seed", "8", "--travellers", "3000")
    same = filecmp.cmp(a + ".pcap", b + ".pcap", shallow=False) and ea == eb
    tap("crossings-gen: same seed, same capture and counts; another seed differs",
        same and not filecmp.cmp(a + ".pcap", c + ".pcap", shallow=False) and ea != ec)


def test_gen_errors():
    for args, text in [(["--travellers", "x", "--out", "a.pcap"], "--travellers"),
                       (["--rescans", "2", "--out", "a.pcap"], "--rescans"),
                       (["--start", "2022-13-01", "--out", "a.pcap"], "--start"),
                       (["--nationalities", "RVS:1", "--out", "a.pcap"], "--nationalities"),
                       (["--checkpoints", "40", "--out", "a.pcap"], "--checkpoints"),
                       ([], "--out"), (["--out", "/nonexistent/dir/a.pcap"], "/nonexistent"),
                       (["--start", "2022-02-30", "--out", "a.pcap"], "--start: no such day"),
                       (["--surge", "2023-02-29", "--out", "a.pcap"], "--surge: no such day"),
                       (["--start", "1969-12-31", "--out", "a.pcap"], "from 1970-01-01"),
                       # 21 days from 1 January 2038 run past 19 January, when a
                       # capture's time (signed 32-bit seconds) turns to 1901.
                       (["--start", "2038-01-01", "--out", "a.pcap"], "2038-01-19"),
                       (["--start", "9999-12-31", "--pps", "100", "--out", "a.pcap"],
                        "must end in 9999"),
                       (["--out", "a.pcap", "--expected", "a.pcap"],
                        "a.pcap: both a capture (--out) and --expected"),
                       (["--out", "a.pcap", "--expected", "./a.ini"],
                        "a.ini: both --expected and the configuration (named after --out)"),
                       (["--out", "q.pcap", "--files", "2", "--config", "./q-1.pcap"],
                        "q-1.pcap: both a capture (--out) and --config"),
                       (["--out", "a.pcap", "--expected", "/nonexistent/dir/a.json"],
                        "/nonexistent/dir/a.json: No such file"),
                       # A full disk shows only when the capture is flushed.
                       (["--out", "/dev/full", "--expected", "f.json", "--config", "f.ini",
                         "--travellers", "100"], "/dev/full: No space left on device")]:
        p = subprocess.run([GEN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=TMP, timeout=60)
        err = p.stderr.decode()
        tap("crossings-gen %s: one line, exit 2" % " ".join(args), p.returncode == 2 and
            len(err.strip().splitlines()) == 1 and text in err, err)


def test_versions():
    """Every program names the release it belongs to, and the libraries
    that matter for a report: DPDK for the node, hiredis for queries."""
    ingest = [INGEST, "--no-pci", "--no-huge", "-m", "64", "--log-level", "lib.eal:error",
              "--file-prefix", eal_prefix("crossings-e2e-version-%d" % os.getpid()), "--",
              "--version"]
    for name, cmd, rest in (("crossings-gen", [GEN, "--version"], ""),
                            ("crossings-ingest", ingest, " (DPDK 22.11"),
                            ("crossings-ingest", [INGEST, "--version"], " (DPDK 22.11"),
                            ("crossings-query", [QUERY, "--version"], " (hiredis ")):
        how = " after EAL options" if cmd is ingest else ""
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out = p.stdout.decode()
        tap("%s --version%s: the release, exit 0" % (name, how),
            p.returncode == 0 and out.startswith("%s %s%s" % (name, VERSION, rest)) and
            out.count("\n") == 1, "exit %d %r %r" % (p.returncode, out, p.stderr.decode()[-300:]))


def main():
    test_versions()
    redis, expected = scenario("default scenario, seed 1", args=("--travellers", "8000"))
    try:
        check_queries(redis, expected)
    finally:
        redis.stop()
    scenario("seed 2, many re-scans, invalid, split and unrelated frames",
             args=("--seed", "2", "--travellers", "5000", "--rescans", "0.3",
                   "--late-rescans", "0.1", "--invalid", "0.05", "--split", "0.8",
                   "--noise", "0.1", "--retransmissions", "0.1", "--malformed", "0.02",
                   "--incomplete", "0.02"))[0].stop()
    scenario("seed 3, no surge, TD1 and TD2 heavy, short window",
             args=("--seed", "3", "--travellers", "4000", "--surge", "none", "--td1",
                   "0.4", "--td2", "0.3", "--window", "600", "--days", "5"))[0].stop()
    scenario("seed 4, two RX queues, one worker", files=2,
             args=("--seed", "4", "--travellers", "5000", "--rescans", "0.3"))[0].stop()
    scenario("seed 5, two RX queues, two workers", files=2, workers=2,
             args=("--seed", "5", "--travellers", "5000", "--rescans", "0.3"))[0].stop()
    scenario("seed 6, seven checkpoints, half raw, IPv6 and VLAN scanners, three "
             "nationalities, two RX queues", files=2,
             args=("--seed", "6", "--travellers", "6000", "--checkpoints", "7", "--raw",
                   "0.5", "--ipv6", "0.3", "--vlan", "0.5", "--nationalities",
                   "RUS:0.5,KAZ:0.3,D:0.2", "--rescans", "0.2"))[0].stop()
    scenario("seed 7, the last day a capture's time can say (2038-01-18)",
             args=("--seed", "7", "--travellers", "2000", "--start", "2038-01-18",
                   "--days", "1", "--window", "60"))[0].stop()
    scenario("seed 8, a leap day in the year 9996, event times in frames (--pps)",
             args=("--seed", "8", "--travellers", "2000", "--start", "9996-02-28",
                   "--days", "2", "--pps", "100000"))[0].stop()
    test_determinism()
    test_gen_errors()
    shutil.rmtree(TMP, ignore_errors=True)
    return tap_end()


if __name__ == "__main__":
    sys.exit(main())
