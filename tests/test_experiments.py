from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from tenantedge.errors import DocumentError
from tenantedge.experiments import ExperimentState, GoalKind, assign, assignments, bucket, choose, label, visitor_label
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import Tenant, parse_document

HERO = {"type": "Hero", "props": {"title": "Hi"}}
FEATURES = {"type": "Features", "props": {"style": "grid"}}


def experiment(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "hero-title",
        "state": "running",
        "section": 0,
        "goal": {"click": "signup"},
        "variants": [
            {"name": "control", "weight": 1},
            {"name": "short", "weight": 1, "section": {"type": "Hero", "props": {"title": "Ship"}}},
        ],
    }
    doc.update(overrides)
    return doc


def tenant_with(registry: SectionRegistry, *experiments: Any, other: Any = None) -> Tenant:
    pages: dict[str, Any] = {"/": {"sections": [HERO, FEATURES], "experiments": list(experiments)}}
    if other is not None:
        pages["/about"] = other
    doc = {"tenants": {"acme": {"domains": ["acme.com"], "pages": pages}}}
    return parse_document(orjson.dumps(doc), "tenants.json", registry).tenants["acme"]


def errors_of(registry: SectionRegistry, *experiments: Any, other: Any = None) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        tenant_with(registry, *experiments, other=other)
    return [str(issue) for issue in caught.value.issues]


AT = 'tenants.acme.pages["/"].experiments[0]'


def test_a_section_experiment_swaps_one_section(registry: SectionRegistry) -> None:
    page = tenant_with(registry, experiment()).pages["/"]
    (found,) = page.experiments
    assert page.running == (found,)
    assert found.state is ExperimentState.RUNNING and found.goal.kind is GoalKind.CLICK
    control, short = found.variants
    assert control.sections is None
    assert short.sections is not None
    assert [section.type for section in short.sections] == ["Hero", "Features"]
    assert short.sections[0].props["title"] == "Ship"
    assert short.sections[1] is page.sections[1]


def test_a_whole_page_experiment_and_a_draft_one(registry: SectionRegistry) -> None:
    whole = experiment(section=None, state="draft", goal={"visit": "/thanks"})
    whole["variants"] = [{"name": "control"}, {"name": "lean", "weight": 3, "sections": [HERO]}]
    del whole["section"]
    page = tenant_with(registry, whole).pages["/"]
    (found,) = page.experiments
    assert page.running == ()
    assert found.section is None and found.variants[1].weight == 3
    assert found.variants[1].sections is not None and len(found.variants[1].sections) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"state": "on"}, f"{AT}.state: expected one of draft, running, stopped, found 'on'", id="state"),
        pytest.param({"section": 5}, f"{AT}.section: expected the position of one of the page's 2 sections", id="pos"),
        pytest.param({"goal": {"hover": "x"}}, f"{AT}.goal.hover: unknown goal", id="goal-kind"),
        pytest.param({"goal": {"visit": "thanks"}}, f"{AT}.goal.visit: expected a path like '/thanks'", id="goal-path"),
        pytest.param({"id": "Bad Id"}, f"{AT}.id: expected an experiment id", id="id"),
        pytest.param({"variants": []}, f"{AT}.variants: expected a list of 2 to 10 variants", id="no-variants"),
        pytest.param({"colour": 1}, f"{AT}.colour: unknown key", id="unknown-key"),
    ],
)
def test_experiment_errors_name_their_path(registry: SectionRegistry, change: dict[str, Any], expected: str) -> None:
    errors = errors_of(registry, experiment(**change))
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        pytest.param(
            [{"name": "a"}, {"name": "a", "section": HERO}],
            f"{AT}.variants[1].name: variant 'a' is also variant 0",
            id="duplicate-name",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "weight": 0, "section": HERO}],
            f"{AT}.variants[1].weight: expected a whole number from 1 to 1000000, found 0",
            id="zero-weight",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "weight": 1.5, "section": HERO}],
            f"{AT}.variants[1].weight: expected a whole number",
            id="fraction-weight",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b"}],
            f"{AT}.variants[1].section: required",
            id="missing-swap",
        ),
        pytest.param(
            [{"name": "a", "section": HERO}, {"name": "b", "section": HERO}],
            f"{AT}.variants[0].section: the control",
            id="control-swaps",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "section": {"type": "Hero", "props": {"titel": "x"}}}],
            f"{AT}.variants[1].section.props.titel",
            id="section-validated",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "sections": [HERO]}],
            f"{AT}.variants[1].sections: this experiment swaps one section",
            id="wrong-swap",
        ),
    ],
)
def test_variant_errors_name_their_path(registry: SectionRegistry, variants: list[Any], expected: str) -> None:
    errors = errors_of(registry, experiment(variants=variants))
    assert any(error.startswith(expected) for error in errors), errors


