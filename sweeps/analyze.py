"""Sensitivity indices of a stored sweep, with confidence intervals.

The method follows the sampler, as SALib pairs them: Sobol first-order and total indices
(``SALib.analyze.sobol``) for a Sobol design, Morris mu*, mu and sigma
(``SALib.analyze.morris``) for Morris trajectories, RBD-FAST first-order indices
(``SALib.analyze.rbd_fast``) for a Latin hypercube, and main effects (variance of the
conditional means over the total variance, bootstrap intervals) for a full grid.

Replications are averaged per sample point first: the indices say how the *expected* outcome
depends on the inputs, and seed noise does not count as an input's effect. An outcome that
is missing at any point (a failed or missing run; cost per crossing averted where nothing was
averted) cannot be analysed by these estimators, which need the full design; it is reported
with a note instead.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from SALib.analyze import morris, rbd_fast, sobol

from migflow.model.errors import InputError

from .prim import PrimResult, goal_met, prim
from .sample import problem
from .store import SweepResults

COLUMNS = [
    "outcome",
    "input",
    "kind",
    "method",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "mu_star",
    "mu_star_conf",
    "mu",
    "sigma",
]


def point_means(res: SweepResults, outcome: str) -> np.ndarray:
    """The outcome averaged over replications at each sample point (NaN if none ran)."""
    ok = res.runs[res.runs["status"] == "ok"]
    means = ok.groupby("sample")[outcome].mean()
    return means.reindex(range(res.design.n_points)).to_numpy(dtype=float)


def indices(
    res: SweepResults, *, conf_level: float = 0.95, num_resamples: int = 200, seed: int = 1
) -> tuple[pd.DataFrame, list[str]]:
    """One row per (outcome, input) with the method's indices; and notes on outcomes that
    could not be analysed."""
    plan, rows, notes = res.plan, [], []
    method = plan.file.sampler.method
    prob = problem(plan)
    samples = plan.file.sampler.samples
    if method == "latin" and samples <= 2 * RBD_HARMONICS:
        return pd.DataFrame(columns=COLUMNS), [
            f"sensitivity indices withheld: with {samples} samples every RBD-FAST index is 1 "
            f"by construction; it needs more than {2 * RBD_HARMONICS} (at least "
            f"{MIN_SAMPLES['latin']} for a bias near 10%)"
        ]
    too_few = too_few_samples(method, samples)
    if too_few:
        notes.append(too_few)
    kinds = {i.name: i.kind for i in plan.inputs}
    for outcome in plan.outcomes:
        y = point_means(res, outcome)
        missing = int(np.isnan(y).sum())
        if missing:
            notes.append(
                f"{outcome}: no value at {missing} of {len(y)} sample points "
                "(failed or missing runs, or undefined values); not analysed"
            )
            continue
        if np.ptp(y) == 0:
            notes.append(f"{outcome}: the same value ({y[0]:g}) in every run; no index")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SALib's notes on sample sizes
            table = _analyse(method, plan, prob, res.design.X, y, conf_level, num_resamples, seed)
        for name, values in table.items():
            rows.append({"outcome": outcome, "input": name, "kind": kinds[name], **values})
    frame = pd.DataFrame(rows).reindex(columns=COLUMNS)
    frame["method"] = frame["method"].astype("object")
    return frame, notes


# The fewest samples (SALib's N) each method needs before its indices mean anything.
# RBD-FAST sums the first RBD_HARMONICS harmonics of a spectrum of N/2 frequencies: with
# N <= 2 x 10 every first-order index is 1 by construction, and its bias is of order M/N
# (Tissot and Prieur 2012, doi:10.1016/j.ress.2012.06.010), so 100 points keep it near 10%.
# Sobol' (Saltelli) and Morris: the bootstrap intervals of fewer base samples or trajectories
# are wider than the indices they bound (SALib's examples use N >= 1,000 and r >= 10).
RBD_HARMONICS = 10
MIN_SAMPLES = {"latin": 100, "sobol": 64, "morris": 10}


def too_few_samples(method: str, samples: int) -> str | None:
    """A warning for a design of ``samples`` too small to trust (None when enough)."""
    least = MIN_SAMPLES.get(method)
    if least is None or samples >= least:
        return None
    name = {"latin": "RBD-FAST", "sobol": "Sobol'", "morris": "Morris"}[method]
    return (
        f"warning: {name} indices from {samples} samples are not to be trusted; it needs at "
        f"least {least} (samples = {least} or more in the sweep file)"
    )


def _analyse(method, plan, prob, X, y, conf_level, num_resamples, seed) -> dict[str, dict]:
    names = prob["names"]
    if method == "sobol":
        si = sobol.analyze(
            prob,
            y,
            calc_second_order=plan.file.sampler.second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        return _per_input("sobol", si, ("S1", "S1_conf", "ST", "ST_conf"), names)
    if method == "morris":
        si = morris.analyze(
            prob,
            X,
            y,
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=plan.file.sampler.levels,
            seed=seed,
        )
        return _per_input("morris", si, ("mu_star", "mu_star_conf", "mu", "sigma"), names)
    if method == "latin":
        si = rbd_fast.analyze(
            prob,
            X,
            y,
            M=RBD_HARMONICS,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        return _per_input("rbd_fast", si, ("S1", "S1_conf"), names)
    return _main_effects(X, y, names, conf_level, num_resamples, seed)


def _per_input(method: str, si, keys, names) -> dict[str, dict]:
    """SALib's result arrays, one dict per input: the method and each index named."""
    return {n: {"method": method, **{key: si[key][k] for key in keys}} for k, n in enumerate(names)}


