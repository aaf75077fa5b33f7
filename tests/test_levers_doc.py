"""docs/levers.md states each unit cost and each assumed range as the code holds them, and
posterior draws carry the assumed ranges (calibration/assumptions.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from migflow.calibration.assumptions import ASSUMED, ASSUMPTION, check_ranges
from migflow.calibration.posterior import Posterior, load_posterior
from migflow.model.costs import UNIT_COSTS
from migflow.model.parameters import SPEC_BY_NAME

DOC = (Path(__file__).resolve().parents[1] / "docs" / "levers.md").read_text()


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_unit_cost_table_is_the_codes():
    row = re.compile(
        r"^\| `(\w+)` \| (\w+) \| [^|]+ \| ([\d,.]+) \| ([\d,.]+) \.\. ([\d,.]+) \|", re.M
    )
    documented = {m[0]: (m[1], *map(_number, m[2:])) for m in row.findall(DOC)}
    for cost in UNIT_COSTS:
        assert documented.get(cost.key) == (cost.lever, cost.usd, cost.low, cost.high), cost.key
        assert cost.low <= cost.usd <= cost.high
        assert cost.priced == bool(cost.source), cost.key  # a price has a source; none, none


def test_the_assumed_range_table_is_the_codes():
    row = re.compile(
        r"^\| `([\w.]+)` \| ([\d,.]+) \| ([\d,.]+) \.\. ([\d,.]+) \| (log|linear) \|", re.M
    )
    documented = {m[0]: (*map(_number, m[1:4]), m[4]) for m in row.findall(DOC)}
    for a in ASSUMED:
        scale = "log" if a.log_scale else "linear"
        *values, documented_scale = documented[a.name]
        assert values == pytest.approx([SPEC_BY_NAME[a.name].default, a.low, a.high]), a.name
        assert documented_scale == scale, a.name
    check_ranges()


def _posterior(fitted: dict[str, list[float]]) -> Posterior:
    ensemble = pd.DataFrame({**fitted, "weight": 1.0})
    return Posterior({}, ensemble, {}, Path("."))


def test_every_draw_draws_the_assumed_parameters_within_their_ranges():
    draws = _posterior({"beta_network": [0.1, 0.2]}).draws(200, seed=3)
    for a in ASSUMED:
        values = np.array([d[a.name] for d in draws])
        assert values.min() >= a.low and values.max() <= a.high, a.name
        assert values.std() > 0, a.name
    again = _posterior({"beta_network": [0.1, 0.2]}).draws(200, seed=3)
    assert [d.as_dict() for d in draws] == [d.as_dict() for d in again]  # by seed


def test_a_scenarios_own_value_and_a_fitted_value_win_over_the_assumed_range():
    name = ASSUMED[0].name
    fitted = _posterior({name: [SPEC_BY_NAME[name].low] * 2})
    assert {d[name] for d in fitted.draws(20, seed=1)} == {SPEC_BY_NAME[name].low}
    other = ASSUMED[1].name
    overridden = _posterior({"beta_network": [0.1]}).draws(20, seed=1, overrides={other: 77.0})
    assert {d[other] for d in overridden} == {77.0}


@pytest.mark.skipif(load_posterior() is None, reason="no shipped posterior")
def test_the_shipped_posterior_leaves_the_assumed_parameters_to_their_ranges():
    fitted = set(load_posterior().ensemble.columns)
    assert not fitted & set(ASSUMPTION), "an assumed parameter is fitted: drop it from ASSUMED"
