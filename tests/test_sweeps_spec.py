"""Sweep files and the pieces that need no cluster: validation (bad files refused with one
line, exit 2, nothing written), addressing, designs and run ids, outcomes, failed runs, the
Morris and grid paths, and PRIM on data with a known box.

The helpers at the top (small sweep files) are shared with test_sweeps.py and
test_sweeps_app.py."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from migflow.cli import app
from migflow.model.errors import InputError
from migflow.model.run import run_scenario
from migflow.sweeps import outcomes as oc
from migflow.sweeps.address import AddressError, parse_address
from migflow.sweeps.analyze import indices
from migflow.sweeps.prim import prim
from migflow.sweeps.runner import run_sweep_serial
from migflow.sweeps.sample import count_points, design
from migflow.sweeps.spec import load_sweep, plan_from_json, sweep_from_dict
from migflow.sweeps.store import load_results, read_runs

ENFORCEMENT = {
    "path": "enforcement[edge=COL-PAN].interdiction",
    "range": [0.0, 0.9],
    "add": {"start": "2015-01"},
}
# Root causes act only through root-cause funding, which the baseline has none of: this
# parameter cannot change any outcome.
INERT_LAG = {"path": "parameter:root_cause_lag_months", "range": [0.0, 96.0]}


def sweep_dict(**changes) -> dict:
    """A valid small sweep (Latin hypercube, 3 inputs, 12 points) with ``changes`` applied
    at the top level."""
    data = {
        "name": "small",
        "base": "baseline",
        "scale": 1000,
        "window": ["2015-01", "2017-12"],
        "seed": 3,
        "sampler": {"method": "latin", "samples": 12, "seed": 2},
        "inputs": {
            "darien_enforcement": copy.deepcopy(ENFORCEMENT),
            "root_cause_lag": copy.deepcopy(INERT_LAG),
            "integration_COL": {
                "path": "integration[host=COL].funding_musd_per_year",
                "values": [0.0, 100.0],
                "add": {"start": "2016-01"},
            },
        },
        "outcomes": {
            "darien": {"indicator": "darien_crossings", "years": [2015, 2017]},
            "stock_COL": {"indicator": "stock.COL", "year": 2017},
        },
    }
    data.update(copy.deepcopy(changes))
    return data


def sensitivity_dict() -> dict:
    """Sobol on one dominant lever (Darién enforcement) and one inert parameter."""
    return sweep_dict(
        name="sensitivity",
        scale=100,
        window=["2015-01", "2015-12"],
        sampler={"method": "sobol", "samples": 32, "seed": 1},
        inputs={"darien_enforcement": ENFORCEMENT, "root_cause_lag": INERT_LAG},
        outcomes={"darien": {"indicator": "darien_crossings", "years": [2015, 2015]}},
        goals=[{"outcome": "darien", "below": 1000, "density": 0.8}],
    )


def write_sweep(path, data: dict):
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ tests

runner = CliRunner()


def _with_input(name: str, spec: dict) -> dict:
    data = sweep_dict()
    data["inputs"][name] = spec
    return data


BAD_FILES = {
    "unknown lever group": (
        _with_input("x", {"path": "integrationz[host=COL].funding_musd_per_year", "range": [0, 1]}),
        "inputs.x.path",
        "unknown lever group 'integrationz'",
    ),
    "unknown lever field": (
        _with_input("x", {"path": "enforcement[edge=COL-PAN].strength", "range": [0, 1]}),
        "inputs.x.path",
        "'strength' is not a numeric field of enforcement",
    ),
    "lever absent from the base, no add": (
        _with_input("x", {"path": "integration[host=PER].funding_musd_per_year", "range": [0, 9]}),
        "inputs.x.path",
        "matches no integration entry in the base scenario",
    ),
    "unknown parameter": (
        _with_input("x", {"path": "parameter:beta_nothing", "range": [0, 1]}),
        "inputs.x.path",
        "unknown parameter 'beta_nothing'",
    ),
    "empty range": (
        _with_input("x", {"path": "parameter:beta_risk", "range": [300.0, 300.0]}),
        "inputs.x.range",
        "empty range",
    ),
    "inverted bounds": (
        _with_input("x", {"path": "parameter:beta_risk", "range": [900.0, 100.0]}),
        "inputs.x.range",
        "inverted bounds",
    ),
    "unknown sampler": (
        sweep_dict(sampler={"method": "montecarlo", "samples": 8}),
        "sampler.method",
        "unknown sampler 'montecarlo'",
    ),
    "range outside the scenario schema": (
        _with_input(
            "x",
            {"path": "enforcement[id=us_border_removals].interdiction", "range": [0.1, 1.5]},
        ),
        "inputs.x.range",
        "1.5 is not allowed",
    ),
    "range outside the parameter's": (
        _with_input("x", {"path": "parameter:beta_enforcement", "range": [0.0, 20.0]}),
        "inputs.x.range",
        "outside the range of parameter beta_enforcement",
    ),
    "sobol without a power of 2": (
        sweep_dict(sampler={"method": "sobol", "samples": 10}),
        "sampler",
        "power of 2",
    ),
    "outcome outside the window": (
        sweep_dict(outcomes={"d": {"indicator": "darien_crossings", "years": [2015, 2030]}}),
        "outcomes.d",
        "outside the scenario window",
    ),
    "unknown indicator": (
        sweep_dict(outcomes={"d": {"indicator": "happiness", "year": 2016}}),
        "outcomes.d.indicator",
        "unknown indicator 'happiness'",
    ),
    "unknown top-level field": (sweep_dict(samplr=3), "samplr", "unknown field"),
    "added entry outside the window": (
        _with_input(
            "x",
            {
                "path": "enforcement[edge=GTM-MEX].interdiction",
                "range": [0.0, 0.5],
                "add": {"start": "2024-01"},
            },
        ),
        "inputs.x.add",
        "outside the scenario window",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_sweep_file_is_refused_with_one_line_exit_2_and_nothing_written(tmp_path, case):
    data, field, message = BAD_FILES[case]
    file = write_sweep(tmp_path / "bad.toml", data)
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(file), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(file) in lines[0] and field in lines[0] and message in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_folder_holding_another_sweep_is_refused(tmp_path):
    out = tmp_path / "out"
    run_sweep_serial(sweep_from_dict(sweep_dict(sampler={"method": "latin", "samples": 2})), out)
    before = sorted(p.name for p in (out / "runs").iterdir())
    other = write_sweep(tmp_path / "other.toml", sweep_dict(seed=99))
    result = runner.invoke(app, ["sweep", str(other), "--out", str(out)])
    assert result.exit_code == 2 and "holds a different sweep" in result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


def test_dry_run_counts_runs_and_writes_nothing(tmp_path):
    file = write_sweep(tmp_path / "s.toml", sweep_dict(replications=2))
    result = runner.invoke(app, ["sweep", str(file), "--out", str(tmp_path / "o"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "12 points x 2 seeds = 24 runs" in result.output
    assert not (tmp_path / "o").exists()


def test_addresses_parse_selectors_positions_and_quoted_names():
    a = parse_address('pathways[name="Visas, NCA (swept)", kind=labour].capacity_per_year')
    assert a.group == "pathways" and a.field == "capacity_per_year"
    assert a.selector == (("name", "Visas, NCA (swept)"), ("kind", "labour"))
    assert parse_address("asylum[0].processing_months").index == 0
    assert parse_address("parameter:emigration_base.VEN").parameter == "emigration_base.VEN"
    assert parse_address("pathways[origins=HND].capacity_per_year").matches(
        {"origins": ["GTM", "HND"]}
    )
    assert parse_address("pathways[duration_months=8].duration_months").is_int
    for bad in ("enforcement[edge=COL-PAN.interdiction", "enforcement[colour=red].interdiction"):
        with pytest.raises(AddressError):
            parse_address(bad)


def test_an_ambiguous_lever_address_is_refused():
    data = sweep_dict(window=["2015-01", "2020-12"])
    data["inputs"]["covid_closure"] = {
        "path": "enforcement[edge=COL-PAN].interdiction",
        "range": [0.5, 1.0],
    }  # the baseline's 2020 closure and the entry darien_enforcement adds
    with pytest.raises(InputError, match="matches 2 enforcement entries"):
        sweep_from_dict(data)
    data["inputs"]["covid_closure"]["path"] = "enforcement[edge=COL-PAN,start=2020-04].interdiction"
    plan = sweep_from_dict(data)
    scenario = plan.scenario_for({**dict.fromkeys(plan.input_names, 0.0), "covid_closure": 0.6}, 1)
    closure = [e for e in scenario.enforcement if e.edge == "COL-PAN" and e.start == "2020-04"]
    assert closure[0].interdiction == 0.6


def test_inputs_build_the_run_scenario_and_the_reference_leaves_levers_alone():
    plan = sweep_from_dict(sweep_dict())
    values = {"darien_enforcement": 0.4, "root_cause_lag": 12.0, "integration_COL": 100.0}
    run = plan.scenario_for(values, seed=7)
    added = [e for e in run.enforcement if e.edge == "COL-PAN" and e.start == "2015-01"]
    assert added[0].interdiction == 0.4
    assert [(i.host, i.funding_musd_per_year, i.start) for i in run.integration] == [
        ("COL", 100.0, "2016-01")
    ]
    assert run.parameters["root_cause_lag_months"] == 12.0 and run.seed == 7
    assert run.scale == 1000 and (run.start, run.end) == ("2015-01", "2017-12")
    ref = plan.reference_for(values, seed=7)
    assert ref.integration == [] and len(ref.enforcement) == len(plan.base.enforcement)
    assert ref.parameters["root_cause_lag_months"] == 12.0 and ref.seed == 7


def test_design_and_run_ids_are_deterministic_and_survive_the_stored_plan():
    plan = sweep_from_dict(sweep_dict(replications=3))
    first, again = design(plan), design(sweep_from_dict(sweep_dict(replications=3)))
    pd.testing.assert_frame_equal(first.table, again.table)
    stored = json.loads(json.dumps(plan.to_json(), sort_keys=True))  # keys sorted on disk
    restored = plan_from_json(stored)
    assert restored.fingerprint == plan.fingerprint
    pd.testing.assert_frame_equal(design(restored).table, first.table)
    assert list(first.table["seed"].unique()) == [3, 4, 5]  # seed, seed + 1, ...
    other = sweep_from_dict(sweep_dict(replications=3, seed=4))
    assert other.fingerprint != plan.fingerprint


def test_grid_runs_every_combination_and_shares_repeated_points():
    data = sweep_dict(sampler={"method": "grid", "levels": 3})
    plan = sweep_from_dict(data)
    des = design(plan)
    assert count_points(plan) == des.n_points == 3 * 3 * 2
    assert sorted(des.points["darien_enforcement"].unique()) == [0.0, 0.45, 0.9]
    morris = sweep_from_dict(sweep_dict(sampler={"method": "morris", "samples": 4, "levels": 4}))
    md = design(morris)
    assert md.n_points == 4 * (3 + 1)
    assert len(md.runs(morris)) == md.table["run_id"].nunique() <= md.n_points


def test_every_indicator_computes_on_a_real_run():
    plan = sweep_from_dict(sweep_dict())
    results = run_scenario(plan.scenario_for(dict.fromkeys(plan.input_names, 0.0), 1))
    for indicator in oc.INDICATORS:
        if indicator != oc.COST_PER_CROSSING_AVERTED:
            assert np.isfinite(oc.indicator_value(results, indicator, 2015, 2017)), indicator
    summary = results.summary
    assert oc.indicator_value(results, "darien_crossings", 2016, 2017) == (
        summary.loc[summary["year"] >= 2016, "darien_crossings"].sum()
    )
    col = oc.indicator_value(results, "stock.COL", 2016, 2016)
    assert col >= summary.loc[summary["year"] == 2016, "venezuelans_in_COL"].item()


def test_cost_per_crossing_averted_is_extra_spending_over_crossings_averted():
    runs = pd.DataFrame(
        {"measure:c:spending_musd": [10.0, 10.0], "measure:c:darien_crossings": [50.0, 120.0]}
    )
    refs = pd.DataFrame(
        {"measure:c:spending_musd": [0.0, 0.0], "measure:c:darien_crossings": [100.0, 100.0]}
    )

    class Spec:
        indicator, difference, span = oc.COST_PER_CROSSING_AVERTED, False, (2015, 2016)

    out = oc.finalise(runs, refs, {"c": Spec()})
    assert out["c"].iloc[0] == 10e6 / 50  # USD per crossing averted
    assert np.isnan(out["c"].iloc[1])  # more crossings than the base: nothing averted


def test_a_failing_run_is_recorded_with_its_error_and_the_sweep_goes_on(tmp_path, monkeypatch):
    import migflow.sweeps.evaluate as ev

    def flaky(real):
        # a run of seed 4 fails, whichever way the worker runs it (from the start, or from
        # its reference's state)
        def run(scenario, *args, **kwargs):
            if scenario.seed == 4:
                raise RuntimeError("simulated model failure")
            return real(scenario, *args, **kwargs)

        return run

    monkeypatch.setattr(ev, "run_scenario", flaky(ev.run_scenario))
    monkeypatch.setattr(ev, "run_from_reference", flaky(ev.run_from_reference))
    plan = sweep_from_dict(sweep_dict(replications=2, sampler={"method": "latin", "samples": 3}))
    summary = run_sweep_serial(plan, tmp_path / "f")
    assert summary.computed == 6 and summary.failed == 3 and not summary.interrupted
    raw = read_runs(tmp_path / "f")
    failed = raw[raw["error"].notna()]
    assert set(failed["seed"]) == {4}
    assert failed["error"].str.contains("RuntimeError: simulated model failure").all()
    res = load_results(tmp_path / "f")
    assert (res.runs.loc[res.runs["seed"] == 4, "status"] == "failed").all()
    assert (res.runs.loc[res.runs["seed"] == 3, "status"] == "ok").all()
    # resuming does not rerun anything: a failure is a result
    assert run_sweep_serial(plan, tmp_path / "f").computed == 0


def test_stop_after_keeps_finished_runs_and_resume_completes_them(tmp_path):
    plan = sweep_from_dict(sweep_dict(sampler={"method": "latin", "samples": 5}))
    first = run_sweep_serial(plan, tmp_path / "r", batch_size=2, stop_after=3)
    assert first.interrupted and len(read_runs(tmp_path / "r")) == 3
    second = run_sweep_serial(plan, tmp_path / "r")
    assert (second.already, second.computed) == (3, 2)
    assert read_runs(tmp_path / "r")["run_id"].is_unique


def test_morris_finds_no_elementary_effect_for_an_inert_input(tmp_path):
    data = sweep_dict(
        window=["2015-01", "2016-12"],
        scale=100,
        sampler={"method": "morris", "samples": 4, "levels": 4},
        inputs={"darien_enforcement": ENFORCEMENT, "root_cause_lag": INERT_LAG},
        outcomes={"darien": {"indicator": "darien_crossings", "years": [2015, 2016]}},
    )
    plan = sweep_from_dict(data)
    run_sweep_serial(plan, tmp_path / "m")
    table, notes = indices(load_results(tmp_path / "m"))
    si = table.set_index("input")
    # four trajectories are enough to see an inert input, but too few to trust the rest
    assert notes == [
        "warning: Morris indices from 4 samples are not to be trusted; it needs at least 10 "
        "(samples = 10 or more in the sweep file)"
    ]
    assert (table["method"] == "morris").all()
    assert si.loc["root_cause_lag", "mu_star"] == 0.0
    assert si.loc["darien_enforcement", "mu_star"] > 0


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.uniform(0, 1, size=(3000, 3)), columns=["a", "b", "c"])
    inside = (X["a"] > 0.6) & (X["b"] < 0.5)
    noise = rng.uniform(size=len(X)) < 0.05
    y = inside.to_numpy() ^ noise
    result = prim(X, y, threshold=0.85)
    limits = result.limits().set_index("input")
    assert set(limits.index) == {"a", "b"}
    assert abs(limits.loc["a", "low"] - 0.6) < 0.05 and abs(limits.loc["b", "high"] - 0.5) < 0.05
    assert result.reached and result.box.density >= 0.85 and result.box.coverage > 0.8
    traj = result.trajectory_frame()
    assert traj["mass"].is_monotonic_decreasing and traj["density"].iloc[-1] >= 0.9


def test_the_shipped_example_sweep_is_valid():
    plan = load_sweep("scenarios/sweeps/example.toml")
    des = design(plan)
    runs = des.runs(plan)
    assert len(plan.inputs) == 6 and plan.file.sampler.method == "sobol"
    assert len(des.table) == 1024
    assert sum(r["kind"] == "reference" for r in runs) == 512
    assert {i.kind for i in plan.inputs} == {"lever", "parameter"}


def test_evaluate_lets_each_model_be_freed_so_worker_memory_stays_flat():
    import gc

    from migflow.model.model import MigrationModel
    from migflow.sweeps.evaluate import evaluate

    def models_alive() -> int:
        gc.collect()
        return sum(isinstance(o, MigrationModel) for o in gc.get_objects())

    plan = sweep_from_dict(sweep_dict(sampler={"method": "latin", "samples": 3}))
    runs = design(plan).runs(plan)
    evaluate(plan, runs[0])
    alive = models_alive()
    for run in runs[1:]:
        assert evaluate(plan, run)["error"] is None
    assert models_alive() == alive


def test_a_new_goal_in_the_sweep_file_reaches_the_report_without_rerunning(tmp_path):
    first = sweep_from_dict(
        sweep_dict(sampler={"method": "latin", "samples": 3},
                   goals=[{"outcome": "darien", "below": 1000, "density": 0.8}])
    )  # fmt: skip
    run_sweep_serial(first, tmp_path / "g")
    edited = sweep_from_dict(
        sweep_dict(sampler={"method": "latin", "samples": 3},
                   goals=[{"outcome": "darien", "below": 5000, "density": 0.7}])
    )  # fmt: skip
    assert edited.fingerprint == first.fingerprint  # goals do not change the stored numbers
    assert run_sweep_serial(edited, tmp_path / "g").computed == 0
    goal = load_results(tmp_path / "g").plan.goals[0]
    assert (goal.below, goal.density) == (5000, 0.7)


def test_rbd_fast_indices_from_too_few_samples_are_withheld_naming_the_minimum(tmp_path):
    """With 20 points or fewer every RBD-FAST first-order index is 1 whatever the model
    does: from 6 points every input would show S1 = 1.000."""
    plan = sweep_from_dict(sweep_dict(sampler={"method": "latin", "samples": 6, "seed": 3}))
    run_sweep_serial(plan, tmp_path / "few")
    table, notes = indices(load_results(tmp_path / "few"))
    assert table.empty
    assert len(notes) == 1 and "withheld" in notes[0] and "more than 20" in notes[0]


def test_posterior_draws_give_each_replication_its_own_calibrated_parameters():
    """``posterior_draws``: replication r runs with draw r of the shipped ensemble at every
    sample point and in its reference, the sweep's own parameter inputs win over it, and a
    stored plan gives workers the very same draws."""
    from migflow.model.parameters import calibrated_draws

    plan = sweep_from_dict(sweep_dict(replications=3, posterior_draws=True), "test")
    plain = sweep_from_dict(sweep_dict(replications=3), "test")
    assert len(plan.draws) == 3 and plain.draws == ()
    assert plan.draws != tuple(calibrated_draws(3, seed=plan.seeds[0] + 1))  # seeded by seed 0
    values = {"darien_enforcement": 0.5, "root_cause_lag": 12.0, "integration_COL": 0.0}
    for r, seed in enumerate(plan.seeds):
        run, reference = plan.scenario_for(values, seed), plan.reference_for(values, seed)
        for scenario in (run, reference):
            assert scenario.parameters == {**plan.draws[r], "root_cause_lag_months": 12.0}
    assert plan.draws[0]["emigration_base.VEN"] != plan.draws[1]["emigration_base.VEN"]
    stored = plan_from_json(json.loads(json.dumps(plan.to_json())))
    assert stored.draws == plan.draws and stored.fingerprint == plan.fingerprint
    assert plan.fingerprint != plain.fingerprint
