"""Aggregate outputs must not depend on ``scale`` (people per agent) beyond sampling noise.

At scale K an outcome X (in people) is a sum of K-person agents, so its sampling variance is
about K * X. The difference between a run at scale 1 and one at scale 100 therefore has
standard deviation about sqrt(101 * X). Tolerance: five such standard deviations (feedbacks
through diaspora networks make the noise somewhat larger than the independent-agent figure).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from strategies import small_baseline

from migflow.model.run import run_scenario

INDICATORS = (
    "emigrants",
    "darien_crossings",  # one pair of runs: the test of its bias, over many, is below
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


@pytest.mark.xfail(strict=True, reason="scale bias of the Darién crossings")
def test_the_darien_crossings_do_not_depend_on_the_scale_on_average():
    """A bias, which one pair of runs can hide (the test above passes or not by its seeds):
    the mean over 24 seeds at scale 100 against 2 at scale 1 (2015-2016), within four
    standard errors of their difference. It fails, so it is a strict xfail: route
    information reads the busiest of twelve months, and the largest of noisy counts is
    biased upwards by their noise, larger in 100-person agents (measured at the fit of
    2026-12-03, third: 16,025 against 11,977 crossings, +34%; docs/calibration.md, Known
    limits). A twelve-month average removes the bias (this test passes with it, on branch
    ``exp-mean``) but its refits met fewer goals, so it is not shipped. The fit runs at
    scale 100, so its Darién figures are that scale's."""
    coarse = [_crossings(100, seed) for seed in range(12, 36)]
    fine = [_crossings(1, seed) for seed in (11, 13)]
    # the scale-1 runs' spread from the independent-agent figure (two runs say little)
    error = math.sqrt(np.var(coarse, ddof=1) / len(coarse) + np.mean(fine) / len(fine))
    assert abs(np.mean(coarse) - np.mean(fine)) <= 4 * error, (np.mean(coarse), np.mean(fine))


def _crossings(scale: int, seed: int) -> float:
    summary = run_scenario(small_baseline(scale=scale, seed=seed, end="2016-12")).summary
    return float(summary["darien_crossings"].sum())


@pytest.mark.parametrize("host", ["COL", "PER", "ECU", "CHL"])
def test_year_end_stocks_at_scale_1_and_100_agree_within_sampling_noise(runs, host):
    fine, coarse = runs
    a = fine[f"venezuelans_in_{host}"].iloc[-1]
    b = coarse[f"venezuelans_in_{host}"].iloc[-1]
    tolerance = 5 * math.sqrt(101 * max(a, b))
    assert abs(a - b) <= tolerance, f"{host}: scale 1 {a:,.0f} vs scale 100 {b:,.0f}"
