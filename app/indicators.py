"""Headline indicators of a run and their change against the baseline (plain pandas).

Flows (crossings, arrivals, regularisations, deaths, spending) are summed or averaged over
the years the user picks; stocks (Venezuelans in a host) are read at the end of the last of
those years. Costs are every lever's spending (``model/costs.py``): money for integration and
root causes, and unit costs times what regularisation programmes, legal pathways, removals
and asylum decisions did in the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from migflow.model.outcomes import MAIN_HOSTS, OUTCOME, rounded, signed, within
from migflow.model.results import Results
from migflow.model.scenario import Scenario

from .state import THIS_YEAR, changes_from


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
    ("cost_musd", "sum"),
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


def span_of(years: tuple[int, int]) -> str:
    return f"{years[0]}–{years[1]}" if years[0] != years[1] else str(years[0])


def card_label(name: str, how: str, years: tuple[int, int]) -> str:
    """A card's title: what it counts, its unit when not people, and its period, e.g.
    "Darién crossings, per year 2026–2030" or "Venezuelans in Colombia, end of 2030"."""
    outcome = OUTCOME[name]
    period = {"mean": f"per year {span_of(years)}", "sum": f"total {span_of(years)}",
              "end": f"end of {years[1]}"}[how]  # fmt: skip
    return f"{outcome.heading}, {period}"


def card_intervals(
    draws: tuple[list[pd.DataFrame], list[pd.DataFrame]], years: tuple[int, int]
) -> dict[str, tuple[float, float]]:
    """The 90% interval of each headline card's change over paired posterior draws
    (baseline side, scenario side), read as the card reads it: a yearly average, a total, or
    a stock at the end of ``years``; by the card's outcome."""
    from migflow.calibration.uncertainty import difference_bands, outcome_differences

    per_draw = outcome_differences(*([within(s, years) for s in side] for side in draws))
    bands = difference_bands(per_draw).set_index("outcome")
    n_years = years[1] - years[0] + 1
    out = {}
    for name, how in CARDS:
        if name in bands.index:
            share = 1 / n_years if how == "mean" else 1.0
            low, high = bands.loc[name, ["difference_p05", "difference_p95"]]
            out[name] = (float(low) * share, float(high) * share)
    return out


def headline(results: Results, baseline: Results, years: tuple[int, int]) -> list[Indicator]:
    """The headline indicators of ``results`` and of ``baseline`` over ``years``."""
    out = []
    for name, how in CARDS:
        outcome, read = OUTCOME[name], _READ[how]
        out.append(
            Indicator(
                name,
                card_label(name, how, years),
                read(results, name, years),
                read(baseline, name, years),
                outcome.unit + ("/yr" if how == "mean" else ""),
                f"{outcome.counts} {_period(how, years)}",
            )
        )
    return out


def yearly_table(
    results: Results, baseline: Results | None, years: tuple[int, int]
) -> pd.DataFrame:
    """The headline outcomes year by year over ``years``, in words and rounded as the cards
    are: flows in the year, stocks at its end; with ``baseline``, each value followed by its
    change against it. A plain table draws at once in the browser, where the charts' library
    takes seconds to load, so it is what a visit shows first."""
    shown = range(years[0], years[1] + 1)
    mine = results.summary.set_index("year").reindex(shown)
    base = None if baseline is None else baseline.summary.set_index("year").reindex(shown)
    rows = {}
    for name, _ in CARDS:
        outcome = OUTCOME[name]
        when = ", end of year" if outcome.kind == "stock" else ""
        cells = [fmt(value, outcome.unit) for value in mine[name]]
        if base is not None:
            changes = mine[name] - base[name]
            cells = [
                f"{c} ({fmt_signed(d, outcome.unit)})" for c, d in zip(cells, changes, strict=True)
            ]
        rows[outcome.label + when] = cells
    table = pd.DataFrame(rows, index=[str(y) for y in shown])
    table.index.name = "Year"
    return table


