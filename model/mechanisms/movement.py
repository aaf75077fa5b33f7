"""Step 3: movement along routes, with interdiction and deaths on the way.

Migrants in transit spend a month's travel time along their path, crossing as many edges as
the time allows (overland speed is a parameter; flights take a tenth of a month). At the end
of each edge they meet that border's enforcement: an interdicted migrant is deported to the
origin (``deport_share``) or stranded where they were stopped, settling there irregularly if
it is a host (and returning otherwise); on an edge under an expulsion policy (US Title 42)
everyone interdicted is sent back across the border to the source country, stranded there
and free to try again. Enforcement can target nationalities (interdiction is per edge and
origin). Crossing the Darién, a Central American border, Mexico or the US border can kill
(``model.death_probability``), at a probability raised by enforcement there (riskier
tracks). Survivors are counted on the edge (Darién crossings
by nationality, as Panama's SNM counts them) and settle irregularly at the path's end.
Everyone who reaches the US border from Mexico is an arrival (a CBP encounter), whether
interdicted or not. Migrants reaching a country with a Safe Mobility Office on their way to
its destination may be referred to a legal pathway there.
"""

from __future__ import annotations

import numpy as np

from ..geography import (
    DARIEN,
    EDGE_DST,
    EDGE_INDEX,
    EDGE_IS_AIR,
    EDGE_KM,
    EDGE_SRC,
    HOST_MASK,
    MAX_PATH_EDGES,
    ORIGIN_NODE,
    US_BORDER,
)
from ..population import IRREGULAR, STRANDED, TRANSIT
from ..random_streams import GOLDEN64, threshold
from . import PURPOSE_DEATH, PURPOSE_DEPORT, PURPOSE_INTERDICT
from .pathways import divert

AIR_MONTHS = 0.1  # a flight, whatever its length
#: how long a migrant must have lived in a third country to count as coming from it, as the
#: only survey of the Darién's crossers asks ("had resided in another country for at least
#: six months", R4V protection monitoring, Oct-Dec 2023; calibration/data/targets.csv).
#: Counted from the arrival in that country to the crossing, so the road from there (a month
#: or two) counts as residence: a slight overcount.
THIRD_COUNTRY_MONTHS = 6
_DARIEN = EDGE_INDEX[DARIEN]
_US_BORDER = EDGE_INDEX[US_BORDER]


#: rows of the travellers' packed state in ``move``: one int64 array, so that the set of
#: travellers still in the loop is cut with one ``take`` rather than one per column
_ROW, _KEY, _ORIGIN, _PATH, _HOP, _AT, _EDGE = range(7)