def _main_effects(X, y, names, conf_level, num_resamples, seed) -> dict[str, dict]:
    """First-order indices of a full factorial: Var(E[Y | X_i]) / Var(Y), bootstrapped."""
    rng = np.random.default_rng(seed)

    def effect(xcol, yy):
        var = yy.var()
        if var == 0:
            return 0.0
        frame = pd.DataFrame({"x": xcol, "y": yy})
        g = frame.groupby("x")["y"]
        means, counts = g.mean(), g.size()
        return float(((means - yy.mean()) ** 2 * counts).sum() / len(yy) / var)

    out = {}
    z = _z(conf_level)
    for k, n in enumerate(names):
        s1 = effect(X[:, k], y)
        boots = []
        for _ in range(num_resamples):
            pick = rng.integers(0, len(y), len(y))
            boots.append(effect(X[pick, k], y[pick]))
        out[n] = {"method": "main_effect", "S1": s1, "S1_conf": z * float(np.std(boots))}
    return out


def _z(conf_level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + conf_level / 2))


def distributions(res: SweepResults) -> pd.DataFrame:
    """Per outcome: runs with a value, mean, standard deviation and percentiles."""
    ok = res.runs[res.runs["status"] == "ok"]
    rows = []
    for outcome in res.plan.outcomes:
        v = ok[outcome].dropna().to_numpy(dtype=float)
        q = np.percentile(v, [5, 50, 95]) if len(v) else [np.nan] * 3
        rows.append(
            {
                "outcome": outcome,
                "runs": len(v),
                "mean": v.mean() if len(v) else np.nan,
                "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                "p5": q[0],
                "median": q[1],
                "p95": q[2],
            }
        )
    return pd.DataFrame(rows)


def independent_points(res: SweepResults) -> pd.Series:
    """Which rows of ``res.ok`` are independent draws of the inputs. In Saltelli's scheme
    each block of D+2 (or 2D+2) points holds two independent points, A and B, and their
    recombinations (A with one column from B...). The recombinations are what the Sobol
    estimators need, but they are not new draws: a row that differs from A only in an
    input without effect repeats A's outcome, and PRIM would find "evidence" in the copies.
    Scenario discovery on a Sobol design therefore uses the A and B points (times the
    seeds). Other designs: every point."""
    ok = res.ok
    s = res.plan.file.sampler
    if s.method != "sobol":
        return pd.Series(True, index=ok.index)
    d = len(res.plan.inputs)
    block = 2 * d + 2 if s.second_order else d + 2
    position = ok["sample"] % block
    return (position == 0) | (position == block - 1)


def inert_inputs(res: SweepResults, outcome: str) -> list[str]:
    """Inputs that provably do not change ``outcome``: in a Sobol design, the rows A and AB_i
    of a block differ only in input i and share their seed (common random numbers), so an
    input whose pairs give the same outcome in every block and seed has no effect at any of
    the sampled points. Empty for other designs (no such pairs) or with missing runs."""
    s = res.plan.file.sampler
    if s.method != "sobol":
        return []
    d = len(res.plan.inputs)
    block = 2 * d + 2 if s.second_order else d + 2
    runs = res.runs
    if (runs["status"] == "missing").any():
        return []
    y = runs.pivot_table(index="sample", columns="replication", values=outcome, dropna=False)
    y = y.reindex(range(res.design.n_points)).to_numpy(dtype=float)
    a = y[0::block]
    inert = []
    for i, name in enumerate(res.plan.input_names):
        ab = y[1 + i :: block]
        if np.array_equal(a, ab, equal_nan=True):
            inert.append(name)
    return inert


def discover(
    res: SweepResults, goal, *, alpha: float = 0.05, min_mass: float = 0.05
) -> tuple[PrimResult, pd.DataFrame]:
    """PRIM on the sweep's successful sample runs (the independent points of a Sobol design,
    see ``independent_points``) for a ``GoalSpec`` (or anything with outcome, below, above,
    density, over). Returns the result and the runs it used (with a boolean ``goal``
    column). The box is over the lever inputs (``over = "levers"``, the default: the goal
    must hold across the uncertain parameters and seeds) or every input."""
    plan = res.plan
    columns = plan.lever_inputs if goal.over == "levers" and plan.lever_inputs else None
    columns = columns or plan.input_names
    inert = [c for c in inert_inputs(res, goal.outcome) if c in columns]
    if len(inert) < len(columns):
        columns = [c for c in columns if c not in inert]
    runs = res.ok[independent_points(res)].copy()
    runs["goal"] = goal_met(runs[goal.outcome], goal.below, goal.above)
    if runs.empty:
        raise InputError("no successful runs to analyse", source=str(res.root))
    result = prim(
        runs[columns], runs["goal"], threshold=goal.density, alpha=alpha, min_mass=min_mass
    )
    result.left_out = inert
    return result, runs
