"""The admin API against its OpenAPI document: schemathesis's `st run --checks all` finds no failure.

Every phase runs (examples, coverage, fuzzing, stateful) with a fixed seed and a bounded number of examples,
against a real `tenantedge serve` with a real PostgreSQL for posts. The expectations in schemathesis.toml beside
this file say where the API answers as an RFC says (428, 412, 413) and which rules no schema states (a tenant
document's 422).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from tests.admin.conftest import ADMIN_HOST, ROOT
from tests.database import create_database, drop_database
from tests.server import Server, copy_demo

TOKEN = "conformance-token-000001"
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = "20261"
EXAMPLES = "10"


def test_schemathesis_finds_the_api_does_what_its_document_says(tmp_path: Path) -> None:
    copy_demo(tmp_path)
    urls = asyncio.run(create_database())
    env = {
        "TENANTEDGE_TENANTS": str(tmp_path / "tenants.json"), "TENANTEDGE_TEMPLATES": str(ROOT / "templates"),
        "TENANTEDGE_ADMIN_TOKEN": TOKEN, "TENANTEDGE_DATABASE_URL": urls.app, "TENANTEDGE_RELOAD_INTERVAL": "0",
        # schemathesis sends wrong and missing tokens on purpose, hundreds of them: budget for all.
        "TENANTEDGE_ADMIN_FAILURES": "1000000",
    }  # fmt: skip
    try:
        server = Server(env=env)
        command = [
            str(Path(sys.executable).with_name("st")), "--config-file", str(CONFIG), "--no-color", "run",
            f"{server.url}/api/openapi.json", "--url", server.url, "--header", f"Host: {ADMIN_HOST}",
            "--header", f"Authorization: Bearer {TOKEN}", "--checks", "all", "--seed", SEED,
            "--max-examples", EXAMPLES, "--workers", "1",
        ]  # fmt: skip
        try:
            # cwd: where schemathesis keeps its own files.
            found = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
        finally:
            output = server.stop()
    finally:
        asyncio.run(drop_database(urls))
    report = found.stdout + found.stderr
    assert found.returncode == 0, report[max(report.find("FAILURES"), 0) :]
    generated = re.search(r"(\d+) generated, (\d+) passed", report)
    assert generated is not None and int(generated.group(1)) >= 500, report[-2000:]
    assert "Traceback" not in output, output
