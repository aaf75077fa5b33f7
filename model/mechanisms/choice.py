"""Step 2: destination choice (random utility, logit).

A migrant deciding where to go weighs every path open to them from where they are: the
host at its end (fixed attractiveness, economic opportunity, the diaspora of their own
origin there, whether a regularisation programme is open to them) against the path's cost
(overland distance, flights), its enforcement (interdiction probabilities) and its risk of
death. A migrant reconsidering in a host also has the option to stay, worth the host's own
utility plus the cost of moving again, more if they are regularised or integrated.

Paths to the same destination are nested (a nested logit with the routes to one host in one
nest, dissimilarity ``route_nest_lambda``): a visa that closes a flight sends most of its
users onto the land route to the same country, not spread over every host in proportion to
their shares, as a flat logit would. Staying is a nest of its own.

The choice is Gumbel-max, and stays so under nesting: each agent draws, from their own
random stream, one shock per destination nest and a Gumbel per *path id*, and the utility of
path j to host d is V + eta_d + lambda * e_j, where eta_d = lambda * ln S_d with S_d positive
stable of index lambda (Cardell 1997; Kanter's representation below). The maximum of such
utilities is exactly a nested-logit draw, and it couples scenarios tightly: making one path
worse only moves the agents who were on it, so closing a route never lowers the use of the
other routes to the same destination.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..geography import DARIEN, EDGE_INDEX, HOST_MASK, INDEX, ORIGIN_NODE, ORIGINS, US_BORDER
from ..policy import CLOSED
from ..population import INTEGRATED, REGULARISED, TRANSIT
from ..random_streams import draw32, gumbel_inplace
from . import PURPOSE_CHOICE, PURPOSE_RESOURCES
from .pathways import appointment_chance

STAY = -1
_STAY_NOISE_ID = 1_000_003
_NEST_NOISE_ID = 2_000_000  # + destination node (and + countries for the second uniform)
INFORMATION_MONTHS = 12  # route information: how long a route stays known (months)
INDEX_USA = INDEX["USA"]
_BLOCK_ELEMENTS = 1 << 16  # (agent, alternative) pairs handled at once
# a group with at least this many (agent, alternative) pairs in a choice gets blocks of its
# own (see ``_blocks``)
_GROUP_ELEMENTS = 1 << 12


class MonthlyUtilities:
    """The parts of utility shared by everyone this month, computed once per month."""

    def __init__(self, model):
        p, sched, t, paths = model.params, model.policy, model.t, model.paths
        stock_k = model.host_stock_people / 1000.0  # (C, O)
        # a programme a newcomer could still qualify for pulls them to its host (C, O)
        pull = p["beta_regularisation"] * sched.programme_open[t].T
        host = (
            model.host_attractiveness[:, None]
            + p["beta_opportunity"] * sched.opportunity[t][:, None]
            + p["beta_network"] * np.log1p(stock_k)
            + pull
        )
        host[INDEX_USA, :] += model.us_preference
        host[~HOST_MASK, :] = -np.inf
        self.host = host  # (C, O)

        interdiction = sched.interdiction[t]  # (E, O): enforcement can target nationalities
        # with an appointment at a port (CBP One) the border is crossed legally: its
        # interdiction and its risk of death weigh only on those who will not get one
        irregular = np.ones_like(interdiction)
        irregular[EDGE_INDEX[US_BORDER]] -= appointment_chance(model)
        self._irregular = irregular
        darien = EDGE_INDEX[DARIEN]
        crosses = _crosses(paths)
        # information lowers the fear, the search for a guide and the uncertainty of the
        # jungle, down to nothing; it cannot make the Darién worth more than its distance
        # and its death risk, which stay (without the floor, the crossings of one year
        # feed the next without limit)
        darien_cost = np.maximum(p["darien_disutility"] - route_information(model, DARIEN), 0.0)
        # the same for crossing into the United States between ports and asking for asylum:
        # a nationality that has not done it yet does not know how, whom to pay or what
        # happens next (Venezuelans flew to Mexico visa-free for years before they came to
        # the border in numbers in 2021)
        us_cost = np.maximum(p["us_border_disutility"] - route_information(model, US_BORDER), 0.0)
        # what migrants believe the US border costs them: a relief is learnt slowly
        self.us_believed, self._believed_extra = us_border_belief(
            model, interdiction * irregular, sched.expulsion[t]
        )
        # deterrence: what policy makes a path cost (P, O each), in choice and in the news
        deterred = self._deterred = self._deterrence(model, interdiction, sched.expulsion[t])
        other = (
            -crosses[:, darien, None] * darien_cost[None, :]
            - crosses[:, EDGE_INDEX[US_BORDER], None] * us_cost[None, :]
        )
        for term in deterred:
            other = other - term
        # path_cost[0]: new emigrants; path_cost[1]: migrants moving on from a host, who
        # have savings and information, so the road weighs less (the role of resources).
        # A flight costs them as much as anyone: a passport, a visa and a ticket priced in
        # dollars, which is why those who moved on from South American hosts went north
        # overland (Haitians from Brazil and Chile, Venezuelans from Colombia and Peru).
        # Shape (2, P, O).
        # A step back towards one's own country costs a settled migrant more than the road
        # (``onward_backtrack_disutility``): without it the cheap onward road let
        # Venezuelans drift back north from Peru to Ecuador to Colombia by the hundred
        # thousand a year, a counter-current no figure shows (docs/calibration.md).
        leaving, moving_on = _road_costs(paths, *(p[name] for name in _ROAD_PARAMETERS))
        self.path_cost = np.stack([leaving + other, moving_on + other])
        # the part of a path's value that policy sets, as news of it reaches migrants on the
        # way (mechanisms/news.py): enforcement, expulsions, risk and a programme's pull at
        # the end; not the slow drift of networks and route information
        self.policy_value = pull[paths.end] - (deterred[0] + deterred[1] + deterred[2])
        closed = (interdiction >= CLOSED).astype(float)  # (E, O)
        self.path_open = (crosses @ closed) == 0  # (P, O)
        # one salt per path id (and one for staying): noise on a path is the same whatever
        # else is open
        # and two salts per destination nest, for its positive-stable shock: all drawn at
        # once (``_salt_ids``), then split
        n_paths, n_nests = len(paths.end), len(HOST_MASK)
        salts = model.streams.salts(model.month, PURPOSE_CHOICE, _salt_ids(n_paths, n_nests))
        self.salts = salts[: n_paths + 1]
        self.nest_salts = salts[n_paths + 1 :].reshape(2, n_nests)
        self.nest_lambda = p["route_nest_lambda"]
        self.stay_base = p["stay_utility"]
        self.stay_reg = p["stay_regularised_bonus"]
        self.stay_int = p["stay_integrated_bonus"]
        self.open = OpenAlternatives(model, self)
        self._model, self._closed, self._resourced = model, None, {}
        # the onward logsum, once the reconsideration hazard has computed it this month
        # (settlement.py), for the expectation updated after settlement
        self.onward_best = None
        self.onward_best_if_open = None  # the same as if every road were open

    def _deterrence(self, model, interdiction, expelled):
        """What interdiction, expulsion and the risk of death make each path cost, (P, O)
        each. An expulsion (Title 42) sends the migrant back across the border with no legal
        penalty, free to try again (modelled as such in movement), but the journey paid for
        ends in Mexico: its own deterrent weight, fitted to the episodes of 2022-2023. The
        risk is summed over the path's segments; enforcement raises it."""
        p, crosses = model.params, _crosses(model.paths)
        stopped = interdiction * self._irregular
        risk = model.death_probability(interdiction) * self._irregular
        removed, expelled_share = _by_kind(stopped, expelled)
        enforcement = p["beta_enforcement"] * (crosses @ removed)
        if self._believed_extra.any():  # a relief at the US border not yet believed
            us = crosses[:, EDGE_INDEX[US_BORDER]]
            enforcement = enforcement + us[:, None] * self._believed_extra[None, :]
        return (
            enforcement,
            p["beta_expulsion"] * (crosses @ expelled_share),
            p["beta_risk"] * (crosses @ risk),
        )

    def resourced(self, closed: bool = False) -> OpenAlternatives:
        """``open`` (or ``closed``) as a new emigrant with the means to go far at once
        weighs it: their road costs what a settled migrant's moving on does. Built on first
        use: only months with such emigrants need it."""
        if closed not in self._resourced:
            if closed:
                self.closed  # noqa: B018 (builds the closed paths' costs)
            onward = (self._closed_path_cost if closed else self.path_cost)[1]
            # only leaving home (mode 0), valued as a mover on values the paths
            self._resourced[closed] = OpenAlternatives(
                self._model, self, closed=closed, path_cost=onward[None], modes=1
            )
        return self._resourced[closed]

    @property
    def closed(self) -> OpenAlternatives:
        """The paths policy closes this month (a visa, a closed border), valued as they
        would be without the closures (the enforcement of every other row stays, and the
        risk it brings) and laid
        out as ``open`` is: what a migrant would weigh if they were open
        (``chosen_if_open``). Built on first use: only months with a legal pathway need it."""
        if self._closed is None:
            model, t = self._model, self._model.t
            sched = model.policy
            now = self._deterred
            if_open = self._deterrence(
                model, sched.interdiction_if_open[t], sched.expulsion_if_open[t]
            )
            lifted = sum(now) - sum(if_open)  # (P, O)
            path_cost = self.path_cost + lifted[None, :, :]
            self._closed = OpenAlternatives(model, self, closed=True, path_cost=path_cost)
            self._closed_path_cost = path_cost
        return self._closed


