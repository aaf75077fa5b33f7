"""CLI commands: ``migflow calibrate``, ``migflow calibration-report``, ``migflow hindcast``.

Every option is checked before the first model run: counts in their ranges (an interval
needs at least two draws), the targets file, and the output folder; a report estimated to
take longer than ``SOFT_SECONDS`` starts only with ``--yes``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from migflow.model.calendar import parse_month
from migflow.model.errors import InputError
from migflow.model.limits import MAX_SCALE, check_output_folder, check_time, estimate_work
from migflow.model.terminal import YES, check_draws, console, err, user_errors

from .paths import DEFAULT_TARGETS, SHIPPED

# The fitting code (pandas, scipy, dask) is imported inside each command, so that
# ``migflow --help`` and the other commands do not pay for it.

commands = typer.Typer()  # joined to the ``migflow`` command line by migflow/cli.py


def _count(value: int | None, field: str, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise InputError(f"must be between {low:,} and {high:,} (got {value})", field=field)


def _settings(options: dict):
    """The calibration's settings from the command line's options (None: the default)."""
    from dataclasses import replace

    from .calibrate import Settings

    _count(options["max_evaluations"], "--max-evaluations", 1, 1_000_000)
    _count(options["chains"], "--chains", 1, 64)
    _count(options["fit_seeds"], "--fit-seeds", 1, 64)
    _count(options["population"], "--population", 2, 100_000)
    _count(options["generations"], "--generations", 1, 100)
    _count(options["ensemble"], "--ensemble", 2, 100_000)
    _count(options["waves"], "--waves", 1, 20)
    _count(options["runs_per_wave"], "--runs-per-wave", 2, 100_000)
    _count(options["truths"], "--truths", 0, 500)
    _count(options["scale"], "--scale", 1, MAX_SCALE)
    method = options["posterior"]
    if method is not None and method not in POSTERIORS:
        raise InputError(f"{method!r} is not one of {', '.join(POSTERIORS)}", field="--posterior")
    s = Settings()

    def given(name, default):
        return default if options[name] is None else options[name]

    sampler = replace(
        s.sampler,
        ensemble_size=given("ensemble", s.sampler.ensemble_size),
        check_runs=min(s.sampler.check_runs, given("ensemble", s.sampler.ensemble_size)),
        waves=given("waves", s.sampler.waves),
        runs_per_wave=given("runs_per_wave", s.sampler.runs_per_wave),
    )
    return Settings(
        scale=given("scale", s.scale),
        seed=s.seed,
        max_evaluations=given("max_evaluations", s.max_evaluations),
        chains=given("chains", s.chains),
        fit_seeds=given("fit_seeds", s.fit_seeds),
        posterior=given("posterior", s.posterior),
        population_size=given("population", s.population_size),
        generations=given("generations", s.generations),
        prior_width=s.prior_width,
        sampler=sampler,
        truths=given("truths", s.truths),
        search=_patterns(options.get("search")),
    )


def _patterns(text: str | None) -> tuple[str, ...]:
    """``--search``'s comma-separated names or patterns; empty parts are refused."""
    if text is None:
        return ()
    parts = tuple(part.strip() for part in text.split(","))
    if not all(parts):
        raise InputError(
            f"{text!r} has an empty name; give names or patterns separated by commas",
            field="--search",
        )
    return parts


def _check_until(until: str | None, field: str) -> None:
    if until is not None:
        try:
            parse_month(until)
        except ValueError as exc:
            raise InputError(str(exc), field=field) from None


