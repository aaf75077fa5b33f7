"""The model's mechanism parameters: one typed place, with defaults, ranges and meanings.

Scenario files set *levers* (policy); parameters describe *behaviour* (how strongly people
respond to distance, networks, enforcement...). Calibration fits parameters within their
ranges; a scenario may override any of them under ``[parameters]``.

Defaults are starting values for calibration, not findings. Where a default is derived from a
documented figure, its ``doc`` says which; the others are stated as assumptions. Per-country
parameters are named ``name.CODE`` (e.g. ``emigration_base.VEN``), so a parameter set is a flat
mapping that sweeps, calibration and manifests can handle without special cases.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .geography import HOSTS, ORIGINS


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: default, plausible range (for calibration and sweeps), unit, meaning."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    doc: str


#: the unit of the parameters that set a knot of a push trajectory (``fitted_push`` in a
#: scenario): the calibration fits a level the record implies but no indicator measures
PUSH_LEVEL_UNIT = "push index"


def _per(
    prefix: str, codes: Iterable[str], values: Mapping[str, float], low, high, unit, doc
) -> list[ParameterSpec]:
    specs = []
    for code in codes:
        default = values.get(code, values.get("*", 0.0))
        lo = low(default) if callable(low) else low
        hi = high(default) if callable(high) else high
        specs.append(ParameterSpec(f"{prefix}.{code}", default, lo, hi, unit, doc))
    return specs


_EMIGRATION_BASE = {
    # People leaving per month when the origin's push index is 1.0. Starting values, fitted
    # by calibration. VEN: UNHCR/IOM counted 3.0 M Venezuelans abroad in 2018-11 and over
    # 4 M by mid-2019 (R4V platform snapshots, as reported in the press): ~140,000 a month.
    "VEN": 140_000.0,
    # Others: order-of-magnitude starting points from the FY2021 US southwest-border
    # encounters by nationality (US CBP) divided by 12 and halved for repeat encounters.
    # Assumptions until calibrated.
    "HTI": 4_000.0,
    "CUB": 1_600.0,
    "ECU": 4_000.0,
    # COL: between FY2021 (6,202) and FY2022 (125,172) Colombian encounters (US CBP), the
    # geometric mean over 12 months: 2,300 (assumption until calibrated).
    "COL": 2_300.0,
    "NIC": 2_000.0,
    "GTM": 12_000.0,
    "HND": 13_000.0,
    "SLV": 4_000.0,
    # XCO: the Darién "other" crossings of 2021-2023 (Panama SNM: 28,799, 35,141 and 67,798)
    # average 3,660 a month; fits from a start of 500 ended at the top of its range
    "XCO": 3_700.0,
}

# Canada is reached only by legal pathways (no path ends there), so its value is unused.
_HOST_ATTRACTIVENESS = {"*": 0.0, "USA": 1.5, "COL": 0.5, "PER": 0.5}

# Deaths per crossing on the segments after the Darién (model/geography.py SEGMENT_EDGES):
# IOM Missing Migrants Project counts of dead and missing (a minimum) over US CBP southwest
# border encounters (an upper bound on crossings: repeat attempts count twice), so both
# factors err low. Figures and their releases: docs/evidence_2022_2023.md, section 1.
_SEGMENT_MORTALITY = (
    ("central_america_mexico", "isthmus and Mexico (IOM's Central America region)", 3.6e-4,
     "Default: IOM's 165 (2020), 324 (2021) and 591 (2023) dead or missing in its Central "
     "America region over the 2,997,805 encounters of other nationalities than Mexican at "
     "the US southwest border in FY2020, 2021 and 2023 (US CBP)."),
    ("us_border", "US-Mexico border", 4.1e-4,
     "Default: IOM's 3,493 dead or missing on the US-Mexico border crossing 2018-2023 "
     "(442, 524, 476, 729, 686, 636) over the 8,545,986 US southwest border encounters of "
     "FY2018-2023 (US CBP)."),
)  # fmt: skip

SPECS: tuple[ParameterSpec, ...] = tuple(
    [
        *_per(
            "emigration_base",
            ORIGINS,
            _EMIGRATION_BASE,
            lambda d: d / 10,
            lambda d: d * 5,
            "people/month",
            "Emigrants per month from this origin when its push index is 1.0.",
        ),
        ParameterSpec(
            "emigration_network_elasticity",
            0.1,
            0.0,
            0.5,
            "exponent",
            "How much a larger diaspora abroad (people of the same origin in the hosts) raises "
            "emigration: the hazard is multiplied by (1 + diaspora/100,000) ** elasticity.",
        ),
        *_per(
            "host_attractiveness",
            HOSTS,
            _HOST_ATTRACTIVENESS,
            -5.0,
            5.0,
            "utility",
            "Fixed attractiveness of this host in destination choice (wages, language, "
            "visa rules not modelled explicitly). Canada is reached only by legal pathways.",
        ),
        *_per(
            "us_preference",
            ORIGINS,
            {"*": 0.0},
            -4.0,
            8.0,
            "utility",
            "Extra pull of the United States for this origin's migrants (family networks "
            "from before the model window, status rules such as the Cuban Adjustment Act).",
        ),
        ParameterSpec(
            "us_border_disutility",
            0.0,
            0.0,
            10.0,
            "utility",
            "Cost of crossing into the United States between ports, for a nationality that "
            "has not yet done it in numbers: not knowing the way, whom to pay or what "
            "happens after. Recent crossings by one's own nationality take it away "
            "(route information), down to nothing.",
        ),
        ParameterSpec(
            "darien_disutility",
            2.0,
            0.0,
            10.0,
            "utility",
            "Cost of a path through the Darién beyond its distance and measured mortality: "
            "fear, smugglers' fees, the days in the jungle.",
        ),
        ParameterSpec(
            "beta_distance",
            0.6,
            0.05,
            3.0,
            "utility per 1000 km",
            "Disutility of overland distance on the chosen path (cost and hardship of travel).",
        ),
        ParameterSpec(
            "distance_curvature",
            1.0,
            0.0,
            1.0,
            "exponent",
            "How the cost of a journey grows with its length (flights counted at "
            "air_km_equivalent each): beta_distance x ((1 + km/1000) ** this - 1) / this, "
            "ln(1 + km/1000) at 0. 1 = in proportion to the distance; below 1, each further "
            "thousand km costs less than the one before, as gravity models of migration find "
            "with log distance: the fixed costs of leaving (documents, a smuggler, the first "
            "border) weigh more than the road's length.",
        ),
        ParameterSpec(
            "onward_distance_factor",
            0.5,
            0.01,
            1.0,
            "multiplier",
            "Overland distance weighs this much less for a migrant moving on from a host than "
            "for a new emigrant: savings and information gathered while settled stand in for "
            "resources (why Haitians settled in Chile and Brazil later went north). Flights "
            "cost everyone the same.",
        ),
        ParameterSpec(
            "resourced_share",
            0.0,
            0.0,
            1.0,
            "share of new emigrants",
            "Share of new emigrants who leave with the means to go far at once (savings, a "
            "smuggler paid ahead, family abroad): their road weighs as little as a settled "
            "migrant's moving on (onward_distance_factor), so some go straight north. R4V's "
            "survey of the Darien's crossers, Oct-Dec 2023: 61% had not lived six months or "
            "more in another country first.",
        ),
        ParameterSpec(
            "onward_backtrack_disutility",
            0.0,
            0.0,
            10.0,
            "utility",
            "What a step back the way one came costs a migrant moving on from a host: a "
            "path that ends nearer their own country than where they live (Peru to Ecuador "
            "or Colombia, for a Venezuelan). The journey there was paid for, the job and "
            "papers are where they are, and nothing at the end is new: the onward moves "
            "documented for 2018-2023 went south or north through the Darien, not back.",
        ),
        ParameterSpec(
            "air_km_equivalent",
            1500.0,
            200.0,
            5000.0,
            "km",
            "Cost of one flight in choice, in overland-km equivalents (ticket, visa, savings).",
        ),
        ParameterSpec(
            "beta_network",
            0.35,
            0.0,
            1.5,
            "utility per ln(1 + stock/1000)",
            "Pull of a host's diaspora of the migrant's own origin (information, housing, jobs).",
        ),
        ParameterSpec(
            "beta_opportunity",
            1.0,
            0.0,
            4.0,
            "utility per unit index",
            "Pull of the host's economic opportunity index (scenario time series, 1 = normal).",
        ),
        ParameterSpec(
            "beta_regularisation",
            0.5,
            0.0,
            3.0,
            "utility",
            "Pull of a host where a regularisation programme is open to the migrant's origin.",
        ),
        ParameterSpec(
            "beta_enforcement",
            3.0,
            0.0,
            10.0,
            "utility per unit probability",
            "Deterrence: disutility per unit of interdiction probability summed along a path.",
        ),
        ParameterSpec(
            "beta_expulsion",
            1.0,
            0.0,
            10.0,
            "utility per unit probability",
            "Deterrence of an expected expulsion: disutility per unit of the probability of "
            "being expelled (US Title 42) at a border on the path, for the migrant's "
            "nationality that month. An expulsion carries no legal penalty, but it ends the "
            "journey where it was paid for; the Oct-2022 expulsions of Venezuelans and the "
            "Jan-2023 package for Cubans, Haitians and Nicaraguans inform it.",
        ),
        ParameterSpec(
            "relief_learning_rate",
            1.0,
            0.01,
            1.0,
            "share per month",
            "How fast word of a relief at the US border spreads: each month, the share of "
            "the gap closed between the deterrent migrants of a nationality believe the "
            "border holds (interdiction, expulsion) and the one it holds, when it got "
            "better; a tightening is believed at once. 1 = at once. Venezuelans, released at "
            "the border from 2020-04, came in numbers only through 2021 (295 in January, "
            "7,484 in May; AP).",
        ),
        ParameterSpec(
            "push_nca_lull",
            1.0,
            0.2,
            2.0,
            PUSH_LEVEL_UNIT,
            "Pressure to leave Guatemala, Honduras and El Salvador from 2019-09 to 2020-03, "
            "after Mexico deployed its National Guard to its southern border (2019-06) and "
            "before COVID-19 (1.0 = the level of 2019-06; fitted to the three nationalities' "
            "US encounters of FY2020). A knot of the baseline's push trajectories.",
        ),
        ParameterSpec(
            "push_nca_surge",
            1.3,
            0.5,
            3.0,
            PUSH_LEVEL_UNIT,
            "Pressure to leave Guatemala, Honduras and El Salvador from 2020-12 to 2021-07, "
            "after hurricanes Eta and Iota (2020-11) and the pandemic's slump (1.0 = the "
            "level of 2019-06; fitted to the three nationalities' US encounters of FY2021). "
            "A knot of the baseline's push trajectories.",
        ),
        ParameterSpec(
            "route_nest_lambda",
            0.5,
            0.1,
            1.0,
            "dissimilarity",
            "Nested logit: how alike the routes to one destination are (1 = unrelated "
            "alternatives, a flat logit; towards 0, routes are near-perfect substitutes). "
            "Below 1, closing or taxing one route sends its users mostly to the other routes "
            "to the same destination (a visa that closes a flight moves people onto land).",
        ),
        ParameterSpec(
            "beta_route_information",
            0.3,
            0.0,
            2.0,
            "utility per ln(1 + (crossings/1000 a month) ** steepness)",
            "Route information (cumulative causation): recent crossings of the Darién, and "
            "of the US border, by the migrant's own nationality (the busiest of the last "
            "twelve months) lower that crossing's perceived cost by this times ln(1 + "
            "(crossings per month / 1000) ** route_information_steepness): guides, "
            "smugglers' offers and the news of those who made it.",
        ),
        ParameterSpec(
            "route_information_steepness",
            1.0,
            1.0,
            3.0,
            "exponent",
            "How sharply route information takes off with the crossings of one's own "
            "nationality: the information is beta_route_information x ln(1 + (crossings per "
            "month / 1000) ** this). 1 = a route becomes known in proportion to its first "
            "crossings; above 1, a few hundred crossings a month teach little and thousands "
            "teach much (a tipping point, as in the Venezuelan wave of 2022).",
        ),
        ParameterSpec(
            "transit_news_sensitivity",
            1.0,
            0.0,
            5.0,
            "per unit utility",
            "How readily a migrant on the way re-chooses when news makes their path worse: "
            "probability 1 - exp(-this x the utility lost since last month). 0 = travellers "
            "never change plans (mechanisms/news.py).",
        ),
        ParameterSpec(
            "beta_risk",
            300.0,
            0.0,
            3000.0,
            "utility per unit probability",
            "Disutility per unit of death probability along a path (the Darién).",
        ),
        ParameterSpec(
            "onward_consider_hazard",
            0.01,
            0.0005,
            0.08,
            "per month",
            "Monthly probability that a settled migrant reconsiders where to live when "
            "moving on is worth as much as staying (the logsum of their onward paths equals "
            "their utility of staying); the reconsideration is a logit choice between staying "
            "and every onward path.",
        ),
        ParameterSpec(
            "onward_gap_sensitivity",
            0.0,
            0.0,
            3.0,
            "per unit utility",
            "How much the reconsideration hazard rises with the gap between moving on (logsum "
            "of onward paths) and staying: logit(hazard) = logit(onward_consider_hazard) + "
            "this x gap. 0 = a constant hazard. Lets worse conditions where migrants live, or "
            "better ones elsewhere, set off waves of onward movement.",
        ),
        ParameterSpec(
            "onward_news_sensitivity",
            0.0,
            0.0,
            3.0,
            "per unit utility",
            "How much the reconsideration hazard rises with a change in that gap against "
            "what migrants had come to expect (its average over about a year): logit(hazard) "
            "gains this x (gap - expected gap). 0 = only the gap's level counts. News that "
            "moving on became better (a protection status abroad, a border that opens, a "
            "route that became known) sets off a wave that fades as it becomes the norm.",
        ),
        ParameterSpec(
            "retry_hazard",
            0.3,
            0.0,
            0.9,
            "per month",
            "Monthly probability that a migrant stranded at a border (stopped and not "
            "deported) reconsiders, usually to try again: the source of repeat encounters.",
        ),
        ParameterSpec(
            "stay_utility",
            2.5,
            0.0,
            8.0,
            "utility",
            "Utility of staying put for a migrant reconsidering (costs of moving again).",
        ),
        ParameterSpec(
            "stay_regularised_bonus",
            1.0,
            0.0,
            4.0,
            "utility",
            "Extra utility of staying for a migrant with regular status.",
        ),
        ParameterSpec(
            "stay_integrated_bonus",
            1.0,
            0.0,
            4.0,
            "utility",
            "Extra utility of staying for a migrant who received integration services.",
        ),
        ParameterSpec(
            "travel_km_per_month",
            2500.0,
            800.0,
            6000.0,
            "km/month",
            "Overland travel speed, including waits (e.g. at Necoclí before the Darién).",
        ),
        ParameterSpec(
            "darien_mortality",
            51 / 133_726,
            0.0,
            0.005,
            "probability per crossing",
            "Probability of dying or going missing in one Darién crossing. Default: 51 deaths "
            "reported for 2021 (Blinken in Panama, 2022: 'official figures') over 133,726 "
            "crossings in 2021 "
            "(Panama SNM, annual Darién crossings by nationality).",
        ),
        *(
            ParameterSpec(
                f"mortality_{segment}",
                default,
                0.0,
                0.005,
                "probability per crossing",
                f"Probability of dying or going missing in one crossing of the {where}. " + source,
            )
            for segment, where, default, source in _SEGMENT_MORTALITY
        ),
        ParameterSpec(
            "mortality_enforcement_factor",
            1.0,
            0.0,
            5.0,
            "per unit interdiction",
            "Enforcement pushes migrants onto riskier tracks: Darién mortality is multiplied "
            "by (1 + factor x interdiction probability on the edge).",
        ),
        ParameterSpec(
            "deport_share",
            0.5,
            0.0,
            1.0,
            "share",
            "Share of interdicted migrants deported to their origin; the rest are stranded "
            "and settle irregularly where they were stopped (or are deported, if that country "
            "is no host or is their own). Both are recorded where they were stopped.",
        ),
        ParameterSpec(
            "return_hazard",
            0.002,
            0.0,
            0.02,
            "per month",
            "Monthly probability that an irregular migrant in a host returns to the origin.",
        ),
        ParameterSpec(
            "return_regularised_factor",
            0.5,
            0.0,
            1.0,
            "multiplier",
            "Return hazard of a regularised migrant relative to an irregular one.",
        ),
        ParameterSpec(
            "return_integrated_factor",
            0.5,
            0.0,
            1.0,
            "multiplier",
            "Return hazard of a migrant who received integration services, relative.",
        ),
        ParameterSpec(
            "ordinary_regularisation_hazard",
            0.004,
            0.0,
            0.03,
            "per month",
            "Monthly probability of regularising through ordinary channels (no programme).",
        ),
        ParameterSpec(
            "programme_uptake",
            0.08,
            0.01,
            0.5,
            "per month",
            "Monthly probability that an eligible irregular migrant applies to an open "
            "regularisation programme (capacity permitting).",
        ),
        ParameterSpec(
            "pathway_wait_share",
            0.0,
            0.0,
            1.0,
            "share per month",
            "Of the migrants who choose a destination a legal pathway open to them serves "
            "(at home, or where they live abroad) and get no place on it this month, the "
            "share who wait for one instead of travelling irregularly; the others go. 0 = "
            "nobody waits: a pathway only ever moves the people it has places for.",
        ),
        ParameterSpec(
            "integrated_uptake_factor",
            2.0,
            1.0,
            5.0,
            "multiplier",
            "Integration services (legal assistance) multiply programme uptake by this.",
        ),
        ParameterSpec(
            "integration_cost_usd",
            1500.0,
            300.0,
            10_000.0,
            "USD per person",
            "Cost of serving one migrant with the first dollars of integration funding "
            "(assumption: no cost per person is documented in the seeds); the cost rises with "
            "funding, see integration_returns_musd.",
        ),
        ParameterSpec(
            "integration_returns_musd",
            100.0,
            10.0,
            2000.0,
            "$M per year",
            "Diminishing returns of integration funding in one host: F $M a year serve "
            "F0 * ln(1 + F/F0) / cost people, F0 being this parameter (assumption: the seeds "
            "give no cost curve). Near zero funding each dollar reaches integration_cost_usd.",
        ),
        ParameterSpec(
            "asylum_grant_rate",
            0.35,
            0.05,
            0.9,
            "share",
            "Share of asylum cases at the US granted (the rest are removed when decided).",
        ),
        ParameterSpec(
            "root_cause_max_reduction",
            0.3,
            0.0,
            0.8,
            "share",
            "Largest possible reduction of an origin's emigration by root-cause spending.",
        ),
        ParameterSpec(
            "root_cause_half_musd",
            2000.0,
            100.0,
            20_000.0,
            "$M cumulative",
            "Cumulative root-cause spending at which half the largest reduction is reached "
            "(diminishing returns).",
        ),
        ParameterSpec(
            "root_cause_lag_months",
            24.0,
            0.0,
            96.0,
            "months",
            "Delay before root-cause spending reduces emigration.",
        ),
    ]
)

SPEC_BY_NAME: dict[str, ParameterSpec] = {s.name: s for s in SPECS}
#: parameters a scenario's ``fitted_push`` knots may name
PUSH_LEVELS: tuple[str, ...] = tuple(s.name for s in SPECS if s.unit == PUSH_LEVEL_UNIT)


def mortality_name(segment: str) -> str:
    """The parameter holding one segment's death probability per crossing (the Darién's
    keeps its older name, which scenario files and fits use)."""
    return "darien_mortality" if segment == "darien" else f"mortality_{segment}"


def parameter_problem(name: str, value: float) -> str | None:
    """Why ``value`` cannot be parameter ``name``, or None if it can (scenario files and
    calibration starting points are checked alike)."""
    spec = SPEC_BY_NAME.get(name)
    if spec is None:
        return f"unknown parameter {name!r}; see docs/scenarios.md for the list"
    if not spec.low <= value <= spec.high:
        return f"parameter {name} = {value} is outside its range; allowed {spec.low}..{spec.high}"
    return None


class Parameters(Mapping[str, float]):
    """An immutable, validated parameter set (defaults plus overrides)."""

    def __init__(self, overrides: Mapping[str, float] | None = None):
        values = {s.name: float(s.default) for s in SPECS}
        for name, value in (overrides or {}).items():
            if name not in SPEC_BY_NAME:
                raise KeyError(name)
            values[name] = float(value)
        self._values = values

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def vector(self, prefix: str, codes: Iterable[str]) -> np.ndarray:
        """The per-country parameter ``prefix.CODE`` for each code, as an array."""
        return np.array([self._values[f"{prefix}.{c}"] for c in codes], dtype=np.float64)

    def changed(self) -> dict[str, float]:
        """Only the values that differ from the defaults (for manifests)."""
        return {k: v for k, v in self._values.items() if v != SPEC_BY_NAME[k].default}

    def as_dict(self) -> dict[str, float]:
        return dict(self._values)


#: The calibrated point estimate shipped with the package (written by ``migflow calibrate``).
CALIBRATED_POINT = (
    Path(__file__).resolve().parent.parent / "calibration" / "posterior" / "point.json"
)


@lru_cache(maxsize=1)
def calibrated_point() -> dict[str, float]:
    """The shipped calibrated values, or {} if no calibration has been shipped."""
    if not CALIBRATED_POINT.is_file():
        return {}
    values = json.loads(CALIBRATED_POINT.read_text())["parameters"]
    return {k: float(v) for k, v in values.items() if k in SPEC_BY_NAME}


def calibrated_draws(k: int, seed: int) -> list[dict[str, float]]:
    """``k`` rows of the shipped posterior ensemble (``ensemble.csv`` beside the point),
    drawn by weight with replacement, reproducibly by ``seed``; [] if none is shipped.
    Only the fitted parameters: the calibration's own draws (``calibration.posterior``) add
    the assumed lever parameters, which a sweep varies as its inputs instead."""
    ensemble = CALIBRATED_POINT.with_name("ensemble.csv")
    if not ensemble.is_file():
        return []
    import numpy as np
    import pandas as pd

    table = pd.read_csv(ensemble)
    weights = table.pop("weight").to_numpy(dtype=float)
    rows = np.random.default_rng(seed).choice(len(table), size=k, p=weights / weights.sum())
    names = [n for n in table.columns if n in SPEC_BY_NAME]
    return [{n: float(table.iloc[r][n]) for n in names} for r in rows]


def default_parameters(overrides: Mapping[str, float] | None = None) -> Parameters:
    """The embedded default: calibrated values where shipped, then the scenario's overrides."""
    return Parameters({**calibrated_point(), **(overrides or {})})


def parameter_source() -> str:
    return "calibrated (calibration/posterior)" if calibrated_point() else "uncalibrated defaults"