#: the "n/a" reason of each cost-effectiveness figure (calibration.uncertainty.EFFECTS)
_NO_EFFECT = {
    "darien_crossings": "this scenario averts no Darién crossings (it has as many or more than "
    "the baseline)",
    "expected_deaths": "this scenario averts no deaths on the way (it has as many or more than "
    "the baseline)",
    "regularisations": "this scenario regularises no more people than the baseline",
}


def costs(results: Results, baseline: Results, years: tuple[int, int]) -> list[Cost]:
    """The extra cost of every lever per Darién crossing averted, per death averted and per
    extra person regularised, against the baseline over ``years``: the definition
    ``migflow compare`` prints (``calibration.uncertainty.cost_effectiveness``)."""
    from migflow.calibration.uncertainty import UNPRICED, cost_effectiveness, outcome_differences

    per_draw = outcome_differences(
        [within(baseline.summary, years)], [within(results.summary, years)]
    )
    extra = per_draw.set_index("outcome").loc["cost_musd", "difference"]
    span = span_of(years)
    out = []
    for row in cost_effectiveness(per_draw).itertuples():
        help_text = (
            f"Extra cost of every lever in {span} (${extra:+,.1f} M against the baseline: "
            "integration, root causes, regularisation programmes, legal pathways, removals, "
            f"asylum decisions) per {row.effect}. Unit costs and their sources: "
            f"docs/levers.md. {UNPRICED}"
        )
        usd = None if np.isnan(row.usd_median) else float(row.usd_median)
        why = (
            f"n/a: {_NO_EFFECT[row.outcome]}, so there is no cost per unit." if usd is None else ""
        )
        out.append(Cost(f"cost_per_{row.outcome}", f"Cost per {row.effect}", usd, why, help_text))
    return out


def fmt(value: float, unit: str) -> str:
    """Three significant figures: what the model can tell, not the digits it prints."""
    if unit == "$M":
        return signed(value, plus="", prefix="$", whole=False) + " M"
    return signed(value, plus="")


def fmt_signed(value: float, unit: str) -> str:
    """``fmt`` with a sign in front: "+1,200", "−$35.5 M", "±0"."""
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return sign + fmt(abs(value), unit)


def fmt_change(indicator: Indicator) -> str:
    diff = indicator.difference
    text = fmt_signed(diff, indicator.unit)
    if indicator.baseline:
        pct = f"{100 * diff / indicator.baseline:+.1f}%".replace("-", "−")
        return f"{text} ({pct})"
    return text


def arrow(indicator: Indicator) -> str:
    """The metric's arrow: up, down, or none for no change."""
    diff = indicator.difference
    return "up" if diff > 0 else ("down" if diff < 0 else "off")


def fmt_usd(usd: float) -> str:
    """US dollars to three significant figures (a model's cost per unit is not known to the
    dollar), the sign in front: −$5,600."""
    return signed(usd, plus="", prefix="$")


def first_change_year(scenario: Scenario, reference: Scenario) -> int | None:
    """The first year in which the two differ: a lever of one that the other lacks starts
    (added by a what-if, or removed by a "history without it")."""
    rows = [*changes_from(scenario, reference), *changes_from(reference, scenario)]
    starts = [int(row["from"][:4]) for row in rows]
    return min(starts) if starts else None


def default_period(
    years: list[int], first_change: int | None = None, today: int | None = None
) -> tuple[int, int]:
    """The window the figures are read over until the user moves it: from the first year in
    which the scenario changes something against the baseline (a what-if of history from
    when that history changed, a what-if from now from this year) to the last year; the
    baseline itself, changing nothing, from this year (the status quo starts then)."""
    first = first_change if first_change is not None else today or THIS_YEAR
    first = min(max(first, years[0]), years[-1])
    return first, years[-1]


def earlier_change(scenario: Scenario, reference: Scenario, period: tuple[int, int]) -> str:
    """A note when ``scenario`` changes levers before the window starts (a what-if of
    history): the window then misses part of its effect. Empty otherwise."""
    first = first_change_year(scenario, reference)
    if first is None or first >= period[0]:
        return ""
    return (
        f"This scenario changes levers from {first}, before the years shown: move the start of "
        f"the window to {first} to see all of its effect."
    )


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


