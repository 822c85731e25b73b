# SPDX-License-Identifier: BSD-3-Clause
"""Integration test kit for crossings-ingest.

Builds scanner traffic (Ethernet, VLAN, IPv4/IPv6, UDP; framed records
and raw text), writes it to a capture with pcap-write (libpcap), runs the
real binary on the pcap vdev, and computes the counts it must publish
with a model written from docs/ alone: nothing here shares code with
the pipeline.
"""

import atexit
import calendar
import collections
import datetime
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# --- TAP ------------------------------------------------------------------

RESULTS = []


def tap(name, ok, why=""):
    """One test point; why is printed as a TAP comment when it failed."""
    RESULTS.append(bool(ok))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(RESULTS), name))
    if not ok:
        print("# " + str(why).replace("\n", "\n# "))
    sys.stdout.flush()


def tap_end():
    """The plan line; returns the exit status."""
    print("1..%d" % len(RESULTS))
    return 0 if all(RESULTS) else 1

# --- MRZ ------------------------------------------------------------------


def char_value(c):
    if c.isdigit():
        return ord(c) - 48
    if c == "<":
        return 0
    return ord(c) - 55


def check_digit(s):
    return str(sum(char_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10)


def pad(s, n):
    assert len(s) <= n, s
    return s + "<" * (n - len(s))


def name_field(surname, given, n):
    return pad(surname.replace(" ", "<") + "<<" + given.replace(" ", "<"), n)[:n]


class Doc:
    """A travel document; fmt TD3, TD1 or TD2."""

    def __init__(self, number, nat="RUS", sex="M", birth="900101",
                 state=None, fmt="TD3", code=None, expiry="300101",
                 surname="IVANOV", given="IVAN"):
        self.number, self.nat, self.sex, self.birth = number, nat, sex, birth
        self.state = state or nat
        self.fmt, self.expiry = fmt, expiry
        self.code = code or ("P" if fmt == "TD3" else "I")
        self.surname, self.given = surname, given

    def lines(self):
        num = pad(self.number, 9)
        code = pad(self.code, 2)
        st, nat = pad(self.state, 3), pad(self.nat, 3)
        if self.fmt == "TD3":
            l1 = code + st + name_field(self.surname, self.given, 39)
            opt = pad("", 14)
            l2 = (num + check_digit(num) + nat + self.birth + check_digit(self.birth)
                  + self.sex + self.expiry + check_digit(self.expiry) + opt
                  + check_digit(opt))
            comp = l2[0:10] + l2[13:20] + l2[21:43]
            return [l1, l2 + check_digit(comp)]
        if self.fmt == "TD1":
            l1 = code + st + num + check_digit(num) + pad("", 15)
            l2 = (self.birth + check_digit(self.birth) + self.sex + self.expiry
                  + check_digit(self.expiry) + nat + pad("", 11))
            comp = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
            return [l1, l2 + check_digit(comp), name_field(self.surname, self.given, 30)]
        if self.fmt == "TD2":
            l1 = code + st + name_field(self.surname, self.given, 31)
            l2 = (num + check_digit(num) + nat + self.birth + check_digit(self.birth)
                  + self.sex + self.expiry + check_digit(self.expiry) + pad("", 7))
            comp = l2[0:10] + l2[13:20] + l2[21:35]
            return [l1, l2 + check_digit(comp)]
        raise ValueError(self.fmt)

    def text(self, sep="\r\n"):
        return sep.join(self.lines())

    def identity(self):
        return (self.state, self.number, self.nat, self.birth)


def corrupt(text):
    """The same record with its document number check digit wrong."""
    lines = text.split("\r\n")
    i = 1 if len(lines) == 2 else 0
    pos = 9 if len(lines) == 2 else 14
    l = lines[i]
    lines[i] = l[:pos] + str((int(l[pos]) + 1) % 10) + l[pos + 1:]
    return "\r\n".join(lines)

# --- frames -----------------------------------------------------------------


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(addr):
    import ipaddress
    return ipaddress.ip_address(addr).packed


def udp_frame(src, dst, payload, sport=40000, dport=7470, vlans=(),
              ip_id=1, bad_ip_checksum=False, fragment=False, ttl=64,
              udp_checksum=None):
    """Ethernet + VLAN tags + IPv4/IPv6 + UDP with correct checksums, or
    the UDP checksum given (0: none)."""
    s, d = ip_bytes(src), ip_bytes(dst)
    udp_len = 8 + len(payload)
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 17, udp_len)
    else:
        pseudo = s + d + struct.pack("!IxxxB", udp_len, 17)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    if udp_checksum is not None:
        c = udp_checksum
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    if len(s) == 4:
        flags = 0x2000 if fragment else 0
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ip_id, flags,
                          ttl, 17, 0, s, d)
        c = csum(hdr) ^ (0x5555 if bad_ip_checksum else 0)
        ip = hdr[:10] + struct.pack("!H", c) + hdr[12:] + udp
        etype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 0x60000000, udp_len, 17, 64, s, d) + udp
        etype = 0x86DD
    eth = bytes.fromhex("020000000001020000000002")
    for i, tag in enumerate(vlans):
        tpid = 0x88A8 if (len(vlans) == 2 and i == 0) else 0x8100
        eth += struct.pack("!HH", tpid, tag)
    return eth + struct.pack("!H", etype) + ip


