"""Headline indicators of a run and their change against the baseline (plain pandas).

Flows (crossings, arrivals, regularisations, deaths, spending) are summed or averaged over
the years the user picks; stocks (Venezuelans in a host) are read at the end of the last of
those years. Costs count only what the model puts a price on: integration funding and
root-cause funding (``Results.spending``). Regularisation programmes, legal pathways,
enforcement and asylum processing carry no cost in the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from migflow.model.outcomes import MAIN_HOSTS, OUTCOME
from migflow.model.results import Results
from migflow.model.scenario import Scenario

from .state import changes_from


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    value: float
    baseline: float
    unit: str  # "people", "people/yr", "$M"
    help: str

    @property
    def difference(self) -> float:
        return self.value - self.baseline


@dataclass(frozen=True)
class Cost:
    key: str
    label: str
    usd: float | None  # None: not defined (see ``why``)
    why: str
    help: str


def years_of(results: Results) -> list[int]:
    return [int(y) for y in results.summary["year"]]


#: what each lever of ``spending`` reads (model/outcomes.py)
_FUNDING = {None: "funding_musd", "integration": "integration_musd",
            "root_causes": "root_causes_musd"}  # fmt: skip


def spending(results: Results, years: tuple[int, int], lever: str | None = None) -> float:
    """Spending in $M over ``years`` (one lever, or all: integration and root causes)."""
    return _sum(results, _FUNDING[lever], years)


def _mean(results: Results, column: str, years: tuple[int, int]) -> float:
    return OUTCOME[column].per_year(results.summary, *years)


def _sum(results: Results, column: str, years: tuple[int, int]) -> float:
    return OUTCOME[column].total(results.summary, *years)


def _end(results: Results, column: str, years: tuple[int, int]) -> float:
    return OUTCOME[column].at_end(results.summary, years[1])


#: The headline cards: an outcome of the registry (model/outcomes.py) and how it is read
#: over the chosen years: a flow's yearly average ("mean") or total ("sum"), a stock at the
#: end ("end").
CARDS: tuple[tuple[str, str], ...] = (
    ("darien_crossings", "mean"),
    ("us_border_arrivals", "mean"),
    *((f"venezuelans_in_{h}", "end") for h in MAIN_HOSTS),
    ("regularisations", "sum"),
    ("legal_pathway_arrivals", "sum"),
    ("expected_deaths", "sum"),
    ("funding_musd", "sum"),
)
_READ = {"mean": _mean, "sum": _sum, "end": _end}
_SUFFIX = {"mean": " per year", "sum": "", "end": " (end)"}


def _unit(unit: str) -> str:
    """A table label's unit, when it is not people (which every other row counts)."""
    return "" if unit == "people" else f" ({unit})"


def _period(how: str, years: tuple[int, int]) -> str:
    y0, y1 = years
    span = f"{y0}–{y1}" if y0 != y1 else f"{y0}"
    return {"mean": f"Average a year, {span}.", "sum": f"Total, {span}.",
            "end": f"At the end of {y1}."}[how]  # fmt: skip


def headline(results: Results, baseline: Results, years: tuple[int, int]) -> list[Indicator]:
    """The headline indicators of ``results`` and of ``baseline`` over ``years``."""
    out = []
    for name, how in CARDS:
        outcome, read = OUTCOME[name], _READ[how]
        out.append(
            Indicator(
                name,
                outcome.label + (_SUFFIX[how] if how == "mean" else ""),
                read(results, name, years),
                read(baseline, name, years),
                outcome.unit + ("/yr" if how == "mean" else ""),
                f"{outcome.counts} {_period(how, years)}",
            )
        )
    return out


def costs(results: Results, baseline: Results, years: tuple[int, int]) -> list[Cost]:
    """Cost per person regularised and per Darién crossing averted (against the baseline)."""
    free = (
        "The model puts a cost only on integration and root-cause funding; regularisation "
        "programmes, pathways and enforcement cost nothing in it, so $0 means 'no funding "
        "change', not 'free in reality'."
    )
    integration = spending(results, years, "integration") - spending(baseline, years, "integration")
    regularised = _sum(results, "regularisations", years) - _sum(baseline, "regularisations", years)
    total = spending(results, years) - spending(baseline, years)
    averted = _sum(baseline, "darien_crossings", years) - _sum(results, "darien_crossings", years)
    per_person = (
        Cost(
            "cost_per_regularised",
            "Cost per extra person regularised",
            1e6 * integration / regularised,
            "",
            "Extra integration (and programme) spending divided by the extra people "
            "regularised, against the baseline. " + free,
        )
        if regularised > 0
        else Cost(
            "cost_per_regularised",
            "Cost per extra person regularised",
            None,
            "n/a: this scenario regularises no more people than the baseline, so there is no "
            "cost per extra person.",
            "Extra integration (and programme) spending divided by the extra people "
            "regularised, against the baseline. " + free,
        )
    )
    per_crossing = (
        Cost(
            "cost_per_crossing_averted",
            "Cost per Darién crossing averted",
            1e6 * total / averted,
            "",
            "Extra spending (integration and root causes) divided by the Darién crossings "
            "averted, against the baseline. " + free,
        )
        if averted > 0
        else Cost(
            "cost_per_crossing_averted",
            "Cost per Darién crossing averted",
            None,
            "n/a: this scenario averts no Darién crossings (it has as many or more than the "
            "baseline), so there is no cost per crossing averted.",
            "Extra spending (integration and root causes) divided by the Darién crossings "
            "averted, against the baseline. " + free,
        )
    )
    return [per_person, per_crossing]


