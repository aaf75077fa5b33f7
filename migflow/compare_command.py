"""What ``migflow compare`` does: two scenarios (or two results folders), B minus A.

Both sides run with the first one's seed (or ``--seed``), sharing their random numbers.
Without ``--draws`` each side runs once at the calibrated point estimate. With ``--draws K``
both sides run under the same K posterior draws and seeds (``calibration.uncertainty.
paired_runs``) on a Dask cluster, and every difference is given as its median and 90% interval
over the draws. That is the interval of the *difference*: the noise and the parameter values
both sides share cancel in it, so it is narrower than the gap between the two sides' own
bands, and it is the figure a decision rests on.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from migflow.model.errors import InputError
from migflow.model.limits import check_agents, check_output_folder, check_time, estimate_work
from migflow.model.outcomes import rounded as _rounded
from migflow.model.outcomes import signed, within
from migflow.model.scenario import Scenario, load_scenario
from migflow.model.terminal import check_draws, console, err, user_errors

from .scenario_commands import counting, with_overrides

if TYPE_CHECKING:
    import pandas as pd

    from migflow.model.results import Results

#: Fewer draws than this still give an interval, with a warning: the 5th and 95th
#: percentiles of a handful of runs move a lot from one set of draws to the next.
RECOMMENDED_DRAWS = 20


def _is_results_folder(item: str) -> bool:
    path = Path(item)
    try:
        return (path / "manifest.json").is_file() and (path / "summary.parquet").is_file()
    except (OSError, ValueError):
        return False


def _side(item: str, seed: int | None, scale: int | None, draws: int) -> str | Scenario:
    """A results folder (read later) or a scenario, loaded and checked now, so that both sides
    are checked before either runs."""
    if _is_results_folder(item):
        for flag, value in (("--draws", draws), ("--seed", seed), ("--scale", scale)):
            if value:
                raise InputError(
                    f"needs two scenarios (files or names) to run; {item} is a results folder, "
                    "which is compared as it was run",
                    field=flag,
                )
        return item
    return with_overrides(load_scenario(item), seed, scale)


def _check_work(sides: list[tuple[str, Scenario]], runs_each: int, yes: bool) -> None:
    """Refuse, before anything runs, a comparison too big for memory or, without ``--yes``,
    one that would take long: both sides' runs counted together."""
    seconds = 0.0
    for source, scenario in sides:
        work = estimate_work(scenario)
        check_agents(work, source=source)
        seconds += work.seconds * runs_each
    runs = runs_each * len(sides)
    check_time(seconds, yes=yes, source=None, what="the run" if runs == 1 else f"{runs} runs")


def _results_for(item: str | Scenario, done: Results | None) -> tuple[str, Results]:
    from migflow.model.results import Results

    if isinstance(item, Scenario):
        return item.name, done
    try:
        results = Results.read(item)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read results: {exc}", source=item) from None
    return str(results.manifest.get("scenario", {}).get("name", item)), results


def comparison_rows(per_draw: pd.DataFrame) -> list[tuple[str, float, float]]:
    """(label, A, B) of every outcome from ``outcome_differences`` of one pair of runs."""
    from migflow.model.outcomes import OUTCOME

    return [(_label(OUTCOME[r.outcome]), r.a, r.b) for r in per_draw.itertuples()]


def _years_of(item: str | Scenario) -> tuple[int, int]:
    if isinstance(item, Scenario):
        return int(item.start[:4]), int(item.end[:4])
    try:
        months = json.loads((Path(item) / "manifest.json").read_text())["months"]
        return int(months[0][:4]), int(months[1][:4])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(f"cannot read results: {exc}", source=item) from None


def _window(years: str | None, *items: str | Scenario) -> tuple[int, int] | None:
    """``--years`` as (first, last): ``2026-2035`` or one year, inside both sides' windows."""
    if years is None:
        return None
    parts = [p.strip() for p in years.strip().split("-")]
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() and len(p) == 4 for p in parts):
        raise InputError(
            f"must be a year or two, e.g. 2026-2035 or 2030 (got {years!r})", field="--years"
        )
    first, last = int(parts[0]), int(parts[-1])
    lo = max(_years_of(item)[0] for item in items)
    hi = min(_years_of(item)[1] for item in items)
    if not lo <= first <= last <= hi:
        raise InputError(
            f"{years} is not inside the years both sides cover, {lo}-{hi}", field="--years"
        )
    return first, last


def _span(window: tuple[int, int] | None) -> str:
    if window is None:
        return "whole window"
    return f"{window[0]}-{window[1]}" if window[0] != window[1] else str(window[0])


def _label(outcome) -> str:
    return outcome.heading + (", end" if outcome.kind == "stock" else "")


def _signed(x: float) -> str:
    return signed(x, minus="-")  # ASCII: a terminal table


def _change(diff: float, base: float) -> str:
    return f"{100 * diff / base:+.1f}%" if base else "n/a"


