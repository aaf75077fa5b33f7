"""Calibration: target files, identifiability, the pipeline end to end, the shipped result."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from migflow.calibration.calibrate import (
    Settings,
    calibrate,
    load_start,
    searched_space,
    select_targets,
    setup_identity,
)
from migflow.calibration.chains import seconds_spent
from migflow.calibration.emulated_posterior import SamplerSettings
from migflow.calibration.fit import evaluate, point_estimate
from migflow.calibration.goals import goals
from migflow.calibration.history import history_scenario
from migflow.calibration.paths import DEFAULT_TARGETS
from migflow.calibration.posterior import load_posterior
from migflow.calibration.simulate import OFFSET, ard_by_group, log_errors, loss, simulated_values
from migflow.calibration.space import ParameterSpace
from migflow.calibration.targets import COLUMNS, load_targets
from migflow.model.calendar import parse_month
from migflow.model.errors import InputError
from migflow.model.geography import DARIEN, EDGE_INDEX, INDEX, ORIGIN_INDEX
from migflow.model.model import MigrationModel
from migflow.model.recorder import KIND_INDEX
from migflow.model.results import Results
from migflow.model.scenario import load_scenario

# ------------------------------------------------------------------ targets files


def _write(tmp_path, table: pd.DataFrame):
    path = tmp_path / "targets.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture
def shipped_table() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_TARGETS, dtype=str, keep_default_na=False)


def test_the_shipped_targets_load_and_every_row_has_a_source():
    table = load_targets()
    assert len(table) > 100
    assert table["source"].str.len().min() > 10
    assert set(table["group"]) >= {"darien_annual", "darien_monthly", "stocks", "us_encounters"}


def test_stocks_that_count_only_refugees_and_asylum_seekers_are_minimums():
    """UNHCR's US figure, and Costa Rica's in 2018, leave out most Venezuelans living there:
    a model that counts everyone settled must not be pulled down to them."""
    stocks = load_targets().query("group == 'stocks'")
    partial = stocks["source"].str.contains("refugees and asylum-seekers only")
    assert set(stocks.loc[partial, "id"]) == {
        "stock_VEN_CRI_2018",
        *(f"stock_VEN_USA_{y}" for y in range(2018, 2024)),
    }
    assert (stocks.loc[partial, "error"] == "minimum").all()
    assert (stocks.loc[~partial, "error"] == "relative").all()


def test_darien_deaths_are_compared_by_their_expectation():
    """A drawn death at 100 people per agent is 0 or 100; the fit compares the expectation."""
    targets = load_targets().query("group == 'darien_deaths' and end <= '2021-12'")
    model = MigrationModel(history_scenario("2021-12", scale=1000))
    model.run()
    sim = simulated_values(Results.from_model(model), targets)
    # the Darién's deaths are expected in Panama, where it ends
    expected = model.recorder.events[:, KIND_INDEX["expected_deaths"], INDEX["PAN"]].sum(axis=1)
    years = 2015 + np.arange(len(expected)) // 12
    by_year = {y: expected[years == y].sum() for y in range(2015, 2022)}
    for row, value in zip(targets.itertuples(), sim, strict=True):
        assert value == pytest.approx(by_year[int(row.start[:4])])
    assert sim.sum() > 0 and not np.allclose(sim % 1000, 0)  # not whole agents


def _history_through(row):
    """The history run (scale 1,000) to a target row's last month, and the row's months as a
    slice of the run's tables."""
    model = MigrationModel(history_scenario(row["end"], scale=1000))
    model.run()
    first = parse_month("2015-01")
    return model, slice(parse_month(row["start"]) - first, parse_month(row["end"]) - first + 1)


def test_the_regular_share_is_the_regularised_over_all_who_live_there():
    """Migración Colombia's split of Venezuelans into regular and irregular is a share of
    those living in Colombia at the month's end (travellers passing through not counted),
    and, a share, it weighs in the loss but not in the overall ARD of people."""
    targets = load_targets().query("group == 'papers'")
    assert set(targets["quantity"]) == {"regular_share"} and len(targets) == 3
    row = targets.iloc[0]
    model, span = _history_through(row)
    living = model.recorder.stocks[span.stop - 1, INDEX["COL"], ORIGIN_INDEX["VEN"]]
    share = simulated_values(Results.from_model(model), targets.iloc[:1])[0]
    assert 0 < share < 1
    assert share == pytest.approx(living[2] / (living[1] + living[2]))
    assert np.isnan(ard_by_group(np.array([0.5]), targets.iloc[:1])["overall"])


def test_the_third_country_share_is_those_who_crossed_from_a_host_over_all_who_crossed():
    """The survey target is a share of the Darién's crossers, read from the same events the
    users' tables hold, and its error is a log ratio of shares, not of people."""
    targets = load_targets().query("group == 'surveys'")
    assert list(targets["quantity"]) == ["darien_third_country_share"]
    row = targets.iloc[0]
    model, span = _history_through(row)
    crossed = model.recorder.flow[span, EDGE_INDEX[DARIEN]].sum()
    onward = model.recorder.events[span, KIND_INDEX["darien_from_third_country"], INDEX["PAN"]]
    share = simulated_values(Results.from_model(model), targets)[0]
    assert crossed > 0 and 0 < share < 1
    assert share == pytest.approx(onward.sum() / crossed)
    # a share off by the same factor as a count costs the same: no people-sized offset
    assert loss(np.array([row["value"] * 2]), targets) == pytest.approx(
        np.log((2 * row["value"] + 0.01) / (row["value"] + 0.01)) ** 2
    )
    assert ard_by_group(np.array([0.5]), targets)["surveys"] == pytest.approx(
        abs(0.5 - row["value"]) / row["value"]
    )


