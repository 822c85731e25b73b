#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""crossings-ingest publishing to a real redis-server the test starts:
the same counts as --no-redis, exactly once through Redis crashes,
lost replies, two nodes and restarts; AUTH. Prints TAP.

usage: test_redis.py CROSSINGS_INGEST PCAP_WRITE
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_lib import (tap, tap_end, CONFIG, Capture, Doc, Model, Netns, RedisServer,  # noqa: E402
                        corrupt, diff, framed, ingest_command, loopback6_port, ms, run_ingest,
                        udp_frame)

INGEST, PCAP_WRITE = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="crossings-redis-test-")
T0 = ms(2022, 9, 27, 14, 0)
_runs = 0




def prefix():
    global _runs
    _runs += 1
    return "crossings-redis-%d-%d" % (os.getpid(), _runs)


def config(redis, node="test-node", extra="", flush_ms=200):
    path = os.path.join(TMP, "%s-%d.ini" % (node, _runs))
    text = CONFIG.replace("[node]\nname = test-node",
                          "[node]\nname = %s" % node)
    text += "\n[redis]\nunix = %s\nflush_interval_ms = %d\ntimeout_ms = 500\n%s" % (
        redis.socket, flush_ms, extra)
    with open(path, "w") as f:
        f.write(text)
    return path


def scenario(seed, n=300, t0=T0):
    """Framed records with their own times (deterministic on any port),
    re-scans, retransmissions and invalid ones; and the model's counts."""
    rng = random.Random(seed)
    cap, model = Capture(), Model()
    t = t0
    for i in range(n):
        d = Doc("%s%06d" % (rng.choice("ABC"), rng.randrange(10 ** 6)),
                nat=rng.choice(["RUS", "RUS", "KAZ", "GEO", "D"]),
                sex=rng.choice("MF<"), birth=rng.choice(["950615", "040101", "600101"]),
                fmt=rng.choice(["TD3", "TD1"]))
        t += rng.randrange(1000, 120000)
        cp, name = rng.choice([(17, "verkhny-lars"), (42, "kazakh-1"), (7, "cp-7")])
        text = d.text() if rng.random() > 0.05 else corrupt(d.text())
        valid = text == d.text()
        seq = i + 1
        cap.add(t, udp_frame("192.0.2.1", "10.0.0.1", framed(text, 2, cp, 1, seq, t)))
        model.record(name, "exit", t, d if valid else None, (cp, 1, seq))
        if rng.random() < 0.1:
            cap.add(t, udp_frame("192.0.2.1", "10.0.0.1", framed(text, 2, cp, 1, seq, t)))
            model.record(name, "exit", t, d if valid else None, (cp, 1, seq))
    return cap, model


def write(cap, name):
    path = os.path.join(TMP, name)
    cap.write(PCAP_WRITE, path)
    return path


def run_pcap(pcap, cfg, extra=()):
    cmd = ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap, prefix(), cfg,
                         ["--idle-exit", "1"] + list(extra))
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)


