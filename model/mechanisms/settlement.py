"""Step 4: settlement: regularisation, integration, onward movement and return.

Every settled migrant faces, each month, competing events whose probabilities depend only
on their group (country, origin, status, flags), so the model builds one small table per
month and each migrant costs a table lookup and one random draw:

* **reconsider** where to live (then a logit choice between staying and moving on, e.g.
  Colombia/Peru/Chile -> US through the Darién; Safe Mobility referrals apply here);
* **return** to the origin (lower once regularised or integrated; at the US, asylum
  removals; temporary workers at the end of their visa);
* **regularise** through ordinary channels, or the US asylum system (grant rate over the
  processing time);
* **apply** to an open regularisation programme (eligible origins, arrived before the
  cut-off, up to its monthly capacity; integration services raise uptake);
* **receive integration services**, up to the capacity bought by integration funding;
* **seek a place on a legal pathway** open to them where they live (Safe Mobility Offices),
  as often as they would reconsider were the roads policy closes open, and only the place:
  those given none stay (``seeking_hazard``).

Capacities are applied exactly: if more migrants draw an event than there are places, the
places go by each migrant's own priority draw (common random numbers).
"""

from __future__ import annotations

import numpy as np

from ..geography import CODES, HOST_MASK, INDEX, ORIGINS
from ..population import (
    GRANT_DTYPE,
    INTEGRATED,
    IRREGULAR,
    N_FLAG_CODES,
    REGULARISED,
    STRANDED,
    TEMPORARY,
)
from ..random_streams import TWO32, threshold
from ..removability import REMOVABLE
from . import PURPOSE_EXCHANGE, PURPOSE_PRIORITY, PURPOSE_SETTLE
from .choice import choose, chosen_if_open, onward_logsum, start_journey, stay_value
from .pathways import divert
from .terminations import end_terminated_statuses

N_C, N_O, N_S, N_F = len(CODES), len(ORIGINS), 4, N_FLAG_CODES
_USA = INDEX["USA"]
RECONSIDER, RETURN, REGULARISE, PROGRAMME, INTEGRATE, SEEK_PATHWAY = range(6)
N_EVENTS = 6
EXPECTATION_MONTHS = 12  # how long news of a better or worse chance elsewhere stays news


def group_code(pop, rows: slice = slice(None)) -> np.ndarray:
    """Group of each row in ``rows``: ((country * origins + origin) * 4 + status) * 8 +
    flags, int16."""
    code = pop.loc[rows].astype(np.int16)
    code *= N_O
    code += pop.origin[rows]
    code *= N_S
    code += pop.status[rows]
    code *= N_F
    code += pop.flags[rows]
    return code


def group_counts(pop) -> np.ndarray:
    """Rows per group (``group_code``), counted block by block."""
    counts = np.zeros(N_C * N_O * N_S * N_F, dtype=np.int64)
    for block in pop.blocks():
        counts += np.bincount(group_code(pop, block), minlength=len(counts))
    return counts


