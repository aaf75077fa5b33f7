"""The posterior ensemble: calibrate, emulate, sample, over each parameter's whole range.

The prior is uniform over every fitted parameter's documented plausible range (the unit
cube of ``space.py``), not a box around the point estimate. The likelihood is the one
``information.py`` uses: the weighted log errors as residuals with a common variance,
scaled so that the point estimate's expected misfit (its loss averaged over seeds) is what
the effective number of targets would give. A posterior over tens of parameters needs far
more likelihood evaluations than model runs can give, so it is sampled on an emulator
(``emulator.py``) fitted to a few hundred runs, with the emulator's own variance added to
the data's: the calibrate-emulate-sample scheme of Cleary et al. 2021
(https://doi.org/10.1016/j.jcp.2020.109716), with the sequential design of history
matching (runs placed where the last wave's posterior is, so the emulator is accurate where
it matters; Andrianakis et al. 2015, https://doi.org/10.1371/journal.pcbi.1003968).

1. **Replicates**: the point estimate at several seeds, for the model's sampling noise per
   target and the expected misfit that scales the likelihood.
2. **Wave 1**: a Latin hypercube in a box around the point estimate (``first_width`` of
   each range on each side), where the posterior's mass is to be expected; or, with
   ``first_wave = "local"``, shaped by the local measure (``information.py``: the normal the
   model's own Jacobian gives at the point) and folded into the ranges, reaching across
   the ranges the data leave open. The box keeps the ensemble near its runs, too narrow
   where the data say nothing; the local shape lets the emulator's error, large over so
   wide a region, widen it beyond what the real model's runs support (measured figures in
   docs/calibration.md).
3. **Later waves**: the emulator is fitted to the runs so far that are not far worse than
   the point (history matching's refocusing: a quadratic fitted to runs as bad as loss 1
   cannot also be accurate where the posterior is), its posterior is sampled by adaptive
   Metropolis over the whole cube but only where the emulator's leverage is no larger than
   at its own runs (a trust region: beyond it, the emulator's error grows until it absorbs
   any misfit, and each wave landed further out than the last), and the next runs are
   drawn from that posterior. Each wave's runs first test the emulator that placed them
   (``validation``: the share of run residuals within three emulated standard deviations).
4. **Ensemble**: draws from the last emulator's posterior. A sample of them is run with the
   real model and their losses set against what the emulator predicted (``check``).

Each block of runs is kept in the work folder as it finishes, tagged with the set-up; an
interrupted calibration resumes from the last finished block.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import norm, qmc

from . import emulator as emulation
from .emulator import Emulator
from .information import jacobian_from_runs, local_normal, stepped_points

#: a run batch: unit-cube points and one seed each -> residuals, shape (points, targets)
RunBatch = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: within this many emulated standard deviations a run counts as what the emulator expected
VALIDATION_SD = 3.0


@dataclass(frozen=True)
class SamplerSettings:
    """How the emulated posterior is built. The defaults take about 15 minutes on 2 cores
    at scale 100 (``docs/calibration.md``); the sampler's length is what its chains need
    to agree (Gelman-Rubin 1.02 with 64 chains of 20,000 steps on the emulator of the fit
    of 2026-11-30, 1.4 with 32 of 30,000)."""

    replicates: int = 8
    # wave 1 within 3% of each range around the point: within 10%, the median run had a
    # loss of 1.3 (the point's is 0.22) and no emulator fitted there was accurate enough
    # to find its way back (docs/calibration.md)
    first_width: float = 0.03
    runs_per_wave: int = 160
    waves: int = 4
    ensemble_size: int = 192
    check_runs: int = 48
    chains: int = 64
    steps: int = 20_000
    n_active: int = 10
    # history matching's refocusing: each wave's emulator is fitted to the runs whose loss
    # is at most this multiple of the point's expected loss (at least ``min_training`` runs,
    # the best), and the sampler stays where the emulator's leverage is no larger than at
    # the runs it was fitted to (0 turns both off)
    focus: float = 3.0
    min_training: int = 60
    # wave 1's design: "box" (first_width around the point) or "local" (the local measure's
    # normal, when it is taken). "local" reaches across the ranges the data leave open, but
    # on the fit of 2026-11-30 its ensemble's draws had a median real loss of 0.52 (0.22 at
    # the point) and medians of 20 draws missed the Darién 2022 total by +71%: the emulator's
    # own error, large over so wide a region, widens the posterior (docs/calibration.md)
    first_wave: str = "box"


@dataclass
class EmulatedPosterior:
    """The ensemble (unit-cube rows, equal weight) and what it rests on."""

    ensemble: np.ndarray
    emulator: Emulator
    sigma2: float
    noise_var: np.ndarray
    units: np.ndarray  # every run's parameters
    residuals: np.ndarray  # and residuals
    diagnostics: dict = field(default_factory=dict)
    # the local measure's residuals at the point and Jacobian (information.py), if taken
    local: tuple[np.ndarray, np.ndarray] | None = None


#: eigenvalues of the emulator's error covariance below this share of the data's variance
#: are dropped: they change no likelihood noticeably, and the sampler runs faster without
NEGLIGIBLE_ERROR = 1e-3


class Likelihood:
    """Gaussian log likelihood of points of the unit cube: the data's variance ``sigma2``
    on every residual, plus the emulator's correlated error (its covariance, grown by the
    point's leverage), evaluated in the error's eigenbasis. ``shift`` replaces the
    documented figures by synthetic ones (their residuals).

    The emulated residuals are linear in a point's features, so every term is computed in
    feature space (about a hundred dimensions) rather than target space (hundreds of
    targets): the sampler evaluates it hundreds of thousands of times."""

    def __init__(
        self, emulator: Emulator, sigma2: float, shift: np.ndarray | None = None,
        trust: bool = False,
    ):  # fmt: skip
        self.trust = emulator.trust_leverage if trust else np.inf
        keep = emulator.error_scales > NEGLIGIBLE_ERROR * sigma2
        basis, self.scales = emulator.error_basis[:, keep], emulator.error_scales[keep]
        coef = emulator.coefficients
        shift = np.zeros(coef.shape[1]) if shift is None else shift
        self.emulator, self.sigma2, self.n_targets = emulator, sigma2, coef.shape[1]
        self.coef_basis, self.shift_basis = coef @ basis, shift @ basis
        self.gram, self.coef_shift = coef @ coef.T, coef @ shift
        self.shift_norm = float(shift @ shift)

    def __call__(self, units: np.ndarray) -> np.ndarray:
        phi = self.emulator.features(units)
        leverage = np.sum((phi @ self.emulator.inverse_gram) * phi, axis=1)
        z = phi @ self.coef_basis - self.shift_basis[None, :]
        norm = np.sum((phi @ self.gram) * phi, axis=1) - 2 * phi @ self.coef_shift
        norm = norm + self.shift_norm
        total = self.sigma2 + (1.0 + leverage)[:, None] * self.scales[None, :]
        kept = np.sum(z**2 / total + np.log(total), axis=1)
        rest = (norm - np.sum(z**2, axis=1)) / self.sigma2
        rest += (self.n_targets - len(self.scales)) * np.log(self.sigma2)
        return np.where(leverage <= self.trust, -0.5 * (kept + rest), -np.inf)


def reflect(points: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Points folded back into [low, high] by reflection at the bounds."""
    span = np.maximum(high - low, 1e-300)
    folded = np.mod(points - low, 2 * span)
    return low + np.where(folded > span, 2 * span - folded, folded)


