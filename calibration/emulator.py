"""A fast stand-in for the model: every target's residual as a function of the parameters.

One model run takes seconds, and a posterior over tens of parameters needs hundreds of
thousands of likelihood evaluations, so the posterior is sampled on an emulator fitted to a
few hundred runs (``emulated_posterior.py``). Each target's weighted log error (its residual,
``information.residuals``) is a ridge regression on the unit-cube parameters: all linear
terms, plus the squares and pairwise products of the inputs that move the residuals most
(quadratic response surfaces, as in history matching's regression emulators; Vernon,
Goldstein & Bower 2010, https://doi.org/10.1214/10-BA524). One design matrix serves every
target, so the whole fit is one singular value decomposition.

The emulator says how far it can be trusted. Its error is the lack of fit: the
leave-one-out errors, less the model's own sampling noise (measured from replicate runs).
These errors are strongly correlated across targets (a missed curvature of the Venezuelan
wave moves every monthly count of it at once), so the emulator keeps their covariance, not
only each target's variance: counted as independent, they would tell the likelihood that
258 monthly figures carry 258 independent pieces of evidence, and the posterior would be
too sure (measured: 90% intervals covering 76% of synthetic truths). Away from the runs it
was fitted to, the error grows with the leverage of the point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: ridge penalties tried (on standardised features); the one with the least leave-one-out
#: error over all targets is kept
PENALTIES = np.logspace(-4, 3, 22)


def quadratic_features(units: np.ndarray, active: np.ndarray) -> np.ndarray:
    """1, every input, and the squares and pairwise products of the ``active`` inputs."""
    units = np.atleast_2d(units)
    a = units[:, active] - 0.5
    i, j = np.triu_indices(len(active))
    return np.hstack([np.ones((len(units), 1)), units, a[:, i] * a[:, j]])


@dataclass
class Emulator:
    """Residual means and variances at any point of the unit cube, from ``fit``."""

    active: np.ndarray
    mean_features: np.ndarray
    sd_features: np.ndarray
    coefficients: np.ndarray  # (features, targets)
    inverse_gram: np.ndarray  # (features, features): coefficient uncertainty per unit variance
    residual_var: np.ndarray  # (targets,) leave-one-out mean square
    error_basis: np.ndarray  # (targets, k) eigenvectors of the lack of fit's covariance
    error_scales: np.ndarray  # (k,) and its eigenvalues
    trust_leverage: float = np.inf  # the largest leverage among the runs it was fitted to

    @property
    def lack_of_fit(self) -> np.ndarray:
        """Each target's variance of the lack of fit (the covariance's diagonal)."""
        return (self.error_basis**2) @ self.error_scales

    def features(self, units: np.ndarray) -> np.ndarray:
        """The standardised regression features of each point (points, features)."""
        phi = quadratic_features(units, self.active)
        return (phi - self.mean_features) / self.sd_features

    def mean_and_inflation(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated residual means (points, targets), and per point the factor (1 +
        leverage) by which the lack of fit's covariance grows there."""
        phi = self.features(units)
        leverage = np.sum((phi @ self.inverse_gram) * phi, axis=1)
        return phi @ self.coefficients, 1.0 + leverage

    def predict(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated residual means and variances, shape (points, targets) each."""
        mean, inflation = self.mean_and_inflation(units)
        return mean, inflation[:, None] * self.lack_of_fit[None, :]


def choose_active(units: np.ndarray, residuals: np.ndarray, n_active: int) -> np.ndarray:
    """The inputs whose linear effects on the residuals are largest, summed over targets
    (each in units of its residual's spread): the ones that get quadratic terms."""
    x = np.hstack([np.ones((len(units), 1)), units - units.mean(axis=0)])
    coef, *_ = np.linalg.lstsq(x, residuals, rcond=None)
    spread = units.std(axis=0)[:, None] * np.abs(coef[1:])
    scale = residuals.std(axis=0) + 1e-12
    importance = (spread / scale[None, :]).sum(axis=1)
    return np.sort(np.argsort(importance)[::-1][: min(n_active, units.shape[1])])


def fit(
    units: np.ndarray, residuals: np.ndarray, noise_var: np.ndarray, n_active: int = 10
) -> Emulator:
    """Fit one emulator to runs at ``units`` (runs, parameters) with ``residuals`` (runs,
    targets). ``noise_var`` is each residual's variance between seeds at one point: the part
    of the regression's error that is the model's sampling noise, not the emulator's."""
    active = choose_active(units, residuals, n_active)
    phi = quadratic_features(units, active)
    mean, sd = phi.mean(axis=0), phi.std(axis=0)
    mean[0], sd[0] = 0.0, 1.0  # the intercept stays as it is
    sd[sd == 0] = 1.0
    z = (phi - mean) / sd
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    uty = u.T @ residuals
    best = None
    for penalty in PENALTIES:
        shrink = s**2 / (s**2 + penalty)
        hat = np.einsum("ik,k,ik->i", u, shrink, u)
        error = residuals - u @ (shrink[:, None] * uty)
        loo = error / (1.0 - hat)[:, None]
        score = float(np.mean(loo**2))
        if best is None or score < best[0]:
            best = (score, penalty, loo)
    _, penalty, loo = best
    coefficients = vt.T @ ((s / (s**2 + penalty))[:, None] * uty)
    inverse_gram = vt.T @ np.diag(1.0 / (s**2 + penalty)) @ vt
    residual_var = np.mean(loo**2, axis=0)
    covariance = loo.T @ loo / len(loo) - np.diag(noise_var)
    hat_max = float(np.max(np.sum((z @ inverse_gram) * z, axis=1)))
    scales, basis = _measured_variances(covariance)
    return Emulator(
        active=active,
        mean_features=mean,
        sd_features=sd,
        coefficients=coefficients,
        inverse_gram=inverse_gram,
        residual_var=residual_var,
        error_basis=basis,
        error_scales=scales,
        trust_leverage=hat_max,
    )


def _measured_variances(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of the lack of fit's covariance, made a covariance.

    Leave-one-out errors less the replicates' noise leave many negative eigenvalues (the
    noise is measured from a handful of replicates: 281 of 438 are negative on the shipped
    fit). Setting them to zero alone adds variance the runs do not show (39% on the
    diagonal's sum there, which made the targets' 50% predictive intervals cover 63% of
    synthetic truths; docs/calibration.md, Known limits). So the
    positive part keeps its correlations and is rescaled to each target's measured variance,
    the diagonal less the noise (zero where the noise is the larger)."""
    symmetric = (covariance + covariance.T) / 2
    scales, basis = np.linalg.eigh(symmetric)
    clipped = (basis * np.maximum(scales, 0.0)) @ basis.T
    measured = np.maximum(np.diag(symmetric), 0.0)
    have = np.diag(clipped)
    factor = np.sqrt(np.divide(measured, have, out=np.zeros_like(have), where=have > 0))
    rescaled = clipped * factor[:, None] * factor[None, :]
    scales, basis = np.linalg.eigh((rescaled + rescaled.T) / 2)
    return np.maximum(scales, 0.0), basis
