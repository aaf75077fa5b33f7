"""Step 1: emigration.

New migrants leave each origin at a rate driven by the origin's push index (scenario time
series), the diaspora already abroad (network effect) and root-cause spending (a lagged
reduction with diminishing returns, compiled in ``PolicySchedule``). The number of agents
leaving is a Poisson draw taken by inverse CDF from a per-(origin, month) uniform, so a
scenario that raises the rate only ever adds migrants to the same cohort (common random
numbers), and the k-th migrant of a cohort has the same random key in every scenario.
"""

from __future__ import annotations

import math

import numpy as np

from ..geography import ORIGIN_NODE, ORIGINS
from ..population import TRANSIT
from . import PURPOSE_EMIGRATE


def emigration_people(model) -> np.ndarray:
    """Expected emigrants per origin this month, in people."""
    p, sched, t = model.params, model.policy, model.t
    diaspora = model.diaspora_people  # (O,) people of each origin abroad (hosts)
    network = (1.0 + diaspora / 100_000.0) ** p["emigration_network_elasticity"]
    return model.emigration_base * sched.push[t] * network * (1.0 - sched.root_cause_reduction[t])


def poisson_quantile(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The smallest k whose Poisson(``mean``) CDF reaches ``u`` (0 < u < 1, mean > 0), element
    by element: what ``scipy.stats.poisson.ppf`` computes (a test holds them equal), without
    importing scipy, which would add 0.4 s to the start of every run."""
    return np.array([_poisson_quantile(float(q), float(m)) for q, m in zip(u, mean, strict=True)])


def _poisson_quantile(u: float, mean: float) -> float:
    """Sum the probabilities over a window of 12 standard deviations (and 12 more counts)
    each side of the mean, outside of which the mass (below 1e-30) cannot matter to a uniform
    drawn with 32 or 53 bits. Each log probability comes from its neighbour
    (log p(k) = log p(k-1) + log(mean / k)), so one log-gamma is computed per call."""
    half = 12.0 * math.sqrt(mean) + 12.0
    lo = max(0, math.floor(mean - half))
    k = np.arange(lo, math.ceil(mean + half) + 1, dtype=np.float64)
    steps = np.log(mean) - np.log(k[1:])
    first = lo * math.log(mean) - mean - math.lgamma(lo + 1.0)
    cdf = np.cumsum(np.exp(first + np.cumsum(np.concatenate(([0.0], steps)))))
    return float(lo + np.searchsorted(cdf, u, side="left"))


def emigrate(model) -> np.ndarray:
    """Create this month's would-be emigrants at their origins; return their row indices.

    They count as emigrants once they have a way out (``MigrationModel.step``)."""
    expected_agents = emigration_people(model) / model.scale
    u = np.array(
        [model.streams.event_uniform(model.month, PURPOSE_EMIGRATE, o) for o in range(len(ORIGINS))]
    )
    counts = np.where(
        expected_agents > 0, poisson_quantile(u, np.maximum(expected_agents, 1e-12)), 0
    )
    counts = counts.astype(np.int64)
    start = model.pop.n
    leaving = np.flatnonzero(counts)
    if len(leaving):
        # every origin's cohort in one append, origin by origin as the keys are laid out
        origin = np.repeat(leaving, counts[leaving])
        model.pop.add(
            len(origin),
            key=model.streams.cohort_keys(model.month, leaving, counts[leaving]),
            origin=origin,
            loc=ORIGIN_NODE.take(origin),
            status=TRANSIT,
            arrived=model.month,
        )
    return np.arange(start, model.pop.n)