def test_air_arrivals_count_the_nationality_landing_in_the_country_by_every_flight():
    """Mexico's count of Venezuelans landing there bounds the model's flights from Caracas and
    from Bogota alike; the road into Mexico and other nationalities' flights do not count."""
    targets = load_targets().query("quantity == 'air_arrivals'")
    assert list(targets["id"]) == ["bound_VEN_MEX_air_2021"]
    row = targets.iloc[0]
    model, span = _history_through(row)
    ven = ORIGIN_INDEX["VEN"]
    flights = [EDGE_INDEX["VEN-MEX"], EDGE_INDEX["COL-MEX"]]
    by_flight = model.recorder.flow[span][:, flights, ven].sum(axis=0)
    assert (by_flight > 0).all()  # both flights carried Venezuelans in 2021
    sim = simulated_values(Results.from_model(model), targets)[0]
    assert sim == pytest.approx(by_flight.sum())
    everyone = model.recorder.flow[span][:, flights].sum()
    by_road = model.recorder.flow[span, EDGE_INDEX["GTM-MEX"], ven].sum()
    assert everyone > sim and by_road > 0  # others flew, Venezuelans came by road: not counted


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda t: t.drop(columns="weight"), "missing column(s) weight"),
        (lambda t: t.assign(value=t["value"].where(t.index != 3, "-5")), "row 5"),
        (lambda t: t.assign(country=t["country"].where(t.index != 80, "ATL")), "row 82"),
        (lambda t: t.assign(start=t["start"].where(t.index != 7, "2019-13")), "row 9"),
        (lambda t: pd.concat([t, t.iloc[[10]]]), "duplicate id"),
        (lambda t: t.assign(quantity=t["quantity"].where(t.index != 0, "vibes")), "row 2"),
        (lambda t: t.assign(error=t["error"].where(t.index != 4, "upper")), "row 6"),
        (
            lambda t: t.assign(value=t["value"].where(t["group"] != "surveys", "39")),
            "is a share, from 0 to 1",
        ),
        (
            lambda t: t.assign(country=t["country"].where(t["quantity"] != "air_arrivals", "")),
            "a target of air_arrivals needs a country",
        ),
    ],
)
def test_a_bad_targets_file_is_refused_naming_the_row(tmp_path, shipped_table, change, expected):
    path = _write(tmp_path, change(shipped_table))
    with pytest.raises(InputError) as info:
        load_targets(path)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_duplicate_rows_under_different_ids_are_refused(tmp_path, shipped_table):
    twin = shipped_table.iloc[[0]].assign(id="twin")
    with pytest.raises(InputError, match="duplicates an earlier row"):
        load_targets(_write(tmp_path, pd.concat([shipped_table, twin])))


def test_a_minimum_and_a_maximum_of_one_quantity_make_an_interval(tmp_path, shipped_table):
    # Venezuelans in the United States, 2021: at least UNHCR's refugees and asylum-seekers,
    # at most R4V's count of everyone
    pair = load_targets().query("id in ['stock_VEN_USA_2021', 'bound_VEN_USA_2021']")
    assert sorted(pair["error"]) == ["maximum", "minimum"]
    second_maximum = shipped_table[shipped_table["id"] == "bound_VEN_USA_2021"].assign(id="twin")
    with pytest.raises(InputError, match="duplicates an earlier row"):
        load_targets(_write(tmp_path, pd.concat([shipped_table, second_maximum])))


def test_a_bound_counts_only_when_broken_and_stays_out_of_the_overall_ard():
    targets = load_targets().query("id in ['stock_VEN_COL_2019', 'darien_deaths_2019', "
                                   "'bound_GTM_MEX_2020']")  # fmt: skip
    value = targets["value"].to_numpy()  # a count, an upper bound, a lower bound
    assert sorted(targets["error"]) == ["maximum", "minimum", "relative"]
    is_min = (targets["error"] == "minimum").to_numpy()
    is_max = (targets["error"] == "maximum").to_numpy()
    held = np.where(is_min, value * 3, np.where(is_max, value / 3, value * 1.1))
    broken = np.where(is_min, value / 3, np.where(is_max, value * 3, value * 1.1))

    assert loss(held, targets) < loss(broken, targets)
    held_ard, broken_ard = ard_by_group(held, targets), ard_by_group(broken, targets)
    assert held_ard["bounds"] == 0 and held_ard["darien_deaths"] == 0
    assert broken_ard["bounds"] == pytest.approx(2.0)  # three times the bound: 2x over
    assert broken_ard["darien_deaths"] == pytest.approx(2 / 3)
    # the overall ARD is the count's alone, whether the bounds hold or not
    assert held_ard["overall"] == pytest.approx(0.1) == broken_ard["overall"]