def hazard_tables(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group probabilities of the six events this month, shape (groups, 6): the
    hazards, scaled down where they add up to more than 1 (the events compete); their
    running sums along the events, which the draw reads; and the cut-offs of
    ``raw_hazards``."""
    prob, cutoff = raw_hazards(model)
    prob, cumulative = _compete(prob)
    return prob, cumulative, cutoff


def _compete(prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The raw hazards ``prob`` (groups, events) scaled down, in place, where they add up
    to more than 1, and their running sums along the events. Only those rows are scaled
    and summed again: most groups' hazards add up to far less."""
    cumulative = _running_sums(prob)
    over = np.flatnonzero(cumulative[:, -1] > 1.0)
    if len(over):
        prob[over] = prob[over] / np.maximum(cumulative[over, -1:], 1e-300)
        cumulative[over] = _running_sums(prob[over])
    return prob, cumulative


def _running_sums(prob: np.ndarray) -> np.ndarray:
    """``np.cumsum(prob, axis=1)`` for a table of few columns, one column at a time: the
    same additions in the same order (so the last column is also ``prob.sum(axis=1)``, as
    numpy adds a short row), at a fraction of the cost of numpy's per-row accumulation."""
    out = np.empty_like(prob)
    out[:, 0] = prob[:, 0]
    for k in range(1, prob.shape[1]):
        np.add(out[:, k - 1], prob[:, k], out=out[:, k])
    return out


# what a group's status and flags are, broadcasting to (C, O, S, F): the same every month
_STATUS = np.arange(N_S)[None, None, :, None]
_FLAGS = np.arange(N_F)[None, None, None, :]
_SETTLED = (_STATUS == IRREGULAR) | (_STATUS == REGULARISED)
_IRREGULAR = _STATUS == IRREGULAR
_INTEGRATED = (_FLAGS & INTEGRATED) != 0
_TEMPORARY = (_FLAGS & TEMPORARY) != 0
_STRANDED = (_FLAGS & STRANDED) != 0
for _mask in (_STATUS, _FLAGS, _SETTLED, _IRREGULAR, _INTEGRATED, _TEMPORARY, _STRANDED):
    _mask.flags.writeable = False


def raw_hazards(model) -> tuple[np.ndarray, np.ndarray]:
    """Per-group monthly hazards of the six events before they compete, shape (groups, 6),
    and the programmes' arrival cut-off."""
    p, sched, t, scale = model.params, model.policy, model.t, model.scale
    counts = model.group_counts.reshape(N_C, N_O, N_S, N_F)  # agents, end of last month
    shape = (N_C, N_O, N_S, N_F)
    status, settled, irregular = _STATUS, _SETTLED, _IRREGULAR
    integrated, temporary, stranded = _INTEGRATED, _TEMPORARY, _STRANDED
    host = HOST_MASK[:, None, None, None]
    can_leave = model.has_onward_paths[:, None, None, None]

    prob = np.zeros((*shape, N_EVENTS))
    onward = onward_hazard(model, status == REGULARISED, integrated)
    consider = np.where(stranded, p["retry_hazard"], onward)
    prob[..., RECONSIDER] = np.broadcast_to(consider * (settled & can_leave & ~temporary), shape)
    prob[..., SEEK_PATHWAY] = seeking_hazard(
        model, prob[..., RECONSIDER], status == REGULARISED, integrated, settled & ~temporary
    )

    ret = p["return_hazard"] * np.where(status == REGULARISED, p["return_regularised_factor"], 1.0)
    ret = ret * np.where(integrated, p["return_integrated_factor"], 1.0)
    ret = np.broadcast_to(ret * settled, shape).copy()
    asylum_months = sched.asylum_months[t]
    grant = p["asylum_grant_rate"]
    # a denied case ends in removal only where the nationality can be sent home
    ret[_USA, :, IRREGULAR, :] += ((1 - grant) / asylum_months) * REMOVABLE[:, None]
    duration = sched.temporary_duration(t)  # (C,) mean months of temporary stays
    temp_return = np.where(duration > 0, 1.0 / np.maximum(duration, 1.0), 0.0)
    ret = np.where(temporary & settled, temp_return[:, None, None, None], ret)
    prob[..., RETURN] = ret

    reg = np.broadcast_to(p["ordinary_regularisation_hazard"] * irregular * host, shape).copy()
    reg[_USA, :, IRREGULAR, :] = grant / asylum_months
    prob[..., REGULARISE] = reg

    # programmes: uptake among eligible irregular migrants; the capacity is applied exactly
    # afterwards (places by priority draw), so applicants beyond it wait for a later month
    open_, _, cutoff = model.programme_state(t)  # (O, C) bool, (C, O) arrival cut-off
    uptake = p["programme_uptake"] * np.where(integrated, p["integrated_uptake_factor"], 1.0)
    prog = uptake * irregular * open_.T[:, :, None, None]
    prob[..., PROGRAMME] = np.broadcast_to(prog, shape)

    served = sched.integration_capacity[t] / scale  # (C,) agents
    plain = [0, int(STRANDED)]  # neither integrated nor on a temporary pathway
    not_integrated = counts[:, :, IRREGULAR : REGULARISED + 1][..., plain].sum(axis=(1, 2, 3))
    p_int = np.minimum(1.0, served / np.maximum(not_integrated, 1.0))
    prob[..., INTEGRATE] = p_int[:, None, None, None] * (settled & ~integrated & ~temporary)
    return prob.reshape(-1, N_EVENTS), cutoff


def onward_hazard(model, regularised: np.ndarray, integrated: np.ndarray) -> np.ndarray:
    """Monthly probability that a settled migrant reconsiders where to live, per group.

    logit(h) = logit(onward_consider_hazard) + onward_gap_sensitivity x gap
    + onward_news_sensitivity x (pull - expected pull), where the gap is the logsum of the
    group's onward paths minus its utility of staying (with the bonuses of the regularised
    and the integrated), and the pull is that logsum minus the host's own utility, whose
    expected value is its average over recent months (``remember_onward_pull``).

    The level term makes a group that stands to gain much by leaving reconsider more often.
    The news term makes waves: people reconsider when things change, not because they
    always were where they are. A protection status offered abroad, a border that opens,
    a route that becomes known or a slump at home sets one off; it fades as the change
    becomes what everyone expects, and a change for the worse (expulsions) calms one. Groups
    with no open path or outside a host keep the base hazard (reconsidering there can only
    end in staying)."""
    p, util = model.params, model.utilities
    if p["onward_gap_sensitivity"] == 0.0 and p["onward_news_sensitivity"] == 0.0:
        return np.full((N_C, N_O, N_S, N_F), p["onward_consider_hazard"])
    best = onward_logsum(util)
    util.onward_best = best  # for ``remember_onward_pull``, after settlement this month
    return _considering(model, best, model.expected_onward_pull, regularised, integrated)


def _considering(model, best, expected, regularised, integrated) -> np.ndarray:
    """logit(h) = logit(onward_consider_hazard) + onward_gap_sensitivity x gap +
    onward_news_sensitivity x surprise, per group (C, O, S, F), from the onward logsum
    ``best`` (C, O) and the pull migrants expected (``expected``; None: no surprise)."""
    p, util = model.params, model.utilities
    base = p["onward_consider_hazard"]
    stay = stay_value(util, util.host[:, :, None, None], regularised, integrated)  # (C,O,S,F)
    with np.errstate(invalid="ignore"):  # -inf - -inf outside the hosts
        gain = best[:, :, None, None] - stay
    gain = np.where(np.isfinite(gain), gain, 0.0)
    surprise = pull_surprise(model, best, expected)[:, :, None, None]
    return logistic(
        np.log(base / (1.0 - base))
        + p["onward_gap_sensitivity"] * gain
        + p["onward_news_sensitivity"] * surprise
    )


def logistic(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), as ``scipy.special.expit`` computes it, without importing scipy at
    the start of every run; a very negative z gives 0 (exp overflows to inf), as it should."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def seeking_hazard(model, reconsider, regularised, integrated, eligible) -> np.ndarray:
    """Monthly probability, per group (C, O, S, F), that a settled migrant who does not
    reconsider where to live this month looks for a place on a legal pathway that takes
    people of their origin where they live (Safe Mobility Offices): the reconsideration
    hazard valued as if the roads policy closes were open, less the hazard they already face
    (``reconsider``), where that is more.

    Why: a pathway must find its applicants whether the irregular road to its destination
    is open or not. Reconsidering is driven by what moving on is worth over the open roads,
    so a visa or a closed border would otherwise empty the offices too. Together the two
    events make at least the if-open hazard, whatever is closed. Seekers take only a place:
    one who gets none stays, so opening an office or adding places never sets anyone on an
    irregular road. The news term is the if-open pull's own (``if_open_onward_best``): a
    road that closes is news about the open roads, not about an office."""
    sched, t, util = model.policy, model.t, model.utilities
    offered = sched.referral_origins[t]  # (C, O)
    if not offered.any():
        return np.zeros_like(reconsider)
    p = model.params
    if p["onward_gap_sensitivity"] == 0.0 and p["onward_news_sensitivity"] == 0.0:
        if_open = np.full_like(reconsider, p["onward_consider_hazard"])
    else:
        best = if_open_onward_best(util)
        expected = model.expected_onward_pull_if_open
        if_open = _considering(model, best, expected, regularised, integrated)
    extra = np.maximum(if_open - reconsider, 0.0)
    return extra * (offered[:, :, None, None] & HOST_MASK[:, None, None, None] & eligible)


def if_open_onward_best(util) -> np.ndarray:
    """The onward logsum over the open paths and those policy closes, valued as if open
    (``onward_logsum(if_open=True)``), computed once a month."""
    if util.onward_best_if_open is None:
        util.onward_best_if_open = onward_logsum(util, if_open=True)
    return util.onward_best_if_open


def onward_pull(util, best: np.ndarray | None = None) -> np.ndarray:
    """What moving on is worth over staying, before the bonuses of a status, per (country,
    origin): the onward logsum (``best``, when the caller has it) minus the host's own
    utility; NaN or infinite where no path is open or outside the hosts."""
    best = onward_logsum(util) if best is None else best
    with np.errstate(invalid="ignore"):
        return best - util.host


def pull_surprise(model, best: np.ndarray, expected: np.ndarray | None) -> np.ndarray:
    """This month's onward pull (from the logsum ``best``) minus the pull migrants had come
    to expect (C, O); 0 before anything is expected (``expected`` None), and where either
    is undefined."""
    if expected is None:
        return np.zeros((N_C, N_O))
    with np.errstate(invalid="ignore"):
        surprise = onward_pull(model.utilities, best) - expected
    return np.where(np.isfinite(surprise), surprise, 0.0)


def remember_onward_pull(model) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The pulls migrants expect next month, over the open roads and as if every road were
    open (the second for those a legal pathway could take, ``seeking_hazard``): each an
    exponential average of the pulls seen, over about ``EXPECTATION_MONTHS`` (what was news
    a year ago is the norm now). The first month's pull is the first expectation, so a run
    starts with no surprise. Both are kept every month whether or not a pathway is open, so
    that a pathway that opens later meets an expectation and not a surprise (and a run
    resumed from another's state is the same run, model/checkpoint.py). None when the news
    term is off (nothing needs remembering)."""
    if model.params["onward_news_sensitivity"] == 0.0:
        return None, None
    util = model.utilities
    return (
        _remembered(onward_pull(util, util.onward_best), model.expected_onward_pull),
        _remembered(
            onward_pull(util, if_open_onward_best(util)), model.expected_onward_pull_if_open
        ),
    )


def _remembered(pull: np.ndarray, expected: np.ndarray | None) -> np.ndarray:
    if expected is None:
        return pull
    with np.errstate(invalid="ignore"):
        updated = expected + (pull - expected) / EXPECTATION_MONTHS
    # a path that opens or closes starts a new expectation
    return np.where(np.isfinite(updated), updated, pull)


def settle(model) -> None:
    end_terminated_statuses(model)
    pop = model.pop
    _, cumulative, cutoff = hazard_tables(model)
    rows, raw, code = _draw_events(model, threshold(cumulative[:, -1]))
    if len(rows) == 0:
        return
    u = (raw.astype(np.float64) + 0.5) / TWO32
    kind = _event_kind(u, cumulative, code)

    _regularise(model, rows[kind == REGULARISE])
    _programme(model, rows[kind == PROGRAMME], cutoff)
    _exchange(model)
    _integrate(model, rows[kind == INTEGRATE])
    gone = rows[kind == RETURN]
    model.recorder.remove(model, gone, "returned", pop.loc[gone])
    _reconsider(model, rows[kind == RECONSIDER])
    _seek_pathway(model, rows[kind == SEEK_PATHWAY])


def _seek_pathway(model, rows: np.ndarray) -> None:
    """Settled migrants looking for a place on a pathway where they live
    (``seeking_hazard``): those who want its destination, were its roads open, apply (as
    reconsidering migrants do); those given no place stay where they are."""
    if len(rows) == 0:
        return
    pop = model.pop
    chosen, value = choose(model, rows, allow_stay=True, with_values=True)
    wanted = chosen_if_open(model, rows, chosen, value, reconsidering=True)
    rows, wanted = rows[wanted >= 0], wanted[wanted >= 0]
    if len(rows) == 0:
        return
    loc_before = pop.loc[rows]
    referred, _ = divert(model, rows, wanted, at_origin=False)
    model.recorder.events_at("departed_onward", loc_before[referred], pop.origin[rows[referred]])


def _event_kind(u: np.ndarray, cumulative: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Which event each draw ``u`` falls in: how many of its group's cumulative
    probabilities (``cumulative[code]``, ascending) it reaches. Counted one event at a time,
    as a gathered (draws, 5) table summed along its short rows costs several times more."""
    kind = np.zeros(len(u), dtype=np.int64)
    for column in cumulative.T:
        kind += u >= column.take(code)
    return kind


def _draw_events(model, any_event: np.ndarray):
    """Rows that face an event this month (their draw falls under their group's total
    threshold ``any_event``), with their draws and groups; block by block, as this is the
    one pass over every migrant."""
    pop, month = model.pop, model.month
    found = []
    for block in pop.blocks():
        code = group_code(pop, block)
        raw = model.streams.raw(pop.key[block], month, PURPOSE_SETTLE)
        hit = np.flatnonzero(raw < any_event.take(code))  # take: half the cost of [code]
        found.append((hit + block.start, raw[hit], code[hit]))
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.uint32), np.empty(0, np.int16)
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))