def test_same_as_no_redis():
    cap, model = scenario(1)
    pcap = write(cap, "same.pcap")
    redis = RedisServer(os.path.join(TMP, "r1")).start()
    try:
        p = run_pcap(pcap, config(redis))
        local = run_ingest(INGEST, [pcap], config(redis))
        got = redis.counts()
        tap("with Redis: exactly the hashes of --no-redis", p.returncode == 0 and
            got == local.counts and got == model.json(),
            "exit %d; %s\n%s" % (p.returncode, diff(local.counts or {}, got),
                                 p.stderr.decode()[-800:]))
        node = redis.hash("crossings:node:test-node")
        tap("node status: run, seq, last flush, version and counters",
            node.get("seq", "0") != "0" and node.get("run") and node.get("version") and
            int(node.get("last_flush_ms", 0)) > 0 and
            int(node.get("records_crossing", -1)) == model.records["crossing"] and
            int(node.get("records_retransmission", -1)) == model.records["retransmission"] and
            int(node.get("frames", -1)) == len(cap.frames) and
            node.get("pending_flushes") == "0", node)
        # Run the same node again: a new run, not a replay: all doubled.
        p = run_pcap(pcap, config(redis))
        got = redis.counts()
        doubled = all(got[k][f] == 2 * v for k, fs in model.json().items()
                      if k != "crossings:checkpoints" for f, v in fs.items())
        tap("a restarted node is a new run, not a replay: counts doubled",
            p.returncode == 0 and doubled, p.stderr.decode()[-500:])
        # Another node with another capture adds its own.
        cap2, model2 = scenario(2)
        p = run_pcap(write(cap2, "node2.pcap"), config(redis, "node-2"))
        got = redis.counts()
        m1, m2 = model.json(), model2.json()
        ok = p.returncode == 0
        for k in set(m1) | set(m2):
            if k == "crossings:checkpoints":
                continue
            for f in set(m1.get(k, {})) | set(m2.get(k, {})):
                want = 2 * m1.get(k, {}).get(f, 0) + m2.get(k, {}).get(f, 0)
                if got.get(k, {}).get(f, 0) != want:
                    ok = False
        tap("two nodes publish into one Redis, each counted once", ok and
            redis.hash("crossings:node:node-2").get("run") and
            redis.hash("crossings:node:test-node").get("run"),
            p.stderr.decode()[-500:])
    finally:
        redis.stop()


def test_auth():
    cap, model = scenario(3, 30)
    pcap = write(cap, "auth.pcap")
    redis = RedisServer(os.path.join(TMP, "r2"), password="s3cret").start()
    try:
        cfg = config(redis, extra="password = s3cret\n")
        os.chmod(cfg, 0o600)
        p = run_pcap(pcap, cfg)
        err = p.stderr.decode()
        tap("AUTH with the right password; a file of mode 600 draws no warning",
            p.returncode == 0 and redis.counts() == model.json() and
            "holds the Redis password" not in err, err[-500:])
        os.chmod(cfg, 0o644)
        p = run_pcap(pcap, cfg)
        err = p.stderr.decode()
        tap("a password in a file others may read: one warning naming it and chmod 600",
            p.returncode == 0 and err.count("%s holds the Redis password and other users "
                                            "may read it: chmod 600" % cfg) == 1, err[-500:])
        # Two runs of the capture so far; the next adds nothing.
        twice = {k: {f: 2 * n for f, n in v.items()} if isinstance(v, dict) else v
                 for k, v in model.json().items()}
        p = run_pcap(pcap, config(redis, extra="password = wrong\n"))
        lines = [l for l in p.stderr.decode().splitlines()
                 if l.startswith("crossings-ingest:")]
        tap("AUTH with a wrong password: one clear line, exit 2, no packet read",
            p.returncode == 2 and len(lines) == 1 and "authentication refused" in lines[0]
            and redis.counts() == twice, p.stderr.decode()[-500:])
    finally:
        redis.stop()


def test_ipv6_endpoint():
    """--redis [::1]:PORT: the bracketed form reaches Redis on IPv6."""
    cap, model = scenario(4, 30)
    pcap = write(cap, "ipv6.pcap")
    port = loopback6_port()
    redis = RedisServer(os.path.join(TMP, "r-ipv6"),
                        extra=("--port", str(port), "--bind", "::1")).start()
    try:
        p = run_pcap(pcap, config(redis), ["--redis", "[::1]:%d" % port])
        tap("--redis [::1]:PORT overrides [redis] unix and publishes there",
            p.returncode == 0 and redis.counts() == model.json(),
            "exit %d %s" % (p.returncode, p.stderr.decode()[-500:]))
    finally:
        redis.stop()


