"""Mechanism-level checks: the Mesa frame, random streams, capacities, mortality, closures."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from scipy import stats
from strategies import small_baseline

from migflow.model.agents import Country
from migflow.model.calendar import format_month, parse_month
from migflow.model.geography import CODES, DARIEN, EDGE_INDEX, NORTHERN_CENTRAL_AMERICA, ORIGINS
from migflow.model.model import MigrationModel
from migflow.model.parameters import Parameters
from migflow.model.policy import integration_served_per_year
from migflow.model.random_streams import RandomStreams
from migflow.model.run import run_scenario
from migflow.model.scenario import Scenario, load_scenario


def _with(scenario: Scenario, **groups) -> Scenario:
    data = scenario.model_dump(mode="json", exclude_none=True)
    for group, levers in groups.items():
        data[group] = [*data[group], *levers]
    return Scenario.model_validate(data)


def _only(scenario: Scenario, **groups) -> Scenario:
    """``scenario`` with these levers in place of its own of the same kinds."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    return Scenario.model_validate({**data, **groups})


def test_the_model_is_a_mesa_model_with_one_country_agent_per_country():
    model = MigrationModel(small_baseline())
    assert isinstance(model, mesa.Model)
    countries = model.agents_by_type[Country]
    assert sorted(c.code for c in countries) == sorted(CODES)
    for _ in range(12):
        model.step()
    assert model.steps == 12 and model.t == 12
    assert model.countries["COL"].migrants_by_origin["VEN"] > 0


def test_a_finished_model_is_freed():
    """Nothing global keeps a model alive (Mesa's class-level agent id counters did: 5.6 MB
    a run, until Dask killed the calibration's workers)."""
    import gc
    import weakref

    model = MigrationModel(small_baseline())
    model.step()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_country_agents_report_their_levers_this_month():
    scenario = _with(
        small_baseline(),
        integration=[{"host": "PER", "funding_musd_per_year": 120, "start": "2015-01"}],
        enforcement=[{"edge": DARIEN, "interdiction": 0.4, "start": "2015-01"}],
    )
    model = MigrationModel(scenario)
    peru, panama = model.countries["PER"].policy, model.countries["PAN"].policy
    assert peru["integration_funding_musd_per_year"] == 120
    assert panama["interdiction_COL-PAN"] == 0.4


def test_stream_uniforms_are_uniform_and_purposes_independent():
    streams = RandomStreams(12345)
    keys = streams.new_agent_keys(month=0, cohort=0, count=200_000)
    a = streams.uniform(keys, 3, purpose=1)
    b = streams.uniform(keys, 3, purpose=2)
    c = streams.uniform(keys, 4, purpose=1)
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01 and abs(np.corrcoef(a, c)[0, 1]) < 0.01
    assert len(np.unique(keys)) == len(keys)
    gumbel = streams.gumbel(keys[:50_000, None], streams.salts(0, 2, np.arange(3)))
    assert abs(gumbel.mean() - np.euler_gamma) < 0.02


def test_darien_deaths_match_the_mortality_parameter_within_binomial_noise():
    scenario = small_baseline(scale=10).with_changes(
        # the Darién alone: no deaths on the later segments
        parameters={
            "darien_mortality": 0.004,
            "mortality_central_america_mexico": 0.0,
            "mortality_us_border": 0.0,
        }
    )
    results = run_scenario(scenario)
    crossed = results.darien_crossings() / 10
    died = results.total("died") / 10
    attempts = crossed + died
    expected = 0.004 * attempts
    assert abs(died - expected) <= 5 * np.sqrt(expected) + 1
    # the reported expectation is exactly the probability times the attempts, in people
    assert results.total("expected_deaths") == pytest.approx(expected * 10, rel=1e-9)
    summary = results.summary
    assert summary["expected_deaths"].sum() == pytest.approx(expected * 10, rel=1e-9)


def test_a_closed_darien_has_no_crossings_while_closed():
    closed = _with(
        small_baseline(), enforcement=[{"edge": DARIEN, "interdiction": 1.0, "start": "2016-01"}]
    )
    flows = run_scenario(closed).flows
    darien = flows[(flows["edge"] == DARIEN) & (flows["month"].astype(str) >= "2016-02")]
    assert darien["people"].sum() == 0


def test_a_pathway_fills_exactly_its_capacity_when_demand_exceeds_it():
    scenario = small_baseline(scale=100)
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["pathways"] = [
        {
            "name": "visas",
            "kind": "labour",
            "origins": list(NORTHERN_CENTRAL_AMERICA),
            "destination": "USA",
            "capacity_per_year": 12_000,
            "start": "2015-01",
        }
    ]
    results = run_scenario(Scenario.model_validate(data))
    per_year = results.summary["legal_pathway_arrivals"]
    assert (per_year == 12_000).all(), per_year.tolist()


