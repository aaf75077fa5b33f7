"""One registry of outcomes (model/outcomes.py): it covers the summary exactly, and every
table that shows outcomes reads them through it."""

from __future__ import annotations

import pytest
from strategies import small_baseline

from migflow.app.indicators import CARDS, COMPARE_ROWS, headline
from migflow.compare_command import comparison_rows
from migflow.model.outcomes import OUTCOME, OUTCOMES
from migflow.model.run import run_scenario
from migflow.model.scenario import Scenario
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
    from migflow.calibration.uncertainty import outcome_differences

    rows = comparison_rows(outcome_differences([results.summary], [results.summary]))
    assert len(rows) == len(OUTCOMES)
    for outcome, (label, value, _) in zip(OUTCOMES, rows, strict=True):
        assert label.startswith(outcome.label) and value == outcome.over(s, first, last)
        assert indicator_value(results, outcome.name, first, last) == outcome.over(s, first, last)
    assert {o.name for o in OUTCOMES} <= set(INDICATORS)
    assert all(label.startswith(OUTCOME[column].label) for label, column, _ in COMPARE_ROWS)


def test_the_apps_cards_are_the_registrys_outcomes_with_their_plain_words(results):
    years = (2015, 2016)
    cards = headline(results, results, years)
    assert [c.key for c in cards] == [name for name, _ in CARDS]
    for card, (name, how) in zip(cards, CARDS, strict=True):
        outcome = OUTCOME[name]
        assert card.label.startswith(outcome.label) and card.help.startswith(outcome.counts)
        assert outcome.counts, f"{name} has no plain-words description"
        expected = {"mean": outcome.per_year, "sum": outcome.total}.get(how)
        value = (
            expected(results.summary, *years)
            if expected
            else outcome.at_end(results.summary, years[1])
        )
        assert card.value == value


def test_funding_in_the_summary_is_the_spending_table_by_year():
    data = small_baseline().model_dump(mode="json", exclude_none=True)
    data["integration"] = [{"host": "PER", "funding_musd_per_year": 120.0, "start": "2016-01"}]
    data["root_causes"] = [{"origin": "HND", "funding_musd_per_year": 240.0, "start": "2015-07"}]
    results = run_scenario(Scenario.model_validate(data))
    spending = results.spending.assign(year=results.spending["month"].astype(str).str[:4])
    by_lever = spending.groupby(["year", "lever"], observed=True)["musd"].sum().unstack().fillna(0)
    summary = results.summary.set_index(results.summary["year"].astype(str))
    assert summary["integration_musd"].to_numpy() == pytest.approx(
        by_lever["integration"].reindex(summary.index, fill_value=0).to_numpy()
    )
    assert summary["root_causes_musd"].to_numpy() == pytest.approx(
        by_lever["root_causes"].reindex(summary.index, fill_value=0).to_numpy()
    )
    assert (
        summary["funding_musd"] == summary["integration_musd"] + summary["root_causes_musd"]
    ).all()
    assert summary["root_causes_musd"].sum() > 0 and summary["integration_musd"].sum() > 0
