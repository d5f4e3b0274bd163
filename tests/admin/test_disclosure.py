"""What an error tells a token scoped to some tenants: nothing about the others (who holds a domain, their paths,
their problems). A token for every tenant still gets every detail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.admin.conftest import FULL_TOKEN, SCOPED_TOKEN, AdminClient, Workdir, problem

pytestmark = pytest.mark.anyio

BASIC = "/api/tenants/basicsite"
OWN = ["basicsite.com", "basicsite.localhost"]
SECRET_PAGE = "/launch-2031-secret"


def break_codersinflow(workdir: Workdir) -> None:
    """An operator saved tenants.json with a mistake in another tenant's unpublished page (the file is refused
    and the old one keeps serving, but it is what the next write starts from)."""
    whole = json.loads(workdir.tenants_bytes())
    pages = whole["tenants"]["codersinflow"]["pages"]
    pages[SECRET_PAGE] = [{"type": "Heroo", "props": {"title": "Our secret launch"}}]
    workdir.tenants_file.write_text(json.dumps(whole))


TAKEN = "is taken by another tenant"
COVERS = "covers a host another tenant holds"


@pytest.mark.parametrize(
    ("host", "told"),
    [
        pytest.param("codersinflow.com", TAKEN, id="exact"),
        pytest.param("www.codersinflow.com", TAKEN, id="exact-second"),
        pytest.param("hijack.darkflows.com", TAKEN, id="under-a-wildcard"),
        pytest.param("*.codersinflow.com", COVERS, id="wildcard-over-domains"),
    ],
)
async def test_a_scoped_token_is_told_a_domain_is_taken_not_by_whom(
    client: AdminClient, workdir: Workdir, host: str, told: str
) -> None:
    change = {"domains": [*OWN, host]}
    scoped = problem(await client.patch(BASIC, change, if_match='"1"', token=SCOPED_TOKEN), 422)
    assert scoped["issues"] == [{"path": "domains[2]", "message": f"{host!r} {told}"}]
    for name in ("'codersinflow'", "'darkflows'", "tenants.codersinflow", "tenants.darkflows"):
        assert name not in json.dumps(scoped), scoped
    full = problem(await client.patch(BASIC, change, if_match='"1"', token=FULL_TOKEN), 422)
    owner = "darkflows" if "darkflows" in host else "codersinflow"
    assert [issue["path"] for issue in full["issues"]] == ["domains[2]"]
    assert f"tenant {owner!r}" in full["issues"][0]["message"], "an administrator is told who holds it"


@pytest.mark.parametrize("host", ["codersinflow.com", "hijack.darkflows.com"])
async def test_a_scoped_check_names_no_other_tenant(client: AdminClient, host: str) -> None:
    document = {"domains": [*OWN, host]}
    scoped = (await client.api("POST", f"{BASIC}/check", document, token=SCOPED_TOKEN)).json()
    assert scoped == {"valid": False, "issues": [{"path": "domains[2]", "message": f"{host!r} {TAKEN}"}]}
    full = (await client.api("POST", f"{BASIC}/check", document, token=FULL_TOKEN)).json()
    assert full["valid"] is False and ("codersinflow" in str(full) or "darkflows" in str(full))


async def test_while_the_file_is_invalid_a_scoped_write_sees_only_its_own_problems(
    client: AdminClient, workdir: Workdir
) -> None:
    break_codersinflow(workdir)
    before = workdir.tenants_bytes()
    change: dict[str, Any] = {"domains": [*OWN, "codersinflow.com"]}
    scoped = problem(await client.patch(BASIC, change, if_match='"1"', token=SCOPED_TOKEN), 422)
    text = json.dumps(scoped)
    for leak in ("codersinflow'", SECRET_PAGE, "Heroo", "tenants.codersinflow"):
        assert leak not in text, f"{leak!r} told to a scoped token: {text}"
    issues = {issue["path"]: issue["message"] for issue in scoped["issues"]}
    assert sorted(issues) == ["", "domains[2]"], scoped["issues"]
    assert "other tenants" in issues[""] and "administrator" in issues[""]
    assert issues["domains[2]"] == f"'codersinflow.com' {TAKEN}"
    assert workdir.tenants_bytes() == before

    full = problem(await client.patch(BASIC, change, if_match='"1"', token=FULL_TOKEN), 422)
    assert SECRET_PAGE in json.dumps(full) and "Heroo" in json.dumps(full), "an administrator sees every problem"


async def test_a_scoped_write_that_is_fine_itself_is_told_only_that_others_block_it(
    client: AdminClient, workdir: Workdir
) -> None:
    break_codersinflow(workdir)
    scoped = problem(await client.patch(BASIC, {"name": "Renamed"}, if_match='"1"', token=SCOPED_TOKEN), 422)
    assert len(scoped["issues"]) == 1 and scoped["issues"][0]["path"] == ""
    assert "codersinflow" not in json.dumps(scoped)


async def test_a_storage_failure_tells_a_scoped_token_nothing_of_the_platform(
    client: AdminClient, workdir: Workdir
) -> None:
    # The write lock beside tenants.json cannot be opened (a folder took its name): the store is unavailable.
    lock = workdir.tenants_file.with_name("tenants.json.lock")
    lock.mkdir()
    scoped = await client.patch(BASIC, {"name": "Renamed"}, if_match='"1"', token=SCOPED_TOKEN)
    assert scoped.status_code == 503 and scoped.headers["retry-after"] == "2"
    assert str(workdir.root) not in scoped.text and ".lock" not in scoped.text, scoped.text
    full = await client.patch(BASIC, {"name": "Renamed"}, if_match='"1"', token=FULL_TOKEN)
    assert full.status_code == 503 and str(lock) in full.text, "an administrator is told what failed"