WORKERS = typer.Option(2, "--workers", help="Dask LocalCluster worker processes")
SCHEDULER = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler")
TARGETS = typer.Option(DEFAULT_TARGETS, "--targets", help="Targets CSV (docs/calibration.md)")
MAX_EVALS = typer.Option(None, "--max-evaluations", help="Point-estimate model runs per chain")
CHAINS = typer.Option(
    None, "--chains", min=1, help="Point-estimate searches run side by side (one per worker)"
)
FIT_SEEDS = typer.Option(
    None,
    "--fit-seeds",
    help="Seeds each point-estimate evaluation is averaged over (1-64): more fit the data "
    "rather than one seed's noise, at that many runs an evaluation",
)
POSTERIORS = ("abc", "emulator")
POSTERIOR = typer.Option(
    None,
    "--posterior",
    help="emulator (the default: over the whole ranges) or abc (a box around the point)",
)
POPULATION = typer.Option(None, "--population", help="ABC-SMC particles per population")
GENERATIONS = typer.Option(None, "--generations", help="ABC-SMC populations")
ENSEMBLE = typer.Option(None, "--ensemble", help="Emulator: posterior draws kept in the ensemble")
WAVES = typer.Option(None, "--waves", help="Emulator: waves of runs it is fitted to")
RUNS_PER_WAVE = typer.Option(None, "--runs-per-wave", help="Emulator: model runs in each wave")
TRUTHS = typer.Option(
    None, "--truths", help="Emulator: synthetic truths for the coverage check (0 skips it)"
)
SCALE = typer.Option(None, "--scale", help="People per agent during the fit")


SEARCH = typer.Option(
    None,
    "--search",
    help="Move only these parameters in the point-estimate search (names or patterns such "
    "as 'us_preference.*', separated by commas), the others held at --start's values",
)
START = typer.Option(
    None,
    "--start",
    help="Begin the search at a calibration's point estimate (its folder or point.json), "
    "or where it began (its settings.json), instead of the defaults",
)


@commands.command("calibrate")
def calibrate_command(
    targets: Path = TARGETS,
    until: str = typer.Option(None, "--until", help="Drop targets after this month YYYY-MM"),
    out: Path = typer.Option(SHIPPED, "--out", help="Where to write the posterior"),
    workers: int = WORKERS,
    scheduler: str = SCHEDULER,
    max_evaluations: int = MAX_EVALS,
    chains: int = CHAINS,
    fit_seeds: int = FIT_SEEDS,
    posterior: str = POSTERIOR,
    population: int = POPULATION,
    generations: int = GENERATIONS,
    ensemble: int = ENSEMBLE,
    waves: int = WAVES,
    runs_per_wave: int = RUNS_PER_WAVE,
    truths: int = TRUTHS,
    scale: int = SCALE,
    start: Path = START,
    search: str = SEARCH,
) -> None:
    """Fit the model to the targets: point estimate, then a posterior ensemble (ABC in a box
    around the point, or with --posterior emulator over the whole ranges, with a check of
    its intervals' coverage)."""
    from .calibrate import calibrate, load_start, searched_space, select_targets
    from .space import ParameterSpace
    from .targets import load_targets

    with user_errors():
        _check_until(until, "--until")
        settings = _settings(locals())
        begin = None if start is None else load_start(start)
        searched_space(ParameterSpace(), begin, settings.search)  # refused here, not later
        select_targets(load_targets(targets), until, str(targets))
        check_output_folder(out)
        calibrate(targets, until, out, workers, scheduler, settings, say=err.print, start=begin)


BOUND_MARK = {"minimum": ">= ", "maximum": "<= "}


def _relative(row) -> str:
    """The relative error, or whether a bound holds (a bound is not a value to hit)."""
    if row["relative_error"] != row["relative_error"]:
        return "n/a"
    if row["error"] in BOUND_MARK and row["bound_holds"]:
        return "holds"
    broken = " (broken)" if row["error"] in BOUND_MARK else ""
    return f"{row['relative_error']:+.1%}{broken}"