def metropolis(
    log_density: Callable[[np.ndarray], np.ndarray],
    starts: np.ndarray,
    rng: np.random.Generator,
    steps: int,
    low: np.ndarray,
    high: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Adaptive random-walk Metropolis (Haario et al. 2001), all chains at once, with a
    uniform prior on [low, high]. A proposal beyond a bound is reflected back inside (the
    move stays symmetric, so the acceptance rule is unchanged): many parameters have their
    mass against a bound of their range, where rejecting such proposals made the chains
    crawl (acceptance 5%). The proposal's covariance is the chains' pooled covariance
    times 2.38^2 / d, re-estimated through the first half, which is then discarded. Returns
    the second half's states (steps/2 x chains rows) and its acceptance rate."""
    x = starts.copy()
    n_chains, dim = x.shape
    log_p = log_density(x)
    root = np.eye(dim) * 0.01
    burn = steps // 2
    history, kept, accepted = [], [], 0
    for step in range(steps):
        proposal = reflect(x + rng.standard_normal((n_chains, dim)) @ root.T, low, high)
        log_q = log_density(proposal)
        accept = np.log(rng.random(n_chains)) < log_q - log_p
        x[accept], log_p[accept] = proposal[accept], log_q[accept]
        if step < burn:
            history.append(x.copy())
            if step >= 100 and step % 100 == 0:
                pooled = np.concatenate(history[len(history) // 2 :])
                cov = np.cov(pooled.T) * 2.38**2 / dim + np.eye(dim) * 1e-10
                root = np.linalg.cholesky(cov)
        else:
            kept.append(x.copy())
            accepted += int(accept.sum())
    return np.concatenate(kept), accepted / (n_chains * (steps - burn))


def r_hat(draws: np.ndarray, n_chains: int) -> float:
    """The largest Gelman-Rubin statistic over parameters of ``metropolis``'s draws (rows
    step by step, ``n_chains`` at a time): near 1 when the chains agree, so the sampler has
    explored the emulated posterior rather than the neighbourhood of each start."""
    chains = draws.reshape(-1, n_chains, draws.shape[1])  # (steps, chains, parameters)
    n = chains.shape[0]
    within = chains.var(axis=0, ddof=1).mean(axis=0)
    between = n * chains.mean(axis=0).var(axis=0, ddof=1)
    pooled = (n - 1) / n * within + between / n
    return float(np.max(np.sqrt(pooled / np.maximum(within, 1e-300))))


def sample_posterior(
    emulator: Emulator,
    sigma2: float,
    candidates: np.ndarray,
    rng: np.random.Generator,
    settings: SamplerSettings,
    shift: np.ndarray | None = None,
    log_prior: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, float]:
    """Draws from the emulated posterior (uniform prior over the unit cube, times
    ``log_prior`` if given); the chains start at the ``candidates`` (runs already made)
    it finds most likely."""
    dim = candidates.shape[1]
    likelihood = Likelihood(emulator, sigma2, shift, trust=settings.focus > 0)

    def density(u: np.ndarray) -> np.ndarray:
        return likelihood(u) if log_prior is None else likelihood(u) + log_prior(u)

    best = np.argsort(density(candidates))[::-1][: settings.chains]
    starts = candidates[rng.choice(best, size=settings.chains, replace=len(best) < settings.chains)]
    return metropolis(density, starts, rng, settings.steps, np.zeros(dim), np.ones(dim))


def training_runs(residuals: np.ndarray, expected_loss: float, settings: SamplerSettings):
    """Which runs the next emulator is fitted to: with ``focus``, those not far worse than
    the point (at least ``min_training``, the best ones), else every run."""
    losses = np.sum(residuals**2, axis=1)
    if settings.focus <= 0:
        return np.ones(len(losses), dtype=bool)
    keep = losses <= settings.focus * expected_loss
    if keep.sum() < settings.min_training:
        keep = losses <= np.sort(losses)[min(settings.min_training, len(losses)) - 1]
    return keep


def validation_share(emulator: Emulator, units, residuals, noise_var) -> float:
    """Share of (run, target) residuals within ``VALIDATION_SD`` of the emulator's
    prediction, counting the run's own noise; targets that never move are left out."""
    mean, var = emulator.predict(units)
    sd = np.sqrt(var + noise_var[None, :])
    moving = sd[0] > 0
    z = np.abs(residuals - mean)[:, moving] / sd[:, moving]
    return float(np.mean(z <= VALIDATION_SD))


def first_design(
    center: np.ndarray, settings: SamplerSettings, rng: np.random.Generator,
    shape: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Wave 1's points: a Latin hypercube mapped through the local normal ``center + shape
    @ z`` and folded into the unit cube at its faces, or, without ``shape``, spread over a
    box of ``first_width`` on each side of ``center``."""
    dim = len(center)
    cube = qmc.LatinHypercube(d=dim, seed=rng).random(settings.runs_per_wave)
    if shape is None:
        low = np.clip(center - settings.first_width, 0.0, 1.0)
        high = np.clip(center + settings.first_width, 0.0, 1.0)
        return low + cube * (high - low)
    return reflect(center[None, :] + norm.ppf(cube) @ shape.T, np.zeros(dim), np.ones(dim))


class _Blocks:
    """Blocks of runs kept in the work folder, each tagged with the set-up that made it."""

    def __init__(self, work: Path | None, identity: str, say):
        self.work, self.identity, self.say = work, identity, say

    def run(self, name: str, units: np.ndarray, seeds: np.ndarray, run_batch: RunBatch):
        path = None if self.work is None else self.work / f"emulator_{name}.npz"
        tag = json.dumps({"setup": self.identity, "seeds": seeds.tolist()})
        if path is not None and path.exists():
            with np.load(path) as kept:
                if str(kept["tag"]) == tag and np.array_equal(kept["units"], units):
                    self.say(f"  {name}: {len(units)} runs kept from before")
                    return kept["residuals"]
        residuals = np.asarray(run_batch(units, seeds), dtype=float)
        if path is not None:
            part = path.with_name(path.stem + ".part.npz")
            np.savez(part, tag=tag, units=units, residuals=residuals)
            part.replace(path)
        self.say(f"  {name}: {len(units)} runs")
        return residuals


def emulated_posterior(
    run_batch: RunBatch,
    center: np.ndarray,
    n_eff: float,
    settings: SamplerSettings,
    seed: int,
    work: Path | None = None,
    identity: str = "",
    say=print,
    local_measure: bool = True,
) -> EmulatedPosterior:
    """Build the ensemble (steps 1-4 of the module's docstring). ``center`` is the point
    estimate in the unit cube; ``n_eff`` the effective number of targets. With
    ``local_measure``, the local measure is taken first (one run at the point and one per
    parameter, at ``seed``: ``information.py``), and wave 1 takes its shape if
    ``settings.first_wave`` is "local"; otherwise wave 1 is a box."""
    if settings.first_wave not in ("box", "local"):
        raise ValueError(f'first_wave must be "box" or "local", not {settings.first_wave!r}')
    rng = np.random.default_rng(seed)
    blocks = _Blocks(work, identity + json.dumps(asdict(settings)), say)
    next_seed = iter(range(seed + 1, seed + 1_000_000))

    def seeds(n: int) -> np.ndarray:
        return np.array([next(next_seed) for _ in range(n)])

    local = first_shape = None
    if local_measure:
        points, steps = stepped_points(center)
        runs = blocks.run("local", points, np.full(len(points), seed), run_batch)
        local = base, jac = jacobian_from_runs(runs, steps)
        if settings.first_wave == "local":
            _, first_shape = local_normal(jac, base, n_eff)
    replicates = blocks.run(
        "replicates", np.repeat(center[None, :], settings.replicates, axis=0),
        seeds(settings.replicates), run_batch,
    )  # fmt: skip
    noise_var = replicates.var(axis=0, ddof=1)
    expected_loss = float(np.mean(np.sum(replicates**2, axis=1)))
    sigma2 = expected_loss / n_eff
    design = first_design(center, settings, rng, first_shape)
    units = np.vstack([np.repeat(center[None, :], settings.replicates, axis=0), design])
    residuals = np.vstack([
        replicates, blocks.run("wave1", design, seeds(len(design)), run_batch),
    ])  # fmt: skip
    validation, acceptance = [], []
    for wave in range(2, settings.waves + 1):
        train = training_runs(residuals, expected_loss, settings)
        emulator = emulation.fit(units[train], residuals[train], noise_var, settings.n_active)
        draws, rate = sample_posterior(emulator, sigma2, units, rng, settings)
        acceptance.append(rate)
        design = draws[rng.choice(len(draws), settings.runs_per_wave, replace=False)]
        new = blocks.run(f"wave{wave}", design, seeds(len(design)), run_batch)
        validation.append(validation_share(emulator, design, new, noise_var))
        units, residuals = np.vstack([units, design]), np.vstack([residuals, new])
    train = training_runs(residuals, expected_loss, settings)
    emulator = emulation.fit(units[train], residuals[train], noise_var, settings.n_active)
    draws, rate = sample_posterior(emulator, sigma2, units[train], rng, settings)
    acceptance.append(rate)
    mixing = r_hat(draws, settings.chains)
    ensemble = draws[rng.choice(len(draws), settings.ensemble_size, replace=False)]
    checked = ensemble[: settings.check_runs]
    real = blocks.run("check", checked, seeds(len(checked)), run_batch)
    validation.append(validation_share(emulator, checked, real, noise_var))
    mean, var = emulator.predict(checked)
    predicted = np.sum(mean**2 + var + noise_var[None, :], axis=1)
    actual = np.sum(real**2, axis=1)
    diagnostics = {
        "runs": int(len(units) + len(checked)),
        "first_wave": "local measure" if first_shape is not None else "box",
        "expected_loss_at_point": expected_loss,
        "effective_targets": n_eff,
        "validation_within_3sd": validation,
        "acceptance": acceptance,
        "r_hat": mixing,
        "check_loss_median": float(np.median(actual)),
        "check_loss_range": [float(actual.min()), float(actual.max())],
        "check_predicted_loss_median": float(np.median(predicted)),
    }
    return EmulatedPosterior(
        ensemble, emulator, sigma2, noise_var, units, residuals, diagnostics, local
    )
