"""The Dockerfile and compose file: no Docker engine runs here, so run what the image would run, as it would."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.server import ROOT, Server

DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()


def instruction(name: str) -> str:
    """The text of the last instruction `name` in the final stage, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = [line[len(name) :].strip() for line in joined.splitlines() if line.startswith(name + " ")]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def image_env() -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", instruction("ENV")))


def known_settings() -> set[str]:
    source = (ROOT / "src" / "tenantedge" / "settings.py").read_text()
    own = {f"TENANTEDGE_{name}" for name in re.findall(r'reader\.\w+\(\s*"(\w+)"', source)}
    # The repository's plugins read a few of their own (the contact form's secret and SMTP server).
    plugins = {
        name
        for path in (ROOT / "plugins").glob("*/src/*/*.py")
        for name in re.findall(r'"(TENANTEDGE_\w+)"', path.read_text())
    }
    return own | plugins


def test_every_variable_the_files_set_is_a_real_setting() -> None:
    named = set(re.findall(r"TENANTEDGE_\w+", DOCKERFILE + COMPOSE + (ROOT / "README.md").read_text()))
    assert named, "expected settings to be named"
    assert named <= known_settings(), named - known_settings()


def test_image_copies_what_serving_needs() -> None:
    assert "COPY templates ./templates" in DOCKERFILE and "COPY migrations ./migrations" in DOCKERFILE
    # The admin writes the embedded origin: tenants.json and its folder belong to the user the server runs as.
    assert "COPY --chown=tenantedge:tenantedge tenants.json ./tenants.json" in DOCKERFILE
    # The demo's logos, favicons and images, beside tenants.json, where serving and `sync` look for them.
    assert "COPY --chown=tenantedge:tenantedge assets ./assets" in DOCKERFILE
    assert "chown tenantedge:tenantedge /srv/tenantedge" in DOCKERFILE
    # By number: a runtime that checks the user is not root (Kubernetes runAsNonRoot) cannot resolve a name.
    assert "USER 10001" in DOCKERFILE, "the server must not run as root"
    assert instruction("EXPOSE") == image_env()["TENANTEDGE_PORT"]


def test_what_the_image_copies_validates_with_every_asset_it_refers_to(tmp_path: Path) -> None:
    # The final stage's COPY instructions from the build context, into a folder laid out as the image's WORKDIR.
    for line in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(part.startswith("--from") for part in parts):
            source, target = ROOT / parts[-2], tmp_path / parts[-1]
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            elif target.parent == tmp_path:
                shutil.copyfile(source, target)
    assert (tmp_path / "assets").is_dir()
    result = subprocess.run(
        [sys.executable, "-m", "tenantedge", "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_image_command_serves_and_its_healthcheck_passes() -> None:
    command = json.loads(instruction("CMD"))
    assert command == ["tenantedge", "serve"]
    # As in the image, but listening on loopback and a free port.
    env = {**image_env(), "TENANTEDGE_HOST": "127.0.0.1"}
    server = Server(env={key: value for key, value in env.items() if key != "TENANTEDGE_PORT"})
    try:
        healthcheck = json.loads(instruction("HEALTHCHECK").split("CMD", 1)[1])
        healthcheck[-1] = healthcheck[-1].replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        assert healthcheck[0] == "python"
        probe = [sys.executable, *healthcheck[1:]]
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        assert server.get("codersinflow.com").status_code == 200
    finally:
        server.stop()


def test_the_installed_package_carries_the_dashboard(tmp_path: Path) -> None:
    # The image installs the package (not the source tree): what the admin host serves must be inside it.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = ("index.html", "app.js", "charts.js", "plugins.js", "inbox.js", "app.css")
    assert {f"tenantedge/admin/ui/{name}" for name in shipped} <= names
