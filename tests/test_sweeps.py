"""Sweeps on a real Dask LocalCluster (two single-threaded worker processes): rows and inputs
as planned, a worker killed mid-sweep, a driver killed and the sweep resumed, sensitivity
indices and PRIM on model outputs, and the report command."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from test_sweeps_spec import sensitivity_dict, sweep_dict, write_sweep
from typer.testing import CliRunner

from migflow.cli import app
from migflow.model.cluster import local_cluster
from migflow.sweeps.analyze import discover, indices
from migflow.sweeps.evaluate import evaluate
from migflow.sweeps.runner import run_sweep
from migflow.sweeps.sample import design
from migflow.sweeps.spec import GoalSpec, sweep_from_dict
from migflow.sweeps.store import RUNS, load_results, read_runs

ROOT = Path(__file__).resolve().parent.parent
RESULT_COLUMNS = ["sample", "replication", "seed", "run_id", "reference_id", "status", "error"]


@contextmanager
def _two_workers():
    from dask.distributed import Client

    cluster = local_cluster(2, silence_logs=logging.CRITICAL)
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def client():
    with _two_workers() as c:
        yield c


@pytest.fixture(scope="module")
def sensitivity(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("sensitivity") / "sweep"
    plan = sweep_from_dict(sensitivity_dict())
    summary = run_sweep(plan, out, client, batch_size=32)
    assert summary.computed == summary.total == 128
    return load_results(out)


def _comparable(res) -> pd.DataFrame:
    cols = [*RESULT_COLUMNS, *res.plan.input_names, *res.plan.outcomes]
    return res.runs[cols].sort_values(["sample", "replication"]).reset_index(drop=True)


def test_sweep_on_a_local_cluster_stores_each_planned_run_once_with_its_inputs(client, tmp_path):
    data = sweep_dict(
        replications=2,
        outcomes={
            "darien": {"indicator": "darien_crossings", "years": [2015, 2017]},
            "cost_per_averted": {"indicator": "cost_per_crossing_averted", "years": [2015, 2017]},
        },
    )
    plan = sweep_from_dict(data)
    planned = design(plan).runs(plan)
    summary = run_sweep(plan, tmp_path / "s", client, batch_size=7)

    # 12 points x 2 seeds, plus one reference run per (seed, value of the parameter input)
    assert summary.total == len(planned) == 24 + 24
    assert summary.computed == 48 and summary.failed == 0
    raw = read_runs(tmp_path / "s")
    assert len(raw) == 48 and raw["run_id"].is_unique
    assert set(raw["run_id"]) == {r["run_id"] for r in planned}
    assert len(list((tmp_path / "s" / RUNS).glob("batch-*.parquet"))) >= 48 // 7
    # runs ran in the worker processes, not here
    pids = {int(w.rsplit(":", 1)[1]) for w in raw["worker"]}
    assert os.getpid() not in pids

    # the stored inputs are the design's, and the outcomes those of a run made here
    by_id = raw.set_index("run_id")
    for run in planned:
        stored = by_id.loc[run["run_id"]]
        assert stored["kind"] == run["kind"] and stored["seed"] == run["seed"]
        for name in plan.input_names:
            want = run["inputs"].get(name, np.nan)
            np.testing.assert_equal(stored[f"input:{name}"], want)
    for run in planned[:3]:
        here = evaluate(plan, run)
        for m in plan.measure_names:
            assert by_id.loc[run["run_id"], f"measure:{m}"] == here[f"measure:{m}"]

    res = load_results(tmp_path / "s")
    assert len(res.runs) == 24 and (res.runs["status"] == "ok").all() and res.complete
    assert sorted(res.runs["integration_COL"].unique()) == [0.0, 100.0]
    lows = res.runs["darien_enforcement"]
    assert lows.between(0.0, 0.9).all() and lows.nunique() == 12


def test_sensitivity_recovers_an_inert_input_and_a_dominant_one(sensitivity):
    table, notes = indices(sensitivity)
    # 32 base samples separate an inert input from a dominant one, but are fewer than the
    # 64 the report asks for before its intervals can be trusted: it says so
    assert len(notes) == 1 and notes[0].startswith("warning: Sobol' indices from 32 samples")
    si = table.set_index("input")
    # root-cause lag cannot act without root-cause funding: exactly no effect
    assert abs(si.loc["root_cause_lag", "ST"]) < 0.01
    assert abs(si.loc["root_cause_lag", "S1"]) < 0.01
    # enforcement on the Darién edge drives Darién crossings
    assert si.loc["darien_enforcement", "ST"] > 0.7
    assert si.loc["darien_enforcement", "S1"] > 0.5
    assert np.isfinite(si["S1_conf"]).all() and np.isfinite(si["ST_conf"]).all()


def test_prim_box_on_model_outputs_restricts_the_lever_that_matters(sensitivity):
    threshold = float(sensitivity.ok["darien"].quantile(0.3))
    goal = GoalSpec(outcome="darien", below=threshold, density=0.8, over="inputs")
    result, runs = discover(sensitivity, goal)
    limits = result.limits().set_index("input")
    assert list(limits.index) == ["darien_enforcement"]
    assert limits.loc["darien_enforcement", "low"] > 0.3  # strong enforcement only
    assert limits.loc["darien_enforcement", "qp"] < 0.01
    assert result.reached and result.box.density >= 0.8
    assert result.box.coverage > 0.5
    # the lag cannot change crossings: every Saltelli pair shows it, so it is left out
    assert result.left_out == ["root_cause_lag"]
    # PRIM sees the independent points of the design (A and B of each block of 4)
    assert len(runs) == 2 * 32 and runs["goal"].mean() < 0.4


def test_sweep_report_writes_tables_and_charts(sensitivity, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        ["sweep-report", str(sensitivity.root), "--out", str(out), "--goal", "darien<1500"],
    )
    assert result.exit_code == 0, result.output
    assert "darien_enforcement" in result.stdout and "PRIM box" in result.stdout
    for name in ("distributions.csv", "indices.csv", "prim.csv", "prim_trajectory.csv"):
        assert (out / name).stat().st_size > 0
    for name in ("sensitivity.png", "prim.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    indices_csv = pd.read_csv(out / "indices.csv")
    assert set(indices_csv["input"]) == {"darien_enforcement", "root_cause_lag"}


def test_interrupted_sweep_resumes_without_losing_or_duplicating_runs(client, tmp_path):
    data = sweep_dict(name="resume", sampler={"method": "latin", "samples": 24, "seed": 5})
    file = write_sweep(tmp_path / "resume.toml", data)
    plan = sweep_from_dict(data)
    interrupted = tmp_path / "interrupted"
    address = client.scheduler.address
    driver = subprocess.Popen(
        [sys.executable, "-c", "from migflow.cli import main; main()", "sweep", str(file),
         "--out", str(interrupted), "--scheduler", address, "--batch-size", "2", "--quiet"],
        cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and driver.poll() is None:
        if len(list((interrupted / RUNS).glob("batch-*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    assert driver.poll() is None, driver.communicate()[1].decode()
    os.killpg(driver.pid, signal.SIGKILL)  # no clean-up: the lock and tasks are left behind
    driver.wait()
    before = read_runs(interrupted)
    assert 0 < len(before) < 24

    summary = run_sweep(plan, interrupted, client, batch_size=8)
    assert summary.already == len(before)
    assert summary.computed == 24 - len(before)
    after = read_runs(interrupted)
    assert len(after) == 24 and after["run_id"].is_unique
    pd.testing.assert_frame_equal(
        before.set_index("run_id"), after.set_index("run_id").loc[before["run_id"]]
    )

    uninterrupted = tmp_path / "uninterrupted"
    run_sweep(plan, uninterrupted, client)
    pd.testing.assert_frame_equal(
        _comparable(load_results(interrupted)), _comparable(load_results(uninterrupted))
    )


@pytest.fixture
def own_client():
    """A cluster of its own, for a test that kills one of its workers: Dask's nanny restarts
    a killed worker, but not always (in two full-suite runs it closed instead), and the
    module's shared cluster must keep both workers for the tests after."""
    with _two_workers() as c:
        yield c


