"""What ``migflow run``, ``validate`` and ``list`` do (``compare``: compare_command.py).

The command line (migflow/cli.py) only declares these commands and imports this module when
one of them runs, so that ``migflow --help`` does not load the model, pandas or Mesa.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from migflow.model.errors import InputError
from migflow.model.limits import (
    check_agents,
    check_output_folder,
    check_time,
    default_folder,
    estimate_work,
)
from migflow.model.shipped import description, list_scenarios
from migflow.model.terminal import check_draws, console, err, user_errors

if TYPE_CHECKING:
    from migflow.model.results import Results
    from migflow.model.scenario import Scenario

# The engine, pandas and Mesa are imported by the functions that run or read results, and
# the scenario schema (pydantic, numpy) by those that read a scenario, so that ``migflow
# list`` answers without any of them.


def with_overrides(scenario: Scenario, seed: int | None, scale: int | None) -> Scenario:
    changes = {}
    if seed is not None:
        if not 0 <= seed < 2**32:
            raise InputError("must be between 0 and 4294967295", field="--seed")
        changes["seed"] = seed
    if scale is not None:
        if not 1 <= scale <= 100_000:
            raise InputError("must be between 1 and 100000 (people per agent)", field="--scale")
        changes["scale"] = scale
    return scenario.with_changes(**changes) if changes else scenario


def check_run(scenario: Scenario, source: str | None, yes: bool, runs: int = 1) -> None:
    """Refuse, before it starts, a run too big for memory, or one that would take long
    without ``--yes`` (``runs``: the scenario is run that many times, e.g. with draws)."""
    work = estimate_work(scenario)
    check_agents(work, source=source)
    what = "the run" if runs == 1 else f"{runs} runs"
    check_time(work.seconds * runs, yes=yes, source=source, what=what)


@contextmanager
def counting(what: str, unit: str, quiet: bool) -> Iterator:
    """A progress bar on stderr (over months of one run, or over whole runs), as the
    ``progress(done, total)`` callback the engine takes; None when ``quiet``."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(f"running {what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("runs", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _run_with_progress(scenario: Scenario, quiet: bool) -> Results:
    from migflow.model.run import run_scenario

    with counting(f"[bold]{scenario.name}[/]", "months", quiet) as progress:
        return run_scenario(scenario, progress=progress)


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _k(x: float) -> str:
    """People in thousands, so a year of the summary fits an 80-column terminal."""
    return f"{x / 1000:,.1f}"


def print_summary(results: Results, title: str) -> None:
    """Three tables per year: Darién and US border; Venezuelans by host at year end;
    regularisations and legal pathway arrivals of every nationality."""
    from rich.table import Table

    from migflow.model.geography import DARIEN_NATIONALITIES
    from migflow.model.outcomes import MAIN_HOSTS

    s = results.summary
    t1 = Table(title=f"{title}: Darién crossings by nationality, US border (thousands), deaths")
    for col in ("year", *DARIEN_NATIONALITIES, "other", "Darién total", "US arrivals"):
        t1.add_column(col, justify="right")
    t1.add_column("deaths (expected)", justify="right")
    t2 = Table(title=f"{title}: Venezuelans in the main hosts at year end (thousands)")
    for col in ("year", *MAIN_HOSTS):
        t2.add_column(col, justify="right")
    t3 = Table(title=f"{title}: every nationality, in the year (thousands)")
    for col in ("year", "regularised", "legal pathway arrivals"):
        t3.add_column(col, justify="right")
    for _, row in s.iterrows():
        year = str(int(row["year"]))
        t1.add_row(
            year,
            *(_k(row[f"darien_{n}"]) for n in DARIEN_NATIONALITIES),
            _k(row["darien_other"]),
            _k(row["darien_crossings"]),
            _k(row["us_border_arrivals"]),
            _fmt(row["expected_deaths"]),
        )
        t2.add_row(year, *(_k(row[f"venezuelans_in_{h}"]) for h in MAIN_HOSTS))
        t3.add_row(year, _k(row["regularisations"]), _k(row["legal_pathway_arrivals"]))
    for table in (t1, t2, t3):
        console.print(table)


def print_intervals(intervals, title: str) -> None:
    """Median [90% interval] over posterior draws, for the headline indicators."""
    from rich.table import Table

    shown = ("darien_crossings", "us_border_arrivals", "venezuelans_in_COL", "expected_deaths")
    table = Table(
        title=f"{title}: median [90% interval] over posterior draws (thousands; deaths in people)"
    )
    table.add_column("year", justify="right")
    for name in shown:
        table.add_column(name.replace("_", " "), justify="right")
    for year, part in intervals.groupby("year"):
        cells = []
        for name in shown:
            r = part[part["indicator"] == name].iloc[0]
            unit = 1 if name == "expected_deaths" else 1000  # deaths in people
            digits = 0 if unit == 1 else 1
            cells.append(
                f"{r['median'] / unit:,.{digits}f} "
                f"[{r['p05'] / unit:,.{digits}f}-{r['p95'] / unit:,.{digits}f}]"
            )
        table.add_row(str(year), *cells)
    console.print(table)


def run(
    scenario: str,
    out: Path | None,
    seed: int | None,
    scale: int | None,
    quiet: bool,
    draws: int,
    yes: bool,
) -> None:
    """Run one scenario, print a yearly summary and write its tables."""
    from migflow.model.scenario import load_scenario

    with user_errors():
        check_draws(draws)
        loaded = with_overrides(load_scenario(scenario), seed, scale)
        # The default folder comes from the scenario's name, which is free text in a shared
        # file: only its safe form becomes a path, always under results/.
        target = check_output_folder(out or default_folder(Path("results"), loaded.name))
        check_run(loaded, scenario, yes, runs=1 + draws)
        results = _run_with_progress(loaded, quiet)
        intervals = None
        if draws:
            from migflow.calibration.uncertainty import run_draws

            with counting(f"{draws} posterior draws", "runs", quiet) as progress:
                intervals = run_draws(loaded, draws, progress=progress)
        extra = None if intervals is None else {"summary_draws": intervals}
        results.write(target, extra=extra)
    if not quiet:
        print_summary(results, loaded.name)
        if intervals is not None:
            print_intervals(intervals, loaded.name)
    err.print(
        f"wrote {target}/ (stocks, flows, events, spending, summary, manifest.json)",
        highlight=False,
        markup=False,
    )


def validate(files: list[Path]) -> None:
    """Check scenario files; exit status 2 at the first invalid one."""
    from migflow.model.scenario import LEVER_GROUPS, load_scenario

    with user_errors():
        for file in files:
            s = load_scenario(file)
            levers = sum(len(getattr(s, g)) for g in LEVER_GROUPS)
            console.print(f"ok: {file} ({s.name}, {s.start}..{s.end}, {levers} levers)")


def list_shipped() -> None:
    """List the shipped scenarios."""
    with user_errors():
        for path in list_scenarios():
            console.print(f"[bold]{path.stem}[/]: {description(path)}", highlight=False)