def print_fit(table, ard, title: str) -> None:
    from rich.table import Table

    from .targets import SHARES

    t = Table(title=title)
    for col in ("target", "documented", "median", "90% interval", "rel. error"):
        t.add_column(col, justify="right")
    for _, row in table.iterrows():
        unit = "share" if row["quantity"] in SHARES else "people"
        documented = BOUND_MARK.get(row["error"], "") + _figure(row["documented"], unit)
        if not row["inside_window"]:
            t.add_row(row["id"], documented, "outside window", "", "")
            continue
        rel = _relative(row)
        t.add_row(
            row["id"],
            documented,
            _figure(row["median"], unit),
            f"{_figure(row['p05'], unit)} - {_figure(row['p95'], unit)}",
            rel,
        )
    console.print(t)
    a = Table(
        title="ARD = sum |sim - data| / sum data (median); a bound (>=, <=) counts "
        "only when broken; overall: counts only"
    )
    a.add_column("group")
    a.add_column("ARD", justify="right")
    for group, value in ard.items():
        a.add_row(str(group), f"{value:.3f}")
    console.print(a)


def print_goals(measured, edges) -> None:
    """The goals at the point estimate (what `migflow run baseline` shows) and at the median
    of the draws (what the intervals are centred on): a fit is judged on both."""
    from rich.table import Table

    from .report import POINT_SEEDS

    seeds = "point_other_seeds" in measured
    t = Table(title="Goals of issue 15 (point estimate, and median over draws)")
    columns = ["goal", "documented", "point", "met"]
    columns += [f"met at {POINT_SEEDS} other seeds"] if seeds else []
    for col in (*columns, "median", "met", "goal is"):
        t.add_column(col, justify="right")

    def met(simulated, ok) -> str:
        return "n/a" if simulated != simulated else ("yes" if ok else "NO")

    for _, row in measured.iterrows():
        unit = row["unit"]
        at_seeds = [] if not seeds else [
            "n/a" if row["point"] != row["point"] else str(int(row["point_other_seeds"]))
        ]  # fmt: skip
        t.add_row(
            row["goal"], _figure(row["documented"], unit),
            _figure(row["point"], unit), met(row["point"], row["point_met"]), *at_seeds,
            _figure(row["simulated"], unit), met(row["simulated"], row["met"]),
            row["threshold"],
        )  # fmt: skip
    console.print(t)
    if seeds:
        console.print(
            f"The point is fitted at one seed: 'met at {POINT_SEEDS} other seeds' counts the "
            "seeds above it (those of the first draws) at which each goal also holds."
        )
    if edges.empty:
        console.print("No fitted parameter lies within 2% of a bound of its range.")
        return
    b = Table(title="Fitted parameters within 2% of a bound: the range decided them, not the data")
    for col in ("parameter", "value", "range", "at"):
        b.add_column(col, justify="right")
    for _, row in edges.iterrows():
        b.add_row(row["parameter"], f"{row['value']:.4g}", f"{row['low']:g}..{row['high']:g}",
                  row["at"])  # fmt: skip
    console.print(b)


def _figure(x, unit: str) -> str:
    """A goal's figure in its unit: people with separators, a share as a percentage, an
    ARD as a decimal; blank if none."""
    if x != x:
        return ""
    return {"people": f"{x:,.0f}", "share": f"{x:.1%}"}.get(unit, f"{x:.3f}")


def print_untargeted(table) -> None:
    from rich.table import Table

    t = Table(title="Largest simulated stocks no target covers (point estimate): check them")
    for col in ("host", "nationality", "people", "month"):
        t.add_column(col, justify="right")
    for _, row in table.iterrows():
        t.add_row(row["host"], row["nationality"], f"{row['people']:,.0f}", row["month"])
    console.print(t)


def print_from_a_host(table, targets) -> None:
    """The point's share of Darién crossers who came from a host, by nationality, under the
    survey's figure where the targets have it."""
    from rich.table import Table

    survey = targets[targets["quantity"] == "darien_third_country_share"]
    note = "; ".join(
        f"documented {row.value:.0%} of {row.nationality} in {row.start}..{row.end}"
        for row in survey.itertuples()
    )
    t = Table(
        title="Darién crossers who had lived 6 months or more in a host first (point estimate)",
        caption=note or None,
    )
    for col in ("period", "nationality", "crossers", "from a host"):
        t.add_column(col, justify="right")
    for row in table.dropna(subset=["crossers"]).itertuples():
        share = f"{row.from_a_host:.0%}" if row.crossers > 0 else "-"
        t.add_row(row.period, row.nationality, f"{row.crossers:,.0f}", share)
    console.print(t)


