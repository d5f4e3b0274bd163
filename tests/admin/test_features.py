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


async def test_a_replace_may_remove_the_sections_of_what_it_switches_off(client: AdminClient) -> None:
    """The dashboard's settings form saves with PUT: the same one-step way out as PATCH."""
    current = await client.get(CODERS)
    document = {**current.json(), "features": {**current.json()["features"], "aiChat": False}}
    refused = await client.api("PUT", CODERS, document, if_match=current.headers["etag"])
    issues = {issue["path"]: issue["message"] for issue in problem(refused, 422)["issues"]}
    assert "pages" in issues["features.aiChat"], issues
    replaced = await client.api("PUT", f"{CODERS}?remove_sections=1", document, if_match=current.headers["etag"])
    assert replaced.status_code == 200, replaced.text
    assert "AIAssistant" not in [section["type"] for section in replaced.json()["pages"]["/"]]
    assert "AIAssistant" not in replaced.json()["components"]
    assert ASSISTANT not in (await client.site("codersinflow.com")).text


async def test_the_section_library_labels_features_and_colours_for_the_dashboard(client: AdminClient) -> None:
    library = (await client.get("/api/sections")).json()
    features = {feature["name"]: feature for feature in library["features"]}
    assert features["aiChat"]["title"] == "AI assistant" and features["aiChat"]["help"]
    assert set(features) == {"blog", "aiChat", "payments", "contactForm"}
    colours = {colour["name"]: colour["title"] for colour in library["colors"]}
    assert colours["blogBg"] == "Blog background" and len(colours) == 8
    assert library["presets"]["dark"]["text"] == "#e8eaed"
    assert set(library["presets"]["light"]) == set(colours)
