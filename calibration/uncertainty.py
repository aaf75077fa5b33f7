"""Posterior bands, defined once: which runs make them and how they are summarised.

``migflow run --draws``, the app's bands and anything else that shows "how sure" use the same
runs (``posterior_runs``) and the same percentiles (``band_of``), so the command line and the
app never disagree about an interval. Draw ``i`` is the ``i``-th parameter set chosen from
the shipped ensemble with the scenario's seed, run with seed ``seed + i``: the interval
carries parameter uncertainty and sampling noise together. Two scenarios with the same seed
get the same draws and seeds, so their bands differ only by the policy (common random
numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from migflow.model.errors import InputError
from migflow.model.parameters import Parameters
from migflow.model.run import run_scenarios
from migflow.model.scenario import Scenario

from .posterior import load_posterior

#: The percentiles of every band: a 90% interval around the median.
BAND_PERCENTILES = (5, 50, 95)


def posterior_runs(
    scenario: Scenario, draws: int, posterior=None
) -> list[tuple[Scenario, Parameters]]:
    """The (scenario, parameters) of each of ``draws`` posterior runs of ``scenario``; the
    scenario's own parameter overrides are kept in every draw."""
    posterior = posterior if posterior is not None else load_posterior()
    if posterior is None:
        raise InputError(
            "no calibration posterior is shipped; run `migflow calibrate`", field="--draws"
        )
    if draws < 2:
        raise InputError("needs at least 2 draws", field="--draws")
    sets = posterior.draws(draws, seed=scenario.seed, overrides=dict(scenario.parameters))
    return [
        (scenario.with_changes(seed=(scenario.seed + i) % 2**32), params)
        for i, params in enumerate(sets)
    ]


def band_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p05, median, p95) over the first axis (the draws) of ``values``."""
    low, mid, high = np.percentile(np.asarray(values, dtype=float), BAND_PERCENTILES, axis=0)
    return low, mid, high


def summary_bands(summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Long table (year, indicator, median, p05, p95) of several runs' yearly summaries."""
    stacked = np.stack([s.drop(columns="year").to_numpy() for s in summaries])
    columns = summaries[0].columns.drop("year")
    years = summaries[0]["year"].to_numpy()
    rows = []
    for j, name in enumerate(columns):
        q05, q50, q95 = band_of(stacked[:, :, j])
        rows.append(
            pd.DataFrame({"year": years, "indicator": name, "median": q50, "p05": q05, "p95": q95})
        )
    return pd.concat(rows, ignore_index=True)


def run_draws(scenario: Scenario, draws: int, progress=None) -> pd.DataFrame:
    """Bands of the yearly summary over ``draws`` posterior runs (``summary_bands``), run
    side by side on every core; ``progress(done, total)`` after each run."""
    runs = posterior_runs(scenario, draws)
    return summary_bands(run_scenarios(runs, progress=progress, summary_only=True))
