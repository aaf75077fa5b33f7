"""The Streamlit sweeps page: a small sweep started from the page in plain words runs on a
local cluster and is shown; a stored sweep's outcomes, indices and PRIM box are shown; only
folders under results/sweeps/ are offered, and a folder there that holds no sweep is
reported with a message instead of a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_sweeps_spec import ENFORCEMENT, INERT_LAG, sweep_dict

from migflow.sweeps.runner import run_sweep_serial
from migflow.sweeps.spec import load_sweep, sweep_from_dict

PAGE = Path(__file__).resolve().parent.parent / "app" / "pages" / "sweeps.py"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder to run the app in, with one stored sweep under results/sweeps/."""
    data = sweep_dict(
        sampler={"method": "sobol", "samples": 4, "seed": 1},
        inputs={"darien_enforcement": ENFORCEMENT, "root_cause_lag": INERT_LAG},
        goals=[{"outcome": "darien", "below": 5000}],
    )
    root = tmp_path_factory.mktemp("app")
    run_sweep_serial(sweep_from_dict(data), root / "results" / "sweeps" / "stored")
    return root


@pytest.fixture
def stored(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    return "results/sweeps/stored"


def _page():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(PAGE), default_timeout=60)


def test_sweeps_page_shows_outcomes_indices_and_the_prim_box(stored):
    at = _page()
    at.run()
    at.selectbox(key="sweep_folder").set_value(stored).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["runs stored"] == "16 / 16"
    assert metrics["sampler"] == "sobol"
    assert "coverage" in metrics and "density" in metrics
    assert at.number_input(key="prim_threshold").value == 5000
    assert len(at.get("plotly_chart")) >= 4


def test_switching_sweep_folders_shows_the_new_sweeps_goal(stored, tmp_path):
    other = sweep_dict(
        name="other",
        sampler={"method": "latin", "samples": 6, "seed": 4},
        goals=[{"outcome": "stock_COL", "above": 7000, "density": 0.7}],
    )
    second = Path("results/sweeps/second")
    run_sweep_serial(sweep_from_dict(other), second)
    at = _page()
    at.run()
    at.selectbox(key="sweep_folder").set_value(stored).run()
    assert at.number_input(key="prim_threshold").value == 5000
    at.selectbox(key="sweep_folder").set_value(str(second)).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="prim_outcome").value == "stock_COL"
    assert at.radio(key="prim_side").value == "above"
    assert at.number_input(key="prim_threshold").value == 7000
    # another outcome of the same sweep starts from that outcome's own scale
    at.selectbox(key="prim_outcome").set_value("darien").run()
    assert at.number_input(key="prim_threshold").value != 7000


def test_only_sweeps_under_the_results_folder_are_offered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "sweeps" / "not_a_sweep").mkdir(parents=True)
    at = _page()
    at.run()
    assert not at.exception
    assert any("No sweep yet" in i.value for i in at.info)
    assert not [s for s in at.selectbox if s.key == "sweep_folder"]


def test_a_small_sweep_started_from_the_page_runs_and_is_shown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    at = _page()
    at.run()
    at.text_input(key="sw_name").set_value("darien_check")
    at.multiselect(key="sw_levers").set_value(["darien_enforcement"])
    at.slider(key="sw_runs").set_value(8)
    at.selectbox(key="sw_from").set_value(2029)
    next(b for b in at.button if b.label == "Start the sweep").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    assert any("started: 8 runs" in s.value for s in at.success)
    assert at.selectbox(key="sweep_folder").value == "results/sweeps/darien_check"
    # it runs in a process of its own; the page follows it from the runs stored
    waited = time.monotonic()
    while time.monotonic() - waited < 240:
        time.sleep(2)
        at.run(timeout=120)
        assert not at.exception, at.exception
        stored_runs = {m.label: m.value for m in at.metric}.get("runs stored")
        if stored_runs == "8 / 8":
            break
    assert stored_runs == "8 / 8", Path("results/sweeps/darien_check.log").read_text()
    assert len(at.get("plotly_chart")) >= 2  # the outcomes drawn
    # the sweep file it wrote is one migflow sweep reads
    plan = load_sweep(Path("results/sweeps/darien_check.toml"))
    assert list(plan.input_names) == ["darien_enforcement"]
    # a second sweep of the same name is refused in words, and nothing is overwritten
    next(b for b in at.button if b.label == "Start the sweep").click()
    at.run(timeout=120)
    assert any("exists; give this one another name" in e.value for e in at.error)
    # a range outside what the lever allows is refused before anything runs
    at.text_input(key="sw_name").set_value("too_far")
    at.number_input(key="sw_high_darien_enforcement").set_value(1.5)
    next(b for b in at.button if b.label == "Start the sweep").click()
    at.run(timeout=120)
    assert any("is not a range inside 0..1" in e.value for e in at.error)
    assert not Path("results/sweeps/too_far").exists()


def test_the_apps_sweep_is_a_sweep_file_and_its_folder_stays_under_results():
    from migflow.app.sweep_builder import LEVERS, SWEEPS_DIR, sweep_file, sweep_folder
    from migflow.model.errors import InputError

    ranges = {"darien_enforcement": (0.0, 0.4), "labour_visas": (0.0, 20_000.0)}
    data = sweep_file("check", "baseline", ranges, runs=16, from_year=2027)
    plan = sweep_from_dict(data, source="sweep")
    assert list(plan.input_names) == list(ranges)
    assert data["sampler"] == {"method": "latin", "samples": 16, "seed": 1}
    assert all(o["years"] == [2027, 2030] for o in data["outcomes"].values())
    assert sweep_folder("check") == SWEEPS_DIR / "check"
    refused = [
        (("../up", "baseline", ranges, 16, 2027), "reads as a path"),
        (("", "baseline", ranges, 16, 2027), "give the sweep a name"),
        (("x", "baseline", {}, 16, 2027), "choose at least one lever"),
        (("x", "baseline", {"darien_enforcement": (0.5, 0.2)}, 16, 2027), "not a range"),
        (("x", "baseline", {"integration_COL": (0.0, 9e9)}, 16, 2027), "0..5,000"),
        (("x", "baseline", ranges, 4, 2027), "runs: 4 is outside 8..256"),
    ]
    for args, words in refused:
        with pytest.raises(InputError, match=words):
            sweep_file(*args)
    # every lever of the menu resolves against the baseline
    every = {key: lever.default for key, lever in LEVERS.items()}
    assert len(sweep_from_dict(sweep_file("all", "baseline", every, 8, 2027)).inputs) == len(every)
