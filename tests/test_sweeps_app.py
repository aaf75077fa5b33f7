"""The Streamlit sweeps page: it shows a stored sweep's outcomes, indices and PRIM box, and
refuses a folder that holds no sweep with a message instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_sweeps_spec import ENFORCEMENT, INERT_LAG, sweep_dict

from migflow.sweeps.runner import run_sweep_serial
from migflow.sweeps.spec import sweep_from_dict

PAGE = Path(__file__).resolve().parent.parent / "app" / "pages" / "sweeps.py"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    data = sweep_dict(
        sampler={"method": "sobol", "samples": 4, "seed": 1},
        inputs={"darien_enforcement": ENFORCEMENT, "root_cause_lag": INERT_LAG},
        goals=[{"outcome": "darien", "below": 5000}],
    )
    out = tmp_path_factory.mktemp("app") / "sweep"
    run_sweep_serial(sweep_from_dict(data), out)
    return out


def _page():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(PAGE), default_timeout=60)


def test_sweeps_page_shows_outcomes_indices_and_the_prim_box(stored):
    at = _page()
    at.run()
    at.text_input(key="sweep_folder").set_value(str(stored)).run()
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
    second = tmp_path / "second"
    run_sweep_serial(sweep_from_dict(other), second)
    at = _page()
    at.run()
    at.text_input(key="sweep_folder").set_value(str(stored)).run()
    assert at.number_input(key="prim_threshold").value == 5000
    at.text_input(key="sweep_folder").set_value(str(second)).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="prim_outcome").value == "stock_COL"
    assert at.radio(key="prim_side").value == "above"
    assert at.number_input(key="prim_threshold").value == 7000
    # another outcome of the same sweep starts from that outcome's own scale
    at.selectbox(key="prim_outcome").set_value("darien").run()
    assert at.number_input(key="prim_threshold").value != 7000


def test_sweeps_page_reports_a_folder_without_a_sweep(tmp_path):
    at = _page()
    at.run()
    at.text_input(key="sweep_folder").set_value(str(tmp_path)).run()
    assert not at.exception
    assert any("not a sweep folder" in e.value for e in at.error)
