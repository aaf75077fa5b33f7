"""A status terminated (``status_ends``), as the United States terminated Temporary Protected
Status for Venezuela and the CHNV parole in 2025.

Pinned with common random numbers against the same scenario without the termination:
nothing differs before its month; in that month every migrant still holding the status the
lever gave, and only they, is irregular again where they live; nobody is lost. A test that
the baseline's terminations reach the people the record says they reached (about 350,000
Venezuelans with TPS and 530,000 parolees, 2025) would rest on counts after 2023, which are
kept back; the baseline's figures are printed by the regression baseline instead.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import small_baseline

from migflow.model.calendar import parse_month
from migflow.model.geography import CODES, ORIGINS
from migflow.model.model import MigrationModel
from migflow.model.population import IRREGULAR, REGULARISED, SETTLED
from migflow.model.recorder import KIND_INDEX
from migflow.model.scenario import Scenario

ENDS = "2016-03"
PROGRAMME = {
    "id": "protection_test",
    "host": "COL",
    "name": "a protection for Venezuelans in Colombia",
    "capacity_per_month": 200_000,
    "origins": ["VEN"],
    "start": "2015-06",
    "end": "2015-10",
}
PAROLE = {
    "id": "parole_test",
    "name": "a parole for Cubans",
    "kind": "parole",
    "origins": ["CUB"],
    "destination": "USA",
    "capacity_per_year": 1_000_000,
    "start": "2015-03",
    "end": "2015-08",
}


def _model(status_ends: str | None) -> MigrationModel:
    data = small_baseline(scale=100).model_dump(mode="json", exclude_none=True)
    ends = {} if status_ends is None else {"status_ends": status_ends}
    data["regularisation"] = [*data["regularisation"], {**PROGRAMME, **ends}]
    data["pathways"] = [*data["pathways"], {**PAROLE, **ends}]
    return MigrationModel(Scenario.model_validate(data))


def _grants(model) -> tuple[int, int]:
    """The grant numbers of the test programme and the test parole."""
    programme = next(p for p in model.policy.programmes if p.capacity[5] == 200_000)
    parole = next(pw for pw in model.policy.pathways if pw.name == PAROLE["name"])
    return programme.grant, parole.grant


def _holders(model, grant: int) -> np.ndarray:
    pop = model.pop
    return np.flatnonzero((pop.status == REGULARISED) & (pop.granted_by == grant))


@pytest.fixture(scope="module")
def pair() -> tuple[MigrationModel, MigrationModel, dict]:
    """The scenario with and without the termination, stepped to the month before it, and
    what each step of the month of the termination did."""
    ending, kept = _model(ENDS), _model(None)
    t_end = parse_month(ENDS) - ending.first_month
    for t in range(t_end):
        ending.step()
        kept.step()
        # common random numbers: identical until the termination
        np.testing.assert_array_equal(ending.group_counts, kept.group_counts, err_msg=f"t={t}")
    grants = _grants(ending)
    before = {
        "holders": [ending.pop.key[_holders(ending, g)] for g in grants],
        "others": ending.pop.key[
            (ending.pop.status == REGULARISED) & ~np.isin(ending.pop.granted_by, grants)
        ],
        "people": _people(ending),
    }
    ending.step()
    kept.step()
    return ending, kept, before


def _people(model) -> float:
    """Everyone the run has created, alive or gone."""
    rec = model.recorder
    return rec.stocks[model.t - 1].sum() + rec.removed_stocks[model.t - 1].sum()


def test_the_levers_regularise_people_and_record_which_lever_did(pair):
    _, kept, before = pair
    pop = kept.pop  # the run without the termination: the holders still hold it
    for keys, host, origin in zip(before["holders"], ("COL", "USA"), ("VEN", "CUB"), strict=True):
        assert len(keys) > 10
        rows = np.isin(pop.key, keys)
        # each holder is of the lever's nationality, where the lever gave the status
        assert (pop.origin[rows] == ORIGINS.index(origin)).all()
        assert (pop.loc[rows] == CODES.index(host)).mean() > 0.9


def test_a_termination_makes_every_holder_irregular_where_they_live(pair):
    ending, _, before = pair
    pop, k = ending.pop, KIND_INDEX["status_terminated"]
    for grant, keys, host, origin in zip(
        _grants(ending), before["holders"], ("COL", "USA"), ("VEN", "CUB"), strict=True
    ):
        assert len(_holders(ending, grant)) == 0
        rows = np.isin(pop.key, keys)
        # irregular where they were; a few regular again the same month by another door
        # (ordinary channels, another programme), none by the lever terminated
        again = pop.status[rows] == REGULARISED
        assert not (pop.granted_by[rows][again] == grant).any()
        assert again.sum() < 0.05 * len(keys)
        assert (pop.status[rows] == IRREGULAR).sum() > 0.5 * len(keys)
        recorded = ending.recorder.events[ending.t - 1, k, CODES.index(host), ORIGINS.index(origin)]
        assert recorded == len(keys) * ending.scale


def test_a_termination_takes_nothing_from_anyone_else(pair):
    ending, kept, before = pair
    pop = ending.pop
    others = np.isin(pop.key, before["others"])
    assert others.sum() > 0
    assert not (pop.status[others] == IRREGULAR).any()
    k = KIND_INDEX["status_terminated"]
    assert kept.recorder.events[:, k].sum() == 0
    assert ending.recorder.events[:, k].sum() == sum(map(len, before["holders"])) * ending.scale


def test_a_termination_loses_nobody(pair):
    ending, kept, before = pair
    for model in (ending, kept):
        emigrated = model.recorder.events[: model.t, KIND_INDEX["emigrated"]].sum()
        assert _people(model) == pytest.approx(emigrated, rel=1e-9)
    # the same people were created in both runs; only their statuses differ
    assert _people(ending) == pytest.approx(_people(kept), rel=1e-12)
    assert _people(ending) >= before["people"]


def test_after_a_termination_fewer_hold_a_regular_status_in_the_host():
    ending, kept = _model(ENDS), _model(None)
    t_end = parse_month(ENDS) - ending.first_month
    for _ in range(t_end + 1):
        ending.step()
        kept.step()
    col, ven = CODES.index("COL"), ORIGINS.index("VEN")
    regular = [m.recorder.stocks[m.t - 1, col, ven, REGULARISED] for m in (ending, kept)]
    settled = [m.recorder.stocks[m.t - 1, col, ven, SETTLED].sum() for m in (ending, kept)]
    assert regular[0] < 0.5 * regular[1]
    assert settled[0] == pytest.approx(settled[1], rel=0.05)
