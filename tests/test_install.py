#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""What `meson install` puts on a server: every program interfaces.md
names, in bindir, where the example systemd unit starts crossings-ingest.
Prints TAP.

usage: test_install.py BUILD_DIR UNIT_FILE
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_lib import tap, tap_end  # noqa: E402

BUILD, UNIT = sys.argv[1], sys.argv[2]


def introspect(what):
    out = subprocess.run(["meson", "introspect", BUILD, what], stdout=subprocess.PIPE,
                         check=True).stdout
    return json.loads(out)


options = {o["name"]: o["value"] for o in introspect("--buildoptions")}
bindir = os.path.join(options["prefix"], options["bindir"])
installed = set(introspect("--installed").values())
for program in ("crossings-ingest", "crossings-query", "crossings-gen", "mrz-parse"):
    tap("meson install puts %s in %s" % (program, bindir),
        os.path.join(bindir, program) in installed, sorted(installed))

start = re.search(r"^ExecStart=(\S+)", open(UNIT).read(), re.M)
tap("the example unit starts crossings-ingest where meson installs it",
    start is not None and start.group(1) == os.path.join(bindir, "crossings-ingest"),
    start and start.group(1))
sys.exit(tap_end())
