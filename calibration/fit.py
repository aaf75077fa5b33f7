"""Point estimate: minimise the weighted squared log error with scipy.optimize.

The objective runs the history scenario with fixed seeds (common random numbers make it a
deterministic function of the parameters, so a derivative-free optimiser can follow it).
Powell's method searches the unit cube of the free parameters (``space.py``), starting from
the defaults or from a previous result.

With one seed the search also fits that seed's noise: near the tipping points of the waves
of 2021-2023 a run's outcome turns on its random numbers, so a point's loss at its own seed
can be well below its loss at others (measured in docs/calibration.md, Known limits). With
``seeds`` above 1 the objective is the loss averaged over the fit's seed and the ones just
below it (``fit_scenarios``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from migflow.model.run import run_scenario
from migflow.model.scenario import Scenario

from .simulate import loss, simulated_values
from .space import ParameterSpace


def fit_scenarios(scenario: Scenario, seeds: int) -> list[Scenario]:
    """The scenario at its own seed and at the ``seeds - 1`` seeds below it. Below, not
    above: the posterior's replicates and the report's draws run at the seeds above the
    fit's, and judge the point at seeds it was not fitted to."""
    others = [scenario.with_changes(seed=(scenario.seed - k) % 2**32) for k in range(1, seeds)]
    return [scenario, *others]


def seed_averaged_loss(
    values: dict[str, float], scenarios: list[Scenario], targets: pd.DataFrame
) -> float:
    """The loss of one parameter set, averaged over the runs at each scenario's seed."""
    return float(np.mean([loss(evaluate(values, s, targets), targets) for s in scenarios]))


def evaluate(values: dict[str, float], scenario: Scenario, targets: pd.DataFrame) -> np.ndarray:
    """Simulated target values for one parameter set (one model run)."""
    params = ParameterSpace().parameters(values, scenario.parameters)
    return simulated_values(run_scenario(scenario, params), targets)


@dataclass
class FitLog:
    """Every evaluation: for progress display and to resume an interrupted fit."""

    best_loss: float = np.inf
    best_unit: np.ndarray | None = None
    evaluations: int = 0
    history: list[float] = field(default_factory=list)


def point_estimate(
    scenario: Scenario,
    targets: pd.DataFrame,
    start: dict[str, float] | None = None,
    max_evaluations: int = 600,
    space: ParameterSpace | None = None,
    progress: Callable[[FitLog], None] | None = None,
    reverse: bool = False,
    seeds: int = 1,
) -> tuple[dict[str, float], float, FitLog]:
    """Best parameter values found, their loss, and the log of the search. ``reverse``
    takes Powell's initial directions last to first: from the same start, another path to
    another local optimum (``chains.py`` runs both at once). The search uses its whole budget
    unless a restart from its best point finds nothing better. ``seeds`` above 1 averages each
    point's loss over that many seeds (``fit_scenarios``)."""
    space = space or ParameterSpace()
    log = FitLog()
    scenarios = fit_scenarios(scenario, seeds)

    def objective(unit: np.ndarray) -> float:
        value = seed_averaged_loss(space.to_values(unit), scenarios, targets)
        log.evaluations += 1
        log.history.append(value)
        if value < log.best_loss:
            log.best_loss, log.best_unit = value, np.clip(unit, 0, 1).copy()
        if progress is not None:
            progress(log)
        return value

    x = space.to_unit(start or space.defaults())
    # Powell stops when a sweep of its directions gains less than ftol, which on this rough
    # objective can leave most of the budget unspent (measured: a refit from the last optimum
    # stopped after 891 of 2,400 evaluations while the other chain kept improving). So it
    # restarts from its best point with fresh directions, until the budget is spent or a
    # whole search finds nothing better.
    while log.evaluations < max_evaluations:
        before = log.best_loss
        minimize(
            objective,
            x,
            method="Powell",
            bounds=[(0.0, 1.0)] * len(space.names),
            options={
                "maxfev": max_evaluations - log.evaluations,
                "xtol": 1e-3,
                "ftol": 1e-4,
                "direc": np.eye(len(x))[::-1] if reverse else None,
            },
        )
        if not log.best_loss < before:
            break
        x = log.best_unit
    return space.to_values(log.best_unit), log.best_loss, log