def framed(mrz, direction=2, checkpoint=17, scanner=1, sequence=1, time_ms=0,
           version=1, magic=b"MRZ1"):
    body = mrz.encode()
    return struct.pack("!4sBBHIIIQ", magic, version, direction, len(body),
                       checkpoint, scanner, sequence, time_ms) + body

# --- time -------------------------------------------------------------------


def ms(y, mo, d, h=0, mi=0, s=0):
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000


def hour_key(t_ms):
    return datetime.datetime.utcfromtimestamp(t_ms / 1000).strftime("%Y%m%d%H")


def day_key(t_ms):
    return datetime.datetime.utcfromtimestamp(t_ms / 1000).strftime("%Y%m%d")

# --- the expected counts ----------------------------------------------------


BANDS = [(0, 17, "0-17"), (18, 27, "18-27"), (28, 35, "28-35"),
         (36, 49, "36-49"), (50, 64, "50-64"), (65, 999, "65+")]


def age_band(birth, t_ms):
    if "<" in birth:
        return "unknown"
    ev = datetime.datetime.utcfromtimestamp(t_ms / 1000)
    y = 2000 + int(birth[:2])
    if y > ev.year:
        y -= 100
    m, d = int(birth[2:4]), int(birth[4:6])
    # A birth date later in the event's own year: a newborn, age 0.
    age = max(0, ev.year - y - ((ev.month, ev.day) < (m, d)))
    for lo, hi, name in BANDS:
        if lo <= age <= hi:
            return name
    raise ValueError(age)


