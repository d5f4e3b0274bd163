"""What components hand the exporter from `metrics()`: per name, its kind, help, and value or values by label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class Labelled(NamedTuple):
    """A family's values by one label's values (bounded ones: tiers, never tenants)."""

    label: str
    values: Mapping[str, float]


# name -> (counter | gauge, help, value or values by label)
Figure = tuple[str, str, float | Labelled]
Figures = Mapping[str, Figure]