def move(model) -> None:
    """Each migrant in transit travels this month's time along their path.

    Most travellers are midway along an edge and only count down its months, so that is
    all they cost. The columns of those who reach the end of an edge are gathered once
    into a short packed state (``_ROW``...: the keys kept bit for bit as int64), and each
    one's position is written back once, when they leave the loop (stopped for the month,
    interdicted, dead, arrived or referred). Paths are read through flat tables
    (``PathLookup``) and shrinking sets are cut by position (``_keep``): numpy's two-index
    and boolean-mask indexing cost twice as much."""
    pop, sched, t, month = model.pop, model.policy, model.t, model.month
    lookup = model.path_lookup
    rows = pop.rows_with_status(TRANSIT)
    leg = pop.leg_left[rows]
    budget = np.float32(1.0)  # months of travel left this month
    arrives = leg <= budget
    stop = np.flatnonzero(~arrives)
    pop.leg_left[rows[stop]] = leg[stop] - budget
    go = np.flatnonzero(arrives)
    rows, budget = rows[go], budget - leg[go]
    state = np.empty((7, len(rows)), dtype=np.int64)
    state[_ROW] = rows
    state[_KEY] = pop.key[rows].view(np.int64)
    state[_ORIGIN] = pop.origin[rows]
    state[_PATH] = pop.path[rows]
    state[_HOP] = pop.hop[rows]
    n_o = sched.interdiction.shape[2]
    stop_thr = threshold(sched.interdiction[t]).ravel()  # (edge, origin) flat
    death_p = model.death_probability()  # (E, O)
    risky = death_p.any(axis=1)  # (E,): edges where someone can die this month
    death_p = death_p.ravel()
    death_thr = threshold(death_p)
    deport_thr = threshold(np.array([model.params["deport_share"]]))[0]
    referral = sched.referral_open(t)  # (C,): where Safe Mobility Offices refer
    # every round, everyone in ``state`` is at the end of an edge: they try to cross it. A
    # round crosses one edge and no path has more than MAX_PATH_EDGES, so by the last round
    # everyone has left the loop (and had their position written).
    for _ in range(MAX_PATH_EDGES):
        if state.shape[1] == 0:
            break
        rows, keys, origin, path, hop, at, edge = state
        np.multiply(path, lookup.width, out=at)
        at += hop
        lookup.edges.take(at, out=edge)
        at_border = edge == _US_BORDER
        if at_border.any():
            model.recorder.events_at("us_border_arrival", EDGE_DST[_US_BORDER], origin[at_border])

        # one interdiction draw per (agent, month, edge position on the path)
        hop_keys = keys.view(np.uint64) ^ (hop.astype(np.uint64) * GOLDEN64)
        raw = model.streams.raw(hop_keys, month, PURPOSE_INTERDICT)
        cell = edge * n_o + origin
        stopped = raw < stop_thr.take(cell)
        crossed = ~stopped
        dead = None
        at_risk = risky.take(edge) & crossed
        if at_risk.any():
            where = np.flatnonzero(at_risk)
            cell = cell.take(where)
            model.recorder.expected_deaths(edge.take(where), origin.take(where),
                                           death_p.take(cell))  # fmt: skip
            # one death draw per (agent, month, edge position on the path), as interdiction
            d_raw = model.streams.raw(hop_keys.take(where), month, PURPOSE_DEATH)
            dead = where[d_raw < death_thr.take(cell)]

        if stopped.any():
            _interdicted(model, rows[stopped], edge[stopped], deport_thr)
        if dead is not None and len(dead):
            model.recorder.remove(model, rows.take(dead), "died", EDGE_DST[edge.take(dead)])
            crossed[dead] = False
        state, budget = _keep(crossed, state, budget)
        rows, keys, origin, path, hop, at, edge = state
        model.recorder.flows(edge, origin)
        on_darien = edge == _DARIEN
        if on_darien.any():  # who crossed the Darién having lived in a third country
            onward = lookup.nodes.take(path[on_darien] * lookup.width) != ORIGIN_NODE.take(
                origin[on_darien]
            )
            onward &= month - pop.arrived.take(rows[on_darien]) >= THIRD_COUNTRY_MONTHS
            model.recorder.events_at("darien_from_third_country", EDGE_DST[_DARIEN],
                                     origin[on_darien][onward])  # fmt: skip
        hop += 1
        at += 1
        done = lookup.edges.take(at) < 0
        if done.any():
            where = np.flatnonzero(done)
            arrived, loc = rows[where], EDGE_DST[edge[where]]
            _write_position(pop, arrived, loc, hop[where])
            pop.status[arrived] = IRREGULAR
            pop.path[arrived] = -1
            pop.arrived[arrived] = month
            model.recorder.events_at("arrived", loc, origin[where])
            state, budget = _keep(~done, state, budget)
            rows, keys, origin, path, hop, at, edge = state
        referred = _referrals_on_the_way(model, rows, path, hop, at, referral)
        if referred is not None:
            state, budget = _keep(~referred, state, budget)
            rows, keys, origin, path, hop, at, edge = state
        leg = lookup.months.take(at)
        arrives = leg <= budget
        stop = np.flatnonzero(~arrives)
        if len(stop):
            loc = lookup.nodes.take(at[stop])
            _write_position(pop, rows[stop], loc, hop[stop], leg[stop] - budget[stop])
            go = np.flatnonzero(arrives)
            budget = budget[go] - leg[go]
            state = state.take(go, axis=1)
        else:
            budget = budget - leg


