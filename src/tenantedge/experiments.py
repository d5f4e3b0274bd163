"""A/B experiments on a page: the model, its validation, and the deterministic assignment of a visitor to a variant.

A page's experiment swaps one of its sections (by position) or its whole section list between variants; the
first variant is the control and shows the page as written. A visitor's variant is a pure function of their
visitor id and the experiment id (a hash seeded with the experiment id, as GrowthBook assigns), so every worker
and instance agrees without sharing any state.
"""

from __future__ import annotations

import bisect
import enum
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tenantedge.errors import ValidationIssue
from tenantedge.jsonpath import JsonPath, child, format_path, item
from tenantedge.props import describe, reject_unknown, short, suggest

if TYPE_CHECKING:
    from hashlib import blake2b as Blake2b

    from tenantedge.tenants import Section

EXPERIMENT_ID = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")
VARIANT_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")
# A goal's target: a path for a visit; the name in a marked element's `data-te-goal` for a click or a submit.
_GOAL_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")
_EXPERIMENT_KEYS = ("id", "state", "section", "goal", "variants")
_VARIANT_KEYS = ("name", "weight", "section", "sections")
MAX_VARIANTS = 10
MAX_WEIGHT = 1_000_000
_SPAN = float(1 << 64)


class ExperimentState(enum.Enum):
    DRAFT = "draft"  # written, not shown to anyone
    RUNNING = "running"  # visitors are assigned to its variants
    STOPPED = "stopped"  # everyone sees the control again


class GoalKind(enum.Enum):
    VISIT = "visit"  # the visitor reaches a path of the site
    CLICK = "click"  # the visitor clicks an element marked `data-te-goal="<name>"`
    SUBMIT = "submit"  # the visitor submits a form marked `data-te-goal="<name>"`


@dataclass(frozen=True, slots=True)
class Goal:
    kind: GoalKind
    target: str


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    weight: int
    # The page's section list with this variant applied; None for the control, which shows the page as written.
    sections: tuple[Section, ...] | None


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str
    state: ExperimentState
    # The position of the section it swaps; None when it swaps the whole section list.
    section: int | None
    goal: Goal
    variants: tuple[Variant, ...]
    # Where each variant's share of [0, 1) ends, and the page-cache label of each ("<experiment>=<variant>").
    cuts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    labels: tuple[str, ...] = field(init=False, repr=False, compare=False)
    seeded: Blake2b = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        total, running, cuts = sum(variant.weight for variant in self.variants), 0, []
        for variant in self.variants:
            running += variant.weight
            cuts.append(running / total)
        object.__setattr__(self, "cuts", tuple(cuts))
        object.__setattr__(self, "labels", tuple(f"{self.id}={variant.name}" for variant in self.variants))
        object.__setattr__(self, "seeded", _seeded(self.id))

    @property
    def control(self) -> Variant:
        return self.variants[0]

    @property
    def running(self) -> bool:
        return self.state is ExperimentState.RUNNING

    def choose(self, bucket: float) -> Variant:
        """The variant for a bucket in [0, 1): each variant holds a share of [0, 1) in proportion to its weight."""
        return self.variants[self.index(bucket)]

    def index(self, bucket: float) -> int:
        return min(bisect.bisect_right(self.cuts, bucket), len(self.variants) - 1)

    def variant(self, name: str) -> Variant | None:
        return next((variant for variant in self.variants if variant.name == name), None)


def bucket(visitor: str, experiment_id: str) -> float:
    """A visitor's place in [0, 1) for one experiment: BLAKE2b of the experiment id and the visitor id (as
    GrowthBook hashes a seed with the user id), so a visitor's places in two experiments are independent."""
    return _place(_seeded(experiment_id), visitor)


def _seeded(experiment_id: str) -> Blake2b:
    return hashlib.blake2b(experiment_id.encode() + b":", digest_size=8)


def _place(seeded: Blake2b, visitor: str) -> float:
    # A copy of the hash already fed the experiment id: half the cost of hashing both each time.
    hashed = seeded.copy()
    hashed.update(visitor.encode())
    return int.from_bytes(hashed.digest()) / _SPAN


def assign(experiment: Experiment, visitor: str | None) -> Variant:
    """The visitor's variant; the control for a visitor without an id (a bot, no consent) or an experiment not
    running."""
    if visitor is None or not experiment.running:
        return experiment.control
    return experiment.choose(_place(experiment.seeded, visitor))