def test_an_episode_month_is_fitted_as_its_change_from_the_month_before():
    """The months of a natural experiment are fitted by their fall, not by the floor it
    reached: a fall as steep as the record's costs nothing whatever the level, and no fall
    costs a lot. As levels the same months made a fit give up the wave (docs/calibration.md)."""
    table = load_targets()
    series = table.query("nationality == 'VEN' and group in ['darien_monthly', 'episodes']")
    months = series[series["start"].between("2022-07", "2023-01")].reset_index(drop=True)
    assert list(months["error"]) == ["relative"] + ["change"] * 6  # July, then the episode
    data = months["value"].to_numpy()
    three_times = 3 * (data + OFFSET) - OFFSET  # every month three times the record
    err = log_errors(three_times, months)
    assert err[0] == pytest.approx(np.log(3))  # July is a level
    assert err[1:] == pytest.approx(0, abs=1e-12)  # the changes are the record's
    as_levels = log_errors(three_times, months.assign(error="relative"))
    assert as_levels[1:] == pytest.approx(np.log(3))
    no_fall = data.copy()
    no_fall[4] = no_fall[3]  # November as many as October
    november = log_errors(no_fall, months)[4]
    assert november == pytest.approx(np.log((data[3] + OFFSET) / (data[4] + OFFSET)))
    assert november > 3  # 40,593 in October, 668 in November: a fall of 98%


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda t: t[t["id"] != "darien_month_2022-07_VEN"], "needs the month before"),
        (
            lambda t: t.assign(
                start=t["start"].where(t["id"] != "darien_month_2022-11_VEN", "2022-10")
            ),
            "start and end must be the same month",
        ),
    ],
)
def test_a_change_without_its_month_before_is_refused(tmp_path, shipped_table, change, expected):
    path = _write(tmp_path, change(shipped_table))
    with pytest.raises(InputError, match=expected) as info:
        load_targets(path)
    assert info.value.field == "error" and "darien_month_2022-" in str(info.value)


# ------------------------------------------------------------------ identifiability


def test_known_parameters_are_recovered_from_data_the_model_generated():
    """Synthetic targets from known parameters; the fitting pipeline finds them again."""
    scenario = load_scenario("baseline").clipped(end="2017-12").with_changes(scale=1000)
    truth = {"emigration_base.VEN": 100_000.0, "host_attractiveness.PER": 1.2}
    rows = []
    for year in (2016, 2017):
        for host in ("COL", "PER", "ECU", "CHL"):
            rows.append(dict(id=f"{host}{year}", group="stocks", quantity="stock",
                             start=f"{year}-12", end=f"{year}-12", country=host,
                             nationality="VEN", value=0.0, weight=1.0, error="relative",
                             source="synthetic"))  # fmt: skip
    targets = pd.DataFrame(rows, columns=COLUMNS)
    targets["start_month"] = [12 * (int(s[:4]) - 2000) + 11 for s in targets["start"]]
    targets["end_month"] = targets["start_month"]
    targets["value"] = evaluate(truth, scenario, targets)
    space = ParameterSpace(names=tuple(truth))
    start = {"emigration_base.VEN": 140_000.0, "host_attractiveness.PER": 0.0}
    found, best, _ = point_estimate(scenario, targets, start, 50, space)
    assert abs(found["emigration_base.VEN"] / truth["emigration_base.VEN"] - 1) < 0.08
    assert abs(found["host_attractiveness.PER"] - truth["host_attractiveness.PER"]) < 0.2
    assert best < 0.01


def test_a_search_that_stops_early_restarts_from_its_best_point(monkeypatch):
    """Powell stops once a sweep gains less than ftol, which on a stepped objective (the
    model's counts move in whole agents) can be far from the bottom. With budget left, the
    search restarts from its best point: it must end far lower than one Powell run, and stop
    before the budget once a restart finds nothing better."""
    import migflow.calibration.fit as fit

    space = ParameterSpace(("stay_utility", "beta_network"))  # linear scales

    def stepped_valley(values: dict, *_) -> float:  # Rosenbrock on [-2, 2]^2, in 0.003 steps
        x = 4 * values["stay_utility"] / space.highs[0] - 2
        y = 4 * values["beta_network"] / space.highs[1] - 2
        x, y = np.round(x / 0.003) * 0.003, np.round(y / 0.003) * 0.003
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    monkeypatch.setattr(fit, "evaluate", lambda values, scenario, targets: values)
    monkeypatch.setattr(fit, "loss", stepped_valley)
    start = {"stay_utility": 0.9 * space.highs[0], "beta_network": 0.1 * space.highs[1]}
    one_run = fit.minimize(
        lambda u: stepped_valley(space.to_values(u)), space.to_unit(start), method="Powell",
        bounds=[(0.0, 1.0)] * 2, options={"xtol": 1e-3, "ftol": 1e-4},
    )  # fmt: skip
    _, restarted, log = point_estimate(None, None, start, 10_000, space)
    assert restarted < one_run.fun / 10  # measured: 0.024 against 2.16
    assert log.evaluations < 10_000


def test_fit_seeds_are_the_fits_own_and_those_below_it_never_the_reports():
    """The seeds a point is fitted at are its own and the ones below: the posterior's
    replicates and the report's draws run at the seeds above, so the goals are judged at
    seeds the point was not fitted to."""
    from migflow.calibration.fit import fit_scenarios

    scenario = load_scenario("baseline").with_changes(seed=7)
    assert [s.seed for s in fit_scenarios(scenario, 3)] == [7, 6, 5]
    assert [s.seed for s in fit_scenarios(scenario.with_changes(seed=0), 2)] == [0, 2**32 - 1]
    assert fit_scenarios(scenario, 1)[0] is scenario