@pytest.mark.timeout(300)  # a cluster that never recovers must fail, not hang CI
def test_a_worker_killed_mid_sweep_still_stores_every_run_exactly_once(own_client, tmp_path):
    client = own_client
    data = sweep_dict(name="killed", sampler={"method": "latin", "samples": 24, "seed": 9})
    plan = sweep_from_dict(data)
    victim = next(iter(client.run(os.getpid).values()))
    killed = []

    def kill_once(p):
        if p.session_done == 5 and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    summary = run_sweep(plan, tmp_path / "k", client, batch_size=4, progress=kill_once)
    assert killed and not (
        psutil.pid_exists(victim) and psutil.Process(victim).status() != "zombie"
    )
    assert summary.computed == summary.total == 24 and summary.failed == 0
    raw = read_runs(tmp_path / "k")
    assert len(raw) == 24 and raw["run_id"].is_unique
    assert set(raw["run_id"]) == {r["run_id"] for r in design(plan).runs(plan)}
    assert raw["error"].isna().all()
    # and the numbers are the ones any process computes for those inputs and seeds
    by_id = raw.set_index("run_id")
    for run in design(plan).runs(plan)[-3:]:
        here = evaluate(plan, run)
        assert by_id.loc[run["run_id"], "measure:darien"] == here["measure:darien"]