def print_information(table) -> None:
    """What the targets say about each parameter near the point (``information.py``)."""
    from rich.table import Table

    counts = table["verdict"].value_counts()
    console.print(
        "What the targets decide, near the point estimate (Laplace approximation; posterior "
        "against prior standard deviation): "
        + "; ".join(f"{n} {verdict}" for verdict, n in counts.items())
    )
    t = Table(title="Parameters the data decide or narrow (the others stay at their prior)")
    for col in ("parameter", "point", "posterior sd, share of range", "of the prior's"):
        t.add_column(col, justify="right")
    for _, row in table[table["verdict"] != "left at its prior"].iterrows():
        t.add_row(row["parameter"], f"{row['point']:.4g}",
                  f"{row['posterior_sd_share_of_range']:.1%}",
                  f"{row['posterior_over_prior_sd']:.0%}")  # fmt: skip
    console.print(t)
    left = table.loc[table["verdict"] == "left at its prior", "parameter"]
    if len(left):
        console.print("Left at their prior by the data: " + ", ".join(left))


def print_coverage(table, truths: int) -> None:
    """How often the local intervals cover synthetic truths (``information.linear_coverage``)."""
    import numpy as np

    for level, column in ((50, "covered_50"), (90, "covered_90")):
        share = table[column]
        near = int((np.abs(share - level / 100) <= 0.10).sum())
        console.print(
            f"{level}% intervals over {truths} synthetic truths: cover {share.mean():.0%} on "
            f"average; {near} of {len(table)} parameters within 10 points of {level}%"
        )
    worst = table.assign(gap=np.abs(table["covered_90"] - 0.9)).nlargest(5, "gap")
    console.print(
        "Furthest from 90%: "
        + ", ".join(f"{r.parameter} {r.covered_90:.0%}" for r in worst.itertuples())
    )


def print_importance(check: dict) -> None:
    """Whether the local posterior could be the ensemble (``information.importance_check``)."""
    if check["proposals"] == 0:
        console.print("Importance check: no draw from the local posterior fell inside the ranges")
        return
    console.print(
        f"Importance check: {check['proposals']} draws from the local posterior "
        f"({check['inside_ranges']:.2%} of its draws fall inside every range), weighted by the "
        f"likelihood: effective sample size {check['effective_sample_size']:.1f}; their loss "
        f"{check['lowest_loss']:.3f}-{check['highest_loss']:.3f} (median "
        f"{check['median_loss']:.3f}) against {check['point_loss']:.3f} at the point"
    )


def print_spread(table) -> None:
    """What the data decide (``identification.spread_table``): the verdicts counted, and the
    parameters the data leave at their prior named, for whatever rests on them."""
    from rich.table import Table

    counts = table["verdict"].value_counts()
    console.print(
        "Spread of the ensemble against each fitted parameter's prior (uniform over its "
        "range): " + "; ".join(f"{n} {v}" for v, n in counts.items())
    )
    t = Table(title="Fitted parameters: the ensemble's 5-95% against the range")
    for col in ("parameter", "range", "point", "5-95% of the ensemble", "sd / prior's", "verdict"):
        t.add_column(col)
    for _, r in table.iterrows():
        t.add_row(
            r["parameter"], f"{r['low']:.4g} .. {r['high']:.4g}", f"{r['point']:.4g}",
            f"{r['p05']:.4g} .. {r['p95']:.4g}", f"{r['sd_over_prior']:.2f}",
            r["verdict"] + (" (point at a bound)" if r["point_at_bound"] else ""),
        )  # fmt: skip
    console.print(t)