def test_a_seed_averaged_search_minimises_the_average_not_one_seeds_loss(monkeypatch):
    """With seeds above 1 each evaluation is the mean of the losses at each seed: a search
    on a loss whose minimum moves with the seed ends at the minimum of the average (here 0.5,
    between the seeds' minima 0.3 and 0.7), where one seed ends at its own."""
    import migflow.calibration.fit as fit

    space = ParameterSpace(("stay_utility",))
    high = space.highs[0]

    def run(values: dict, scenario, targets) -> tuple[float, int]:
        return values["stay_utility"] / high, scenario.seed

    def seed_loss(sim, targets) -> float:
        x, seed = sim
        return (x - (0.3 if seed == 7 else 0.7)) ** 2

    monkeypatch.setattr(fit, "evaluate", run)
    monkeypatch.setattr(fit, "loss", seed_loss)
    scenario = load_scenario("baseline").with_changes(seed=7)
    start = {"stay_utility": 0.9 * high}
    one, one_loss, _ = point_estimate(scenario, None, start, 200, space, seeds=1)
    two, two_loss, log = point_estimate(scenario, None, start, 200, space, seeds=2)
    assert abs(one["stay_utility"] / high - 0.3) < 0.01 and one_loss < 1e-4
    assert abs(two["stay_utility"] / high - 0.5) < 0.01
    assert abs(two_loss - 0.04) < 1e-3  # (0.2 ** 2 + 0.2 ** 2) / 2
    assert log.best_loss == two_loss


# ------------------------------------------------------------------ the pipeline


def test_calibrate_writes_a_reproducible_posterior_and_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "posterior"
    # small enough to run in seconds: two chains of three evaluations, the local measure,
    # two waves of eight runs, an ensemble of six, four synthetic truths, and targets to
    # 2016 only (the Darién counts of 2015-2016)
    sampler = SamplerSettings(
        replicates=3, runs_per_wave=8, waves=2, ensemble_size=6, check_runs=3, steps=200
    )
    tiny = Settings(
        scale=1000, max_evaluations=3, posterior="emulator", sampler=sampler, truths=4
    )  # fmt: skip
    messages: list[str] = []
    record = calibrate(
        DEFAULT_TARGETS, "2016-12", out, workers=2, settings=tiny, say=messages.append
    )
    posterior = load_posterior(out)
    assert posterior is not None and len(posterior.ensemble) == sampler.ensemble_size
    assert abs(posterior.ensemble["weight"].sum() - 1) < 1e-9
    assert record["n_targets_fitted"] == len(
        pd.read_csv(out / "targets.csv").query("end <= '2016-12' and start >= '2015-01'")
    )
    # every draw is seeded: a fresh run on one worker gives the very same ensemble (without
    # the local measure, which draws nothing and leaves a box first wave as it is)
    alone = tmp_path / "one_worker"
    quick = replace(tiny, local_measure=False)
    calibrate(DEFAULT_TARGETS, "2016-12", alone, workers=1, settings=quick, say=messages.append)
    pd.testing.assert_frame_equal(load_posterior(alone).ensemble, posterior.ensemble)
    assert (out / "coverage_parameters.csv").is_file() and "coverage" in record
    assert record["posterior"]["first_wave"] == "box"
    information = pd.read_csv(out / "parameter_information.csv")
    assert list(information["parameter"]) == list(ParameterSpace().names)
    assert 0 <= record["coverage"]["parameters_90"] <= 1
    # the goals at the point are said with the loss; before 2022 only the overall ARD's
    assert record["in_sample"]["goals"] == 1
    assert record["in_sample"]["goals_met"] == int(record["in_sample"]["ard"]["overall"] <= 0.15)
    assert any("goals of issue 15 met at the point" in m for m in messages)
    # what calibration-report prints of it: the spread against the prior, and the coverage
    from migflow.calibration.commands import print_ensemble_coverage, print_spread
    from migflow.calibration.identification import spread_table

    print_spread(spread_table(posterior.ensemble, posterior.point))
    print_ensemble_coverage(out)
    # a second run continues where the first stopped (checkpoint and the posterior's runs)
    calibrate(DEFAULT_TARGETS, "2016-12", out, workers=2, settings=tiny, say=messages.append)
    assert sum("resuming point-estimate chain" in m for m in messages) == tiny.chains
    assert sum("kept from before" in m for m in messages) >= 4  # replicates, waves, check
    pd.testing.assert_frame_equal(load_posterior(out).ensemble, posterior.ensemble)
    # ... but never a fit to other targets: the checkpoint left behind is not resumed for
    # reweighted targets
    table = load_targets(DEFAULT_TARGETS)
    chosen = select_targets(table, "2016-12")
    scenario = history_scenario("2016-12", scale=tiny.scale, seed=tiny.seed)
    reweighted = chosen.copy()
    reweighted.loc[reweighted["group"] == "darien_annual", "weight"] *= 2
    work = out.parent / f".{out.name}.work"
    same = setup_identity(chosen, scenario, ParameterSpace())
    assert seconds_spent(work, tiny.chains, same) > 0
    assert (
        seconds_spent(work, tiny.chains, setup_identity(reweighted, scenario, ParameterSpace()))
        == 0
    )
    # ... nor a fit whose evaluations are averaged over other seeds
    averaged = setup_identity(chosen, scenario, ParameterSpace(), None, fit_seeds=2)
    assert seconds_spent(work, tiny.chains, averaged) == 0


