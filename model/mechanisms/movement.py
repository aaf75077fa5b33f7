"""Step 3: movement along routes, with interdiction and Darién mortality.

Migrants in transit spend a month's travel time along their path, crossing as many edges as
the time allows (overland speed is a parameter; flights take a tenth of a month). At the end
of each edge they meet that border's enforcement: an interdicted migrant is deported to the
origin (``deport_share``) or stranded where they were stopped, settling there irregularly if
it is a host (and returning otherwise); on an edge under an expulsion policy (US Title 42)
everyone interdicted is sent back across the border to the source country, stranded there
and free to try again. Enforcement can target nationalities (interdiction is per edge and
origin). Crossing the Darién can kill, at a probability raised by enforcement there (riskier
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
    EDGE_SRC,
    HOST_MASK,
    MAX_PATH_EDGES,
    ORIGIN_NODE,
    US_BORDER,
)
from ..population import IRREGULAR, STRANDED, TRANSIT
from ..random_streams import threshold
from . import PURPOSE_DEATH, PURPOSE_DEPORT, PURPOSE_INTERDICT
from .pathways import divert

_DARIEN = EDGE_INDEX[DARIEN]
_US_BORDER = EDGE_INDEX[US_BORDER]


def move(model) -> None:
    pop, paths, sched, t, month = model.pop, model.paths, model.schedule, model.t, model.month
    rows = np.flatnonzero(pop.status == TRANSIT)
    budget = np.ones(len(rows), dtype=np.float32)
    interdiction = sched.interdiction[t]
    death_thr = threshold(model.darien_death_probability())  # (O,)
    deport_thr = threshold(np.array([model.params["deport_share"]]))[0]
    for _ in range(MAX_PATH_EDGES + 1):
        if len(rows) == 0:
            break
        leg = pop.leg_left[rows]
        arrives = leg <= budget
        # those who do not reach the end of their edge this month travel on and stop
        go_on = ~arrives
        pop.leg_left[rows[go_on]] = leg[go_on] - budget[go_on]
        rows, budget = rows[arrives], budget[arrives] - leg[arrives]
        if len(rows) == 0:
            break
        path = pop.path[rows].astype(np.int64)
        hop = pop.hop[rows].astype(np.int64)
        edge = paths.edges[path, hop].astype(np.int64)
        origin = pop.origin[rows]
        keys = pop.key[rows]

        at_border = edge == _US_BORDER
        if at_border.any():
            model.recorder.events_at("us_border_arrival", EDGE_DST[_US_BORDER], origin[at_border])

        # one interdiction draw per (agent, month, edge position on the path)
        hop_keys = keys ^ (hop.astype(np.uint32) * np.uint32(0x9E3779B9))
        raw = model.streams.raw(hop_keys, month, PURPOSE_INTERDICT)
        stopped = raw < threshold(interdiction[edge, origin])
        dies = np.zeros(len(rows), dtype=bool)
        on_darien = (edge == _DARIEN) & ~stopped
        if on_darien.any():
            d_raw = model.streams.raw(keys[on_darien], month, PURPOSE_DEATH)
            dies[on_darien] = d_raw < death_thr[origin[on_darien]]

        if stopped.any():
            _interdicted(model, rows[stopped], edge[stopped], deport_thr)
        if dies.any():
            died = rows[dies]
            model.recorder.remove(model, died, "died", EDGE_DST[_DARIEN])
        crossed = ~stopped & ~dies
        rows, budget, edge, path, hop = (
            rows[crossed],
            budget[crossed],
            edge[crossed],
            path[crossed],
            hop[crossed],
        )
        model.recorder.flows(edge, pop.origin[rows])
        dst = EDGE_DST[edge]
        pop.loc[rows] = dst
        hop += 1
        pop.hop[rows] = hop
        done = hop >= paths.n_edges[path]
        if done.any():
            arrived = rows[done]
            pop.status[arrived] = IRREGULAR
            pop.path[arrived] = -1
            pop.arrived[arrived] = month
            model.recorder.events_at("arrived", pop.loc[arrived], pop.origin[arrived])
        rows, budget, path, hop = rows[~done], budget[~done], path[~done], hop[~done]
        rows, budget, path, hop = _referrals_on_the_way(model, rows, budget, path, hop)
        pop.leg_left[rows] = model.edge_months[paths.edges[path, hop]]


def _interdicted(model, rows: np.ndarray, edge: np.ndarray, deport_thr) -> None:
    pop = model.pop
    model.recorder.events_at("interdicted", EDGE_DST[edge], pop.origin[rows])
    src = EDGE_SRC[edge]
    deport = model.streams.raw(pop.key[rows], model.month, PURPOSE_DEPORT) < deport_thr
    deport |= ~HOST_MASK[src] | (src == ORIGIN_NODE[pop.origin[rows]])  # no host, or home
    # expelled across the border (Title 42): back to the source country, free to try again
    expelled = model.schedule.expulsion[model.t, edge, pop.origin[rows]]
    deport &= ~(expelled & HOST_MASK[src])
    stranded = rows[~deport]
    pop.status[stranded] = IRREGULAR
    pop.path[stranded] = -1
    pop.arrived[stranded] = model.month
    pop.loc[stranded] = src[~deport]
    pop.flags[stranded] = STRANDED
    model.recorder.events_at("stranded", src[~deport], pop.origin[stranded])
    gone = rows[deport]
    model.recorder.remove(model, gone, "deported", pop.loc[gone])


def _referrals_on_the_way(model, rows, budget, path, hop):
    """Migrants reaching a country with a Safe Mobility Office (a referral pathway) on their
    way to its destination may be referred there, up to its capacity."""
    referral = model.referral_countries
    at_office = referral[model.pop.loc[rows]] if referral.any() else np.zeros(len(rows), bool)
    if not at_office.any():
        return rows, budget, path, hop
    sub = np.flatnonzero(at_office)
    taken = divert(model, rows[sub], path[sub], at_origin=False)
    keep = np.ones(len(rows), dtype=bool)
    keep[sub[taken]] = False
    return rows[keep], budget[keep], path[keep], hop[keep]
