"""The parameters calibration fits, and a unit-cube view of them for optimisers and ABC.

``onward_gap_sensitivity`` (waves of onward movement, ODD 7.7) and ``beta_regularisation``
(the pull of a programme a newcomer could still qualify for) are free since the baseline
holds the US Temporary Protected Status for Haiti of 2021: its two months of pull
(2021-06..07) are what the 2021 Haitian Darién surge tests them on. Before, with no such
event in the fit, freeing the sensitivity from the defaults gave a worse optimum (loss
0.2455 against 0.2282) and no surge (12,300 crossings against 82,952).

Only parameters that the targets can inform are free; the others stay at their documented
or assumed defaults. Rates and volumes that span orders of magnitude are searched on a log
scale. ``host_attractiveness.USA`` is fixed: the per-origin ``us_preference`` terms already
carry the pull of the United States, and fitting both would make them unidentifiable.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import numpy as np

from migflow.model.errors import InputError
from migflow.model.parameters import SPEC_BY_NAME, Parameters

_FITTED_ORIGINS = ("VEN", "HTI", "CUB", "ECU", "COL", "NIC", "GTM", "HND", "SLV", "XCO")
_FITTED_HOSTS = ("COL", "PER", "ECU", "CHL", "BRA", "ARG", "PAN", "MEX")
FREE = (
    *(f"emigration_base.{o}" for o in _FITTED_ORIGINS),
    *(f"host_attractiveness.{h}" for h in _FITTED_HOSTS),
    *(f"us_preference.{o}" for o in _FITTED_ORIGINS),
    "beta_network",
    "beta_opportunity",
    "stay_utility",
    "stay_regularised_bonus",
    "darien_disutility",
    "onward_distance_factor",
    "onward_consider_hazard",
    "retry_hazard",
    "return_hazard",
    "programme_uptake",
    "beta_regularisation",
    "onward_gap_sensitivity",
    # the mechanisms the 2022-2023 record identifies (docs/calibration.md): substitution
    # between routes (the visas), deterrence by expulsion and travellers' reaction to it
    # (Oct-2022, Jan-2023), route information (the Venezuelan wave of 2022-2023)
    "route_nest_lambda",
    "beta_expulsion",
    "transit_news_sensitivity",
    "beta_route_information",
    # the same information at the US border: why Venezuelans, who could fly to Mexico
    # without a visa, came to the southwest border in numbers only from 2021
    "us_border_disutility",
    # what a flight costs against the road: the visas that closed flights (Ecuador's for
    # Cubans, Mexico's for Ecuadorians and Venezuelans) and the Venezuelans who did not fly
    # to Mexico before 2021 (US encounters FY2020-2021, the bound on those in the US)
    "air_km_equivalent",
    # deterrence by ordinary interdiction: Venezuelans, Cubans and Nicaraguans, released at
    # the US border from 2020-04 where others were turned back, came in numbers from 2021
    # (US encounters FY2020-2023, the bound on Venezuelans in the US)
    "beta_enforcement",
    # waiting for a parole place instead of travelling: the Jan-2023 parole package, after
    # which Cubans and Haitians in the Darién fell within months (monthly Darién crossings by
    # nationality 2022-2023)
    "pathway_wait_share",
    # waves: how sharply a route becomes known (the Venezuelan take-off of mid-2022 after a
    # trickle through 2021) and how strongly settled migrants react to news that moving on
    # became better or worse (the Haitian departures of mid-2021 and their end after the
    # expulsion flights; the Venezuelans' fall in Nov-2022 and return within months)
    "route_information_steepness",
    "onward_news_sensitivity",
    # what distance costs a new emigrant (onward movers pay onward_distance_factor of it):
    # the survey of Darién crossers of late 2023 says how many came from home and how many
    # from a host, which no count does
    "beta_distance",
    # how distance costs grow with length: the same survey, and the Venezuelans who in 2023
    # went from home to the Darién and beyond overland, a journey a cost linear in its
    # length puts out of a new emigrant's reach
    "distance_curvature",
    # what holds a settled migrant where they are against a step back towards home: the
    # split of Venezuelans among Colombia, Ecuador and Peru (UNHCR's stocks), which a cheap
    # onward road drifted north without it
    "onward_backtrack_disutility",
    # how slowly word of a relief at the US border spreads: Venezuelans, released there from
    # 2020-04, came in numbers only through 2021 (US encounters FY2020-2021)
    "relief_learning_rate",
    # emigrants with the means to go far at once: who crosses the Darién straight from home
    # (R4V's survey of late 2023), which the onward road alone could not give
    "resourced_share",
    # the pressure to leave northern Central America after Mexico's southern deployment of
    # 2019-06 and after the hurricanes of 2020-11: the three nationalities' US encounters fell
    # in FY2020 and nearly quadrupled in FY2021 (the baseline's fitted_push knots)
    "push_nca_lull",
    "push_nca_surge",
)  # fmt: skip
LOG_SCALE_PREFIXES = (
    "emigration_base", "onward_consider_hazard", "return_hazard", "programme_uptake",
)  # fmt: skip


@dataclass(frozen=True)
class ParameterSpace:
    names: tuple[str, ...] = FREE

    @property
    def lows(self) -> np.ndarray:
        return np.array([SPEC_BY_NAME[n].low for n in self.names])

    @property
    def highs(self) -> np.ndarray:
        return np.array([SPEC_BY_NAME[n].high for n in self.names])

    @property
    def log(self) -> np.ndarray:
        return np.array(
            [n.startswith(LOG_SCALE_PREFIXES) and SPEC_BY_NAME[n].low > 0 for n in self.names]
        )

    def to_values(self, unit: np.ndarray) -> dict[str, float]:
        """Unit-cube point -> parameter values (clipped to the cube)."""
        u = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        lo, hi, log = self.lows, self.highs, self.log
        linear = lo + u * (hi - lo)
        logged = np.exp(
            np.log(np.maximum(lo, 1e-12)) + u * (np.log(hi) - np.log(np.maximum(lo, 1e-12)))
        )
        values = np.where(log, logged, linear)
        return {n: float(v) for n, v in zip(self.names, values, strict=True)}

    def to_unit(self, values: dict[str, float]) -> np.ndarray:
        lo, hi, log = self.lows, self.highs, self.log
        values = {**self.defaults(), **values}  # a parameter new since the values were saved
        v = np.array([values[n] for n in self.names], dtype=float)
        lin = (v - lo) / (hi - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = (np.log(v) - np.log(np.maximum(lo, 1e-12))) / (
                np.log(hi) - np.log(np.maximum(lo, 1e-12))
            )
        return np.clip(np.where(log, lg, lin), 0.0, 1.0)

    def defaults(self) -> dict[str, float]:
        return {n: SPEC_BY_NAME[n].default for n in self.names}

    def select(self, patterns: tuple[str, ...]) -> ParameterSpace:
        """The free parameters that match any of ``patterns`` (names, or shell-style patterns
        such as ``us_preference.*``), in this space's order: a refit of some parameters with
        the others held (``migflow calibrate --search``). A pattern that matches none is
        refused, naming the free parameters, since a typo would silently search nothing."""
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(n, pattern) for n in self.names):
                raise InputError(
                    f"{pattern!r} matches no free parameter; they are {', '.join(self.names)}",
                    field="--search",
                )
        chosen = tuple(n for n in self.names if any(fnmatch.fnmatchcase(n, p) for p in patterns))
        return ParameterSpace(names=chosen)

    def parameters(self, values: dict[str, float], fixed: dict | None = None) -> Parameters:
        return Parameters({**(fixed or {}), **values})