@lru_cache(maxsize=16)
def _crosses(paths) -> np.ndarray:
    """(P, E) float: whether each path crosses each edge, as the matrix products of the
    utilities read it (built once per path table, read-only)."""
    crosses = paths.crosses.astype(float)
    crosses.flags.writeable = False
    return crosses


#: the parameters that price the road itself (``_road_costs``)
_ROAD_PARAMETERS = (
    "beta_distance",
    "distance_curvature",
    "air_km_equivalent",
    "onward_distance_factor",
    "onward_backtrack_disutility",
)


@lru_cache(maxsize=64)
def _road_costs(paths, *values: float) -> tuple[np.ndarray, np.ndarray]:
    """What the road of each path costs a new emigrant, (P, 1), and a migrant moving on from
    a host, (P, O): the distance (``journey_cost``), and for the second the lighter road of
    the onward movers and their cost of a step back towards home. Fixed for a run (the
    parameters ``_ROAD_PARAMETERS``, as ``values``), so built once, not every month."""
    p = dict(zip(_ROAD_PARAMETERS, values, strict=True))
    onward = -journey_cost(p, paths.land_km, paths.n_air, p["onward_distance_factor"])
    backtrack = p["onward_backtrack_disutility"] * paths.towards_origin  # (P, O)
    leaving = -journey_cost(p, paths.land_km, paths.n_air)[:, None]
    moving_on = onward[:, None] - backtrack
    for array in (leaving, moving_on):
        array.flags.writeable = False
    return leaving, moving_on


