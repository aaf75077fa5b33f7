"""The ``migflow`` command line: run, validate and compare scenarios.

Bad input never produces a traceback: every ``InputError`` becomes one line on stderr naming
the file, the field and what is allowed, with exit status 2, and nothing is written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import InputError
from .results import DARIEN_NATIONALITIES, MAIN_HOSTS, Results
from .run import run_scenario
from .scenario import Scenario, list_scenarios, load_scenario

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="migflow: what-if model of regional migrant flows in the Americas.",
)
console = Console()
err = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn input problems into one line and exit status 2."""
    try:
        yield
    except InputError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _with_overrides(scenario: Scenario, seed: int | None, scale: int | None) -> Scenario:
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


def _run_with_progress(scenario: Scenario, quiet: bool) -> Results:
    if quiet:
        return run_scenario(scenario)
    with Progress(
        TextColumn(f"running [bold]{scenario.name}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("months"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("run", total=scenario.n_months)
        return run_scenario(scenario, progress=lambda t, n: bar.update(task, completed=t))


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _k(x: float) -> str:
    """People in thousands, so a year of the summary fits an 80-column terminal."""
    return f"{x / 1000:,.1f}"


def print_summary(results: Results, title: str) -> None:
    """Two tables per year: Darién and the US border; Venezuelans by host and status."""
    s = results.summary
    t1 = Table(title=f"{title}: Darién crossings by nationality, US border (thousands), deaths")
    columns = ("Darién total", "US arrivals", "deaths (expected)")
    for col in ("year", *DARIEN_NATIONALITIES, "other", *columns):
        t1.add_column(col, justify="right")
    t2 = Table(title=f"{title}: Venezuelans in the main hosts at year end (thousands)")
    for col in ("year", *MAIN_HOSTS, "regularised", "pathways"):
        t2.add_column(col, justify="right")
    for _, row in s.iterrows():
        t1.add_row(
            str(int(row["year"])),
            *(_k(row[f"darien_{n}"]) for n in DARIEN_NATIONALITIES),
            _k(row["darien_other"]),
            _k(row["darien_crossings"]),
            _k(row["us_border_arrivals"]),
            _fmt(row["expected_deaths"]),
        )
        t2.add_row(
            str(int(row["year"])),
            *(_k(row[f"venezuelans_in_{h}"]) for h in MAIN_HOSTS),
            _k(row["regularisations"]),
            _k(row["legal_pathway_arrivals"]),
        )
    console.print(t1)
    console.print(t2)


def print_intervals(intervals, title: str) -> None:
    """Median [90% interval] over posterior draws, for the headline indicators."""
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


@app.command()
def run(
    scenario: str = typer.Argument(..., help="Scenario file, or a name in scenarios/ (baseline)"),
    out: Path = typer.Option(None, "--out", help="Folder for the Parquet tables and manifest"),
    seed: int = typer.Option(None, "--seed", help="Override the scenario's seed"),
    scale: int = typer.Option(None, "--scale", help="People per agent (1 = every person)"),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or tables"),
    draws: int = typer.Option(
        0, "--draws", help="Also run K posterior draws: medians and 90% intervals"
    ),
) -> None:
    """Run one scenario, print a yearly summary and write its tables."""
    with user_errors():
        loaded = _with_overrides(load_scenario(scenario), seed, scale)
        target = out or Path("results") / loaded.name
        if target.exists() and not target.is_dir():
            raise InputError("exists and is not a folder", field="--out")
        results = _run_with_progress(loaded, quiet)
        intervals = None
        if draws:
            from calibration.uncertainty import run_draws

            err.print(f"running {draws} posterior draws ...")
            intervals = run_draws(loaded, draws)
        results.write(target)
        if intervals is not None:
            intervals.to_parquet(target / "summary_draws.parquet", index=False)
    if not quiet:
        print_summary(results, loaded.name)
        if intervals is not None:
            print_intervals(intervals, loaded.name)
    err.print(f"wrote {target}/ (stocks, flows, events, spending, summary, manifest.json)")


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Scenario files to check")) -> None:
    """Check scenario files; exit status 2 at the first invalid one."""
    with user_errors():
        for file in files:
            s = load_scenario(file)
            levers = sum(
                len(getattr(s, g))
                for g in ("integration", "regularisation", "pathways", "enforcement", "asylum")
            ) + len(s.root_causes)
            console.print(f"ok: {file} ({s.name}, {s.start}..{s.end}, {levers} levers)")


def _results_for(item: str, quiet: bool) -> tuple[str, Results]:
    path = Path(item)
    if path.is_dir() and (path / "manifest.json").is_file():
        try:
            results = Results.read(path)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read results: {exc}", source=item) from None
        return results.manifest.get("scenario", {}).get("name", item), results
    scenario = load_scenario(item)
    return scenario.name, _run_with_progress(scenario, quiet)


@app.command()
def compare(
    a: str = typer.Argument(..., help="Scenario file/name, or a results folder"),
    b: str = typer.Argument(..., help="Scenario file/name, or a results folder"),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars"),
) -> None:
    """Print the differences between two scenarios' results (B minus A)."""
    with user_errors():
        name_a, ra = _results_for(a, quiet)
        name_b, rb = _results_for(b, quiet)
    table = Table(title=f"{name_b} compared with {name_a} (whole window; stocks at the end)")
    for col in ("indicator", name_a, name_b, "difference", "change"):
        table.add_column(col, justify="right")
    for label, va, vb in comparison_rows(ra, rb):
        diff = vb - va
        pct = f"{100 * diff / va:+.1f}%" if va else "n/a"
        table.add_row(label, _fmt(va), _fmt(vb), f"{diff:+,.0f}", pct)
    console.print(table)


def comparison_rows(ra: Results, rb: Results) -> list[tuple[str, float, float]]:
    """Headline indicators of two results, summed over the window (stocks: last year)."""
    rows = []
    flows = [
        ("emigrants", "emigrants"),
        ("Darién crossings", "darien_crossings"),
        *((f"Darién crossings, {n}", f"darien_{n}") for n in DARIEN_NATIONALITIES),
        ("US border arrivals", "us_border_arrivals"),
        ("regularisations", "regularisations"),
        ("legal pathway arrivals", "legal_pathway_arrivals"),
        ("interdictions", "interdictions"),
        ("deaths (expected)", "expected_deaths"),
        ("deaths (drawn, in whole agents)", "deaths"),
        ("returns", "returns"),
        ("integration spending ($M)", "integration_musd"),
    ]
    for label, col in flows:
        rows.append((label, float(ra.summary[col].sum()), float(rb.summary[col].sum())))
    for host in MAIN_HOSTS:
        col = f"venezuelans_in_{host}"
        rows.append(
            (
                f"Venezuelans in {host}, end",
                float(ra.summary[col].iloc[-1]),
                float(rb.summary[col].iloc[-1]),
            )
        )
    return rows


@app.command("list")
def list_() -> None:
    """List the shipped scenarios."""
    with user_errors():
        for path in list_scenarios():
            s = load_scenario(path)
            console.print(f"[bold]{path.stem}[/]: {s.description}", highlight=False)


# Commands that live with their feature (sweeps, calibration, the app) register themselves
# on ``app`` when their module is imported. Add a feature's module here.
COMMAND_MODULES: tuple[str, ...] = ("calibration.commands", "model.sweeps.commands", "app.commands")


def _register_feature_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name)


_register_feature_commands()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        sys.exit(130)