def difference_intervals(
    summaries_a: list[pd.DataFrame], summaries_b: list[pd.DataFrame], years: tuple[int, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Over ``years``: each outcome's difference B - A as median and 90% interval over
    paired posterior draws, and the cost-effectiveness of B against A, as plain-word tables;
    the functions and definitions of ``migflow compare --draws``."""
    from migflow.calibration.uncertainty import (
        cost_effectiveness,
        difference_bands,
        outcome_differences,
    )

    per_draw = outcome_differences(
        [within(s, years) for s in summaries_a], [within(s, years) for s in summaries_b]
    )
    bands = difference_bands(per_draw)
    rows = []
    for row in bands.itertuples():
        outcome = OUTCOME[row.outcome]
        how = f"at the end of {years[1]}" if outcome.kind == "stock" else f"total {span_of(years)}"
        rows.append({
            "indicator": f"{outcome.heading}, {how}",
            "difference (median)": _signed(row.difference_median),
            "90% interval": f"{_signed(row.difference_p05)} to {_signed(row.difference_p95)}",
        })  # fmt: skip
    value = []
    for row in cost_effectiveness(per_draw).itertuples():
        if np.isnan(row.usd_median):
            text = f"n/a: an effect in only {row.draws_with_effect} of {row.draws} draws"
        else:
            text = f"{fmt_usd(row.usd_median)} ({fmt_usd(row.usd_p05)} to {fmt_usd(row.usd_p95)})"
        value.append({"cost per": row.effect, "US dollars, median (90% interval)": text})
    return pd.DataFrame(rows), pd.DataFrame(value)


def _signed(x: float) -> str:
    return signed(x)


#: what the sentence above the cards speaks of: (outcome, fewer/more words)
_SENTENCE = (
    ("darien_crossings", "Darién crossings"),
    ("us_border_arrivals", "arrivals at the US border"),
    ("expected_deaths", "deaths on the way"),
    ("regularisations", "people regularised"),
    ("legal_pathway_arrivals", "legal pathway arrivals"),
)


def change_sentence(
    results: Results, baseline: Results, years: tuple[int, int],
    draws: tuple[list[pd.DataFrame], list[pd.DataFrame]] | None = None,
) -> str:  # fmt: skip
    """What changed against the baseline over ``years``, in plain words, totals rounded to
    three significant figures; with ``draws`` (paired posterior runs of baseline and
    scenario), each change with its 90% interval."""
    from migflow.calibration.uncertainty import difference_bands, outcome_differences

    bands = None
    if draws is not None:
        per_draw = outcome_differences(*([within(s, years) for s in side] for side in draws))
        bands = difference_bands(per_draw).set_index("outcome")
    parts = []
    for name, words in _SENTENCE:
        before, after = _sum(baseline, name, years), _sum(results, name, years)
        diff = after - before
        if rounded(diff) == "0":
            continue
        text = f"{rounded(abs(diff))} {'more' if diff > 0 else 'fewer'} {words}"
        if before:
            pct = 100 * diff / before
            text += f" ({pct:+.{1 if abs(pct) < 1 else 0}f}%)".replace("-", "−")
        if bands is not None:
            lo, hi = bands.loc[name, "difference_p05"], bands.loc[name, "difference_p95"]
            text += f", 90% interval {fmt(lo, 'people')} to {fmt(hi, 'people')}"
        parts.append(text)
    cost = _sum(results, "cost_musd", years) - _sum(baseline, "cost_musd", years)
    span = span_of(years)
    if not parts and rounded(cost) == "0":
        return f"Over {span}, nothing shown here changes against the baseline."
    money = (
        f"every lever together costs {fmt(abs(cost), '$M')} {'more' if cost > 0 else 'less'}"
        if rounded(cost, whole=False) != "0"
        else "the cost of the levers does not change"
    )
    changes = "; ".join(parts) if parts else "no change in crossings, deaths or status"
    return f"Against the baseline, over {span} in total: {changes}; {money}."
