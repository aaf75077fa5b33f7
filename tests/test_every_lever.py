"""Every lever, on every edge, host or origin it can act on: its direction and its timing.

Two runs share the seed and differ only in one lever, so (common random numbers) any
difference between them is the lever's effect. Each test checks a direction that holds
exactly for the cumulative outcome at every year end, and that the lever does act (a test
that a lever could pass by doing nothing would not catch a lever that is ignored). The
three-year window and 1,000 people per agent of ``strategies.small_baseline`` keep a run to
a fraction of a second.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import END, START, scenarios, small_baseline

from migflow.model import model as model_module
from migflow.model.calendar import format_month, parse_month
from migflow.model.geography import (
    DARIEN,
    EDGE_INDEX,
    EDGE_IS_AIR,
    EDGES,
    HOSTS,
    INDEX,
    ORIGIN_INDEX,
    ORIGINS,
)
from migflow.model.model import MigrationModel
from migflow.model.parameters import default_parameters
from migflow.model.population import IRREGULAR
from migflow.model.recorder import KIND_INDEX
from migflow.model.scenario import Scenario

WHOLE_WINDOW = {"start": START, "end": END}
BASE = small_baseline()


def _with(scenario: Scenario, group: str, lever: dict, **window) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data[group] = [*data[group], {**WHOLE_WINDOW, **lever, **window}]
    return Scenario.model_validate(data)


def _run(scenario: Scenario, parameters: dict | None = None):
    params = default_parameters({**scenario.parameters, **(parameters or {})})
    model = MigrationModel(scenario, params)
    model.run()
    return model.recorder


def _by_year_end(monthly: np.ndarray) -> np.ndarray:
    """Cumulative totals at each year end of a monthly series (T, ...) -> (years, ...)."""
    return np.cumsum(monthly, axis=0)[11::12]


def _crossings(rec, edge: str, origin: str | None = None) -> np.ndarray:
    flow = rec.flow[:, EDGE_INDEX[edge]]
    return _by_year_end(flow.sum(axis=1) if origin is None else flow[:, ORIGIN_INDEX[origin]])


def _events(rec, kind: str, country: str | None = None, origin: str | None = None):
    ev = rec.events[:, KIND_INDEX[kind]]  # (T, C, O)
    if country is not None:
        ev = ev[:, [INDEX[country]]]
    if origin is not None:
        ev = ev[:, :, [ORIGIN_INDEX[origin]]]
    return _by_year_end(ev.sum(axis=(1, 2)))


def _without_programmes_in(host: str):
    """BASE without its regularisation programmes in ``host``."""
    others = [r for r in BASE.model_dump(mode="json")["regularisation"] if r["host"] != host]
    return BASE.with_changes(regularisation=others)


# ------------------------------------------------------------------ enforcement, visas

BASE_RUN = _run(BASE)
BUSY_EDGES = [e.name for e in EDGES if BASE_RUN.flow[:, EDGE_INDEX[e.name]].sum() > 0]


def test_the_small_baseline_uses_nearly_every_edge():
    """The per-edge tests below run on the edges the baseline uses: nearly all of them,
    Mexico's southern border and the Darién among them."""
    assert {"GTM-MEX", DARIEN, "MEX-USA", "VEN-COL", "HTI-CHL"} <= set(BUSY_EDGES)
    assert len(BUSY_EDGES) >= len(EDGES) - 2, sorted(set(e.name for e in EDGES) - set(BUSY_EDGES))


@pytest.mark.parametrize("edge", BUSY_EDGES)
def test_interdiction_on_an_edge_never_raises_and_does_lower_its_crossings(edge):
    open_ = _run(_with(BASE, "enforcement", {"edge": edge, "interdiction": 0.0}))
    guarded = _run(_with(BASE, "enforcement", {"edge": edge, "interdiction": 0.6}))
    low, high = _crossings(guarded, edge), _crossings(open_, edge)
    assert (low <= high).all(), (low, high)
    assert low[-1] < high[-1], "interdiction must stop someone on a used edge"


@given(
    scenarios(),
    st.sampled_from([e.name for e in EDGES]),
    st.floats(0, 0.9),
    st.floats(0.01, 0.5),
    st.lists(st.sampled_from(ORIGINS), max_size=3, unique=True),
)
def test_more_interdiction_on_any_edge_never_raises_its_crossings(
    scenario, edge, level, extra, origins
):
    who = {"origins": origins} if origins else {}
    low = _run(_with(scenario, "enforcement", {"edge": edge, "interdiction": level, **who}))
    high_level = min(level + extra, 1.0)
    high = _run(_with(scenario, "enforcement", {"edge": edge, "interdiction": high_level, **who}))
    for origin in origins or ORIGINS:
        assert (_crossings(high, edge, origin) <= _crossings(low, edge, origin)).all(), origin


