"""Posterior ensemble by approximate Bayesian computation (ABC-SMC, with pyabc).

pyabc runs sequential Monte Carlo over populations of parameter sets, each simulated and
compared with the targets by the same weighted squared log error as the point estimate; the
tolerance falls from population to population. Simulations go to Dask through pyabc's
``MappingSampler``, seeded (``SeededMappingSampler``), so a LocalCluster or a remote
scheduler both work and the same calibration gives the same ensemble. Progress is kept in
pyabc's SQLite database, which is what lets an interrupted calibration resume.

Priors are uniform boxes in the unit cube of the free parameters, centred on the point
estimate (``width`` on each side, clipped to the plausible ranges): the ensemble describes
the uncertainty around the best fit found, not a search of the whole parameter space.
Each simulation gets its own seed (derived from its parameters), so the ensemble also
carries the model's sampling noise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from migflow.model.scenario import Scenario

from .fit import evaluate
from .simulate import loss
from .space import ParameterSpace


def _key(i: int) -> str:
    return f"x{i:02d}"


@dataclass
class Simulator:
    """The pyabc model: unit-cube parameters -> simulated targets (picklable for Dask)."""

    scenario: Scenario
    targets: pd.DataFrame
    space: ParameterSpace

    def __call__(self, pars: dict) -> dict:
        unit = np.array([pars[_key(i)] for i in range(len(self.space.names))])
        seed = int.from_bytes(hashlib.sha256(unit.tobytes()).digest()[:4], "little")
        values = self.space.to_values(unit)
        return {"sim": evaluate(values, self.scenario.with_changes(seed=seed), self.targets)}


@dataclass
class Distance:
    targets: pd.DataFrame

    def __call__(self, x: dict, x0: dict) -> float:
        return loss(np.asarray(x["sim"]), self.targets)


def abc_smc(
    scenario: Scenario,
    targets: pd.DataFrame,
    center: dict[str, float],
    client,
    database: Path,
    population_size: int,
    generations: int,
    width: float,
    space: ParameterSpace,
    setup: str,
    seed: int,
) -> pd.DataFrame:
    """Run (or resume) ABC-SMC; return population ``generations`` (parameter columns +
    weight). The sizes have no defaults here: ``calibrate.Settings`` holds the shipped ones.
    ``setup`` identifies targets, scenario and code: a database from another one is dropped.
    ``seed`` decides every draw of the sampler."""
    import pyabc

    from .seeded_sampler import SeededMappingSampler  # imports pyabc, slow: only here

    mid = space.to_unit(center)
    lo, hi = np.clip(mid - width, 0, 1), np.clip(mid + width, 0, 1)
    prior = pyabc.Distribution(
        **{_key(i): pyabc.RV("uniform", lo[i], max(hi[i] - lo[i], 1e-9)) for i in range(len(mid))}
    )
    sampler = SeededMappingSampler(client, seed)
    abc = pyabc.ABCSMC(
        Simulator(scenario, targets, space),
        prior,
        Distance(targets),
        population_size=population_size,
        sampler=sampler,
        # narrower proposals than pyabc's default keep importance weights less degenerate
        # in ~30 dimensions
        transitions=pyabc.MultivariateNormalTransition(scaling=0.5),
    )
    url = f"sqlite:///{database}"
    done = 0
    fingerprint = database.with_suffix(".json")
    identity = json.dumps({"setup": setup, "center": list(mid.round(12)), "width": width,
                           "population_size": population_size, "seed": seed})  # fmt: skip
    if database.exists() and (not fingerprint.exists() or fingerprint.read_text() != identity):
        database.unlink()  # a database from another set-up: start afresh
    fingerprint.write_text(identity)
    if database.exists():
        history = pyabc.History(url)
        if history.n_populations > 0:
            abc.load(url, history.id)
            done = history.n_populations
    if done == 0:
        database.unlink(missing_ok=True)
        abc.new(url, {"sim": targets["value"].to_numpy()})
    if done < generations:
        history = abc.run(max_nr_populations=generations - done)
    else:
        history = pyabc.History(url)
    frame, weights = history.get_distribution(m=0, t=min(history.max_t, generations - 1))
    units = frame[[_key(i) for i in range(len(space.names))]].to_numpy()
    rows = [space.to_values(u) for u in units]
    out = pd.DataFrame(rows)
    out["weight"] = np.asarray(weights) / np.sum(weights)
    return out