@lru_cache(maxsize=4)
def _salt_ids(n_paths: int, n_nests: int) -> np.ndarray:
    """The noise ids of a month's choice salts, in the order ``MonthlyUtilities`` splits
    them: each path id and staying, then each destination nest's two (its uniform and its
    exponential)."""
    nests = np.arange(n_nests)
    ids = np.concatenate([
        np.arange(n_paths), [_STAY_NOISE_ID], _NEST_NOISE_ID + nests,
        _NEST_NOISE_ID + n_nests + nests,
    ])  # fmt: skip
    ids.flags.writeable = False
    return ids


def _by_kind(stopped, expelled):
    """The interdiction probabilities that remove or strand (ordinary enforcement) and those
    that expel (Title 42), from the probabilities and where an expulsion order holds."""
    removed = np.where(expelled, 0.0, stopped)
    return removed, stopped - removed


def us_border_belief(model, stopped, expelled) -> tuple[np.ndarray, np.ndarray]:
    """What migrants of each origin believe interdiction and expulsion at the US border
    cost them this month, and how far that is above what they cost, (O,) each. A tightening
    is believed at once; a relief (release at the border where people were detained or
    returned to Mexico, the end of Title 42) closes ``relief_learning_rate`` of the gap each
    month, as word of it spreads from those who got through. Venezuelans, released at the
    border from 2020-04, came in numbers only through 2021: 295 in January, 7,484 in May
    (AP; docs/evidence_2022_2023.md § 5). ``stopped`` and ``expelled`` are (E, O), this
    month's; last month's belief is ``model.us_border_belief_before`` (None in the first
    month)."""
    p, us = model.params, EDGE_INDEX[US_BORDER]
    removed, expelled_share = _by_kind(stopped[us], expelled[us])
    actual = p["beta_enforcement"] * removed + p["beta_expulsion"] * expelled_share
    before, rate = model.us_border_belief_before, p["relief_learning_rate"]
    if before is None or rate >= 1.0:
        return actual, np.zeros_like(actual)
    believed = np.maximum(actual, before - rate * (before - actual))
    return believed, believed - actual


def journey_cost(p, land_km: np.ndarray, n_air: np.ndarray, road_factor: float = 1.0):
    """What the length of each path costs in choice: ``beta_distance`` x D(x), with x its
    overland km (times ``road_factor``, the onward movers' lighter road) plus
    ``air_km_equivalent`` per flight, in thousands, and D(x) = ((1 + x) ** c - 1) / c for
    ``distance_curvature`` c (ln(1 + x) at c = 0). At c = 1, D(x) = x: the cost in
    proportion to the distance. Below 1, the cost is concave, as gravity models of
    migration find with log distance: leaving at all (documents, savings, a smuggler, the
    first border) costs much, each further thousand km less, so a long road north is
    within the reach of a new emigrant and not only of one who saved in a host first."""
    beta, curvature = p["beta_distance"], p["distance_curvature"]
    if curvature == 1.0:  # linear: road and flights as two terms, as the regression baseline pins
        return (
            road_factor * (beta * land_km / 1000.0) + beta * p["air_km_equivalent"] * n_air / 1000.0
        )
    x = (road_factor * land_km + p["air_km_equivalent"] * n_air) / 1000.0
    if curvature < 1e-6:  # the ln limit: within c * ln(1 + x)^2 / 2 of it, and stable
        return beta * np.log1p(x)
    return beta * np.expm1(curvature * np.log1p(x)) / curvature


def route_information(model, edge: str) -> np.ndarray:
    """How much recent crossings of ``edge`` (the Darién, the US border) by one's own
    nationality lower the crossing's perceived cost, by origin (O,):
    ``beta_route_information`` x ln(1 + (crossings / 1000) ** ``route_information_steepness``),
    with the crossings of the busiest of the last ``INFORMATION_MONTHS`` months: a route,
    once known, stays known for a year after its busiest month (guides, contacts and the
    diaspora's advice outlive a closure), and a new surge is known at once. A steepness above
    1 makes a tipping point: a trickle of crossers teaches their compatriots little, a crowd
    teaches them much (Venezuelans crossed the Darién by the hundred a month through 2021,
    then by the ten thousand from mid-2022). None in the first month. The caller floors the
    perceived cost at zero."""
    t = model.t
    recent = model.recorder.flow[max(0, t - INFORMATION_MONTHS) : t, EDGE_INDEX[edge]]
    busiest = recent.max(axis=0) if len(recent) else np.zeros(recent.shape[-1])
    p = model.params
    return p["beta_route_information"] * np.log1p(
        (busiest / 1000.0) ** p["route_information_steepness"]
    )