def test_redis_away():
    cap, model = scenario(4, 50)
    pcap = write(cap, "away.pcap")
    redis = RedisServer(os.path.join(TMP, "r3"))
    cfg = config(redis, extra="shutdown_timeout_s = 1\n")
    p = run_pcap(pcap, cfg)
    err = p.stderr.decode()
    lost = [l for l in err.splitlines() if "increments lost" in l]
    tap("Redis away all along: starts, warns, reports the increments lost, exit 1",
        p.returncode == 1 and "counting anyway" in err and len(lost) == 1 and
        " 0 increments lost" not in lost[0], err[-600:])
    # Redis comes up while the node runs: everything is delivered, the
    # backlog in flushes of at most 10 counts.
    cfg = config(redis, extra="shutdown_timeout_s = 1\nflush_max_pairs = 10\n")
    cmd = ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap, prefix(), cfg,
                         ["--idle-exit", "4"])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2)
    redis.start()
    try:
        out, err = proc.communicate(timeout=60)
        final = [l for l in err.decode().splitlines() if "final: " in l]
        flushes = int(final[0].split("redis: flushes ")[1].split()[0]) if final else 0
        tap("Redis unreachable at start, then up: all counts delivered once, "
            "the backlog in several flushes",
            proc.returncode == 0 and redis.counts() == model.json() and flushes > 5,
            "exit %d flushes %d %s" % (proc.returncode, flushes, err.decode()[-600:]))
    finally:
        redis.stop()


