"""Step 3a: travellers react to news about their route.

A migrant chose their path when they set out; a policy announced while they are on the way
(an expulsion order, a visa, a closure) changes what waits at its end. On 2022-10-12 the US
began expelling Venezuelans to Mexico, and the Venezuelans crossing the Darién fell from
40,593 in October to 668 in November (Panama SNM): those waiting in Colombia did not go on.
Without this step only migrants deciding after the news could respond, a month or more late.

Each month, before moving, a traveller whose path lost utility through policy since last
month (``drop``: enforcement, expulsions, risk, a programme's pull at its end, for their
nationality; ``path_values``) re-chooses from where they are
with probability 1 - exp(-``transit_news_sensitivity`` x drop); a path that closed is a drop
without limit. Re-choosing is the choice of a migrant who reconsiders in a host: stay there
(if it is a host) or take any open path from there.
"""

from __future__ import annotations

import numpy as np

from ..geography import HOST_MASK, ORIGIN_NODE
from ..population import IRREGULAR, TRANSIT
from . import PURPOSE_NEWS
from .choice import STAY, choose, start_journey


def path_values(util) -> np.ndarray:
    """The part of each path's utility that policy sets, for each origin (enforcement,
    expulsions, risk, a programme's pull at its end); -inf where it is closed, shape (P, O).
    News is about policy: the slow drift of networks and route information is not news, and
    reacting to it would turn every dip in crossings into a cascade of travellers turning
    back (measured: Venezuelan Darién crossings then collapsed after Nov-2022 and never
    recovered)."""
    return np.where(util.path_open, util.policy_value, -np.inf)


def react_to_news(model, previous: np.ndarray | None) -> None:
    """Let travellers whose path got worse since ``previous`` (last month's
    ``path_values``) re-choose from where they are."""
    sensitivity = model.params["transit_news_sensitivity"]
    if previous is None or sensitivity <= 0.0:
        return
    pop = model.pop
    now = path_values(model.utilities)
    with np.errstate(invalid="ignore"):  # -inf - -inf: a path closed in both months
        drop = np.where(np.isfinite(now), previous - now, np.inf)
    drop = np.where(np.isfinite(previous), drop, 0.0)  # closed before: nobody is on it
    if not (drop > 0).any():
        return
    rows = pop.rows_with_status(TRANSIT)
    # still in their own country: the news reaches them before they leave, at the next choice
    rows = rows[pop.loc[rows] != ORIGIN_NODE[pop.origin[rows]]]
    if len(rows) == 0:
        return
    loss = drop[pop.path[rows].astype(np.int64), pop.origin[rows].astype(np.int64)]
    hit = loss > 0
    rows, loss = rows[hit], loss[hit]
    chance = -np.expm1(-sensitivity * loss)
    u = model.streams.uniform(pop.key[rows], model.month, PURPOSE_NEWS)
    rows = rows[u < chance]
    if len(rows) == 0:
        return
    chosen = choose(model, rows, allow_stay=True)
    # staying is possible in a host only; elsewhere, with no path open, they go on as planned
    keep = (chosen == STAY) & ~HOST_MASK[pop.loc[rows]]
    rows, chosen = rows[~keep], chosen[~keep]
    staying = rows[chosen == STAY]
    pop.status[staying] = IRREGULAR
    pop.path[staying] = -1
    pop.arrived[staying] = model.month
    model.recorder.events_at("rerouted", pop.loc[rows], pop.origin[rows])
    moving = chosen != STAY
    start_journey(model, rows[moving], chosen[moving])