def test_the_abc_posterior_is_seeded_whatever_the_number_of_workers(tmp_path):
    """The shipped method (ABC rejection in a box): every draw is seeded, so one worker and
    two give the very same ensemble."""
    tiny = Settings(
        scale=1000, max_evaluations=1, posterior="abc", population_size=4, generations=1,
        local_measure=False,
    )  # fmt: skip
    folders = [tmp_path / "two", tmp_path / "one"]
    for folder, workers in zip(folders, (2, 1), strict=True):
        calibrate(DEFAULT_TARGETS, "2015-12", folder, workers, None, tiny, lambda _: None)
    ensembles = [load_posterior(f).ensemble for f in folders]
    assert len(ensembles[0]) == 4 and abs(ensembles[0]["weight"].sum() - 1) < 1e-9
    pd.testing.assert_frame_equal(*ensembles)


def test_a_refit_begins_where_it_is_told_and_records_it(tmp_path):
    """``--start``: Powell's first evaluation is the starting point, so with a budget of one
    the result is that point; settings.json keeps it, so the refit can be rerun."""
    start = {"emigration_base.VEN": 400_000.0, "stay_utility": 1.0}
    out = tmp_path / "refit"
    one = Settings(scale=1000, max_evaluations=1, chains=1, posterior="abc", population_size=4)
    calibrate(DEFAULT_TARGETS, "2015-12", out, 1, None, one, lambda _: None, start)
    # every calibration says what the data decide near its point, for the briefs
    assert (out / "parameter_information.csv").is_file()
    point = load_posterior(out).point
    assert {k: point[k] for k in start} == pytest.approx(start)
    assert load_start(out / "settings.json") == start
    assert load_start(out)["emigration_base.VEN"] == pytest.approx(400_000.0)


def test_a_search_of_some_parameters_holds_the_others_at_the_start(tmp_path):
    """``--search``: only the selected parameters move; the others keep the start's values,
    in the runs of the search as in the point written (the chain's loss, computed with the
    held values in the scenario, is the loss of the whole point), and settings.json says
    which were searched. The posterior is still over every free parameter."""
    start = {"emigration_base.VEN": 400_000.0, "stay_utility": 1.0, "beta_network": 0.2}
    out = tmp_path / "searched"
    few = Settings(
        scale=1000, max_evaluations=8, chains=1, posterior="abc", population_size=4,
        local_measure=False, search=("stay_*",),
    )  # fmt: skip
    record = calibrate(DEFAULT_TARGETS, "2015-12", out, 1, None, few, lambda _: None, start)
    point = load_posterior(out).point
    assert record["searched_parameters"] == ["stay_utility", "stay_regularised_bonus"]
    assert record["free_parameters"] == list(ParameterSpace().names)
    assert point["emigration_base.VEN"] == pytest.approx(400_000.0)
    assert point["beta_network"] == pytest.approx(0.2)
    assert record["point_estimate_chains"][0]["loss"] == pytest.approx(
        record["in_sample"]["loss"], rel=1e-12
    )
    written = json.loads((out / "settings.json").read_text())
    assert written["settings"]["search"] == ["stay_*"]
    assert written["searched_parameters"] == record["searched_parameters"]


def test_the_searched_parameters_are_chosen_by_name_or_pattern_and_need_a_start():
    space = ParameterSpace()
    chosen = space.select(("us_preference.*", "beta_network"))
    assert chosen.names[0] == "us_preference.VEN" and chosen.names[-1] == "beta_network"
    assert len(chosen.names) == 11  # ten origins' US preference, in the space's order
    with pytest.raises(InputError, match="'beta_vibes' matches no free parameter") as info:
        space.select(("beta_vibes",))
    assert info.value.field == "--search"
    with pytest.raises(InputError, match="needs --start"):
        searched_space(space, None, ("stay_utility",))
    assert searched_space(space, None, ()) is space


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"parameters": {"beta_vibes": 1.0}}', "unknown parameter 'beta_vibes'"),
        ('{"parameters": {"beta_risk": 300.0}}', "beta_risk is not a fitted parameter"),
        ('{"parameters": {"stay_utility": 99.0}}', "stay_utility = 99.0 is outside its range"),
        ('{"parameters": {"stay_utility": "high"}}', "'high' is not a number"),
        ('{"parameters": {"stay_utility": true}}', "True is not a number"),
        ('{"free_parameters": [], "start": null}', "started from the defaults"),
        ('{"loss": 0.2}', 'no "parameters" mapping'),
        ("not json", "cannot read"),
    ],
)
def test_a_bad_start_is_refused_naming_the_option(tmp_path, content, expected):
    path = tmp_path / "start.json"
    path.write_text(content)
    with pytest.raises(InputError, match=expected) as info:
        load_start(path)
    assert str(info.value).startswith("--start: ")


# ------------------------------------------------------------------ the shipped result


def test_the_shipped_posterior_loads_runs_and_reproduces_its_reported_fit():
    posterior = load_posterior()
    assert posterior is not None, "calibration/posterior/ must be shipped"
    settings = posterior.settings
    targets = load_targets(posterior.folder / "targets.csv")
    from migflow.calibration.calibrate import fitted_values

    chosen = select_targets(targets, settings.get("until"))
    s = settings["settings"]
    sim = fitted_values(posterior.point, chosen, s["scale"], s["seed"])
    reported = json.loads((posterior.folder / "point.json").read_text())
    assert loss(sim, chosen) == pytest.approx(reported["loss"], rel=1e-9)
    ard = ard_by_group(sim, chosen)
    for group, value in reported["ard"].items():
        assert ard[group] == pytest.approx(value, rel=1e-9), group
    draws = posterior.draws(3, seed=1)
    assert len(draws) == 3 and all(np.isfinite(list(d.values())).all() for d in draws)