def compare(
    a: str,
    b: str,
    out: Path | None = None,
    seed: int | None = None,
    scale: int | None = None,
    draws: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    quiet: bool = False,
    yes: bool = False,
    split: bool = False,
    years: str | None = None,
) -> None:
    """Print the differences between two scenarios' results (B minus A); with ``draws``, each
    with its median and 90% interval over posterior draws; with ``split``, each instrument B
    differs by, alone and last."""
    with user_errors():
        check_draws(draws)
        if workers is not None and workers < 1:
            raise InputError("must be at least 1", field="--workers")
        first, second = _side(a, seed, scale, draws), _side(b, seed, scale, draws)
        if isinstance(first, Scenario) and isinstance(second, Scenario):
            # one seed for both, so that their difference is the policy's, not noise's
            second = second.with_changes(seed=first.seed)
        window = _window(years, first, second)
        target = check_output_folder(out) if out is not None else None
        sides = [(src, s) for src, s in ((a, first), (b, second)) if isinstance(s, Scenario)]
        if split:
            _compare_split(sides, draws, target, workers, scheduler, quiet, yes, window)
            return
        _check_work(sides, max(draws, 1), yes)
        if draws:
            _compare_draws(
                (a, first), (b, second), draws, target, workers, scheduler, quiet, window
            )
            return
        ran = {}
        if len(sides) == 2:  # two runs: side by side, one per core
            from migflow.model.run import run_scenarios

            with counting("both scenarios", "runs", quiet) as progress:
                ra, rb = run_scenarios([(first, None), (second, None)], progress=progress)
            ran = {id(first): ra, id(second): rb}
        elif sides:
            from migflow.model.run import run_scenario

            _, scenario = sides[0]
            ran = {id(scenario): run_scenario(scenario)}
        name_a, ra = _results_for(first, ran.get(id(first)))
        name_b, rb = _results_for(second, ran.get(id(second)))
        from migflow.calibration.uncertainty import cost_effectiveness, outcome_differences

        per_draw = outcome_differences([within(ra.summary, window)], [within(rb.summary, window)])
        rows, value = comparison_rows(per_draw), cost_effectiveness(per_draw)
        if target is not None:
            _write_point(target, rows, value, name_a, name_b, a, b)
    from rich.table import Table

    table = Table(
        title=f"{name_b} compared with {name_a} ({_span(window)}; stocks at the end; "
        "3 significant figures)"
    )
    for col in ("indicator", name_a, name_b, "difference", "change"):
        table.add_column(col, justify="right")
    for label, va, vb in rows:
        table.add_row(label, _rounded(va), _rounded(vb), _signed(vb - va), _change(vb - va, va))
    console.print(table)
    _print_cost_effectiveness(value, name_a, name_b, draws=1)
    if target is not None:
        err.print(
            f"wrote {target}/ (comparison.csv, cost_effectiveness.csv, manifest.json)",
            highlight=False,
            markup=False,
        )


def _print_cost_effectiveness(value: pd.DataFrame, name_a: str, name_b: str, draws: int) -> None:
    """Extra dollars of every lever per unit of effect; 'n/a' with the reason where the
    effect is not there in every draw."""
    from rich.table import Table

    from migflow.calibration.uncertainty import UNPRICED

    many = draws > 1
    table = Table(
        title=f"Cost-effectiveness of {name_b} against {name_a}: its extra cost (every lever, "
        "unit costs of docs/levers.md) per unit of effect, US dollars"
        + (f"; median (90% interval) over {draws} draws" if many else "")
    )
    table.add_column("per", justify="left")
    table.add_column("US dollars", justify="right")
    for row in value.itertuples():
        if math.isnan(row.usd_median):
            if not many or row.draws_with_effect == 0:
                text = "n/a: none"
            else:
                text = f"n/a: in only {row.draws_with_effect} of {row.draws} draws"
        elif many:
            text = (
                f"{_rounded(row.usd_median)} ({_rounded(row.usd_p05)} to {_rounded(row.usd_p95)})"
            )
        else:
            text = _rounded(row.usd_median)
        if not math.isnan(row.usd_median) and row.usd_median < 0:
            text += " (saves money)"
        table.add_row(row.effect, text)
    console.print(table)
    console.print(UNPRICED, highlight=False)


def _compare_split(sides, draws, target, workers, scheduler, quiet, yes, window) -> None:
    from . import split_command

    if len(sides) != 2:
        raise InputError(
            "needs two scenarios (files or names), not results folders", field="--split"
        )
    (a, first), (_, second) = sides
    found, scenarios = split_command.split_scenarios(first, second)
    _check_work([(a, s) for s in scenarios], max(draws, 1), yes)
    split_command.warn_other_differences(first, second)
    if 0 < draws < RECOMMENDED_DRAWS:
        _warn_few(draws)
    summaries = split_command.run_split(scenarios, draws, workers, scheduler, quiet)
    summaries = [[within(s, window) for s in runs] for runs in summaries]
    table = split_command.split_table(found, summaries)
    if target is not None:
        split_command.write_split(target, table)
    split_command.print_split(table, first.name, second.name, max(draws, 1), _span(window))
    if target is not None:
        err.print(f"wrote {target}/split.csv", highlight=False, markup=False)