class PathLookup:
    """The path table flattened for the movement step: entry ``path * width + hop`` holds
    the edge a traveller on ``path`` crosses next after ``hop`` edges (-1 at the end of the
    path), the country they are in, and the months that edge takes: overland, its length at
    ``travel_km_per_month``; a flight, ``AIR_MONTHS``."""

    def __init__(self, paths, travel_km_per_month: float):
        n_paths = len(paths.n_edges)
        self.width = MAX_PATH_EDGES + 1
        padded = np.full((n_paths, self.width), -1, dtype=np.int64)
        padded[:, :MAX_PATH_EDGES] = paths.edges
        self.edges = padded.ravel()
        self.nodes = paths.nodes.astype(np.int64).ravel()
        edge_months = np.where(EDGE_IS_AIR, AIR_MONTHS, EDGE_KM / travel_km_per_month)
        self.months = np.where(self.edges >= 0, edge_months[self.edges], np.inf)

    def first_leg(self, path_ids: np.ndarray) -> np.ndarray:
        """Months of the first edge of each path (a journey's first leg)."""
        return self.months.take(np.asarray(path_ids, dtype=np.int64) * self.width)


def _keep(mask, state, budget):
    """The travellers of the packed ``state`` (columns) and ``budget`` where ``mask``
    holds (positions found once)."""
    keep = np.flatnonzero(mask)
    if len(keep) == len(mask):
        return state, budget
    return state.take(keep, axis=1), budget.take(keep)


def _write_position(pop, rows, loc, hop, leg=None) -> None:
    """Write travellers' position (country, edges crossed, months left on the edge)."""
    pop.loc[rows] = loc
    pop.hop[rows] = hop
    if leg is not None:
        pop.leg_left[rows] = leg


def _interdicted(model, rows: np.ndarray, edge: np.ndarray, deport_thr) -> None:
    pop = model.pop
    model.recorder.events_at("interdicted", EDGE_DST[edge], pop.origin[rows])
    src = EDGE_SRC[edge]  # where they were stopped: the country they are in
    deport = model.streams.raw(pop.key[rows], model.month, PURPOSE_DEPORT) < deport_thr
    deport |= ~HOST_MASK[src] | (src == ORIGIN_NODE[pop.origin[rows]])  # no host, or home
    # expelled across the border (Title 42): back to the source country, free to try again
    expelled = model.policy.expulsion[model.t, edge, pop.origin[rows]]
    deport &= ~(expelled & HOST_MASK[src])
    stranded = rows[~deport]
    pop.status[stranded] = IRREGULAR
    pop.path[stranded] = -1
    pop.arrived[stranded] = model.month
    pop.loc[stranded] = src[~deport]
    pop.flags[stranded] = STRANDED
    model.recorder.events_at("stranded", src[~deport], pop.origin[stranded])
    model.recorder.remove(model, rows[deport], "deported", src[deport])
    model.recorder.removals(edge[deport])


def _referrals_on_the_way(model, rows, path, hop, at, referral):
    """Migrants reaching a country with a Safe Mobility Office (a referral pathway) on their
    way to its destination may be referred there, up to its capacity. Returns a mask over
    ``rows`` of those referred, or None when nobody is at an office. ``referral``: where an
    office refers this month, (C,), read once a month in ``move``."""
    if not referral.any() or len(rows) == 0:
        return None
    loc = model.path_lookup.nodes.take(at)
    sub = np.flatnonzero(referral[loc])
    if len(sub) == 0:
        return None
    _write_position(model.pop, rows[sub], loc[sub], hop[sub])  # divert reads where they are
    referred = np.zeros(len(rows), dtype=bool)
    referred[sub] = divert(model, rows[sub], path[sub], at_origin=False)[0]
    return referred
