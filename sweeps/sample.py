"""Samplers: the design of a sweep, deterministic given the sweep file.

Sobol (Saltelli's scheme, ``SALib.sample.sobol``), Morris trajectories, Latin hypercube
(``SALib.sample.latin``) and a full grid. SALib samples each input on its interval: a range
input on [low, high], a list of k values on [0, k), mapped to the value whose bin the point
falls in. Integer lever fields are rounded.

Every sample point runs once per seed (replications). A run is identified by a hash of its
kind, input values and seed (``run_id``), so the same run gets the same id whichever process
computes it, and a point that a design visits twice (Morris, grids) is computed once. When an
outcome needs the base scenario (cost per crossing averted, differences), each run also names
its *reference run*: the base scenario with the same seed and parameter values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from SALib.sample import latin, morris, sobol

if TYPE_CHECKING:
    from .spec import SweepPlan


def run_id(kind: str, values: dict[str, float], seed: int) -> str:
    """A stable id for one run: the same inputs and seed give the same id everywhere."""
    payload = json.dumps(
        {"kind": kind, "inputs": {k: repr(float(v)) for k, v in values.items()}, "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def problem(plan: SweepPlan) -> dict:
    """The SALib problem of the sweep's inputs."""
    return {
        "num_vars": len(plan.inputs),
        "names": plan.input_names,
        "bounds": [list(i.bounds) for i in plan.inputs],
    }


def count_points(plan: SweepPlan) -> int:
    """Sample points of the design (before replications), without building it."""
    s, d = plan.file.sampler, len(plan.inputs)
    if s.method == "sobol":
        return s.samples * ((2 * d + 2) if s.second_order else (d + 2))
    if s.method == "morris":
        return s.samples * (d + 1)
    if s.method == "latin":
        return s.samples
    return math.prod(len(i.grid()) for i in plan.inputs)


def count_runs(plan: SweepPlan) -> int:
    """An upper bound on the runs of the sweep (reference runs included)."""
    runs = count_points(plan) * len(plan.seeds)
    return runs * 2 if plan.needs_reference else runs


@dataclass
class Design:
    """The sample points and the runs they need.

    ``X``: the points in SALib's space (one row per point; a grid holds the values), as the
    analysis needs them. ``points``: the input values of each point. ``table``: one row per
    (point, replication) with its seed, ``run_id`` and ``reference_id``. ``runs()``: every
    distinct run to compute, in design order, references first when needed."""

    X: np.ndarray
    points: pd.DataFrame
    table: pd.DataFrame

    @property
    def n_points(self) -> int:
        return len(self.points)

    def runs(self, plan: SweepPlan) -> list[dict]:
        params = plan.parameter_inputs
        seen, out = set(), []
        records = self.points.to_dict("records")
        for row in self.table.itertuples(index=False):
            values = records[row.sample]
            if plan.needs_reference and row.reference_id not in seen:
                seen.add(row.reference_id)
                ref_values = {p: values[p] for p in params}
                out.append(_run("reference", row.reference_id, ref_values, row.seed))
            if row.run_id not in seen:
                seen.add(row.run_id)
                out.append(_run("sample", row.run_id, values, row.seed))
        return out


def _run(kind: str, rid: str, values: dict, seed: int) -> dict:
    return {"run_id": rid, "kind": kind, "seed": int(seed), "inputs": dict(values)}


def design(plan: SweepPlan) -> Design:
    """Sample the sweep's inputs and list its runs."""
    s = plan.file.sampler
    prob = problem(plan)
    if s.method == "sobol":
        X = sobol.sample(prob, s.samples, calc_second_order=s.second_order, seed=s.seed)
    elif s.method == "morris":
        X = morris.sample(prob, s.samples, num_levels=s.levels, seed=s.seed)
    elif s.method == "latin":
        X = latin.sample(prob, s.samples, seed=s.seed)
    else:
        X = np.array(list(itertools.product(*(i.grid() for i in plan.inputs))), dtype=float)
    X = np.asarray(X, dtype=float).reshape(-1, len(plan.inputs))
    if s.method == "grid":
        values = X
    else:
        values = np.array(
            [[inp.value_of(u) for inp, u in zip(plan.inputs, row, strict=True)] for row in X]
        ).reshape(X.shape)
    points = pd.DataFrame(values, columns=plan.input_names)

    params = plan.parameter_inputs
    rows = []
    for sample, point in enumerate(points.to_dict("records")):
        ref_values = {p: point[p] for p in params}
        for rep, seed in enumerate(plan.seeds):
            rows.append(
                {
                    "sample": sample,
                    "replication": rep,
                    "seed": int(seed),
                    "run_id": run_id("sample", point, seed),
                    "reference_id": run_id("reference", ref_values, seed)
                    if plan.needs_reference
                    else None,
                }
            )
    table = pd.DataFrame(
        rows, columns=["sample", "replication", "seed", "run_id", "reference_id"]
    ).astype({"sample": "int64", "replication": "int64", "seed": "int64"})
    return Design(X=X, points=points, table=table)