# ------------------------------------------------------------------ reports


def test_stock_plots_have_one_panel_per_host_and_nationality(tmp_path, monkeypatch):
    """Venezuelans and Haitians in Chile are two series, not one zig-zag line (they were)."""
    import matplotlib.pyplot as plt

    from migflow.calibration import report

    plt.close("all")
    monkeypatch.setattr(report.plt, "close", lambda fig: None)  # keep the figures to read
    targets = load_targets(DEFAULT_TARGETS)
    targets = targets[targets["group"] == "stocks"]
    value = targets["value"]
    table = pd.DataFrame({"median": value, "p05": 0.9 * value, "p95": 1.1 * value})
    report.plots(targets, table, tmp_path, "test")
    titles = {ax.get_title() for n in plt.get_fignums() for ax in plt.figure(n).axes}
    plt.close("all")
    assert {"CHL VEN", "CHL HTI", "COL VEN"} <= titles
    assert (tmp_path / "stocks.png").is_file()


def test_the_report_lists_large_stocks_no_target_covers():
    """Where a fit parks surplus migrants shows up: here Haitians in Brazil, once the bound
    that covers them is taken out of the table."""
    from migflow.calibration.report import from_a_host, simulate_draws, untargeted_stocks

    posterior = load_posterior()
    targets = select_targets(load_targets(posterior.folder / "targets.csv"), None)
    s = posterior.settings["settings"]
    sims, point = simulate_draws(posterior, targets, 1, s["scale"], s["seed"])
    stocks = point.settled()[-1]
    listed = untargeted_stocks(stocks, targets, top=50)
    pairs = set(zip(listed["host"], listed["nationality"], strict=True))
    assert ("BRA", "HTI") not in pairs and ("COL", "VEN") not in pairs
    assert ("MEX", "HND") not in pairs  # covered by the bound on every origin in Mexico
    assert list(listed["people"]) == sorted(listed["people"], reverse=True)

    unbounded = targets[targets["id"] != "bound_HTI_BRA_2021"]
    listed = untargeted_stocks(stocks, unbounded, top=50)
    assert ("BRA", "HTI") in set(zip(listed["host"], listed["nationality"], strict=True))

    # and who crossed the Darién from a host, by nationality: the survey target's quantity
    # (every nationality, Oct-Dec 2023) and the wave's crossings, read from the same run
    hosts = from_a_host(point).set_index(["period", "nationality"])
    by_id = dict(zip(targets["id"], sims[0], strict=True))
    assert hosts.loc[("Oct-Dec 2023", "ALL"), "from_a_host"] == pytest.approx(
        by_id["survey_darien_third_country_2023Q4"]
    )
    assert hosts.loc[("2022", "VEN"), "crossers"] == pytest.approx(by_id["darien_2022_VEN"])
    assert hosts["from_a_host"].between(0, 1).all() and len(hosts) == 3 * 7


def test_the_point_inside_its_band_is_judged_against_the_other_draws():
    """Issue 21's check that the point sits inside its own 90% band: a band drawn from a
    sample holding the point would cover it by construction when the point is the extreme,
    so the band is the other draws'. Targets outside the window (NaN) are not counted."""
    from migflow.calibration.report import point_inside_band

    others = np.tile(np.arange(1.0, 21.0)[:, None], (1, 5))  # 20 draws of 5 targets: 1..20
    others[:, 4] = np.nan  # a target outside the window
    point = np.array([10.0, 0.5, 25.0, 1.5, 7.0])  # inside, below, above, inside the 5%
    share, checked = point_inside_band(np.vstack([point, others]))
    assert checked == 4
    # the 5th percentile of 1..20 is 1.95, so 1.5 lies outside, as 0.5 and 25 do
    assert share == pytest.approx(1 / 4)
    # the same point as one of 20 draws would make itself the band's edge
    assert point_inside_band(np.vstack([point, others[:1]]))[1] == 0


