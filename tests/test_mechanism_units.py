"""Single mechanisms called on hand-picked migrants: the edge cases a whole run rarely meets.

A bug that breaks only a rare case passes every run-level test. Mutation testing
(tests/mutation.py) found such bugs that survived the whole suite: a programme or a Safe
Mobility Office that skipped a month with exactly one applicant; an office referring anyone
in its country whatever their nationality or destination; permanent pathway arrivals flagged
as integrated; competing hazards multiplied instead of scaled when they add up past 1;
one-month visas never ending; groups with no onward path given a shifted hazard. Each case
is pinned here directly, on hand-picked migrants.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import small_baseline

from migflow.model.geography import CODES, HOSTS, ORIGINS
from migflow.model.mechanisms.choice import STAY, MonthlyUtilities, onward_logsum
from migflow.model.mechanisms.movement import _referrals_on_the_way
from migflow.model.mechanisms.pathways import divert
from migflow.model.mechanisms.settlement import (
    N_F,
    N_S,
    RETURN,
    _programme,
    hazard_tables,
    onward_hazard,
    raw_hazards,
)
from migflow.model.model import MigrationModel
from migflow.model.parameters import default_parameters
from migflow.model.policy import integration_served_per_year
from migflow.model.population import INTEGRATED, IRREGULAR, REGULARISED, TEMPORARY, TRANSIT
from migflow.model.recorder import KIND_INDEX
from migflow.model.results import Results
from migflow.model.scenario import Scenario

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
        taken, _ = divert(model, row, np.array([p]), at_origin=True)
        assert taken.tolist() == [True], (p, CODES[end])
        assert model.pop.loc[row[0]] == end and model.pop.status[row[0]] == REGULARISED


def test_a_migrant_who_stays_is_never_taken_by_a_pathway(open_to_everyone):
    model = open_to_everyone
    rows = np.flatnonzero(model.pop.status == TRANSIT)[:50]
    before = model.pop.loc[rows].copy()
    taken, _ = divert(model, rows, np.full(len(rows), STAY), at_origin=True)
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


def test_a_permanent_pathway_arrival_is_neither_integrated_nor_temporary(open_to_everyone):
    model = open_to_everyone
    row = np.flatnonzero(model.pop.status == TRANSIT)[-1:]
    usa = np.flatnonzero(model.paths.end == CODES.index("USA"))[0]
    assert divert(model, row, np.array([usa]), at_origin=True)[0].all()
    assert model.pop.flags[row[0]] == 0


# ------------------------------------------------------------------ Safe Mobility referrals


@pytest.fixture(scope="module")
def office_in_colombia() -> MigrationModel:
    """A Safe Mobility Office in Colombia for Venezuelans going to the United States."""
    office = {
        "name": "SMO",
        "kind": "safe_mobility",
        "origins": ["VEN"],
        "destination": "USA",
        "capacity_per_year": 10**8,
        "referral_countries": ["COL"],
        "start": "2015-01",
    }
    return _model_with(pathways=[office])


def _settled_in_colombia(model, origin: str) -> np.ndarray:
    pop = model.pop
    return np.flatnonzero(
        (pop.loc == CODES.index("COL"))
        & (pop.origin == ORIGINS.index(origin))
        & (pop.status == IRREGULAR)
    )


def _path(model, start: str, end: str) -> int:
    """The first path from ``start`` to ``end``."""
    paths = model.paths
    here, there = CODES.index(start), CODES.index(end)
    return int(np.flatnonzero((paths.start == here) & (paths.end == there))[0])


def test_an_office_refers_only_its_nationalities_going_to_its_destination(office_in_colombia):
    model = office_in_colombia
    to_peru = _path(model, "COL", "PER")
    to_usa = _path(model, "COL", "USA")
    going_south = _settled_in_colombia(model, "VEN")[:20]
    other_nationality = _settled_in_colombia(model, "HTI")[:20]
    assert len(going_south) and len(other_nationality)
    south, _ = divert(model, going_south, np.full(len(going_south), to_peru), at_origin=False)
    other, _ = divert(model, other_nationality, np.full(len(other_nationality), to_usa), False)
    assert not south.any() and not other.any()
    north = _settled_in_colombia(model, "VEN")[20:40]
    assert divert(model, north, np.full(len(north), to_usa), at_origin=False)[0].all()


def test_an_office_refers_a_single_traveller_passing_through(office_in_colombia):
    model = office_in_colombia
    lookup = model.path_lookup
    paths = model.paths
    via = [
        (p, hop)
        for p in np.flatnonzero(
            (paths.start == CODES.index("VEN")) & (paths.end == CODES.index("USA"))
        )
        for hop in range(1, int(paths.n_edges[p]))
        if paths.nodes[p, hop] == CODES.index("COL")
    ]
    p, hop = via[0]
    row = np.flatnonzero(
        (model.pop.origin == ORIGINS.index("VEN")) & (model.pop.status == TRANSIT)
    )[:1]
    assert len(row) == 1
    path, hops = np.array([p], np.int64), np.array([hop], np.int64)
    at, referral = path * lookup.width + hops, model.policy.referral_open(model.t)
    referred = _referrals_on_the_way(model, row, path, hops, at, referral)
    assert referred is not None and referred.tolist() == [True]
    assert model.pop.loc[row[0]] == CODES.index("USA")


# ------------------------------------------- parole open at home and where migrants live


def _parole_model(wait_share: float) -> MigrationModel:
    """An uncapped parole for Venezuelans at home and in Colombia, as the parole processes
    of 2022-2023 took applicants, with ``wait_share`` of the unserved waiting for a place."""
    parole = {
        "name": "parole",
        "kind": "parole",
        "origins": ["VEN"],
        "destination": "USA",
        "capacity_per_year": 10**8,
        "referral_countries": ["VEN", "COL"],
        "start": "2015-01",
    }
    data = small_baseline(scale=100).model_dump(mode="json", exclude_none=True)
    data["pathways"] = [*data["pathways"], parole]
    data["parameters"] = {**data["parameters"], "pathway_wait_share": wait_share}
    model = MigrationModel(Scenario.model_validate(data))
    for _ in range(14):
        model.step()
    model._open_slots()
    return model


def _venezuelans_in(model, country: str, n: int) -> np.ndarray:
    pop = model.pop
    rows = np.flatnonzero(
        (pop.origin == ORIGINS.index("VEN")) & (pop.status != REGULARISED) & (pop.loc >= 0)
    )
    rows = rows[:n]
    pop.loc[rows] = CODES.index(country)  # put them there, as if they were
    return rows


def test_a_parole_takes_applicants_at_home_and_where_it_is_open_abroad_only():
    model = _parole_model(0.0)
    at_home = _venezuelans_in(model, "VEN", 10)
    taken, _ = divert(model, at_home, np.full(10, _path(model, "VEN", "USA")), at_origin=True)
    assert taken.all()
    in_colombia = _venezuelans_in(model, "COL", 10)
    taken, _ = divert(model, in_colombia, np.full(10, _path(model, "COL", "USA")), False)
    assert taken.all()
    in_peru = _venezuelans_in(model, "PER", 10)
    taken, _ = divert(model, in_peru, np.full(10, _path(model, "PER", "USA")), False)
    assert not taken.any()


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_only_the_eligible_without_a_place_wait_and_only_where_waiting_is_allowed(share):
    model = _parole_model(share)
    model.pathway_slots[-1] = 0  # this month's places are gone; the chance was certain
    going_north = _venezuelans_in(model, "COL", 10)
    to_usa = np.full(10, _path(model, "COL", "USA"))
    taken, waiting = divert(model, going_north, to_usa, at_origin=False, may_wait=True)
    assert not taken.any()
    assert waiting.tolist() == [share == 1.0] * 10
    _, waiting = divert(model, going_north, to_usa, at_origin=False, may_wait=False)
    assert not waiting.any()  # on the road, nobody stops to wait
    going_south = _venezuelans_in(model, "COL", 20)[10:]
    _, waiting = divert(model, going_south, np.full(10, _path(model, "COL", "PER")), False, True)
    assert not waiting.any()  # the parole is not where they are going


# ------------------------------------------------------------------ settlement hazards


def test_competing_hazards_that_add_up_past_one_are_scaled_down_together():
    """Integration funding large enough to serve everyone makes a month's hazards add up to
    more than 1 for some groups: they are then scaled to add up to exactly 1, in proportion."""
    rich = {"host": "PER", "funding_musd_per_year": 10**5, "start": "2015-01"}
    model = _model_with(integration=[rich])
    model.utilities = MonthlyUtilities(model)
    raw, _ = raw_hazards(model)
    prob, cumulative, _ = hazard_tables(model)
    np.testing.assert_array_equal(cumulative, np.cumsum(prob, axis=1))
    total = raw.sum(axis=1)
    over = total > 1.0
    assert over.any(), "the test needs a group whose hazards add up past 1"
    np.testing.assert_allclose(prob[over].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(prob[over], raw[over] / total[over, None], rtol=1e-12)
    np.testing.assert_array_equal(prob[~over], raw[~over])


@pytest.mark.parametrize("months", [1, 8])
def test_temporary_workers_go_home_at_one_over_their_visas_length(months):
    visas = {
        "name": "t",
        "kind": "labour",
        "origins": ["HND"],
        "destination": "USA",
        "capacity_per_year": 12_000,
        "duration_months": months,
        "start": "2015-01",
    }
    data = small_baseline(scale=100).model_dump(mode="json", exclude_none=True)
    data["pathways"] = [visas]
    model = MigrationModel(Scenario.model_validate(data))
    model.step()
    model.utilities = MonthlyUtilities(model)
    raw, _ = raw_hazards(model)
    raw = raw.reshape(len(CODES), len(ORIGINS), N_S, N_F, raw.shape[-1])
    usa, hnd = CODES.index("USA"), ORIGINS.index("HND")
    temporary = raw[usa, hnd, REGULARISED, int(TEMPORARY), RETURN]
    assert temporary == pytest.approx(1.0 / months, rel=1e-12)


def test_groups_with_no_open_onward_path_keep_the_base_hazard_when_it_responds():
    model = _model_with(months=20)
    model.params = default_parameters({"onward_gap_sensitivity": 2.0})
    model.utilities = MonthlyUtilities(model)
    status = np.arange(N_S)[None, None, :, None]
    flags = np.arange(N_F)[None, None, None, :]
    hazard = onward_hazard(model, status == REGULARISED, (flags & INTEGRATED) != 0)
    closed = ~np.isfinite(onward_logsum(model.utilities))
    assert closed.any() and (~closed).any()
    # logit then expit of the base hazard: equal up to rounding
    np.testing.assert_allclose(hazard[closed], model.params["onward_consider_hazard"], rtol=1e-12)


# ------------------------------------------------------------------ compiled levers


def test_compiled_integration_capacity_is_what_funding_buys_plus_the_services_given():
    """Per month: served(funding a year) / 12 plus the services, in the lever's months only;
    the money is spent at a twelfth of the yearly budget each month and shows as spending."""
    lever = {
        "host": "PER",
        "funding_musd_per_year": 60.0,
        "services_per_month": 250.0,
        "start": "2016-01",
        "end": "2016-12",
    }
    root = {"origin": "HND", "funding_musd_per_year": 120.0, "start": "2016-07"}
    data = small_baseline().model_dump(mode="json", exclude_none=True)
    data["integration"], data["root_causes"] = [lever], [root]
    scenario = Scenario.model_validate(data)
    model = MigrationModel(scenario)
    sched, peru = model.policy, CODES.index("PER")
    on = (sched.months >= scenario.first_month + 12) & (sched.months <= scenario.first_month + 23)
    served = integration_served_per_year(60.0, model.params) / 12.0 + 250.0
    np.testing.assert_allclose(sched.integration_capacity[on, peru], served, rtol=1e-12)
    assert not sched.integration_capacity[~on, peru].any()
    np.testing.assert_allclose(sched.integration_funding_musd[on, peru], 5.0, rtol=1e-12)
    hnd = ORIGINS.index("HND")
    assert sched.root_cause_musd[:, hnd].sum() == pytest.approx(120.0 / 12 * 18, rel=1e-12)
    spending = Results.from_model(model).spending
    by_lever = spending.groupby("lever", observed=True)["musd"].sum()
    assert by_lever["integration"] == pytest.approx(60.0, rel=1e-12)
    assert by_lever["root_causes"] == pytest.approx(180.0, rel=1e-12)


def test_the_poisson_quantile_is_scipys_to_the_last_bit():
    """Emigration draws cohort sizes with its own copy of ``scipy.stats.poisson.ppf`` (to
    start without importing scipy): it must give the same number for every uniform (32-bit,
    as the model draws them, and 53-bit) and every mean from 1e-12 to a million."""
    from scipy.stats import poisson

    from migflow.model.mechanisms.emigration import poisson_quantile

    rng = np.random.default_rng(0)
    n = 20_000
    mean = np.exp(rng.uniform(np.log(1e-12), np.log(1e6), n))
    for u in ((rng.integers(0, 2**32, n) + 0.5) / 2**32, 1.0 - rng.random(n)):
        np.testing.assert_array_equal(poisson_quantile(u, mean), poisson.ppf(u, mean))


def test_the_month_index_is_mesas_step_counter():
    """``model.t`` is derived from Mesa's ``steps``: the months run so far between steps;
    stepping past the end runs nothing more."""
    model = MigrationModel(small_baseline(end="2015-12"))
    assert model.t == model.steps == 0
    model.step()
    assert model.t == model.steps == 1 and model.recorder.t == 1
    model.run()
    assert model.t == model.n_months == model.recorder.t and not model.running
    before = model.recorder.events.copy()
    model.step()
    np.testing.assert_array_equal(model.recorder.events, before)
