"""What the data decide, measured from the data: the information the targets carry about
each fitted parameter at the point estimate (a Laplace approximation).

The ensemble (``emulated_posterior.py``) says what the data allow over the whole ranges,
through an emulator; this module is its local cross-check, from the model itself. It
moves each fitted parameter a small step from the point estimate, one at a time, with the
same seed (common random numbers), and records how every target's weighted log error
moves: a Jacobian ``J`` of the residuals ``r_i = sqrt(w_i / sum w) x log error_i``, whose sum
of squares is the fit's loss.

The loss becomes a likelihood by scaling it so that the point estimate's misfit is what
``n_eff`` independent errors of that size would give (``n_eff = (sum w)^2 / sum w^2``, the
effective number of targets): log L = -n_eff x loss / (2 x loss at the point). The misfit
the model cannot remove therefore widens every interval, as it should. In the unit cube of
each parameter's range, the posterior precision is then ``n_eff / loss x J^T J`` plus the
prior's: a uniform prior over the range, replaced by a normal of the same variance (1/12).
Each parameter's posterior standard deviation, against the prior's, says whether the data
decide it, narrow it, or leave it where the prior put it.

This is local: it holds near the point estimate. Across a tipping point (a Venezuelan wave
that starts or not), the model is far from linear, and the true spread can be wider.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .simulate import log_errors
from .space import ParameterSpace

#: the step in the unit cube, as a share of each parameter's range: large enough that a
#: scale-100 run responds beyond its sampling grain, small enough to stay local
STEP = 0.02
PRIOR_SD = 1 / np.sqrt(12)  # a uniform prior over the range, in the unit cube
#: posterior sd over prior sd below which the data decide a parameter, and above which they
#: leave it at its prior
DECIDED, LEFT_AT_PRIOR = 0.25, 0.75


def residuals(sim: np.ndarray, targets: pd.DataFrame) -> np.ndarray:
    """sqrt(w_i / sum w) x log error_i per target inside the window (0 outside it), so
    that the sum of squares is ``simulate.loss``."""
    err = log_errors(sim, targets)
    weight = targets["weight"].to_numpy(dtype=float)
    inside = np.isfinite(err)
    scale = np.sqrt(weight / weight[inside].sum())
    return np.where(inside, scale * np.nan_to_num(err), 0.0)


def effective_targets(sim: np.ndarray, targets: pd.DataFrame) -> float:
    """(sum w)^2 / sum w^2 over the targets inside the window."""
    weight = targets["weight"].to_numpy(dtype=float)[np.isfinite(sim)]
    return float(weight.sum() ** 2 / np.sum(weight**2))


def stepped_points(unit: np.ndarray, step: float = STEP) -> tuple[np.ndarray, np.ndarray]:
    """The points a forward-difference Jacobian runs: ``unit`` first, then ``unit`` with
    one parameter moved by ``step`` (down for a parameter near the top of its range).
    Returns the points and each move's signed step."""
    steps = np.where(unit + step <= 1.0, step, -step)
    moved = np.repeat(unit[None, :], len(unit), axis=0)
    moved[np.arange(len(unit)), np.arange(len(unit))] += steps
    return np.vstack([unit[None, :], moved]), steps


