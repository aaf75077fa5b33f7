"""Runs over posterior draws: medians and 90% intervals of the yearly summary.

Each draw uses its own parameter set from the shipped ensemble and its own seed, so the
interval carries parameter uncertainty and sampling noise together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from migflow.model.errors import InputError
from migflow.model.run import run_scenario
from migflow.model.scenario import Scenario

from .posterior import load_posterior


def run_draws(scenario: Scenario, draws: int) -> pd.DataFrame:
    """Long table (year, indicator, median, p05, p95) over ``draws`` posterior runs."""
    posterior = load_posterior()
    if posterior is None:
        raise InputError(
            "no calibration posterior is shipped; run `migflow calibrate`", field="--draws"
        )
    if draws < 2:
        raise InputError("needs at least 2 draws", field="--draws")
    sets = posterior.draws(draws, seed=scenario.seed, overrides=scenario.parameters)
    summaries = [
        run_scenario(scenario.with_changes(seed=(scenario.seed + i) % 2**32), params).summary
        for i, params in enumerate(sets)
    ]
    stacked = np.stack([s.drop(columns="year").to_numpy() for s in summaries])
    columns = summaries[0].columns.drop("year")
    years = summaries[0]["year"].to_numpy()
    rows = []
    for j, name in enumerate(columns):
        q05, q50, q95 = np.percentile(stacked[:, :, j], [5, 50, 95], axis=0)
        rows.append(
            pd.DataFrame({"year": years, "indicator": name, "median": q50, "p05": q05, "p95": q95})
        )
    return pd.concat(rows, ignore_index=True)