def nest_shock(keys, salt_u, salt_e, lam: float) -> np.ndarray:
    """eta = lambda * ln S, S positive stable of index ``lam`` (Laplace transform
    exp(-s**lam)), drawn by Kanter's formula from two uniforms of the agent's stream:
    S = sin(lam U) / sin(U)**(1/lam) * (sin((1 - lam) U) / E)**((1 - lam) / lam), U uniform
    on (0, pi), E exponential. With e Gumbel, eta + lam * e is Gumbel again, which makes
    the Gumbel-max over nests of routes a nested logit (Cardell 1997)."""
    if lam >= 1.0:  # unrelated routes: no nest shock (the formula's limit)
        return np.zeros(np.broadcast(keys, salt_u).shape)
    return _kanter(_uniform32(keys, salt_u), _uniform32(keys, salt_e), lam)


def _kanter(u: np.ndarray, v: np.ndarray, lam: float) -> np.ndarray:
    """``nest_shock`` from its two float32 uniforms ``u`` and ``v`` (both overwritten)."""
    # single precision: this is among the costliest steps of a run, and noise needs no
    # more; each step writes into an array it owns, as a fresh temporary per step would
    # cost about as much again
    lam32, rest = np.float32(lam), np.float32(1.0 - lam)
    u *= np.float32(np.pi)
    gumbel = gumbel_inplace(v)  # -ln(-ln V) = -ln E, E exponential
    shock = np.multiply(u, lam32)
    np.log(np.sin(shock, out=shock), out=shock)
    shock *= lam32
    tail = np.multiply(u, rest)
    np.log(np.sin(tail, out=tail), out=tail)
    tail += gumbel
    tail *= rest
    np.log(np.sin(u, out=u), out=u)
    shock -= u
    shock += tail
    return shock


def _uniform32(keys, salts) -> np.ndarray:
    """Uniforms in the open interval (0, 1) in single precision: the top 23 bits of the
    hash, plus a half, are exact in a float32 (24 bits would round the largest to 1)."""
    return unit32(draw32(keys, salts))


def unit32(raw: np.ndarray) -> np.ndarray:
    """uint32 hashes -> float32 uniforms in (0, 1) (see ``_uniform32``)."""
    u = (raw >> np.uint32(9)).astype(np.float32)
    u += np.float32(0.5)
    u *= np.float32(2.0**-23)
    return u


@lru_cache(maxsize=16)
def alternative_table(paths) -> np.ndarray:
    """Padded path ids open to a migrant, by (reconsidering?, node, origin): shape
    (2, countries, origins, most alternatives), -1 where there is none. Nobody migrates to
    their own country; reconsidering migrants choose among paths leaving where they are (and
    may stay). Cached per path table (a table is shared by every model with its flight
    price, model/geography.py), so it is read-only."""
    n_c = len(HOST_MASK)
    lists = {}
    for mode in (0, 1):
        for c in range(n_c):
            for o in range(len(ORIGINS)):
                exclude = (c, int(ORIGIN_NODE[o])) if mode else (int(ORIGIN_NODE[o]),)
                lists[mode, c, o] = paths.alternatives(c, o, exclude_ends=exclude)
    width = max(1, max(len(v) for v in lists.values()))
    table = np.full((2, n_c, len(ORIGINS), width), -1, dtype=np.int64)
    for (mode, c, o), alts in lists.items():
        table[mode, c, o, : len(alts)] = alts
    table.flags.writeable = False
    return table


class OpenAlternatives:
    """This month's open alternatives of every group (reconsidering?, node, origin), stored
    flat (compressed rows): group ``g`` of a mode owns ``utility[start[g] : start[g] +
    count[g]]`` and the matching ``path`` ids, in the order of ``model.alternatives``.

    Utility without noise is shared by the whole group, so it is computed once a month;
    the flat layout means each agent then costs only its open alternatives (about 7 of the
    25 slots for a migrant moving on), with no padding.

    The destination nests of a group's alternatives are listed the same way (``nest_start``,
    ``nest_count``, the two salts of each in ``nest_salt``), and ``local_nest`` gives each
    alternative's place in its group's list: an agent's nest shock is a function of the
    agent and the nest only, so it is drawn once per nest (about 9 for 19 paths for a new
    emigrant) and shared by the paths to that destination.

    ``modes=1`` builds the first mode only (leaving home), for a table no one reads when
    reconsidering (``MonthlyUtilities.resourced``); ``path_cost`` then has that mode only."""

    def __init__(
        self, model, util: MonthlyUtilities, closed: bool = False, path_cost=None, modes: int = 2
    ):  # fmt: skip
        gather = _gather_index(model.paths, modes)
        cost = util.path_cost if path_cost is None else path_cost
        # (modes, C, O, W) each; the padding reads path 0 and is masked by ``gather.valid``
        utility = util.host.take(gather.host) + cost.take(gather.cost)
        allowed = util.path_open.take(gather.open)
        open_ = gather.valid & (~allowed if closed else allowed) & np.isfinite(utility)
        layout = _open_layout(model.paths, modes, open_.tobytes())
        self.count, self.start = layout.count, layout.start
        self.path, self.nest = layout.path, layout.nest
        self.nest_count, self.nest_start = layout.nest_count, layout.nest_start
        self.local_nest = layout.local_nest
        self.padded = layout.padded
        self.layout = layout
        # row-major (group, slot) within each mode, as the layout lists them
        self.utility = [utility[m].take(layout.position[m]) for m in range(modes)]
        self.salt = [util.salts.take(path) for path in self.path]  # each element's noise salt
        # (2, nests of all groups)
        self.nest_salt = [util.nest_salts.take(ids, axis=1) for ids in layout.nest_id]


