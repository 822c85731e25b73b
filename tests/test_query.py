#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""crossings-query against known Redis contents: every grouping, filter
and format; watch shows a flush; status shows the node. Prints TAP.

usage: test_query.py CROSSINGS_QUERY CROSSINGS_INGEST PCAP_WRITE
"""

import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_lib import (tap, tap_end, CONFIG, Capture, Doc, RedisServer, framed,  # noqa: E402
                        ingest_command, loopback6_port, ms, udp_frame)

QUERY, INGEST, PCAP_WRITE = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="crossings-query-test-")




# Known contents: crossings per (cp, dir, hour, nat, sex, band, doc).
CPS = ["verkhny-lars", "kazakh-1"]
DIRS = ["entry", "exit"]
HOURS = ["2022092722", "2022092723", "2022092800", "2022092801"]
rng = random.Random(1)
CROSSINGS = collections.Counter()
for _ in range(400):
    CROSSINGS[(rng.choice(CPS), rng.choice(DIRS), rng.choice(HOURS),
               rng.choice(["RUS", "RUS", "KAZ", "D"]), rng.choice("MFX"),
               rng.choice(["18-27", "28-35", "unknown"]), rng.choice("PI"))] += 1


def fill(redis):
    hashes = collections.defaultdict(collections.Counter)
    for (cp, d, h, nat, sex, band, doc), n in CROSSINGS.items():
        for key in ("h:" + h, "d:" + h[:8], "all"):
            for f in ("total", "nat:" + nat, "sex:" + sex, "age:" + band, "doc:" + doc,
                      "x:%s:%s:%s" % (nat, sex, band)):
                hashes["crossings:%s:%s:%s" % (cp, d, key)][f] += n
    lines = []
    for key, fields in hashes.items():
        for f, n in fields.items():
            lines.append("HINCRBY %s %s %d" % (key, f, n))
    lines.append("SADD crossings:checkpoints " + " ".join(CPS))
    redis.cli(text="\n".join(lines))


def expected(by=None, cp=None, d=None, hours=None, nat=None, sex=None, age=None):
    out = collections.Counter()
    for (c, dd, h, n, s, b, doc), k in CROSSINGS.items():
        if (cp and c != cp) or (d and dd != d) or (hours and h not in hours) or \
                (nat and n != nat) or (sex and s != sex) or (age and b != age):
            continue
        label = {"nat": n, "sex": s, "age": b, "doc": doc, "checkpoint": c,
                 "direction": dd, "hour": "%s-%s-%sT%s" % (h[:4], h[4:6], h[6:8], h[8:]),
                 "day": "%s-%s-%s" % (h[:4], h[4:6], h[6:8]), None: "total"}[by]
        out[label] += k
    return dict(out)


def query(redis, *args):
    p = subprocess.run([QUERY, "--redis", "unix:" + redis.socket] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def rows_csv(out):
    lines = out.strip().splitlines()[1:]
    return {l.split(",")[0]: int(l.split(",")[1]) for l in lines}


def test_groupings(redis):
    cases = [
        ([], None, {}),
        (["--by", "nat"], "nat", {}),
        (["--by", "sex"], "sex", {}),
        (["--by", "age"], "age", {}),
        (["--by", "doc"], "doc", {}),
        (["--by", "checkpoint"], "checkpoint", {}),
        (["--by", "direction"], "direction", {}),
        (["--by", "hour", "--from", "2022-09-27T22", "--to", "2022-09-28T01"], "hour", {}),
        (["--by", "day", "--from", "2022-09-27", "--to", "2022-09-28"], "day", {}),
        # A partial day (hour keys) plus a whole day (the day key).
        (["--by", "nat", "--from", "2022-09-27T23", "--to", "2022-09-28T23"], "nat",
         {"hours": HOURS[1:]}),
        (["--by", "sex", "--nat", "RUS"], "sex", {"nat": "RUS"}),
        (["--by", "age", "--nat", "KAZ", "--sex", "F"], "age", {"nat": "KAZ", "sex": "F"}),
        (["--by", "checkpoint", "--nat", "D"], "checkpoint", {"nat": "D"}),
        (["--checkpoint", "verkhny-lars", "--direction", "exit", "--nat", "RUS",
          "--sex", "M", "--age", "18-27", "--from", "2022-09-27", "--to", "2022-09-27"],
         None, {"cp": "verkhny-lars", "d": "exit", "nat": "RUS", "sex": "M",
                "age": "18-27", "hours": HOURS[:2]}),
        (["--by", "day", "--direction", "entry", "--from", "2022-09-28T00", "--to",
          "2022-09-28T00"], "day", {"d": "entry", "hours": HOURS[2:3]}),
    ]
    for args, by, filt in cases:
        want = expected(by, **filt)
        rc, out, err = query(redis, *(args + ["--format", "csv"]))
        got = rows_csv(out) if rc == 0 else None
        if by is None and got is not None:
            got = {"total": got.get("total", 0)}
        tap("query %s: csv" % " ".join(args or ["(all)"]), got == want,
            "want %s got %s %s" % (want, got, err))
    rc, out, err = query(redis, "--by", "nat", "--format", "json")
    data = json.loads(out) if rc == 0 else {}
    tap("json format", data.get("by") == "nat" and
        {r["nat"]: r["crossings"] for r in data.get("rows", [])} == expected("nat") and
        data.get("total") == sum(expected("nat").values()), out)
    rc, out, err = query(redis, "--by", "nat")
    lines = out.splitlines()
    want = sorted(expected("nat").items(), key=lambda kv: (-kv[1], kv[0]))
    bars = [l.count("\u2588") for l in lines[1:-1]]
    tap("table: rows by count with proportional bars, then the total",
        rc == 0 and [l.split()[0] for l in lines[1:-1]] == [k for k, _ in want] and
        bars[0] == 40 and all(abs(b - 40 * v / want[0][1]) <= 1 for b, (_, v) in
                              zip(bars, want)) and lines[-1].split() == ["total",
                                                                         str(sum(expected("nat").values()))],
        out)
    rc, out, err = query(redis, "--by", "nat", "--top", "2", "--format", "csv")
    tap("--top 2 keeps the two largest", rc == 0 and list(rows_csv(out)) ==
        [k for k, _ in want[:2]], out)
    rc, out, err = query(redis, "--by", "nat", "--top", "2", "--format", "json")
    data = json.loads(out) if rc == 0 else {}
    tap("--top 2: the total is of every row, the ones left out included",
        len(data.get("rows", [])) == 2 and len(want) > 2 and
        data.get("total") == sum(v for _, v in want), out + err)


def test_age_order(redis):
    """Age bands read youngest first, unknown last, whatever their counts;
    --top N keeps the N largest, still in that order."""
    bands = ["18-27", "28-35", "unknown"]
    wrong, wrong_top, unlike_counts = [], [], 0
    for nat in (None, "RUS", "KAZ", "D"):
        for sex in (None, "M", "F", "X"):
            args = ["--by", "age", "--format", "csv"]
            args += ["--nat", nat] if nat else []
            args += ["--sex", sex] if sex else []
            want = expected("age", nat=nat, sex=sex)
            by_count = sorted(want, key=lambda b: (-want[b], b))
            in_order = [b for b in bands if b in want]
            unlike_counts += by_count != in_order
            rc, out, err = query(redis, *args)
            if rc != 0 or list(rows_csv(out)) != in_order or rows_csv(out) != want:
                wrong.append((args[4:], in_order, out + err))
            rc, out, err = query(redis, *(args + ["--top", "2"]))
            if rc != 0 or list(rows_csv(out)) != [b for b in in_order
                                                  if b in by_count[:2]]:
                wrong_top.append((args[4:], by_count, out + err))
    tap("--by age under 16 filters: bands in order, unknown last", not wrong, wrong)
    tap("--by age --top 2: the two largest, in band order", not wrong_top, wrong_top)
    # The data must tell band order from count order somewhere.
    tap("some of those filters count the bands out of order", unlike_counts > 0)


def test_errors(redis):
    for args, text in [(["--by", "colour"], "--by"), (["--bogus"], "--bogus"),
                       (["--from", "2022-02-30"], "--from"),
                       # Before 1970 an hour is negative: it read as all time.
                       (["--from", "1969-12-31", "--to", "1970-01-01"],
                        "--from: before 1970"),
                       (["--from", "2022-09-27", "--to", "1969-12-31"],
                        "--to: before 1970"),
                       (["--to", "2022-09-28"], "needs --from"),
                       # Without --to the range ends now: a later --from
                       # is named, not the --to that was not given.
                       (["--from", "9999-12-31"], "--from: after the current hour"),
                       (["--by", "doc", "--nat", "RUS"], "--by doc"),
                       (["--format", "xml"], "--format"), (["frobnicate"], "frobnicate"),
                       (["--redis", "localhost:63x9"], "--redis: expected a port"),
                       (["--redis", "[::1]"], "--redis: expected HOST:PORT, [IPV6]:PORT"),
                       (["--password", "nope"], "authentication refused")]:
        rc, out, err = query(redis, *args)
        tap("bad command line %s: one line, exit 2" % " ".join(args),
            rc == 2 and len(err.strip().splitlines()) == 1 and text in err, err)
    p = subprocess.run([QUERY, "--redis", "unix:" + TMP + "/none.sock"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tap("unreachable Redis: one line, exit 2", p.returncode == 2 and
        len(p.stderr.decode().strip().splitlines()) == 1, p.stderr.decode())



def test_unknown_filters(redis):
    """Filters that can match no counter are refused, not answered with 0:
    a checkpoint crossings:checkpoints does not list, a nationality or an
    age band the counters cannot name."""
    rc, out, err = query(redis, "--checkpoint", "verkhny-lar", "--nat", "RUS")
    tap("--checkpoint not listed: refused, naming the listed ones", rc == 2 and out == "" and
        err == 'crossings-query: --checkpoint "verkhny-lar": not in crossings:checkpoints '
        '(kazakh-1, verkhny-lars)\n', out + err)
    many = ["zz-%d" % i for i in range(9)]
    redis.cli("SADD", "crossings:checkpoints", *many)
    try:
        rc, out, err = query(redis, "--checkpoint", "nowhere")
    finally:
        redis.cli("SREM", "crossings:checkpoints", *many)
    tap("--checkpoint not listed among 11: the first 8 by name", rc == 2 and
        err == 'crossings-query: --checkpoint "nowhere": not in crossings:checkpoints '
        '(kazakh-1, verkhny-lars, zz-0, zz-1, zz-2, zz-3, zz-4, zz-5, ...)\n', err)
    empty = RedisServer(os.path.join(TMP, "redis-empty")).start()
    try:
        rc, out, err = query(empty, "--checkpoint", "verkhny-lars")
    finally:
        empty.stop()
    tap("--checkpoint before anything is counted: says the set is empty", rc == 2 and
        err == 'crossings-query: --checkpoint "verkhny-lars": not in crossings:checkpoints, '
        'which is empty (nothing counted yet)\n', err)
    for option, value in (("--nat", "rus"), ("--nat", "RUSS"), ("--nat", ""),
                          ("--nat", "R<S"), ("--age", "x"), ("--age", "18-"),
                          ("--age", "-5"), ("--age", "65+1"), ("--age", "Unknown")):
        rc, out, err = query(redis, option, value)
        tap("%s %r: refused, one line naming it, exit 2" % (option, value),
            rc == 2 and out == "" and err.startswith("crossings-query: %s: expected" % option)
            and len(err.splitlines()) == 1, out + err)
    for option, value in (("--nat", "D"), ("--age", "unknown"), ("--age", "65+"),
                          ("--age", "28-35")):
        rc, out, err = query(redis, "--format", "csv", option, value)
        want = expected(**{option[2:]: value})
        tap("%s %s: taken, its count" % (option, value), rc == 0 and
            rows_csv(out) == want, out + err)


def test_options_per_mode(redis):
    """An option that watch or status would not read, or --count outside
    watch, is refused rather than ignored."""
    watch, status = "not taken by watch, which shows every update", \
        "not taken by status, which shows every node"
    for args, text in ((["watch", "--checkpoint", "verkhny-lars", "--count", "1"],
                        "--checkpoint: " + watch),
                       (["watch", "--format", "json"], "--format: " + watch),
                       (["status", "--nat", "RUS"], "--nat: " + status),
                       (["status", "--by", "day"], "--by: " + status),
                       (["status", "--count", "2"], "--count: " + status),
                       (["--count", "2"], "--count: only taken by watch")):
        rc, out, err = query(redis, *args)
        tap("%s: refused, not ignored" % " ".join(args),
            rc == 2 and out == "" and err == "crossings-query: %s\n" % text, out + err)


def test_ipv6_endpoint():
    """--redis [IPV6]:PORT and the bare IPV6:PORT reach a Redis on ::1."""
    port = loopback6_port()
    redis = RedisServer(os.path.join(TMP, "redis-ipv6"),
                        extra=("--port", str(port), "--bind", "::1")).start()
    try:
        fill(redis)
        for address in ("[::1]:%d" % port, "::1:%d" % port):
            p = subprocess.run([QUERY, "--redis", address, "--format", "csv"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            tap("--redis %s: the total" % address.replace(str(port), "PORT"),
                p.returncode == 0 and rows_csv(p.stdout.decode()) == expected(),
                p.stdout.decode() + p.stderr.decode())
    finally:
        redis.stop()


def test_password_from_environment():
    """CROSSINGS_REDIS_PASSWORD: a password kept out of the process list;
    --password, when given, wins."""
    redis = RedisServer(os.path.join(TMP, "redis-auth"), password="s3cret").start()
    try:
        fill(redis)
        for name, env, args, ok in (
                ("from the environment", {"CROSSINGS_REDIS_PASSWORD": "s3cret"}, [], True),
                ("--password over the environment",
                 {"CROSSINGS_REDIS_PASSWORD": "wrong"}, ["--password", "s3cret"], True),
                ("none", {}, [], False),
                ("a wrong one from the environment", {"CROSSINGS_REDIS_PASSWORD": "wrong"},
                 [], False)):
            p = subprocess.run([QUERY, "--redis", "unix:" + redis.socket, "--format", "csv"] +
                               args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30, env=dict(os.environ, **env))
            out, err = p.stdout.decode(), p.stderr.decode()
            if ok:
                tap("password %s: the total" % name,
                    p.returncode == 0 and rows_csv(out) == expected(), out + err)
            else:
                tap("password %s: refused, one line, exit 2" % name,
                    p.returncode == 2 and len(err.strip().splitlines()) == 1 and
                    "s3cret" not in err, err)
    finally:
        redis.stop()


def test_watch_and_status(redis):
    cfg = os.path.join(TMP, "watch.ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.replace("name = test-node", "name = watch-node") +
                "\n[redis]\nunix = %s\nflush_interval_ms = 200\n" % redis.socket)
    cap = Capture()
    t = ms(2022, 9, 27, 14)
    for i in range(25):
        cap.add(t, udp_frame("10.17.0.21", "10.0.0.1",
                             framed(Doc("W%07d" % i).text(), 2, 17, 1, i + 1, t)))
    pcap = os.path.join(TMP, "watch.pcap")
    cap.write(PCAP_WRITE, pcap)
    watch = subprocess.Popen([QUERY, "--redis", "unix:" + redis.socket, "watch",
                              "--count", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    time.sleep(0.5)
    subprocess.run(ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap,
                                  "crossings-query-%d" % os.getpid(), cfg,
                                  ["--idle-exit", "1"]),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    try:
        out, err = watch.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()
        out, err = watch.communicate()
    out = out.decode()
    tap("watch shows a flush: its node and the checkpoint's crossings",
        watch.returncode == 0 and "node watch-node flush" in out and
        any(l.split()[:3] == ["verkhny-lars:exit", "25", "+25"] for l in out.splitlines()),
        out + err.decode())
    subprocess.run(["redis-cli", "-s", redis.socket, "hset", "crossings:node:another-node",
                    "run", "r", "seq", "7"], stdout=subprocess.DEVNULL, check=True)
    rc, out, err = query(redis, "status")
    nodes = [l.split()[1] for l in out.splitlines() if l.startswith("node ")]
    tap("status shows each node by name, its run, sequence and counters",
        rc == 0 and nodes == ["another-node", "watch-node"] and "records_crossing" in out
        and "last flush" in out, out + err)


def watch_one(redis, msg):
    """watch --count 1 while msg is published: its exit status, output
    and errors (bytes)."""
    watch = subprocess.Popen([QUERY, "--redis", "unix:" + redis.socket, "watch",
                              "--count", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    time.sleep(0.5)
    subprocess.run(["redis-cli", "-s", redis.socket, "publish", "crossings:updates", msg],
                   stdout=subprocess.DEVNULL, check=True)
    try:
        out, err = watch.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()
        out, err = watch.communicate()
    return watch.returncode, out, err


def test_watch_many_flows(redis):
    """An update of 300 checkpoint-direction pairs (a hundred checkpoints
    watched together): a row for every one."""
    buckets = ",".join('"cp-%d:exit:2022092714":{"total":%d}' % (i, i + 1) for i in range(300))
    msg = '{"node":"n","seq":1,"time_ms":1,"buckets":{%s}}' % buckets
    rc, out, err = watch_one(redis, msg)
    rows = {l.split()[0]: int(l.split()[1]) for l in out.decode().splitlines()
            if l.startswith("cp-")}
    tap("watch: an update of 300 checkpoint-direction pairs, a row each",
        rc == 0 and len(rows) == 300 and rows.get("cp-299:exit") == 300,
        "%d rows %s" % (len(rows), err.decode()))



def test_output_errors(redis):
    """An answer standard output cannot take is an error, not exit 0; a
    reader that goes away (watch piped into head) ends watch."""
    for args in (["--by", "nat"], ["status"]):
        with open("/dev/full", "w") as full:
            p = subprocess.run([QUERY, "--redis", "unix:" + redis.socket] + args,
                               stdout=full, stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode()
        tap("%s into a full disk: one line, exit 2" % " ".join(args), p.returncode == 2 and
            err == "crossings-query: standard output: No space left on device\n", err)
    watch = subprocess.Popen([QUERY, "--redis", "unix:" + redis.socket, "watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    watch.stdout.close()
    time.sleep(0.5)
    msg = '{"node":"n","seq":1,"time_ms":1,"buckets":{"cp-1:exit:2022092714":{"total":1}}}'
    rc = None
    for _ in range(50):
        subprocess.run(["redis-cli", "-s", redis.socket, "publish", "crossings:updates", msg],
                       stdout=subprocess.DEVNULL, check=True)
        try:
            rc = watch.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            pass
    if rc is None:
        watch.kill()
        watch.wait()
    tap("watch whose reader went away: ends at the next update, exit 0", rc == 0,
        "still running" if rc is None else "exit %d" % rc)


def test_sums_at_the_limit(redis):
    """Counters of up to 10^15 each (more is no count): 9,000 of them sum
    exactly; 9,300 would pass the range of a count, which is said, not
    wrapped round. Watch takes an update's counts the same way."""
    redis.cli("SADD", "crossings:checkpoints", "huge")
    try:
        for fields, ok in ((9000, True), (9300, False)):
            redis.cli("DEL", "crossings:huge:entry:all")
            redis.cli(text="HSET crossings:huge:entry:all " + " ".join(
                "nat:A%04d 1000000000000000" % i for i in range(fields)))
            rc, out, err = query(redis, "--checkpoint", "huge", "--by", "nat", "--top", "1")
            if ok:
                tap("9,000 counters of 10^15: summed exactly, exit 0", rc == 0 and
                    out.splitlines()[-1].split() == ["total", "9000000000000000000"] and
                    out.splitlines()[1].count("\u2588") == 40, out + err)
            else:
                tap("9,300 counters of 10^15: the sum is refused, one line, exit 2",
                    rc == 2 and out == "" and err == "crossings-query: a sum of counters "
                    "beyond 9223372036854775807\n", out + err)
    finally:
        redis.cli("SREM", "crossings:checkpoints", "huge")
        redis.cli("DEL", "crossings:huge:entry:all")
    msg = ('{"node":"n","seq":1,"time_ms":1,"buckets":{'
           '"a:exit:2022092714":{"total":99999999999999999999},'
           '"b:exit:2022092714":{"total":-5},'
           '"c:exit:2022092714":{"total":1000000000000000},'
           '"c:exit:2022092715":{"total":1000000000000000}}}')
    rc, out, err = watch_one(redis, msg)
    rows = {l.split()[0]: l.split()[1:3] for l in out.decode().splitlines()
            if l[:2] in ("a:", "b:", "c:")}
    tap("watch: counts out of range or negative taken as 0, the others summed",
        rc == 0 and rows == {
            "a:exit": ["0", "+0"], "b:exit": ["0", "+0"],
            "c:exit": ["2000000000000000", "+2000000000000000"]} and
        "runtime error" not in err.decode(), "%r %s" % (rows, err.decode()))