def test_at_most_one_experiment_per_section_and_ids_unique_per_tenant(registry: SectionRegistry) -> None:
    errors = errors_of(registry, experiment(), experiment(id="again"))
    assert errors == [
        'tenants.acme.pages["/"].experiments[1].section: section 0 is already in experiment '
        "'hero-title'; at most one per section"
    ]
    other = {"sections": [HERO], "experiments": [experiment()]}
    (error,) = errors_of(registry, experiment(), other=other)
    assert error.startswith("tenants.acme.pages[\"/about\"].experiments[0].id: experiment 'hero-title' is already at")
    # Two sections of a page, each in its own experiment, is fine.
    tenant = tenant_with(registry, experiment(), experiment(id="features", section=1))
    assert len(tenant.pages["/"].running) == 2


def test_buckets_are_independent_per_experiment() -> None:
    visitors = [str(index) for index in range(2_000)]
    first, second = ([bucket(visitor, seed) < 0.5 for visitor in visitors] for seed in ("one", "two"))
    both = sum(a and b for a, b in zip(first, second, strict=True)) / len(visitors)
    assert 0.2 < both < 0.3  # a quarter when independent


def test_assignment_is_deterministic_and_follows_the_weights(registry: SectionRegistry) -> None:
    doc = experiment()
    doc["variants"][0]["weight"] = 3
    (found,) = tenant_with(registry, doc).pages["/"].experiments
    synthetic = random.Random(20)  # noqa: S311 - synthetic visitor ids, fixed seed: the same ids every run
    visitors = [f"{synthetic.getrandbits(128):032x}" for _ in range(10_000)]
    first = [assign(found, visitor).name for visitor in visitors]
    assert first == [assign(found, visitor).name for visitor in visitors]
    # 75% expected; the standard deviation over 10,000 is 0.43%, so ±3% is about seven of them.
    share = first.count("control") / len(first)
    assert 0.72 < share < 0.78


def test_bots_and_stopped_experiments_get_the_control(registry: SectionRegistry) -> None:
    (found,) = tenant_with(registry, experiment(state="stopped")).pages["/"].experiments
    assert {assign(found, str(index)).name for index in range(200)} == {"control"}
    (running,) = tenant_with(registry, experiment()).pages["/"].experiments
    assert assign(running, None).name == "control"


def test_two_experiments_on_one_page_combine(registry: SectionRegistry) -> None:
    features = experiment(id="features", section=1)
    features["variants"][1]["section"] = {"type": "Features", "props": {"style": "list"}}
    page = tenant_with(registry, experiment(), features).pages["/"]
    forced = choose(page.sections, page.running, None, {"hero-title": "short", "features": "control"})
    assert forced.label == "hero-title=short,features=control"
    assert forced.sections[0].props["title"] == "Ship" and forced.sections[1] is page.sections[1]
    plain = choose(page.sections, page.running, None, {"hero-title": "nosuch"})
    assert plain.label == "hero-title=control,features=control" and plain.sections == page.sections


def test_the_label_of_a_hit_is_the_label_of_the_assignment(registry: SectionRegistry) -> None:
    features = experiment(id="features", section=1)
    features["variants"] = [
        {"name": "a"},
        {"name": "b", "weight": 2, "section": FEATURES},
        {"name": "c", "section": FEATURES},
    ]
    page = tenant_with(registry, experiment(), features).pages["/"]
    for visitor in [None, *(f"{index:032x}" for index in range(500))]:
        assert visitor_label(page.running, visitor) == label(assignments(page.running, visitor))
