# Sourced by the pipeline benchmarks: the capture and configuration
# they replay, so that wall-clock and instruction figures measure the
# same traffic.

# bench_capture DIR DOCS: DIR/bench.pcap, TD3 raw records of DOCS
# distinct documents, each scanned twice, from scanners in 10.17/16.
bench_capture() {
	python3 - "$1/bench.pcap" "$2" build/tests/pcap-write <<'PY'
import random, sys
sys.path.insert(0, "tests")
from ingest_lib import Capture, Doc, udp_frame, ms
path, n, pcap_write = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(1)
cap = Capture()
docs = [Doc("%s%07d" % (rng.choice("ABCKLP"), i), nat=rng.choice(["RUS"] * 8 + ["KAZ", "GEO"]),
            sex=rng.choice("MF"), birth="%02d%02d%02d" % (rng.randrange(100), rng.randrange(1, 13),
                                                        rng.randrange(1, 29)))
        for i in range(n)]
t = ms(2022, 9, 27, 14)
for i, d in enumerate(docs):
    for rescan in range(2):
        cap.add(t + i, udp_frame("10.17.0.%d" % (1 + i % 200), "10.0.0.1", d.text().encode(),
                                 sport=40000 + i % 1000))
cap.write(pcap_write, path)
print("capture: %d frames of %d B, %d documents, each scanned twice"
      % (len(cap.frames), len(cap.frames[0][1]), n))
PY
}

# bench_config DIR DOCS PREFILL: DIR/bench.ini, one checkpoint and its
# scanners, room for the pre-filled documents and the capture's.
bench_config() {
	cat > "$1/bench.ini" <<INI
[dedup]
capacity = $(($3 + 2 * $2 + 65536))
[checkpoint verkhny-lars]
id = 17
[scanner lars]
address = 10.17.0.0/16
checkpoint = verkhny-lars
direction = exit
INI
}
