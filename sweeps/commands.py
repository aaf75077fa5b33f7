"""``migflow sweep`` and ``migflow sweep-report``: registered on the main CLI when imported.

``migflow sweep FILE --out DIR [--workers N | --scheduler tcp://HOST:PORT]`` validates the
sweep file (nothing is written if it is bad: one line, exit status 2), then runs the runs not
yet stored in DIR on Dask with a progress bar (runs done, rate, time left). Ctrl-C stops
cleanly: finished runs are kept and the same command finishes the rest (exit status 130).

Before anything runs, the output folder must be writable and the sweep's estimated time
(runs x the estimated time of one run / workers) under ``SOFT_SECONDS`` of
``model/limits.py``, or ``--yes`` given. A sweep in which runs failed exits with status 1
and says how many.

``migflow sweep-report DIR`` prints and writes the outcome distributions, sensitivity
indices and PRIM boxes (``DIR/report/`` by default).
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import typer

from migflow.model.errors import InputError
from migflow.model.limits import (
    check_agents,
    check_output_folder,
    check_time,
    default_folder,
    estimate_work,
)
from migflow.model.terminal import console, err, user_errors

# The sweep machinery (pydantic, SALib, pandas, Dask) is imported inside each command, so
# that ``migflow --help`` and the other commands do not pay for it.

commands = typer.Typer()  # joined to the ``migflow`` command line by migflow/cli.py


def _fmt(x) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _duration(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "-:--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@commands.command("sweep")
def sweep(
    file: Path = typer.Argument(..., help="Sweep file (TOML), e.g. scenarios/sweeps/example.toml"),
    out: Path = typer.Option(None, "--out", help="Sweep folder (default results/sweeps/NAME)"),
    workers: int = typer.Option(None, "--workers", help="Local worker processes (default: CPUs)"),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler, tcp://HOST:PORT"
    ),
    batch_size: int = typer.Option(100, "--batch-size", help="Runs per stored Parquet file"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count runs, run nothing"),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar"),
    yes: bool = typer.Option(
        False, "--yes", help="Start a sweep estimated to take over two minutes"
    ),
) -> None:
    """Run a parameter sweep on Dask; running it again resumes where it stopped."""
    from migflow.model.cluster import dask_client

    from .runner import run_sweep
    from .sample import design
    from .spec import load_sweep
    from .store import check_folder

    with user_errors():
        plan = load_sweep(file)
        if workers is not None and scheduler:
            raise InputError("use either --workers or --scheduler, not both", field="--workers")
        if workers is not None and not 1 <= workers <= 4096:
            raise InputError("must be between 1 and 4096", field="--workers")
        if not 1 <= batch_size <= 1_000_000:
            raise InputError("must be between 1 and 1000000", field="--batch-size")
        # The sweep's name is free text in a shared file: only its safe form is a path.
        target = out or default_folder(Path("results") / "sweeps", plan.name, "sweep")
        check_output_folder(target)
        resuming = check_folder(target, plan)
        des = design(plan)
        runs = des.runs(plan)
        refs = sum(r["kind"] == "reference" for r in runs)
        one = estimate_work(plan.base)
        check_agents(one, source=str(file), what="each run")
        slots = workers or (os.cpu_count() or 1) if not scheduler else 1
        if not dry_run:
            check_time(
                one.seconds * len(runs) / slots,
                yes=yes,
                source=str(file),
                what=f"the sweep ({len(runs):,} runs on {slots} worker{'s' * (slots > 1)})",
            )
        err.print(
            f"sweep [bold]{plan.name}[/]: {len(plan.inputs)} inputs, "
            f"{plan.file.sampler.method} design of {des.n_points} points x "
            f"{len(plan.seeds)} seeds = {len(runs) - refs} runs"
            + (f" + {refs} reference runs" if refs else "")
            + (f"; resuming in {target}" if resuming else f"; writing {target}"),
            highlight=False,
        )
        if dry_run:
            for inp in plan.inputs:
                console.print(f"  {inp.describe()}", highlight=False)
            return

        previous = signal.getsignal(signal.SIGTERM)

        def _terminate(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _terminate)
        try:
            summary = _run(
                plan, target, workers, scheduler, batch_size, quiet, dask_client, run_sweep
            )
        except KeyboardInterrupt:
            err.print(
                f"interrupted; finished runs are kept in {target}; run the same command again"
            )
            raise typer.Exit(130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    stored = summary.already + summary.computed
    err.print(
        f"{stored:,} of {summary.total:,} runs stored in {target} "
        f"({summary.computed:,} this time, {summary.failed:,} failed, "
        f"{_duration(summary.seconds)})",
        highlight=False,
    )
    if summary.interrupted:
        err.print("interrupted; run the same command again to finish")
        raise typer.Exit(130)
    if summary.failed:
        err.print(
            f"error: {summary.failed:,} of {summary.computed:,} runs failed this time; "
            f"their errors are stored with them (migflow sweep-report {target} counts them)",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(1)
    err.print(f"next: migflow sweep-report {target}", highlight=False)


def _run(plan, target, workers, scheduler, batch_size, quiet, dask_client, run_sweep):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with dask_client(workers, scheduler) as client:
        if quiet:
            return run_sweep(plan, target, client, batch_size=batch_size)
        with Progress(
            TextColumn(f"sweep [bold]{plan.name}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs  {task.fields[rate]}  left {task.fields[left]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[failed]}"),
            console=err,
        ) as bar:
            task = bar.add_task("sweep", total=None, rate="", left="-:--:--", failed="")

            def show(p) -> None:
                rate = p.session_done / p.elapsed if p.elapsed > 0 else 0.0
                left = (p.total - p.done) / rate if rate > 0 else float("nan")
                bar.update(
                    task,
                    total=p.total,
                    completed=p.done,
                    rate=f"{rate:.2f} runs/s",
                    left=_duration(left),
                    failed=f"{p.failed} failed" if p.failed else "",
                )

            return run_sweep(plan, target, client, batch_size=batch_size, progress=show)


_GOAL = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*([<>])\s*([-+0-9.eE_]+)\s*$")


def parse_goal(text: str, density: float | None):
    from .spec import GoalSpec

    """``OUTCOME<VALUE`` or ``OUTCOME>VALUE`` from the command line."""
    m = _GOAL.match(text)
    if not m:
        raise InputError(
            f"cannot read {text!r}; write OUTCOME<VALUE or OUTCOME>VALUE", field="--goal"
        )
    name, op, value = m.groups()
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        raise InputError(f"{value!r} is not a number", field="--goal") from None
    side = {"below": number} if op == "<" else {"above": number}
    return GoalSpec(outcome=name, density=0.8 if density is None else density, **side)


@commands.command("sweep-report")
def sweep_report(
    folder: Path = typer.Argument(..., help="A sweep folder written by migflow sweep"),
    goal: list[str] = typer.Option(
        None, "--goal", help="Goal for PRIM, e.g. 'darien_2025_2030<150000' (repeatable)"
    ),
    density: float = typer.Option(
        None, "--density", help="Share of runs in the box that must meet --goal (default 0.8)"
    ),
    out: Path = typer.Option(None, "--out", help="Report folder (default FOLDER/report)"),
) -> None:
    """Sensitivity indices and PRIM boxes of a stored sweep, as tables and PNG charts."""
    from .report import build_report, write_report
    from .store import load_results

    with user_errors():
        if density is not None and not 0 < density <= 1:
            raise InputError("must be in (0, 1]", field="--density")
        res = load_results(folder)
        goals = None
        if goal:
            goals = [parse_goal(g, density) for g in goal]
            for g in goals:
                if g.outcome not in res.plan.outcomes:
                    raise InputError(
                        f"unknown outcome {g.outcome!r}; outcomes: {', '.join(res.plan.outcomes)}",
                        field="--goal",
                    )
        elif density is not None:
            goals = [g.model_copy(update={"density": density}) for g in res.plan.goals]
        report = build_report(res, goals)
        target = out or Path(folder) / "report"
        if target.exists() and not target.is_dir():
            raise InputError("exists and is not a folder", field="--out")
        files = write_report(report, target)

    if not res.complete:
        err.print(
            f"[yellow]incomplete sweep:[/] {res.stored:,} of {res.expected:,} runs stored; "
            "run migflow sweep again to finish",
            highlight=False,
        )
    print_report(report)
    err.print(f"wrote {', '.join(str(f) for f in files)}", highlight=False)


def print_report(report) -> None:
    from rich.table import Table

    res = report.results
    console.print(
        f"sweep [bold]{res.plan.name}[/]: {res.stored:,} of {res.expected:,} runs stored, "
        f"{res.failed:,} failed",
        highlight=False,
    )
    t = Table(title="Outcomes over the runs")
    for col in ("outcome", "runs", "mean", "p5", "median", "p95"):
        t.add_column(col, justify="right")
    for row in report.distributions.to_dict("records"):
        t.add_row(
            row["outcome"],
            str(row["runs"]),
            *(_fmt(row[c]) for c in ("mean", "p5", "median", "p95")),
        )
    console.print(t)

    if not report.indices.empty:
        method = report.indices["method"].iloc[0]
        t = Table(title=f"Sensitivity indices ({method}; ± half-width of the 95% interval)")
        cols = ["mu_star", "sigma"] if method == "morris" else ["S1", "ST"]
        for col in ("outcome", "input", *cols):
            t.add_column(col, justify="right")
        for row in report.indices.to_dict("records"):
            cells = []
            for col in cols:
                conf = row.get(f"{col}_conf")
                value = row[col]
                if value != value:
                    cells.append("")
                else:
                    cells.append(
                        f"{value:.3f}"
                        + (f" ± {conf:.3f}" if conf == conf and conf is not None else "")
                    )
            t.add_row(row["outcome"], row["input"], *cells)
        console.print(t)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)

    for d in report.discoveries:
        if d.result is None:
            console.print(f"PRIM {d.goal.label}: {d.note}", highlight=False)
            continue
        r = d.result
        head = (
            f"PRIM box for {d.goal.label} in at least {r.threshold:.0%} of runs: "
            f"coverage {r.box.coverage:.2f}, density {r.box.density:.2f}, "
            f"{r.box.runs} of {r.runs} runs (goal met in {r.base_density:.0%} of all runs)"
        )
        if not r.reached:
            head += f"; [yellow]no box reaches density {r.threshold:.2f}[/], best shown"
        t = Table(title=head)
        for col in ("input", "low", "high", "full range", "qp"):
            t.add_column(col, justify="right")
        limits = r.limits()
        if limits.empty:
            t.add_row("(no restriction)", "", "", "", "")
        for row in limits.to_dict("records"):
            t.add_row(
                row["input"],
                _fmt(row["low"]),
                _fmt(row["high"]),
                f"{_fmt(row['range_low'])} .. {_fmt(row['range_high'])}",
                f"{row['qp']:.2g}",
            )
        console.print(t)
        console.print(
            "qp: chance of a density this high without the restriction (large: likely noise)",
            style="dim",
        )
        if r.left_out:
            console.print(
                f"left out, no effect on {d.goal.outcome} in any Saltelli pair: "
                + ", ".join(r.left_out),
                style="dim",
                highlight=False,
            )