def test_watch_resubscribes():
    """Redis restarts under watch: it subscribes again and shows the next
    update."""
    redis = RedisServer(os.path.join(TMP, "redis-watch")).start()
    watch = subprocess.Popen([QUERY, "--redis", "unix:" + redis.socket, "watch",
                              "--count", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        redis.stop(9)
        time.sleep(0.3)
        redis.start()
        for _ in range(200):
            if redis.cli("pubsub", "numsub", "crossings:updates").split()[-1:] == ["1"]:
                break
            time.sleep(0.05)
        redis.cli("publish", "crossings:updates",
                  '{"node":"n","seq":9,"time_ms":1,"buckets":'
                  '{"verkhny-lars:exit:2022092714":{"total":4}}}')
        try:
            out, err = watch.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            watch.kill()
            out, err = watch.communicate()
        out, err = out.decode(), err.decode()
        tap("watch: Redis restarted, subscribed again, the next update shown",
            watch.returncode == 0 and "subscribing again" in err and
            "watching crossings:updates again" in err and
            any(l.split()[:2] == ["verkhny-lars:exit", "4"] for l in out.splitlines()),
            out + err)
    finally:
        redis.stop()


def test_long_range_and_bad_counts(redis):
    """A checkpoint with an hour key for each of 5,000 hours, read by
    hour; then counters that hold no count. Both checkpoints are listed
    in crossings:checkpoints, as the pipeline lists every one it writes,
    and taken out again, so that the other tests' sums stay as they are."""
    redis.cli("SADD", "crossings:checkpoints", "long-range", "bad-count")
    try:
        long_range_and_bad_counts(redis)
    finally:
        redis.cli("SREM", "crossings:checkpoints", "long-range", "bad-count")


def long_range_and_bad_counts(redis):
    hours = 5000
    start = ms(2023, 1, 1, 0) // 3600000
    lines = []
    for i in range(hours):
        h = time.strftime("%Y%m%d%H", time.gmtime((start + i) * 3600))
        lines.append("HSET crossings:long-range:exit:h:%s total %d" % (h, 1 + i % 7))
    subprocess.run(["redis-cli", "-s", redis.socket], input="\n".join(lines).encode(),
                   stdout=subprocess.DEVNULL, check=True)
    last = time.strftime("%Y-%m-%dT%H", time.gmtime((start + hours - 1) * 3600))
    rc, out, err = query(redis, "--checkpoint", "long-range", "--by", "hour", "--from",
                         "2023-01-01T00", "--to", last, "--format", "csv")
    got = rows_csv(out) if rc == 0 else {}
    want = sum(1 + i % 7 for i in range(hours))
    tap("5,000 hours by hour: every row",
        len(got) == hours and sum(got.values()) == want,
        "rows %d sum %d want %d %s" % (len(got), sum(got.values()), want, err))
    rc, out, err = query(redis, "--checkpoint", "long-range", "--by", "hour", "--from",
                         "2023-01-01T00", "--to", last)
    tap("5,000 hours by hour, table: the whole total",
        rc == 0 and out.splitlines()[-1].split() == ["total", str(want)], out[-300:] + err)
    for value in ("abc", "12x", "-3", "99999999999999999999", "9223372036854775807",
                  "1000000000000001"):
        subprocess.run(["redis-cli", "-s", redis.socket, "hset",
                        "crossings:bad-count:entry:all", "nat:RUS", value],
                       stdout=subprocess.DEVNULL, check=True)
        rc, out, err = query(redis, "--checkpoint", "bad-count", "--by", "nat")
        tap("a counter holding %s: one line naming key and field, exit 2" % value,
            rc == 2 and err.strip().splitlines() ==
            ['crossings-query: crossings:bad-count:entry:all nat:RUS: "%s" is not a count'
             % value], out + err)


def main():
    redis = RedisServer(os.path.join(TMP, "redis")).start()
    try:
        fill(redis)
        test_groupings(redis)
        test_age_order(redis)
        test_errors(redis)
        test_unknown_filters(redis)
        test_options_per_mode(redis)
        test_watch_and_status(redis)
        test_long_range_and_bad_counts(redis)
        test_watch_many_flows(redis)
        test_output_errors(redis)
        test_sums_at_the_limit(redis)
        test_watch_resubscribes()
        test_ipv6_endpoint()
        test_password_from_environment()
    finally:
        redis.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    return tap_end()


if __name__ == "__main__":
    sys.exit(main())