def _regularise(model, rows: np.ndarray) -> None:
    model.pop.status[rows] = REGULARISED
    model.pop.granted_by[rows] = 0  # ordinary channels: no termination takes it back
    model.recorder.events_at("regularised", model.pop.loc[rows], model.pop.origin[rows])


def _by_priority(model, rows: np.ndarray, country: np.ndarray, slots: list[int]) -> np.ndarray:
    """Keep, per country, at most ``slots[c]`` rows, by each migrant's priority draw."""
    keep = []
    for c in np.unique(country):
        members = rows[country == c]
        if len(members) > slots[c]:
            priority = model.streams.raw(
                model.pop.key[members], model.month, PURPOSE_PRIORITY, int(c)
            )
            members = members[np.argsort(priority, kind="stable")[: slots[c]]]
        keep.append(members)
    return np.concatenate(keep) if keep else rows[:0]


def _programme(model, rows: np.ndarray, cutoff: np.ndarray) -> None:
    pop = model.pop
    if len(rows) == 0:
        return
    eligible = pop.arrived[rows] < cutoff[pop.loc[rows], pop.origin[rows]]
    rows = rows[eligible]
    rows = _by_priority(model, rows, pop.loc[rows], model.programme_slots)
    for c, n in zip(*np.unique(pop.loc[rows], return_counts=True), strict=True):
        model.programme_slots[c] -= int(n)  # what is left goes to exchanges (_exchange)
    pop.status[rows] = REGULARISED
    pop.granted_by[rows] = _granting_programme(model, rows)
    model.recorder.events_at("regularised", pop.loc[rows], pop.origin[rows])
    model.recorder.events_at("regularised_by_programme", pop.loc[rows], pop.origin[rows])