def print_ensemble_coverage(folder: Path) -> None:
    """The calibration's coverage check (``coverage.py``), if it ran: mean coverage of the
    parameters' and the targets' intervals, and the parameters furthest from 90%."""
    import json

    import pandas as pd

    record = json.loads((folder / "settings.json").read_text())
    summary, truths = record.get("coverage"), record.get("settings", {}).get("truths")
    if summary is None:
        console.print("Coverage check: not run for this calibration (--truths 0)")
        return
    within = summary["parameters_90_within_10_points"]
    console.print(
        f"Coverage check of the ensemble's intervals ({truths} synthetic truths): the "
        f"parameters' 50% intervals cover {summary['parameters_50']:.0%} and their 90% "
        f"intervals {summary['parameters_90']:.0%} ({within} of {summary['n_parameters']} "
        f"within 10 points of 90%); the targets' 50% and 90% predictive intervals "
        f"{summary['targets_50']:.0%} and {summary['targets_90']:.0%}"
    )
    table = pd.read_csv(folder / "coverage_parameters.csv")
    far = table.assign(gap=(table["covered_90"] - 0.9).abs()).nlargest(5, "gap")
    console.print(
        "Furthest from 90%: "
        + ", ".join(f"{r.parameter} {r.covered_90:.0%}" for r in far.itertuples())
    )


def _report_seconds(posterior, targets, draws: int) -> float:
    """Estimated time of ``_report``: ``draws`` runs of the history scenario, and the
    point's at other seeds."""
    from .history import history_for
    from .report import POINT_SEEDS

    settings = posterior.settings.get("settings", {})
    scenario = history_for(targets, scale=settings.get("scale", 100))
    runs = draws + len(posterior.settings.get("free_parameters", [])) + 1  # + information
    runs += POINT_SEEDS  # the point at other seeds
    return estimate_work(scenario, posterior.point_parameters()).seconds * runs


def _report(posterior, targets, draws, out: Path, title: str):
    from .goals import goals, near_bounds, times_met
    from .report import (
        ard_table,
        fit_table,
        plots,
        point_at_other_seeds,
        point_inside_band,
        simulate_draws,
    )

    settings = posterior.settings.get("settings", {})
    scale, seed = settings.get("scale", 100), settings.get("seed", 0)
    sims, point = simulate_draws(posterior, targets, draws, scale, seed)
    others = point_at_other_seeds(posterior, targets, scale, seed)
    table = fit_table(targets, sims)
    ard = ard_table(targets, table)
    print_fit(table, ard, title)
    measured = goals(targets, table["median"].to_numpy())
    at_point = goals(targets, sims[0])
    measured = measured.assign(
        point=at_point["simulated"],
        point_met=at_point["met"],
        point_other_seeds=times_met(targets, others),
    )
    edges = near_bounds(posterior.point, posterior.settings.get("free_parameters", []))
    print_goals(measured, edges)
    share, checked = point_inside_band(sims)
    if checked:
        console.print(
            f"The point estimate lies inside the other {len(sims) - 1} draws' 5-95% band for "
            f"{share:.1%} of the {checked} targets (issue 21: at least 90%)."
        )
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "fit.csv", index=False)
    measured.to_csv(out / "goals.csv", index=False)
    files = plots(targets, table, out, title)
    err.print(f"wrote {out}/fit.csv and {', '.join(p.name for p in files)}")
    return table, ard, point