class Model:
    """Counts per docs/redis.md, deduplication per docs/wire.md."""

    def __init__(self, window_s=1800, scope="checkpoint-direction"):
        self.window = window_s * 1000
        self.scope = scope
        self.hashes = collections.defaultdict(collections.Counter)
        self.seen_docs = {}
        self.seen_frames = {}
        self.records = collections.Counter()

    def _add(self, cp, direction, t, fields):
        for key in ("h:" + hour_key(t), "d:" + day_key(t), "all"):
            for f in fields:
                self.hashes["crossings:%s:%s:%s" % (cp, direction, key)][f] += 1

    def record(self, cp, direction, t, doc=None, frame_key=None):
        """One record; doc None = invalid MRZ."""
        if frame_key is not None:
            t0 = self.seen_frames.get(frame_key)
            if t0 is not None and abs(t - t0) < self.window:
                self.records["retransmission"] += 1
                return
            self.seen_frames[frame_key] = t
        if doc is None:
            self.records["invalid"] += 1
            self._add(cp, direction, t, ["invalid"])
            return
        scope = (cp, direction) if self.scope == "checkpoint-direction" else (direction,)
        key = scope + doc.identity()
        t0 = self.seen_docs.get(key)
        if t0 is not None and abs(t - t0) < self.window:
            self.records["dup"] += 1
            self._add(cp, direction, t, ["dup"])
            return
        self.seen_docs[key] = t
        self.records["crossing"] += 1
        nat = doc.nat.rstrip("<")
        sex = "X" if doc.sex == "<" else doc.sex
        band = age_band(doc.birth, t)
        self._add(cp, direction, t, ["total", "nat:" + nat, "sex:" + sex,
                                     "age:" + band, "doc:" + doc.code[0],
                                     "x:%s:%s:%s" % (nat, sex, band)])

    def incomplete(self, n=1):
        self.records["incomplete"] += n

    def json(self):
        out = {k: dict(v) for k, v in self.hashes.items()}
        out["crossings:checkpoints"] = sorted({k.split(":")[1] for k in self.hashes})
        return out

# --- running ----------------------------------------------------------------