def _exchange(model) -> None:
    """Holders of an earlier status where an exchanging programme is open (Colombia's PEP
    holders under the ETPV) exchange it at the programme's uptake, in the places that
    newcomers to papers left this month; counted among the programme's grants."""
    pop, holders = model.pop, None
    for prog in model.policy.programmes:
        if not (prog.exchanges and prog.active[model.t]):
            continue
        if holders is None:  # found once a month, and only in a month that needs them
            holders = pop.rows_with_status(REGULARISED)
        rows = holders[
            (pop.loc[holders] == prog.host)
            & prog.origins[pop.origin[holders]]
            & (pop.granted_by[holders] != prog.grant)
            & (pop.arrived[holders] < prog.cutoff)
        ]
        if len(rows) == 0:
            continue
        raw = model.streams.raw(pop.key[rows], model.month, PURPOSE_EXCHANGE, prog.grant)
        rows = rows[raw < threshold(np.array([model.params["programme_uptake"]]))[0]]
        rows = _by_priority(model, rows, pop.loc[rows], model.programme_slots)
        model.programme_slots[prog.host] -= len(rows)
        pop.granted_by[rows] = prog.grant
        model.recorder.events_at("regularised_by_programme", pop.loc[rows], pop.origin[rows])


def _granting_programme(model, rows: np.ndarray) -> np.ndarray:
    """The grant of the programme that regularised each row: of the programmes open this
    month to its host, origin and arrival, the first in the scenario (two open at once for
    the same people, say Ecuador's 2022 registration and a what-if's second window, share
    their places; the status is attributed to one, for its termination)."""
    pop = model.pop
    loc, origin, arrived = pop.loc[rows], pop.origin[rows], pop.arrived[rows]
    grant = np.zeros(len(rows), dtype=GRANT_DTYPE)
    for prog in model.policy.programmes:
        if prog.active[model.t]:
            mine = (grant == 0) & (loc == prog.host) & prog.origins[origin]
            grant[mine & (arrived < prog.cutoff)] = prog.grant
    return grant


