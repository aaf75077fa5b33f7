"""PRIM scenario discovery (Friedman & Fisher 1999, "Bump hunting in high-dimensional data").

Given runs (input values ``X``) and whether a goal held in each (``y``), PRIM looks for a
box, an interval on each input, in which the goal holds in a large share of the runs. It
*peels*: repeatedly removes the slice of the box (a share ``alpha`` of its runs, from the
low or high end of one input) whose removal most raises the share of runs meeting the goal,
until the box holds fewer than ``min_mass`` of the runs. That gives a trajectory of nested
boxes trading coverage for density. The chosen box is the one with the highest coverage
whose density reaches ``threshold`` (the densest of those if several cover as much); it is
then *pasted*: widened again on any side where that raises its density, and *simplified*:
restrictions the goal does not need (the density stays at the threshold without them) are
lifted, so an input with no effect that peeling trimmed by chance is not reported. A
restriction that survives because the box sits right at the threshold shows a large
quasi-p-value (``qp``): read it as noise.

* coverage: runs in the box meeting the goal / all runs meeting the goal;
* density: runs in the box meeting the goal / runs in the box;
* mass: runs in the box / all runs.

Box limits are the smallest and largest values of the runs inside, so an input whose limits
equal its full range is unrestricted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class PrimBox:
    low: np.ndarray
    high: np.ndarray
    coverage: float
    density: float
    mass: float
    runs: int
    restricted: int  # number of inputs restricted


@dataclass
class PrimResult:
    names: list[str]
    full_low: np.ndarray
    full_high: np.ndarray
    trajectory: list[PrimBox]
    box: PrimBox  # the chosen (and pasted) box
    threshold: float
    reached: bool  # whether the box's density reaches the threshold
    runs: int
    goal_runs: int

    @property
    def base_density(self) -> float:
        return self.goal_runs / self.runs if self.runs else float("nan")

    qp: dict[str, float] | None = None  # quasi-p-value of each restriction
    left_out: list[str] | None = None  # inputs shown to have no effect, not in the box

    def limits(self, restricted_only: bool = True) -> pd.DataFrame:
        """The box as a table: input, low, high, the full range of the input, and for a
        restricted input its quasi-p-value (small: the restriction matters)."""
        rows = []
        for k, name in enumerate(self.names):
            lo, hi = self.box.low[k], self.box.high[k]
            restricted = lo > self.full_low[k] or hi < self.full_high[k]
            if restricted or not restricted_only:
                rows.append(
                    {
                        "input": name,
                        "low": lo,
                        "high": hi,
                        "range_low": self.full_low[k],
                        "range_high": self.full_high[k],
                        "restricted": restricted,
                        "qp": (self.qp or {}).get(name, np.nan) if restricted else np.nan,
                    }
                )
        return pd.DataFrame(
            rows, columns=["input", "low", "high", "range_low", "range_high", "restricted", "qp"]
        )

    def trajectory_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "step": i,
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "runs": b.runs,
                    "restricted": b.restricted,
                }
                for i, b in enumerate(self.trajectory)
            ]
        )


def _stats(inside: np.ndarray, y: np.ndarray, low, high, full_low, full_high) -> PrimBox:
    n_in = int(inside.sum())
    hits = int(y[inside].sum())
    total_hits = int(y.sum())
    restricted = int(np.sum((low > full_low) | (high < full_high)))
    return PrimBox(
        low.copy(),
        high.copy(),
        coverage=hits / total_hits if total_hits else 0.0,
        density=hits / n_in if n_in else 0.0,
        mass=n_in / len(y),
        runs=n_in,
        restricted=restricted,
    )


def _inside(X: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.all((X >= low) & (X <= high), axis=1)


def _best_peel(X, y, inside, low, high, alpha, min_runs):
    """The single peel that most raises the box's density, or None."""
    n_in = int(inside.sum())
    k = max(1, int(alpha * n_in))
    best = None
    for j in range(X.shape[1]):
        vals = X[inside, j]
        ordered = np.sort(vals)
        for side in ("low", "high"):
            if side == "low":
                cut = ordered[k - 1]
                keep = inside & (X[:, j] > cut)
            else:
                cut = ordered[-k]
                keep = inside & (X[:, j] < cut)
            n_keep = int(keep.sum())
            if n_keep < min_runs or n_keep == n_in:
                continue
            density = y[keep].mean()
            score = (density, n_keep)
            if best is None or score > best[0]:
                best = (score, j, side, keep)
    if best is None:
        return None
    _, j, side, keep = best
    low, high = low.copy(), high.copy()
    if side == "low":
        low[j] = X[keep, j].min()
    else:
        high[j] = X[keep, j].max()
    return keep, low, high


