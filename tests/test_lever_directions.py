"""Lever directions, with common random numbers.

Two runs share the seed and differ only in one lever; because every migrant draws from their
own random stream, any difference is the lever's effect, not noise, so the checks are exact
(no tolerance): the cumulative outcome of the stronger lever is never higher, at any year end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import END, START, scenarios, small_baseline

from migflow.model.errors import InputError
from migflow.model.geography import CODES, DARIEN, NORTHERN_CENTRAL_AMERICA, ORIGINS
from migflow.model.mechanisms.choice import MonthlyUtilities, stay_value
from migflow.model.mechanisms.settlement import (
    N_F,
    N_S,
    RECONSIDER,
    RETURN,
    SEEK_PATHWAY,
    raw_hazards,
)
from migflow.model.model import MigrationModel
from migflow.model.population import INTEGRATED, IRREGULAR
from migflow.model.run import run_scenario
from migflow.model.scenario import Scenario, dumps_scenario, loads_scenario

WHOLE_WINDOW = {"start": START, "end": END}


def _add(scenario: Scenario, group: str, lever: dict) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data[group] = [*data[group], {**lever, **WHOLE_WINDOW}]
    return Scenario.model_validate(data)


def _cumulative_by_year(series_by_month) -> np.ndarray:
    years = pd.DatetimeIndex(series_by_month.index).year
    return np.cumsum(series_by_month.groupby(years).sum().to_numpy())


def _darien_by_year(results) -> np.ndarray:
    flows = results.flows[results.flows["edge"] == DARIEN]
    return _cumulative_by_year(flows.groupby("month", observed=False)["people"].sum())


def _events_by_year(results, kind, country=None, origins=None) -> np.ndarray:
    ev = results.events[results.events["kind"] == kind]
    if country is not None:
        ev = ev[ev["country"] == country]
    if origins is not None:
        ev = ev[ev["origin"].isin(origins)]
    return _cumulative_by_year(ev.groupby("month", observed=False)["people"].sum())


@given(scenarios(), st.floats(0, 0.9), st.floats(0.01, 0.5))
def test_more_enforcement_on_the_darien_never_raises_darien_crossings(scenario, level, extra):
    low = run_scenario(_add(scenario, "enforcement", {"edge": DARIEN, "interdiction": level}))
    high_level = min(level + extra, 1.0)
    high = run_scenario(_add(scenario, "enforcement", {"edge": DARIEN, "interdiction": high_level}))
    assert (_darien_by_year(high) <= _darien_by_year(low)).all()


NO_NETWORK = {"beta_network": 0.0, "emigration_network_elasticity": 0.0}


#: where a pathway may take applicants besides their homes: the South American hosts, as
#: the parole processes of 2022-2023 did (never Mexico: see the docstring below)
SOUTH_AMERICA = ["COL", "ECU", "PER", "CHL", "BRA", "ARG"]


def _pathway(origins, capacity, where_they_live=False):
    return {
        "name": "tested pathway",
        "kind": "labour",
        "origins": origins,
        "destination": "USA",
        "capacity_per_year": capacity,
        "referral_countries": [*origins, *SOUTH_AMERICA] if where_they_live else [],
    }


def _irregular_us_arrivals(scenario, origins, capacity, where_they_live=False):
    lever = _pathway(origins, capacity, where_they_live)
    results = run_scenario(_add(scenario, "pathways", lever))
    return _events_by_year(results, "us_border_arrival", origins=origins)


origin_sets = st.lists(st.sampled_from(ORIGINS), min_size=1, max_size=3, unique=True)


@given(
    scenarios(),
    origin_sets,
    st.floats(0, 50_000),
    st.floats(1, 100_000),
    st.floats(0, 1),
    st.booleans(),
)
def test_more_legal_pathway_capacity_never_raises_irregular_us_arrivals_without_network_feedback(
    scenario, origins, capacity, extra, wait_share, where_they_live
):
    """Exact for any increment once diaspora networks are switched off: a pathway only ever
    substitutes a legal journey for an irregular one (common random numbers).

    With networks on, this is not a property of the model but a question of sizes: every
    legal arrival joins the diaspora, which pulls others to the US and (through
    ``emigration_network_elasticity``) makes more people leave, some of them irregularly.
    A former test claimed substitution dominates from one agent a month; a random example
    refuted it on 2026-11-24 (extra-continental migrants, 1,000 people per agent: 12,000 visas
    a year raised irregular arrivals in the third year from 5,000 to 6,000, while with
    networks off they fell from 6,000 to 4,000). The lever is checked at a policy size in
    ``test_the_levers_tested_above_do_act_on_their_outcomes``. Nor does it hold by design
    while appointments at the US ports are open (a pathway referring in Mexico, CBP One):
    fewer arrivals at the border make an appointment likelier, which draws people up the
    road (ODD 7.4); the generated scenarios end before the baseline's appointments and
    refer in no port. It holds whatever share of those left without a place wait for one,
    and whether the pathway takes people at home only or where they live abroad too."""
    parameters = {**scenario.parameters, **NO_NETWORK, "pathway_wait_share": wait_share}
    scenario = scenario.with_changes(parameters=parameters)
    low = _irregular_us_arrivals(scenario, origins, capacity, where_they_live)
    high = _irregular_us_arrivals(scenario, origins, capacity + extra, where_they_live)
    assert (high <= low).all()


@given(
    scenarios(),
    st.lists(st.sampled_from(NORTHERN_CENTRAL_AMERICA), min_size=1, unique=True),
    st.floats(10_000, 200_000),
)
def test_closing_the_us_border_never_changes_who_a_pathway_takes_at_home(
    scenario, origins, capacity
):
    """A legal pathway takes those who want to reach its destination, whether the irregular
    road there is open or not: with the US southwest border closed to every nationality,
    each month's pathway arrivals are exactly those with it open (common random numbers),
    where they would fall to nothing if only those who chose the closed road could apply.

    Exact once nothing the closure changes feeds back into the next months' choices:
    diaspora networks, route information and appointments at the ports (none here). Drawn
    pathways that refer in a host or transit country are dropped: they take those who are
    there, and the closure changes who is."""
    off = {**NO_NETWORK, "beta_route_information": 0.0}
    scenario = scenario.with_changes(parameters={**scenario.parameters, **off})
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["pathways"] = [pw for pw in data["pathways"] if not pw.get("referral_countries")]
    scenario = Scenario.model_validate(data)
    with_pathway = _add(scenario, "pathways", _pathway(origins, capacity))
    closed = _add(with_pathway, "enforcement", {"edge": "MEX-USA", "interdiction": 1.0})
    arrivals = [
        _events_by_year(run_scenario(s), "pathway_labour", origins=origins)
        for s in (with_pathway, closed)
    ]
    assert arrivals[0][-1] > 0
    np.testing.assert_array_equal(arrivals[1], arrivals[0])


def _office_in_colombia(scenario: Scenario) -> Scenario:
    """The baseline with Venezuelans who want the United States (its pull as for Haitians
    in the fit) and a Safe Mobility Office for them in Colombia from 2016."""
    wanting = {**scenario.parameters, "us_preference.VEN": 6.0}
    office = {
        "name": "tested office",
        "kind": "safe_mobility",
        "origins": ["VEN"],
        "destination": "USA",
        "capacity_per_year": 60_000,
        "referral_countries": ["COL"],
        "start": "2016-01",
    }
    return _add(scenario.with_changes(parameters=wanting), "pathways", office)


def test_a_pathway_in_a_host_still_takes_those_who_want_its_destination_when_its_road_closes():
    """A pathway referring in Colombia (as the Safe Mobility Offices do) takes Venezuelans
    settled there who want to reach the United States, whether the road is open or not:
    with the US southwest border closed, no road from Colombia to the United States is open,
    so a rule that took only those who chose the road would take nobody."""
    with_office = _office_in_colombia(small_baseline(scale=500))
    closed = _add(with_office, "enforcement", {"edge": "MEX-USA", "interdiction": 1.0})
    taken = [
        _events_by_year(run_scenario(s), "pathway_safe_mobility", origins=["VEN"])[-1]
        for s in (with_office, closed)
    ]
    assert taken[0] > 0 and taken[1] > 0


@pytest.mark.parametrize("news", [0.0, 1.0])
def test_a_closed_road_does_not_change_how_often_settled_migrants_seek_a_pathway_there(news):
    """Exact on the month's hazards (the same state, the road closed or not): a closed road
    lowers how often Venezuelans in Colombia reconsider where to live, and those it holds
    back seek a place at the office instead, so reconsidering and seeking together are as
    likely as with the road open, with the news term off and on (a closure is news about the
    open roads, not about an office: settlement.seeking_hazard). Where no office takes them
    (Peru), a closed road holds them back with nothing in its place."""
    base = small_baseline(scale=500)
    quiet = {**base.parameters, "onward_news_sensitivity": news, "onward_gap_sensitivity": 1.0}
    with_office = _office_in_colombia(base.with_changes(parameters=quiet))
    data = with_office.model_dump(mode="json", exclude_none=True)
    closure = {"edge": "MEX-USA", "interdiction": 1.0, "start": "2017-01", "end": END}
    data["enforcement"] = [*data["enforcement"], closure]
    closed = Scenario.model_validate(data)
    tables = []
    for scenario in (with_office, closed):
        model = MigrationModel(scenario)
        while model.month < model.first_month + 24:  # up to 2017-01, the same in both
            model.step()
        model.utilities = MonthlyUtilities(model)
        prob, _ = raw_hazards(model)
        tables.append(prob.reshape(len(CODES), len(ORIGINS), N_S, N_F, prob.shape[-1]))
    (open_, shut), ven = tables, ORIGINS.index("VEN")
    col, per = CODES.index("COL"), CODES.index("PER")
    plain = (col, ven, IRREGULAR, 0)
    assert shut[plain][RECONSIDER] < open_[plain][RECONSIDER] - 1e-6, "the closure must bite"
    both = [t[..., RECONSIDER] + t[..., SEEK_PATHWAY] for t in tables]
    np.testing.assert_allclose(both[1][col, ven], both[0][col, ven], rtol=1e-12)
    assert shut[per, ven, IRREGULAR, 0, RECONSIDER] < open_[per, ven, IRREGULAR, 0, RECONSIDER]
    assert not shut[per, ..., SEEK_PATHWAY].any()


@given(scenarios(), st.floats(0.0, 3.0), st.integers(1, 36))
def test_integration_never_raises_anyones_monthly_chance_of_leaving_a_host(
    scenario, sensitivity, months
):
    """For every group in every host, at any month: an integrated migrant has no higher
    hazard than the same migrant without services of reconsidering where to live or of going
    home, and values staying at least as much.

    This is where the direction holds exactly: on the hazards before the month's events
    compete (where they add up to more than 1 they are scaled down together, and a migrant
    who may be integrated this month is then a little less likely to do anything else).
    Between two runs it holds only on average: the month's competing events share one
    uniform draw per migrant, so more integration reshuffles a few individual events. The
    run-level form of this test found it: one agent more moving on from Ecuador in the
    third year with more funding (at scale 1000, fit of 2026-11-24), and in Brazil one agent
    more going home while 11 more were integrated. The test below checks that a large lever
    moves onward movement the right way."""
    scenario = scenario.with_changes(
        parameters={**scenario.parameters, "onward_gap_sensitivity": sensitivity}
    )
    model = MigrationModel(scenario)
    for _ in range(min(months, model.n_months - 1)):  # the utilities of a month to come
        model.step()
    model.utilities = MonthlyUtilities(model)
    prob, _ = raw_hazards(model)
    prob = prob.reshape(-1, len(ORIGINS), N_S, N_F, prob.shape[-1])
    plain, integrated = prob[..., 0, :], prob[..., int(INTEGRATED), :]
    for event in (RECONSIDER, RETURN):
        bad = integrated[..., event] > plain[..., event] + 1e-12
        assert not bad.any(), (event, np.argwhere(bad)[:3], plain[bad][:3], integrated[bad][:3])
    host = model.utilities.host
    assert (
        stay_value(model.utilities, host, False, True)
        >= stay_value(model.utilities, host, False, False)
    ).all()


def test_the_levers_tested_above_do_act_on_their_outcomes():
    """Guard against vacuous passes: each lever changes its outcome in the baseline."""
    from strategies import small_baseline

    base = small_baseline(scale=100)
    darien_low = _darien_by_year(
        run_scenario(_add(base, "enforcement", {"edge": DARIEN, "interdiction": 0.0}))
    )
    darien_high = _darien_by_year(
        run_scenario(_add(base, "enforcement", {"edge": DARIEN, "interdiction": 0.5}))
    )
    assert darien_high[-1] < 0.8 * darien_low[-1]

    nca = list(NORTHERN_CENTRAL_AMERICA)
    visas = {"name": "t", "kind": "labour", "origins": nca, "destination": "USA"}
    us_low = _events_by_year(
        run_scenario(_add(base, "pathways", {**visas, "capacity_per_year": 0})),
        "us_border_arrival",
        origins=nca,
    )
    us_high = _events_by_year(
        run_scenario(_add(base, "pathways", {**visas, "capacity_per_year": 100_000})),
        "us_border_arrival",
        origins=nca,
    )
    assert us_high[-1] < us_low[-1]

    onward_low = _events_by_year(run_scenario(base), "departed_onward", country="PER")
    funded = run_scenario(_add(base, "integration", {"host": "PER", "funding_musd_per_year": 500}))
    assert _events_by_year(funded, "departed_onward", country="PER")[-1] < onward_low[-1]


def test_a_pathways_arrival_cut_off_takes_only_those_there_before_it():
    """Safe Mobility Offices took only migrants who had reached the host before a date: a
    cut-off never adds applicants (common random numbers), one at the start of the window
    takes nobody settled there, and it never applies to people at home."""
    scenario = small_baseline(scale=500)
    scenario = scenario.with_changes(
        parameters={**scenario.parameters, "us_preference.VEN": 6.0}  # they want to go
    )
    office = {
        "name": "tested office", "kind": "safe_mobility", "origins": ["VEN"],
        "destination": "USA", "capacity_per_year": 60_000, "referral_countries": ["COL"],
        "start": "2016-01",
    }  # fmt: skip

    def taken(**cut) -> float:
        with_office = scenario.with_changes(pathways=[*scenario.pathways, {**office, **cut}])
        return _events_by_year(run_scenario(with_office), "pathway_safe_mobility", origins=["VEN"])[
            -1
        ]

    none, mid, first = taken(), taken(arrived_before="2016-01"), taken(arrived_before="2015-01")
    assert none > mid > 0
    assert first == 0
    at_home = {"referral_countries": ["VEN"], "arrived_before": "2015-01"}
    assert taken(**at_home) > 0


def test_an_arrival_cut_off_needs_a_country_to_arrive_in():
    text = dumps_scenario(small_baseline()) + (
        '\n[[pathways]]\nname = "visas"\nkind = "labour"\norigins = ["GTM"]\n'
        'destination = "USA"\ncapacity_per_year = 1000\nstart = "2015-01"\n'
        'arrived_before = "2015-06"\n'
    )
    with pytest.raises(InputError, match=r"x\.toml: .*arrived_before.*referral_countries"):
        loads_scenario(text, source="x.toml")
