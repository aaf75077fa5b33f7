"""Destination choice: the fast grouped implementation is exactly a Gumbel-max argmax.

``choice.choose`` draws noise only for the alternatives open to each agent and finds the
winner with segment reductions. These tests compare it with the plain definition (noise on
every slot of the padded alternative table, -inf where closed, argmax with staying as the
last column) on real model states, including states with closed routes, and check the
geography rules the choice relies on.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import enforcement, scenarios, small_baseline

from migflow.model.geography import DARIEN, EDGE_INDEX, INDEX, build_paths
from migflow.model.mechanisms.choice import STAY, choose, nest_shock, stay_utility
from migflow.model.model import MigrationModel
from migflow.model.scenario import Scenario


def reference_choose(model, idx: np.ndarray, allow_stay: bool) -> np.ndarray:
    """Gumbel-max over the padded table, written as directly as possible."""
    pop, paths, util = model.pop, model.paths, model.utilities
    loc = pop.loc[idx].astype(np.int64)
    origin = pop.origin[idx].astype(np.int64)
    alts = model.alternatives[int(allow_stay), loc, origin]
    safe = np.where(alts >= 0, alts, 0)
    o = origin[:, None]
    valid = (alts >= 0) & util.path_open[safe, o]
    utility = util.host[paths.end[safe], o] + util.path_cost[int(allow_stay)][safe, o]
    keys = pop.key[idx][:, None]
    noise = model.streams.gumbel(keys, util.salts[safe])
    lam = util.nest_lambda
    if lam < 1.0:  # nested logit: a shock per destination nest (the path's end)
        end = paths.end[safe]
        noise = lam * noise + nest_shock(keys, *util.nest_salts[:, end], lam)
    total = np.where(valid & np.isfinite(utility), utility + noise, -np.inf)
    if allow_stay:
        stay = stay_utility(util, pop, idx, loc, origin)  # shared: not what is under test
        stay_noise = model.streams.gumbel(pop.key[idx], util.salts[-1])
        total = np.concatenate([total, (stay + stay_noise)[:, None]], axis=1)
    best = np.argmax(total, axis=1)
    rows = np.arange(len(idx))
    on_path = (best < alts.shape[1]) & np.isfinite(total[rows, best])
    chosen = np.full(len(idx), STAY, dtype=np.int64)
    chosen[on_path] = alts[rows[on_path], best[on_path]]
    return chosen


def _model_after(scenario, months: int) -> MigrationModel:
    model = MigrationModel(scenario)
    for _ in range(months):
        model.step()
    return model


@settings(max_examples=15, deadline=None)
@given(scenarios(), st.integers(1, 30))
def test_grouped_choice_equals_the_padded_gumbel_max_argmax(scenario, months):
    model = _model_after(scenario, months)
    idx = np.arange(model.pop.n)
    for allow_stay in (False, True):
        fast = choose(model, idx, allow_stay)
        np.testing.assert_array_equal(fast, reference_choose(model, idx, allow_stay))


@settings(max_examples=10, deadline=None)
@given(st.lists(enforcement, min_size=1, max_size=4), st.integers(1, 30))
def test_choice_never_picks_a_closed_path_and_matches_the_reference(levers, months):
    closed = [{**lever, "interdiction": 1.0} for lever in levers]
    data = small_baseline(scale=500).model_dump(mode="json", exclude_none=True)
    data["enforcement"] = [*data["enforcement"], *closed]
    model = _model_after(Scenario.model_validate(data), months)
    idx = np.arange(model.pop.n)
    for allow_stay in (False, True):
        fast = choose(model, idx, allow_stay)
        np.testing.assert_array_equal(fast, reference_choose(model, idx, allow_stay))
        moving = fast >= 0
        origin = model.pop.origin[idx][moving]
        assert model.utilities.path_open[fast[moving], origin].all()


def test_no_path_settles_in_panama_straight_after_the_darien():
    paths = build_paths()
    last_edge = paths.edges[np.arange(len(paths.end)), paths.n_edges - 1]
    assert not ((last_edge == EDGE_INDEX[DARIEN]) & (paths.end == INDEX["PAN"])).any()
    # Panama is still a destination: by air from Venezuela
    assert ((paths.end == INDEX["PAN"]) & (paths.start == INDEX["VEN"])).any()
    # and every path through the Darién goes on north of Panama
    through = paths.crosses[:, EDGE_INDEX[DARIEN]]
    assert through.any() and (paths.end[through] != INDEX["PAN"]).all()
