"""The README's quick start, verbatim, from the built wheel installed in a fresh venv, in an empty folder."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tenantedge.render.theme import PRESETS
from tests.server import ROOT, free_port

QUICK_START = """echo '{"example.com": {"theme": "dark"}}' > tenants.json && tenantedge serve"""


def check(*command: str | Path) -> str:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; the dependencies come from the project's venv, after it."""
    source, dist, venv = (tmp_path_factory.mktemp(name) for name in ("source", "dist", "venv"))
    # What the image's build stage copies, and nothing else: a build/ left in the checkout by an earlier build
    # would put files in the wheel that the configuration no longer names.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    check(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q", "-w", dist)
    (wheel,) = dist.glob("tenantedge-*.whl")
    check(sys.executable, "-m", "venv", "--without-pip", venv)
    check(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q", wheel)
    # Written after installing, so pip does not take the project's editable install for this one. A plain path
    # line: the project's own .pth files (the editable install's path to src/) are not read from it.
    site_packages = Path(
        check(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    (site_packages / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


@pytest.fixture
def quick_start(venv: Path, tmp_path: Path) -> Iterator[str]:
    """The quick start's command running in an empty folder; yields the server's URL."""
    folder = tmp_path / "site"
    folder.mkdir()
    port = free_port()
    # Nothing of the checkout or of the calling test run: no TENANTEDGE_* settings, no PYTHONPATH.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TENANTEDGE_", "PYTHON"))}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "TENANTEDGE_PORT": str(port)}
    where = check(venv / "bin" / "python", "-c", "import tenantedge; print(tenantedge.__file__)")
    assert Path(where.strip()).is_relative_to(venv), f"tenantedge imported from {where} instead of the fresh venv"
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", QUICK_START],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"tenantedge serve exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"not healthy in 30 s: {log.read_text()}"
            try:
                if httpx.get(url + "/_edge/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone already when it failed to start
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert sorted(path.name for path in folder.iterdir()) == ["tenants.json"]


def test_the_quick_start_serves_a_styled_site_from_the_wheel(quick_start: str) -> None:
    host = {"host": "example.com"}
    page = httpx.get(quick_start + "/", headers=host, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="en" data-theme="dark">' in page.text
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page.text)
    assert [link.split("?")[0] for link in links] == ["/_edge/assets/base.css", "/_edge/theme.css"], links
    base, theme = (httpx.get(quick_start + link, headers=host, timeout=10) for link in links)
    assert base.status_code == 200 and ".te-hero" in base.text  # the packaged default stylesheet
    assert theme.status_code == 200 and theme.headers["content-type"].startswith("text/css")
    dark = PRESETS["dark"]
    for name in ("primary", "background", "text"):
        assert f"--te-{name}: {dark[name]};" in theme.text, theme.text
    assert httpx.get(quick_start + "/", headers={"host": "other.example"}, timeout=10).status_code == 404


def test_the_readme_gives_the_quick_start_verbatim() -> None:
    assert QUICK_START in (ROOT / "README.md").read_text()
