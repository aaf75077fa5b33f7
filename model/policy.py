"""Compile a scenario's levers into per-month arrays.

Mechanisms run on numpy arrays; reading pydantic objects every month would be slow and would
spread the meaning of a lever over the code. ``PolicySchedule`` turns each lever into one
array indexed by month (and country, edge or origin) once, before the run. Combination
rules: funding and capacities of overlapping entries add up; enforcement and asylum
processing time are states, so a later entry replaces an earlier one for the months it
covers (a policy scenario's entries come after the baseline's it extends).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar import parse_month
from .geography import CODES, EDGE_DST, EDGE_INDEX, EDGES, INDEX, ORIGIN_INDEX, ORIGINS
from .parameters import Parameters
from .population import GRANT_DTYPE
from .scenario import MAX_STATUS_GRANTS, Scenario

#: the grant number of the first pathway (programmes are numbered from 1)
PATHWAY_GRANTS = MAX_STATUS_GRANTS + 1

#: an interdiction at least this high closes an edge: nobody chooses a path across it
CLOSED = 0.999

# Lima ministerial 2022: asylum cases take "years" before the new system
DEFAULT_ASYLUM_MONTHS = 48.0


def _interpolate(knots: dict[str, float], months: np.ndarray, default: float) -> np.ndarray:
    if not knots:
        return np.full(months.shape, default)
    xs = np.array([parse_month(m) for m in knots], dtype=float)
    ys = np.array(list(knots.values()), dtype=float)
    order = np.argsort(xs)
    return np.interp(months, xs[order], ys[order])


def _push_knots(scenario: Scenario, origin: str, params: Parameters) -> dict[str, float]:
    """The origin's push knots, with the levels the calibration fits (``fitted_push``) read
    from the parameters."""
    fitted = scenario.fitted_push.get(origin, {})
    return {**scenario.push.get(origin, {}), **{m: params[n] for m, n in fitted.items()}}


def integration_served_per_year(funding_musd: float, params: Parameters) -> float:
    """People a year served by ``funding_musd`` $M a year of integration funding, with
    diminishing returns: the first dollars reach people at ``integration_cost_usd`` each, and
    the unit cost rises as funding grows (harder-to-reach people, absorption limits), so
    served = R * ln(1 + F / F0) with F0 = ``integration_returns_musd`` and R = F0 / unit cost."""
    f0 = params["integration_returns_musd"]
    return f0 * 1e6 / params["integration_cost_usd"] * np.log1p(funding_musd / f0)


@dataclass
class Programme:
    host: int
    origins: np.ndarray  # (O,) bool
    active: np.ndarray  # (T,) bool
    capacity: np.ndarray  # (T,) people per month
    cutoff: int  # arrival month index must be < cutoff (large if none)
    grant: int  # the status it gives, for its termination (``status_lapses``)
    exchanges: bool = False  # holders of an earlier status there may exchange it for this


@dataclass
class CompiledPathway:
    name: str
    kind: str
    origins: np.ndarray  # (O,) bool
    destination: int
    substitutes_for: int  # the irregular destination whose migrants apply
    capacity: np.ndarray  # (T,) people per month
    duration_months: int
    referral: np.ndarray  # (C,) bool; all False: applicants at origin
    cutoff: int = 10**6  # arrival month index (where they apply) must be < cutoff
    grant: int = 0  # the status it gives, for its termination (``status_lapses``)


@dataclass
class PolicySchedule:
    months: np.ndarray  # (T,) month indices
    push: np.ndarray  # (T, O)
    opportunity: np.ndarray  # (T, C)
    integration_funding_musd: np.ndarray  # (T, C) $M per month
    integration_capacity: np.ndarray  # (T, C) people served per month
    programmes: list[Programme]
    programme_open: np.ndarray  # (T, O, C) bool: a newcomer of O to C could still qualify
    pathways: list[CompiledPathway]
    # (T, C, O) bool: a referral pathway takes applicants of origin O in C (who may seek a
    # place even when the roads policy closes make moving on worth little, settlement.py)
    referral_origins: np.ndarray
    interdiction: np.ndarray  # (T, E, O)
    expulsion: np.ndarray  # (T, E, O) bool: the interdicted go back to the edge's source
    # the same without the closures (rows of interdiction >= CLOSED): the roads as they
    # would be if open, which decides who a legal pathway takes (mechanisms/choice.py)
    interdiction_if_open: np.ndarray  # (T, E, O)
    expulsion_if_open: np.ndarray  # (T, E, O)
    asylum_months: np.ndarray  # (T,)
    root_cause_musd: np.ndarray  # (T, O) $M spent per month
    root_cause_reduction: np.ndarray  # (T, O) share of emigration removed
    # month t -> the grants (``Programme.grant``, ``CompiledPathway.grant``) whose holders
    # become irregular that month: the terminations of a status (``status_ends``)
    status_lapses: dict[int, np.ndarray]

    def referral_open(self, t: int) -> np.ndarray:
        """(C,) bool: a referral pathway (a Safe Mobility Office) takes applicants in each
        country in month ``t``, whatever their origin."""
        return self.referral_origins[t].any(axis=1)

    def temporary_duration(self, t: int) -> np.ndarray:
        """Mean stay (months) of temporary pathways into each country in month ``t``,
        weighted by this month's places (a temporary pathway that has had places counts,
        with a vanishing weight, while it has none: those who came on it still leave; one
        that has not started yet does not count, so a future pathway cannot change the
        present)."""
        total, weight = np.zeros(len(CODES)), np.zeros(len(CODES))
        for pw in self.pathways:
            if pw.duration_months > 0 and pw.capacity[: t + 1].any():
                w = max(pw.capacity[t], 1e-9)
                total[pw.destination] += w * pw.duration_months
                weight[pw.destination] += w
        return np.where(weight > 0, total / np.maximum(weight, 1e-300), 0.0)

    @classmethod
    def compile(cls, scenario: Scenario, params: Parameters) -> PolicySchedule:
        months = np.arange(scenario.first_month, scenario.last_month + 1)
        n_t, n_c, n_o = len(months), len(CODES), len(ORIGINS)

        def span(lever) -> np.ndarray:
            lo = parse_month(lever.start)
            hi = scenario.last_month if lever.end is None else parse_month(lever.end)
            return (months >= lo) & (months <= hi)

        push = np.stack(
            [_interpolate(_push_knots(scenario, o, params), months, 1.0) for o in ORIGINS],
            axis=1,
        )
        opportunity = np.stack(
            [_interpolate(scenario.opportunity.get(c, {}), months, 1.0) for c in CODES], axis=1
        )

        funding = np.zeros((n_t, n_c))
        services = np.zeros((n_t, n_c))
        for lever in scenario.integration:
            on = span(lever)
            funding[on, INDEX[lever.host]] += lever.funding_musd_per_year / 12.0
            services[on, INDEX[lever.host]] += lever.services_per_month
        # diminishing returns apply to a host's total funding, however it is split
        capacity = integration_served_per_year(funding * 12.0, params) / 12.0 + services

        # every lever that gives a status gets a grant number, so that its holders can
        # lose it when it is terminated: programmes from 1 and pathways from
        # PATHWAY_GRANTS, each by its place in its list, so that a row added at the end of
        # one list renumbers nothing (0 is a status from ordinary channels, which no
        # termination touches)
        grants = {id(p): g for g, p in enumerate(scenario.regularisation, start=1)}
        grants |= {id(pw): g for g, pw in enumerate(scenario.pathways, start=PATHWAY_GRANTS)}
        levers = [*scenario.regularisation, *scenario.pathways]
        status_lapses: dict[int, list[int]] = {}
        for lever in levers:
            if lever.status_ends is not None:
                t = parse_month(lever.status_ends) - scenario.first_month
                if 0 <= t < n_t:
                    status_lapses.setdefault(t, []).append(grants[id(lever)])

        programmes, programme_open = [], np.zeros((n_t, n_o, n_c), dtype=bool)
        for prog in scenario.regularisation:
            on = span(prog)
            origins = np.array([o in prog.origins for o in ORIGINS])
            cutoff = 10**6 if prog.arrived_before is None else parse_month(prog.arrived_before)
            programmes.append(
                Programme(
                    INDEX[prog.host],
                    origins,
                    on,
                    on * prog.capacity_per_month,
                    cutoff,
                    grants[id(prog)],
                    prog.exchanges_permits,
                )
            )
            # the pull on newcomers holds only while a newcomer could still qualify
            attracts = on & (months < cutoff)
            programme_open[np.ix_(attracts, origins, [INDEX[prog.host]])] = True

        pathways = []
        for pw in scenario.pathways:
            pathways.append(
                CompiledPathway(
                    name=pw.name,
                    kind=pw.kind,
                    origins=np.array([o in pw.origins for o in ORIGINS]),
                    destination=INDEX[pw.destination],
                    substitutes_for=INDEX[pw.destination]
                    if INDEX[pw.destination] in EDGE_DST
                    else INDEX["USA"],
                    capacity=span(pw) * pw.capacity_per_year / 12.0,
                    duration_months=pw.duration_months,
                    referral=np.array([c in pw.referral_countries for c in CODES]),
                    cutoff=10**6 if pw.arrived_before is None else parse_month(pw.arrived_before),
                    grant=grants[id(pw)],
                )
            )

        referral_origins = np.zeros((n_t, n_c, n_o), dtype=bool)
        for pw in pathways:
            referral_origins |= (
                (pw.capacity > 0)[:, None, None] & pw.referral[None, :, None] & pw.origins
            )

        interdiction = np.zeros((2, n_t, len(EDGES), n_o))  # as set, and without closures
        expulsion = np.zeros((2, n_t, len(EDGES), n_o), dtype=bool)
        for lever in scenario.enforcement:
            who = [ORIGIN_INDEX[o] for o in (lever.origins or ORIGINS)]
            cells = np.ix_(span(lever), [EDGE_INDEX[lever.edge]], who)
            for k in (0, 1) if lever.interdiction < CLOSED else (0,):
                interdiction[k][cells] = lever.interdiction
                expulsion[k][cells] = lever.expulsion

        asylum = np.full(n_t, DEFAULT_ASYLUM_MONTHS)
        for lever in scenario.asylum:
            asylum[span(lever)] = lever.processing_months

        root = np.zeros((n_t, n_o))
        for lever in scenario.root_causes:
            root[span(lever), ORIGIN_INDEX[lever.origin]] += lever.funding_musd_per_year / 12.0
        lag = round(params["root_cause_lag_months"])
        cumulative = np.cumsum(root, axis=0)
        lagged = np.zeros_like(cumulative)
        if lag < n_t:
            lagged[lag:] = cumulative[: n_t - lag]
        half = params["root_cause_half_musd"]
        reduction = params["root_cause_max_reduction"] * lagged / (lagged + half)

        return cls(
            months=months,
            push=push,
            opportunity=opportunity,
            integration_funding_musd=funding,
            integration_capacity=capacity,
            programmes=programmes,
            programme_open=programme_open,
            pathways=pathways,
            referral_origins=referral_origins,
            interdiction=interdiction[0],
            expulsion=expulsion[0],
            interdiction_if_open=interdiction[1],
            expulsion_if_open=expulsion[1],
            asylum_months=asylum,
            root_cause_musd=root,
            root_cause_reduction=reduction,
            status_lapses={t: np.array(g, dtype=GRANT_DTYPE) for t, g in status_lapses.items()},
        )