def test_programme_regularisations_never_exceed_capacity_or_take_late_arrivals():
    capacity = 3_000
    scenario = _only(
        small_baseline(scale=100),
        regularisation=[
            {
                "host": "COL",
                "capacity_per_month": capacity,
                "origins": ["VEN"],
                "arrived_before": "2016-01",
                "start": "2016-06",
            }
        ],
    )
    model = MigrationModel(scenario)
    model.run()
    from migflow.model.recorder import KIND_INDEX

    by_month = model.recorder.events[:, KIND_INDEX["regularised_by_programme"], CODES.index("COL")]
    assert by_month.sum() > 0
    assert (by_month.sum(axis=1) <= capacity + 100).all()
    assert by_month[:17].sum() == 0  # closed before 2016-06
    assert by_month[:, 1:].sum() == 0  # only Venezuelans are eligible


def test_an_exchanging_programme_counts_earlier_holders_in_its_places_and_moves_nobody():
    """Colombia's ETPV took in the holders of the earlier PEP: an exchange is counted among
    the programme's grants and takes its places, but changes nobody's status or place
    (common random numbers: the stocks are the same with and without it)."""
    from migflow.model.recorder import KIND_INDEX

    def run(exchanges: bool):
        earlier = {
            "host": "COL",
            "capacity_per_month": 3_000,
            "origins": ["VEN"],
            "arrived_before": "2016-01",
            "start": "2016-01",
            "end": "2016-06",
        }
        later = {"host": "COL", "capacity_per_month": 40_000, "origins": ["VEN"],
                 "arrived_before": "2017-01", "start": "2017-01", "end": "2017-12",
                 "exchanges_permits": exchanges}  # fmt: skip
        model = MigrationModel(_only(small_baseline(scale=100), regularisation=[earlier, later]))
        model.run()
        counted = model.recorder.events[:, KIND_INDEX["regularised_by_programme"]]
        return model.recorder.stocks, counted[:, CODES.index("COL")].sum(axis=1)

    stocks_without, counted_without = run(False)
    stocks_with, counted_with = run(True)
    np.testing.assert_array_equal(stocks_with, stocks_without)
    in_2017 = slice(24, 36)
    assert counted_with[in_2017].sum() > counted_without[in_2017].sum()
    assert (counted_with <= 40_000 + 100).all()
    np.testing.assert_array_equal(counted_with[:24], counted_without[:24])


def test_the_haiti_tps_of_the_baseline_pulls_newcomers_only_until_its_cutoff():
    """The 2021 US TPS designation for Haiti (announced 2021-05-22, cut-off 2021-07-29) can
    draw Haitians only in 2021-06 and 2021-07, and nobody else."""
    model = MigrationModel(load_scenario("baseline").clipped(end="2022-12"))
    pull = model.policy.programme_open
    months = [model.first_month + t for t in np.flatnonzero(pull.any(axis=(1, 2)))]
    assert [format_month(m) for m in months] == ["2021-06", "2021-07"]
    assert np.argwhere(pull.any(axis=0)).tolist() == [[ORIGINS.index("HTI"), CODES.index("USA")]]


def test_a_us_programme_open_to_haitians_sends_more_of_them_through_the_darien_after_it():
    """Common random numbers: with and without the programme the runs are identical up to
    its first month; with it, more Haitians cross the Darién in the four months after its
    pull (the mechanism of the 2021 Haitian surge). With beta_regularisation 0 the two runs
    are equal throughout, so this fails if the pull does not act. Travellers do not react to
    news here (transit_news_sensitivity 0): when the pull ends at the cut-off, news would
    turn back those still on the way, which is another mechanism (test_route_mechanisms)."""
    baseline = load_scenario("baseline").clipped(end="2021-12").with_changes(scale=100)
    pulled = baseline.with_changes(
        parameters={
            "beta_regularisation": 3.0,
            "onward_gap_sensitivity": 0.15,
            "transit_news_sensitivity": 0.0,
        }
    )
    data = pulled.model_dump(mode="json", exclude_none=True)
    data["regularisation"] = [r for r in data["regularisation"] if r["id"] != "us_tps_haiti_2021"]
    without = Scenario.model_validate(data)
    haitians = ORIGINS.index("HTI")
    crossings = []
    for scenario in (pulled, without):
        model = MigrationModel(scenario)
        model.run()
        crossings.append(model.recorder.flow[:, EDGE_INDEX[DARIEN], haitians])
    june = parse_month("2021-06") - baseline.first_month
    np.testing.assert_array_equal(crossings[0][:june], crossings[1][:june])
    after = slice(june + 1, june + 5)  # 2021-07..10
    assert crossings[0][after].sum() > 1.5 * crossings[1][after].sum()


