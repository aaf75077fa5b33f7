"""A brief to take to a meeting: one HTML file of a scenario against its baseline.

Policy staff need what the app shows on one page they can print or send: the question, the
headline changes (with their 90% intervals when the posterior draws were run), what it costs,
three charts, the levers changed with the evidence each rests on, how sure the model is, and
what reproduces it (model version, calibration, the scenario files). The file is
self-contained (Plotly's script inlined, no font or tile server), so it opens offline, and
its print style keeps tables and charts whole on paper or PDF.

The evidence rows are read from ``docs/levers.md`` (its table "One row per lever"), where
they are written once with their sources.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import pandas as pd

from migflow.model.provenance import calibration_identity, git_commit, package_version
from migflow.model.results import Results
from migflow.model.scenario import Scenario, dumps_scenario

from . import charts, indicators
from .state import GROUP_WORDS, changes_from

LEVERS_DOC = Path(__file__).resolve().parent.parent / "docs" / "levers.md"
#: the series drawn in the brief: where people cross, where they arrive, who dies
CHARTS = ("darien", "us", "deaths")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 1.6rem; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.n { text-align: right; white-space: nowrap; }
pre { background: #f7f7f7; padding: 0.6rem; font-size: 0.75rem; white-space: pre-wrap; }
.note { color: #555; font-size: 0.88rem; }
@media print { body { margin: 0; max-width: none; } table, .chart { page-break-inside: avoid; }
               details { display: none; } }
"""


def _lever_rows(doc: Path) -> dict[str, list[str]]:
    """Per lever group of the scenario file, the cells of its row in the table of
    ``docs/levers.md`` (empty if the file is absent)."""
    if not doc.is_file():
        return {}
    out = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = re.search(r"\[\[(\w+)\]\]", cells[0]) if len(cells) >= 5 else None
        if found and found.group(1) in GROUP_WORDS and found.group(1) not in out:
            out[found.group(1)] = cells
    return out


def lever_evidence(doc: Path = LEVERS_DOC) -> dict[str, str]:
    """Per lever group, what its effect rests on and whether it is fitted or assumed."""
    return {g: f"{c[3]} ({c[4]})".replace("`", "") for g, c in _lever_rows(doc).items()}


def lever_parameters(doc: Path = LEVERS_DOC) -> dict[str, list[str]]:
    """Per lever group, the parameters named in its "numbers it rests on" cell."""
    return {g: re.findall(r"`([\w.]+)`", c[2]) for g, c in _lever_rows(doc).items()}


def open_parameters() -> list[str]:
    """The fitted parameters the shipped calibration leaves at their prior (none without
    a posterior)."""
    from .runs import load_posterior_safely

    posterior, _ = load_posterior_safely()
    listed = getattr(posterior, "left_at_prior", None)
    return [] if listed is None else listed()


def left_open_note(rests_on: list[str], open_: list[str]) -> str:
    """A sentence for a lever resting on fitted parameters the data leave open."""
    named = [n for n in open_ if n in rests_on]
    if not named:
        return ""
    it, its = ("it", "its") if len(named) == 1 else ("them", "their")
    return (
        f". Not decided by the data: {', '.join(named)} (the calibration leaves {it} as "
        f"uncertain as {its} plausible range), so this part of the effect rests on that range"
    )


