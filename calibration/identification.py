"""What the data decide: each fitted parameter's spread in the ensemble against its prior.

Policy staff read an interval as "what the data allow". The ensemble is drawn from a
posterior whose prior is uniform over each parameter's plausible range
(``emulated_posterior.py``), so a parameter's posterior spread against that prior's says
how much the documented figures narrow it. The table gives, per parameter, the ensemble's
5-95% spread, on the scale the fit searches (log for the emigration bases and hazards), its
standard deviation against the prior's, a verdict on the same thresholds as the local
measure of ``information.py`` (decided below a quarter of the prior's, left at the prior
above three quarters), and whether the point estimate sits at a bound of its range.
Lever effects that rest on a parameter left at its prior rest on the prior, not on the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .goals import bound_side
from .information import DECIDED, LEFT_AT_PRIOR, PRIOR_SD
from .space import ParameterSpace
from .uncertainty import BAND_PERCENTILES

VERDICTS = ("decided by the data", "narrowed by the data", "left at its prior")
#: the verdict for every parameter of an ensemble drawn inside a box around the point (ABC)
BOXED = "set by its box, not by the data"


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, q, side="left")])


def verdict(sd_over_prior: float) -> str:
    """The one reading of a posterior-over-prior spread ratio the reports use."""
    if sd_over_prior < DECIDED:
        return VERDICTS[0]
    return VERDICTS[1] if sd_over_prior < LEFT_AT_PRIOR else VERDICTS[2]


def spread_table(
    ensemble: pd.DataFrame,
    point: dict[str, float],
    space: ParameterSpace | None = None,
    box_width: float = 0.0,
) -> pd.DataFrame:
    """One row per fitted parameter of ``space`` that ``ensemble`` holds: its range, the
    point, the ensemble's weighted 5-95% spread and its share of the range, the ensemble's
    sd against the prior's, whether the point is at a bound, and the verdict. An ensemble
    drawn inside a box of ``box_width`` of each range around the point (ABC) says nothing
    of what the data decide: its verdict is ``BOXED`` (``information.py`` measures it)."""
    space = space or ParameterSpace()
    weights = ensemble["weight"].to_numpy(dtype=float)
    weights = weights / weights.sum()
    rows = []
    for i, name in enumerate(space.names):
        if name not in ensemble:
            continue
        sub = ParameterSpace((name,))
        unit = np.array([sub.to_unit({name: v})[0] for v in ensemble[name].to_numpy(float)])
        low_q, _, high_q = (p / 100 for p in BAND_PERCENTILES)
        lo, hi = _weighted_quantile(unit, weights, low_q), _weighted_quantile(unit, weights, high_q)
        mean = float(np.sum(weights * unit))
        sd = float(np.sqrt(np.sum(weights * (unit - mean) ** 2)))
        rows.append({
            "parameter": name,
            "low": float(space.lows[i]),
            "high": float(space.highs[i]),
            "point": point.get(name, np.nan),
            "p05": sub.to_values(np.array([lo]))[name],
            "p95": sub.to_values(np.array([hi]))[name],
            "share_of_range": hi - lo,
            "sd_over_prior": sd / PRIOR_SD,
            "point_at_bound": bool(name in point and bound_side(name, point[name])),
            "verdict": BOXED if box_width > 0 else verdict(sd / PRIOR_SD),
        })  # fmt: skip
    return pd.DataFrame(rows)
