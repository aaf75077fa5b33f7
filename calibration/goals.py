"""The shipped fit's goals, measured on a fit table: what a reviewer checks first.

Each goal is a documented figure against a simulated one (the report gives both the point
estimate's and the median of the draws'), with the threshold it must meet
(docs/calibration.md, "Goals"): the Darién crossings of 2022 and 2023 in total and of
Venezuelans within 25%; the fall of Venezuelan Darién crossings from October to November
2022, when the US began expelling Venezuelans to Mexico, in the right direction and at least
half its documented size; at least 80% of the stock targets 2018-2023 within 15%; US
encounters by nationality FY2020-2023 with ARD at most 0.25; overall ARD at most 0.15. And
the parameters the fit left within 2% of a bound of their range, where the range, not the
data, decided the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from migflow.model.parameters import SPEC_BY_NAME

from .simulate import ard_by_group

NEAR_BOUND = 0.02  # share of a parameter's range


def goals(targets: pd.DataFrame, simulated: np.ndarray) -> pd.DataFrame:
    """One row per goal: what, its unit (people, share, ARD), documented, simulated,
    threshold, met (bool); NaN where the targets lack the rows (a fit that stops before
    2022)."""
    frame = targets.assign(sim=simulated).set_index("id")
    rows = []

    def value(ids, column):
        present = [i for i in ids if i in frame.index]
        if not ids or len(present) < len(ids) or frame.loc[present, "sim"].isna().any():
            return np.nan
        return float(frame.loc[present, column].sum())

    for year in (2022, 2023):
        groups = frame.index[frame.index.str.fullmatch(rf"darien_{year}_[A-Z]+")].tolist()
        for what, ids in (
            (f"Darién crossings {year}", groups),
            (f"of them Venezuelans {year}", [f"darien_{year}_VEN"]),
        ):
            documented, people = value(ids, "value"), value(ids, "sim")
            error = abs(people / documented - 1) if documented else np.nan
            rows.append((what, "people", documented, people, "within 25%", error <= 0.25))
    october, november = "darien_month_2022-10_VEN", "darien_month_2022-11_VEN"
    drop = {c: 1 - value([november], c) / value([october], c) for c in ("value", "sim")}
    rows.append((
        "Venezuelans crossing, fall Oct -> Nov 2022", "share", drop["value"], drop["sim"],
        "at least half the documented fall", drop["sim"] >= 0.5 * drop["value"],
    ))  # fmt: skip
    stocks = frame[(frame["group"] == "stocks") & (frame["error"] == "relative")]
    stocks = stocks[stocks["end"].str[:4].astype(int).between(2018, 2023)].dropna(subset=["sim"])
    within = (np.abs(stocks["sim"] / stocks["value"] - 1) <= 0.15).mean()
    rows.append(("stock targets 2018-2023 within 15%", "share", np.nan, within, "at least 80%",
                 within >= 0.8))  # fmt: skip
    us = targets[targets["group"] == "us_encounters"]
    us_ard = ard_by_group(simulated[us.index], us).get("us_encounters", np.nan)
    rows.append(("US encounters by nationality FY2020-2023, ARD", "ARD", np.nan, us_ard,
                 "at most 0.25", us_ard <= 0.25))  # fmt: skip
    overall = ard_by_group(simulated, targets)["overall"]
    rows.append(("overall ARD", "ARD", np.nan, overall, "at most 0.15", overall <= 0.15))
    return pd.DataFrame(
        rows, columns=["goal", "unit", "documented", "simulated", "threshold", "met"]
    )


def times_met(targets: pd.DataFrame, runs: np.ndarray) -> np.ndarray:
    """How many of ``runs`` (one row of simulated values each) meet each goal."""
    return np.sum([goals(targets, run)["met"].to_numpy(dtype=bool) for run in runs], axis=0)


def bound_side(name: str, value: float) -> str | None:
    """ "low" or "high" if ``value`` lies within ``NEAR_BOUND`` of that end of the parameter's
    range, else None: the one test of "at a bound" the reports use."""
    spec = SPEC_BY_NAME[name]
    span = spec.high - spec.low
    position = (value - spec.low) / span if span > 0 else 0.5
    if position <= NEAR_BOUND:
        return "low"
    return "high" if position >= 1 - NEAR_BOUND else None


def near_bounds(values: dict[str, float], names) -> pd.DataFrame:
    """The fitted parameters within ``NEAR_BOUND`` of their range's ends: the range, not the
    data, decided them (a wider range, or a mechanism the model lacks, would move them)."""
    rows = []
    for name in names:
        spec, edge = SPEC_BY_NAME[name], bound_side(name, values[name])
        if edge:
            rows.append((name, values[name], spec.low, spec.high, edge))
    return pd.DataFrame(rows, columns=["parameter", "value", "low", "high", "at"])
