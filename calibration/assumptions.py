"""Lever parameters that no documented figure fits, each with the range it is assumed to lie in.

The calibration leaves these at their defaults: the 2015-2023 targets barely move with them
(they act through integration money, root-cause money and enforcement's side effect on the
Darién's danger, which history holds little of). A lever's effect rests on them all the same,
so every posterior draw also draws each of them from its range (``Posterior.draws``): the
intervals of ``migflow run --draws``, ``migflow compare --draws``, the app's bands and the
calibration report carry what is not known about them instead of hiding it at one value.

A range is an assumption, said as such in docs/levers.md; where a public figure bounds it, the
figure is named here. Ranges spanning a factor of more than two are drawn uniformly on a log
scale (a cost is as likely to be half as double); the others uniformly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from migflow.model.parameters import SPEC_BY_NAME


@dataclass(frozen=True)
class Assumption:
    name: str
    low: float
    high: float
    why: str

    @property
    def log_scale(self) -> bool:
        return self.low > 0 and self.high / self.low > 2

    def draw(self, u: np.ndarray) -> np.ndarray:
        """Values for uniform numbers ``u`` in [0, 1)."""
        if self.log_scale:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


ASSUMED: tuple[Assumption, ...] = (
    Assumption(
        "integration_cost_usd", 471.0, 3000.0,
        "Cost of serving one migrant. Low end: the 2022 Regional Refugee and Migrant Response "
        "Plan asked USD 1.79 billion for 3.8 million people targeted, USD 471 a person for every "
        "sector (https://2022.gho.unocha.org/venezuela-regional/); high end: twice the default.",
    ),
    Assumption(
        "integration_returns_musd", 50.0, 200.0,
        "Where integration money stops buying as much: assumed, half to twice the default.",
    ),
    Assumption(
        "integrated_uptake_factor", 1.0, 3.0,
        "How much integration services (legal help) raise the take-up of a regularisation "
        "programme: assumed, from none to three times.",
    ),
    Assumption(
        "return_integrated_factor", 0.25, 1.0,
        "Return rate of an integrated migrant against an irregular one: assumed, from a "
        "quarter to the same.",
    ),
    Assumption(
        "stay_integrated_bonus", 0.0, 2.0,
        "How much integration makes a migrant stay instead of moving on: assumed, from none to "
        "twice the default.",
    ),
    Assumption(
        "root_cause_max_reduction", 0.0, 0.3,
        "The largest cut in emigration root-cause money can buy: from none (the evidence "
        "that aid deters emigration is 'small at best', Clemens and Postel 2018, "
        "https://ideas.repec.org/p/iza/izapps/pp136.html) to the default 30%.",
    ),
    Assumption(
        "root_cause_half_musd", 1000.0, 4000.0,
        "Spending that buys half the largest cut: assumed, half to twice the default.",
    ),
    Assumption(
        "root_cause_lag_months", 12.0, 48.0,
        "Months before root-cause money acts: assumed, half to twice the default.",
    ),
    Assumption(
        "mortality_enforcement_factor", 0.0, 2.0,
        "How much enforcement raises the Darién's danger (riskier tracks): assumed, from not "
        "at all to twice the default.",
    ),
)  # fmt: skip
ASSUMPTION: dict[str, Assumption] = {a.name: a for a in ASSUMED}


def check_ranges() -> None:
    """Every range lies inside its parameter's allowed bounds and holds its default."""
    for a in ASSUMED:
        spec = SPEC_BY_NAME[a.name]
        assert spec.low <= a.low <= spec.default <= a.high <= spec.high, a.name


def draw_assumed(rng: np.random.Generator, k: int) -> list[dict[str, float]]:
    """``k`` sets of values of the assumed parameters, from ``rng``."""
    u = rng.random((k, len(ASSUMED)))
    columns = [a.draw(u[:, j]) for j, a in enumerate(ASSUMED)]
    return [{a.name: float(columns[j][i]) for j, a in enumerate(ASSUMED)} for i in range(k)]