def jacobian_from_runs(runs: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals at the point and J, shape (targets, parameters), from the residuals of
    ``stepped_points`` (one row per point, in that order)."""
    base = runs[0]
    return base, ((runs[1:] - base[None, :]) / steps[:, None]).T


def jacobian(
    residuals_at: Callable[[np.ndarray], np.ndarray], unit: np.ndarray, step: float = STEP
) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences of ``residuals_at`` (unit-cube point -> residuals) at ``unit``,
    one parameter at a time; a parameter near the top of its range steps down. Returns the
    residuals at ``unit`` and J, shape (targets, parameters)."""
    points, steps = stepped_points(unit, step)
    return jacobian_from_runs(np.array([residuals_at(p) for p in points]), steps)


def posterior_covariance(jac: np.ndarray, base: np.ndarray, n_eff: float) -> np.ndarray:
    """The local posterior's covariance in the unit cube, from the Gauss-Newton precision
    ``n_eff / loss x J^T J`` and the prior's."""
    misfit = float(np.sum(base**2))
    precision = (n_eff / misfit) * (jac.T @ jac) + np.eye(jac.shape[1]) / PRIOR_SD**2
    return np.linalg.inv(precision)


def local_normal(jac: np.ndarray, base: np.ndarray, n_eff: float):
    """The local posterior as a normal in the unit cube, for drawing from it: its covariance
    and a square root of it (``cov = root @ root.T``)."""
    cov = posterior_covariance(jac, base, n_eff)
    return cov, np.linalg.cholesky((cov + cov.T) / 2)


def posterior_sd(jac: np.ndarray, base: np.ndarray, n_eff: float) -> np.ndarray:
    """Each parameter's posterior standard deviation in the unit cube (share of its range)."""
    return np.sqrt(np.diag(posterior_covariance(jac, base, n_eff)))


def information_table(space: ParameterSpace, point: dict[str, float], sd: np.ndarray):
    """One row per fitted parameter: its point, posterior sd as a share of its range, that
    against the prior's, and a verdict."""
    ratio = sd / PRIOR_SD
    verdict = np.where(
        ratio < DECIDED,
        "decided by the data",
        np.where(ratio < LEFT_AT_PRIOR, "narrowed by the data", "left at its prior"),
    )
    return pd.DataFrame({
        "parameter": list(space.names),
        "point": [point[n] for n in space.names],
        "posterior_sd_share_of_range": sd,
        "posterior_over_prior_sd": ratio,
        "verdict": verdict,
    })  # fmt: skip


def measure(
    point: dict[str, float],
    targets: pd.DataFrame,
    scale: int,
    seed: int,
    truths: int = 0,
    proposals: int = 0,
    names: tuple[str, ...] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict | None]:
    """The information table at ``point`` (the fitted values), with the history scenario
    the fit ran at ``scale`` and ``seed``: one run at the point and one per parameter. With
    ``truths`` > 0, also the coverage of the local intervals over that many synthetic truths
    (``linear_coverage``, one run each), else None; with ``proposals`` > 0, the
    ``importance_check`` of the local posterior with that many draws (one run each), else
    None. ``names`` are the parameters the fit set free (by default those a fit sets free
    now): a fit made before a parameter existed is measured in its own terms."""
    from .fit import evaluate
    from .history import history_for

    space = ParameterSpace(tuple(names)) if names else ParameterSpace()
    scenario = history_for(targets, scale, seed)
    sims = []

    def residuals_at(unit: np.ndarray, at: int = seed) -> np.ndarray:
        chosen = scenario if at == seed else scenario.with_changes(seed=at)
        sims.append(evaluate(space.to_values(unit), chosen, targets))
        return residuals(sims[-1], targets)

    unit = space.to_unit(point)
    base, jac = jacobian(residuals_at, unit)
    n_eff = effective_targets(sims[0], targets)
    table = information_table(space, point, posterior_sd(jac, base, n_eff))
    covered = importance = None
    if truths > 0:
        covered = linear_coverage(
            jac, base, n_eff, lambda u, i: residuals_at(u, seed + 1 + i), unit, truths,
            np.random.default_rng(seed),
        ).assign(parameter=list(space.names))  # fmt: skip
    if proposals > 0:  # seeds of their own, after the truths'
        importance = importance_check(
            jac, base, n_eff, lambda u, i: residuals_at(u, seed + 1 + truths + i), unit,
            proposals, np.random.default_rng(seed + 1),
        )  # fmt: skip
    return table, covered, importance


def linear_coverage(
    jac: np.ndarray,
    base: np.ndarray,
    n_eff: float,
    residuals_of_truth: Callable[[np.ndarray, int], np.ndarray],
    unit: np.ndarray,
    truths: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """How often the local posterior's 50% and 90% intervals cover a synthetic truth.

    Each truth is drawn from the local posterior around ``unit`` (clipped to the ranges) and
    simulated with the real model at a seed of its own (``residuals_of_truth(u, i)``); its
    synthetic figures get the noise the likelihood assumes. The refit is one Gauss-Newton
    step from the point estimate with the Jacobian ``jac`` (the local emulator), giving the
    same posterior spread. If the model were linear near the point and the noise what the
    likelihood says, every parameter's intervals would cover at their nominal rates; the
    departures measure how far the approximation can be trusted. One row per parameter."""
    misfit = float(np.sum(base**2))
    cov, root = local_normal(jac, base, n_eff)
    sd = np.sqrt(np.diag(cov))
    noise = np.sqrt(misfit / n_eff)  # per residual, as the likelihood assumes
    z50, z90 = 0.6745, 1.6449
    hits50, hits90 = np.zeros(len(unit)), np.zeros(len(unit))
    for i in range(truths):
        truth = np.clip(unit + root @ rng.standard_normal(len(unit)), 0.0, 1.0)
        # the point's residuals against the synthetic figures: log sim(point) - log data*
        gap = base - residuals_of_truth(truth, i) - noise * rng.standard_normal(len(base))
        estimate = unit - cov @ ((n_eff / misfit) * (jac.T @ gap))
        hits50 += np.abs(estimate - truth) <= z50 * sd
        hits90 += np.abs(estimate - truth) <= z90 * sd
    return pd.DataFrame({"covered_50": hits50 / truths, "covered_90": hits90 / truths})


def importance_check(
    jac: np.ndarray,
    base: np.ndarray,
    n_eff: float,
    residuals_at: Callable[[np.ndarray, int], np.ndarray],
    unit: np.ndarray,
    proposals: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Could the local posterior serve as the ensemble? Draw ``proposals`` points from it
    inside the ranges (a uniform prior truncates it), run each (``residuals_at(u, i)``, at a
    seed of its own), and weight each by the likelihood over the proposal's density, as
    importance sampling would. An effective sample size near ``proposals`` says the local
    posterior is the likelihood's; near 1, that the likelihood falls off where the
    approximation says it does not, and an ensemble drawn from it would misstate the
    spread. Returns the share of draws inside the ranges, the effective sample size and
    the proposals' losses (median, lowest, highest) against the point's."""
    misfit = float(np.sum(base**2))
    cov, root = local_normal(jac, base, n_eff)
    precision = np.linalg.inv(cov)
    accepted, tried = [], 0
    while len(accepted) < proposals and tried < 10_000_000:
        batch = unit + rng.standard_normal((10_000, len(unit))) @ root.T
        tried += len(batch)
        accepted.extend(batch[((batch >= 0.0) & (batch <= 1.0)).all(axis=1)])
    inside = len(accepted) / tried
    accepted = np.array(accepted[:proposals])
    if len(accepted) == 0:
        return {"inside_ranges": 0.0, "effective_sample_size": np.nan, "proposals": 0}
    losses = np.array([np.sum(residuals_at(u, i) ** 2) for i, u in enumerate(accepted)])
    gap = accepted - unit
    log_weight = -n_eff / (2 * misfit) * losses + 0.5 * np.einsum(
        "ij,jk,ik->i", gap, precision, gap
    )
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    return {
        "inside_ranges": inside,
        "proposals": len(accepted),
        "effective_sample_size": float(1.0 / np.sum(weight**2)),
        "point_loss": misfit,
        "median_loss": float(np.median(losses)),
        "lowest_loss": float(losses.min()),
        "highest_loss": float(losses.max()),
    }