def test_integration_funding_buys_services_with_diminishing_returns():
    params = Parameters()
    one = integration_served_per_year(60, params)
    two = integration_served_per_year(120, params)
    assert 60e6 / params["integration_cost_usd"] > one  # dearer than the first dollar
    assert one < two < 2 * one  # more money, more people, each $M reaching fewer
    scenario = _with(
        small_baseline(scale=100),
        integration=[{"host": "PER", "funding_musd_per_year": 60, "start": "2015-01"}],
    )
    results = run_scenario(scenario)
    served = results.events[results.events["kind"] == "integrated"]["people"].sum()
    # demand (Venezuelans in Peru) far exceeds the places bought: they are all used
    assert abs(served - 3 * one) <= 5 * np.sqrt(3 * one * 100) + 100


def _pathway_scenario(**pathway) -> Scenario:
    base = {"name": "p", "kind": "labour", "capacity_per_year": 24_000, "start": "2015-01"}
    return _with(small_baseline(scale=100), pathways=[{**base, **pathway}])


def test_a_pathway_to_canada_serves_would_be_us_migrants():
    scenario = _pathway_scenario(origins=["GTM", "HND"], destination="CAN")
    results = run_scenario(scenario)
    ev = results.events
    to_canada = ev[(ev["kind"] == "pathway_labour") & (ev["country"] == "CAN")]
    assert to_canada["people"].sum() > 0


def test_safe_mobility_offices_in_a_transit_country_refer_migrants_passing_through():
    scenario = _pathway_scenario(
        kind="safe_mobility",
        origins=["VEN", "HTI", "CUB", "XCO"],
        destination="USA",
        referral_countries=["GTM"],
    )
    results = run_scenario(scenario)
    assert results.total("pathway_safe_mobility") > 0


def test_nobody_is_a_migrant_in_their_own_country():
    scenario = _with(
        small_baseline(scale=100),
        enforcement=[{"edge": DARIEN, "interdiction": 0.5, "start": "2015-01"}],
    )
    stocks = run_scenario(scenario).stocks
    live = stocks[stocks["status"].isin(["irregular", "regularised"])]
    own = live[live["country"].astype(str) == live["origin"].astype(str)]
    assert own["people"].sum() == 0


def test_splitting_a_hosts_integration_funding_into_entries_changes_nothing():
    one = _with(
        small_baseline(),
        integration=[{"host": "PER", "funding_musd_per_year": 100, "start": "2015-01"}],
    )
    two = _with(
        small_baseline(),
        integration=[
            {"host": "PER", "funding_musd_per_year": 40, "start": "2015-01"},
            {"host": "PER", "funding_musd_per_year": 60, "start": "2015-01"},
        ],
    )
    a, b = MigrationModel(one), MigrationModel(two)
    np.testing.assert_allclose(a.policy.integration_capacity, b.policy.integration_capacity)


def test_enforcement_for_some_nationalities_stops_only_them():
    """A visa requirement for Haitians on the Darién edge closes it to Haitians alone."""
    haitians_only = _with(
        small_baseline(),
        enforcement=[{"edge": DARIEN, "interdiction": 1.0, "origins": ["HTI"], "start": "2015-01"}],
    )
    flows = run_scenario(haitians_only).flows
    darien = flows[flows["edge"] == DARIEN].groupby("origin", observed=True)["people"].sum()
    assert darien.get("HTI", 0) == 0
    assert darien.drop("HTI", errors="ignore").sum() > 0


def _us_border(expulsion: bool):
    # the direct flights to the US closed, so that everyone stopped at the US is stopped at
    # the land border (a visa refusal on a flight is recorded where the flight lands)
    scenario = _with(
        small_baseline(scale=200),
        enforcement=[
            {"edge": "MEX-USA", "interdiction": 0.9, "expulsion": expulsion, "start": "2015-01"},
            {"edge": "VEN-USA", "interdiction": 1.0, "start": "2015-01"},
        ],
    )
    events = run_scenario(scenario).events
    return events.groupby(["kind", "country"], observed=True)["people"].sum()


def test_an_expulsion_sends_the_interdicted_back_to_mexico_and_they_try_again():
    """Title 42: nobody stopped at the US border is deported home; every expelled migrant
    is stranded in Mexico, may try again and be encountered again."""
    expelled, removed = _us_border(expulsion=True), _us_border(expulsion=False)
    assert expelled.get(("deported", "MEX"), 0) == 0
    assert expelled[("stranded", "MEX")] == expelled[("interdicted", "USA")] > 0
    assert removed[("deported", "MEX")] > 0
    # the same departures meet the border more often, and more of them get through in the end
    assert expelled[("us_border_arrival", "USA")] > removed[("us_border_arrival", "USA")]
    assert expelled[("arrived", "USA")] > removed[("arrived", "USA")]
