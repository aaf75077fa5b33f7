"""``migflow calibrate``: point estimate, then a posterior ensemble, written as the default.

Two posteriors: by default the posterior over each parameter's whole range sampled on an
emulator, with its coverage check (``emulated_posterior.py``, ``coverage.py``), or, with
``posterior = "abc"``, ABC rejection in a box around the point (``abc.py``), whose spread is
the box's (docs/calibration.md).

Interruptions lose little: each point-estimate chain's best-so-far is checkpointed as it
improves (``chains.py``), the ABC populations live in pyabc's database and each block of the
emulated posterior's runs is kept as it finishes, all in a work folder next to the output;
running the same command again continues from them, but only for the same set-up (targets,
scenario, free parameters and code: ``setup_identity``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from migflow.model.calendar import parse_month
from migflow.model.cluster import dask_client
from migflow.model.errors import InputError
from migflow.model.parameters import parameter_problem
from migflow.model.provenance import git_commit, package_version
from migflow.model.scenario import Scenario

from .abc import abc_smc
from .chains import run_chains, seconds_spent
from .coverage import coverage_check, coverage_summary
from .emulated_posterior import SamplerSettings, emulated_posterior
from .fit import evaluate
from .goals import goals
from .history import HISTORY_INSTRUMENTS, history_for
from .information import effective_targets, information_table, measure, posterior_sd, residuals
from .paths import DEFAULT_TARGETS, SHIPPED
from .posterior import write_posterior
from .simulate import ard_by_group, loss
from .space import ParameterSpace
from .targets import load_targets


@dataclass
class Settings:
    """The shipped settings (the time each step took is in settings.json)."""

    scale: int = 100
    seed: int = 20221006
    max_evaluations: int = 2400  # per chain
    # Powell chains run side by side, one per worker (chains.py): on 2 cores, two searches
    # in the wall time of one, and the better local optimum is kept.
    chains: int = 2
    # seeds each point-estimate evaluation is averaged over (fit.py): 1 fits the noise of
    # one seed as well as the data
    fit_seeds: int = 1
    # the parameters the point-estimate search moves (names or patterns; empty: all the free
    # ones), the others held at the start's values. A chain of a few hundred evaluations
    # searches only the first or the last twenty-odd of Powell's 57 directions, so a refit
    # reaches the middle of the order only by a search restricted to it
    # (docs/calibration.md, The shipped fit). The posterior is over all the free parameters.
    search: tuple[str, ...] = ()
    # "abc": one population of ABC rejection inside boxes of prior_width around the point.
    # With tens of free parameters the importance weights of later populations collapse
    # (measured with 35: effective sample size 1.0-1.9 of 64 after 4 populations, total
    # weights near 1e-65, as pyabc's kernel densities underflow in 35 dimensions), so more
    # populations give a one-particle "ensemble", and the box, not the data, sets the
    # spread. "emulator": the posterior over the whole ranges (emulated_posterior.py) and
    # its coverage check; the shipped one (docs/calibration.md).
    posterior: str = "emulator"
    population_size: int = 192
    generations: int = 1
    prior_width: float = 0.02
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    # synthetic truths for the emulator's coverage check (coverage.py), one run each
    truths: int = 50
    # the local measure of what the data decide (information.py): one run per parameter
    local_measure: bool = True


def select_targets(
    targets: pd.DataFrame, until: str | None, source: str | None = None
) -> pd.DataFrame:
    """Targets the model can be fitted to: inside the window, and up to ``until``. When
    none is left, the message blames ``--until`` only if it was given, else the file."""
    keep = targets["start_month"] >= parse_month("2015-01")
    if until is not None:
        keep &= targets["end_month"] <= parse_month(until)
    chosen = targets[keep].reset_index(drop=True)
    if chosen.empty:
        if until is None:
            message = "no target starts in 2015-01 or later, inside the model's window"
            raise InputError(message, source=source)
        raise InputError(f"no targets left to fit in 2015-01..{until}", field="--until")
    return chosen


def calibrate(
    targets_file: Path = DEFAULT_TARGETS,
    until: str | None = None,
    out: Path = SHIPPED,
    workers: int = 2,
    scheduler: str | None = None,
    settings: Settings | None = None,
    say=print,
    start: dict[str, float] | None = None,
) -> dict:
    """Fit, and write the result to ``out``. ``start`` (from ``load_start``) is where the
    point-estimate chains begin; None begins at the parameters' defaults."""
    settings = settings or Settings()
    all_targets = load_targets(targets_file)
    targets = select_targets(all_targets, until, str(targets_file))
    scenario = history_for(targets, scale=settings.scale, seed=settings.seed)
    space = ParameterSpace()
    searched = searched_space(space, start, settings.search)
    search_scenario = holding(scenario, start, searched)
    work = out.parent / f".{out.name}.work"  # created once the cluster is there
    t0 = time.time()

    setup = setup_identity(targets, search_scenario, searched, start, settings.fit_seeds)
    earlier = seconds_spent(work, settings.chains, setup)  # before an interruption

    # The chains run on the cluster's workers, and so do the posterior's runs; a wrong
    # --scheduler is reported at once.
    with dask_client(workers, scheduler) as client:
        work.mkdir(parents=True, exist_ok=True)
        best, best_loss, chains = run_chains(
            client, search_scenario, targets, searched, settings.chains,
            settings.max_evaluations, work, setup, say, start, settings.fit_seeds,
        )  # fmt: skip
        best = {**(start or {}), **best}  # the parameters held, if the search was restricted
        averaged = f" averaged over {settings.fit_seeds} seeds" if settings.fit_seeds > 1 else ""
        say(f"point estimate done: loss {best_loss:.4f}{averaged} after {time.time() - t0:.0f} s ("
            + ", ".join(f"chain {c['chain']} {c['loss']:.4f}" for c in chains) + ")")  # fmt: skip

        sim = evaluate(best, scenario, targets)
        covered, diagnostics, local = None, {}, None
        if settings.posterior == "abc":
            say(f"ABC-SMC: {settings.generations} populations of {settings.population_size}")
            ensemble = abc_smc(
                scenario, targets, best, client, work / "abc.db", settings.population_size,
                settings.generations, settings.prior_width, space, setup, settings.seed,
            )  # fmt: skip
            weights = ensemble["weight"].to_numpy()
            diagnostics["abc_effective_sample_size"] = round(float(1 / np.sum(weights**2)), 2)
            say(f"ABC-SMC done: effective sample size {diagnostics['abc_effective_sample_size']}")
        else:
            ensemble, diagnostics, covered, local = _emulated(
                client, scenario, targets, space, best, sim, settings, work, setup, say
            )
            say(f"posterior done after {time.time() - t0:.0f} s")
    ard = ard_by_group(sim, targets)
    # the goals at the point, said with the loss: a lower loss can meet fewer of them (the
    # loss weighs each row's log error, the goals levels and totals; docs/calibration.md)
    measured = goals(targets, sim).dropna(subset=["simulated"])  # a window before 2022 has fewer
    fit = {
        "loss": loss(sim, targets),
        "ard": {k: float(v) for k, v in ard.items()},
        "goals_met": int(measured["met"].sum()),
        "goals": len(measured),
    }
    record = {
        "package_version": package_version(),
        "git_commit": git_commit(),
        "settings": asdict(settings),
        "until": until,
        "window_end": scenario.end,
        "targets_file": str(targets_file),
        "n_targets_fitted": len(targets),
        "free_parameters": list(space.names),
        "searched_parameters": list(searched.names),
        # where the search began: None = the defaults; a refit's start is kept whole, so
        # `migflow calibrate --start <this settings.json>` reruns this very fit
        "start": None if start is None else {"parameters": start},
        "history_instruments": list(HISTORY_INSTRUMENTS),
        "seconds": round(earlier + time.time() - t0, 1),  # including any interrupted part
        "point_estimate_chains": chains,
        "posterior": diagnostics,
        "in_sample": fit,
    }
    extra = {}
    # what the data decide near the point, in every direction: a box ensemble says nothing
    # of it, and the emulated one is kept near its runs (posterior.left_at_prior)
    if settings.local_measure:
        if local is None:
            say("what the data decide near the point: one run per fitted parameter")
            local, _, _ = measure(best, targets, settings.scale, settings.seed)
        extra["parameter_information.csv"] = local
    if covered is not None:
        parameters, outcomes = covered
        extra["coverage_parameters.csv"] = parameters.assign(parameter=list(space.names))
        extra["coverage_targets.csv"] = outcomes.assign(id=targets["id"], group=targets["group"])
        record["coverage"] = coverage_summary(parameters, outcomes)
        say(f"coverage: {record['coverage']}")
    write_posterior(out, best, fit, ensemble, targets_file, record, extra)
    say(
        f"wrote {out} in {time.time() - t0:.0f} s; in-sample ARD {fit['ard']['overall']:.3f}; "
        f"goals of issue 15 met at the point: {fit['goals_met']} of {fit['goals']}"
    )
    return record


