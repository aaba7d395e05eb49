"""`idp realname simulator` as an operator starts it: a subprocess the HTTP adapter talks to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from realname.platform import HttpPlatform, Outcome
from tests.conftest import free_port

IDP = str(Path(sys.executable).with_name("idp"))


def test_the_simulator_command_serves_its_synthetic_people_to_the_http_adapter(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_DATABASE_URL"] = f"sqlite:///{tmp_path}/sim.db"
    proc = subprocess.Popen([IDP, "realname", "simulator", "--port", str(port),
                             "--app-id", "ops-test", "--app-secret", "s" * 40,
                             "--latency-ms", "0"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:  # until it has printed its people and is serving
            lines.append(line)
            if "Faults:" in line:
                break
        printed = "".join(lines)
        assert f"http://127.0.0.1:{port}" in printed, printed
        name, number = re.search(r"^\s+(\S+)\s+(\d{17}[\dX])\s", printed, re.M).groups()
        with HttpPlatform(f"http://127.0.0.1:{port}", "ops-test", "s" * 40) as platform:
            assert platform.check_name_and_number(name, number).outcome == Outcome.MATCH
            assert platform.check_name_and_number(name + "甲", number).outcome == \
                Outcome.NO_MATCH
        with HttpPlatform(f"http://127.0.0.1:{port}", "ops-test", "wrong" * 8,
                          retries=0) as stranger:
            assert stranger.check_name_and_number(name, number).reason == "rejected"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