@dataclass(slots=True)
class ExperimentParser:
    """Validates the experiments of one tenant's pages: ids unique across the tenant, at most one per section."""

    section: Callable[[object, JsonPath], Section | None]
    sections: Callable[[object, JsonPath], tuple[Section, ...]]
    issues: list[ValidationIssue]
    # Whether a string is a page path as documents write them (a visit goal's target).
    page_path: Callable[[str], bool]
    # Experiment ids already used in this tenant, with where.
    seen: dict[str, str] = field(default_factory=dict)

    def page(self, raw: object, path: JsonPath, page_sections: tuple[Section, ...]) -> tuple[Experiment, ...]:
        if not isinstance(raw, list):
            self.issues.append(ValidationIssue.at(path, f"expected a list of experiments, found {describe(raw)}"))
            return ()
        found: list[Experiment] = []
        targets: dict[int | None, str] = {}
        for index, entry in enumerate(raw):
            where = item(path, index)
            experiment = self.experiment(entry, where, page_sections)
            if experiment is None:
                continue
            clash = _clash(experiment.section, targets)
            if clash is not None:
                message = f"section {experiment.section} is already in experiment {clash!r}; at most one per section"
                if experiment.section is None:
                    message = f"a whole-page experiment cannot share the page with experiment {clash!r}"
                self.issues.append(ValidationIssue.at(child(where, "section"), message))
                continue
            targets[experiment.section] = experiment.id
            found.append(experiment)
        return tuple(found)

    def experiment(self, raw: object, path: JsonPath, page_sections: tuple[Section, ...]) -> Experiment | None:
        issues, before = self.issues, len(self.issues)
        if not isinstance(raw, dict):
            issues.append(ValidationIssue.at(path, f"expected an experiment object, found {describe(raw)}"))
            return None
        reject_unknown(raw, _EXPERIMENT_KEYS, path, issues)
        experiment_id = raw.get("id")
        if not isinstance(experiment_id, str) or not EXPERIMENT_ID.match(experiment_id):
            expected = "an experiment id: 1-63 lowercase letters, digits or '-', starting with a letter"
            issues.append(ValidationIssue.at(child(path, "id"), f"expected {expected}, found {short(experiment_id)}"))
        elif experiment_id in self.seen:
            issues.append(
                ValidationIssue.at(
                    child(path, "id"), f"experiment {experiment_id!r} is already at {self.seen[experiment_id]}"
                )
            )
        else:
            self.seen[experiment_id] = format_path(path)
        state = _state(raw.get("state", ExperimentState.DRAFT.value), child(path, "state"), issues)
        position = raw.get("section")
        if position is not None and (type(position) is not int or not 0 <= position < len(page_sections)):
            expected = (
                f"the position of one of the page's {len(page_sections)} sections (0 to {len(page_sections) - 1})"
            )
            issues.append(ValidationIssue.at(child(path, "section"), f"expected {expected}, found {short(position)}"))
            position = None
        goal = _goal(raw.get("goal"), child(path, "goal"), issues, self.page_path)
        variants = self._variants(raw.get("variants"), child(path, "variants"), position, page_sections)
        if len(issues) > before or goal is None or not isinstance(experiment_id, str):
            return None
        return Experiment(experiment_id, state, position, goal, variants)

    def _variants(
        self, raw: object, path: JsonPath, position: int | None, page_sections: tuple[Section, ...]
    ) -> tuple[Variant, ...]:
        issues = self.issues
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_VARIANTS:
            expected = f"a list of 2 to {MAX_VARIANTS} variants, the control first"
            issues.append(ValidationIssue.at(path, f"expected {expected}, found {describe(raw)}"))
            return ()
        variants: list[Variant] = []
        names: dict[str, int] = {}
        swap, other = ("section", "sections") if position is not None else ("sections", "section")
        for index, entry in enumerate(raw):
            where = item(path, index)
            if not isinstance(entry, dict):
                issues.append(ValidationIssue.at(where, f"expected a variant object, found {describe(entry)}"))
                continue
            reject_unknown(entry, _VARIANT_KEYS, where, issues)
            name, weight = entry.get("name"), entry.get("weight", 1)
            if not isinstance(name, str) or not VARIANT_NAME.match(name):
                expected = "a variant name: 1-32 lowercase letters, digits or '-', starting with a letter"
                issues.append(ValidationIssue.at(child(where, "name"), f"expected {expected}, found {short(name)}"))
            elif name in names:
                issues.append(
                    ValidationIssue.at(child(where, "name"), f"variant {name!r} is also variant {names[name]}")
                )
            else:
                names[name] = index
            if type(weight) is not int or not 1 <= weight <= MAX_WEIGHT:
                expected = f"a whole number from 1 to {MAX_WEIGHT}"
                issues.append(ValidationIssue.at(child(where, "weight"), f"expected {expected}, found {short(weight)}"))
                weight = 1
            if other in entry:
                target = "one section (the experiment names a 'section')" if position is not None else "the page"
                issues.append(ValidationIssue.at(child(where, other), f"this experiment swaps {target}; use {swap!r}"))
            sections: tuple[Section, ...] | None = None
            if index == 0:
                if swap in entry:
                    issues.append(
                        ValidationIssue.at(
                            child(where, swap), "the control (the first variant) shows the page as written"
                        )
                    )
            elif swap not in entry:
                issues.append(ValidationIssue.at(child(where, swap), f"required: what this variant shows ({swap!r})"))
            elif position is not None:
                section = self.section(entry[swap], child(where, swap))
                if section is not None:
                    sections = (*page_sections[:position], section, *page_sections[position + 1 :])
            else:
                sections = self.sections(entry[swap], child(where, swap))
            variants.append(Variant(name if isinstance(name, str) else "", weight, sections))
        return tuple(variants)


