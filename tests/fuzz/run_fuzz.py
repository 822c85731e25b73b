#!/usr/bin/env python3
"""Runs a libFuzzer target of tests/fuzz on seeds written here.

usage: run_fuzz.py TARGET KIND [--runs N] [--seconds S] [--corpus DIR]

KIND is mrz, wire, reasm or conf: which seeds to write (valid records,
frames of every wire variant, datagram series, configuration files). With --runs the run is
repeatable (a fixed seed): what the test suite does. With --seconds and
a --corpus that is kept, it is a fuzzing campaign that goes on where the
last one stopped (tools/fuzz.sh). Exits with the target's status: non-zero
when it found a crash, a sanitizer error or a disagreement, and leaves the
input that did it in the current directory.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ingest_lib import framed, udp_frame  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def specimens():
    text = open(os.path.join(HERE, "..", "data", "icao-specimens.mrz")).read()
    return [r.strip("\n").split("\n") for r in text.split("\n\n") if r.strip()]


def mrz_seeds():
    for lines in specimens():
        for sep in ("\n", "\r\n", ""):
            record = sep.join(lines).encode()
            yield b"\x00" + record
            yield b"\x01" + record
        yield b"\x01" + ("\n".join(lines) + "\n").encode()


def wire_seeds():
    records = ["\n".join(lines) for lines in specimens()]
    td3 = records[2]
    frames = [
        udp_frame("10.17.0.21", "10.0.0.1", td3.encode()),
        udp_frame("10.17.0.21", "10.0.0.1", ("\x02" + td3 + "\r\n\x03").encode()),
        udp_frame("10.17.0.21", "10.0.0.1", td3.split("\n")[0].encode() + b"\r\n"),
        udp_frame("10.17.0.21", "10.0.0.1", framed(td3) + framed(records[0], sequence=2)),
        udp_frame("10.17.0.21", "10.0.0.1", td3.encode(), vlans=(7,)),
        udp_frame("10.17.0.21", "10.0.0.1", framed(td3), vlans=(7, 9)),
        udp_frame("2001:db8::21", "2001:db8::1", td3.encode()),
        udp_frame("2001:db8::21", "2001:db8::1", framed(records[3]), dport=5000),
    ]
    for f in frames:
        yield b"\x00" + f
        yield b"\x03" + f


def reasm_seeds():
    def dgram(src, step, payload, expire=False):
        return bytes([src | step << 5 | (0x80 if expire else 0),
                      len(payload)]) + payload
    td3 = [l.encode() for l in specimens()[2]]
    td1 = [l.encode() for l in specimens()[0]]
    # Line by line from two sources, interleaved.
    yield (dgram(1, 0, td3[0]) + dgram(2, 0, td1[0]) + dgram(1, 1, td3[1]) +
           dgram(2, 1, td1[1] + b"\r\n") + dgram(2, 1, td1[2]))
    # A record whose second line comes too late, then one expired.
    yield dgram(3, 0, td3[0]) + dgram(3, 3, td3[1]) + dgram(4, 0, td1[0]) + \
        dgram(5, 3, b"", expire=True)
    # Whole records, and more sources than are held.
    yield dgram(6, 0, b"\x02" + td3[0] + b"\r\n" + td3[1] + b"\r\n\x03") + \
        b"".join(dgram(s, 0, td1[0]) for s in range(10, 22))


def conf_seeds():
    from ingest_lib import CONFIG
    yield open(os.path.join(HERE, "..", "..", "config", "crossings.ini"), "rb").read()
    yield CONFIG.encode()
    yield (b"[dedup]\nwindow_s = 600\nscope = direction\n[scanner v6]\n"
           b"address = 2001:db8::/64\ncheckpoint = lars\ndirection = entry\n"
           b"[checkpoint lars]\nid = 3\n[aggregate]\nage_bands = 0-20,21+\n")
    # Found by fuzzing: headers and no key.
    yield b"[node]\n[dedup]\n"


SEEDS = {"mrz": mrz_seeds, "wire": wire_seeds, "reasm": reasm_seeds,
         "conf": conf_seeds}
# Longest input: a record or a frame, or a configuration file.
MAX_LEN = {"conf": 4096}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("kind", choices=sorted(SEEDS))
    ap.add_argument("--runs", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--corpus")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="crossings-fuzz-") as tmp:
        corpus = a.corpus or os.path.join(tmp, "corpus")
        os.makedirs(corpus, exist_ok=True)
        for i, seed in enumerate(SEEDS[a.kind]()):
            with open(os.path.join(corpus, "seed-%02d" % i), "wb") as f:
                f.write(seed)
        args = [a.target, "-max_len=%d" % MAX_LEN.get(a.kind, 512),
                "-timeout=10", "-print_final_stats=1", corpus]
        if a.runs is not None:
            args[1:1] = ["-runs=%d" % a.runs, "-seed=1"]
        if a.seconds is not None:
            args.insert(1, "-max_total_time=%d" % a.seconds)
        # Undefined behaviour is a finding, as a crash is.
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        return subprocess.call(args, env=env)


if __name__ == "__main__":
    sys.exit(main())