def test_redis_out_of_memory():
    """A Redis at its maxmemory with noeviction (the default policy)
    refuses every write: each flush is refused whole, named, and kept;
    once Redis has room, the counts arrive exactly once."""
    cap, model = scenario(11, 200)
    pcap = write(cap, "oom.pcap")
    # One byte: full from the start, whatever an empty Redis takes.
    redis = RedisServer(os.path.join(TMP, "r9"), extra=["--maxmemory", "1"]).start()
    try:
        proc = subprocess.Popen(ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap, prefix(),
                                               config(redis), ["--idle-exit", "4"]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(2.5)
        full = redis.counts() == {"crossings:checkpoints": []}
        redis.cli("config", "set", "maxmemory", "0")
        _, err = proc.communicate(timeout=60)
        err = err.decode()
        refused = [l for l in err.splitlines() if "OOM command not allowed" in l]
        tap("Redis out of memory: flushes refused whole and named, nothing "
            "written; with room again, counts exact once, exit 0",
            proc.returncode == 0 and full and redis.counts() == model.json() and
            len(refused) >= 2 and
            all("nothing of the flush applied" in l for l in refused) and
            err.index(refused[-1]) < err.index("flushes acknowledged again"),
            "exit %d full %s %s" % (proc.returncode, full, err[-800:]))
    finally:
        redis.stop()


def test_replicas_unconfirmed():
    """wait_replicas = 1 and no replica: the final flush is applied (once,
    however often resent) but unconfirmed, and said to be so."""
    cap, model = scenario(6, 50)
    pcap = write(cap, "replicas.pcap")
    redis = RedisServer(os.path.join(TMP, "r5")).start()
    try:
        # One flush, the final one: nothing is formed while it waits.
        p = run_pcap(pcap, config(redis, extra="shutdown_timeout_s = 1\nwait_replicas = 1\n",
                                  flush_ms=60000))
        err = p.stderr.decode()
        waits = [l for l in err.splitlines() if "held by 0 of 1 replicas" in l]
        tap("wait_replicas without a replica: the final flush applied once, "
            "reported unconfirmed, not lost; exit 1",
            p.returncode == 1 and redis.counts() == model.json() and len(waits) >= 2 and
            "fewer than 1 replicas confirmed it in 1 s: a failover now would lose" in err and
            "increments lost" not in err, err[-800:])
    finally:
        redis.stop()


def test_eviction_policy_warned():
    """A Redis that may evict our keys (allkeys-lru) is named at start;
    the default policy is not."""
    cap, model = scenario(7, 30)
    pcap = write(cap, "policy.pcap")
    results = []
    for name, extra in (("r6", ["--maxmemory-policy", "allkeys-lru"]), ("r7", [])):
        redis = RedisServer(os.path.join(TMP, name), extra=extra).start()
        try:
            p = run_pcap(pcap, config(redis))
            results.append((p.returncode, redis.counts() == model.json(),
                            p.stderr.decode()))
        finally:
            redis.stop()
    (rc_lru, same_lru, err_lru), (rc_default, same_default, err_default) = results
    tap("maxmemory-policy allkeys-lru: one warning at start naming it; "
        "counts and exit as usual; none with the default policy",
        rc_lru == 0 and same_lru and rc_default == 0 and same_default and
        err_lru.count("maxmemory-policy allkeys-lru may evict counts") == 1 and
        "maxmemory-policy" not in err_default, err_lru[-600:])
    # Redis away at start, then up with such a policy: named once, when
    # the node reaches it.
    redis = RedisServer(os.path.join(TMP, "r8"),
                        extra=["--maxmemory-policy", "allkeys-random"])
    proc = subprocess.Popen(ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap, prefix(),
                                           config(redis), ["--idle-exit", "3"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)
    redis.start()
    try:
        _, err = proc.communicate(timeout=60)
        err = err.decode()
        tap("Redis away at start, then up with allkeys-random: one warning "
            "naming it, after the connection; counts as usual",
            proc.returncode == 0 and redis.counts() == model.json() and
            err.count("maxmemory-policy allkeys-random may evict counts") == 1 and
            err.index("counting anyway") < err.index("maxmemory-policy"), err[-600:])
    finally:
        redis.stop()


def test_crashes_during_a_paced_run():
    """Redis SIGKILLed and restarted while traffic flows, and a reply
    lost to DEBUG SLEEP: the counts end exact."""
    if os.geteuid() != 0 or not shutil.which("tcpreplay"):
        tap("# SKIP Redis crashes during a run: needs root and tcpreplay", True)
        return
    cap, model = scenario(5, 3000)
    pcap = write(cap, "paced.pcap")
    redis = RedisServer(os.path.join(TMP, "r4"), persist=True).start()
    cfg = config(redis)
    ns_name = "crossings-%d" % os.getpid()
    try:
        with Netns(ns_name) as ns:
            cmd = ns.exec(ingest_command(
                INGEST, "net_af_packet0,iface=%s,framecnt=8192" % ns.a, prefix(), cfg,
                ["--idle-exit", "4"], memory_mb=1024))
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # --idle-exit counts from the start: traffic begins well within.
            time.sleep(1.5)
            replay = subprocess.Popen(ns.exec(["tcpreplay", "-q", "-i", ns.b, "--pps",
                                               "1000", pcap]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            events = [(0.6, "kill"), (1.0, "start"), (1.5, "sleep"), (1.9, "kill"),
                      (2.1, "start"), (2.6, "kill"), (3.2, "start")]
            start = time.time()
            for at, what in events:
                time.sleep(max(0, start + at - time.time()))
                if what == "kill":
                    redis.stop(9)
                elif what == "start":
                    redis.start()
                else:
                    subprocess.Popen(["redis-cli", "-s", redis.socket, "debug", "sleep",
                                      "1.2"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            replay.wait(timeout=60)
            out, err = proc.communicate(timeout=60)
        err = err.decode()
        got = redis.counts()
        received = [l for l in err.splitlines() if "ipackets" in l]
        reconnects = [l for l in err.splitlines() if "final: " in l]
        tap("Redis killed and restarted 3 times, a reply lost: counts exact",
            proc.returncode == 0 and got == model.json() and
            " imissed 0 " in (received or [""])[0] and
            " delivered %d " % len(cap.frames) in (reconnects or [""])[0],
            "exit %d; %s\n%s\n%s" % (proc.returncode, diff(model.json(), got),
                                     received, err[-1500:]))
        tap("the stats line shows the reconnects", reconnects and
            "reconnects 0 " not in reconnects[0], reconnects)
    finally:
        redis.stop()


def main():
    test_same_as_no_redis()
    test_auth()
    test_ipv6_endpoint()
    test_redis_away()
    test_redis_out_of_memory()
    test_replicas_unconfirmed()
    test_eviction_policy_warned()
    test_crashes_during_a_paced_run()
    shutil.rmtree(TMP, ignore_errors=True)
    return tap_end()


if __name__ == "__main__":
    sys.exit(main())