class Capture:
    """Frames with their capture times, written by pcap-write."""

    def __init__(self):
        self.frames = []

    def add(self, t_ms, frame):
        self.frames.append((t_ms, frame))

    def write(self, pcap_write, path):
        lines = "".join("%d.%06d %s\n" % (t // 1000, (t % 1000) * 1000, f.hex())
                        for t, f in self.frames)
        subprocess.run([pcap_write, path], input=lines.encode(), check=True)


STATS = re.compile(r"final: frames (\d+) .*? delivered (\d+) drops:(.*?) records (\d+) "
                   r"crossing (\d+) dup (\d+) retransmission (\d+) incomplete (\d+) "
                   r"invalid (\d+)")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout.decode(errors="replace")
        self.stderr = proc.stderr.decode(errors="replace")
        self.counts = None
        self.frames = collections.Counter()
        self.records = collections.Counter()
        if self.rc == 0 and self.stdout.strip():
            self.counts = json.loads(self.stdout)
        m = STATS.search(self.stderr)
        if m:
            self.frames["total"] = int(m.group(1))
            self.frames["delivered"] = int(m.group(2))
            for kv in m.group(3).split():
                if "=" in kv:
                    k, v = kv.split("=")
                    self.frames[k] = int(v)
            for i, name in enumerate(("records", "crossing", "dup", "retransmission",
                                      "incomplete", "invalid")):
                self.records[name] = int(m.group(4 + i))


_runs = 0

# --- DPDK's runtime directories ---------------------------------------------

# Every EAL process keeps its shared files (config, memory segment
# arrays: 6 MB with -m 512, the telemetry socket) in a directory named
# after its --file-prefix, and leaves them there when it exits. With a
# prefix of their own per run, a suite would leave a gigabyte behind,
# in /run, a tmpfs on most systems.
_prefixes = set()


def runtime_dir(prefix):
    """Where the EAL keeps the files of a --file-prefix (as DPDK names
    it: /var/run/dpdk/PREFIX for root)."""
    base = "/var/run" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def eal_prefix(prefix):
    """A --file-prefix whose runtime directory is removed at the end of
    the test run, if not before."""
    _prefixes.add(prefix)
    return prefix


def remove_runtime_dir(prefix):
    """Once the process with that prefix has ended."""
    shutil.rmtree(runtime_dir(prefix), ignore_errors=True)
    _prefixes.discard(prefix)


@atexit.register
def _remove_runtime_dirs():
    for prefix in list(_prefixes):
        remove_runtime_dir(prefix)


def run_ingest(binary, captures, config=None, extra=(), workers=1, timeout=60,
               memory_mb=512, port_per_capture=False):
    """Runs crossings-ingest on the pcap vdev, one RX queue per capture;
    or, with port_per_capture, one port (a vdev) per capture, as a
    server with several NICs has."""
    global _runs
    _runs += 1
    if port_per_capture:
        vdevs = ["net_pcap%d,rx_pcap=%s" % (i, c) for i, c in enumerate(captures)]
    else:
        vdevs = ["net_pcap0," + ",".join("rx_pcap=" + c for c in captures)]
    # More lcores than CPUs share the last CPU: slow, but it is the
    # ownership across workers that is tested here, not speed.
    cpus = os.cpu_count() or 1
    cores = ",".join("%d@%d" % (i, min(i, cpus - 1)) for i in range(workers + 1))
    prefix = eal_prefix("crossings-test-%d-%d" % (os.getpid(), _runs))
    cmd = [binary, "--no-pci", "--no-huge", "-m", str(memory_mb), "--lcores", cores,
           "--file-prefix", prefix, "--log-level", "lib.eal:warning"]
    for vdev in vdevs:
        cmd += ["--vdev", vdev]
    cmd += ["--", "--no-redis", "--idle-exit", "1", "--stats-interval", "0"]
    if config:
        cmd += ["--config", config]
    cmd += list(extra)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    finally:
        remove_runtime_dir(prefix)
    return Result(proc)


CONFIG = """\
[node]
name = test-node

[dedup]
window_s = 1800
capacity = 65536

[checkpoint verkhny-lars]
id = 17

[checkpoint kazakh-1]
id = 42

[checkpoint vaalimaa]

[scanner lars-exit-1]
address = 10.17.0.21
checkpoint = verkhny-lars
direction = exit

[scanner lars-entry-net]
address = 10.17.1.0/24
checkpoint = verkhny-lars
direction = entry

[scanner lars-entry-special]
address = 10.17.1.128/25
checkpoint = kazakh-1
direction = exit

[scanner vaalimaa-v6]
address = fd00:17::/64
checkpoint = vaalimaa
direction = entry
"""


def diff(expected, got, limit=8):
    """A short description of how two count objects differ."""
    if got is None:
        return "no JSON output"
    out = []
    for k in sorted(set(expected) | set(got)):
        e, g = expected.get(k), got.get(k)
        if e == g:
            continue
        if isinstance(e, dict) and isinstance(g, dict):
            fields = ["%s %s/%s" % (f, e.get(f), g.get(f))
                      for f in sorted(set(e) | set(g)) if e.get(f) != g.get(f)]
            out.append("%s: expected/got %s" % (k, ", ".join(fields[:6])))
        else:
            out.append("%s: expected %s, got %s" % (k, str(e)[:80], str(g)[:80]))
    return "; ".join(out[:limit]) + (" ..." if len(out) > limit else "")

# --- Redis and network namespaces ---------------------------------------


class RedisServer:
    """A private redis-server on a unix socket; stopped by its PID."""

    def __init__(self, directory, persist=False, password=None, extra=()):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.socket = os.path.join(directory, "redis.sock")
        self.args = ["redis-server", "--port", "0", "--unixsocket", self.socket,
                     "--dir", directory, "--save", "",
                     "--enable-debug-command", "local"]
        if persist:
            # Every acknowledged write is on disk: a SIGKILL loses nothing
            # Redis said it applied.
            self.args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            self.args += ["--appendonly", "no"]
        if password:
            self.args += ["--requirepass", password]
        self.args += list(extra)
        self.password = password
        self.proc = None

    def start(self):
        import time
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(500):
            if self.cli("ping", check=False).strip() == "PONG":
                return self
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self, sig=15):
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait()
            self.proc = None

    def cli(self, *args, check=True, text=None):
        """redis-cli with args, or with commands on its standard input."""
        cmd = ["redis-cli", "-s", self.socket]
        if self.password:
            cmd += ["-a", self.password, "--no-auth-warning"]
        p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False,
                           input=text.encode() if text is not None else None)
        return p.stdout.decode()

    # All counter hashes in one call: a redis-cli per key would take
    # minutes for a few weeks of hours.
    DUMP = """
local out = {}
for _, k in ipairs(redis.call('KEYS', 'crossings:*')) do
  if redis.call('TYPE', k).ok == 'hash' and not k:find('^crossings:node:')
      and not k:find('^crossings:applied:') then
    local h, flat = {}, redis.call('HGETALL', k)
    for i = 1, #flat, 2 do h[flat[i]] = tonumber(flat[i + 1]) end
    out[k] = h
  end
end
out['crossings:checkpoints'] = redis.call('SMEMBERS', 'crossings:checkpoints')
return cjson.encode(out)
"""

    def counts(self):
        """The counter hashes and checkpoint set, shaped as --no-redis JSON."""
        out = json.loads(self.cli("--raw", "eval", self.DUMP, "0"))
        # cjson writes an empty table as {}.
        cps = out.get("crossings:checkpoints") or []
        out["crossings:checkpoints"] = sorted(cps)
        return out

    def hash(self, key):
        vals = self.cli("hgetall", key).split()
        return {vals[i]: vals[i + 1] for i in range(0, len(vals), 2)}