@commands.command("calibration-report")
def calibration_report(
    posterior: Path = typer.Option(SHIPPED, "--posterior", help="Calibration result folder"),
    targets: Path = typer.Option(None, "--targets", help="Targets CSV (default: those fitted)"),
    draws: int = typer.Option(20, "--draws", help="Posterior draws for the 90% intervals (2-1000)"),
    out: Path = typer.Option(Path("results/calibration"), "--out", help="Folder for CSV and PNGs"),
    coverage: int = typer.Option(
        0, "--coverage", help="Synthetic truths for the coverage of the local intervals (0-500)"
    ),
    importance: int = typer.Option(
        0, "--importance", help="Draws from the local posterior, weighted by the likelihood (0-500)"
    ),
    yes: bool = YES,
) -> None:
    """Documented vs simulated for every target, ARD per group, and PNG plots."""
    from .calibrate import select_targets
    from .identification import spread_table
    from .information import measure
    from .posterior import load_posterior
    from .report import from_a_host, untargeted_stocks
    from .targets import load_targets

    with user_errors():
        check_draws(draws, allow_none=False)
        _count(coverage, "--coverage", 0, 500)
        _count(importance, "--importance", 0, 500)
        check_output_folder(out)
        post = load_posterior(posterior)
        if post is None:
            raise InputError(
                "no calibration result here; run `migflow calibrate`", source=str(posterior)
            )
        table_file = targets or post.folder / "targets.csv"
        chosen = select_targets(
            load_targets(table_file), post.settings.get("until"), str(table_file)
        )
        check_time(
            _report_seconds(post, chosen, draws + coverage + importance), yes=yes, source=None,
            what=f"{draws} draws, {coverage} synthetic truths and {importance} weighted draws",
        )  # fmt: skip
        _, _, point = _report(post, chosen, draws, out, "in-sample fit")
        loose = untargeted_stocks(point.settled()[-1], chosen)
        print_untargeted(loose)
        loose.to_csv(out / "untargeted_stocks.csv", index=False)
        hosts = from_a_host(point)
        print_from_a_host(hosts, chosen)
        hosts.to_csv(out / "darien_from_a_host.csv", index=False)
        spread = spread_table(post.ensemble, post.point, box_width=post.box_width)
        print_spread(spread)
        spread.to_csv(out / "parameter_spread.csv", index=False)
        print_ensemble_coverage(post.folder)
        settings = post.settings.get("settings", {})
        information, covered, weighted = measure(
            post.point, chosen, settings.get("scale", 100), settings.get("seed", 0), coverage,
            importance, post.settings.get("free_parameters"),
        )  # fmt: skip
        print_information(information)
        information.to_csv(out / "parameter_information.csv", index=False)
        if covered is not None:
            print_coverage(covered, coverage)
            covered.to_csv(out / "parameter_coverage.csv", index=False)
        if weighted is not None:
            print_importance(weighted)


@commands.command("hindcast")
def hindcast(
    train_until: str = typer.Option(..., "--train-until", help="Fit on targets up to YYYY-MM"),
    targets: Path = TARGETS,
    workers: int = WORKERS,
    scheduler: str = SCHEDULER,
    draws: int = typer.Option(20, "--draws", help="Posterior draws for the 90% intervals (2-1000)"),
    out: Path = typer.Option(Path("results/hindcast"), "--out", help="Folder for the results"),
    max_evaluations: int = MAX_EVALS,
    chains: int = CHAINS,
    fit_seeds: int = FIT_SEEDS,
    posterior: str = POSTERIOR,
    population: int = POPULATION,
    generations: int = GENERATIONS,
    ensemble: int = ENSEMBLE,
    waves: int = WAVES,
    runs_per_wave: int = RUNS_PER_WAVE,
    truths: int = TRUTHS,
    scale: int = SCALE,
    start: Path = START,
) -> None:
    """Calibrate on targets up to a month, then report the fit to the targets after it."""
    from .calibrate import calibrate, load_start
    from .posterior import load_posterior
    from .targets import load_targets

    with user_errors():
        _check_until(train_until, "--train-until")
        check_draws(draws, allow_none=False)
        check_output_folder(out)
        table = load_targets(targets)
        later = table[(table["start_month"] > parse_month(train_until))]
        later = later[later["start_month"] >= parse_month("2015-01")].reset_index(drop=True)
        if later.empty:
            raise InputError(
                f"no targets after {train_until} to test against", field="--train-until"
            )
        settings = _settings(locals())
        begin = None if start is None else load_start(start)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "posterior"
            calibrate(
                targets, train_until, folder, workers, scheduler, settings, say=err.print,
                start=begin,
            )  # fmt: skip
            post = load_posterior(folder)
            _report(post, later, draws, out, f"out of sample (trained to {train_until})")
