"""Outcomes: functions from one run's Results to the numbers a sweep records.

An outcome in a sweep file names an *indicator* and a span of years:

* a column of ``Results.summary`` that counts events in a year (``darien_crossings``,
  ``us_border_arrivals``, ``deaths``, ``regularisations``, ...): summed over the years;
* a stock column of the summary (``venezuelans_in_COL``, ...) or ``stock.HOST`` (everyone
  living in HOST at the end of the year, irregular or regularised, all origins): the value at
  the end of the last year of the span;
* ``spending_musd``: integration plus root-cause spending in $M, summed over the years (the
  registry's ``funding_musd``, under the name sweep files have used);
* ``cost_per_crossing_averted``: extra spending (USD) over Darién crossings averted, both
  against the *reference run* (the base scenario with the same seed and the same parameter
  values), over the years. Undefined (NaN) when no crossing is averted.

``difference = true`` turns any indicator into "run minus reference".

The worker records *measures* (raw numbers of one run); ``finalise`` turns the measures of a
run and of its reference into outcomes. Keeping the reference out of the worker means every
run is independent of every other, so order and worker never change a stored number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from migflow.model.geography import CODES, HOSTS
from migflow.model.outcomes import FLOWS, OUTCOME, STOCKS
from migflow.model.results import Results

# the summary's outcomes (model/outcomes.py): flows summed over a span, stocks at its end
FLOW_COLUMNS = FLOWS
STOCK_COLUMNS = STOCKS
HOST_STOCKS = tuple(f"stock.{h}" for h in HOSTS)
COST_PER_CROSSING_AVERTED = "cost_per_crossing_averted"
INDICATORS = (
    *FLOW_COLUMNS,
    *STOCK_COLUMNS,
    *HOST_STOCKS,
    "spending_musd",
    COST_PER_CROSSING_AVERTED,
)


def measure_names(name: str, indicator: str) -> tuple[str, ...]:
    """The raw numbers a worker stores for one outcome."""
    if indicator == COST_PER_CROSSING_AVERTED:
        return (f"{name}:spending_musd", f"{name}:darien_crossings")
    return (name,)


def indicator_value(results: Results, indicator: str, first: int, last: int) -> float:
    """One indicator of one run over the years ``first..last`` (stocks: end of ``last``)."""
    s = results.summary
    if indicator in OUTCOME:
        return OUTCOME[indicator].over(s, first, last)
    if indicator in HOST_STOCKS:
        host = indicator.removeprefix("stock.")
        years = results.stocks["month"].cat.categories.year
        end = np.flatnonzero(years <= last)[-1]  # the last month of the year ``last``
        return float(results.settled()[end, CODES.index(host)].sum())
    if indicator == "spending_musd":  # the name sweep files use for funding_musd
        return OUTCOME["funding_musd"].total(s, first, last)
    raise KeyError(f"unknown indicator {indicator!r}")


def measure(results: Results, outcomes: Mapping) -> dict[str, float]:
    """Every measure of one run. ``outcomes`` maps a name to a spec with ``indicator`` and
    ``span`` (first, last year)."""
    values = {}
    for name, spec in outcomes.items():
        first, last = spec.span
        if spec.indicator == COST_PER_CROSSING_AVERTED:
            spend, darien = measure_names(name, spec.indicator)
            values[spend] = indicator_value(results, "spending_musd", first, last)
            values[darien] = indicator_value(results, "darien_crossings", first, last)
        else:
            values[name] = indicator_value(results, spec.indicator, first, last)
    return values


def finalise(runs: pd.DataFrame, refs: pd.DataFrame | None, outcomes: Mapping) -> pd.DataFrame:
    """Outcome columns from measure columns. ``runs`` has ``measure:NAME`` columns; ``refs``
    holds the reference run's measures aligned row by row (or None if no outcome needs one)."""
    out = {}
    for name, spec in outcomes.items():
        if spec.indicator == COST_PER_CROSSING_AVERTED:
            spend, darien = (f"measure:{m}" for m in measure_names(name, spec.indicator))
            extra_usd = (runs[spend].to_numpy() - refs[spend].to_numpy()) * 1e6
            averted = refs[darien].to_numpy() - runs[darien].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                out[name] = np.where(averted > 0, extra_usd / averted, np.nan)
        elif spec.difference:
            out[name] = runs[f"measure:{name}"].to_numpy() - refs[f"measure:{name}"].to_numpy()
        else:
            out[name] = runs[f"measure:{name}"].to_numpy()
    return pd.DataFrame(out, index=runs.index)