def loopback6_port():
    """A TCP port free on ::1 (bound, read, released): for a Redis
    reached by an IPv6 address."""
    import socket
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def hugepages_ready(pages):
    """Whether `pages` free hugepages of the default size are mounted at
    /dev/hugepages. As root, reserves and mounts what is missing, as
    tools/bench-ingest.sh does; elsewhere, only looks."""
    def state():
        info = dict(l.split(":", 1) for l in open("/proc/meminfo"))
        free = int(info.get("HugePages_Free", "0").split()[0])
        mounted = any(l.split()[1:3] == ["/dev/hugepages", "hugetlbfs"]
                      for l in open("/proc/mounts"))
        return free, mounted
    free, mounted = state()
    if (free < pages or not mounted) and os.geteuid() == 0:
        try:
            if free < pages:
                with open("/proc/sys/vm/nr_hugepages") as f:
                    total = int(f.read())
                with open("/proc/sys/vm/nr_hugepages", "w") as f:
                    f.write(str(total + pages - free))
            if not mounted:
                os.makedirs("/dev/hugepages", exist_ok=True)
                subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"],
                               stderr=subprocess.DEVNULL)
        except OSError:
            pass
        free, mounted = state()
    return free >= pages and mounted


def ingest_command(binary, vdev, prefix, config=None, extra=(), memory_mb=512,
                   workers=1):
    cpus = os.cpu_count() or 1
    cores = ",".join("%d@%d" % (i, min(i, cpus - 1)) for i in range(workers + 1))
    cmd = [binary, "--no-pci", "--no-huge", "-m", str(memory_mb), "--lcores", cores,
           "--file-prefix", eal_prefix(prefix), "--log-level", "lib.eal:warning",
           "--vdev", vdev, "--", "--stats-interval", "0"]
    if config:
        cmd += ["--config", config]
    return cmd + list(extra)


class Netns:
    """A network namespace holding a veth pair: ingest reads one end,
    tcpreplay writes into the other. Removed on exit."""

    def __init__(self, name):
        self.name = name
        self.a, self.b = "cr-a", "cr-b"

    def __enter__(self):
        run = lambda *a: subprocess.run(a, check=True)
        run("ip", "netns", "add", self.name)
        # No IPv6 on the pair: the kernel's own router and listener
        # solicitations would mix with the replayed traffic.
        subprocess.run(self.exec(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                                  "net.ipv6.conf.default.disable_ipv6=1"]), check=True)
        self.ip("link", "add", self.a, "type", "veth", "peer", "name", self.b)
        for dev in (self.a, self.b):
            self.ip("link", "set", dev, "up")
        return self

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name] + list(args), check=True)

    def exec(self, cmd):
        return ["ip", "netns", "exec", self.name] + cmd

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], check=False)