class _GatherIndex:
    """Flat positions that lay this month's (C, O) host utilities, (modes, P, O) path costs
    and (P, O) open paths out as the alternative table (modes, C, O, W) is laid out: fixed
    for a path table, so a month costs three ``take``s instead of building the index."""

    def __init__(self, paths, modes: int):
        alts = alternative_table(paths)[:modes]  # (modes, C, O, W)
        safe = np.where(alts >= 0, alts, 0)
        n_p, n_o = len(paths.end), alts.shape[2]
        origin = np.arange(n_o)[None, None, :, None]
        mode = np.arange(modes)[:, None, None, None]
        self.valid = alts >= 0
        self.host = paths.end.astype(np.int64)[safe] * n_o + origin
        self.cost = (mode * n_p + safe) * n_o + origin
        self.open = safe * n_o + origin
        for array in (self.valid, self.host, self.cost, self.open):
            array.flags.writeable = False


@lru_cache(maxsize=32)
def _gather_index(paths, modes: int) -> _GatherIndex:
    """``_GatherIndex`` of a path table, built once (tables are shared, as in
    ``alternative_table``)."""
    return _GatherIndex(paths, modes)


class _OpenLayout:
    """Which alternatives of each group are open, and everything that follows from that
    alone (see ``OpenAlternatives``): the set changes only when policy opens or closes a
    path, a few times in a run, so it is worked out once per set rather than every month.
    Read-only, as it is shared."""

    def __init__(self, paths, modes: int, open_: np.ndarray):
        alts = alternative_table(paths)[:modes]
        self.count = open_.sum(axis=3).reshape(modes, -1)  # (modes, groups)
        self.start = np.cumsum(self.count, axis=1) - self.count  # within each mode
        self.position = [np.flatnonzero(open_[m]) for m in range(modes)]
        self.path = [alts[m].take(pos) for m, pos in enumerate(self.position)]
        self.nest = [paths.end[path].astype(np.int64) for path in self.path]
        nests = [_group_nests(self.count[m], self.nest[m]) for m in range(modes)]
        self.nest_count = [n[0] for n in nests]  # (groups,) distinct nests
        self.nest_start = [n[1] for n in nests]  # (groups,) into nest_salt
        self.local_nest = [n[2] for n in nests]  # (elements,) into the group's nests
        self.nest_id = [n[3] for n in nests]  # (nests of all groups,) destination nodes
        self.padded = [_PaddedRows(self, m) for m in range(modes)]
        for array in (self.count, self.start):
            array.flags.writeable = False
        for column in (self.position, self.path, self.nest, self.nest_count, self.nest_start,
                       self.local_nest, self.nest_id):  # fmt: skip
            for array in column:
                array.flags.writeable = False


class _PaddedRows:
    """Each group's alternatives of one mode as a row of positions into the flat table,
    padded to the widest group with position 0 (a valid entry, masked by ``short``), with
    the rows of path ids and nest columns they give, and the same for the group's nests:
    a padded block (``_padded_blocks``) takes its agents' rows, cut to the block's widest,
    instead of building them."""

    def __init__(self, layout: _OpenLayout, mode: int):
        self.pos, self.short = _padded_rows(layout.start[mode], layout.count[mode])
        self.nest_pos, _ = _padded_rows(layout.nest_start[mode], layout.nest_count[mode])
        self.path = layout.path[mode].take(self.pos) if self.pos.size else self.pos.copy()
        local_nest = layout.local_nest[mode]
        self.local_nest = local_nest.take(self.pos) if self.pos.size else self.pos.copy()
        # any column of the agent's own shocks: masked afterwards
        self.local_nest[self.short] = 0
        for array in (self.pos, self.short, self.nest_pos, self.path, self.local_nest):
            array.flags.writeable = False


def _padded_rows(start: np.ndarray, count: np.ndarray):
    """Positions ``start + 0, 1, ...`` of each row's entries in a flat table, padded to the
    widest row with position 0, and the mask of the padding."""
    offsets = np.arange(int(count.max()) if len(count) else 0)
    short = offsets >= count[:, None]
    pos = np.where(short, 0, start[:, None] + offsets)
    return pos, short


@lru_cache(maxsize=64)
def _open_layout(paths, modes: int, open_bytes: bytes) -> _OpenLayout:
    """``_OpenLayout`` of an open set (``open_bytes``: the (modes, C, O, W) mask's bytes),
    kept for the open sets seen lately: about 180 kB each, and the baseline's four tables
    of a month take 52 sets over its 192 months."""
    shape = (modes, *alternative_table(paths).shape[1:])
    return _OpenLayout(paths, modes, np.frombuffer(open_bytes, dtype=bool).reshape(shape))


