"""Switching a feature off over the API: refused while its sections exist, naming them, or removing them too."""

from __future__ import annotations

import pytest

from tests.admin.conftest import AdminClient, problem

pytestmark = pytest.mark.anyio

CODERS = "/api/tenants/codersinflow"
ASSISTANT = "te-assistant"
OFF = {"features": {"aiChat": False}}


async def test_switching_off_a_feature_in_use_names_the_feature_and_its_sections(client: AdminClient) -> None:
    version = (await client.get(CODERS)).headers["etag"]
    issues = problem(await client.patch(CODERS, OFF, if_match=version), 422)["issues"]
    assert {
        "path": "features.aiChat",
        "message": (
            "switching off 'aiChat' leaves AIAssistant sections on page '/' (pages[\"/\"][4]): remove them first"
        ),
    } in issues
    assert not any("is not enabled" in issue["message"] for issue in issues)
    assert (await client.get(CODERS)).headers["etag"] == version  # nothing stored
    assert ASSISTANT in (await client.site("codersinflow.com")).text


async def test_remove_sections_switches_it_off_in_one_write(client: AdminClient) -> None:
    version = int((await client.get(CODERS)).headers["etag"].strip('"'))
    response = await client.patch(f"{CODERS}?remove_sections=1", OFF, if_match=f'"{version}"')
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["version"] == version + 1 and document["features"]["aiChat"] is False
    assert [section["type"] for section in document["pages"]["/"]] == ["Hero", "Features", "CodeEditor", "Blog", "CTA"]
    assert document["components"] == ["CodeEditor"]
    home = await client.site("codersinflow.com")
    assert home.status_code == 200 and ASSISTANT not in home.text


async def test_remove_sections_leaves_a_patch_that_switches_nothing_off_as_it_is(client: AdminClient) -> None:
    version = (await client.get(CODERS)).headers["etag"]
    response = await client.patch(f"{CODERS}?remove_sections=1", {"name": "Coders"}, if_match=version)
    assert response.status_code == 200, response.text
    assert [section["type"] for section in response.json()["pages"]["/"]][4] == "AIAssistant"


@pytest.mark.parametrize("value", ["2", "yes", "-1"])
async def test_remove_sections_is_0_or_1(client: AdminClient, value: str) -> None:
    version = (await client.get(CODERS)).headers["etag"]
    problem(await client.patch(f"{CODERS}?remove_sections={value}", OFF, if_match=version), 400)
