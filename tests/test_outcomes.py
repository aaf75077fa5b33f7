"""One registry of outcomes (model/outcomes.py): it covers the summary exactly, and every
table that shows outcomes reads them through it."""

from __future__ import annotations

import pytest
from strategies import small_baseline

from migflow.app.indicators import COMPARE_ROWS
from migflow.model.outcomes import OUTCOME, OUTCOMES
from migflow.model.run import run_scenario
from migflow.scenario_commands import comparison_rows
from migflow.sweeps.outcomes import INDICATORS, indicator_value


@pytest.fixture(scope="module")
def results():
    return run_scenario(small_baseline())


def test_the_registry_names_every_summary_column_once(results):
    assert [o.name for o in OUTCOMES] == list(results.summary.columns.drop("year"))
    assert len({o.label for o in OUTCOMES}) == len(OUTCOMES)


def test_flows_and_stocks_are_read_by_their_kind(results):
    s = results.summary
    crossings, venezuelans = OUTCOME["darien_crossings"], OUTCOME["venezuelans_in_COL"]
    assert crossings.total(s, 2015, 2016) == s["darien_crossings"].iloc[:2].sum()
    assert crossings.per_year(s, 2015, 2016) == s["darien_crossings"].iloc[:2].mean()
    assert venezuelans.at_end(s, 2016) == s["venezuelans_in_COL"].iloc[1]
    with pytest.raises(ValueError):
        venezuelans.total(s, 2015, 2016)
    with pytest.raises(ValueError):
        crossings.at_end(s, 2016)


def test_the_cli_the_app_and_sweeps_show_the_registrys_numbers(results):
    s = results.summary
    first, last = int(s["year"].min()), int(s["year"].max())
    rows = comparison_rows(results, results)
    assert len(rows) == len(OUTCOMES)
    for outcome, (label, value, _) in zip(OUTCOMES, rows, strict=True):
        assert label.startswith(outcome.label) and value == outcome.over(s, first, last)
        assert indicator_value(results, outcome.name, first, last) == outcome.over(s, first, last)
    assert {o.name for o in OUTCOMES} <= set(INDICATORS)
    assert all(label.startswith(OUTCOME[column].label) for label, column, _ in COMPARE_ROWS)