def _table(frame: pd.DataFrame, numeric: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="n">{html.escape(str(v))}</td>'
            if col in numeric
            else f"<td>{html.escape(str(v))}</td>"
            for col, v in zip(frame.columns, record, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _plain(markdown: str) -> str:
    """The app's sentence (markdown with **bold**) as escaped HTML."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(markdown))


def headline_table(
    results: Results, baseline: Results, years: tuple[int, int],
    draws: tuple[list[pd.DataFrame], list[pd.DataFrame]] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The app's headline cards as rows: what, baseline, this scenario, change, and with
    paired posterior ``draws`` the 90% interval of the change, read as the card reads it."""
    cards = indicators.headline(results, baseline, years)
    table = pd.DataFrame({
        "indicator": [c.label for c in cards],
        "baseline": [indicators.fmt(c.baseline, c.unit) for c in cards],
        "this scenario": [indicators.fmt(c.value, c.unit) for c in cards],
        "change": [indicators.fmt_change(c) for c in cards],
    })  # fmt: skip
    if draws is not None:
        bands = indicators.card_intervals(draws, years)
        table["90% interval of the change"] = [
            " to ".join(indicators.fmt_signed(v, c.unit) for v in bands[c.key])
            if c.key in bands
            else ""
            for c in cards
        ]
    return table


def brief_html(
    scenario: Scenario,
    reference: Scenario,
    results: Results,
    baseline: Results,
    years: tuple[int, int],
    status: str,
    draws: tuple[list[pd.DataFrame], list[pd.DataFrame]] | None = None,
    today: date | None = None,
) -> str:
    """The brief of ``scenario`` against ``reference`` over ``years``: one HTML page.
    ``status`` is the app's calibration banner; ``draws`` the paired posterior runs (baseline
    side, scenario side), or None when they were not run."""
    today = today or date.today()
    span = indicators.span_of(years)
    value = None
    if draws is not None:
        _, value = indicators.difference_intervals(*draws, years)
    parts = [
        f"<h1>What if: {html.escape(scenario.shown_title)}?</h1>",
        f'<p class="sub">Against {html.escape(reference.shown_title)}, {span}. migflow '
        f"{html.escape(package_version())}, brief made on {today.isoformat()}.</p>",
        "<h2>The question</h2>",
        f"<p>What does <strong>{html.escape(scenario.shown_title)}</strong> change against "
        f"{html.escape(reference.shown_title)}, over {span}: in the Darién, at the US border, "
        "in deaths on the way, in people regularised, and in what it costs?</p>",
        f'<p class="note">The scenario file says: {html.escape(scenario.description)}</p>'
        if scenario.description
        else "",
        "<h2>What changes</h2>",
        f"<p>{_plain(indicators.change_sentence(results, baseline, years, draws))}</p>",
        _table(
            headline_table(results, baseline, years, draws),
            numeric=("baseline", "this scenario", "change"),
        ),
        '<p class="note">Per-year figures are averages over the years, totals are summed over '
        "them, stocks are counted at the end of the last year. Both runs share their random "
        "numbers, so the change is the levers' effect, not chance.</p>",
    ]
    parts += _costs(results, baseline, years, value)
    parts += _charts(results, baseline, years)
    parts += _levers(scenario, reference)
    parts += [
        "<h2>How sure the model is</h2>",
        f"<p>{html.escape(status)}</p>",
        "<p>"
        + (
            f"The intervals are the 5th to 95th percentiles of the change over {len(draws[0])} "
            "parameter sets drawn from the calibration, each run for both scenarios with the "
            "same random numbers (parameter uncertainty only)."
            if draws is not None
            else "No intervals: they are computed when 'Show uncertainty bands' is on in the "
            "app. Read the changes as the calibrated model's point estimate."
        )
        + " What the calibration fits, and where it falls short of the documented figures, is "
        "in docs/calibration.md.</p>",
    ]
    parts += _reproduce(scenario, reference)
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>migflow brief: {html.escape(scenario.shown_title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _costs(results, baseline, years, value: pd.DataFrame | None) -> list[str]:
    out = ["<h2>What it costs</h2>"]
    if value is not None:
        out.append(_table(value))
    else:
        rows = [
            {"cost per": c.label.removeprefix("Cost per "),
             "US dollars": "n/a" if c.usd is None else indicators.fmt_usd(c.usd),
             "why": c.why}
            for c in indicators.costs(results, baseline, years)
        ]  # fmt: skip
        table = pd.DataFrame(rows)
        if not table["why"].any():
            table = table.drop(columns="why")
        out.append(_table(table, numeric=("US dollars",)))
    out.append(
        '<p class="note">Every lever\'s extra spending against the baseline, at the unit costs '
        "of docs/levers.md. Not priced: patrols, border staff and detention, and removals from "
        "Mexico and Central America.</p>"
    )
    return out


def _charts(results, baseline, years) -> list[str]:
    out = [f"<h2>Year by year, {indicators.span_of(years)} and around it</h2>"]
    for i, key in enumerate(CHARTS):
        fig = charts.series_figure(
            key, results, baseline, None, None, ("this scenario", "baseline")
        )
        inline = fig.to_html(
            full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}
        )
        out.append(f'<div class="chart">{inline}</div>')
    return out


def _levers(scenario: Scenario, reference: Scenario) -> list[str]:
    rows = changes_from(scenario, reference)
    out = ["<h2>What was changed, and the evidence it rests on</h2>"]
    if not rows:
        return [*out, "<p>Nothing: this is the baseline.</p>"]
    out.append(_table(pd.DataFrame(rows).rename(columns={"note": "source or assumption"})))
    evidence = lever_evidence()
    groups = [g for g, words in GROUP_WORDS.items() if any(r["lever"] == words for r in rows)]
    open_, rests_on = open_parameters(), lever_parameters()
    items = [
        f"<li><strong>{html.escape(GROUP_WORDS[g])}</strong>: {html.escape(evidence[g])}"
        f"{html.escape(left_open_note(rests_on.get(g, []), open_))}</li>"
        for g in groups
        if g in evidence
    ]
    if items:
        out += ["<p>What the model's response to these levers rests on (docs/levers.md):</p>",
                f"<ul>{''.join(items)}</ul>"]  # fmt: skip
    return out


def _reproduce(scenario: Scenario, reference: Scenario) -> list[str]:
    commit = git_commit()
    calibration = calibration_identity()
    facts = [
        f"migflow {package_version()}" + (f", commit {commit}" if commit else ""),
        f"calibration {calibration}" if calibration else "no shipped calibration",
        f"seed {scenario.seed}, {scenario.scale} people per simulated agent",
    ]
    out = [
        "<h2>Reproduce it</h2>",
        f"<p>{html.escape('; '.join(facts))}. Save each file below and run "
        "<code>migflow compare reference.toml scenario.toml</code>.</p>",
    ]
    for label, which in (("scenario.toml", scenario), ("reference.toml", reference)):
        out.append(
            f"<details open><summary>{label}</summary><pre>"
            f"{html.escape(dumps_scenario(which))}</pre></details>"
        )
    return out
