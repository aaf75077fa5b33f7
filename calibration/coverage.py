"""Do the ensemble's intervals mean what they say? Coverage over synthetic truths.

A 90% interval should contain the truth nine times in ten. The check draws ``truths``
parameter sets from a prior, runs the real model at each (a seed of its own), adds the
misfit the likelihood assumes beyond the model's own noise, and calibrates again on those
synthetic figures with the same likelihood and sampler; then it counts how often each
parameter's 50% and 90% intervals, and each target's predictive intervals, contain the
truth (simulation-based calibration; Talts et al. 2018, https://arxiv.org/abs/1804.06788).

A target's predictive interval says where the model's figure falls at the parameters the
data allow, sampling noise included. The truth it is checked against is therefore a second
run at the true parameters with a seed of its own, not the run the synthetic figures were
made from: that run's sampling noise is in the data the refit saw, so it sits nearer the
centre of the intervals than a new run would, and the check would find intervals too wide
that are not.

Two simplifications, both because a full calibration per truth would take 50 times the
calibration's time: the refit samples the calibration's last emulator (its runs are not
redone per truth), and the prior of the check is a normal fitted to the ensemble (truncated
to the ranges), where that emulator has its runs; truths from the whole ranges would test
the emulator where it has none. The refit uses the same prior, as simulation-based
calibration requires. The check therefore measures whether the likelihood, the emulator's
error and the sampler give honest intervals where the posterior lies, not whether the
sequential design found the whole posterior.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .emulated_posterior import EmulatedPosterior, RunBatch, SamplerSettings, sample_posterior

LEVELS = (0.5, 0.9)


def _inside(draws: np.ndarray, truth: np.ndarray, level: float) -> np.ndarray:
    """Whether ``truth`` lies in the central ``level`` interval of ``draws`` (per column)."""
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    return (truth >= low) & (truth <= high)


def coverage_check(
    posterior: EmulatedPosterior,
    run_batch: RunBatch,
    truths: int,
    settings: SamplerSettings,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage per parameter (columns ``covered_50``, ``covered_90``, in parameter order)
    and per target (same columns, NaN for targets the model never moves)."""
    rng = np.random.default_rng(seed)
    dim = posterior.ensemble.shape[1]
    centre = posterior.ensemble.mean(axis=0)
    cov = np.cov(posterior.ensemble.T) + np.eye(dim) * 1e-10
    root, precision = np.linalg.cholesky(cov), np.linalg.inv(cov)

    def log_prior(u: np.ndarray) -> np.ndarray:
        gap = u - centre
        return -0.5 * np.sum((gap @ precision) * gap, axis=1)

    units = np.empty((0, dim))
    while len(units) < truths:  # the normal truncated to the ranges
        draws = centre + rng.standard_normal((4 * truths, dim)) @ root.T
        units = np.vstack([units, draws[((draws >= 0) & (draws <= 1)).all(axis=1)]])
    units = units[:truths]
    seeds = np.arange(truths) + seed + 2_000_000
    simulated = np.asarray(run_batch(units, seeds), dtype=float)
    # what the targets' intervals must cover: the model at the truth, run again (see above)
    rerun = np.asarray(run_batch(units, seeds + 1_000_000), dtype=float)
    extra_sd = np.sqrt(np.maximum(posterior.sigma2 - posterior.noise_var, 0.0))
    moving = posterior.noise_var + posterior.emulator.residual_var > 0
    # half the chains and half the steps per truth: 50 refits in minutes, not a quarter of
    # an hour (measured on the fit of 2026-11-30: 87% coverage of the 90% intervals with
    # 32 chains of 8,000 steps)
    quick = replace(
        settings, chains=max(settings.chains // 2, 4), steps=max(settings.steps // 2, 400)
    )
    hits = {level: np.zeros(dim) for level in LEVELS}
    outcome_hits = {level: np.zeros(simulated.shape[1]) for level in LEVELS}
    for t in range(truths):
        synthetic = simulated[t] + extra_sd * rng.standard_normal(len(extra_sd))
        draws, _ = sample_posterior(
            posterior.emulator, posterior.sigma2, posterior.units, rng, quick,
            shift=synthetic, log_prior=log_prior,
        )  # fmt: skip
        some = draws[rng.choice(len(draws), 400, replace=False)]
        mean, var = posterior.emulator.predict(some)
        predictive = mean + np.sqrt(var + posterior.noise_var) * rng.standard_normal(mean.shape)
        for level in LEVELS:
            hits[level] += _inside(draws, units[t], level)
            outcome_hits[level] += _inside(predictive, rerun[t], level)
    parameters = pd.DataFrame({f"covered_{round(100 * k)}": v / truths for k, v in hits.items()})
    outcomes = pd.DataFrame({
        f"covered_{round(100 * k)}": np.where(moving, v / truths, np.nan)
        for k, v in outcome_hits.items()
    })  # fmt: skip
    return parameters, outcomes


def coverage_summary(parameters: pd.DataFrame, outcomes: pd.DataFrame) -> dict:
    """The coverage check's headline: mean coverage of the parameters' and the targets'
    50% and 90% intervals, and how many parameters are within 10 points of 90%."""
    moving = outcomes.dropna()
    return {
        "parameters_50": float(parameters["covered_50"].mean()),
        "parameters_90": float(parameters["covered_90"].mean()),
        "parameters_90_within_10_points": int((parameters["covered_90"] - 0.9).abs().le(0.1).sum()),
        "n_parameters": len(parameters),
        "targets_50": float(moving["covered_50"].mean()),
        "targets_90": float(moving["covered_90"].mean()),
    }