def _integrate(model, rows: np.ndarray) -> None:
    pop = model.pop
    if len(rows) == 0:
        return
    rows = _by_priority(model, rows, pop.loc[rows], model.integration_slots)
    pop.flags[rows] |= INTEGRATED
    model.recorder.events_at("integrated", pop.loc[rows], pop.origin[rows])


def _reconsider(model, rows: np.ndarray) -> None:
    if len(rows) == 0:
        return
    pop = model.pop
    chosen, value = choose(model, rows, allow_stay=True, with_values=True)
    # a pathway referring where they live takes those who want to reach its destination,
    # were its roads open or not (as at home, model._month): closing the road does not
    # empty it. Only there: settled migrants apply to no other pathway.
    wanted = chosen.copy()
    where = np.flatnonzero(model.policy.referral_open(model.t)[pop.loc[rows]])
    if len(where):
        wanted[where] = chosen_if_open(
            model, rows[where], chosen[where], value[where], reconsidering=True
        )
    moving = chosen >= 0
    pop.flags[rows[~moving]] &= ~STRANDED  # chose to stay: settled where they were stopped
    applying = moving | (wanted >= 0)
    rows, chosen, wanted, moving = (
        rows[applying],
        chosen[applying],
        wanted[applying],
        moving[applying],
    )
    if len(rows) == 0:
        return
    loc_before = pop.loc[rows]  # divert moves the referred to their destination
    # eligible for a pathway open where they are but given no place: some of those who
    # would travel wait there instead; those who would stay but for a closed road stay
    referred, waiting = divert(model, rows, wanted, at_origin=False, may_wait=moving)
    leaving = referred | (moving & ~waiting)
    model.recorder.events_at("departed_onward", loc_before[leaving], pop.origin[rows[leaving]])
    going = leaving & ~referred
    start_journey(model, rows[going], chosen[going])
