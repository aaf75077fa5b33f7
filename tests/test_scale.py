"""Aggregate outputs must not depend on ``scale`` (people per agent) beyond sampling noise.

At scale K an outcome X (in people) is a sum of K-person agents, so its sampling variance is
about K * X. The difference between a run at scale 1 and one at scale 100 therefore has
standard deviation about sqrt(101 * X). Tolerance: five such standard deviations (feedbacks
through diaspora networks make the noise somewhat larger than the independent-agent figure).
"""

from __future__ import annotations

import math

import pytest
from strategies import small_baseline

from migflow.model.run import run_scenario

INDICATORS = (
    "emigrants",
    # strict xfail: a bias, not noise. Over seeds 12-23 at scale 100 the window's Darién
    # crossings average 15,067 (fit of 2026-12-03, first) and 15,850 (second), against
    # 11,300-11,700 at scale 1 (+32% to +36%): route information reads the busiest month of
    # twelve, and the largest of noisy counts is biased upwards by their noise, larger in
    # 100-person agents. The fit runs at scale 100, so its Darién figures are those of that
    # scale (docs/calibration.md, Known limits). A twelve-month average removes the bias (this
    # test passes with it) but its refits met fewer goals, so it is not shipped.
    pytest.param(
        "darien_crossings",
        marks=pytest.mark.xfail(strict=True, reason="scale bias of the Darién crossings"),
    ),
    "us_border_arrivals",
    "regularisations",
    "returns",
    "interdictions",
)


@pytest.fixture(scope="module")
def runs():
    fine = run_scenario(small_baseline(scale=1, seed=11, end="2016-12"))
    coarse = run_scenario(small_baseline(scale=100, seed=12, end="2016-12"))
    return fine.summary, coarse.summary


@pytest.mark.parametrize("indicator", INDICATORS)
def test_totals_at_scale_1_and_100_agree_within_sampling_noise(runs, indicator):
    fine, coarse = runs
    a, b = fine[indicator].sum(), coarse[indicator].sum()
    assert a > 0
    tolerance = 5 * math.sqrt(101 * max(a, b))
    assert abs(a - b) <= tolerance, f"{indicator}: scale 1 {a:,.0f} vs scale 100 {b:,.0f}"


@pytest.mark.parametrize("host", ["COL", "PER", "ECU", "CHL"])
def test_year_end_stocks_at_scale_1_and_100_agree_within_sampling_noise(runs, host):
    fine, coarse = runs
    a = fine[f"venezuelans_in_{host}"].iloc[-1]
    b = coarse[f"venezuelans_in_{host}"].iloc[-1]
    tolerance = 5 * math.sqrt(101 * max(a, b))
    assert abs(a - b) <= tolerance, f"{host}: scale 1 {a:,.0f} vs scale 100 {b:,.0f}"
