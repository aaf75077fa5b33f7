"""``migflow compare --draws``: both sides under the same posterior draws and seeds, every
difference with its median and 90% interval (issue 16, item 2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from strategies import small_baseline
from typer.testing import CliRunner

from migflow.calibration.posterior import load_posterior
from migflow.calibration.uncertainty import difference_bands, outcome_differences, paired_runs
from migflow.cli import app
from migflow.model.outcomes import OUTCOMES
from migflow.model.scenario import save_scenario

runner = CliRunner()
needs_posterior = pytest.mark.skipif(load_posterior() is None, reason="no shipped posterior")


@needs_posterior
def test_each_draw_runs_both_sides_with_the_same_parameters_and_seed():
    a = small_baseline(seed=7)
    b = a.with_changes(name="other", seed=99, parameters={"darien_disutility": 1.0})
    runs_a, runs_b = paired_runs(a, b, 4)
    assert [s.seed for s, _ in runs_a] == [s.seed for s, _ in runs_b] == [7, 8, 9, 10]
    for (_, pa), (_, pb) in zip(runs_a, runs_b, strict=True):
        assert pb["darien_disutility"] == 1.0  # B keeps its own override ...
        same = [n for n in pa if n != "darien_disutility"]
        assert all(pa[n] == pb[n] for n in same)  # ... and shares every drawn value
    assert len({runs_a[i][1]["beta_expulsion"] for i in range(4)}) > 1  # draws differ


def _summary(values: dict[str, float], years=(2020, 2021)) -> pd.DataFrame:
    frame = pd.DataFrame({"year": list(years)})
    for outcome in OUTCOMES:
        frame[outcome.name] = [values.get(outcome.name, 0.0)] * len(years)
    return frame


def test_the_interval_is_of_the_differences_per_draw_not_of_the_two_sides():
    # Side A varies a lot between draws, and B is A minus exactly 100 a year: the difference
    # is -200 over the two years in every draw, so its interval has no width at all, while a
    # difference of the two sides' bands would span thousands.
    level = [1000.0, 5000.0, 9000.0]
    sa = [_summary({"darien_crossings": x}) for x in level]
    sb = [_summary({"darien_crossings": x - 100}) for x in level]
    per_draw = outcome_differences(sa, sb)
    row = difference_bands(per_draw).set_index("outcome").loc["darien_crossings"]
    assert row["difference_median"] == row["difference_p05"] == row["difference_p95"] == -200
    assert row["a_p95"] - row["a_p05"] > 10_000
    assert row["draws"] == 3


def test_stocks_are_compared_at_the_end_of_the_window():
    sa = [_summary({"venezuelans_in_COL": 0.0}).assign(venezuelans_in_COL=[10.0, 30.0])]
    sb = [_summary({"venezuelans_in_COL": 0.0}).assign(venezuelans_in_COL=[10.0, 50.0])]
    per_draw = outcome_differences(sa, sb).set_index("outcome")
    assert per_draw.loc["venezuelans_in_COL", "difference"] == 20.0


def _file(tmp_path, name, **changes):
    path = tmp_path / f"{name}.toml"
    save_scenario(small_baseline(scale=1000).with_changes(name=name, **changes), path)
    return path


@needs_posterior
def test_compare_with_draws_prints_intervals_and_writes_every_draw(tmp_path):
    a = _file(tmp_path, "a")
    b = _file(tmp_path, "b", parameters={"darien_disutility": 8.0})
    out = tmp_path / "cmp"
    args = ["compare", str(a), str(b), "--draws", "3", "--workers", "1", "--out", str(out)]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "interval)" in result.stdout and "3 posterior draws" in result.stdout
    assert "warning: 3 draws" in result.stderr
    bands = pd.read_csv(out / "comparison.csv").set_index("outcome")
    per_draw = pd.read_csv(out / "differences.csv")
    assert sorted(per_draw["draw"].unique()) == [0, 1, 2]
    assert len(per_draw) == 3 * len(OUTCOMES)
    np.testing.assert_allclose(per_draw["difference"], per_draw["b"] - per_draw["a"])
    for name in bands.index:
        r = bands.loc[name]
        assert r["difference_p05"] <= r["difference_median"] <= r["difference_p95"]
    # a far more deadly and costly Darién sends fewer people through it, in every draw
    darien = per_draw[per_draw["outcome"] == "darien_crossings"]
    assert (darien["difference"] < 0).all()
    assert "Cost-effectiveness" in result.stdout and "Not priced" in result.stdout
    value = pd.read_csv(out / "cost_effectiveness.csv").set_index("outcome")
    assert value.loc["darien_crossings", "draws_with_effect"] == 3  # averted in every draw
    assert np.isfinite(value.loc["darien_crossings", "usd_median"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["draws"] == 3 and manifest["scale"] == 1000
    written = {p.name for p in out.iterdir()}
    assert written == {
        "comparison.csv",
        "differences.csv",
        "cost_effectiveness.csv",
        "manifest.json",
    }


@needs_posterior
def test_a_scenario_compared_with_itself_differs_by_exactly_nothing_in_every_draw(tmp_path):
    a = _file(tmp_path, "a")
    out = tmp_path / "cmp"
    args = ["compare", str(a), str(a), "--draws", "2", "--workers", "1", "--out", str(out)]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    per_draw = pd.read_csv(out / "differences.csv")
    assert (per_draw["difference"] == 0).all()
    assert (per_draw["a"] > 0).any()


def test_draws_need_two_scenarios_not_results_folders(tmp_path):
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", str(_file(tmp_path, "a")), "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["compare", str(out), str(out), "--draws", "2"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --draws:")
    assert "results folder" in result.stderr and "Traceback" not in result.output


def test_years_narrow_every_figure_to_that_window(tmp_path):
    a = _file(tmp_path, "a")
    b = _file(tmp_path, "b", parameters={"darien_disutility": 8.0})
    tables = {}
    for years in (None, "2017", "2015-2017"):
        out = tmp_path / f"cmp_{years}"
        extra = [] if years is None else ["--years", years]
        result = runner.invoke(app, ["compare", str(a), str(b), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        tables[years] = pd.read_csv(out / "comparison.csv").set_index("outcome")
    whole, last_year = tables[None], tables["2017"]
    pd.testing.assert_frame_equal(whole, tables["2015-2017"])  # the window is the whole run
    assert last_year.loc["darien_crossings", "a"] < whole.loc["darien_crossings", "a"]  # a flow
    assert last_year.loc["venezuelans_in_COL", "a"] == whole.loc["venezuelans_in_COL", "a"]
    refused = runner.invoke(app, ["compare", str(a), str(b), "--years", "2014-2016"])
    assert refused.exit_code == 2 and "2015-2017" in refused.stderr