def _warn_few(draws: int) -> None:
    err.print(
        f"warning: {draws} draws give a rough 90% interval that moves from one set of "
        f"draws to the next; use --draws {RECOMMENDED_DRAWS} or more for figures you report",
        highlight=False,
        markup=False,
    )


def _compare_draws(
    side_a: tuple[str, Scenario],
    side_b: tuple[str, Scenario],
    draws: int,
    target: Path | None,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
    window: tuple[int, int] | None,
) -> None:
    from migflow.calibration.uncertainty import (
        cost_effectiveness,
        difference_bands,
        outcome_differences,
        paired_runs,
    )
    from migflow.model.cluster import dask_client
    from migflow.model.run import run_pairs_on

    first, second = side_a[1], side_b[1]
    if draws < RECOMMENDED_DRAWS:
        _warn_few(draws)
    runs_a, runs_b = paired_runs(first, second, draws)
    with dask_client(workers, scheduler) as client:
        with counting(f"{draws} posterior draws of both scenarios", "runs", quiet) as progress:
            # each draw's B starts from its A's state where their policies part
            pairs = run_pairs_on(client, list(zip(runs_a, runs_b, strict=True)), progress, True)
    per_draw = outcome_differences(
        [within(a, window) for a, _ in pairs], [within(b, window) for _, b in pairs]
    )
    per_draw.insert(1, "seed", [runs_a[d][0].seed for d in per_draw["draw"]])
    bands = difference_bands(per_draw)
    value = cost_effectiveness(per_draw)
    if target is not None:
        _write_draws(target, per_draw, bands, value, side_a, side_b, draws)
    _print_bands(bands, first.name, second.name, draws, _span(window))
    _print_cost_effectiveness(value, first.name, second.name, draws)
    if target is not None:
        err.print(
            f"wrote {target}/ (comparison.csv, differences.csv, cost_effectiveness.csv, "
            "manifest.json)",
            highlight=False,
            markup=False,
        )


def _print_bands(bands: pd.DataFrame, name_a: str, name_b: str, draws: int, span: str) -> None:
    from rich.table import Table

    from migflow.model.outcomes import OUTCOME

    table = Table(
        title=(
            f"{name_b} compared with {name_a}: medians over {draws} posterior draws, both "
            f"run with the same parameters and seed in each draw; {span}, stocks at the "
            "end; 3 significant figures"
        )
    )
    for col in ("indicator", name_a, name_b, "difference (90% interval)", "change"):
        table.add_column(col, justify="right")
    for row in bands.itertuples():
        diff = row.difference_median
        table.add_row(
            _label(OUTCOME[row.outcome]),
            _rounded(row.a_median),
            _rounded(row.b_median),
            f"{_signed(diff)} ({_signed(row.difference_p05)} to {_signed(row.difference_p95)})",
            _change(diff, row.a_median),
        )
    console.print(table)


def _manifest(name_a: str, name_b: str, a: str, b: str, **extra) -> dict:
    from migflow import __version__

    return {"a": {"name": name_a, "source": a}, "b": {"name": name_b, "source": b},
            "migflow_version": __version__, **extra}  # fmt: skip


def _write_point(
    target: Path, rows, value: pd.DataFrame, name_a: str, name_b: str, a: str, b: str
) -> None:
    import pandas as pd

    from migflow.model.outcomes import OUTCOMES
    from migflow.model.results import write_folder

    table = pd.DataFrame(
        [
            {"outcome": o.name, "label": label, "unit": o.unit, "a": va, "b": vb,
             "difference": vb - va}
            for o, (label, va, vb) in zip(OUTCOMES, rows, strict=True)
        ]
    )  # fmt: skip
    manifest = _manifest(name_a, name_b, a, b, draws=0, parameters="point estimate")

    def fill(tmp: Path) -> None:
        table.to_csv(tmp / "comparison.csv", index=False)
        value.to_csv(tmp / "cost_effectiveness.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))

    write_folder(target, fill)


def _write_draws(
    target: Path, per_draw: pd.DataFrame, bands: pd.DataFrame, value: pd.DataFrame,
    side_a: tuple[str, Scenario], side_b: tuple[str, Scenario], draws: int,
) -> None:  # fmt: skip
    from migflow.calibration.posterior import load_posterior
    from migflow.model.outcomes import OUTCOME
    from migflow.model.results import write_folder

    (a, first), (b, second) = side_a, side_b
    bands = bands.copy()
    bands.insert(1, "label", [_label(OUTCOME[n]) for n in bands["outcome"]])
    bands.insert(2, "unit", [OUTCOME[n].unit for n in bands["outcome"]])
    posterior = load_posterior()
    manifest = _manifest(
        first.name, second.name, a, b, draws=draws, seed=first.seed, scale=first.scale,
        posterior_commit=posterior.settings.get("git_commit") if posterior else None,
        scenario_a=first.model_dump(mode="json"), scenario_b=second.model_dump(mode="json"),
    )  # fmt: skip

    def fill(tmp: Path) -> None:
        bands.to_csv(tmp / "comparison.csv", index=False)
        per_draw.to_csv(tmp / "differences.csv", index=False)
        value.to_csv(tmp / "cost_effectiveness.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

    write_folder(target, fill)