Assignments = tuple[tuple[Experiment, Variant], ...]


@dataclass(frozen=True, slots=True)
class Chosen:
    """What one visitor sees of a page: each experiment's variant, and the sections they make together."""

    assignments: Assignments
    sections: tuple[Section, ...]

    @property
    def label(self) -> str:
        return label(self.assignments)


def assignments(
    experiments: Sequence[Experiment], visitor: str | None, forced: Mapping[str, str] | None = None
) -> Assignments:
    """Each experiment's variant for this visitor; `forced` (a preview's choice, by experiment id) wins."""
    if forced is None:
        return tuple((experiment, assign(experiment, visitor)) for experiment in experiments)
    chosen = []
    for experiment in experiments:
        wanted = forced.get(experiment.id)
        chosen.append((experiment, (experiment.variant(wanted) if wanted else None) or assign(experiment, visitor)))
    return tuple(chosen)


def visitor_label(experiments: Sequence[Experiment], visitor: str | None) -> str:
    """`label(assignments(experiments, visitor))` without building the assignments: what a cache hit needs."""
    if visitor is None:
        return ",".join(experiment.labels[0] for experiment in experiments)
    if len(experiments) == 1:  # the usual case, without a generator
        (experiment,) = experiments
        return experiment.labels[experiment.index(_place(experiment.seeded, visitor))]
    return ",".join(
        experiment.labels[experiment.index(_place(experiment.seeded, visitor))] for experiment in experiments
    )


def label(assigned: Assignments) -> str:
    """Names a combination of variants, e.g. "hero-title=short": the page cache keeps one entry per label."""
    return ",".join(f"{experiment.id}={variant.name}" for experiment, variant in assigned)


def apply(sections: tuple[Section, ...], assigned: Assignments) -> Chosen:
    """The page's sections with the variants applied. Experiments never swap the same section (validation sees
    to it), so applying them in turn is well defined."""
    for experiment, variant in assigned:
        if variant.sections is None:
            continue
        if experiment.section is None:
            sections = variant.sections
        else:
            index = experiment.section
            sections = (*sections[:index], variant.sections[index], *sections[index + 1 :])
    return Chosen(assigned, sections)


def choose(
    sections: tuple[Section, ...],
    experiments: Sequence[Experiment],
    visitor: str | None,
    forced: Mapping[str, str] | None = None,
) -> Chosen:
    """The page's sections for this visitor, `forced` winning over the hash."""
    return apply(sections, assignments(experiments, visitor, forced))


def running(experiments: Sequence[Experiment]) -> tuple[Experiment, ...]:
    return tuple(experiment for experiment in experiments if experiment.running)


def _clash(section: int | None, targets: Mapping[int | None, str]) -> str | None:
    """The experiment already swapping what this one would: the same section, or any when either is whole-page."""
    if section in targets:
        return targets[section]
    if section is None and targets:
        return next(iter(targets.values()))
    return targets.get(None)


def _state(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> ExperimentState:
    try:
        return ExperimentState(raw)
    except ValueError:
        choices = [state.value for state in ExperimentState]
        hint = suggest(raw, choices) if isinstance(raw, str) else ""
        issues.append(ValidationIssue.at(path, f"expected one of {', '.join(choices)}, found {short(raw)}{hint}"))
        return ExperimentState.DRAFT


def _goal(raw: object, path: JsonPath, issues: list[ValidationIssue], page_path: Callable[[str], bool]) -> Goal | None:
    kinds = [kind.value for kind in GoalKind]
    expected = "{'visit': '/path'}, {'click': '<data-te-goal name>'} or {'submit': '<data-te-goal name>'}"
    if not isinstance(raw, dict) or len(raw) != 1:
        issues.append(ValidationIssue.at(path, f"expected one goal: {expected}, found {short(raw)}"))
        return None
    ((key, target),) = raw.items()
    if key not in kinds:
        issues.append(ValidationIssue.at(child(path, key), f"unknown goal{suggest(key, kinds)}; expected {expected}"))
        return None
    kind = GoalKind(key)
    pattern_ok = page_path if kind is GoalKind.VISIT else (lambda name: bool(_GOAL_NAME.match(name)))
    if not isinstance(target, str) or not pattern_ok(target):
        what = "a path like '/thanks'" if kind is GoalKind.VISIT else "a name: lowercase letters, digits and '-'"
        issues.append(ValidationIssue.at(child(path, key), f"expected {what}, found {short(target)}"))
        return None
    return Goal(kind, target)