def searched_space(
    space: ParameterSpace, start: dict[str, float] | None, patterns: tuple[str, ...]
) -> ParameterSpace:
    """The parameters the point-estimate search moves: all of ``space``, or those
    ``patterns`` select. Refused without a start, since the others would be held at their
    defaults, not at a fit."""
    if not patterns:
        return space
    if start is None:
        raise InputError(
            "a search of some parameters needs --start (the others keep the start's values)",
            field="--search",
        )
    return space.select(tuple(patterns))


def holding(
    scenario: Scenario, start: dict[str, float] | None, searched: ParameterSpace
) -> Scenario:
    """The scenario the search runs: ``scenario`` with every parameter of ``start`` that is
    not searched held at the start's value (``scenario`` itself for a whole search)."""
    held = {n: v for n, v in (start or {}).items() if n not in searched.names}
    if not held:
        return scenario
    return scenario.with_changes(parameters={**dict(scenario.parameters or {}), **held})


def setup_identity(
    targets, scenario, space: ParameterSpace, start: dict | None = None, fit_seeds: int = 1
) -> str:
    """What a checkpoint is valid for: the targets (values, weights, error models), the
    history scenario (with its scale and seed), the free parameters, the starting point, the
    seeds each evaluation is averaged over, and the model and calibration code. A work
    folder left by a different set-up is never resumed: resuming a fit to other targets, or
    of another model, would ship a result no command produced."""
    digest = hashlib.sha256()
    digest.update(targets.to_csv(index=False).encode())
    digest.update(scenario.model_dump_json().encode())
    digest.update(json.dumps(list(space.names)).encode())  # scale and seed: in the scenario
    if start is not None:  # (absent for the defaults: checkpoints from before --start resume)
        digest.update(json.dumps(start, sort_keys=True).encode())
    if fit_seeds != 1:  # (absent for one seed, as before the option)
        digest.update(f"fit_seeds={fit_seeds}".encode())
    root = Path(__file__).resolve().parents[1]
    for source in sorted([*root.glob("model/**/*.py"), *root.glob("calibration/*.py")]):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def load_start(path: Path, space: ParameterSpace | None = None) -> dict[str, float]:
    """Starting values for a refit, from a calibration's folder or one of its files.

    A folder or its ``point.json`` gives that calibration's point estimate: a refit after new
    targets or a model change starts where the last fit ended, not at the defaults. A
    ``settings.json`` gives the point that calibration itself started from, to rerun it.
    Parameters the file lacks keep their defaults; unknown ones or values outside a
    parameter's range are refused."""
    space = space or ParameterSpace()
    path = Path(path)
    file = path / "point.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {file}: {exc}", field="--start") from None
    if isinstance(data, dict) and "free_parameters" in data:  # a settings.json
        data = data.get("start")
        if data is None:
            raise InputError(
                f"{file}: that calibration started from the defaults; run without --start",
                field="--start",
            )
    values = data.get("parameters") if isinstance(data, dict) else None
    if not isinstance(values, dict) or not values:
        raise InputError(
            f'{file} has no "parameters" mapping (expected a calibration folder, its '
            "point.json or its settings.json)",
            field="--start",
        )
    for name, value in values.items():
        problem = (
            f"{name} = {value!r} is not a number"
            if isinstance(value, bool) or not isinstance(value, int | float)
            else parameter_problem(name, value)
        )
        if problem is None and name not in space.names:
            problem = f"{name} is not a fitted parameter (allowed: {', '.join(space.names)})"
        if problem:
            raise InputError(f"{file}: {problem}", field="--start")
    return {name: float(value) for name, value in values.items()}


