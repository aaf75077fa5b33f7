"""Legal pathways: labour visas, parole, resettlement, Safe Mobility referrals.

A pathway moves eligible migrants to its destination without the irregular route, up to its
capacity. Applicants are the migrants who want to reach the pathway's destination (for a
destination with no irregular route, such as Canada: the United States): would-be emigrants at
the origin whose choice would end there were the roads policy closes open (the caller passes
``choice.chosen_if_open``), or, for pathways with referral countries (Safe Mobility Offices),
migrants settled there who, reconsidering where to live, would go there were its roads open
(the same counterfactual), and migrants passing through on a road that ends there. Appointments
at the US ports (CBP One), which only those who reach Mexico can use, also change what awaits
a migrant at the end of the road, and so draw people up it (``appointment_chance``). Who gets
a slot is decided by each migrant's own priority draw, so more capacity only ever adds people to the
set served (common random numbers). Temporary pathways (labour visas) return people to their
origin after ``duration_months`` on average.
"""

from __future__ import annotations

import numpy as np

from ..geography import EDGE_INDEX, EDGE_SRC, INDEX, ORIGIN_NODE, ORIGINS, US_BORDER
from ..population import REGULARISED, TEMPORARY, TRANSIT
from ..random_streams import threshold
from ..recorder import KIND_INDEX
from . import PURPOSE_PATHWAY, PURPOSE_WAIT

_USA = INDEX["USA"]
_PORTS = EDGE_SRC[EDGE_INDEX[US_BORDER]]  # the country from which the US border is crossed


def divert(
    model,
    rows: np.ndarray,
    chosen: np.ndarray,
    at_origin: bool,
    may_wait: bool | np.ndarray = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Move applicants among ``rows`` (with chosen paths ``chosen``) onto pathways.

    A pathway takes applicants where it is open to them: with ``referral`` countries, those
    who are in one of them (an origin listed there takes would-be emigrants at home); with
    none, would-be emigrants at home only. Returns two boolean masks over ``rows``: who
    left by a legal pathway, and, when ``may_wait``, who was eligible for a pathway open
    this month, got no place and waits for one instead of travelling irregularly
    (``_waiting``; one draw per migrant and month, so that more places only ever turn
    travellers into waiters or the served). ``may_wait`` is one flag for all, or a mask
    over ``rows``: a migrant who would stay where they are anyway has nothing to wait
    instead of."""
    pop, sched, t = model.pop, model.policy, model.t
    taken = np.zeros(len(rows), dtype=bool)
    chance = np.zeros(len(rows))  # of a place, on the best pathway open to each
    if len(rows) == 0:
        return taken, taken.copy()
    ends = np.where(chosen >= 0, model.paths.end[np.maximum(chosen, 0)], -1)
    where_referred = pop.loc[rows]  # before any move: where each applicant is
    # and since when: a cut-off counts arrival in the country where they apply; those
    # passing through arrive this month, and none applies to people at home
    arrived = np.where(pop.status[rows] == TRANSIT, model.month, pop.arrived[rows])
    at_home = where_referred == ORIGIN_NODE[pop.origin[rows]]
    # the chance of a place matters only to those who may wait for one
    may_wait = np.broadcast_to(np.asarray(may_wait, dtype=bool), (len(rows),))
    need_chance = may_wait.any() and model.params["pathway_wait_share"] > 0.0
    for k in model.pathways_with_places:
        pw, slots = sched.pathways[k], model.pathway_slots[k]
        if slots == 0 and not need_chance:
            continue
        if pw.referral.any():
            # in a referral country, and there since before the pathway's cut-off if any
            here = pw.referral[where_referred] & (at_home | (arrived < pw.cutoff))
        elif at_origin:
            here = np.ones(len(rows), dtype=bool)
        else:
            continue
        eligible = ~taken & here & (ends == pw.substitutes_for) & pw.origins[pop.origin[rows]]
        cand = np.flatnonzero(eligible)
        if len(cand) == 0:
            continue
        if need_chance:
            places = pw.capacity[t] / model.scale  # this month's, in agents
            chance[cand] = np.maximum(chance[cand], min(places / len(cand), 1.0))
        if slots == 0:
            continue
        if len(cand) > slots:
            priority = model.streams.raw(pop.key[rows[cand]], model.month, PURPOSE_PATHWAY, k)
            cand = cand[np.argsort(priority, kind="stable")[:slots]]
        model.pathway_slots[k] -= len(cand)
        taken[cand] = True
        moved = rows[cand]
        pop.loc[moved] = pw.destination
        pop.status[moved] = REGULARISED
        pop.granted_by[moved] = pw.grant
        pop.path[moved] = -1
        pop.arrived[moved] = model.month
        pop.flags[moved] = TEMPORARY if pw.duration_months > 0 else 0
        for o, n in zip(*np.unique(pop.origin[moved], return_counts=True), strict=True):
            model.recorder.event(f"pathway_{pw.kind}", pw.destination, o, n * model.scale)
        if pw.destination == _USA and not at_origin:
            # referred where the US border is crossed from (Mexico): they present themselves
            # at a port of entry (CBP One appointments), and CBP counts them among its
            # southwest border encounters
            at_port = moved[where_referred[cand] == _PORTS]
            model.recorder.events_at("us_border_arrival", _USA, pop.origin[at_port])
    chance[taken | ~may_wait] = 0.0
    waiting = _waiting(model, rows, chance) if need_chance else np.zeros_like(taken)
    return taken, waiting


def _waiting(model, rows: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """Who, of the applicants given no place this month, waits for one: probability
    ``pathway_wait_share`` x their chance of a place (this month's places over this month's
    eligible applicants where they are, at most 1), so that a pathway with few places for
    many applicants holds few back, and more places make waiting likelier for those still
    without one."""
    share = model.params["pathway_wait_share"]
    if share <= 0.0 or not chance.any():
        return np.zeros(len(rows), dtype=bool)
    sub = np.flatnonzero(chance > 0.0)
    draws = model.streams.raw(model.pop.key[rows[sub]], model.month, PURPOSE_WAIT)
    waiting = np.zeros(len(rows), dtype=bool)
    waiting[sub] = draws < threshold(share * chance[sub])
    where = model.pop.loc[rows[waiting]]
    model.recorder.events_at("waiting_for_pathway", where, model.pop.origin[rows[waiting]])
    return waiting


def appointment_chance(model) -> np.ndarray:
    """The chance, by origin (O,), that a migrant who reaches Mexico on the way to the
    United States gets an appointment at a port of entry this month (CBP One): this month's
    places of every pathway referring at the ports open to that origin, over last month's
    arrivals at the US border (those who came by appointment included), at most 1.

    This is how an appointment system is a pull through the Darién, not a bypass: it
    changes what awaits a migrant at the end of the road, so it enters the choice of the
    road (mechanisms/choice.py) as well as serving those who arrive (``divert``)."""
    t = model.t
    places = np.zeros(len(ORIGINS))
    for pw in model.policy.pathways:
        if pw.destination == _USA and pw.referral[_PORTS] and pw.capacity[t] > 0:
            places += pw.capacity[t] * pw.origins
    if not places.any():
        return places
    arrivals = model.recorder.events[t - 1, KIND_INDEX["us_border_arrival"]].sum() if t else 0.0
    return np.minimum(places / np.maximum(arrivals, places), 1.0)
