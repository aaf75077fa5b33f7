"""The instruments two scenarios differ by: their lever rows, grouped by the rows' ``id``.

A package (the Los Angeles Declaration's "more", say) adds several instruments to the
baseline at once. What each is worth cannot be read off the package's total: instruments
overlap (two pathways compete for the same people) or reinforce each other. So each is
measured both ways, as the scenario files already allow: *alone* (the reference plus that
instrument only) and *last* (the package without it, against the package). The two agree when
the instrument acts independently of the others; where they differ, the gap is the
interaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scenario import LEVER_GROUPS, Scenario

#: top-level fields that are not policy: they may differ without being an instrument
_NOT_POLICY = ("name", "title", "description", "seed", "scale", *LEVER_GROUPS)


@dataclass(frozen=True)
class Instrument:
    id: str
    added: tuple[tuple[str, dict], ...]  # (lever group, row) in the package, not the reference
    removed: tuple[tuple[str, dict], ...]  # in the reference, not the package


def _rows(scenario: Scenario) -> list[tuple[str, dict]]:
    return [
        (group, lever.model_dump(mode="json"))
        for group in LEVER_GROUPS
        for lever in getattr(scenario, group)
    ]


def instruments(reference: Scenario, package: Scenario) -> list[Instrument]:
    """The lever rows ``package`` adds to or drops from ``reference``, one instrument per
    ``id`` (a row without one is its own instrument, named by its group and position)."""
    ref, pkg = _rows(reference), _rows(package)
    found: dict[str, dict[str, list]] = {}

    def name(group: str, row: dict, i: int) -> str:
        return row.get("id") or f"{group}[{i}]"

    for i, (group, row) in enumerate(pkg):
        if (group, row) not in ref:
            found.setdefault(name(group, row, i), {"added": [], "removed": []})["added"].append(
                (group, row)
            )
    for i, (group, row) in enumerate(ref):
        if (group, row) not in pkg:
            found.setdefault(name(group, row, i), {"added": [], "removed": []})["removed"].append(
                (group, row)
            )
    return [
        Instrument(key, tuple(parts["added"]), tuple(parts["removed"]))
        for key, parts in found.items()
    ]


def other_differences(reference: Scenario, package: Scenario) -> list[str]:
    """Fields besides levers in which the two differ (parameters, trajectories, prices,
    window): a split by instrument leaves these in the package, so it says which they are."""
    a, b = reference.model_dump(mode="json"), package.model_dump(mode="json")
    return [k for k in a if k not in _NOT_POLICY and a[k] != b[k]]


def _apply(scenario: Scenario, add, drop) -> Scenario:
    data = scenario.model_dump(mode="json")
    for group, row in drop:
        data[group].remove(row)
    for group, row in add:
        data[group].append(row)
    return Scenario.model_validate(data)


def with_instrument(scenario: Scenario, instrument: Instrument) -> Scenario:
    """``scenario`` with the instrument's change made (its rows added, the ones it drops
    dropped)."""
    return _apply(scenario, instrument.added, instrument.removed)


def without_instrument(scenario: Scenario, instrument: Instrument) -> Scenario:
    """``scenario`` with the instrument's change undone."""
    return _apply(scenario, instrument.removed, instrument.added)
