"""Running scenarios for the app: cached, with a progress bar, and the calibration status.

A run is keyed on the scenario's TOML text (``dumps_scenario``: every lever, the window, the
seed and the scale) plus, for a posterior draw, the parameter set as JSON. The central run
calls ``run_scenario(scenario)`` exactly as ``migflow run`` does, so the app and the command
line give the same numbers for the same scenario and seed; a scenario compared with its
baseline starts from the baseline's state at its first changed month, which gives the same
numbers bit for bit (model/checkpoint.py, tests/test_checkpoint.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from migflow.model.calendar import parse_month
from migflow.model.checkpoint import SavedStates, run_until, small_enough, snapshot
from migflow.model.parameters import Parameters
from migflow.model.results import Results
from migflow.model.run import run_from_reference, run_scenario
from migflow.model.scenario import Scenario, dumps_scenario, loads_scenario

from .state import DEFAULT_CHANGE_START, same_policy, shipped_scenario

BASELINE = "baseline"

NO_POSTERIOR = "uncertainty bands appear once a calibration posterior is shipped"


def run_uncached(
    toml_text: str,
    parameters_json: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Parse the scenario text and run it (no cache): what the cached run does on a miss."""
    scenario = loads_scenario(toml_text, source="app")
    parameters = None if parameters_json is None else Parameters(json.loads(parameters_json))
    return run_scenario(scenario, parameters, progress=progress)


@st.cache_data(show_spinner=False, max_entries=64)
def _run_cached(toml_text: str, parameters_json: str | None = None) -> Results:
    progress, done = _progress_bar()
    scenario = loads_scenario(toml_text, source="app")
    months = parse_month(DEFAULT_CHANGE_START) - parse_month(scenario.start)
    if parameters_json is not None or not 0 < months < scenario.n_months:
        results = run_uncached(toml_text, parameters_json, progress)
    else:
        # on the way, keep the state at the month the levers start by default, so that the
        # first lever change runs only from there (``run_from_reference``)
        model = run_until(scenario, None, months, progress)
        if small_enough(model):
            _saved_states().save(scenario, months, snapshot(model))
        model.run(progress)
        results = Results.from_model(model)
    done()
    return results


@st.cache_resource
def _saved_states() -> SavedStates:
    """Shared by every session of this server."""
    return SavedStates()


def run(scenario: Scenario, parameters: Parameters | None = None) -> tuple[Results, float]:
    """Results of ``scenario`` (cached) and the seconds this call took (near 0 from cache)."""
    parameters_json = None if parameters is None else json.dumps(dict(parameters), sort_keys=True)
    began = time.perf_counter()
    results = _run_cached(dumps_scenario(scenario), parameters_json)
    return results, time.perf_counter() - began


def baseline_for(scenario: Scenario) -> Scenario:
    """The shipped baseline with ``scenario``'s seed, scale and window: the reference that
    makes a difference the effect of the scenario's levers (common random numbers)."""
    base = shipped_scenario(BASELINE)
    if (base.start, base.end) != (scenario.start, scenario.end):
        base = base.clipped(scenario.start, scenario.end)
    return base.with_changes(seed=scenario.seed, scale=scenario.scale)


def run_with_baseline(scenario: Scenario) -> tuple[Results, Results, Scenario, float]:
    """Results of ``scenario`` and of its baseline (one run if they are the same policy).
    The scenario starts from the baseline's state at its first changed month
    (model/checkpoint.py: the same numbers as a run from the start), so a lever from 2026
    runs only 2026 onwards."""
    reference = baseline_for(scenario)
    if same_policy(reference, scenario):
        results, seconds = run(scenario)
        return results, results, reference, seconds
    baseline, seconds = run(reference)
    began = time.perf_counter()
    results = _run_from_reference(dumps_scenario(scenario), dumps_scenario(reference))
    return results, baseline, reference, seconds + time.perf_counter() - began


