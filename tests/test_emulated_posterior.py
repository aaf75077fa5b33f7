"""The posterior's machinery on problems whose answer is known: the emulator, the sampler,
the waves and the coverage check (``calibration/emulator.py``, ``emulated_posterior.py``,
``coverage.py``). The real model's check is run by ``migflow calibrate`` (its figures are in
docs/calibration.md); these are the small, fast versions that fail if coverage collapses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from migflow.calibration import emulator
from migflow.calibration.coverage import coverage_check
from migflow.calibration.emulated_posterior import (
    SamplerSettings,
    emulated_posterior,
    metropolis,
    r_hat,
)

DIM, TARGETS, NOISE = 4, 30, 0.02
_rng = np.random.default_rng(11)
SLOPES = _rng.normal(size=(TARGETS, DIM)) * 0.3
TRUTH = np.array([0.35, 0.6, 0.45, 0.55])


def toy_runs(units: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """A toy model's residuals against its own 'documented' figures at ``TRUTH``: smooth,
    mildly curved, with seeded sampling noise."""
    out = []
    for unit, seed in zip(units, seeds, strict=True):
        gap = unit - TRUTH
        noise = NOISE * np.random.default_rng(int(seed)).standard_normal(TARGETS)
        out.append(gap @ SLOPES.T + 0.3 * gap**2 @ np.abs(SLOPES.T) + noise)
    return np.array(out)


# wave 1 wide enough to hold the posterior (about +-3 sd): the trust region keeps the sampler
# where there are runs, so a first wave narrower than the posterior would truncate it
SMALL = SamplerSettings(
    replicates=6, first_width=0.1, runs_per_wave=60, waves=2, ensemble_size=100,
    check_runs=10, chains=16, steps=1200, n_active=4,
)  # fmt: skip


@pytest.fixture(scope="module")
def toy_posterior():
    return emulated_posterior(toy_runs, TRUTH + 0.03, TARGETS, SMALL, seed=3, say=lambda _: None)


def test_the_emulator_recovers_a_quadratic_and_knows_where_it_has_no_runs():
    rng = np.random.default_rng(0)
    units = rng.uniform(0.3, 0.7, size=(80, 3))
    surface = np.column_stack([units @ [1.0, -2.0, 0.5], (units[:, 0] - 0.5) ** 2 * 4])
    fitted = emulator.fit(units, surface, noise_var=np.zeros(2), n_active=3)
    inside = rng.uniform(0.35, 0.65, size=(20, 3))
    mean, var = fitted.predict(inside)
    expected = np.column_stack([inside @ [1.0, -2.0, 0.5], (inside[:, 0] - 0.5) ** 2 * 4])
    assert np.abs(mean - expected).max() < 0.01
    _, far = fitted.predict(np.array([[0.0, 1.0, 0.0]]))
    assert far.min() > 10 * var.mean(axis=0).min()


def test_the_sampler_draws_a_known_normal_and_its_chains_agree():
    rng = np.random.default_rng(1)
    mean, sd = np.array([0.4, 0.6, 0.5]), np.array([0.05, 0.02, 0.08])

    def log_density(u):
        return -0.5 * np.sum(((u - mean) / sd) ** 2, axis=1)

    draws, rate = metropolis(log_density, np.full((16, 3), 0.5), rng, 3000, np.zeros(3), np.ones(3))
    assert draws.mean(axis=0) == pytest.approx(mean, abs=0.01)
    assert draws.std(axis=0) == pytest.approx(sd, rel=0.1)
    assert 0.15 < rate < 0.5
    assert r_hat(draws, 16) < 1.05


def test_the_waves_find_the_truth_with_the_spread_the_data_allow(toy_posterior):
    post = toy_posterior
    assert post.ensemble.mean(axis=0) == pytest.approx(TRUTH, abs=0.02)
    # the spread of a linear-Gaussian problem with the likelihood's variance, from the slopes
    linear_sd = np.sqrt(np.diag(np.linalg.inv(SLOPES.T @ SLOPES / post.sigma2)))
    # no narrower than the data allow, and the emulator's own error widens it only a little
    ratio = post.ensemble.std(axis=0) / linear_sd
    assert (ratio > 0.8).all() and (ratio < 1.5).all()
    assert min(post.diagnostics["validation_within_3sd"]) > 0.95
    assert post.diagnostics["r_hat"] < 1.1


def test_interrupted_waves_resume_from_the_runs_kept(tmp_path):
    calls = []

    def counted(units, seeds):
        calls.append(len(units))
        return toy_runs(units, seeds)

    tiny = replace(SMALL, runs_per_wave=20, steps=300, ensemble_size=20, check_runs=4)
    first = emulated_posterior(counted, TRUTH, TARGETS, tiny, 5, tmp_path, "set-up", lambda _: 0)
    before = len(calls)
    again = emulated_posterior(counted, TRUTH, TARGETS, tiny, 5, tmp_path, "set-up", lambda _: 0)
    assert len(calls) == before  # every block read back, none run again
    np.testing.assert_array_equal(first.ensemble, again.ensemble)
    emulated_posterior(counted, TRUTH, TARGETS, tiny, 5, tmp_path, "other set-up", lambda _: 0)
    assert len(calls) == 2 * before  # another set-up never reuses them


def test_the_intervals_cover_synthetic_truths_at_their_nominal_rates(toy_posterior):
    parameters, outcomes = coverage_check(toy_posterior, toy_runs, 40, SMALL, seed=9)
    assert parameters["covered_50"].mean() == pytest.approx(0.5, abs=0.15)
    assert parameters["covered_90"].mean() == pytest.approx(0.9, abs=0.1)
    assert outcomes["covered_50"].mean() == pytest.approx(0.5, abs=0.1)
    assert outcomes["covered_90"].mean() == pytest.approx(0.9, abs=0.1)


def test_the_coverage_check_fails_an_overconfident_likelihood(toy_posterior):
    """The check can fail: with the data's variance a twenty-fifth of what the misfit says,
    the intervals are five times too narrow and cover far less than they claim."""
    sure = replace(toy_posterior, sigma2=toy_posterior.sigma2 / 25)
    parameters, _ = coverage_check(sure, toy_runs, 40, SMALL, seed=9)
    assert parameters["covered_90"].mean() < 0.6


def test_a_parameter_the_data_leave_open_keeps_the_spread_of_its_prior():
    """A toy whose third parameter moves no figure. With wave 1 shaped by the local
    measure (``first_wave = "local"``), the ensemble spreads that parameter over
    its range (a uniform prior's sd is 0.289) while the decided ones stay narrow; from a
    box of +-0.1, the runs never leave the box and the ensemble is as narrow there as
    where the data decide (the failure this shape exists to prevent)."""
    from migflow.calibration.emulated_posterior import first_design
    from migflow.calibration.information import local_normal

    slopes = SLOPES[:, :3].copy()
    slopes[:, 2] = 0.0
    truth = TRUTH[:3]

    def runs(units, seeds):
        out = []
        for unit, seed in zip(units, seeds, strict=True):
            gap = unit - truth
            noise = NOISE * np.random.default_rng(int(seed)).standard_normal(TARGETS)
            out.append(gap @ slopes.T + noise)
        return np.array(out)

    center = truth + 0.02
    settings = replace(SMALL, waves=2, first_wave="local")
    shaped = emulated_posterior(runs, center, TARGETS, settings, 4, say=lambda _: 0)
    base, jac = shaped.local
    assert np.abs(jac[:, 2]).max() < 1e-12 and np.abs(jac[:, :2]).min() > 0
    _, shape = local_normal(jac, base, TARGETS)
    design = first_design(center, SMALL, np.random.default_rng(0), shape)
    assert design.min() >= 0.0 and design.max() <= 1.0
    assert design[:, 2].std() > 10 * design[:, 0].std()
    boxed = emulated_posterior(
        runs, center, TARGETS, replace(settings, first_wave="box"), 4, say=lambda _: 0
    )
    prior_sd = 1 / np.sqrt(12)
    assert shaped.ensemble[:, 2].std() > 0.7 * prior_sd
    assert shaped.ensemble[:, :2].std(axis=0).max() < 0.1 * prior_sd
    assert boxed.ensemble[:, 2].std() < 0.3 * prior_sd
    assert shaped.diagnostics["first_wave"] == "local measure"


def test_the_lack_of_fit_keeps_each_targets_measured_variance():
    """Leave-one-out errors less a noisy noise estimate give a covariance with negative
    eigenvalues; made positive, each target keeps the variance the runs measured (the
    diagonal, floored at zero), not the larger one that clipping alone leaves."""
    rng = np.random.default_rng(3)
    loo = rng.normal(size=(12, 30)) * np.linspace(0.5, 2.0, 30)
    noise = rng.uniform(0.2, 3.0, 30)  # some targets' noise above their measured error
    covariance = loo.T @ loo / len(loo) - np.diag(noise)
    assert np.linalg.eigvalsh(covariance).min() < 0
    scales, basis = emulator._measured_variances(covariance)
    rebuilt = (basis * scales) @ basis.T
    assert scales.min() >= 0
    np.testing.assert_allclose(np.diag(rebuilt), np.maximum(np.diag(covariance), 0), atol=1e-9)
    clipped = np.linalg.eigh(covariance)
    clipped = (clipped[1] * np.maximum(clipped[0], 0)) @ clipped[1].T
    assert np.diag(clipped).sum() > np.diag(rebuilt).sum()
