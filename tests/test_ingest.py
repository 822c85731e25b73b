#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""crossings-ingest on crafted captures (pcap vdev, --no-redis), compared
with counts computed independently by ingest_lib.Model. Prints TAP.

usage: test_ingest.py CROSSINGS_INGEST PCAP_WRITE
"""

import collections
import json
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_lib import (tap, tap_end, CONFIG, Capture, Doc, Model, corrupt, diff,  # noqa: E402
                        eal_prefix, framed, ms, run_ingest, runtime_dir, udp_frame)

INGEST, PCAP_WRITE = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="crossings-ingest-test-")

T0 = ms(2022, 9, 27, 14, 0)
NATS = ["RUS", "RUS", "RUS", "KAZ", "GEO", "D", "UTO", "FIN"]
SEXES = ["M", "M", "F", "X", "<"]
BIRTHS = ["040927", "040928", "950615", "740812", "601231", "550101", "99<<<<",
          "0001<<", "221231", "300101"]




def write_config(text, name="crossings.ini"):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def capture_file(cap, name):
    path = os.path.join(TMP, name)
    cap.write(PCAP_WRITE, path)
    return path


def docs(n, rng, fmt_mix=("TD3", "TD3", "TD1", "TD2")):
    out = []
    for i in range(n):
        fmt = rng.choice(fmt_mix)
        out.append(Doc("%s%06d" % (rng.choice("ABCKL"), rng.randrange(10 ** 6)),
                       nat=rng.choice(NATS), sex=rng.choice(SEXES),
                       birth=rng.choice(BIRTHS), fmt=fmt,
                       code=rng.choice(["P", "PD"]) if fmt == "TD3" else
                       rng.choice(["I", "ID", "C", "A"])))
    return out


def check_counts(name, res, model, frames_expected=None):
    ok = res.rc == 0 and res.counts == model.json()
    why = "exit %d; %s\n%s" % (res.rc, diff(model.json(), res.counts),
                               res.stderr[-1500:])
    # Every mbuf is back in the pool at exit.
    if ok and "never came back to the pool" in res.stderr:
        ok = False
    if ok:
        for k in ("crossing", "dup", "retransmission", "incomplete", "invalid"):
            if res.records[k] != model.records[k]:
                ok, why = False, "records %s: expected %d, got %d" % (
                    k, model.records[k], res.records[k])
    if ok and frames_expected is not None:
        for k, v in frames_expected.items():
            if res.frames[k] != v:
                ok, why = False, "frames %s: expected %d, got %d (%s)" % (
                    k, v, res.frames[k], dict(res.frames))
    tap(name, ok, why)


def invariants(name, counts):
    """redis.md: total = sum of each family; hours sum to their day."""
    bad = []
    days = collections.Counter()
    for key, fields in (counts or {}).items():
        if key == "crossings:checkpoints":
            continue
        total = fields.get("total", 0)
        for fam in ("nat:", "sex:", "age:", "doc:", "x:"):
            s = sum(v for f, v in fields.items() if f.startswith(fam))
            if s != total:
                bad.append("%s %s* sums to %d, total %d" % (key, fam, s, total))
        parts = key.split(":")
        if parts[3] == "h":
            days[":".join(parts[:3]) + ":d:" + parts[4][:8]] += total
    for day, s in days.items():
        if counts.get(day, {}).get("total", 0) != s:
            bad.append("%s: hours sum to %d" % (day, s))
    tap(name, counts is not None and not bad, "; ".join(bad[:5]))


def test_framed():
    rng = random.Random(1)
    cap, model = Capture(), Model()
    people = docs(60, rng)
    seq = collections.Counter()
    t = T0
    src_exit = "10.17.0.21"
    for i, d in enumerate(people):
        t += rng.randrange(1000, 60000)
        cp, cp_name = rng.choice([(17, "verkhny-lars"), (42, "kazakh-1"),
                                  (99, "cp-99")])
        direction = rng.choice([1, 2])
        dir_name = ["unknown", "entry", "exit"][direction]

        def send(event_t, mrz, doc, new_scan=True):
            """A frame captured at t; new_scan False resends the last one."""
            if new_scan:
                seq[cp] += 1
            cap.add(t, udp_frame(src_exit, "10.0.0.1",
                                 framed(mrz, direction, cp, 1, seq[cp], event_t)))
            model.record(cp_name, dir_name, event_t, doc, (cp, 1, seq[cp]))

        text = d.text()
        send(t, text, d)
        if i % 5 == 0:
            # A re-scan 10 minutes later: inside the window.
            send(t + 600000, text, d)
        if i % 7 == 0:
            # The same frame again: a retransmission.
            send(t, text, d, new_scan=False)
        if i % 9 == 0:
            # Back again two hours later: a new crossing.
            send(t + 7200000, text, d)
        if i % 11 == 0:
            send(t, corrupt(text), None)
    # Checkpoint 0 and direction 0 come from the scanner of the source;
    # from an unregistered source, direction stays unknown.
    d1, d2, d3 = docs(3, rng)
    cap.add(t, udp_frame(src_exit, "10.0.0.1", framed(d1.text(), 0, 0, 5, 1, t)))
    model.record("verkhny-lars", "exit", t, d1, (0, 5, 1))
    cap.add(t, udp_frame("192.0.2.9", "10.0.0.1", framed(d2.text(), 0, 42, 6, 1, t)))
    model.record("kazakh-1", "unknown", t, d2, (42, 6, 1))
    # time_ms 0: the capture's timestamp is the event time.
    cap.add(t + 5000, udp_frame("192.0.2.9", "10.0.0.1", framed(d3.text(), 1, 42, 6, 2, 0)))
    model.record("kazakh-1", "entry", t + 5000, d3, (42, 6, 2))
    # Several frames in one datagram.
    batch = docs(4, rng)
    payload = b"".join(framed(d.text(), 2, 17, 9, 100 + i, t) for i, d in enumerate(batch))
    cap.add(t, udp_frame("192.0.2.10", "10.0.0.1", payload))
    for i, d in enumerate(batch):
        model.record("verkhny-lars", "exit", t, d, (17, 9, 100 + i))

    res = run_ingest(INGEST, [capture_file(cap, "framed.pcap")], write_config(CONFIG))
    check_counts("framed records: crossings, re-scans, retransmissions, invalid, "
                 "registry fallbacks, batches", res, model,
                 {"total": len(cap.frames), "delivered": len(cap.frames)})
    invariants("framed records: redis.md sum invariants hold", res.counts)


def test_raw():
    rng = random.Random(2)
    cap, model = Capture(), Model()
    t = T0
    lars_exit, lars_entry, kz, v6 = ("10.17.0.21", "10.17.1.5", "10.17.1.200",
                                     "fd00:17::5")
    where = {lars_exit: ("verkhny-lars", "exit"), lars_entry: ("verkhny-lars", "entry"),
             kz: ("kazakh-1", "exit"), v6: ("vaalimaa", "entry")}
    people = docs(40, rng)
    for i, d in enumerate(people):
        t += 1500
        src = [lars_exit, lars_entry, kz, v6][i % 4]
        cp, direction = where[src]
        form = i % 6
        lines = d.lines()
        if form == 0:
            cap.add(t, udp_frame(src, "10.0.0.1", d.text().encode()))
        elif form == 1:
            cap.add(t, udp_frame(src, "10.0.0.1",
                                 b"\x02" + d.text("\r").encode() + b"\r\x03"))
        elif form == 2:
            cap.add(t, udp_frame(src, "10.0.0.1", (d.text("\n") + "\n").encode()))
        elif form == 3:
            # One line per datagram, as a per-line serial-device server.
            for j, l in enumerate(lines):
                cap.add(t + j * 100, udp_frame(src, "10.0.0.1", (l + "\r\n").encode(),
                                               sport=41000 + i))
        elif form == 4:
            cap.add(t, udp_frame(src, "10.0.0.1", "".join(lines).encode()))
        else:
            # Two records in one datagram, the second one invalid.
            other = docs(1, rng)[0]
            cap.add(t, udp_frame(src, "10.0.0.1",
                                 (d.text() + "\r\n" + corrupt(other.text()) + "\r\n").encode()))
            model.record(cp, direction, t, d)
            model.record(cp, direction, t, None)
            continue
        model.record(cp, direction, t, d)
    # Interleaved per-line sources: lines join per source (address, port).
    a, b = docs(2, rng)
    t += 1000
    la, lb = a.lines(), b.lines()
    order = [(0, la[0]), (1, lb[0])] + [(0, l) for l in la[1:]] + [(1, l) for l in lb[1:]]
    for k, (who, line) in enumerate(order):
        cap.add(t + k, udp_frame(lars_exit, "10.0.0.1", (line + "\n").encode(),
                                 sport=50000 + who))
    model.record("verkhny-lars", "exit", t, a)
    model.record("verkhny-lars", "exit", t + 1, b)
    # A first line whose second comes 3 s later: incomplete; the late
    # line, 44 characters, starts a record that never completes.
    c = docs(1, rng, ("TD3",))[0]
    t += 10000
    cap.add(t, udp_frame(lars_exit, "10.0.0.1", (c.lines()[0] + "\n").encode(), sport=52000))
    cap.add(t + 3000, udp_frame(lars_exit, "10.0.0.1", (c.lines()[1] + "\n").encode(),
                                sport=52000))
    model.incomplete(2)
    # A first line that never gets its second: incomplete at the end.
    cap.add(t + 4000, udp_frame(lars_exit, "10.0.0.1", (c.lines()[0] + "\n").encode(),
                                sport=53000))
    model.incomplete()
    # 44 characters alone make a partial record; the line 3 s later is
    # the first of a new one, which completes.
    e = docs(1, rng, ("TD3",))[0]
    cap.add(t + 5000, udp_frame(lars_entry, "10.0.0.1", (e.lines()[0] + "\n").encode(),
                                sport=54000))
    cap.add(t + 9000, udp_frame(lars_entry, "10.0.0.1", e.text().encode(), sport=54000))
    model.incomplete()
    model.record("verkhny-lars", "entry", t + 9000, e)
    # Unknown source: dropped as a frame.
    cap.add(t + 9000, udp_frame("192.0.2.99", "10.0.0.1", e.text().encode()))
    # Text that is no MRZ at all: each line a record, invalid.
    cap.add(t + 9000, udp_frame(lars_entry, "10.0.0.1", b"hello\r\nworld\r\n" + b"A" * 700))
    for _ in range(3):
        model.record("verkhny-lars", "entry", t + 9000, None)

    res = run_ingest(INGEST, [capture_file(cap, "raw.pcap")], write_config(CONFIG))
    check_counts("raw text: whole, STX/ETX, LF, per line, concatenated, several "
                 "per datagram, interleaved sources, incomplete, longest prefix, IPv6",
                 res, model, {"total": len(cap.frames), "unknown_source": 1,
                              "delivered": len(cap.frames) - 1})


def test_junk():
    rng = random.Random(3)
    cap, model = Capture(), Model()
    d = docs(1, rng)[0]
    t = T0
    good = framed(d.text(), 2, 17, 1, 1, t)
    base = udp_frame("10.17.0.21", "10.0.0.1", good)
    expect = collections.Counter()

    def add(frame, counter):
        cap.add(t, frame)
        expect[counter] += 1

    add(bytes.fromhex("ffffffffffff020000000002" "0806") + b"\0" * 28, "not_ip")
    tcp = bytearray(base)
    tcp[23] = 6
    tcp[24:26] = b"\0\0"
    import ingest_lib
    tcp[24:26] = struct.pack("!H", ingest_lib.csum(bytes(tcp[14:34])))
    add(bytes(tcp), "not_udp")
    add(udp_frame("10.17.0.21", "10.0.0.1", good, dport=53), "other_port")
    add(udp_frame("10.17.0.21", "10.0.0.1", good, fragment=True), "fragment")
    add(udp_frame("10.17.0.21", "10.0.0.1", good, bad_ip_checksum=True), "bad_ip_checksum")
    # The pcap vdev checks no checksum: the decoder does, as a NIC would.
    right = struct.unpack("!H", base[40:42])[0]
    add(udp_frame("10.17.0.21", "10.0.0.1", good, udp_checksum=right ^ 0x0100),
        "bad_udp_checksum")
    add(udp_frame("fd00:17::5", "fd00::1", good, udp_checksum=0), "bad_udp_checksum")
    # IPv4 may leave the UDP checksum out.
    add(udp_frame("10.17.0.21", "10.0.0.1", framed(d.text(), 2, 17, 1, 5, t),
                  udp_checksum=0), "delivered")
    model.record("verkhny-lars", "exit", t, d, (17, 1, 5))
    add(base[:30], "truncated")
    add(base[:40], "truncated")
    ihl = bytearray(base)
    ihl[14] = 0x44
    add(bytes(ihl), "bad_ip_header")
    ulen = bytearray(base)
    ulen[38:40] = struct.pack("!H", 4)
    ulen[40:42] = b"\0\0"
    add(bytes(ulen), "bad_udp_length")
    # IPv6 with a hop-by-hop header.
    v6 = bytearray(udp_frame("fd00:17::5", "fd00::1", good))
    v6[20] = 0
    add(bytes(v6), "ipv6_extension")
    add(udp_frame("10.17.0.21", "10.0.0.1", framed(d.text(), 2, 17, 1, 2, t, version=2)),
        "malformed")
    add(udp_frame("10.17.0.21", "10.0.0.1", good[:20]), "malformed")
    add(udp_frame("10.17.0.21", "10.0.0.1", framed(d.text(), 3, 17, 1, 3, t)), "malformed")
    # Three VLAN tags are more than scanners send.
    add(udp_frame("10.17.0.21", "10.0.0.1", good, vlans=(1, 2, 3)), "not_ip")
    # A good frame followed by a bad one in one datagram: the first
    # record counts, the datagram is malformed.
    two = framed(d.text(), 2, 17, 1, 4, t) + b"MRZ1\x01\x02\x01\x2c" + b"\0" * 20
    add(udp_frame("10.17.0.21", "10.0.0.1", two), "malformed")
    model.record("verkhny-lars", "exit", t, d, (17, 1, 4))
    # Random bytes, and short frames.
    for i in range(200):
        add(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120))), None)
    expect.pop(None)
    res = run_ingest(INGEST, [capture_file(cap, "junk.pcap")], write_config(CONFIG))
    expect_total = dict(expect)
    expect_total["total"] = len(cap.frames)
    ok = res.rc == 0 and res.frames["total"] == len(cap.frames)
    for k, v in expect.items():
        # Random frames may land in any drop counter, never in these.
        if k in ("malformed", "bad_ip_checksum", "bad_udp_checksum", "fragment",
                 "bad_udp_length", "ipv6_extension", "bad_ip_header", "other_port",
                 "not_udp"):
            ok = ok and res.frames[k] == v
        else:
            ok = ok and res.frames[k] >= v
    ok = ok and sum(v for k, v in res.frames.items() if k != "total") == len(cap.frames)
    tap("junk: every frame in exactly one counter, each drop under its reason",
        ok, "exit %d expected %s got %s\n%s" % (res.rc, expect_total, dict(res.frames),
                                                res.stderr[-800:]))
    tap("junk: the good record before a malformed frame is counted",
        res.counts == model.json(), diff(model.json(), res.counts))


def test_vlan_ipv6():
    rng = random.Random(4)
    cap, model = Capture(), Model()
    t = T0
    for i, d in enumerate(docs(30, rng)):
        vlans = [(), (100,), (100, 200)][i % 3]
        src, dst = [("10.17.0.21", "10.0.0.1"), ("fd00:17::9", "fd00::1")][i % 2]
        cap.add(t, udp_frame(src, dst, framed(d.text(), 1, 17, 3, i + 1, t + i),
                             vlans=vlans))
        model.record("verkhny-lars", "entry", t + i, d, (17, 3, i + 1))
        if i % 3 == 0:
            cap.add(t, udp_frame("fd00:17::44", "fd00::1", d.text().encode(), vlans=vlans))
            model.record("vaalimaa", "entry", t, d)
    res = run_ingest(INGEST, [capture_file(cap, "vlan.pcap")], write_config(CONFIG))
    check_counts("VLAN, QinQ and IPv6, framed and raw", res, model,
                 {"total": len(cap.frames), "delivered": len(cap.frames)})


def test_jumbo():
    """Datagrams longer than an mbuf arrive as chained mbufs."""
    rng = random.Random(10)
    cap, model = Capture(), Model()
    t = T0
    people = docs(60, rng)
    # 40 framed records in one datagram of about 4.7 KB: three mbufs.
    body = b""
    for i, d in enumerate(people[:40]):
        body += framed(d.text(), 2, 17, 7, i + 1, t + i)
        model.record("verkhny-lars", "exit", t + i, d, (17, 7, i + 1))
    cap.add(t, udp_frame("10.17.0.21", "10.0.0.1", body))
    # Raw records one after another: 20 in a datagram of about 1.8 KB
    # (one mbuf), then 25 in one of about 2.3 KB (two).
    for n in (20, 25):
        text = "".join(d.text() + "\r\n" for d in people[60 - n:])
        cap.add(t + 100, udp_frame("10.17.1.3", "10.0.0.1", text.encode()))
        for d in people[60 - n:]:
            model.record("verkhny-lars", "entry", t + 100, d)
    res = run_ingest(INGEST, [capture_file(cap, "jumbo.pcap")], write_config(CONFIG))
    check_counts("datagrams longer than an mbuf: every record counted", res, model,
                 {"total": len(cap.frames), "delivered": len(cap.frames)})


def test_two_queues(workers, port_per_capture=False):
    """The same documents on two RX queues count once, whether the
    queues are of one port or of two."""
    rng = random.Random(5)
    caps = [Capture(), Capture()]
    model = Model()
    t = T0
    people = docs(200, rng)
    for i, d in enumerate(people):
        t += 1000
        # Framed on queue 0 (scanner 1), raw on queue 1 (another scanner
        # of the same checkpoint and direction): one crossing, one dup.
        caps[0].add(t, udp_frame("192.0.2.1", "10.0.0.1", framed(d.text(), 2, 17, 1, i + 1, t)))
        caps[1].add(t, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
        model.record("verkhny-lars", "exit", t, d, (17, 1, i + 1))
        model.record("verkhny-lars", "exit", t, d)
    files = [capture_file(caps[0], "q0.pcap"), capture_file(caps[1], "q1.pcap")]
    res = run_ingest(INGEST, files, write_config(CONFIG), workers=workers,
                     port_per_capture=port_per_capture)
    queues = "two ports" if port_per_capture else "two RX queues"
    check_counts("%s, %d worker(s): the same documents count once" % (queues, workers),
                 res, model, {"total": 400})
    if workers == 2:
        polls = sorted(re.findall(r"lcore (\d) polls (.*)", res.stderr))
        tap("%s, 2 workers: each worker lcore says which queue it polls, one each"
            % queues,
            polls == ([("1", "port 0 queue 0"), ("2", "port 1 queue 0")] if port_per_capture
                      else [("1", "port 0 queue 0"), ("2", "port 0 queue 1")]), polls)


def test_more_workers_than_queues():
    """A worker lcore left without a queue still counts its share of
    the documents, and the node says so at start."""
    cap, model = lars_exits(30, 16)
    res = run_ingest(INGEST, [capture_file(cap, "one-queue.pcap")], write_config(CONFIG),
                     workers=2)
    check_counts("two workers, one RX queue: every record counted", res, model)
    tap("two workers, one RX queue: one warning names the lcore that polls nothing",
        res.stderr.count("polls no RX queue") == 1 and
        "lcore 2 polls no RX queue (more worker lcores than queues)" in res.stderr,
        res.stderr[-600:])


def test_midnight():
    rng = random.Random(6)
    cap, model = Capture(), Model()
    t = ms(2022, 9, 30, 23, 58)
    for i, d in enumerate(docs(40, rng)):
        ti = t + i * 10000
        cap.add(ti, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
        model.record("verkhny-lars", "exit", ti, d)
    res = run_ingest(INGEST, [capture_file(cap, "midnight.pcap")], write_config(CONFIG))
    keys = set((res.counts or {}).keys())
    ok = {"crossings:verkhny-lars:exit:d:20220930",
          "crossings:verkhny-lars:exit:d:20221001",
          "crossings:verkhny-lars:exit:h:2022093023",
          "crossings:verkhny-lars:exit:h:2022100100"} <= keys
    check_counts("a capture spanning midnight UTC (capture timestamps as event time)",
                 res, model)
    tap("midnight: hour and day keys on both sides", ok, str(sorted(keys)))
    invariants("midnight: hours sum to their day", res.counts)


def test_capture_before_1970():
    """A capture stamped before 1970 (seconds libpcap reads as negative)
    carries no usable time: its records count in the host clock's hour,
    not in hours of a far year."""
    rng = random.Random(12)
    cap = Capture()
    people = docs(20, rng, fmt_mix=("TD3",))
    # 0xffffffff s is 1969-12-31 23:59:59 to libpcap.
    for i, d in enumerate(people):
        cap.add(0xffffffff * 1000 + i, udp_frame("10.17.0.21", "10.0.0.1",
                                                  d.text().encode()))
    before = time.gmtime()
    res = run_ingest(INGEST, [capture_file(cap, "before1970.pcap")], write_config(CONFIG))
    after = time.gmtime()
    hours = {time.strftime("crossings:verkhny-lars:exit:h:%Y%m%d%H", t)
             for t in (before, after)}
    counts = res.counts or {}
    hour_keys = [k for k in counts if ":h:" in k]
    tap("a capture stamped before 1970: counted in the host clock's hour",
        res.rc == 0 and res.records["crossing"] == 20 and hour_keys and
        set(hour_keys) <= hours and
        sum(counts[k].get("total", 0) for k in hour_keys) == 20,
        "exit %d, keys %s %s" % (res.rc, sorted(counts), res.stderr[-600:]))


def test_scope_direction(workers):
    """With scope = direction, a document leaving through two
    checkpoints counts once; coming back in, once more."""
    rng = random.Random(7)
    cap, model = Capture(), Model(scope="direction")
    t = T0
    for i, d in enumerate(docs(30, rng)):
        cap.add(t + i, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
        model.record("verkhny-lars", "exit", t + i, d)
        cap.add(t + i, udp_frame("10.17.1.200", "10.0.0.1", d.text().encode()))
        model.record("kazakh-1", "exit", t + i, d)
        cap.add(t + i, udp_frame("10.17.1.7", "10.0.0.1", d.text().encode()))
        model.record("verkhny-lars", "entry", t + i, d)
    conf = CONFIG.replace("window_s = 1800", "window_s = 1800\nscope = direction")
    res = run_ingest(INGEST, [capture_file(cap, "scope.pcap")],
                     write_config(conf, "scope.ini"), workers=workers)
    check_counts("scope = direction, %d worker(s): a document at two checkpoints "
                 "counts once a direction" % workers, res, model)


def test_defaults():
    rng = random.Random(8)
    cap, model = Capture(), Model()
    t = T0
    for i, d in enumerate(docs(10, rng)):
        cap.add(t, udp_frame("10.17.0.21", "10.0.0.1", framed(d.text(), 1, 17, 1, i, t)))
        model.record("cp-17", "entry", t, d, (17, 1, i))
    cap.add(t, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
    # The default capacity (4194304 documents) needs about 500 MB.
    res = run_ingest(INGEST, [capture_file(cap, "defaults.pcap")], memory_mb=1024)
    check_counts("no configuration: framed records under cp-<id>, raw ones "
                 "dropped as unknown source", res, model,
                 {"unknown_source": 1, "total": 11})


def test_record_core_cycles():
    """--record-core-cycles splits the worker's time per frame between the
    port's receive and the rest; without it, the stats say nothing of it."""
    rng = random.Random(10)
    cap = Capture()
    for i, d in enumerate(docs(200, rng, fmt_mix=("TD3",))):
        cap.add(T0 + i, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
    pcap = capture_file(cap, "cycles.pcap")
    config = write_config(CONFIG)
    pattern = r"final: frames 200 .* time/frame: receive ([\d.]+) ns, the rest ([\d.]+) ns"
    res = run_ingest(INGEST, [pcap], config=config, extra=["--record-core-cycles"])
    m = re.search(pattern, res.stderr)
    tap("--record-core-cycles: receive and the rest, in ns a frame", res.rc == 0 and
        m is not None and float(m.group(1)) > 0 and float(m.group(2)) > 0,
        "exit %d %s" % (res.rc, res.stderr[-800:]))
    res = run_ingest(INGEST, [pcap], config=config)
    tap("without --record-core-cycles, no time a frame", res.rc == 0 and
        "final: frames 200 " in res.stderr and "time/frame" not in res.stderr,
        "exit %d %s" % (res.rc, res.stderr[-800:]))


def test_final_rate():
    """The final line's rate is the run's: frames over the seconds from
    the start to the last frame, not 0 and not diluted by --idle-exit."""
    rng = random.Random(11)
    cap = Capture()
    for i, d in enumerate(docs(300, rng, fmt_mix=("TD3",))):
        cap.add(T0 + i, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
    started = time.monotonic()
    res = run_ingest(INGEST, [capture_file(cap, "rate.pcap")],
                     config=write_config(CONFIG), extra=["--idle-exit", "3"])
    wall_s = time.monotonic() - started
    m = re.search(r"final: frames 300 \(([\d.]+) Mpps\)", res.stderr)
    mpps = float(m.group(1)) if m else 0.0
    # 300 frames at the rate: at most the run less the idle wait.
    tap("final line: the rate over the time frames came", res.rc == 0 and
        mpps > 0 and 300 / (mpps * 1e6) < wall_s - 3,
        "exit %d, %.1f s, %s" % (res.rc, wall_s, res.stderr[-800:]))


def test_final_rate_live():
    """Live, the final line's rate is over the traffic, not diluted by
    the seconds before a replay began."""
    if not can_replay("final line's rate, live"):
        return
    cap, _ = lars_exits(400, 15)
    rc, _, err, _ = replay_with_reloads(
        "rate", write_config(CONFIG, "rate-live.ini"),
        [(capture_file(cap, "rate-live.pcap"), None)])
    m = re.search(r"final: frames 400 \(([\d.]+) Mpps\)", err)
    mpps = float(m.group(1)) if m else 0.0
    # 400 frames at 2000 a second: 0.2 s of traffic, 2 s after the start.
    tap("final line, live: the rate over the traffic, not the wait before it",
        rc == 0 and mpps > 0 and 400 / (mpps * 1e6) < 1.5,
        "exit %d %s" % (rc, err[-800:]))


def test_fuzz():
    """Mutated frames: no crash, and the JSON agrees with the counters."""
    rng = random.Random(9)
    cap = Capture()
    t = T0
    people = docs(50, rng)
    for i in range(3000):
        d = rng.choice(people)
        if rng.random() < 0.5:
            payload = framed(d.text(), rng.randrange(3), rng.choice([0, 17, 42, 5]),
                             rng.randrange(3), rng.randrange(50), t)
        else:
            payload = d.text().encode()
        # Payloads mutated under a right UDP checksum reach the parser;
        # frames mutated after it mostly end as a bad checksum.
        payload = bytearray(payload)
        for _ in range(rng.randrange(3)):
            payload[rng.randrange(len(payload))] = rng.randrange(256)
        f = bytearray(udp_frame(rng.choice(["10.17.0.21", "10.17.1.3", "10.9.9.9"]),
                                "10.0.0.1", bytes(payload)))
        for _ in range(rng.randrange(3) if rng.random() < 0.5 else 0):
            pos = rng.randrange(len(f))
            f[pos] = rng.randrange(256)
        if rng.random() < 0.2:
            f = f[:rng.randrange(len(f))]
        cap.add(t + i * 10, bytes(f))
    res = run_ingest(INGEST, [capture_file(cap, "fuzz.pcap")], write_config(CONFIG))
    c = res.counts or {}
    alls = [v for k, v in c.items() if k.endswith(":all")]
    sums = {f: sum(v.get(f, 0) for v in alls) for f in ("total", "dup", "invalid")}
    ok = (res.rc == 0 and res.frames["total"] == len(cap.frames)
          and sums["total"] == res.records["crossing"]
          and sums["dup"] == res.records["dup"]
          and sums["invalid"] == res.records["invalid"]
          and res.records["crossing"] > 0 and res.records["invalid"] > 0)
    tap("3000 mutated frames: no crash, every frame counted, JSON agrees with "
        "the record counters", ok, "exit %d frames %s records %s sums %s\n%s" % (
            res.rc, dict(res.frames), dict(res.records), sums, res.stderr[-800:]))


def test_bad_command_lines():
    import subprocess
    cases = [
        ("[dedup]\nwindow = 5\n", ["--config"], ":2: [dedup] window: unknown key"),
        ("[scanner a]\naddress = 10.1.2.3/8\ncheckpoint = x\n", ["--config"],
         "[scanner a] address:"),
        ("[checkpoint Lars]\nid = 1\n", ["--config"], ":1: [checkpoint Lars]:"),
        ("[ingest]\nudp_ports = 7470,99999\n", ["--config"], ":2: [ingest] udp_ports:"),
        ("[aggregate]\nage_bands = 5-17,18+\n", ["--config"], ":2: [aggregate] age_bands:"),
        ("[node]\nname lars\n", ["--config"], ":2: expected 'key = value'"),
        (None, ["--idle-exit", "soon"], "--idle-exit: expected"),
        (None, ["--frobnicate"], "--frobnicate: unknown option"),
        (None, ["--config", "/nonexistent/x.ini"], "/nonexistent/x.ini:"),
        (None, ["--config", ""], "--config: expected a file"),
        (None, ["--config", TMP], ": Is a directory"),
        (None, ["--redis", "127.0.0.1:6379"], "--redis: and --no-redis: one or the other"),
        # Beyond the capacity keys only push each other out: 10^11 of
        # them ran for hours.
        ("[dedup]\ncapacity = 2000\n", ["--dedup-prefill", "99999999999", "--config"],
         "--dedup-prefill: expected at most the [dedup] capacity, 2000"),
    ]
    cap = Capture()
    cap.add(T0, udp_frame("10.17.0.21", "10.0.0.1", b"x"))
    pcap = capture_file(cap, "one.pcap")
    for i, (text, args, want) in enumerate(cases):
        extra = list(args)
        if text is not None:
            extra.append(write_config(text, "bad%d.ini" % i))
        res = run_ingest(INGEST, [pcap], extra=extra)
        lines = [l for l in res.stderr.splitlines() if l.startswith("crossings-ingest:")]
        ok = res.rc == 2 and len(lines) == 1 and want in lines[0] and not res.stdout
        tap("bad command line or configuration %r: one line, exit 2" % want, ok,
            "exit %d stderr %r stdout %r" % (res.rc, res.stderr[-600:], res.stdout[:200]))
    # --help: the EAL's options, then ours; exit 0.
    p = subprocess.run([INGEST, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    out = p.stdout.decode()
    tap("--help: the EAL's options, then crossings-ingest's, exit 0",
        p.returncode == 0 and "--vdev" in out and "--config FILE" in out and
        out.index("--vdev") < out.index("--config FILE"), "exit %d %r" % (p.returncode, out[-300:]))
    # More worker lcores than the pipeline has room for (64) are refused,
    # not left idle without a word.
    res = run_ingest(INGEST, [pcap], workers=65)
    lines = [l for l in res.stderr.splitlines() if l.startswith("crossings-ingest:")]
    ok = res.rc == 2 and len(lines) == 1 and "EAL -l: at most 64 worker lcores" in lines[0]
    tap("65 worker lcores: one line, exit 2", ok,
        "exit %d stderr %r" % (res.rc, res.stderr[-600:]))


def test_check_config():
    """--check-config FILE: the file read as a start reads it, without the
    EAL; a summary and exit 0, or the error and exit 2."""
    import subprocess
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "config", "crossings.ini")
    text = open(example).read()
    sections = re.findall(r"^\[(\w+)[ \]]", text, re.M)
    p = subprocess.run([INGEST, "--check-config", example], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    want = "%s: ok: node lars-1; checkpoints %d, scanners %d, UDP ports 1;" % (
        example, sections.count("checkpoint"), sections.count("scanner"))
    tap("--check-config on the example: a summary, exit 0, no EAL",
        p.returncode == 0 and p.stdout.decode().startswith(want) and
        p.stdout.decode().count("\n") == 1 and b"EAL" not in p.stderr,
        "exit %d %r %r (want %r)" % (p.returncode, p.stdout, p.stderr, want))
    bad = write_config(CONFIG + "\n[ingest]\nudp_port = 7470\n", "check-bad.ini")
    p = subprocess.run([INGEST, "--check-config", bad], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    err = p.stderr.decode()
    tap("--check-config on a bad file: file, line and key, exit 2",
        p.returncode == 2 and not p.stdout and len(err.strip().splitlines()) == 1 and
        "%s:%d: [ingest] udp_port: unknown key" % (bad, CONFIG.count("\n") + 3) in err,
        "exit %d %r" % (p.returncode, err))
    nul = write_config("[node]\nname = a\0b\n", "nul.ini")
    for path, want in (("", "--check-config: expected a file"),
                       (TMP, "%s: Is a directory" % TMP),
                       ("/dev/zero", "/dev/zero: not a regular file"),
                       ("/dev/stdin", "/dev/stdin: not a regular file"),
                       (nul, "%s:2: a NUL byte: not a text file" % nul)):
        p = subprocess.run([INGEST, "--check-config", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, input=open(example).read().encode()
                           if path == "/dev/stdin" else None, timeout=60)
        tap("--check-config %r: one line, exit 2" % path.replace(TMP, "DIR"),
            p.returncode == 2 and not p.stdout and
            p.stderr.decode() == "crossings-ingest: %s\n" % want,
            "exit %d %r" % (p.returncode, p.stderr))


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config")


def example_traffic():
    """Raw records from a scanner of config/crossings.ini: the capture
    and their counts."""
    rng = random.Random(10)
    cap, model = Capture(), Model()
    for i, d in enumerate(docs(5, rng)):
        cap.add(T0 + i, udp_frame("10.17.1.7", "10.0.0.1", d.text().encode()))
        model.record("verkhny-lars", "entry", T0 + i, d)
    return capture_file(cap, "example.pcap"), model


def test_example_config():
    """config/crossings.ini loads, and its scanners count raw records."""
    pcap, model = example_traffic()
    res = run_ingest(INGEST, [pcap], os.path.join(EXAMPLES, "crossings.ini"),
                     memory_mb=1024)
    check_counts("the example configuration config/crossings.ini", res, model)


def test_example_unit():
    """config/crossings-ingest.service: systemd takes every line of it,
    and the command it starts runs, with this machine's EAL arguments
    in place of the unit's NIC."""
    import shlex
    import shutil
    import subprocess
    from ingest_lib import Result, ingest_command
    text = open(os.path.join(EXAMPLES, "crossings-ingest.service")).read()
    if not shutil.which("systemd-analyze"):
        tap("# SKIP example unit: no systemd-analyze", True)
        return
    # verify checks that ExecStart's program exists: the one built.
    unit = write_config(text.replace("/usr/local/bin/crossings-ingest", INGEST),
                        "crossings-ingest.service")
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", unit],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    said = [l for l in p.stderr.decode().splitlines() if "crossings-ingest.service" in l]
    tap("the example systemd unit: systemd-analyze verify has nothing to say of it",
        p.returncode == 0 and said == [], "exit %d %s" % (p.returncode, said))

    # ExecStart as systemd makes it: Environment= holds shell-quoted
    # assignments, and $NAME becomes the value's words (systemd.service(5)).
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    env = dict(w.split("=", 1) for w in shlex.split(settings["Environment"]) if "=" in w)
    argv = [x for w in shlex.split(settings["ExecStart"])
            for x in (env.get(w[1:], "").split() if w.startswith("$") else [w])]
    options = argv[argv.index("--") + 1:]
    options[options.index("/etc/crossings/crossings.ini")] = os.path.join(EXAMPLES,
                                                                         "crossings.ini")
    pcap, model = example_traffic()
    eal = ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap,
                         "crossings-unit-%d" % os.getpid(), memory_mb=1024)
    res = Result(subprocess.run(eal[:eal.index("--") + 1] + options +
                                ["--no-redis", "--idle-exit", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60))
    check_counts("the example unit's command line (its options after --)", res, model)


def telemetry_stats(prefix, settle=0):
    """/crossings/stats of the running node with that --file-prefix,
    settle seconds after its socket appears; or {"error": ...}."""
    import socket
    import time
    path = os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")
    try:
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.05)
        time.sleep(settle)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        s.recv(16384)  # the greeting
        s.send(b"/crossings/stats")
        reply = json.loads(s.recv(65536).decode()).get("/crossings/stats", {})
        s.close()
        return reply
    except OSError as e:
        return {"error": str(e)}


def test_telemetry():
    """/crossings/stats over the DPDK telemetry socket, while running."""
    import subprocess
    from ingest_lib import ingest_command
    cap = Capture()
    d = docs(3, random.Random(11))
    for i, doc in enumerate(d):
        cap.add(T0 + i, udp_frame("10.17.0.21", "10.0.0.1", doc.text().encode()))
    cap.add(T0, udp_frame("192.0.2.99", "10.0.0.1", d[0].text().encode()))
    prefix = "crossings-telemetry-%d" % os.getpid()
    proc = subprocess.Popen(ingest_command(INGEST, "net_pcap0,rx_pcap=" +
                                           capture_file(cap, "telemetry.pcap"), prefix,
                                           write_config(CONFIG),
                                           ["--no-redis", "--idle-exit", "4",
                                            "--record-core-cycles"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        reply = telemetry_stats(prefix, settle=1)
    finally:
        proc.wait(timeout=30)
    tap("telemetry /crossings/stats: the counters, live",
        reply.get("frames") == 4 and reply.get("frames_unknown_source") == 1 and
        reply.get("records_crossing") == 3 and reply.get("dedup_entries") == 3 and
        reply.get("dedup_capacity", 0) >= 65536, reply)
    tap("telemetry /crossings/stats: with --record-core-cycles, the worker's cycles",
        0 < reply.get("cycles_receive", 0) <= reply.get("cycles_busy", 0) and
        reply.get("tsc_hz", 0) > 0, reply)


def lars_exits(n, seed):
    """n raw records from the exit scanner of Verkhny Lars, a
    millisecond apart, and their counts."""
    rng = random.Random(seed)
    cap, model = Capture(), Model()
    for i, d in enumerate(docs(n, rng)):
        cap.add(T0 + i, udp_frame("10.17.0.21", "10.0.0.1", d.text().encode()))
        model.record("verkhny-lars", "exit", T0 + i, d)
    return cap, model


def test_signals():
    """SIGTERM, SIGINT and SIGHUP: stop, drain, final stats, the counts,
    exit 0; a SIGHUP ignored at start (nohup) stays ignored."""
    import signal
    import subprocess
    import time
    from ingest_lib import ingest_command
    cap, model = lars_exits(20, 12)
    pcap = capture_file(cap, "signals.pcap")

    def run(signals, name, preexec_fn=None, config=True):
        """Sends signals 2.5 s into a run, half a second apart; returns
        exit status, counts and standard error. Without a configuration
        the default tables need more memory."""
        proc = subprocess.Popen(ingest_command(INGEST, "net_pcap0,rx_pcap=" + pcap,
                                               "crossings-signal-%d-%s" % (os.getpid(), name),
                                               write_config(CONFIG) if config else None,
                                               ["--no-redis"],
                                               memory_mb=512 if config else 2048),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=preexec_fn)
        time.sleep(2.5)
        for sig in signals:
            proc.send_signal(sig)
            time.sleep(0.5)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        counts = json.loads(out) if proc.returncode == 0 and out.strip() else None
        return proc.returncode, counts, err.decode()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        name = signal.Signals(sig).name
        rc, counts, err = run([sig], name)
        tap("%s: clean stop, final stats, the counts, exit 0" % name,
            rc == 0 and counts == model.json() and "%s: stopping" % name in err and
            "final: frames 20 " in err, "exit %s %s" % (rc, err[-600:]))
    # nohup: SIGHUP ignored before the program starts. It runs on until
    # SIGTERM, which alone stops it.
    rc, counts, err = run([signal.SIGHUP, signal.SIGTERM], "nohup",
                          lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    tap("SIGHUP under nohup: ignored; SIGTERM then stops it cleanly",
        rc == 0 and counts == model.json() and "SIGHUP" not in err and
        "SIGTERM: stopping" in err, "exit %s %s" % (rc, err[-600:]))
    # SIGUSR2 with no --config file to read again: refused, as any
    # reload that cannot be done, and the node counts on.
    rc, counts, err = run([signal.SIGUSR2, signal.SIGTERM], "no-config", config=False)
    refused = [l for l in err.splitlines() if "reload refused" in l]
    tap("SIGUSR2 without --config: one refusal naming why; the node runs on",
        rc == 0 and len(refused) == 1 and "no --config file to read again" in refused[0] and
        "SIGTERM: stopping" in err and "final: frames 20 " in err,
        "exit %s %s" % (rc, err[-600:]))


def can_replay(what):
    """Whether replay_with_reloads() can run here (as root, with
    tcpreplay); if not, the check of what is skipped, saying why."""
    import shutil
    if os.geteuid() == 0 and shutil.which("tcpreplay"):
        return True
    tap("# SKIP %s: needs root and tcpreplay" % what, True)
    return False


def replay_with_reloads(name, config, phases, workers=1):
    """Runs crossings-ingest --no-redis on af_packet (a queue a worker)
    in a network namespace of its own. For each (pcap, then) of phases:
    replays pcap with tcpreplay, then, if then is a configuration text,
    writes it over the file config (by write_config(), so a reload reads
    it) and sends SIGUSR2. Returns the exit status, the counts (None
    without them), standard error, and /crossings/stats as it stood
    before SIGTERM."""
    import signal
    import subprocess
    import time
    from ingest_lib import Netns, ingest_command
    prefix = "crossings-%s-%d" % (name, os.getpid())
    with Netns(prefix) as ns:
        proc = subprocess.Popen(ns.exec(ingest_command(
            INGEST, "net_af_packet0,iface=%s,qpairs=%d" % (ns.a, workers), prefix,
            config, ["--no-redis"], workers=workers)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(2)
            for pcap, then in phases:
                subprocess.run(ns.exec(["tcpreplay", "-q", "-i", ns.b, "--pps", "2000",
                                        pcap]), stdout=subprocess.DEVNULL, check=True)
                time.sleep(0.5)
                if then is not None:
                    write_config(then, os.path.basename(config))
                    proc.send_signal(signal.SIGUSR2)
                    time.sleep(0.5)
            reply = telemetry_stats(prefix)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        except BaseException:
            proc.kill()
            raise
    counts = json.loads(out) if proc.returncode == 0 and out.strip() else None
    return proc.returncode, counts, err.decode(), reply


def test_reload():
    """SIGUSR2 puts a new scanner and checkpoint in place while the node
    runs, keeping its deduplication windows; a change that needs a
    restart is refused, naming it, and the node goes on as it was."""
    if not can_replay("reload"):
        return
    rng = random.Random(13)
    known, fresh = docs(20, rng), docs(30, rng)
    model = Model()
    seq = iter(range(1, 1000))

    def phase(name, records):
        """records: (source, checkpoint id, direction, doc, cp name and
        direction as counted); all framed, with their own times, a
        minute a phase apart: well within the window."""
        cap = Capture()
        for i, (src, cp_id, direction, d, cp, counted) in enumerate(records):
            t = T0 + 60000 * int(name) + i
            n = next(seq)
            cap.add(t, udp_frame(src, "10.0.0.1", framed(d.text(), direction, cp_id, 5,
                                                         n, t)))
            model.record(cp, counted, t, d, (cp_id, 5, n))
        return capture_file(cap, "reload-%s.pcap" % name)

    # Before: 10.99.0.5 is no scanner (its records land under cp-0,
    # unknown), checkpoint id 77 no checkpoint (cp-77).
    p1 = phase("1", [("10.17.0.21", 0, 0, d, "verkhny-lars", "exit") for d in known] +
               [("10.99.0.5", 0, 0, d, "cp-0", "unknown") for d in fresh[:5]] +
               [("10.17.0.21", 77, 2, d, "cp-77", "exit") for d in fresh[5:10]])
    # After: both named. The known documents again, within the window:
    # re-scans, as if the node had never stopped.
    p2 = phase("2", [("10.17.0.21", 0, 0, d, "verkhny-lars", "exit") for d in known] +
               [("10.99.0.5", 0, 0, d, "lane-7", "entry") for d in fresh[10:20]] +
               [("10.17.0.21", 77, 2, d, "lane-7", "exit") for d in fresh[20:25]])
    # After a refused reload: as after the first.
    p3 = phase("3", [("10.99.0.5", 0, 0, d, "lane-7", "entry") for d in fresh[25:]])
    # The new checkpoint comes first in the file: places are kept anyway.
    added = ("[checkpoint lane-7]\nid = 77\n\n[scanner lane-7-in]\naddress = 10.99.0.0/16\n"
             "checkpoint = lane-7\ndirection = entry\n\n")
    config = write_config(CONFIG, "reload.ini")
    # Each phase's traffic, then the file rewritten and SIGUSR2: the
    # scanner and checkpoint added; a window changed too (refused); a
    # file that does not parse (refused).
    status, counts, err, reply = replay_with_reloads("reload", config, (
        (p1, CONFIG.replace("[checkpoint verkhny-lars]", added + "[checkpoint verkhny-lars]")),
        (p2, CONFIG.replace("window_s = 1800", "window_s = 60")
         .replace("[checkpoint verkhny-lars]", added + "[checkpoint verkhny-lars]")),
        (p3, "[node]\nname = test-node\nthis line is no key\n")))
    tap("reload (SIGUSR2): a new scanner and checkpoint counted from then on, "
        "re-scans from before still re-scans; exit 0",
        counts == model.json() and model.records["dup"] == len(known) and
        "reload: %s: 4 checkpoints, 5 scanners" % config in err,
        "exit %d %s\n%s" % (status, diff(model.json(), counts), err[-800:]))
    refused = [l for l in err.splitlines() if "reload refused" in l]
    tap("reload refused: one line naming the key that needs a restart, or the "
        "file's error; the configuration in use stays",
        len(refused) == 2 and
        "[dedup] window_s: changed, which needs a restart" in refused[0] and
        "reload.ini:3:" in refused[1], err[-800:])
    tap("reloads taken and refused, counted in telemetry",
        reply.get("reloads") == 1 and reply.get("reloads_refused") == 2, reply)


def test_reload_moves_scanner():
    """Two workers: a reload moves a scanner to another checkpoint and
    direction; retransmissions of its frames from before the reload are
    still retransmissions, not records of the new place."""
    if not can_replay("reload moving a scanner"):
        return
    rng = random.Random(15)
    before, after = docs(40, rng), docs(10, rng)
    model = Model()

    def phase(name, records):
        """records: (sequence, doc, checkpoint, direction as counted);
        framed with checkpoint and direction 0 (the registry's)."""
        cap = Capture()
        for n, d, cp, counted in records:
            t = T0 + n
            cap.add(t, udp_frame("10.17.0.21", "10.0.0.1", framed(d.text(), 0, 0, 5, n, t)))
            model.record(cp, counted, t, d, (0, 5, n))
        return capture_file(cap, "moved-%s.pcap" % name)

    p1 = phase("1", [(n, d, "verkhny-lars", "exit") for n, d in enumerate(before, 1)])
    # The same frames again, after the move; then new ones, counted
    # where the scanner is now.
    p2 = phase("2", [(n, d, "verkhny-lars", "exit") for n, d in enumerate(before, 1)] +
               [(n, d, "kazakh-1", "entry") for n, d in enumerate(after, 100)])
    moved = CONFIG.replace("address = 10.17.0.21\ncheckpoint = verkhny-lars\n"
                           "direction = exit", "address = 10.17.0.21\n"
                           "checkpoint = kazakh-1\ndirection = entry")
    assert moved != CONFIG
    config = write_config(CONFIG, "moved.ini")
    status, counts, err, _ = replay_with_reloads("moved", config,
                                                 ((p1, moved), (p2, None)), workers=2)
    tap("reload moving a scanner, two workers: its earlier frames sent again "
        "are retransmissions; new ones counted where it is now; exit 0",
        counts == model.json() and model.records["retransmission"] == len(before) and
        "reload: %s:" % config in err and
        "retransmission %d " % len(before) in err,
        "exit %d %s\n%s" % (status, diff(model.json(), counts), err[-800:]))


def test_reload_while_starting():
    """A reload asked for while the node starts (systemd runs the
    unit's ExecReload as soon as the process exists) does not end it: it
    is done once the node runs."""
    import signal
    import subprocess
    from ingest_lib import ingest_command
    cap, model = lars_exits(10, 14)
    # Room for the pre-fill, which keeps the node starting a while.
    config = write_config(CONFIG.replace("capacity = 65536", "capacity = 262144"),
                          "starting.ini")
    proc = subprocess.Popen(ingest_command(
        INGEST, "net_pcap0,rx_pcap=" + capture_file(cap, "starting.pcap"),
        "crossings-starting-%d" % os.getpid(), config,
        ["--no-redis", "--idle-exit", "1", "--dedup-prefill", "200000"]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The EAL is up, the ports and tables are not yet: mid-start.
    seen = []
    for line in proc.stderr:
        seen.append(line.decode())
        if "worker lcores" in seen[-1]:
            proc.send_signal(signal.SIGUSR2)
            break
    out, err = proc.communicate(timeout=60)
    err = "".join(seen) + err.decode()
    counts = json.loads(out) if proc.returncode == 0 and out.strip() else None
    tap("SIGUSR2 while starting: the node starts, reloads and counts; exit 0",
        counts == model.json() and "reload: %s: 3 checkpoints, 4 scanners" % config in err,
        "exit %d %s" % (proc.returncode, err[-600:]))


def memory_locked(unlocked, pcap, config, prefix):
    """Checks that swap can take nothing: the mappings of a running
    process, and a run that may not lock refused."""
    import subprocess
    from ingest_lib import ingest_command
    tap("no swap: every mapping of the running process is locked in memory",
        unlocked == [], "never ran" if unlocked is None else
        "%d unlocked, e.g. %s" % (len(unlocked), unlocked[:3]))

    # Without CAP_IPC_LOCK, under a limit smaller than the process, the
    # lock fails: the process refuses to read a packet.
    res = subprocess.run(["setpriv", "--bounding-set", "-ipc_lock", "--inh-caps",
                          "-ipc_lock", "prlimit", "--memlock=65536"] + ingest_command(
                             INGEST, "net_pcap0,rx_pcap=" + pcap, prefix + "-memlock",
                             config, ["--no-redis", "--idle-exit", "1"]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    err = res.stderr.decode(errors="replace")
    tap("no lock against swap (no CAP_IPC_LOCK, memlock 64 KiB): exit 2, "
        "naming the limit, before a packet",
        res.returncode == 2 and res.stdout == b"" and
        "cannot lock memory against swap" in err and "RLIMIT_MEMLOCK 64 KiB" in err and
        "stats: frames" not in err, "exit %d %s" % (res.returncode, err[-400:]))


def test_no_file_keeps_personal_data():
    """Personal data never reaches a file: the process allows itself no
    core dump, none of its memory can be swapped out, and no hugepage
    file outlives it, killed or not."""
    import glob
    import resource
    import signal
    import subprocess
    import time
    from ingest_lib import hugepages_ready, ingest_command
    cap = Capture()
    d = docs(32, random.Random(13), fmt_mix=("TD3",))
    for i, doc in enumerate(d):
        cap.add(T0 + i, udp_frame("10.17.0.21", "10.0.0.1", doc.text().encode()))
    pcap = capture_file(cap, "files.pcap")
    config = write_config(CONFIG)

    def core_unlimited():
        # What the process would have without its own limit.
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        try:
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    def unlocked_mappings(pid):
        """The process's mappings that swap could take: those whose
        VmFlags lack "lo" (locked), but for the kernel's own pages that
        every process maps (vDSO and its data), which never swap."""
        unlocked, mapping = [], None
        for line in open("/proc/%d/smaps" % pid):
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                mapping = line.strip()
            elif (line.startswith("VmFlags:") and "lo" not in line.split()[1:] and
                  not re.search(r"\[(vvar|vvar_vclock|vdso|vsyscall)\]$", mapping)):
                unlocked.append(mapping)
        return unlocked

    def killed_run(cmd, log):
        """Runs cmd until it has counted frames, reads its limits and
        its unlocked mappings, then SIGKILL: the crash case, with no
        teardown to clean up."""
        with open(log, "w") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                    preexec_fn=core_unlimited)
        limits, unlocked = "", None
        for _ in range(300):
            if "stats: frames" in open(log).read():
                limits = open("/proc/%d/limits" % proc.pid).read()
                unlocked = unlocked_mappings(proc.pid)
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return limits, unlocked

    prefix = "crossings-files-%d" % os.getpid()
    command = ingest_command(
        INGEST, "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, prefix + "-core",
        config, ["--no-redis", "--mbufs", "4096", "--stats-interval", "1"])
    limits, unlocked = killed_run(command, os.path.join(TMP, "core.log"))
    core = re.search(r"^Max core file size\s+(\S+)\s+(\S+)", limits, re.M)
    tap("no core dumps: the limit is 0 whatever the process was given",
        core is not None and core.groups() == ("0", "0"), limits or "never ran")
    # AddressSanitizer's mlockall() does nothing and succeeds (it would
    # lock its terabytes of shadow): under it, neither check can hold.
    if b"__asan_init" in open(INGEST, "rb").read():
        tap("# SKIP no swap: AddressSanitizer ignores mlockall()", True)
    else:
        memory_locked(unlocked, pcap, config, prefix)

    if not hugepages_ready(128):
        tap("# SKIP no hugepage file outlives a killed process: "
            "no hugepages to run on", True)
        return

    def kept_files(name, eal_extra):
        """Hugepage files a killed run left, and how many of the
        capture's document numbers they hold; removes them."""
        p = "%s-%s" % (prefix, name)
        cpus = os.cpu_count() or 1
        cmd = [INGEST, "--no-pci", "-m", "256", "--lcores", "0@0,1@%d" % min(1, cpus - 1),
               "--file-prefix", eal_prefix(p), "--log-level", "lib.eal:warning"] + eal_extra + [
               "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--",
               "--no-redis", "--config", config, "--mbufs", "4096",
               "--stats-interval", "1"]
        ran = killed_run(cmd, os.path.join(TMP, p + ".log"))[0] != ""
        files = glob.glob("/dev/hugepages/%smap_*" % p)
        held = set()
        for f in files:
            data = open(f, "rb").read()
            held |= {doc.number for doc in d if doc.number.encode() in data}
            os.remove(f)
        return ran, len(files), len(held)

    # The control: with the EAL's default kept, killing the process
    # leaves its files, and the check finds documents in them.
    ran, files, held = kept_files("kept", ["--huge-unlink=existing"])
    tap("hugepage files the EAL keeps hold documents after a kill (the control)",
        ran and files > 0 and held > 0, "ran %s, %d files, %d documents" %
        (ran, files, held))
    ran, files, held = kept_files("default", [])
    tap("no hugepage file outlives a killed crossings-ingest",
        ran and files == 0, "ran %s, %d files, %d documents" % (ran, files, held))


def main():
    try:
        test_framed()
        test_raw()
        test_junk()
        test_vlan_ipv6()
        test_jumbo()
        test_two_queues(1)
        test_two_queues(2)
        test_two_queues(1, port_per_capture=True)
        test_two_queues(2, port_per_capture=True)
        test_more_workers_than_queues()
        test_midnight()
        test_capture_before_1970()
        test_scope_direction(1)
        test_scope_direction(2)
        test_defaults()
        test_check_config()
        test_example_config()
        test_example_unit()
        test_telemetry()
        test_signals()
        test_reload()
        test_reload_moves_scanner()
        test_reload_while_starting()
        test_no_file_keeps_personal_data()
        test_record_core_cycles()
        test_final_rate()
        test_final_rate_live()
        test_fuzz()
        test_bad_command_lines()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return tap_end()


if __name__ == "__main__":
    sys.exit(main())