def _progress_bar() -> tuple[Callable[[int, int], None], Callable[[], object]]:
    """A progress bar's mover and its remover. Made inside the cached functions, so a
    cache hit replays it (instantly, ending empty) instead of touching an element made
    elsewhere. Outside a page run (``warm_up``) there is no page to draw it on."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return lambda t, n: None, lambda: None
    bar = st.progress(0.0, text="Running the model…")

    def progress(t: int, n: int) -> None:
        if t == n or t % 6 == 0:
            bar.progress(t / n, text=f"Running the model: month {t} of {n}")

    return progress, bar.empty


@st.cache_data(show_spinner=False, max_entries=64)
def _run_from_reference(toml_text: str, reference_toml: str) -> Results:
    progress, done = _progress_bar()  # over the months actually run
    scenario = loads_scenario(toml_text, source="app")
    reference = loads_scenario(reference_toml, source="app")
    results = run_from_reference(scenario, reference, _saved_states(), progress)
    done()
    return results


def warm_up() -> None:
    """Run the baseline into the cache every session of this server shares, so that the
    first visitor sees its results as soon as every later one.

    ``migflow app`` calls it before the server starts to listen. Any failure is left for the
    page, which runs it again and reports it in words."""
    try:
        run(shipped_scenario(BASELINE))
        load_posterior_safely()  # not cached (a file read), but its first call imports a lot
        from . import brief, charts, documented, indicators, route_map  # noqa: F401 (imports)

        documented.load_documented()
    except Exception:
        return


# ------------------------------------------------------------------ calibration


def load_posterior_safely() -> tuple[Any | None, str]:
    """The shipped calibration posterior, or None and the reason there is none.

    Coded against the interface ``calibration.posterior.load_posterior()`` -> None or an
    object with ``.draws(k, seed)``; any failure to import or read it means "no posterior"
    (the app must keep working while calibration is absent or being rewritten).
    """
    try:
        from migflow.calibration.posterior import load_posterior
    except ImportError:
        return None, "the calibration module is not installed"
    try:
        posterior = load_posterior()
    except Exception as exc:  # a broken or half-written posterior must not stop the app
        return None, f"the calibration result could not be read ({exc})"
    if posterior is None or not callable(getattr(posterior, "draws", None)):
        return None, "no calibration posterior is shipped yet"
    return posterior, "calibration posterior shipped"


def calibration_status(results: Results) -> tuple[bool, str]:
    """Whether this run used calibrated parameters, and a sentence saying which."""
    posterior, why = load_posterior_safely()
    if posterior is None:
        return False, f"Uncalibrated starting values: {why}. Use differences between scenarios."
    point = getattr(posterior, "point", None)
    used = results.manifest.get("parameters", {})
    overridden = set(results.manifest.get("scenario", {}).get("parameters", {}))
    if isinstance(point, dict) and point:
        same = all(
            name in overridden or np.isclose(used.get(name, np.nan), value, rtol=1e-9)
            for name, value in point.items()
        )
        if same:
            return True, "Calibrated: the point estimate of the shipped calibration posterior."
    return False, (
        "Uncalibrated starting values: a calibration posterior is shipped, but this run does "
        "not use its point estimate (as `migflow run` does not)."
    )


def band_runs(scenario: Scenario, k: int) -> list[Results] | None:
    """Runs of ``scenario`` under ``k`` posterior draws, or None without a posterior: the
    same draws and seeds as ``migflow run --draws`` (``calibration.uncertainty``)."""
    posterior, _ = load_posterior_safely()
    if posterior is None:
        return None
    from migflow.calibration.uncertainty import posterior_runs

    return [run(s, parameters)[0] for s, parameters in posterior_runs(scenario, k, posterior)]


def paired_band_summaries(
    reference: Scenario, other: Scenario, k: int, progress=None
) -> tuple[list, list] | None:
    """Yearly summaries of ``reference`` and ``other`` under the same ``k`` posterior draws
    and seeds, or None without a posterior: the runs of ``migflow compare --draws``
    (``calibration.uncertainty.paired_runs``). ``progress(done, total)`` after each run."""
    posterior, _ = load_posterior_safely()
    if posterior is None:
        return None
    from migflow.calibration.uncertainty import paired_runs

    runs_a, runs_b = paired_runs(reference, other, k, posterior)
    out, jobs = [], runs_a + runs_b
    for done, (scenario, parameters) in enumerate(jobs, start=1):
        out.append(run(scenario, parameters)[0].summary)
        if progress is not None:
            progress(done, len(jobs))
    return out[:k], out[k:]


@st.cache_data(show_spinner=False, max_entries=16)
def packed_results(toml_text: str, fmt: str, _results: Results, _scenario: Scenario) -> bytes:
    """The download zip of a run (cached on the scenario's TOML text and the format)."""
    from .downloads import results_zip

    return results_zip(_results, _scenario, fmt)
