"""Starting a run from another run's state: a scenario shares its reference's past.

A what-if changes policy from some month on (most levers from 2026). Before that month the
scenario and its reference read the same policy, and every random draw is keyed by month,
purpose and agent (``random_streams.py``), not by a generator's position, so the two runs
are the same bit for bit up to it. The scenario can therefore start from the reference's
state at that month instead of from 2015, which is most of a comparison's cost: the app's
"Run scenario", ``migflow compare`` and paired posterior runs all compare against a
reference.

``first_difference`` finds that month by comparing, month by month, everything the model
reads of the compiled policy in a month (``month_view``); ``snapshot`` and ``resume`` save
and restore a model between two months. tests/test_checkpoint.py checks that a resumed run
equals the run from the start for random lever sets.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from dataclasses import fields

import numpy as np

from .model import MigrationModel
from .parameters import Parameters
from .policy import CompiledPathway, PolicySchedule, Programme
from .scenario import Scenario, dumps_scenario

# schedule fields read through ``month_view`` rather than row by row
_LISTS = ("programmes", "pathways")


def _static(item: Programme | CompiledPathway) -> tuple:
    """What a programme or pathway is, apart from its per-month arrays."""
    out = []
    for f in fields(item):
        if f.name in ("capacity", "active"):
            continue
        value = getattr(item, f.name)
        out.append(value.tobytes() if isinstance(value, np.ndarray) else value)
    return tuple(out)


def month_view(schedule: PolicySchedule, t: int) -> tuple:
    """What the model reads of the policy lists in month ``t``: the programmes open that
    month, the pathways with places (with their position in the list, which keys their
    places' draw, ``MigrationModel._slots``) and the temporary pathways' mean stays. A
    programme or pathway that has not started yet reads as absent."""
    programmes = tuple(
        (_static(p), float(p.capacity[t])) for p in schedule.programmes if p.active[t]
    )
    pathways = tuple(
        (k, _static(pw), float(pw.capacity[t]))
        for k, pw in enumerate(schedule.pathways)
        if pw.capacity[t] > 0
    )
    return programmes, pathways, schedule.temporary_duration(t).tobytes()


def first_difference(a: PolicySchedule, b: PolicySchedule) -> int:
    """The first month index at which runs under ``a`` and ``b`` can differ (the number of
    months if never; 0 if their windows differ)."""
    if a.months.shape != b.months.shape or not np.array_equal(a.months, b.months):
        return 0
    first = len(a.months)
    # the terminations, month -> grants: the first month whose terminations differ
    lapses_a, lapses_b = a.status_lapses, b.status_lapses
    for t in sorted(lapses_a.keys() | lapses_b.keys()):
        if not np.array_equal(lapses_a.get(t, ()), lapses_b.get(t, ())):
            first = min(first, t)
            break
    for f in fields(PolicySchedule):
        if f.name in (*_LISTS, "status_lapses"):
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if not isinstance(x, np.ndarray) or x.shape[:1] != a.months.shape:
            raise TypeError(f"policy field {f.name!r} is not per month: compare it here")
        rows = np.flatnonzero((x != y).reshape(len(x), -1).any(axis=1))
        if len(rows):
            first = min(first, int(rows[0]))
    for t in range(first):
        if month_view(a, t) != month_view(b, t):
            return t
    return first


def snapshot(model: MigrationModel) -> bytes:
    """The model's whole state between two months."""
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def resume(state: bytes, scenario: Scenario, schedule: PolicySchedule) -> MigrationModel:
    """A model at the month of ``state`` that runs ``scenario`` (compiled as ``schedule``)
    from there. The caller checks, with ``first_difference``, that the two policies agree on
    every month before it."""
    model = pickle.loads(state)
    model.scenario = scenario
    model.policy = schedule
    return model


def run_until(
    scenario: Scenario,
    parameters: Parameters | None,
    t0: int,
    progress: Callable[[int, int], None] | None = None,
) -> MigrationModel:
    """A fresh model of ``scenario`` run up to (not including) month index ``t0``;
    ``progress(t, n)`` after each month, as ``MigrationModel.run``."""
    model = MigrationModel(scenario, parameters)
    while model.t < t0 and model.running:
        model.step()
        if progress is not None:
            progress(model.t, model.n_months)
    return model


#: a state is kept only up to this size (about 15 MB at scale 100; at scale 1 it is about
#: 1.5 GB, and the scenario then runs from the start instead)
MAX_SAVED_BYTES = 100_000_000


def small_enough(model: MigrationModel) -> bool:
    """Whether ``model``'s state is worth keeping (its population under the cap)."""
    return model.pop.nbytes <= MAX_SAVED_BYTES


class SavedStates:
    """The few latest saved states of one process (the app's server, a sweep worker): a
    scenario's state after its first ``months`` months, oldest dropped first; safe to share
    between threads."""

    def __init__(self, keep: int = 4):
        self.keep, self.states, self.lock = keep, {}, threading.Lock()

    def save(self, scenario: Scenario, months: int, state: bytes) -> None:
        key = (dumps_scenario(scenario), months)
        with self.lock:
            self.states.pop(key, None)
            self.states[key] = state
            while len(self.states) > self.keep:
                self.states.pop(next(iter(self.states)))

    def get(self, scenario: Scenario, months: int) -> bytes | None:
        with self.lock:
            return self.states.get((dumps_scenario(scenario), months))
