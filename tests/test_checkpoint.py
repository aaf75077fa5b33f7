"""A scenario started from its reference's state equals the same scenario run from the start
(model/checkpoint.py): bit for bit, for random lever sets, and the shipped what-ifs do share
their reference's past."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    SEED_INSTRUMENTS,
    enforcement,
    integration,
    pathway,
    programme,
    small_baseline,
)

from migflow.model.calendar import parse_month
from migflow.model.results import TABLES
from migflow.model.run import run_pair, run_scenario, shared_months
from migflow.model.scenario import Scenario, load_scenario


@st.composite
def lever_pairs(draw) -> tuple[Scenario, Scenario]:
    """A reference (a short baseline with some random levers) and a scenario that adds more."""
    base = small_baseline(seed=draw(st.integers(0, 2**32 - 1)))
    data = base.model_dump(mode="json", exclude_none=True)
    data["parameters"] = {**data["parameters"], "pathway_wait_share": draw(st.floats(0, 1))}
    reference = Scenario.model_validate(data)
    data["integration"] += draw(st.lists(integration, max_size=2))
    data["enforcement"] += draw(st.lists(enforcement, max_size=2))
    data["pathways"] += draw(st.lists(pathway, max_size=2))
    data["regularisation"] += draw(st.lists(programme, max_size=2))
    return reference, Scenario.model_validate(data)


def assert_same(a, b) -> None:
    for name in TABLES:
        assert getattr(a, name).equals(getattr(b, name)), name


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lever_pairs())
def test_a_scenario_resumed_from_its_reference_equals_its_run_from_the_start(pair):
    reference, scenario = pair
    resumed_reference, resumed = run_pair(reference, scenario)
    assert_same(resumed, run_scenario(scenario))
    assert_same(resumed_reference, run_scenario(reference))


LATER_LEVERS = {
    # a per-month policy array changes from the lever's month
    "enforcement": {"edge": "COL-PAN", "interdiction": 0.5, "start": "2016-07"},
    # only the list of pathways changes (no per-month array): read through month_view
    "pathways": {
        "name": "more visas", "kind": "labour", "origins": ["GTM", "HND", "SLV"],
        "destination": "USA", "capacity_per_year": 50_000, "duration_months": 12,
        "start": "2016-07",
    },
}  # fmt: skip


def _resumed_at(reference: Scenario, later: Scenario, month: str):
    """``later`` shares ``reference``'s months before ``month`` and, resumed from there,
    equals its run from the start: the full run, the resumed one and the reference's."""
    t0, _ = shared_months(reference, later)
    assert t0 == parse_month(month) - parse_month(reference.start)
    resumed_reference, resumed = run_pair(reference, later)
    full = run_scenario(later)
    assert_same(resumed, full)
    return full, resumed, resumed_reference


@pytest.mark.parametrize("lever", sorted(LATER_LEVERS))
def test_a_lever_from_a_later_month_shares_every_month_before_it(lever):
    reference = small_baseline()
    later = reference.with_changes(**{lever: [*getattr(reference, lever), LATER_LEVERS[lever]]})
    full, resumed, resumed_reference = _resumed_at(reference, later, "2016-07")
    assert not full.flows.equals(resumed_reference.flows)  # the lever does something
    # and the months before the lever are the reference's
    before = resumed.flows["month"] < "2016-07-01"
    ref_before = resumed_reference.flows["month"] < "2016-07-01"
    assert (
        resumed.flows[before]
        .reset_index(drop=True)
        .equals(resumed_reference.flows[ref_before].reset_index(drop=True))
    )


def test_a_termination_shares_every_month_before_it():
    """Two scenarios that differ only in when a status is taken back share every month
    before the first of the two terminations (``status_lapses``, not a per-month array)."""
    protection = {
        "host": "COL", "capacity_per_month": 100_000, "origins": ["VEN"],
        "start": "2015-06", "end": "2015-12",
    }  # fmt: skip
    base = small_baseline()
    reference = base.with_changes(regularisation=[*base.regularisation, protection])
    ended = base.with_changes(
        regularisation=[*base.regularisation, {**protection, "status_ends": "2016-07"}]
    )
    full, _, resumed_reference = _resumed_at(reference, ended, "2016-07")
    assert not full.stocks.equals(resumed_reference.stocks)  # the termination does something


def test_nothing_is_shared_across_seeds_scales_or_parameters():
    reference = small_baseline()
    for other in (
        reference.with_changes(seed=reference.seed + 1),
        reference.with_changes(scale=reference.scale * 2),
        reference.with_changes(parameters={**reference.parameters, "return_hazard": 0.01}),
    ):
        assert shared_months(reference, other)[0] == 0


@pytest.mark.parametrize("instrument", SEED_INSTRUMENTS)
def test_every_shipped_what_if_from_now_shares_history_to_2025(instrument):
    """What the seed instruments' "more" scenarios ask starts in 2026: the 132 months of
    2015-2025 come from the baseline's run."""
    baseline = load_scenario("baseline")
    more = load_scenario(f"{instrument}_more")
    assert shared_months(baseline, more)[0] == parse_month("2026-01") - parse_month("2015-01")


def test_a_sweep_over_levers_runs_each_scenario_from_its_references_state(monkeypatch):
    """A sweep worker keeps its reference's state (sweeps/evaluate.py): every run of a sweep
    over levers alone shares one reference per seed, so the reference's months are run once,
    and each run's measures are those of its run from the start."""
    from test_sweeps_spec import sweep_dict

    worker = importlib.import_module("migflow.sweeps.evaluate")
    from migflow.sweeps.outcomes import measure
    from migflow.sweeps.sample import design
    from migflow.sweeps.spec import sweep_from_dict

    data = sweep_dict(sampler={"method": "latin", "samples": 4, "seed": 2})
    data["inputs"] = {
        "darien_enforcement": {
            "path": "enforcement[edge=COL-PAN].interdiction",
            "range": [0.0, 0.9],
            "add": {"start": "2016-07"},
        },
        "integration_COL": {
            "path": "integration[host=COL].funding_musd_per_year",
            "range": [0.0, 200.0],
            "add": {"start": "2016-07"},
        },
    }
    plan = sweep_from_dict(data)
    monkeypatch.setattr(worker, "_STATES", worker.SavedStates())
    references_run = []
    engine = importlib.import_module("migflow.model.run")
    real = engine.run_until
    monkeypatch.setattr(
        engine, "run_until", lambda *a, **k: references_run.append(a) or real(*a, **k)
    )
    scenario_runs = [r for r in design(plan).runs(plan) if r["kind"] == "sample"]
    assert len(scenario_runs) == 4
    for run in scenario_runs:
        row = worker.evaluate(plan, run)
        assert row["error"] is None, row["error"]
        full = measure(run_scenario(plan.scenario_for(run["inputs"], run["seed"])), plan.outcomes)
        for name, value in full.items():
            assert row[f"measure:{name}"] == value, name
    assert len(references_run) == 1  # one seed, one reference, run up to 2016-07 once
