"""Every lever has a price (model/costs.py): spending is what the run did times the unit
cost, a scenario can change a unit cost without changing anyone's movements, and
cost-effectiveness is the extra cost per unit of effect, draw by draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from strategies import small_baseline

from migflow.calibration.uncertainty import cost_effectiveness
from migflow.model.costs import SPENDING_LEVERS, UNIT_COST, UNIT_COSTS
from migflow.model.run import run_scenario

END = "2024-12"  # parole, Safe Mobility, removals and asylum decisions all happen by then


@pytest.fixture(scope="module")
def priced():
    base = small_baseline(scale=1000, end=END)
    doubled = base.with_changes(unit_costs={c.key: 2 * c.usd for c in UNIT_COSTS})
    return run_scenario(base), run_scenario(doubled)


def test_pathway_spending_is_arrivals_times_the_cost_per_arrival(priced):
    results, _ = priced
    expected = sum(
        results.total(f"pathway_{kind}") * UNIT_COST[key].usd / 1e6
        for kind, key in (("labour", "labour_visa"), ("parole", "parole"),
                          ("resettlement", "resettlement"), ("safe_mobility", "safe_mobility"))
    )  # fmt: skip
    assert expected > 0
    assert results.summary["pathways_musd"].sum() == pytest.approx(expected, rel=1e-9)
    regularised = results.total("regularised_by_programme")
    assert results.summary["regularisation_musd"].sum() == pytest.approx(
        regularised * UNIT_COST["regularised_by_programme"].usd / 1e6, rel=1e-9
    )


def test_a_unit_cost_changes_what_is_spent_and_nothing_else(priced):
    results, doubled = priced
    people = [c for c in results.summary.columns if not c.endswith("_musd")]
    pd.testing.assert_frame_equal(results.summary[people], doubled.summary[people])
    for lever in ("regularisation", "pathways", "enforcement", "asylum"):
        before = results.summary[f"{lever}_musd"].sum()
        assert before > 0, lever  # each priced lever does something by 2024
        assert doubled.summary[f"{lever}_musd"].sum() == pytest.approx(2 * before, rel=1e-9)
    for lever in ("integration", "root_causes"):  # money already: no unit cost
        assert doubled.summary[f"{lever}_musd"].sum() == results.summary[f"{lever}_musd"].sum()


def test_the_total_cost_is_the_sum_of_every_lever_and_of_the_spending_table(priced):
    results, _ = priced
    s = results.summary
    levers = s[[f"{lever}_musd" for lever in SPENDING_LEVERS]]
    assert np.allclose(s["cost_musd"], levers.sum(axis=1))
    assert results.spending["musd"].sum() == pytest.approx(s["cost_musd"].sum(), rel=1e-9)


def test_removals_are_priced_only_where_someone_is_removed_home():
    """Expulsions across the border (Title 42) remove nobody home and cost nothing; the same
    stops as removals do."""
    base = small_baseline(scale=1000, end="2016-12").with_changes(enforcement=[])
    stop = {"edge": "MEX-USA", "interdiction": 0.9, "start": "2015-01"}
    removed = run_scenario(base.with_changes(enforcement=[stop]))
    expelled = run_scenario(base.with_changes(enforcement=[stop | {"expulsion": True}]))
    assert removed.summary["enforcement_musd"].sum() > 0
    assert expelled.summary["enforcement_musd"].sum() < removed.summary["enforcement_musd"].sum()


def _per_draw(cost_musd, crossings):
    """Differences per draw; no draw changes deaths or regularisations."""
    rows = []
    n = len(cost_musd)
    columns = {"cost_musd": cost_musd, "darien_crossings": crossings,
               "expected_deaths": [0.0] * n, "regularisations": [0.0] * n}  # fmt: skip
    for outcome, values in columns.items():
        for draw, v in enumerate(values):
            rows.append({"draw": draw, "outcome": outcome, "difference": v})
    return pd.DataFrame(rows)


def test_cost_effectiveness_is_extra_dollars_per_crossing_averted_draw_by_draw():
    # $10 M that averts 1,000 crossings in one draw and 4,000 in the other: $10,000 and
    # $2,500 per crossing (not $10 M / 2,500 on the average)
    value = cost_effectiveness(_per_draw([10.0, 10.0], [-1000.0, -4000.0])).set_index("outcome")
    row = value.loc["darien_crossings"]
    assert row["draws_with_effect"] == 2
    assert row["usd_median"] == pytest.approx((10_000 + 2_500) / 2)
    assert row["usd_p05"] < row["usd_median"] < row["usd_p95"] <= 10_000


def test_no_cost_per_unit_where_the_effect_is_not_there_in_every_draw():
    value = cost_effectiveness(_per_draw([5.0, 5.0, 5.0], [-100.0, 50.0, -10.0]))
    row = value.set_index("outcome").loc["darien_crossings"]
    assert np.isnan(row["usd_median"]) and row["draws_with_effect"] == 2
    nothing = value.set_index("outcome").loc["expected_deaths"]
    assert np.isnan(nothing["usd_median"]) and nothing["draws_with_effect"] == 0
