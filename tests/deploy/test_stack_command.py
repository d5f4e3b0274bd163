"""`python -m deploy.stack` (what `make stack` runs) as a person runs it: it prints working URLs, and Ctrl-C
stops everything it started and removes its folder."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server import ROOT


def closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_stack_command_prints_urls_that_work_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    output = tmp_path / "stack.out"
    with output.open("wb") as sink:
        stack = subprocess.Popen(
            [sys.executable, "-m", "deploy.stack", "--free-ports"], cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C stops everything" not in output.read_text() and time.monotonic() < deadline:
            assert stack.poll() is None, output.read_text()
            time.sleep(0.2)
        printed = output.read_text()
        site = re.search(r"nginx  http://(codersinflow\.localhost):(\d+)/", printed)
        instances = [int(port) for port in re.findall(r"instance http://127\.0\.0\.1:(\d+)/", printed)]
        logs = re.search(r"logs   (\S+)", printed)
        assert site and logs and len(instances) == 2, printed
        response = httpx.get(f"http://127.0.0.1:{site[2]}/", headers={"host": site[1]}, timeout=10)
        assert response.status_code == 200 and "Coders in Flow" in response.text
    finally:
        stack.send_signal(signal.SIGINT)
        assert stack.wait(timeout=60) == 0
    assert "stack: stopping" in output.read_text()
    assert all(closed(port) for port in [int(site[2]), *instances])
    assert not Path(logs[1]).parent.exists(), "the stack's folder was left behind"