def test_the_report_prints_each_goal_at_the_point_and_at_the_median():
    """A fit is judged at the point (what every run shows) and at the median of its draws
    (what the intervals centre on); the table must tell them apart when they disagree."""
    from migflow.calibration.commands import print_goals
    from migflow.model.terminal import console

    targets = load_targets()
    exact = targets["value"].to_numpy()
    doubled = np.where(targets["id"].str.startswith("darien_2022_"), 2 * exact, exact)
    measured = goals(targets, doubled)
    at_point = goals(targets, exact)
    measured = measured.assign(point=at_point["simulated"], point_met=at_point["met"])
    width, console.width = console.width, 200  # one table row per line
    try:
        with console.capture() as captured:
            print_goals(measured, pd.DataFrame())
    finally:
        console.width = width
    row = next(line for line in captured.get().splitlines() if "Darién crossings 2022" in line)
    assert row.index("yes") < row.index("NO")  # met at the point, missed at the median
    assert "248,284" in row and "496,568" in row

    # with the point run at other seeds, how many of them meet each goal, between the two
    held = np.arange(len(measured)) % 6
    with console.capture() as captured:
        console.width = 220
        try:
            print_goals(measured.assign(point_other_seeds=held), pd.DataFrame())
        finally:
            console.width = width
    text = captured.get()
    assert "met at 5 other seeds" in text
    row = next(line for line in text.splitlines() if "of them Venezuelans 2022" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[3] == "yes" and cells[4] == str(held[1]) and cells[6] == "NO"


def test_the_point_at_other_seeds_is_the_point_estimate_run_at_the_seeds_above():
    """The report's check of how much of the point's fit is its seed's luck runs the point's
    parameters at the seeds above the fit's: the first of them gives what a run of the point
    at that seed gives, and differs from the run at the fit's own seed."""
    from migflow.calibration.history import history_for
    from migflow.calibration.report import point_at_other_seeds, simulate_draws
    from migflow.model.run import run_scenario

    posterior = load_posterior()
    targets = select_targets(load_targets(posterior.folder / "targets.csv"), "2016-12")
    s = posterior.settings["settings"]
    others = point_at_other_seeds(posterior, targets, 1000, s["seed"], seeds=2)
    own, _ = simulate_draws(posterior, targets, 1, 1000, s["seed"])
    scenario = history_for(targets, scale=1000, seed=s["seed"] + 1)
    direct = simulated_values(run_scenario(scenario, posterior.point_parameters()), targets)
    assert others.shape == (2, len(targets))
    np.testing.assert_array_equal(others[0], direct)
    assert not np.array_equal(others[0], own[0]) and not np.array_equal(others[0], others[1])


def test_goals_name_their_unit_and_the_documented_figures_meet_every_one():
    from migflow.calibration.goals import times_met

    targets = load_targets()
    exact = targets["value"].to_numpy()
    measured = goals(targets, exact)
    assert set(measured["unit"]) == {"people", "share", "ARD"}
    assert measured["met"].all(), measured
    # counted over runs: the documented figures twice, and once with 2022's Darién doubled
    doubled = np.where(targets["id"].str.startswith("darien_2022_"), 2 * exact, exact)
    counts = dict(zip(measured["goal"], times_met(targets, [exact, doubled]), strict=True))
    assert counts["Darién crossings 2022"] == 1 and counts["Darién crossings 2023"] == 2


def test_goals_a_window_cannot_measure_are_not_measured_as_zero():
    """A fit that stops before 2022 (a hindcast's training) has no Darién counts of 2022: its
    goals for them are unmeasured (NaN), not zero crossings against a documented zero."""
    targets = select_targets(load_targets(), "2021-12")
    measured = goals(targets, targets["value"].to_numpy()).set_index("goal")
    unmeasured = ["Darién crossings 2022", "Darién crossings 2023"]
    assert measured.loc[unmeasured, "simulated"].isna().all()
    assert measured["simulated"].notna().sum() == 3  # stocks to 2021, US to FY2021, overall


def test_the_information_table_tells_a_decided_parameter_from_one_left_at_its_prior():
    """Forward differences recover a linear map exactly, stepping down at the top of a
    range; a direction no target sees keeps the prior's spread, a seen one narrows."""
    from migflow.calibration.information import (
        PRIOR_SD,
        information_table,
        jacobian,
        posterior_sd,
        residuals,
    )

    slopes = np.array([[30.0, 0.0, 1.0], [0.0, 0.0, 2.0], [10.0, 0.0, 0.0]])
    at = np.array([0.5, 0.3, 1.0])  # the third parameter at the top of its range

    def linear(unit):  # a misfit of 0.1 per target at the point
        return slopes @ (unit - at) + 0.1

    base, jac = jacobian(linear, at)
    assert np.allclose(jac, slopes) and np.allclose(base, linear(at))
    sd = posterior_sd(jac, base, n_eff=3.0)
    assert sd[1] == pytest.approx(PRIOR_SD)  # no target moves it
    assert sd[0] < 0.05 * PRIOR_SD and sd[2] < PRIOR_SD
    space = ParameterSpace(("beta_network", "beta_risk", "stay_utility"))
    table = information_table(space, {"beta_network": 0.1, "beta_risk": 3.0,
                                      "stay_utility": 0.2}, sd)  # fmt: skip
    assert list(table["verdict"][:2]) == ["decided by the data", "left at its prior"]
    from migflow.calibration.commands import print_information

    print_information(table)  # the report's table of it

    # the residuals' sum of squares is the fit's loss
    targets = load_targets()
    sim = targets["value"].to_numpy() * np.linspace(0.5, 2.0, len(targets))
    assert np.sum(residuals(sim, targets) ** 2) == pytest.approx(loss(sim, targets))


def test_a_fit_made_before_a_parameter_existed_is_measured_in_its_own_terms(monkeypatch):
    """The report measures the shipped fit over the parameters it set free: a parameter
    freed since (here every one but three) is not looked up in its point (it was a
    KeyError in `migflow calibration-report`)."""
    from migflow.calibration import fit, information

    names = ("beta_network", "beta_risk", "stay_utility")
    point = {"beta_network": 0.1, "beta_risk": 3.0, "stay_utility": 0.2}
    steps = []

    def evaluate(values, scenario, targets):  # a misfit that moves with one parameter
        steps.append(values)
        return targets["value"].to_numpy() * (1.1 + values["beta_network"])

    monkeypatch.setattr(fit, "evaluate", evaluate)
    table, _, _ = information.measure(
        point, load_targets().query("start >= '2016'").head(30), 1000, 0, names=names
    )
    assert list(table["parameter"]) == list(names) and list(table["point"]) == [0.1, 3.0, 0.2]
    assert len(steps) == 1 + len(names) and set(steps[0]) == set(names)


@pytest.mark.parametrize("bend", [0.0, 1000.0])
def test_local_intervals_cover_synthetic_truths_only_where_the_model_is_near_linear(bend):
    """With a linear model and the noise the likelihood assumes, the 50% and 90% intervals
    cover synthetic truths at their nominal rates; bend the model and coverage collapses,
    which is what the check is there to show."""
    from migflow.calibration.information import jacobian, linear_coverage

    rng = np.random.default_rng(3)
    slopes = rng.normal(size=(40, 3)) * np.array([8.0, 3.0, 0.5])
    at = np.array([0.5, 0.5, 0.5])
    offset = rng.normal(size=40) * 0.05  # the misfit the point keeps

    def model(unit, i=0):
        moved = unit - at
        return slopes @ moved + bend * np.abs(slopes[:, 2]) * moved[2] ** 2 + offset

    base, jac = jacobian(model, at, step=1e-4)
    covered = linear_coverage(jac, base, 40.0, model, at, 400, np.random.default_rng(4))
    if bend == 0.0:
        assert np.allclose(covered["covered_50"], 0.5, atol=0.08)
        assert np.allclose(covered["covered_90"], 0.9, atol=0.06)
    else:
        # measured: 58-78% where 90% was promised
        assert (covered["covered_90"] < 0.8).all()


@pytest.mark.parametrize("bend", [0.0, 3000.0])
def test_the_local_posterior_weighs_as_the_likelihood_only_where_the_model_is_near_linear(bend):
    """Drawn from the local posterior and weighted by the likelihood, a linear model's
    draws all weigh the same (effective sample size = draws); bend the model and the
    likelihood falls off where the approximation says it does not, and the effective
    sample size collapses, which is what the check measures on the real fit."""
    from migflow.calibration.information import importance_check, jacobian

    rng = np.random.default_rng(3)
    slopes = rng.normal(size=(40, 3)) * np.array([8.0, 3.0, 2.0])
    at = np.array([0.5, 0.5, 0.5])
    noise = rng.normal(size=40) * 0.05
    # the misfit the best fit keeps: what no parameter can explain
    offset = noise - slopes @ np.linalg.lstsq(slopes, noise, rcond=None)[0]

    def model(unit, i=0):
        moved = unit - at
        return slopes @ moved + bend * np.abs(slopes[:, 2]) * moved[2] ** 2 + offset

    base, jac = jacobian(model, at, step=1e-6)
    check = importance_check(jac, base, 40.0, model, at, 200, np.random.default_rng(4))
    assert check["proposals"] == 200 and check["inside_ranges"] == 1.0
    assert check["point_loss"] == pytest.approx(np.sum(offset**2))
    if bend == 0.0:
        assert check["effective_sample_size"] > 0.95 * 200
    else:  # measured: 58 of 200
        assert check["effective_sample_size"] < 0.5 * 200
        assert check["highest_loss"] > 10 * check["point_loss"]
    from migflow.calibration.commands import print_importance

    print_importance(check)


def test_the_spread_table_tells_a_parameter_left_at_its_prior_from_one_the_data_decide():
    from migflow.calibration.identification import spread_table

    rng = np.random.default_rng(0)
    n = 400
    space = ParameterSpace(("stay_utility", "beta_network", "retry_hazard"))
    # stay_utility (range 0..8) over its whole range, as its prior; beta_network (0..1.5)
    # within a tenth of it (sd 0.1 of the prior's); retry_hazard (0..0.9) over 40% of its
    # range, with the point at the top
    ensemble = pd.DataFrame({
        "stay_utility": rng.uniform(0, 8, n),
        "beta_network": 0.75 + rng.uniform(-1, 1, n) * 1.5 / 20,
        "retry_hazard": 0.9 - rng.uniform(0, 1, n) * 0.36,
        "weight": np.full(n, 1 / n),
    })  # fmt: skip
    point = {"stay_utility": 4.0, "beta_network": 0.75, "retry_hazard": 0.9}
    table = spread_table(ensemble, point, space).set_index("parameter")
    assert table.loc["stay_utility", "share_of_range"] == pytest.approx(0.9, abs=0.05)
    assert table.loc["stay_utility", "verdict"] == "left at its prior"
    assert table.loc["beta_network", "sd_over_prior"] == pytest.approx(0.1, abs=0.02)
    assert table.loc["beta_network", "verdict"] == "decided by the data"
    assert table.loc["retry_hazard", "verdict"] == "narrowed by the data"
    assert table.loc["retry_hazard", "point_at_bound"]
    assert not table.loc["beta_network", "point_at_bound"]
    # an ensemble drawn in a box around the point (ABC) says nothing of what the data decide
    boxed = spread_table(ensemble, point, space, box_width=0.02)
    assert set(boxed["verdict"]) == {"set by its box, not by the data"}
    # the shipped ensemble: every fitted parameter is in the table
    posterior = load_posterior()
    shipped = spread_table(posterior.ensemble, posterior.point, box_width=posterior.box_width)
    assert set(shipped["parameter"]) == set(posterior.settings["free_parameters"])