VISA_START = "2016-01"
# the flights the baseline's migrants of each nationality take from the visa's start on
AIR_ROUTES = [
    (e.name, ORIGINS[o])
    for e in EDGES
    if EDGE_IS_AIR[EDGE_INDEX[e.name]]
    for o in range(len(ORIGINS))
    if BASE_RUN.flow[parse_month(VISA_START) - BASE.first_month :, EDGE_INDEX[e.name], o].sum() > 0
]


def test_some_flights_are_taken_in_the_small_baseline():
    assert len({edge for edge, _ in AIR_ROUTES}) >= 6, AIR_ROUTES


@pytest.mark.parametrize("edge, origin", AIR_ROUTES)
def test_a_visa_stops_that_nationalitys_flights_and_never_raises_them(edge, origin):
    """A visa requirement is interdiction 1 for one nationality on a flight: while it holds
    none of them board, and nobody of that nationality flies more because of it."""
    visa = {"edge": edge, "interdiction": 1.0, "origins": [origin]}
    start = VISA_START
    with_visa = _run(_with(BASE, "enforcement", visa, start=start))
    without = _run(_with(BASE, "enforcement", {**visa, "interdiction": 0.0}, start=start))
    t0 = parse_month(start) - BASE.first_month
    o, e = ORIGIN_INDEX[origin], EDGE_INDEX[edge]
    assert with_visa.flow[t0:, e, o].sum() == 0
    assert without.flow[t0:, e, o].sum() > 0
    assert (_crossings(with_visa, edge, origin) <= _crossings(without, edge, origin)).all()


# ------------------------------------------------------------------ deaths and enforcement


# deterrence off, so that people still attempt the Darién at any interdiction
STILL_CROSSING = {"darien_mortality": 0.004, "beta_risk": 0.0, "beta_enforcement": 0.0}


@given(scenarios(), st.floats(0, 0.8), st.floats(0.05, 0.2))
def test_enforcement_never_lowers_the_expected_deaths_per_darien_attempt(scenario, level, extra):
    """Riskier tracks: the death probability of a Darién crossing rises with interdiction
    there, in every month and for every nationality that attempts it."""
    ratios = []
    for interdiction in (level, level + extra):
        lever = {"edge": DARIEN, "interdiction": interdiction}
        rec = _run(_with(scenario, "enforcement", lever), STILL_CROSSING)
        entered = rec.flow[:, EDGE_INDEX[DARIEN]] + rec.events[:, KIND_INDEX["died"], INDEX["PAN"]]
        expected = rec.events[:, KIND_INDEX["expected_deaths"], INDEX["PAN"]]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(np.where(entered > 0, expected / entered, np.nan))
    both = ~np.isnan(ratios[0]) & ~np.isnan(ratios[1])
    assume(both.any())  # random levers can close every route to the Darién
    assert (ratios[1][both] > ratios[0][both]).all()


# ------------------------------------------------------------------ root causes, push


@pytest.mark.parametrize("origin", ORIGINS)
def test_root_cause_funding_never_raises_emigration_and_lowers_it_after_its_lag(origin):
    lag = 6
    params = {"root_cause_lag_months": lag}
    funded = _run(
        _with(BASE, "root_causes", {"origin": origin, "funding_musd_per_year": 2_000}), params
    )
    plain = _run(_with(BASE, "root_causes", {"origin": origin, "funding_musd_per_year": 0}), params)
    more, less = (
        _events(plain, "emigrated", origin=origin),
        _events(funded, "emigrated", origin=origin),
    )
    assert (less <= more).all(), (less, more)
    assert less[-1] < more[-1]
    # nothing changes before the lag has run
    o = ORIGIN_INDEX[origin]
    np.testing.assert_array_equal(
        funded.events[:lag, KIND_INDEX["emigrated"], :, o],
        plain.events[:lag, KIND_INDEX["emigrated"], :, o],
    )


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_higher_push_never_lowers_and_does_raise_emigration(origin):
    data = BASE.model_dump(mode="json", exclude_none=True)
    data["push"][origin] = {k: v * 1.5 for k, v in data["push"].get(origin, {START: 1.0}).items()}
    pushed = _run(Scenario.model_validate(data))
    more, less = (
        _events(pushed, "emigrated", origin=origin),
        _events(BASE_RUN, "emigrated", origin=origin),
    )
    assert (more >= less).all() and more[-1] > less[-1]


# ------------------------------------------------------------------ hosts: programmes, integration

# no other event competes with a programme application: every eligible irregular migrant
# applies each month, so a programme's demand is known exactly
ONLY_PROGRAMMES = {
    "programme_uptake": 1.0,
    "onward_consider_hazard": 0.0,
    "onward_gap_sensitivity": 0.0,
    "return_hazard": 0.0,
    "ordinary_regularisation_hazard": 0.0,
    "retry_hazard": 0.0,
}


