"""Single mechanisms called on hand-picked migrants: the edge cases a whole run rarely meets.

A bug that breaks only a rare case passes every run-level test: mutation testing
(tests/mutation.py) found one, a programme that skipped a month with exactly one applicant.
Such cases are pinned here directly: one applicant; every path of the table, each taken by a
pathway to where it ends; a migrant who chose to stay while every pathway was open.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import small_baseline

from model.geography import CODES, HOSTS, ORIGINS
from model.mechanisms.choice import STAY
from model.mechanisms.pathways import divert
from model.mechanisms.settlement import _programme
from model.model import MigrationModel
from model.population import IRREGULAR, REGULARISED, TRANSIT
from model.recorder import KIND_INDEX
from model.scenario import Scenario

PATHWAY_HOSTS = [h for h in HOSTS if h != "CAN"]


def _model_with(months: int = 14, **levers) -> MigrationModel:
    data = small_baseline(scale=100).model_dump(mode="json", exclude_none=True)
    for group, rows in levers.items():
        data[group] = [*data[group], *rows]
    model = MigrationModel(Scenario.model_validate(data))
    for _ in range(months):
        model.step()
    model._open_slots()  # this month's places, as the step would open them
    return model


@pytest.fixture(scope="module")
def open_to_everyone() -> MigrationModel:
    """A model with an uncapped pathway to every host, for every nationality."""
    every = {
        "kind": "resettlement",
        "origins": list(ORIGINS),
        "capacity_per_year": 10**8,
        "start": "2015-01",
    }
    pathways = [{**every, "name": f"to {h}", "destination": h} for h in PATHWAY_HOSTS]
    return _model_with(pathways=pathways)


def test_a_pathway_takes_a_migrant_whichever_path_to_its_destination_they_chose(
    open_to_everyone,
):
    model = open_to_everyone
    paths = model.paths
    rows = np.flatnonzero(model.pop.status == IRREGULAR)
    assert len(rows) > len(paths.end), "one migrant per path"
    for p in range(len(paths.end)):
        row, end = rows[p : p + 1], int(paths.end[p])
        if CODES[end] not in PATHWAY_HOSTS:
            continue
        taken = divert(model, row, np.array([p]), at_origin=True)
        assert taken.tolist() == [True], (p, CODES[end])
        assert model.pop.loc[row[0]] == end and model.pop.status[row[0]] == REGULARISED


def test_a_migrant_who_stays_is_never_taken_by_a_pathway(open_to_everyone):
    model = open_to_everyone
    rows = np.flatnonzero(model.pop.status == TRANSIT)[:50]
    before = model.pop.loc[rows].copy()
    taken = divert(model, rows, np.full(len(rows), STAY), at_origin=True)
    assert not taken.any()
    np.testing.assert_array_equal(model.pop.loc[rows], before)


def test_a_programme_with_a_single_applicant_regularises_them():
    programme = {
        "host": "COL",
        "capacity_per_month": 10_000,
        "origins": ["VEN"],
        "start": "2015-06",
    }
    model = _model_with(regularisation=[programme])
    pop, col, ven = model.pop, CODES.index("COL"), ORIGINS.index("VEN")
    applicant = np.flatnonzero((pop.status == IRREGULAR) & (pop.loc == col) & (pop.origin == ven))[
        :1
    ]
    assert len(applicant) == 1
    _, _, cutoff = model.programme_state(model.t)
    before = model.recorder.events[model.t, KIND_INDEX["regularised_by_programme"], col, ven]
    _programme(model, applicant, cutoff)
    assert pop.status[applicant[0]] == REGULARISED
    after = model.recorder.events[model.t, KIND_INDEX["regularised_by_programme"], col, ven]
    assert after - before == model.scale