def _group_nests(count: np.ndarray, nest: np.ndarray):
    """Distinct nests of each group's alternatives (ascending), listed flat: the count and
    start of each group's, each alternative's index among its group's, and the nest ids."""
    n_nests = len(HOST_MASK)
    group = np.repeat(np.arange(len(count)), count)
    pairs, inverse = np.unique(group * n_nests + nest, return_inverse=True)
    nest_count = np.bincount(pairs // n_nests, minlength=len(count))
    nest_start = np.cumsum(nest_count) - nest_count
    local = inverse.reshape(-1) - nest_start[group]
    return nest_count, nest_start, local, pairs % n_nests


def onward_logsum(util: MonthlyUtilities, if_open: bool = False) -> np.ndarray:
    """Expected best utility of moving on over each group's open onward paths, shape
    (countries, origins); -inf where no path is open. Nested: ln sum_d (sum_{j in d}
    exp(V_j / lambda)) ** lambda over destination nests d. Compared with the utility of
    staying, it says how much a migrant stands to gain by leaving this month. With
    ``if_open``, over the paths policy closes too, valued as if open (``closed``): what
    moving on would be worth to someone a legal pathway could take there."""
    tables = (util.open, util.closed) if if_open and not util.path_open.all() else (util.open,)
    n_groups, n_nests, lam = len(tables[0].count[1]), len(HOST_MASK), util.nest_lambda
    values = np.concatenate([table.utility[1] for table in tables])
    nest = np.concatenate([table.nest[1] for table in tables])
    group = np.concatenate([np.repeat(np.arange(n_groups), table.count[1]) for table in tables])
    has = np.bincount(group, minlength=n_groups) > 0
    top = np.full(n_groups, -np.inf)
    total = np.zeros(n_groups)
    if has.any():
        if len(tables) == 1:  # a group's alternatives are contiguous
            top[has] = np.maximum.reduceat(values, tables[0].start[1][has])
        else:
            np.maximum.at(top, group, values)
        shifted = np.exp((values - top[group]) / lam)  # each <= 1
        within = np.bincount(group * n_nests + nest, weights=shifted, minlength=n_groups * n_nests)
        total = (within.reshape(n_groups, n_nests) ** lam).sum(axis=1)
    with np.errstate(divide="ignore"):
        logsum = np.where(has, top + np.log(np.where(has, total, 1.0)), -np.inf)
    return logsum.reshape(util.host.shape)


def stay_value(util: MonthlyUtilities, host, regularised, integrated) -> np.ndarray:
    """Utility of staying where they are, without noise: the host's own pull plus the cost of
    moving again, more for the regularised and the integrated (who would lose that). Arrays
    broadcast: per agent in the choice, per group in the reconsideration hazard."""
    return host + util.stay_base + util.stay_reg * regularised + util.stay_int * integrated


def stay_utility(util: MonthlyUtilities, pop, idx, loc, origin) -> np.ndarray:
    """``stay_value`` of the agents ``idx``."""
    regularised = pop.status[idx] == REGULARISED
    integrated = (pop.flags[idx] & INTEGRATED) != 0
    return stay_value(util, util.host[loc, origin], regularised, integrated)


def choose(
    model,
    idx: np.ndarray,
    allow_stay: bool,
    with_values: bool = False,
    table=None,
    variant: np.ndarray | None = None,
    variant_table=None,
):
    """Chosen path per agent in ``idx`` (``STAY`` for stayers or those with no open path),
    and with ``with_values`` also the chosen alternative's utility with its noise (staying's
    for those who stay; -inf where no path is open and staying is not allowed).

    Gumbel-max over the agent's open alternatives (and staying, for migrants who
    reconsider): the same choice as an argmax over the padded table, computed only where an
    alternative exists. Agents are taken in dense (agents x alternatives) blocks
    (``_blocks``), so each costs its alternatives' noise and an argmax, with no per-element
    bookkeeping. ``table``: the alternatives as valued for these agents (by default
    ``util.open``); with ``variant`` (a mask over ``idx``), those agents value them as
    ``variant_table`` does, a table of the same layout (``_same_layout``), in the same
    pass."""
    pop, util = model.pop, model.utilities
    table = util.open if table is None else table
    n = len(idx)
    chosen = np.full(n, STAY, dtype=np.int64)
    best = np.full(n, -np.inf) if with_values else None
    if n == 0:
        return (chosen, best) if with_values else chosen
    loc = pop.loc[idx].astype(np.int64)
    origin = pop.origin[idx].astype(np.int64)
    mode = int(allow_stay)
    group = loc * util.host.shape[1] + origin
    keys = pop.key[idx]
    if allow_stay:
        stay = stay_utility(util, pop, idx, loc, origin)
        stay_total = stay + model.streams.gumbel(keys, util.salts[-1])
        if with_values:
            best = stay_total.copy()
    variants = _variants(table, variant_table, mode, variant)
    for members, path, value in _best_paths(model, table, mode, group, keys, *variants):
        if allow_stay:
            moving = value >= stay_total[members]
            members, path, value = members[moving], path[moving], value[moving]
        chosen[members] = path
        if with_values:
            best[members] = value
    return (chosen, best) if with_values else chosen


def _best_paths(model, table, mode: int, group: np.ndarray, keys: np.ndarray, *variants):
    """Each agent's best alternative in ``table`` (Gumbel-max), block by block: the agents
    (positions in ``group`` and ``keys``), their best path ids and its utility with noise.
    ``variants``: see ``_blocks``."""
    for block in _blocks(table, mode, group, *variants):
        members = block.members
        value = _values(model.streams, model.utilities.nest_lambda, keys[members][:, None], block)
        column = value.argmax(axis=1)  # ties go to the earlier column
        at = column + np.arange(0, value.size, value.shape[1])  # flat positions
        yield members, block.path_of(at, column), value.take(at)


def chosen_if_open(
    model,
    idx: np.ndarray,
    chosen: np.ndarray,
    value: np.ndarray,
    reconsidering: bool = False,
    table=None,
    variant: np.ndarray | None = None,
    variant_table=None,
) -> np.ndarray:
    """The path each migrant in ``idx`` would take if the paths policy closes this month
    were open, given their choice among the open ones (``choose`` with values): new
    emigrants at home, or with ``reconsidering`` settled migrants weighing a move on (whose
    choice includes staying, ``STAY``, valued as ``choose`` values it).

    A legal pathway takes those who want to reach its destination, and closing the
    irregular road there must not change who that is: with every route to the United
    States closed, nobody would choose one, and a parole would find no applicant. Each
    agent keeps the noise of every path (one salt per path id), so this is the argmax over
    the open and the closed paths together: the open choice unless a closed path is worth
    more. ``table``: the closed paths as valued for these agents (by default
    ``util.closed``); ``variant`` and ``variant_table`` as in ``choose``."""
    util = model.utilities
    if util.path_open.all():  # nothing closed this month
        return chosen.copy()
    table = util.closed if table is None else table
    group = model.pop.loc[idx].astype(np.int64) * util.host.shape[1] + model.pop.origin[idx]
    wanted = chosen.copy()
    mode = int(reconsidering)
    has = np.flatnonzero(table.count[mode][group] > 0)
    if len(has) == 0:
        return wanted
    keys = model.pop.key[idx[has]]
    variants = _variants(table, variant_table, mode, None if variant is None else variant[has])
    for members, path, best in _best_paths(model, table, mode, group[has], keys, *variants):
        better = best > value[has[members]]
        wanted[has[members[better]]] = path[better]
    return wanted


def choose_emigrants(model, new: np.ndarray, pathways_open: bool):
    """Where this month's new emigrants ``new`` head: the path each chose among the open
    ones (``STAY`` if none is open), and the path each would take were the closed ones open
    too (what a legal pathway reads).

    A share ``resourced_share`` of them (one draw per emigrant) leave with the means to go
    far at once: savings, a smuggler paid ahead, family abroad. Their road weighs as a
    settled migrant's moving on does (``onward_distance_factor``), so some go straight
    north where the others first settle nearby. Without them every journey north began
    with years in a South American host, and the model's Darién crossers came from a host
    0.70-0.79 of the time, where R4V's survey of October-December 2023 found 39%
    (docs/calibration.md, Known limits)."""
    share = model.params["resourced_share"]
    if share <= 0.0 or len(new) == 0:
        chosen, value = choose(model, new, allow_stay=False, with_values=True)
        wanted = chosen_if_open(model, new, chosen, value) if pathways_open else chosen
        return chosen, wanted
    util = model.utilities
    u = model.streams.uniform(model.pop.key[new], model.month, PURPOSE_RESOURCES)
    rich = u < share
    if _same_layout(util.open, util.resourced()) and (
        not pathways_open or util.path_open.all() or _same_layout(util.closed, util.resourced(True))
    ):  # both kinds of emigrant in one pass, most months (half the numpy calls)
        rich_table = util.resourced()
        chosen, value = choose(model, new, False, True, variant=rich, variant_table=rich_table)
        if not pathways_open:
            return chosen, chosen.copy()
        closed = None if util.path_open.all() else util.resourced(closed=True)
        return chosen, chosen_if_open(model, new, chosen, value, variant=rich, variant_table=closed)
    chosen = np.full(len(new), STAY, dtype=np.int64)
    wanted = chosen.copy()
    for resourced in (False, True):
        part = np.flatnonzero(rich == resourced)
        table = util.resourced() if resourced else None
        chosen[part], value = choose(model, new[part], False, True, table=table)
        if pathways_open:
            closed = util.resourced(closed=True) if resourced else None
            wanted[part] = chosen_if_open(model, new[part], chosen[part], value, table=closed)
        else:
            wanted[part] = chosen[part]
    return chosen, wanted


def _same_layout(a: OpenAlternatives, b: OpenAlternatives) -> bool:
    """Whether two tables list the same alternatives for leaving home (mode 0), so that
    only their utilities differ (``util.open`` and ``util.resourced()``, most months)."""
    return a.layout is b.layout or np.array_equal(a.layout.position[0], b.layout.position[0])


def _variants(table, variant_table, mode: int, variant):
    """The extra arguments of ``_blocks`` for agents valuing ``table``'s alternatives, those
    of ``variant`` as ``variant_table`` does (leaving home only): () when there is none."""
    if variant is None or variant_table is None:
        return ()
    assert mode == 0 and _same_layout(table, variant_table)
    return variant.astype(np.int64), np.concatenate([table.utility[0], variant_table.utility[0]])


class _Block:
    """Agents ``members`` (positions in the choice) and their alternatives, as arrays that
    broadcast to (agents, alternatives): one row shared by all (a block of one group) or a
    row per agent gathered from the flat table (a padded block of several groups; ``short``
    marks the padding)."""

    def __init__(self, members, salt, utility, path, nest_salt, local_nest, short=None):
        self.members = members
        self.salt, self.utility, self.path = salt, utility, path
        self.nest_salt = nest_salt  # (2, ...) broadcasting to (agents, nests)
        self.local_nest = local_nest  # each alternative's column in the nest shocks
        self.short = short

    def path_of(self, at, column) -> np.ndarray:
        """Path ids at each row's ``column`` of the block (flat position ``at``)."""
        if self.path.ndim == 1:
            return self.path.take(column)
        return self.path.take(at)


def _values(streams, lam: float, keys, block: _Block) -> np.ndarray:
    """Utility plus noise of every (agent, alternative) of a block: lambda x Gumbel per path
    plus the nest shock of the path's destination (nested logit), or the Gumbel alone."""
    value = streams.gumbel(keys, block.salt)
    if lam < 1.0:
        value *= lam
        # both uniforms of every (agent, nest) in one draw: (2, agents, nests)
        salts = block.nest_salt if block.nest_salt.ndim == 3 else block.nest_salt[:, None, :]
        uniforms = unit32(draw32(keys, salts))
        shocks = _kanter(uniforms[0], uniforms[1], lam)  # (agents, nests)
        if block.local_nest.ndim == 1:
            value += shocks[:, block.local_nest]
        else:  # each agent's own row of shocks, read through flat positions
            rows = np.arange(0, shocks.size, shocks.shape[1])
            value += shocks.take(block.local_nest + rows[:, None])
    value += block.utility
    if block.short is not None:
        value[block.short] = -np.inf  # never chosen: every agent here has an open alternative
    return value


def _blocks(table: OpenAlternatives, mode: int, group: np.ndarray, variant=None, utility=None):
    """``_Block``s covering every agent with an open alternative, each of at most about
    ``_BLOCK_ELEMENTS`` (agent, alternative) pairs so that its noise stays in cache.

    A group with many agents gets blocks of its own, whose alternatives are one row shared
    by all (no per-element gathering); the agents of the small groups share padded blocks,
    as a block per group would cost more in numpy calls than in noise.

    ``variant`` (0 or 1 per agent) and ``utility`` (``_variants``): agents of variant 1
    read their utilities from the second half of ``utility``, a second table's of the same
    layout; a group's agents of each variant make a group of their own."""
    count = table.count[mode]
    n_groups, unit = len(count), len(table.utility[mode])
    if variant is None:
        key, utility, shift = group, table.utility[mode], None
    else:
        key, shift = group + n_groups * variant, variant * unit
    order = np.argsort(key, kind="stable")
    # the groups present, ascending as ``order`` lists them, each with its agents' count
    # (counted, not found by differencing the sorted groups: fewer numpy calls)
    sizes = np.bincount(key, minlength=n_groups if variant is None else 2 * n_groups)
    present = np.flatnonzero(sizes)
    sizes = sizes.take(present)
    first = np.cumsum(sizes) - sizes  # each group's first agent in ``order``
    width = count.take(present % n_groups)
    big = sizes * width >= _GROUP_ELEMENTS
    for k in np.flatnonzero(big):
        members = order[first[k] : first[k] + sizes[k]]
        v, g = divmod(int(present[k]), n_groups)  # variant, group
        yield from _group_blocks(table, mode, g, members, utility, v * unit)
    small = np.repeat(~big & (width > 0), sizes)
    if small.any():
        yield from _padded_blocks(table, mode, group, order[small], utility, shift)


def _group_blocks(table: OpenAlternatives, mode: int, g: int, members, utility, offset: int):
    """Blocks of agents of one group ``g``: its alternatives are a shared row, their
    utilities at ``offset`` in ``utility`` (see ``_blocks``)."""
    start, count = table.start[mode][g], table.count[mode][g]
    alts = slice(start, start + count)
    n_start = table.nest_start[mode][g]
    nests = table.nest_salt[mode][:, n_start : n_start + table.nest_count[mode][g]]
    step = max(1, _BLOCK_ELEMENTS // int(count))
    for first in range(0, len(members), step):
        yield _Block(
            members[first : first + step],
            table.salt[mode][alts],
            utility[start + offset : start + offset + count],
            table.path[mode][alts],
            nests,
            table.local_nest[mode][alts],
        )


def _padded_blocks(table: OpenAlternatives, mode: int, group, members, utility, shift):
    """Blocks of agents of several groups, their alternatives gathered into rows padded
    to the widest of the block; their utilities from ``utility``, each agent's positions
    moved by its ``shift`` if any (see ``_blocks``)."""
    count, nest_count, rows = table.count[mode], table.nest_count[mode], table.padded[mode]
    widest = int(count[group[members]].max())
    step = max(1, _BLOCK_ELEMENTS // widest)
    for first in range(0, len(members), step):
        part = members[first : first + step]
        g = group[part]
        width = int(count[g].max())
        pos = rows.pos[:, :width].take(g, axis=0)
        short = rows.short[:, :width].take(g, axis=0)
        if not short.any():
            short = None
        nest_pos = rows.nest_pos[:, : int(nest_count[g].max())].take(g, axis=0)
        yield _Block(
            part,
            table.salt[mode].take(pos),
            utility.take(pos if shift is None else pos + shift.take(part)[:, None]),
            rows.path[:, :width].take(g, axis=0),
            table.nest_salt[mode].take(nest_pos, axis=1),
            rows.local_nest[:, :width].take(g, axis=0),
            short,
        )


def start_journey(model, rows: np.ndarray, path_ids: np.ndarray) -> None:
    """Put migrants on their chosen paths (they travel from the next movement step)."""
    pop = model.pop
    pop.status[rows] = TRANSIT
    pop.path[rows] = path_ids
    pop.hop[rows] = 0
    pop.flags[rows] = 0
    pop.leg_left[rows] = model.path_lookup.first_leg(path_ids)