@pytest.mark.parametrize("host", [h for h in HOSTS if h not in ("USA", "CAN")])
@pytest.mark.parametrize("capacity", [2_000.0, 10**7])
def test_a_programme_regularises_the_smaller_of_its_capacity_and_eligible_demand(
    host, capacity, monkeypatch
):
    """Month by month: the people regularised by a programme are its monthly capacity
    (whole agents, a fraction drawn) when more apply, and everyone eligible when fewer do.
    Demand is counted as settlement begins: irregular migrants of the programme's
    nationalities in the host who arrived before its cut-off."""
    origins, start, cutoff = ["VEN", "HTI"], "2016-01", "2016-06"
    lever = {"host": host, "capacity_per_month": capacity, "origins": origins}
    # the only programme in the host: the baseline's own there (Panama's of 2017, say) would
    # pool its capacity and its cut-off with this one
    scenario = _with(
        _without_programmes_in(host), "regularisation", lever, start=start, arrived_before=cutoff
    )
    model = MigrationModel(scenario, default_parameters({**scenario.parameters, **ONLY_PROGRAMMES}))
    h, wanted = INDEX[host], np.isin(np.arange(len(ORIGINS)), [ORIGIN_INDEX[o] for o in origins])
    demand = {}

    def counting_settle(m):
        pop = m.pop
        eligible = (pop.status == IRREGULAR) & (pop.loc == h) & wanted[pop.origin]
        demand[m.t] = int((eligible & (pop.arrived < parse_month(cutoff))).sum())
        real_settle(m)

    real_settle = model_module.settle
    monkeypatch.setattr(model_module, "settle", counting_settle)
    model.run()
    got = model.recorder.events[:, KIND_INDEX["regularised_by_programme"], h].sum(axis=1)
    got = got / model.scale
    first = parse_month(start) - BASE.first_month
    assert not got[:first].any()
    places = capacity / model.scale
    for t in range(first, model.n_months):
        low, high = min(np.floor(places), demand[t]), min(np.ceil(places), demand[t])
        assert low <= got[t] <= high, (format_month(BASE.first_month + t), got[t], demand[t])
    assert got.sum() > 0


@pytest.mark.parametrize(
    "field, low_value, high_value",
    [("funding_musd_per_year", 5, 50), ("services_per_month", 100, 1_000)],
)
@pytest.mark.parametrize("host", [h for h in HOSTS if h != "CAN"])
def test_integration_funding_or_services_never_lower_and_do_raise_integrations(
    host, field, low_value, high_value
):
    low = _run(_with(BASE, "integration", {"host": host, field: low_value}))
    high = _run(_with(BASE, "integration", {"host": host, field: high_value}))
    less, more = _events(low, "integrated", host), _events(high, "integrated", host)
    assert (more >= less).all() and more[-1] > less[-1], (less, more)


def test_faster_us_asylum_processing_regularises_and_removes_more_at_the_us():
    slow = _run(_with(BASE, "asylum", {"processing_months": 48}))
    fast = _run(_with(BASE, "asylum", {"processing_months": 6}))
    for kind in ("regularised", "returned"):
        assert (_events(fast, kind, "USA") > _events(slow, kind, "USA")).all(), kind


# ------------------------------------------------------------------ timing: off-by-one months

LEVERS_STARTING = {
    "enforcement": ({"edge": "GTM-MEX", "interdiction": 0.7}, "interdicted", "MEX"),
    "integration": ({"host": "PER", "funding_musd_per_year": 100}, "integrated", "PER"),
    "regularisation": (
        {"host": "COL", "capacity_per_month": 50_000, "origins": ["VEN"]},
        "regularised_by_programme",
        "COL",
    ),
    "pathways": (
        {
            "name": "t",
            "kind": "resettlement",
            "origins": ["HND", "GTM", "SLV"],
            "destination": "USA",
            "capacity_per_year": 120_000,
        },
        "pathway_resettlement",
        "USA",
    ),
    "asylum": ({"processing_months": 3}, "regularised", "USA"),
}


@pytest.mark.parametrize("group", LEVERS_STARTING)
def test_a_lever_acts_from_its_first_month_to_its_last_and_not_outside(group):
    lever, kind, country = LEVERS_STARTING[group]
    start, end = "2016-03", "2016-10"
    # a programme's events are its own only without the baseline's there (the PEP from 2017-08)
    base = _without_programmes_in(country) if group == "regularisation" else BASE
    rec = _run(_with(base, group, lever, start=start, end=end))
    t0 = parse_month(start) - BASE.first_month
    t1 = parse_month(end) - BASE.first_month
    for name in ("events", "flow", "stocks", "removed_stocks"):
        np.testing.assert_array_equal(
            getattr(rec, name)[:t0], getattr(BASE_RUN, name)[:t0], err_msg=name
        )
    k, c = KIND_INDEX[kind], INDEX[country]
    assert rec.events[t0, k, c].sum() > BASE_RUN.events[t0, k, c].sum(), "acts in its first month"
    assert rec.events[t1, k, c].sum() > BASE_RUN.events[t1, k, c].sum(), "acts in its last month"
    if group in ("pathways", "regularisation"):  # events only the lever makes
        assert rec.events[t1 + 1 :, k, c].sum() == 0, "nothing after its last month"
    assert format_month(BASE.first_month + t0) == start
