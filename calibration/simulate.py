"""Simulated values of the targets, and how far they are from the documented ones.

Values are read from a run's results (``run_scenario``), the tables every user gets, as dense
arrays (``Results.dense``): a target and a user's table cannot disagree. Rows outside the
model window are NaN.

The fit minimises a weighted sum of squared log ratios, log((sim + c) / (data + c)) with c
= 1,000 people: a relative error that treats over- and under-shooting alike and stays
defined for the zero counts of early Darién years (for a share, c = 0.01). The offset is
the model's resolution: at the fitted scale one agent is 100 people, and a yearly count of
ten agents has a Poisson noise of about 30%, so differences below ~1,000 people carry no
information about the parameters (with c = 100 the fit chased the tens of Venezuelans
crossing the Darién before 2021 at the expense of the million-sized stocks).
``minimum`` targets (incomplete counts) only count a shortfall and ``maximum`` targets
(upper bounds) only an excess. Reports use Flee's averaged relative difference, ARD = sum
|sim - data| / sum data, per group and overall; for a bound row the difference is how far
the bound is broken (0 when it holds), and the overall ARD is over the other rows only: a
bound is not a count the model should hit, and a bound that holds would otherwise dilute
the overall figure; nor over shares, which are not people. A ``change`` row (an episode's
month, fitted as its ratio to the month before) is reported as the level it is, like any
count: the ARD says how far the model's figures are from the record, the loss what the fit
is asked to match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from migflow.model.calendar import parse_month
from migflow.model.geography import (
    CODES,
    DARIEN,
    DARIEN_END,
    DARIEN_NATIONALITIES,
    EDGE_DST,
    EDGE_INDEX,
    EDGE_IS_AIR,
    ORIGIN_INDEX,
    ORIGINS,
)
from migflow.model.population import REGULARISED
from migflow.model.recorder import KIND_INDEX
from migflow.model.results import Results, living

from .targets import BOUND_ERRORS, SHARES, previous_rows

OFFSET = 1000.0
SHARE_OFFSET = 0.01
_DARIEN = EDGE_INDEX[DARIEN]
_USA = CODES.index("USA")
_OTHER = np.array([o not in DARIEN_NATIONALITIES for o in ORIGINS])


def origin_mask(nationality: str) -> np.ndarray:
    """Which modelled origins a target's nationality code (an origin, OTHER or ALL) covers."""
    if nationality == "ALL":
        return np.ones(len(ORIGINS), dtype=bool)
    if nationality == "OTHER":
        return _OTHER
    mask = np.zeros(len(ORIGINS), dtype=bool)
    mask[ORIGIN_INDEX[nationality]] = True
    return mask


def simulated_values(results: Results, targets: pd.DataFrame) -> np.ndarray:
    """One simulated value per target row (people), from a run's results."""
    first = parse_month(results.manifest["months"][0])
    flow, events = results.dense("flows"), results.dense("events")
    stocks = results.dense("stocks")  # (month, country, origin, status)
    settled = living(stocks)
    n_months = flow.shape[0]
    out = np.full(len(targets), np.nan)
    for i, row in enumerate(targets.itertuples(index=False)):
        t0, t1 = row.start_month - first, row.end_month - first
        if t0 < 0 or t1 >= n_months:
            continue
        nat = origin_mask(row.nationality)
        span = slice(t0, t1 + 1)
        if row.quantity == "darien_crossings":
            out[i] = flow[span, _DARIEN][:, nat].sum()
        elif row.quantity == "stock":
            out[i] = settled[t1, CODES.index(row.country)][nat].sum()
        elif row.quantity == "us_border_arrivals":
            out[i] = events[span, KIND_INDEX["us_border_arrival"], _USA][:, nat].sum()
        elif row.quantity == "darien_deaths":
            # the expectation, not the drawn deaths: about 1 crossing in 2,600 dies, so at
            # 100 people per agent the drawn count is 0 in most years and 100 in a few
            out[i] = events[span, KIND_INDEX["expected_deaths"], DARIEN_END].sum()
        elif row.quantity == "deaths":
            kind = KIND_INDEX["expected_deaths"]
            out[i] = events[span, kind, CODES.index(row.country)].sum()
        elif row.quantity == "regularised_by_programme":
            kind = KIND_INDEX["regularised_by_programme"]
            out[i] = events[span, kind, CODES.index(row.country)][:, nat].sum()
        elif row.quantity == "air_arrivals":
            landing = EDGE_IS_AIR & (EDGE_DST == CODES.index(row.country))
            out[i] = flow[span][:, landing][:, :, nat].sum()
        elif row.quantity == "regular_share":
            here = stocks[t1, CODES.index(row.country)][nat]
            people = living(here).sum()
            out[i] = here[:, REGULARISED].sum() / people if people > 0 else 0.0
        elif row.quantity == "darien_third_country_share":
            crossed = flow[span, _DARIEN][:, nat].sum()
            onward = events[span, KIND_INDEX["darien_from_third_country"], DARIEN_END]
            out[i] = onward[:, nat].sum() / crossed if crossed > 0 else 0.0
    return out


def offsets(targets: pd.DataFrame) -> np.ndarray:
    """The offset of each row's log ratio: ``OFFSET`` people for counts, ``SHARE_OFFSET``
    for shares (a thousand people's offset would make any share look right)."""
    return np.where(targets["quantity"].isin(SHARES), SHARE_OFFSET, OFFSET)


def log_errors(sim: np.ndarray, targets: pd.DataFrame) -> np.ndarray:
    """Signed log ratio per row (0 where a bound holds; NaN outside window). A ``change``
    row's error is its log ratio less the month before's: how far the model's rise or fall
    from that month is from the record's, whatever the level both started from."""
    data, offset = targets["value"].to_numpy(), offsets(targets)
    err = np.log((sim + offset) / (data + offset))
    before = previous_rows(targets)
    change = before >= 0
    err[change] = err[change] - err[before[change]]
    return np.where(bound_holds(err, targets["error"].to_numpy()), 0.0, err)


def bound_holds(signed: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Rows whose ``minimum`` or ``maximum`` is respected, given sim - data (or any measure
    with its sign) and each row's error kind; False for the other rows."""
    return ((kinds == "minimum") & (signed >= 0)) | ((kinds == "maximum") & (signed <= 0))


def loss(sim: np.ndarray, targets: pd.DataFrame) -> float:
    """Weighted mean squared log error over the rows inside the model window."""
    err = log_errors(sim, targets)
    weight = targets["weight"].to_numpy()
    ok = np.isfinite(err)
    return float(np.sum(weight[ok] * err[ok] ** 2) / np.sum(weight[ok]))


def ard_by_group(sim: np.ndarray, targets: pd.DataFrame) -> pd.Series:
    """Averaged relative difference per group and overall (rows inside the window)."""
    frame = targets.assign(sim=sim).dropna(subset=["sim"])
    signed = (frame["sim"] - frame["value"]).to_numpy()
    holds = bound_holds(signed, frame["error"].to_numpy())
    frame = frame.assign(diff=np.where(holds, 0.0, np.abs(signed)))
    by_group = frame.groupby("group")[["diff", "value"]].sum()
    ard = by_group["diff"] / by_group["value"]
    counts = frame[~frame["error"].isin(BOUND_ERRORS) & ~frame["quantity"].isin(SHARES)]
    total = counts["value"].sum()
    ard["overall"] = counts["diff"].sum() / total if total > 0 else np.nan
    return ard