def _paste(X, y, low, high, alpha):
    """Widen the box while that raises its density (or keeps it and adds goal runs)."""
    inside = _inside(X, low, high)
    while True:
        current = (y[inside].mean(), int(y[inside].sum()))
        k = max(1, int(alpha * inside.sum()))
        best = None
        for j in range(X.shape[1]):
            others = np.ones(len(y), dtype=bool)
            for m in range(X.shape[1]):
                if m != j:
                    others &= (X[:, m] >= low[m]) & (X[:, m] <= high[m])
            for side in ("low", "high"):
                if side == "low":
                    outside = others & (X[:, j] < low[j])
                    if not outside.any():
                        continue
                    new_bound = np.sort(X[outside, j])[::-1][:k][-1]
                    cand = inside | (outside & (X[:, j] >= new_bound))
                else:
                    outside = others & (X[:, j] > high[j])
                    if not outside.any():
                        continue
                    new_bound = np.sort(X[outside, j])[:k][-1]
                    cand = inside | (outside & (X[:, j] <= new_bound))
                score = (y[cand].mean(), int(y[cand].sum()))
                if score > current and (best is None or score > best[0]):
                    best = (score, j, side, new_bound, cand)
        if best is None:
            return low, high
        _, j, side, bound, inside = best
        low, high = low.copy(), high.copy()
        if side == "low":
            low[j] = bound
        else:
            high[j] = bound


def _quasi_p_values(X, y, box: PrimBox, names, full_low, full_high) -> dict[str, float]:
    """For each restriction, the one-sided binomial probability of at least the box's goal
    runs if the goal held at the density of the box without that restriction (the
    quasi-p-value of Bryant & Lempert 2010, as in the EMA Workbench). A large value means
    the restriction adds little: peeling may have trimmed that input by chance."""
    from scipy.stats import binom

    inside = _inside(X, box.low, box.high)
    n, hits = int(inside.sum()), int(y[inside].sum())
    out = {}
    for k, name in enumerate(names):
        if box.low[k] <= full_low[k] and box.high[k] >= full_high[k]:
            continue
        low, high = box.low.copy(), box.high.copy()
        low[k], high[k] = full_low[k], full_high[k]
        lifted = _inside(X, low, high)
        p0 = y[lifted].mean()
        out[name] = float(binom.sf(hits - 1, n, p0)) if n else float("nan")
    return out


def _drop_restrictions(X, y, box: PrimBox, threshold, full_low, full_high) -> PrimBox:
    """Lift restrictions that the goal does not need: peeling on an input that has no
    effect can still look useful by chance. Greedily frees the input whose release keeps
    the highest density, while the density stays at or above the threshold (or, for a box
    below the threshold, does not fall)."""
    floor = threshold if box.density >= threshold else box.density
    while True:
        best = None
        for k in range(X.shape[1]):
            if box.low[k] <= full_low[k] and box.high[k] >= full_high[k]:
                continue
            low, high = box.low.copy(), box.high.copy()
            low[k], high[k] = full_low[k], full_high[k]
            cand = _stats(_inside(X, low, high), y, low, high, full_low, full_high)
            if cand.density >= floor and (best is None or cand.density > best.density):
                best = cand
        if best is None:
            return box
        box = best


def prim(
    X: pd.DataFrame,
    y,
    *,
    threshold: float = 0.8,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    paste: bool = True,
    simplify: bool = True,
) -> PrimResult:
    """Find the box of ``X`` (one column per input) where ``y`` (bool per run) holds in at
    least ``threshold`` of the runs, covering as many of the goal runs as possible."""
    names = list(X.columns)
    data = X.to_numpy(dtype=float)
    y = np.asarray(y, dtype=bool)
    if len(y) == 0:
        raise ValueError("no runs to analyse")
    full_low, full_high = data.min(axis=0), data.max(axis=0)
    low, high = full_low.copy(), full_high.copy()
    inside = np.ones(len(y), dtype=bool)
    min_runs = max(1, int(np.ceil(min_mass * len(y))))
    trajectory = [_stats(inside, y, low, high, full_low, full_high)]
    while trajectory[-1].density < 1.0:
        step = _best_peel(data, y, inside, low, high, alpha, min_runs)
        if step is None:
            break
        inside, low, high = step
        trajectory.append(_stats(inside, y, low, high, full_low, full_high))

    meeting = [i for i, b in enumerate(trajectory) if b.density >= threshold]
    if meeting:
        chosen = max(meeting, key=lambda i: (trajectory[i].coverage, trajectory[i].density, -i))
    else:
        chosen = max(range(len(trajectory)), key=lambda i: (trajectory[i].density, -i))
    box = trajectory[chosen]
    if paste and chosen > 0:
        plow, phigh = _paste(data, y, box.low, box.high, alpha)
        box = _stats(_inside(data, plow, phigh), y, plow, phigh, full_low, full_high)
    if simplify:
        box = _drop_restrictions(data, y, box, threshold, full_low, full_high)
    qp = _quasi_p_values(data, y, box, names, full_low, full_high)
    return PrimResult(
        qp=qp,
        names=names,
        full_low=full_low,
        full_high=full_high,
        trajectory=trajectory,
        box=box,
        threshold=threshold,
        reached=box.density >= threshold,
        runs=len(y),
        goal_runs=int(y.sum()),
    )


def goal_met(values: pd.Series, below: float | None, above: float | None) -> np.ndarray:
    """Whether each run meets the goal; a missing value never does."""
    v = values.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        met = v < below if below is not None else v > above
    return met & ~np.isnan(v)