def fitted_values(values: dict, targets: pd.DataFrame, scale: int, seed: int) -> np.ndarray:
    return evaluate(values, history_for(targets, scale=scale, seed=seed), targets)


def _emulated(client, scenario, targets, space, best, sim, settings, work, setup, say):
    """The emulated posterior, as an ensemble table, with its diagnostics, coverage and
    (with ``local_measure``) the local measure's table, from the runs the posterior took
    first (whose shape its first wave takes with ``first_wave = "local"``)."""
    run_batch = dask_runs(client, scenario, targets, space)
    if settings.local_measure:
        say("what the data decide near the point: one run per fitted parameter")
    say(f"posterior: {settings.sampler.waves} waves of {settings.sampler.runs_per_wave} runs")
    n_eff = effective_targets(sim, targets)
    posterior = emulated_posterior(
        run_batch, space.to_unit(best), n_eff, settings.sampler, settings.seed, work, setup,
        say, local_measure=settings.local_measure,
    )  # fmt: skip
    local = None
    if posterior.local is not None:
        base, jac = posterior.local
        local = information_table(space, best, posterior_sd(jac, base, n_eff))
    found = posterior.diagnostics
    say(f"{found['runs']} runs; real loss of {settings.sampler.check_runs} draws "
        f"{found['check_loss_median']:.3f} (median) against "
        f"{found['check_predicted_loss_median']:.3f} emulated")  # fmt: skip
    covered = None
    if settings.truths > 0:
        say(f"coverage check: {settings.truths} synthetic truths")
        covered = coverage_check(
            posterior, run_batch, settings.truths, settings.sampler, settings.seed
        )
    ensemble = pd.DataFrame([space.to_values(u) for u in posterior.ensemble])
    ensemble["weight"] = 1.0 / len(ensemble)
    return ensemble, found, covered, local


def _residual_run(unit, seed, scenario, targets, space) -> np.ndarray:
    """One run's residuals (``information.residuals``), in a worker."""
    values = space.to_values(unit)
    return residuals(evaluate(values, scenario.with_changes(seed=int(seed)), targets), targets)


def dask_runs(client, scenario, targets, space: ParameterSpace):
    """A run batch for ``emulated_posterior``: every point on the cluster, results in order."""
    shared_scenario, shared_targets = client.scatter([scenario, targets], broadcast=True)

    def run(units: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        futures = client.map(
            _residual_run, list(units), [int(s) for s in seeds], scenario=shared_scenario,
            targets=shared_targets, space=space, pure=False,
        )  # fmt: skip
        return np.array(client.gather(futures))

    return run
