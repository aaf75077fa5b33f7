"""The mechanisms the 2022-2023 record identifies, each pinned by its direction.

Nested route choice (substitution between routes to one destination), deterrence by
expulsion, travellers who react to news on the way, route information, and deaths on every
segment. Runs that differ in one thing share their seed, so (common random numbers) a
difference is that thing's effect.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import small_baseline

from migflow.model.calendar import parse_month
from migflow.model.geography import (
    DARIEN,
    EDGE_DST,
    EDGE_INDEX,
    EDGE_SEGMENT,
    EDGES,
    INDEX,
    ORIGIN_INDEX,
    SEGMENTS,
    US_BORDER,
)
from migflow.model.mechanisms.choice import MonthlyUtilities, choose, nest_shock, unit32
from migflow.model.model import MigrationModel
from migflow.model.parameters import SPEC_BY_NAME, default_parameters, mortality_name
from migflow.model.population import TRANSIT
from migflow.model.random_streams import RandomStreams
from migflow.model.recorder import KIND_INDEX
from migflow.model.scenario import Scenario

VEN = ORIGIN_INDEX["VEN"]


def _with_enforcement(scenario: Scenario, **lever) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["enforcement"] = [*data["enforcement"], lever]
    return Scenario.model_validate(data)


def _run(scenario: Scenario, **parameters) -> MigrationModel:
    model = MigrationModel(scenario, default_parameters({**scenario.parameters, **parameters}))
    model.run()
    return model


# ------------------------------------------------------------------ nested logit draws
@pytest.mark.parametrize("lam", [0.25, 0.6, 1.0])
def test_the_nested_shocks_give_nested_logit_shares(lam):
    """Two routes to host A, one to host B: the Gumbel-max with a positive-stable shock per
    nest must reproduce the nested-logit probabilities P(j) = exp(V_j/lam) S_d**(lam-1) /
    sum_k S_k**lam (S_d the sum of exp(V/lam) over nest d), within sampling error."""
    v = np.array([0.3, -0.2, 0.5])  # routes A1, A2, B
    nest = np.array([0, 0, 1])
    n = 200_000
    streams = RandomStreams(12345)
    keys = streams.new_agent_keys(0, 0, n)[:, None]
    salts = streams.salts(0, 2, np.arange(3))
    nest_salts = streams.salts(0, 3, np.arange(4)).reshape(2, 2)  # (uniform, nest)
    noise = streams.gumbel(keys, salts)
    if lam < 1.0:
        noise = lam * noise + nest_shock(keys, *nest_salts[:, nest], lam)
    shares = np.bincount((v + noise).argmax(axis=1), minlength=3) / n
    s = np.array([np.exp(v[nest == d] / lam).sum() for d in (0, 1)])
    expected = np.exp(v / lam) * s[nest] ** (lam - 1) / (s**lam).sum()
    np.testing.assert_allclose(shares, expected, atol=0.004)  # about 4 standard errors


def test_the_nested_shock_vanishes_for_unrelated_routes():
    streams = RandomStreams(7)
    keys = streams.new_agent_keys(0, 0, 1000)
    u, e = streams.salts(0, 3, np.arange(2))
    np.testing.assert_allclose(nest_shock(keys, u, e, 1.0), 0.0, atol=1e-12)


def test_single_precision_uniforms_stay_inside_the_open_interval():
    """The nest shock takes logs of u and of -ln u: a uniform of exactly 0 or 1 would make
    it infinite. The extreme hashes must map strictly inside (0, 1)."""
    u = unit32(np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32))
    assert u.dtype == np.float32
    assert (u > 0).all() and (u < 1).all()
    assert np.isfinite(np.log(-np.log(u))).all()


# ------------------------------------------------------------ substitution, per agent
@settings(max_examples=12, deadline=None)
@given(
    edge=st.sampled_from(["VEN-PER", "VEN-CHL", "VEN-MEX", "COL-MEX", DARIEN, "VEN-COL"]),
    lam=st.sampled_from([0.2, 0.5, 1.0]),
    month=st.integers(12, 30),
)
def test_closing_a_route_never_lowers_the_use_of_the_other_routes_to_its_destination(
    edge, lam, month
):
    """The same migrants choose with and without ``edge`` closed (common random numbers):
    nobody who chose a path that stays open changes their choice, so every other path, and
    in particular every other route to the same destination, is used at least as much."""
    model, before, after = _choices_with_and_without(edge, lam, month)
    closed = model.paths.crosses[np.maximum(before, 0), EDGE_INDEX[edge]] & (before >= 0)
    np.testing.assert_array_equal(after[~closed], before[~closed])
    for path in np.unique(before[~closed & (before >= 0)]):
        assert (after == path).sum() >= (before == path).sum()


def _origin_nodes(origins):
    from migflow.model.geography import ORIGIN_NODE

    return ORIGIN_NODE[origins.astype(np.int64)]


def _choices_with_and_without(edge: str, lam: float, month: int = 24):
    """Paths chosen by the same would-be emigrants at home, before and after ``edge``
    closes, in one model state."""
    scenario = small_baseline(scale=200).with_changes(parameters={"route_nest_lambda": lam})
    model = MigrationModel(scenario)
    for _ in range(month):
        model.step()
    model._in_step = True  # choose as inside the next month's step
    pop = model.pop
    rows = np.flatnonzero(pop.status[: pop.n] != 3)[:4000]
    pop.loc[rows] = _origin_nodes(pop.origin[rows])
    model.utilities = MonthlyUtilities(model)
    before = choose(model, rows, allow_stay=False)
    model.policy.interdiction[model.t, EDGE_INDEX[edge]] = 1.0
    model.utilities = MonthlyUtilities(model)
    return model, before, choose(model, rows, allow_stay=False)


@pytest.mark.parametrize("edge", ["ECU-PER", "VEN-COL"])
def test_a_lower_nest_parameter_keeps_more_displaced_migrants_on_their_destination(edge):
    """Of the migrants whose path closes, more keep their destination by another route
    when routes are nested (0.3) than when they are unrelated (1.0)."""
    kept = {}
    for lam in (0.3, 1.0):
        model, before, after = _choices_with_and_without(edge, lam)
        displaced = model.paths.crosses[np.maximum(before, 0), EDGE_INDEX[edge]] & (before >= 0)
        assert displaced.sum() > 50
        end = model.paths.end
        same = end[after[displaced]] == end[before[displaced]]
        kept[lam] = (same & (after[displaced] >= 0)).mean()
    assert kept[0.3] > kept[1.0]


# ---------------------------------------------------------------------- deterrence
def _expelled(base: Scenario, start: str) -> Scenario:
    return _with_enforcement(
        base, edge=US_BORDER, interdiction=0.62, origins=["VEN"], expulsion=True, start=start
    )


def test_an_expulsion_order_for_venezuelans_lowers_their_darien_crossings():
    # a strong US pull, so that Venezuelans cross the Darién in numbers before 2020 (the
    # calibrated ones hardly do) and an order has something to deter
    base = small_baseline(scale=200, end="2019-12").with_changes(
        parameters={"us_preference.VEN": 5.0}
    )
    # the order against the ordinary turn-backs (0.3 removed), not against the baseline's
    # 0.75 of Venezuelans detained or returned under MPP in 2019, which deters more
    data = base.model_dump(mode="json", exclude_none=True)
    data["enforcement"] = [e for e in data["enforcement"] if e.get("id") != "us_mpp_venezuelans"]
    base = Scenario.model_validate(data)
    expel = _expelled(base, "2019-01")
    t0 = parse_month("2019-01") - base.first_month
    # with that pull, emigrants with the means to go far (resourced_share) choose the US
    # whatever the order: they would measure the pull, not the order
    flows = [
        _run(s, beta_expulsion=3.0, resourced_share=0.0).recorder.flow[:, EDGE_INDEX[DARIEN], VEN]
        for s in (base, expel)
    ]
    np.testing.assert_array_equal(flows[0][:t0], flows[1][:t0])
    assert flows[1][t0:].sum() < 0.8 * flows[0][t0:].sum()


def test_the_expulsion_weight_alone_sets_what_an_expulsion_order_costs_at_the_choice():
    """In one model state, flagging the US border's interdiction of Venezuelans as an
    expulsion changes the cost of exactly the paths through it, for Venezuelans only, by
    beta_expulsion x the interdiction (nothing at all when the weight is 0)."""
    base = small_baseline(scale=500, end="2016-06")
    model = MigrationModel(base)
    for _ in range(8):
        model.step()
    model._in_step = True
    edge, t = EDGE_INDEX[US_BORDER], model.t
    through = model.paths.crosses[:, edge]
    for weight in (0.0, 2.5):
        # a belief that lags a relief would carry last month's deterrent: believed at once
        model.params = default_parameters({"beta_expulsion": weight, "relief_learning_rate": 1.0})
        model.policy.expulsion[t, edge, VEN] = False
        plain = MonthlyUtilities(model).path_cost
        model.policy.expulsion[t, edge, VEN] = True
        expelled = MonthlyUtilities(model).path_cost
        change = expelled - plain
        p = model.policy.interdiction[t, edge, VEN]
        expected = np.zeros_like(change)
        # an expulsion's deterrent replaces the ordinary enforcement term of that border
        expected[:, through, VEN] = (model.params["beta_enforcement"] - weight) * p
        np.testing.assert_allclose(change, expected, atol=1e-12)


def test_moving_on_makes_the_road_cheaper_but_not_a_flight():
    """A settled migrant moving on weighs overland km by onward_distance_factor and a
    flight at its full price: the gap between the two path costs is the discounted part of
    the road, whatever the number of flights on the path."""
    base = small_baseline(scale=500, end="2016-06")
    model = MigrationModel(base, default_parameters({
        "onward_distance_factor": 0.2, "distance_curvature": 1.0, "onward_backtrack_disutility": 0.0
    }))  # fmt: skip
    model.step()
    model._in_step = True
    cost = MonthlyUtilities(model).path_cost
    p, paths = model.params, model.paths
    road = (1 - 0.2) * p["beta_distance"] * paths.land_km / 1000.0
    assert (paths.n_air > 0).any() and ((paths.n_air > 0) & (paths.land_km > 0)).any()
    np.testing.assert_allclose(cost[1] - cost[0], np.broadcast_to(road[:, None], cost[0].shape))


def test_a_step_back_towards_home_costs_a_settled_migrant_and_nobody_else():
    """Moving on from Peru to Ecuador or Colombia takes a Venezuelan back the way they came:
    it costs ``onward_backtrack_disutility`` on top of the road, for migrants moving on only.
    The way north (the Darién, the United States) is never a step back, though the US lies
    nearer Haiti than Chile does."""
    base = small_baseline(scale=500, end="2016-06")
    cost = {}
    for weight in (0.0, 1.5):
        model = MigrationModel(base, default_parameters({"onward_backtrack_disutility": weight}))
        model.step()
        model._in_step = True
        cost[weight] = MonthlyUtilities(model).path_cost
    paths = model.paths
    back = paths.towards_origin
    np.testing.assert_array_equal(cost[0.0][0], cost[1.5][0])  # new emigrants
    np.testing.assert_allclose(cost[0.0][1] - cost[1.5][1], 1.5 * back)

    def step_back(start, end, origin="VEN"):
        ours = (paths.start == INDEX[start]) & (paths.end == INDEX[end])
        return bool(back[ours, ORIGIN_INDEX[origin]].any())

    assert step_back("PER", "ECU") and step_back("ECU", "COL") and step_back("CHL", "PER")
    assert not step_back("COL", "ECU") and not step_back("ECU", "PER")
    assert not step_back("CHL", "USA", "HTI")
    north = paths.crosses[:, EDGE_INDEX[DARIEN]] | (paths.end == INDEX["USA"])
    assert not back[north].any()


def test_a_relief_at_the_us_border_is_believed_slowly_and_a_tightening_at_once():
    """Venezuelans turned back (0.9) until mid-2015, then only the baseline's share, then
    turned back again from 2016: with ``relief_learning_rate`` r the believed deterrent
    closes r of its gap to the real one each month after the relief, it rises to the real
    one in the month of the tightening, and paths across the US border cost the excess."""
    base = _with_enforcement(
        small_baseline(scale=500, end="2016-03"),
        edge="MEX-USA", interdiction=0.9, origins=["VEN"], start="2015-01", end="2015-06",
    )  # fmt: skip
    base = _with_enforcement(base, edge="MEX-USA", interdiction=0.9, origins=["VEN"],
                             start="2016-01")  # fmt: skip
    rate, relief, tightening = 0.25, 6, 12  # 2015-07 and 2016-01
    model = MigrationModel(base, default_parameters({"relief_learning_rate": rate}))
    believed, actual = [], []
    while model.running:
        model.step()
        util = model.utilities
        believed.append(util.us_believed[VEN])
        actual.append(believed[-1] - util._believed_extra[VEN])
        if model.t == relief + 1:
            slow = util.path_cost
    believed, actual = np.array(believed), np.array(actual)
    assert actual[relief] < actual[relief - 1]
    np.testing.assert_allclose(believed[:relief], actual[:relief])
    gap = believed[relief - 1] - actual[relief]
    for k in range(relief, tightening):
        np.testing.assert_allclose(believed[k] - actual[k], gap * (1 - rate) ** (k - relief + 1))
    np.testing.assert_allclose(believed[tightening:], actual[tightening:])
    # the excess is carried by every path across the US border, and no other: the month of
    # the relief, against the same month believed at once (the runs are the same before it)
    model = MigrationModel(base, default_parameters({"relief_learning_rate": 1.0}))
    for _ in range(relief + 1):
        model.step()
    change = model.utilities.path_cost[:, :, VEN] - slow[:, :, VEN]
    us = model.paths.crosses[:, EDGE_INDEX[US_BORDER]]
    excess = believed[relief] - actual[relief]
    np.testing.assert_allclose(change, np.broadcast_to(excess * us, change.shape), atol=1e-12)


def test_emigrants_with_the_means_to_go_far_go_further():
    """With common random numbers, a share of new emigrants whose road weighs as a settled
    migrant's moving on makes the journeys longer: more edges crossed per emigrant, and
    more of them crossing into Peru, Chile and Brazil rather than stopping in Colombia."""
    base = small_baseline(scale=500, end="2017-12")
    runs = {s: _run(base, resourced_share=s) for s in (0.0, 0.5)}
    emigrated = KIND_INDEX["emigrated"]
    per_emigrant = {
        s: m.recorder.flow.sum() / m.recorder.events[:, emigrated].sum() for s, m in runs.items()
    }
    assert per_emigrant[0.5] > per_emigrant[0.0]
    far = [EDGE_INDEX[e] for e in ("ECU-PER", "PER-CHL", "VEN-BRA")]
    ven = {s: m.recorder.flow[:, far, VEN].sum() for s, m in runs.items()}
    assert ven[0.5] > ven[0.0] > 0


# ------------------------------------------------------------------ news on the way
def test_travellers_who_hear_of_an_expulsion_order_stop_before_the_darien():
    """The month an expulsion order starts, it cuts the Venezuelans crossing the Darién far
    more when travellers react to news than when only new deciders do (the Nov-2022 drop):
    with news, those already on the road stop. Each setting against the same run without
    the order (common random numbers), so the comparison is the order's effect, not the
    level of crossings either setting gives."""
    base = small_baseline(scale=200, end="2019-06").with_changes(
        parameters={"us_preference.VEN": 4.0}  # so that Venezuelans cross in numbers
    )
    # the order as a tightening: against the ordinary turn-backs (0.3 removed), not against
    # the baseline's 0.75 of Venezuelans detained or returned under MPP in 2019
    data = base.model_dump(mode="json", exclude_none=True)
    data["enforcement"] = [e for e in data["enforcement"] if e.get("id") != "us_mpp_venezuelans"]
    base = Scenario.model_validate(data)
    expel = _expelled(base, "2019-03")
    t0 = parse_month("2019-03") - base.first_month
    share_left = {}
    for sensitivity in (0.0, 3.0):
        # emigrants with the means to go far choose the US whatever the order
        fixed = dict(transit_news_sensitivity=sensitivity, beta_expulsion=4.0, resourced_share=0.0)
        crossing = [
            _run(s, **fixed).recorder.flow[t0, EDGE_INDEX[DARIEN], VEN] for s in (base, expel)
        ]
        assert crossing[0] > 1000  # something to deter
        share_left[sensitivity] = crossing[1] / crossing[0]
        rerouted = _run(expel, **fixed).recorder.events[:, KIND_INDEX["rerouted"]].sum()
        assert (rerouted > 0) == (sensitivity > 0)
    # measured at the shipped point: 0.24 of the crossings left with news, 0.88 without
    assert share_left[3.0] < 0.5 * share_left[0.0]


def test_travellers_react_only_to_paths_that_got_worse():
    """With nothing changing in policy, the few re-choices come from the slow drift of
    networks and information; a closure of the Darién makes many more."""
    base = small_baseline(scale=500, end="2019-06")
    closed = _with_enforcement(base, edge=DARIEN, interdiction=1.0, start="2019-03")
    t0 = parse_month("2019-03") - base.first_month
    rerouted = [
        _run(s, transit_news_sensitivity=3.0).recorder.events[t0, KIND_INDEX["rerouted"]].sum()
        for s in (base, closed)
    ]
    assert rerouted[1] > 2 * rerouted[0]


def test_nobody_is_in_transit_on_a_closed_path_after_the_news():
    """A path closed this month is an unbounded loss: with sensitivity > 0 every traveller
    on it re-chooses, so nobody is left travelling on it."""
    base = small_baseline(scale=500, end="2019-04")
    closed = _with_enforcement(base, edge=DARIEN, interdiction=1.0, start="2019-03")
    model = MigrationModel(closed, default_parameters({"transit_news_sensitivity": 3.0}))
    t0 = parse_month("2019-03") - base.first_month
    for _ in range(t0):
        model.step()
    model.step()  # 2019-03: the news step runs before anyone moves
    pop = model.pop
    travelling = np.flatnonzero(pop.status[: pop.n] == TRANSIT)
    on_darien = model.paths.crosses[pop.path[travelling].astype(np.int64), EDGE_INDEX[DARIEN]]
    not_crossed = pop.hop[travelling] < _darien_position(model, pop.path[travelling])
    assert not (on_darien & not_crossed).any()


def _darien_position(model, paths):
    edges = model.paths.edges[paths.astype(np.int64)]
    return np.argmax(edges == EDGE_INDEX[DARIEN], axis=1)


# --------------------------------------------------------------- route information
def test_route_information_raises_darien_crossings_and_needs_crossings_to_act():
    base = small_baseline(scale=500, end="2019-12")
    flows = [
        _run(base, beta_route_information=b).recorder.flow[:, EDGE_INDEX[DARIEN]].sum()
        for b in (0.0, 1.0)
    ]
    assert flows[1] > flows[0]
    # nobody has crossed before the first month, so the first month cannot differ
    first = [_run(base, beta_route_information=b).recorder.flow[0].sum() for b in (0.0, 1.0)]
    assert first[0] == first[1]


def test_route_information_cannot_make_a_crossing_cheaper_than_its_distance_and_risk():
    # with no extra cost to take away (at the Darién or the US border), information changes
    # nothing: without the floor at zero, a year's crossings would make the route cheaper
    # and cheaper the next year
    base = small_baseline(scale=500, end="2019-12")
    runs = [
        _run(
            base, darien_disutility=0.0, us_border_disutility=0.0, beta_route_information=b
        ).recorder.flow
        for b in (0.0, 2.0)
    ]
    assert runs[0][:, EDGE_INDEX[DARIEN]].sum() > 0
    np.testing.assert_array_equal(runs[0], runs[1])


def test_an_unknown_us_border_crossing_deters_until_crossings_make_it_known():
    """The cost of crossing into the US for a nationality that has not done it lowers US
    border crossings; route information (own nationality's recent crossings) gives part of
    them back. Same seed for every run (common random numbers)."""
    base = small_baseline(scale=500, end="2017-12")
    us = EDGE_INDEX[US_BORDER]

    def crossings(**parameters):
        return _run(base, **parameters).recorder.flow[:, us].sum()

    known = crossings(us_border_disutility=0.0, beta_route_information=1.0)
    unknown = crossings(us_border_disutility=4.0, beta_route_information=1.0)
    unlearnt = crossings(us_border_disutility=4.0, beta_route_information=0.0)
    assert unlearnt < unknown < known


# ------------------------------------------------------------- deaths on every segment
def test_every_segment_has_a_sourced_mortality_parameter():
    for segment in SEGMENTS:
        spec = SPEC_BY_NAME[mortality_name(segment)]
        assert (spec.default > 0 and "IOM" in spec.doc) or segment == "darien"
    assert set(EDGE_SEGMENT[EDGE_SEGMENT >= 0]) == set(range(len(SEGMENTS)))


def test_enforcement_at_the_us_border_can_raise_deaths_there():
    """Deaths are expected wherever a segment ends; tighter US border enforcement pushes
    people onto riskier crossings (the enforcement factor), so deaths per attempt rise."""
    base = small_baseline(scale=500, end="2016-12")
    tight = _with_enforcement(base, edge=US_BORDER, interdiction=0.6, start="2015-01")
    per_attempt = []
    for scenario in (base, tight):
        rec = _run(scenario).recorder
        deaths = rec.events[:, KIND_INDEX["expected_deaths"], INDEX["USA"]].sum()
        crossings = rec.flow[:, EDGE_INDEX[US_BORDER]].sum()
        per_attempt.append(deaths / crossings)
    assert per_attempt[1] > per_attempt[0] > 0


def test_expected_deaths_are_recorded_where_each_risky_edge_ends():
    rec = _run(small_baseline(scale=500, end="2016-12")).recorder
    deaths = rec.events[:, KIND_INDEX["expected_deaths"]].sum(axis=(0, 2))
    risky_ends = {int(EDGE_DST[i]) for i, e in enumerate(EDGES) if EDGE_SEGMENT[i] >= 0}
    assert set(np.flatnonzero(deaths)) <= risky_ends
    assert deaths[INDEX["USA"]] > 0 and deaths[INDEX["PAN"]] > 0


def test_darien_crossers_from_a_third_country_are_a_subset_of_the_crossers(monkeypatch):
    """Counted as the survey asks, those who had lived six months or more in a third
    country: fewer than all who set out from one, and none if no stay is long enough."""
    from migflow.model.mechanisms import movement

    third, six = {}, movement.THIRD_COUNTRY_MONTHS
    for months in (0, six, 10**4):
        monkeypatch.setattr(movement, "THIRD_COUNTRY_MONTHS", months)
        rec = _run(small_baseline(scale=500, end="2017-12")).recorder
        third[months] = rec.events[:, KIND_INDEX["darien_from_third_country"], INDEX["PAN"]]
        crossed = rec.flow[:, EDGE_INDEX[DARIEN]]
        assert (third[months] <= crossed + 1e-9).all()
    assert 0 < third[six].sum() < third[0].sum()
    assert (third[six] <= third[0]).all() and third[10**4].sum() == 0


def test_people_referred_in_mexico_present_themselves_at_a_us_port():
    """CBP counts CBP One appointments at the ports among its southwest border encounters:
    every US border arrival is someone who reached the border edge's end (crossed,
    interdicted or dead there) or was referred to the US while in Mexico."""
    data = small_baseline(scale=500).model_dump(mode="json", exclude_none=True)
    data["pathways"] = [
        *data["pathways"],
        {"name": "appointments", "kind": "parole", "origins": ["GTM", "HND", "VEN", "CUB"],
         "destination": "USA", "capacity_per_year": 60000, "referral_countries": ["MEX"],
         "start": "2016-01"},
    ]  # fmt: skip
    # direct flights closed: a visa refused on a flight to the US is recorded where it lands
    data["enforcement"] = [
        *data["enforcement"],
        {"edge": "VEN-USA", "interdiction": 1.0, "start": "2015-01"},
    ]
    rec = _run(Scenario.model_validate(data)).recorder
    usa, edge = INDEX["USA"], EDGE_INDEX[US_BORDER]
    at_edge = (
        rec.flow[:, edge].sum()
        + rec.events[:, KIND_INDEX["interdicted"], usa].sum()
        + rec.events[:, KIND_INDEX["died"], usa].sum()
    )
    referred = rec.events[:, KIND_INDEX["pathway_parole"], usa].sum()
    assert referred > 0
    arrivals = rec.events[:, KIND_INDEX["us_border_arrival"], usa].sum()
    assert arrivals == pytest.approx(at_edge + referred)


def test_venezuelans_with_a_us_visa_keep_flying_after_the_direct_flights_stopped():
    """The baseline's air route to the US (a US visa) carries Venezuelans before the US
    suspended direct flights (2019-05-15) and after, through third countries; closing it
    from 2019-06, as a reading of the suspension that forgets the connections would, stops
    them."""
    base = small_baseline(scale=100, end="2020-06")
    suspended = parse_month("2019-06") - base.first_month
    flown = _run(base).recorder.flow[:, EDGE_INDEX["VEN-USA"], VEN]
    assert flown[:suspended].sum() > 0
    assert flown[suspended:].sum() > 0
    closed = _with_enforcement(base, edge="VEN-USA", interdiction=1.0, start="2019-06")
    assert _run(closed).recorder.flow[suspended:, EDGE_INDEX["VEN-USA"], VEN].sum() == 0


# ------------------------------------------------------- appointments at the US ports
def _with_port_appointments(scenario: Scenario, capacity_per_year: float, **span) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["pathways"] = [
        *data.get("pathways", []),
        {
            "id": "test_port_appointments",
            "name": "appointments at the ports",
            "kind": "parole",
            "origins": ["VEN", "HTI"],
            "destination": "USA",
            "capacity_per_year": capacity_per_year,
            "duration_months": 0,
            "referral_countries": ["MEX"],
            **span,
        },
    ]
    return Scenario.model_validate(data)


def test_the_appointment_chance_is_places_over_last_months_arrivals():
    from migflow.model.mechanisms.pathways import appointment_chance

    def before_last_month(scenario):
        model = MigrationModel(scenario, default_parameters(scenario.parameters))
        for _ in range(model.n_months - 1):
            model.step()
        return model  # about to run 2016-12

    base = small_baseline(scale=500, end="2016-12")
    model = before_last_month(_with_port_appointments(base, 240_000, start="2016-12"))
    arrivals = model.recorder.events[model.t - 1, KIND_INDEX["us_border_arrival"]].sum()
    chance = appointment_chance(model)  # 20,000 places in 2016-12
    assert arrivals > 20_000  # so the places do not cover everyone
    assert chance[VEN] == pytest.approx(20_000 / arrivals)
    assert chance[ORIGIN_INDEX["HTI"]] == chance[VEN]
    assert chance[ORIGIN_INDEX["CUB"]] == 0.0  # not eligible
    closed = before_last_month(
        _with_port_appointments(base, 240_000, start="2016-01", end="2016-06")
    )
    assert not appointment_chance(closed).any()  # none open in 2016-12


def test_appointments_at_the_ports_draw_people_up_the_road():
    """Appointments only those who reach Mexico can use make the road to Mexico worth more
    to the nationalities they serve: more of them set out through the Darién (common
    random numbers; the two runs differ only in the appointments)."""
    base = small_baseline(scale=500, end="2017-12")
    expelled = _with_enforcement(
        base, edge=US_BORDER, interdiction=0.6, expulsion=True, origins=["VEN", "HTI"],
        start="2016-01",
    )  # fmt: skip
    with_slots = _with_port_appointments(expelled, 300_000, start="2016-01")
    darien = EDGE_INDEX[DARIEN]
    without = _run(expelled).recorder.flow[:, darien, ORIGIN_INDEX["HTI"]].sum()
    more = _run(with_slots).recorder.flow[:, darien, ORIGIN_INDEX["HTI"]].sum()
    assert more > without


def test_a_route_stays_known_for_a_year_after_its_busiest_month():
    """Route information counts the busiest of the last twelve months: a closure does not
    erase what a nationality knows of a route until a year has passed, and a surge is
    known the month after it."""
    from types import SimpleNamespace

    from migflow.model.mechanisms.choice import INFORMATION_MONTHS, route_information

    flow = np.zeros((40, len(EDGES), len(ORIGIN_INDEX)))
    flow[10, EDGE_INDEX[DARIEN], VEN] = 40_000  # one busy month, then nobody
    model = SimpleNamespace(
        recorder=SimpleNamespace(flow=flow),
        params={"beta_route_information": 1.0, "route_information_steepness": 1.0},
    )

    def known(t):
        model.t = t
        return route_information(model, DARIEN)[VEN]

    assert known(10) == 0.0  # not yet happened
    assert known(11) == pytest.approx(np.log1p(40.0))  # known at once
    assert known(10 + INFORMATION_MONTHS) == known(11)  # still known a year on
    assert known(11 + INFORMATION_MONTHS) == 0.0  # then forgotten
    assert INFORMATION_MONTHS == 12


def test_a_steeper_route_information_teaches_less_from_a_trickle_and_more_from_a_crowd():
    """Above a steepness of 1 the information has a tipping point at 1,000 crossings a
    month: below it a nationality learns less from its crossers than at steepness 1, above
    it more, and at it the same; at steepness 1 it is the plain ln(1 + crossings / 1000)."""
    from types import SimpleNamespace

    from migflow.model.mechanisms.choice import route_information

    flow = np.zeros((2, len(EDGES), len(ORIGIN_INDEX)))
    flow[0, EDGE_INDEX[DARIEN], :3] = [300.0, 1000.0, 30_000.0]  # trickle, tipping point, crowd

    def known(steepness):
        params = {"beta_route_information": 1.0, "route_information_steepness": steepness}
        model = SimpleNamespace(t=1, recorder=SimpleNamespace(flow=flow), params=params)
        return route_information(model, DARIEN)[:3]

    plain, steep = known(1.0), known(2.0)
    assert plain == pytest.approx(np.log1p([0.3, 1.0, 30.0]))
    assert steep[0] < plain[0] and steep[1] == pytest.approx(plain[1]) and steep[2] > plain[2]


# ------------------------------------------------------------------ what distance costs
@settings(max_examples=60, deadline=None)
@given(
    curvature=st.floats(0.0, 1.0),
    km=st.lists(st.floats(0.0, 20_000.0), min_size=3, max_size=12),
    road=st.sampled_from([1.0, 0.3]),
)
def test_a_journey_costs_more_the_longer_it_is_and_less_than_in_proportion(curvature, km, road):
    """The cost of a journey rises with its length at every curvature, never above the
    cost in proportion to the distance, each further km costing no more than the one
    before (concave); at curvature 1 it is that proportional cost, at 0 the log of
    distance. Flights count as ``air_km_equivalent`` km each."""
    from migflow.model.mechanisms.choice import journey_cost

    land = np.sort(np.array(km))
    flights = np.zeros(len(land), dtype=np.int16)
    p = default_parameters({"distance_curvature": curvature, "beta_distance": 0.8})
    cost = journey_cost(p, land, flights, road)
    in_proportion = {"beta_distance": 0.8, "distance_curvature": 1.0}
    linear = journey_cost(default_parameters(in_proportion), land, flights, road)
    np.testing.assert_allclose(linear, 0.8 * road * land / 1000.0)
    assert (np.diff(cost) >= -1e-12).all()
    assert (cost <= linear + 1e-9).all()
    grid = np.linspace(0.0, 20_000.0, 9)
    steps = np.diff(journey_cost(p, grid, np.zeros(9, dtype=np.int16), road))
    assert (np.diff(steps) <= 1e-9).all()
    if curvature == 0.0:
        np.testing.assert_allclose(cost, 0.8 * np.log1p(road * land / 1000.0))
    one_flight = journey_cost(p, np.zeros(1), np.ones(1, dtype=np.int16))
    as_road = journey_cost(p, np.array([p["air_km_equivalent"]]), np.zeros(1, dtype=np.int16))
    np.testing.assert_allclose(one_flight, as_road)


@pytest.mark.parametrize("curvature", [0.0, 0.5])
def test_a_flatter_distance_cost_never_shortens_anyone_s_journey(curvature):
    """The same would-be emigrants at home choose with the cost in proportion to distance
    and with a concave one (common random numbers). A concave cost takes less off a short
    journey than off a long one, so no one's chosen journey gets shorter (in km, flights
    at their equivalent), and some get longer: the far destinations gain, the near lose."""
    scenario = small_baseline(scale=200)
    model = MigrationModel(scenario)
    for _ in range(24):
        model.step()
    model._in_step = True
    pop = model.pop
    rows = np.flatnonzero(pop.status[: pop.n] != 3)[:4000]
    pop.loc[rows] = _origin_nodes(pop.origin[rows])
    model.utilities = MonthlyUtilities(model)
    before = choose(model, rows, allow_stay=False)
    model.params = default_parameters({**model.params, "distance_curvature": curvature})
    model.utilities = MonthlyUtilities(model)
    after = choose(model, rows, allow_stay=False)
    paths = model.paths
    km = paths.land_km + model.params["air_km_equivalent"] * paths.n_air
    moved = (before >= 0) & (after >= 0)
    assert moved.sum() > 1000
    longer = km[after[moved]] - km[before[moved]]
    assert (longer >= 0).all()
    assert (longer > 0).sum() > 20
