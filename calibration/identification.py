"""What the data decide: each fitted parameter's spread in the ensemble against its range.

Policy staff read an interval as "what the data allow". For a parameter, that is only true
if the ensemble's spread comes from the data. The shipped ABC step samples inside a box of
``prior_width`` of each parameter's range around the point estimate (docs/calibration.md),
so every spread here is capped by that box. The table says, per parameter, how much of its
range and of its box the ensemble's 90% spread covers, on the scale the fit searches (log
for the emigration bases and hazards), and whether the point estimate sits at a bound of its
range (within 2% of it, as the goals report says). A parameter that fills its box is one the
data do not narrow even there; one at a bound wants a wider range or another mechanism. What
the data themselves allow is measured by ``information.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .goals import bound_side
from .space import ParameterSpace
from .uncertainty import BAND_PERCENTILES

#: a spread covering at least this share of the ABC box: the data leave it open there
FILLS_BOX = 0.5


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, q, side="left")])


def spread_table(
    ensemble: pd.DataFrame, point: dict[str, float], box_width: float,
    space: ParameterSpace | None = None,
) -> pd.DataFrame:  # fmt: skip
    """One row per fitted parameter of ``space`` that ``ensemble`` holds: its range, the
    point, the ensemble's weighted 5-95% spread, that spread as a share of the range and of
    the ABC box (``box_width`` of the range on each side of the point), and a verdict."""
    space = space or ParameterSpace()
    weights = ensemble["weight"].to_numpy(dtype=float)
    rows = []
    for i, name in enumerate(space.names):
        if name not in ensemble:
            continue
        sub = ParameterSpace((name,))
        unit = np.array([sub.to_unit({name: v})[0] for v in ensemble[name].to_numpy(float)])
        # the band every interval of the project uses (5th-95th), weighted by the ensemble
        low_q, _, high_q = (p / 100 for p in BAND_PERCENTILES)
        lo, hi = _weighted_quantile(unit, weights, low_q), _weighted_quantile(unit, weights, high_q)
        share = hi - lo
        of_box = share / (2 * box_width) if box_width > 0 else np.nan
        if name in point and bound_side(name, point[name]):
            verdict = "at a bound of its range"
        elif of_box >= FILLS_BOX:
            verdict = "fills its box: not narrowed by the data there"
        else:
            verdict = "narrowed within its box"
        rows.append({
            "parameter": name,
            "low": float(space.lows[i]),
            "high": float(space.highs[i]),
            "point": point.get(name, np.nan),
            "p05": sub.to_values(np.array([lo]))[name],
            "p95": sub.to_values(np.array([hi]))[name],
            "share_of_range": share,
            "share_of_box": of_box,
            "verdict": verdict,
        })  # fmt: skip
    return pd.DataFrame(rows)