def fmt(value: float, unit: str) -> str:
    if unit == "$M":
        return f"${value:,.1f} M"
    return f"{value:,.0f}"


def fmt_change(indicator: Indicator) -> str:
    diff = indicator.difference
    sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
    text = fmt(abs(diff), indicator.unit)
    if indicator.baseline:
        pct = f"{100 * diff / indicator.baseline:+.1f}%".replace("-", "−")
        return f"{sign}{text} ({pct})"
    return f"{sign}{text}"


def arrow(indicator: Indicator) -> str:
    """The metric's arrow: up, down, or none for no change."""
    diff = indicator.difference
    return "up" if diff > 0 else ("down" if diff < 0 else "off")


def fmt_usd(usd: float) -> str:
    return f"${usd:,.0f}"


def first_change_year(scenario: Scenario, reference: Scenario) -> int | None:
    """The first year in which something of ``scenario`` that the reference lacks starts."""
    starts = [int(row["from"][:4]) for row in changes_from(scenario, reference)]
    return min(starts) if starts else None


def default_period(scenario: Scenario, reference: Scenario, years: list[int]) -> tuple[int, int]:
    """From the first year a lever differs from the baseline (else 2022) to the last year."""
    first = first_change_year(scenario, reference) or 2022
    first = min(max(first, years[0]), years[-1])
    return first, years[-1]


def band(summaries: list[pd.DataFrame], column: str) -> pd.DataFrame:
    """Per year, the 90% band of ``column`` over posterior runs' summaries (the one
    definition in ``calibration.uncertainty``)."""
    from migflow.calibration.uncertainty import band_of

    lo, _, hi = band_of(np.vstack([s[column].to_numpy(dtype=float) for s in summaries]))
    return pd.DataFrame({"year": summaries[0]["year"].to_numpy(), "lo": lo, "hi": hi})


def outside_band(summary: pd.DataFrame, summaries: list[pd.DataFrame]) -> float:
    """Share of (series, year) points of the yearly charts where ``summary`` lies outside the
    5–95% band of ``summaries``."""
    columns = [
        "darien_crossings",
        "us_border_arrivals",
        "regularisations",
        "legal_pathway_arrivals",
    ]
    columns += [f"venezuelans_in_{h}" for h in MAIN_HOSTS]
    outside = total = 0
    for column in columns:
        b = band(summaries, column)
        value = summary[column].to_numpy(dtype=float)
        outside += int(
            ((value < b["lo"].to_numpy() - 1e-9) | (value > b["hi"].to_numpy() + 1e-9)).sum()
        )
        total += len(value)
    return outside / total if total else 0.0


#: Outcomes of the comparison table (model/outcomes.py) and how each is read over the years:
#: flows as a yearly average ("mean") or a total ("sum"), stocks at the end ("end").
_COMPARED: tuple[tuple[str, str], ...] = (
    ("darien_crossings", "mean"),
    ("us_border_arrivals", "mean"),
    *((f"venezuelans_in_{h}", "end") for h in MAIN_HOSTS),
    ("regularisations", "sum"),
    ("legal_pathway_arrivals", "sum"),
    ("interdictions", "sum"),
    ("expected_deaths", "sum"),
    ("returns", "sum"),
    ("emigrants", "sum"),
    ("funding_musd", "sum"),
)
#: label, summary column, how it is aggregated
COMPARE_ROWS: tuple[tuple[str, str, str], ...] = tuple(
    (OUTCOME[name].label + _SUFFIX[how] + _unit(OUTCOME[name].unit), name, how)
    for name, how in _COMPARED
)


def comparison_table(named: list[tuple[str, Results]], years: tuple[int, int]) -> pd.DataFrame:
    """One row per indicator, one column per scenario (values over ``years``)."""
    rows = {}
    for label, column, how in COMPARE_ROWS:
        rows[label] = [_READ[how](res, column, years) for _, res in named]
    return pd.DataFrame(rows, index=[name for name, _ in named]).T
