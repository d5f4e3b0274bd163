"""`tenantedge assets put|ls|rm` with the admin API's checks, and `tenantedge sync` carrying the `assets/` folder
beside tenants.json to S3 (SeaweedFS), as an operator runs them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from pathlib import Path

import orjson

from tests.media import images
from tests.server import ROOT, copy_demo
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3

LOGO = images.png((6, 6), (30, 60, 90))
LOGO_ID = hashlib.sha256(LOGO).hexdigest() + ".png"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenantedge", *args], env=env, capture_output=True, timeout=120, check=False, text=True
    )


def file_env(folder: Path) -> dict[str, str]:
    copy_demo(folder)
    return {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "TENANTEDGE_TENANTS": str(folder / "tenants.json"),
        "TENANTEDGE_TEMPLATES": str(ROOT / "templates"),
    }


def test_put_ls_rm_beside_tenants_json(tmp_path: Path) -> None:
    env = file_env(tmp_path)
    (tmp_path / "logo.png").write_bytes(LOGO)
    (tmp_path / "page.png").write_bytes(images.HTML)
    put = run(env, "assets", "put", "basicsite", str(tmp_path / "logo.png"), str(tmp_path / "page.png"))
    assert put.returncode == 1, "one file was refused"
    assert f"+ {tmp_path / 'logo.png'}: asset:{LOGO_ID} (image/png, {len(LOGO)} bytes)" in put.stdout
    assert f"! {tmp_path / 'page.png'}: not a file type" in put.stderr
    assert (tmp_path / "assets" / "basicsite" / LOGO_ID).read_bytes() == LOGO
    again = run(env, "assets", "put", "basicsite", str(tmp_path / "logo.png"))
    assert again.returncode == 0 and again.stdout.startswith("= ")
    listing = run(env, "assets", "ls", "basicsite")
    assert LOGO_ID in listing.stdout and "6x6" in listing.stdout and "logo.png  (unused)" in listing.stdout
    assert run(env, "assets", "ls", "nobody").stderr.strip() == "tenantedge: error: no tenant 'nobody'"
    removed = run(env, "assets", "rm", "basicsite", LOGO_ID)
    assert removed.returncode == 0 and f"- {LOGO_ID}: removed" in removed.stdout
    assert not (tmp_path / "assets" / "basicsite" / LOGO_ID).exists()


def test_sync_carries_the_assets_folder_before_the_documents(tmp_path: Path, seaweed: SeaweedS3) -> None:
    env = file_env(tmp_path)
    (tmp_path / "logo.png").write_bytes(LOGO)
    assert run(env, "assets", "put", "basicsite", str(tmp_path / "logo.png")).returncode == 0
    whole = orjson.loads((tmp_path / "tenants.json").read_bytes())
    whole["tenants"]["basicsite"]["theme"]["logo"] = f"asset:{LOGO_ID}"
    (tmp_path / "tenants.json").write_bytes(orjson.dumps(whole))
    prefix = f"sync-assets-{uuid.uuid4().hex[:10]}/"
    s3_env = {
        **env,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "TENANTEDGE_S3_ENDPOINT": seaweed.endpoint, "TENANTEDGE_S3_BUCKET": BUCKET, "TENANTEDGE_S3_PREFIX": prefix,
    }  # fmt: skip
    first = run(s3_env, "sync")
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    carried = f"+ asset basicsite/{LOGO_ID} (logo.png, {len(LOGO)} bytes)"
    assert carried in lines and lines.index(carried) < lines.index("+ basicsite: new (version 1)")
    # The demo's own logos, favicons and hero images go with their tenants.
    for tenant in ("basicsite", "clientsite", "codersinflow", "darkflows"):
        demo = [line for line in lines if line.startswith(f"+ asset {tenant}/") and LOGO_ID not in line]
        assert len(demo) == 3, lines
        assert lines.index(demo[-1]) < lines.index(f"+ {tenant}: new (version 1)")
    listing = run(s3_env, "assets", "ls", "basicsite")
    assert LOGO_ID in listing.stdout and "(theme.logo)" in listing.stdout
    second = run(s3_env, "sync")
    assert "= assets basicsite: 4 already stored" in second.stdout and "+ asset" not in second.stdout
    in_use = run(s3_env, "assets", "rm", "basicsite", LOGO_ID)
    assert in_use.returncode == 1 and "in use (theme.logo)" in in_use.stderr


def test_validate_checks_references_against_the_assets_folder(tmp_path: Path) -> None:
    env = file_env(tmp_path)
    whole = orjson.loads((tmp_path / "tenants.json").read_bytes())
    whole["tenants"]["basicsite"]["theme"]["logo"] = f"asset:{LOGO_ID}"
    (tmp_path / "tenants.json").write_bytes(orjson.dumps(whole))
    missing = run(env, "validate")
    assert missing.returncode == 1
    assert f"tenants.basicsite.theme.logo: no asset {LOGO_ID} in {tmp_path / 'assets' / 'basicsite'}" in missing.stderr
    (tmp_path / "logo.png").write_bytes(LOGO)
    assert run(env, "assets", "put", "basicsite", str(tmp_path / "logo.png")).returncode == 0
    assert run(env, "validate").returncode == 0
