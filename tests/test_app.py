"""The what-if app: it starts on the baseline, levers move the indicators the expected way,
comparisons show every scenario, bad uploads are refused in the page without breaking it, and
downloads hold the numbers `migflow run` writes for the same scenario and seed. The app's
pure parts (building scenarios from levers, validating uploads, costs, documented figures,
the flow diagram) are tested directly.

AppTest runs the real app script in this process (no browser); tests/test_app_browser.py
drives it in headless Chromium."""

from __future__ import annotations

import importlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from migflow.app import charts, documented, indicators, runs, state
from migflow.app.commands import MAIN, can_open_browser, streamlit_args
from migflow.app.downloads import results_zip, scenario_toml
from migflow.cli import app as cli
from migflow.model.calendar import parse_month
from migflow.model.errors import InputError
from migflow.model.geography import EDGES
from migflow.model.outcomes import rounded
from migflow.model.parameters import Parameters
from migflow.model.results import Results
from migflow.model.run import run_scenario
from migflow.model.scenario import load_scenario, loads_scenario

MAIN_SCRIPT = str(Path(__file__).resolve().parent.parent / "app" / "main.py")
runner = CliRunner()


def start_app() -> AppTest:
    at = AppTest.from_file(MAIN_SCRIPT, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str):
    """The card whose title starts with ``label`` (titles end with their period)."""
    found = [m for m in at.metric if m.label.startswith(label)]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def number(text: str) -> float:
    return float(text.replace(",", "").replace("$", "").replace("M", "").replace("−", "-").strip())


def run_button(at: AppTest):
    return next(b for b in at.button if b.label == "Run scenario")


# ------------------------------------------------------------------ the app (AppTest)


def test_app_starts_on_the_baseline_already_run_without_exceptions():
    at = start_app()
    assert at.session_state["base_choice"] == "baseline"
    assert loads_scenario(at.session_state["applied_toml"]).name == "baseline"
    first, last = at.session_state["window"]
    span = f"{first}–{last}"
    labels = [m.label for m in at.metric]
    for expected in (
        f"Darién crossings, per year {span}",
        f"US border arrivals, per year {span}",
        f"Venezuelans in Colombia, end of {last}",
        f"Venezuelans in Peru, end of {last}",
        f"People regularised, total {span}",
        f"Deaths on the way (expected), total {span}",
    ):
        assert expected in labels
    assert number(metric(at, "Darién crossings, per year").value) > 0
    banner = [w.value for w in at.warning] + [s.value for s in at.success]
    assert any(b.startswith(("Uncalibrated starting values", "Calibrated")) for b in banner)
    # A visit opens on the year-by-year table: the headline outcomes in each year of the
    # window, in words; a hidden tab is neither computed nor drawn.
    assert not at.get("plotly_chart") and not at.get("download_button")
    yearly = at.table[0].value
    assert list(yearly.columns) == [str(y) for y in range(first, last + 1)]
    darien = yearly.loc["Darién crossings"].map(number)
    shown_run, _ = runs.run(runs.baseline_for(loads_scenario(at.session_state["applied_toml"])))
    by_year = shown_run.summary.set_index("year")["darien_crossings"]
    for year, shown in darien.items():
        assert shown == pytest.approx(by_year[int(year)], rel=0.005)  # three figures
    at.session_state["view"] = "Time series"  # five yearly series, monthly Darién, hosts
    at.run()
    assert len(at.get("plotly_chart")) == 7
    for tab, drawn in (("Map", "chart_map"), ("Flows", "chart_sankey")):
        at.session_state["view"] = tab
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert [c.key for c in at.get("plotly_chart")] == [drawn]
    at.session_state["view"] = "Tables and downloads"
    at.run()
    downloads = [d.label for d in at.get("download_button")]
    assert downloads == ["Results (CSV, zip)", "Results (Parquet, zip)", "Scenario (TOML)"]


def _funding_musd(scenario, first_year: int, last_year: int) -> float:
    """$M that the scenario's integration and root-cause rows spend in those years."""
    lo, hi = parse_month(f"{first_year}-01"), parse_month(f"{last_year}-12")
    total = 0.0
    for row in [*scenario.integration, *scenario.root_causes]:
        first = max(parse_month(row.start), lo)
        last = min(parse_month(row.end or scenario.end), hi)
        total += max(0, last - first + 1) * row.funding_musd_per_year / 12
    return total


def test_levers_move_the_indicators_in_the_expected_direction():
    at = start_app()
    baseline_darien = number(metric(at, "Darién crossings, per year").value)
    baseline_pathways = number(metric(at, "Legal pathway arrivals,").value)
    # more labour visas alone: more legal pathway arrivals. (With the Darién tightened too,
    # fewer people head north and fewer of them take the baseline's parole and appointment
    # places, which go only to those bound for the US: the total can then fall.)
    at.number_input(key="lv_path_labour_nca").set_value(9800.0)  # double the labour visas
    run_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # over the edited scenario's period (from its first lever): the baseline read above is
    # over a longer window, in which the baseline's parole processes already ran
    pathways = metric(at, "Legal pathway arrivals,")
    baseline_then = number(re.search(r"Baseline: ([\d,]+)", pathways.help).group(1))
    assert baseline_pathways > 0
    assert number(pathways.value) > baseline_then and pathways.delta.startswith("+")
    # the year-by-year table gives each year's change in brackets, more arrivals every year
    yearly = at.table[-1].value.loc["Legal pathway arrivals"]
    assert all(re.search(r"\(\+[\d,]+\)$", cell) for cell in yearly), list(yearly)
    at.slider(key="lv_enf_COL-PAN").set_value(0.6)  # tighten enforcement at the Darién
    at.number_input(key="lv_int_PER").set_value(100.0)  # fund integration in Peru
    run_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    scenario = loads_scenario(at.session_state["applied_toml"])
    assert scenario.name == "baseline_edited"
    darien = metric(at, "Darién crossings, per year")
    assert number(darien.value) < baseline_darien and darien.delta.startswith("−")
    spending = metric(at, "Integration + root-cause funding")
    # $100 M a year from January of this year (where the sidebar's changes start, and the
    # figures' window) to the end, on top of what the baseline spends then
    first, last = at.session_state["window"]
    expected = 100 * (last - first + 1) + _funding_musd(load_scenario("baseline"), first, last)
    assert number(spending.value) == pytest.approx(expected, rel=0.01)  # three figures
    costs = {m.label: m for m in at.metric if m.label.startswith("Cost per")}
    per_crossing = costs["Cost per Darién crossing averted"]
    # fewer people reach the US border to be removed from it, which can outweigh the
    # integration money: the sign is the model's answer, the figure must be there
    assert np.isfinite(number(per_crossing.value)) and "Not priced" in per_crossing.help

    # The levers survive a visit to another page, and the edited scenario can be compared.
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.session_state["cmp_choice"] == ["baseline", "current: baseline_edited"]
    at.switch_page("pages/whatif.py").run()
    assert not at.exception
    assert at.slider(key="lv_enf_COL-PAN").value == 0.6
    assert at.number_input(key="lv_path_labour_nca").value == 9800.0


def test_compare_shows_every_scenario_side_by_side_with_differences():
    at = start_app()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="cmp_choice").set_value(
        ["baseline", "enforcement_darien_more", "labour_visas_nca_more"]
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    side_by_side, difference = at.dataframe[0].value, at.dataframe[1].value
    # the columns are the scenarios' titles, in plain words
    title = state.scenario_titles()
    base, darien, visas = (title[n] for n in at.session_state["cmp_choice"])
    assert darien == "Stronger enforcement in the Darién (from 2026)"
    assert list(side_by_side.columns) == [base, darien, visas]
    assert list(difference.columns) == [darien, visas]
    row = "Darién crossings per year"
    assert side_by_side.loc[row, darien] < side_by_side.loc[row, base]
    assert difference.loc[row, darien] < 0
    assert difference.loc["Legal pathway arrivals", visas] > 0
    assert len(at.get("plotly_chart")) == 2  # % change and year-by-year difference charts


def test_compare_gives_each_difference_a_90_percent_interval_over_paired_draws():
    if runs.load_posterior_safely()[0] is None:
        pytest.skip("no shipped posterior")
    at = start_app()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="cmp_choice").set_value(["baseline", "enforcement_darien_more"])
    at.selectbox(key="cmp_scale").set_value(1000)
    at.slider(key="cmp_k").set_value(5)
    at.checkbox(key="cmp_sure").check()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("rough interval" in w.value for w in at.warning)
    # side by side, difference, then this comparison's intervals and cost-effectiveness
    differences = at.dataframe[2].value.set_index("indicator")
    crossings = differences.loc[
        next(i for i in differences.index if i.startswith("Darién crossings,"))
    ]
    assert crossings["difference (median)"].startswith("−")
    low, high = crossings["90% interval"].split(" to ")
    assert low.startswith("−") and high.startswith("−")  # fewer crossings in every draw
    value = at.dataframe[3].value
    assert list(value["cost per"]) == [
        "Darién crossing averted",
        "death on the way averted",
        "extra person regularised",
    ]


BAD_UPLOADS = [
    ("broken.toml", b'name = "x"\n[[enforcement]\n', "invalid TOML"),
    (
        "bad_lever.toml",
        b'extends = "baseline.toml"\nname = "bad"\n[[enforcement]]\nedge = "COL-PAN"\n'
        b'interdiction = 1.5\nstart = "2022-01"\n',
        # numbered as the uploaded file numbers it, not after the baseline's rows
        "enforcement[0].interdiction",
    ),
    ("huge.toml", b"# " + b"x" * 1_000_001, "larger than 1000 kB"),
    ("escape.toml", b'extends = "../pyproject.toml"\nname = "x"\n', "can extend only"),
    ("binary.toml", b"\xff\xfe\x00name", "not a text file"),
]


def test_a_bad_upload_shows_the_error_and_the_app_keeps_working():
    at = start_app()
    for filename, content, message in BAD_UPLOADS:
        at.file_uploader(key="upload").set_value((filename, content, "application/toml"))
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        errors = [e.value for e in at.error]
        assert any(filename in e and message in e for e in errors), (filename, errors)
        assert at.session_state["base_choice"] == "baseline"
        assert loads_scenario(at.session_state["applied_toml"]).name == "baseline"
        assert metric(at, "Darién crossings, per year").value  # results still shown
    # Still usable: a lever runs and gives results.
    at.slider(key="lv_enf_COL-PAN").set_value(0.5)
    run_button(at).click()
    at.run()
    assert not at.exception
    assert metric(at, "Darién crossings, per year").delta.startswith("−")
    assert not at.error  # the old message is gone once something else is run


def test_the_window_follows_the_scenario_until_the_user_moves_it():
    at = start_app()
    first, last = at.session_state["window"]
    assert first == indicators.THIS_YEAR
    base, without = load_scenario("baseline"), load_scenario("colombia_tps_without")
    changed = indicators.first_change_year(without, base)
    at.selectbox(key="base_choice").set_value("colombia_tps_without").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["window"] == (changed, last)  # history without it, from when
    assert metric(at, "Darién crossings, per year").label.endswith(f"{changed}–{last}")
    moved = next(s for s in at.select_slider if s.label == "Years the figures cover")
    moved.set_value((2024, 2028)).run()
    assert at.session_state["window"] == (2024, 2028)
    at.selectbox(key="base_choice").set_value("colombia_tps_more").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["window"] == (2024, 2028)  # where the user put it


def test_a_valid_upload_becomes_the_scenario_shown():
    at = start_app()
    text = b'extends = "colombia_tps_more.toml"\nname = "my_tps"\nseed = 7\n'
    at.file_uploader(key="upload").set_value(("my_tps.toml", text, "application/toml"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["base_choice"] == "upload: my_tps"
    shown = loads_scenario(at.session_state["applied_toml"])
    assert shown.name == "my_tps" and shown.seed == 7 and shown.regularisation
    assert any("my_tps" in s.value for s in at.success)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as their values (months as dates), as any reader sees them."""

    def plain(column: pd.Series) -> pd.Series:
        if isinstance(column.dtype, pd.CategoricalDtype):
            return column.astype(column.cat.categories.dtype)
        return column

    return frame.apply(plain)


def test_downloads_hold_the_same_numbers_as_migflow_run(tmp_path, monkeypatch):
    captured: dict[str, bytes] = {}
    original = MediaFileManager.add

    def capture(self, path_or_data, mimetype, coordinates, file_name=None, **kwargs):
        if file_name is not None and isinstance(path_or_data, bytes | str):
            data = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
            captured[file_name] = data
        return original(self, path_or_data, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", capture)
    at = start_app()
    at.number_input(key="lv_path_labour_nca").set_value(9200.0)
    at.number_input(key="lv_seed").set_value(7)
    at.text_input(key="lv_name").set_value("more visas")
    run_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.session_state["view"] = "Tables and downloads"
    at.run()
    toml_file = tmp_path / "more_visas.toml"
    toml_file.write_bytes(captured["more_visas.toml"])
    out = tmp_path / "cli"
    result = runner.invoke(cli, ["run", str(toml_file), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    expected = Results.read(out)
    assert expected.manifest["seed"] == 7

    with zipfile.ZipFile(io.BytesIO(captured["more_visas_results_parquet.zip"])) as z:
        assert {"summary.parquet", "stocks.parquet", "manifest.json", "scenario.toml"} <= set(
            z.namelist()
        )
        for table in ("summary", "stocks", "flows", "events", "spending"):
            got = pd.read_parquet(io.BytesIO(z.read(f"{table}.parquet")))
            pd.testing.assert_frame_equal(_plain(got), _plain(getattr(expected, table)))
    with zipfile.ZipFile(io.BytesIO(captured["more_visas_results_csv.zip"])) as z:
        summary = pd.read_csv(io.BytesIO(z.read("summary.csv")))
        stocks = pd.read_csv(io.BytesIO(z.read("stocks.csv")))
    np.testing.assert_allclose(
        summary.to_numpy(dtype=float), expected.summary.to_numpy(dtype=float)
    )
    assert stocks["people"].sum() == pytest.approx(expected.stocks["people"].sum())


def test_the_baseline_download_matches_migflow_run_baseline(tmp_path):
    scenario = load_scenario("baseline")
    results, _ = runs.run(scenario)
    out = tmp_path / "cli"
    result = runner.invoke(cli, ["run", "baseline", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(results_zip(results, scenario, "parquet"))) as z:
        got = pd.read_parquet(io.BytesIO(z.read("summary.parquet")))
        again = loads_scenario(z.read("scenario.toml").decode())
    pd.testing.assert_frame_equal(got, Results.read(out).summary)
    assert again == scenario


# ------------------------------------------------------------------ building scenarios


def test_levers_are_added_on_top_of_the_scenario_and_unchanged_levers_add_nothing():
    base = load_scenario("baseline")
    unchanged = state.build_scenario(base, state.LeverInputs(start="2023-01", end="2030-12"))
    assert unchanged == base
    inputs = state.LeverInputs(
        start="2023-01",
        end="2026-12",
        integration_musd={"PER": 100.0},
        regularisation={"COL": 50_000.0},
        pathways={"labour_nca": 9800.0},
        enforcement={"COL-PAN": 0.4, "GTM-MEX": None},
        asylum_months=6.0,
        root_causes={"HND": 500.0},
        seed=9,
    )
    edited = state.build_scenario(base, inputs)
    assert edited.name == "baseline_edited" and edited.seed == 9
    assert edited.integration[-1].host == "PER" and edited.integration[-1].end == "2026-12"
    assert edited.regularisation[-1].arrived_before == "2023-01"
    visas = edited.pathways[-1]
    assert visas.capacity_per_year == 9800 and visas.duration_months == 8
    assert state.enforcement_at(edited, "COL-PAN", "2024-06") == 0.4
    # back to the baseline's after the end (Panama's 2024 measures, an assumed 0.1)
    assert state.enforcement_at(edited, "COL-PAN", "2027-06") == state.enforcement_at(
        base, "COL-PAN", "2027-06"
    )
    assert state.enforcement_at(edited, "GTM-MEX", "2024-06") == 0.0
    assert state.asylum_at(edited, "2024-01") == 6.0 and state.asylum_at(edited, "2022-01") == 48
    rows = state.changes_from(edited, base)
    assert [row["lever"] for row in rows] == [
        state.GROUP_WORDS[g]
        for g in ("integration", "regularisation", "pathways", "enforcement", "asylum",
                  "root_causes")
    ]  # fmt: skip
    # in words: country names, not codes or file fields
    assert rows[0]["what"] == "in Peru; $M a year 100"
    assert rows[3]["what"] == "border Colombia → Panama; share of crossings stopped 0.4"
    assert not any(re.search(r"\b[A-Z]{3}\b|_", row["what"]) for row in rows), rows
    assert edited.title == "Baseline: history as it happened, then no change, with your changes"
    labour = state.PATHWAYS["labour_nca"]
    before = state.pathway_capacity(base, labour, "2024-01")  # 9,800 and the FY2022 9,200
    assert before == 19_000
    assert state.pathway_capacity(edited, labour, "2024-01") == before + 9800


def test_invalid_lever_values_are_refused_with_one_line_naming_the_field():
    base = load_scenario("baseline")
    inputs = state.LeverInputs(start="2023-01", end="2030-12", regularisation={"COL": 1000.0})
    inputs.regularisation_origins = ()
    added = len(base.regularisation)  # the programme the user adds comes after the baseline's
    with pytest.raises(InputError, match=rf"regularisation\[{added}\]\.origins"):
        state.build_scenario(base, inputs)


def test_out_of_range_boxes_are_corrected_in_the_words_of_the_widget():
    fixed, notes = state.corrected(
        {"lv_int_COL": 99_999.0, "lv_srv_PER": -5.0, "lv_rc_HTI": None, "lv_seed": 7.5,
         "lv_path_labour_nca": 9800.0}
    )  # fmt: skip
    assert fixed == {
        "lv_int_COL": 5000.0, "lv_srv_PER": 0.0, "lv_rc_HTI": 0.0, "lv_seed": 8,
        "lv_path_labour_nca": 9800.0,
    }  # fmt: skip
    assert notes == [
        "Integration funding in Colombia, $M a year: 99,999 is more than the 5,000 allowed; "
        "set to 5,000.",
        "People served a month in Peru: -5 is less than the 0 allowed; set to 0.",
        "Root-cause funding in Haiti, $M a year: was empty; set to 0.",
        "Random seed: 7.5 is not a whole number; set to 8.",
    ]
    # every box of the sidebar is covered, each with a range that holds its default (0)
    boxes = state.number_boxes()
    assert all(box.low <= 0 < box.high for box in boxes.values())


def test_lever_errors_name_the_section_of_the_sidebar_not_the_file_field():
    inputs = state.LeverInputs(start="2027-01", end="2030-12", regularisation={"COL": 1000.0})
    inputs.regularisation_origins = ()
    (problem,) = state.lever_problems(inputs)
    assert problem.startswith("Regularisation programmes: choose at least one nationality")
    error = InputError("List should have at least 1 item", field="regularisation[3].origins")
    assert state.in_words(error) == "Regularisation programmes: List should have at least 1 item"
    assert state.lever_problems(state.LeverInputs(start="2027-01", end="2030-12")) == []


def test_an_out_of_range_box_never_blocks_the_run_button_and_reset_clears_it():
    at = start_app()
    at.number_input(key="lv_int_COL").set_value(99_999.0)
    run_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (note,) = [w.value for w in at.sidebar.warning]
    assert "Integration funding in Colombia, $M a year: 99,999 is more than" in note
    shown = loads_scenario(at.session_state["applied_toml"])
    assert [lever.funding_musd_per_year for lever in shown.integration if lever.host == "COL"][
        -1
    ] == 5000.0
    assert at.number_input(key="lv_int_COL").value == 5000.0
    # a lever that cannot run is refused in words beside the button, and Reset clears all
    at.number_input(key="lv_reg_PER").set_value(1000.0)
    at.multiselect(key="lv_reg_origins").set_value([])
    run_button(at).click()
    at.run()
    (error,) = [e.value for e in at.sidebar.error]
    assert "choose at least one nationality" in error and "[" not in error
    next(b for b in at.button if b.label == "Reset levers").click()
    at.run()
    assert not at.sidebar.error and not at.sidebar.warning
    assert at.number_input(key="lv_int_COL").value == 0.0
    assert at.number_input(key="lv_reg_PER").value == 0.0
    assert at.multiselect(key="lv_reg_origins").value == ["VEN"]


def test_uploads_are_only_parsed_and_may_extend_only_shipped_files(tmp_path):
    ok = state.scenario_from_upload(b'extends = "colombia_tps_more.toml"\nname = "u"\n', "u.toml")
    assert ok.name == "u" and ok.regularisation
    outside = tmp_path / "other.toml"
    outside.write_text('name = "other"\n')
    for parent in (str(outside), "../scenarios/baseline.toml", "baseline", 3):
        text = f'name = "x"\nextends = {parent!r}\n'.replace("'", '"').encode()
        with pytest.raises(InputError, match="extends: an uploaded file can extend only"):
            state.scenario_from_upload(text, "x.toml")
    with pytest.raises(InputError, match=r"x\.toml: invalid TOML"):
        state.scenario_from_upload(b"import os\nos.system('true')\n", "x.toml")


# ------------------------------------------------------------------ indicators and costs


def _results(regularised: float, crossings: float, cost_musd: float) -> Results:
    from migflow.model.outcomes import OUTCOMES

    summary = pd.DataFrame({"year": [2023, 2024]})
    for outcome in OUTCOMES:
        summary[outcome.name] = [0.0, 0.0]
    summary["darien_crossings"] = [crossings / 2] * 2
    summary["regularisations"] = [regularised / 2] * 2
    summary["cost_musd"] = [cost_musd / 2] * 2
    empty = pd.DataFrame()
    return Results(empty, empty, empty, empty, summary)


def _by_key(costs) -> dict:
    return {c.key: c for c in costs}


def test_costs_divide_every_levers_extra_cost_by_the_extra_effect():
    base = _results(regularised=1000, crossings=5000, cost_musd=0)
    more = _results(regularised=3000, crossings=4000, cost_musd=10)
    cost = _by_key(indicators.costs(more, base, (2023, 2024)))
    assert cost["cost_per_regularisations"].usd == pytest.approx(10e6 / 2000)
    assert cost["cost_per_darien_crossings"].usd == pytest.approx(10e6 / 1000)
    assert "Not priced" in cost["cost_per_darien_crossings"].help
    assert indicators.fmt_usd(-5612.0) == "−$5,610"


def test_costs_are_not_available_when_the_denominator_is_not_positive():
    base = _results(regularised=1000, crossings=5000, cost_musd=0)
    worse = _results(regularised=1000, crossings=6000, cost_musd=10)
    cost = _by_key(indicators.costs(worse, base, (2023, 2024)))
    per_person, per_crossing = cost["cost_per_regularisations"], cost["cost_per_darien_crossings"]
    assert per_person.usd is None and "no more people" in per_person.why
    assert per_crossing.usd is None and "averts no Darién crossings" in per_crossing.why
    assert cost["cost_per_expected_deaths"].usd is None


def test_the_window_starts_where_the_scenario_first_changes_something():
    years = list(range(2015, 2031))
    assert indicators.default_period(years, today=2026) == (2026, 2030)  # the baseline
    assert indicators.default_period(years, today=2040) == (2030, 2030)  # clamped
    base, without = load_scenario("baseline"), load_scenario("colombia_tps_without")
    more = load_scenario("colombia_tps_more")
    assert (
        indicators.default_period(years, indicators.first_change_year(without, base))[0]
        == (indicators.first_change_year(without, base))
        < 2026
    )
    assert indicators.default_period(years, indicators.first_change_year(more, base)) == (
        2026,
        2030,
    )
    # a lever removed counts as a change, in either order
    assert indicators.first_change_year(without, base) == indicators.first_change_year(
        base, without
    )
    assert "from 2021" in indicators.earlier_change(without, base, (2026, 2030))
    assert "from 2021" in indicators.earlier_change(base, without, (2026, 2030))
    assert indicators.earlier_change(load_scenario("colombia_tps_more"), base, (2026, 2030)) == ""


def test_the_sentence_says_what_changed_in_words_and_rounded():
    base = _results(regularised=1000, crossings=50_000, cost_musd=0)
    more = _results(regularised=3000, crossings=40_123, cost_musd=10)
    text = indicators.change_sentence(more, base, (2023, 2024))
    assert "9,880 fewer Darién crossings (−20%)" in text
    assert "2,000 more people regularised" in text
    assert "costs $10.0 M more" in text


# ------------------------------------------------------------------ figures and data


def test_documented_figures_keep_their_sources_and_fall_back_to_the_app_copy(tmp_path):
    missing = tmp_path / "targets.csv"
    table, path = documented.load_documented((missing, documented.FALLBACK))
    assert path == documented.FALLBACK
    assert (table["source"].str.len() > 0).all()
    darien = documented.points(table, "darien_crossings", months=12)
    assert darien.loc[darien["period"] == "2021-01..2021-12", "value"].item() == 133_726
    assert "Panama Servicio Nacional de Migración" in darien["label"].iloc[0]
    cbp = documented.points(table, "us_border_arrivals", months=12)
    assert cbp["x"].iloc[0] == pd.Timestamp("2020-04-01")  # the middle of FY2020
    broken = tmp_path / "broken.csv"
    broken.write_text("just,a,table\n1,2,3\n")
    assert documented.load_documented((broken, documented.FALLBACK))[1] == documented.FALLBACK


def test_flow_diagram_reads_left_to_right_without_loops():
    forward = {e.name for e in EDGES} - set(charts.BACK_EDGES)
    assert set(charts.BACK_EDGES) <= {e.name for e in EDGES}
    graph: dict[str, set[str]] = {}
    for name in forward:
        src, dst = name.split("-")
        graph.setdefault(src, set()).add(dst)
    seen, done = set(), set()

    def visit(node):
        assert node not in seen - done, f"loop through {node}"
        if node in done:
            return
        seen.add(node)
        for nxt in graph.get(node, ()):
            visit(nxt)
        done.add(node)

    for node in list(graph):
        visit(node)


def test_sankey_counts_the_darien_crossings_of_the_run():
    results, _ = runs.run(load_scenario("baseline"))
    links = charts.flow_links(results, (2015, 2030))
    darien = links.loc[links["edge"] == "COL-PAN", "people"].sum()
    assert darien == pytest.approx(results.darien_crossings())
    fig = charts.sankey_figure(results, (2015, 2030))
    assert fig.data[0].type == "sankey"
    # each country's number is the larger of what enters and what leaves it
    labels = dict(label.rsplit(" ", 1) for label in fig.data[0].node.label)
    into_panama = links.loc[links["edge"].str.endswith("-PAN"), "people"].sum()
    out_of_panama = links.loc[links["edge"].str.startswith("PAN-"), "people"].sum()
    assert labels["Panama"] == rounded(max(into_panama, out_of_panama))
    # a legend entry per nationality drawn, by name
    named = {t.name for t in fig.data[1:]}
    assert named == {state.country_name(o) for o in set(links["origin"])}


# ------------------------------------------------------------------ runs and calibration


def test_runs_are_cached_on_the_scenario_text(monkeypatch):
    calls = []
    real = runs.run_uncached

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(runs, "run_uncached", counting)
    small = load_scenario("baseline").clipped("2015-01", "2015-12").with_changes(scale=1000)
    first, _ = runs.run(small.with_changes(seed=123456))
    second, _ = runs.run(small.with_changes(seed=123456))
    other, _ = runs.run(small.with_changes(seed=123457))
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first.summary, second.summary)
    assert other.manifest["seed"] == 123457


class _FakePosterior:
    def __init__(self, point):
        self.point = point

    def draws(self, k, seed=0, overrides=None):
        rng = np.random.default_rng(seed)
        return [
            Parameters({"beta_enforcement": float(b), **(overrides or {})})
            for b in rng.uniform(1, 5, k)
        ]


def test_without_a_posterior_the_page_says_uncalibrated_and_shows_no_bands(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "migflow.calibration.posterior", None)
    posterior, why = runs.load_posterior_safely()
    assert posterior is None and "not installed" in why
    results = Results(*(pd.DataFrame(),) * 5, manifest={"parameters": {}})
    calibrated, text = runs.calibration_status(results)
    assert not calibrated and text.startswith("Uncalibrated starting values")
    assert runs.band_runs(load_scenario("baseline"), 3) is None


def test_with_a_posterior_the_page_offers_uncertainty_bands(monkeypatch):
    monkeypatch.setattr(runs, "load_posterior_safely", lambda: (_FakePosterior({}), "fake"))
    at = start_app()
    at.session_state["view"] = "Time series"
    at.run()
    at.checkbox(key="bands").check()
    at.slider(key="band_k").set_value(5)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # parse the figures: plotly escapes non-ASCII ("5\u201395%") unless orjson is installed
    names = [
        trace.get("name", "")
        for chart in at.get("plotly_chart")
        for trace in json.loads(chart.proto.spec)["data"]
    ]
    assert any(name.endswith("5–95% of posterior draws") for name in names), names
    assert any("Bands: the 5th–95th percentile of 5 runs" in c.value for c in at.caption)


def test_the_page_says_how_often_the_line_lies_outside_the_band():
    columns = ["darien_crossings", "us_border_arrivals", "regularisations"]
    columns += ["legal_pathway_arrivals", *(f"venezuelans_in_{h}" for h in charts.MAIN_HOSTS)]

    def summary(value):
        return pd.DataFrame({"year": [2020, 2021], **{c: [value, value] for c in columns}})

    draws = [summary(v) for v in (90.0, 100.0, 110.0)]
    assert indicators.outside_band(summary(100.0), draws) == 0
    assert indicators.outside_band(summary(200.0), draws) == 1


def test_calibration_status_is_calibrated_only_if_the_run_used_the_point_estimate(monkeypatch):
    point = {"beta_enforcement": 4.0}
    monkeypatch.setattr(runs, "load_posterior_safely", lambda: (_FakePosterior(point), "fake"))
    used = Parameters(point).as_dict()
    results = Results(*(pd.DataFrame(),) * 5, manifest={"parameters": used, "scenario": {}})
    assert runs.calibration_status(results)[0]
    results.manifest["parameters"] = Parameters().as_dict()
    calibrated, text = runs.calibration_status(results)
    assert not calibrated and "does not use its point estimate" in text


# ------------------------------------------------------------------ the command


def test_migflow_app_starts_streamlit_on_the_app_entry_point():
    result = runner.invoke(cli, ["app", "--help"])
    assert result.exit_code == 0 and "--port" in result.output
    args = streamlit_args(8600, "localhost", headless=True)
    assert args[:2] == ["run", str(MAIN)] and MAIN.is_file()
    assert args[args.index("--server.port") + 1] == "8600"
    assert args[args.index("--server.headless") + 1] == "true"
    assert args[args.index("--server.address") + 1] == "localhost"


def test_the_saved_scenario_is_a_file_migflow_run_accepts(tmp_path):
    edited = state.build_scenario(
        load_scenario("baseline"),
        state.LeverInputs(start="2023-01", end="2030-12", root_causes={"GTM": 100.0}),
    )
    path = tmp_path / "saved.toml"
    path.write_text(scenario_toml(edited))
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert load_scenario(path) == edited


def test_with_no_screen_the_app_never_waits_at_streamlits_first_run_prompt(monkeypatch):
    # not headless, Streamlit's first run asks for an e-mail address on stdin
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not can_open_browser()


def test_the_explain_page_runs_and_names_every_segment_where_people_die():
    at = AppTest.from_file(
        str(Path(MAIN_SCRIPT).parent / "pages" / "explain.py"), default_timeout=60
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(" ".join(m.value for m in at.markdown).split())
    assert "Darién Gap, crossing Central America and Mexico, and at the US border" in text


def test_the_brief_tells_the_changes_costs_evidence_and_how_to_reproduce_them():
    from html import unescape

    from migflow.app import brief
    from migflow.model.run import run_scenario

    base = load_scenario("baseline").with_changes(scale=1000)
    scenario = load_scenario("enforcement_darien_more").with_changes(scale=1000)
    results, baseline = run_scenario(scenario), run_scenario(base)
    years = (2026, 2030)
    page = brief.brief_html(scenario, base, results, baseline, years, "Calibrated.")
    body = page[page.index("<body>") :]
    text = unescape(
        re.sub(r"\s+", " ", re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S))
    )
    assert "What if: Stronger enforcement in the Darién (from 2026)?" in text
    # the headline table holds the app's own figures for the same runs and years
    darien = next(i for i in indicators.headline(results, baseline, years) if "Darién" in i.label)
    assert indicators.fmt_change(darien) in text and darien.label in text
    assert "Enforcement at the borders" in text and "border Colombia → Panama" in text
    # the evidence of the lever, as docs/levers.md states it
    assert "October 2022 expulsions of Venezuelans" in text
    # ... and what in it the data leave open (docs/calibration.md, "What the data decide")
    assert re.search(r"Not decided by the data: [a-z_, ]*\btransit_news_sensitivity\b", text)
    assert "No intervals" in text and "Darién crossing averted" in text  # a cost per unit
    # the charts' script is inlined once: the page needs no other host
    assert page.count("<script") >= 3 and not re.search(r'src="https?://', page)
    # the scenario files in the brief run as they are
    toml = re.findall(r"<pre>(.*?)</pre>", page, flags=re.S)
    assert loads_scenario(unescape(toml[0]), source="brief").name == scenario.name
    assert brief.lever_evidence().keys() >= {"integration", "enforcement", "pathways"}


def test_a_lever_resting_on_a_parameter_the_data_leave_open_says_so():
    from migflow.app import brief

    rests_on = brief.lever_parameters()
    assert {"beta_expulsion", "transit_news_sensitivity"} <= set(rests_on["enforcement"])
    note = brief.left_open_note(rests_on["enforcement"], ["transit_news_sensitivity", "x.GTM"])
    assert "Not decided by the data: transit_news_sensitivity" in note
    assert "x.GTM" not in note  # named only where the lever rests on it
    assert brief.left_open_note(rests_on["pathways"], ["transit_news_sensitivity"]) == ""
    # the shipped calibration leaves transit_news_sensitivity open, so a brief of an
    # enforcement scenario says so
    assert "transit_news_sensitivity" in brief.open_parameters()
    posterior, _ = runs.load_posterior_safely()
    assert set(brief.open_parameters()) <= set(posterior.settings["free_parameters"])


def test_the_map_draws_each_route_as_wide_as_its_people_and_the_change_in_colour():
    from migflow.app import route_map
    from migflow.model.run import run_scenario

    base = run_scenario(load_scenario("baseline").with_changes(scale=1000))
    more = run_scenario(load_scenario("enforcement_darien_more").with_changes(scale=1000))
    years = (2026, 2030)
    flows = route_map.edge_flows(more, base, years).set_index("edge")
    # people a year: the flow table's crossings over the five years, divided by five
    links = charts.flow_links(more, years).groupby("edge")["people"].sum()
    assert flows.loc["COL-PAN", "people"] == pytest.approx(links["COL-PAN"] / 5)
    assert flows.loc["COL-PAN", "change"] < 0  # stronger enforcement: fewer in the Darién

    def routes(fig):
        return [t for t in fig.data if t.hovertemplate and "people a year" in t.hovertemplate]

    fig = route_map.map_figure(more, base, years)
    widths = {t.hovertemplate.split(":")[0]: t.line.width for t in routes(fig)}
    top = flows["people"].idxmax()
    src, dst = top.split("-")
    assert widths[f"{state.country_name(src)} → {state.country_name(dst)}"] == route_map.WIDEST
    # widths to scale: the Darién's line against the widest, as its people against the most
    darien = widths["Colombia → Panama (the Darién)"]
    assert darien == pytest.approx(
        max(1.0, route_map.WIDEST * flows.loc["COL-PAN", "people"] / flows["people"].max())
    )
    changed = route_map.map_figure(more, base, years, change=True)
    colours = {t.hovertemplate.split(":")[0]: t.line.color for t in routes(changed)}
    assert colours["Colombia → Panama (the Darién)"] == route_map.FEWER
    # the numbers on routes never print on each other, the largest route's among them
    numbers = next(t for t in fig.data if t.mode == "text")
    spots = np.column_stack([numbers.x, numbers.y])
    gaps = np.hypot(*(spots[:, None, :] - spots[None, :, :]).transpose(2, 0, 1))
    assert 3 <= len(spots) <= route_map.LABELS
    assert gaps[np.triu_indices(len(spots), 1)].min() >= route_map.LABEL_GAP
    assert rounded(flows["people"].max()) in numbers.text
    # the isthmus's names fan out to both sides of their points
    names = next(t for t in fig.data if t.mode == "markers+text")
    sides = {p.split()[-1] for p, n in zip(names.textposition, names.text, strict=True)
             if n in ("Guatemala", "Honduras", "El Salvador", "Nicaragua")}  # fmt: skip
    assert sides == {"left", "right"}
    # drawn on plain axes from the shipped shapes: no map service, nothing fetched
    assert not any(t.type in ("scattergeo", "choropleth", "scattermapbox") for t in fig.data)
    assert fig.data[0].fill == "toself" and len(fig.data[0].x) > 1000


def test_the_year_by_year_difference_tells_projection_from_history():
    results, _ = runs.run(load_scenario("baseline"))
    table, _ = documented.load_documented()
    fig = charts.difference_figure([("a", results), ("b", results)], "darien_crossings", "x", table)
    last = documented.documented_until(table).year
    shaded = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(s.x0, s.x1) for s in shaded] == [(last + 0.5, 2030.5)]


def test_the_monthly_chart_shades_the_months_after_the_last_documented_figure():
    results, _ = runs.run(load_scenario("baseline"))
    table, _ = documented.load_documented()
    fig = charts.darien_monthly_figure(results, results, table)
    until = documented.documented_until(table)
    [shade] = [s for s in fig.layout.shapes if s.type == "rect"]
    assert pd.Timestamp(shade.x0) == until and pd.Timestamp(shade.x1).year == 2030
    assert (shade.yref, shade.y0, shade.y1) == ("y domain", 0, 1)
    assert [a.text for a in fig.layout.annotations] == [
        f"after {until.year}: model only, no documented counts"
    ]


def test_the_flow_diagrams_change_view_draws_each_difference_in_its_colour():
    base, _ = runs.run(load_scenario("baseline"))
    more, _ = runs.run(load_scenario("enforcement_darien_more"))
    years = (2026, 2030)
    fig = charts.sankey_change_figure(more, base, years)
    link = fig.data[0].link
    darien = [i for i, h in enumerate(link.customdata) if "(the Darién)" in h]
    change = (
        charts.flow_links(more, years).query("edge == 'COL-PAN'")["people"].sum()
        - charts.flow_links(base, years).query("edge == 'COL-PAN'")["people"].sum()
    )
    assert change < 0  # stronger enforcement: fewer in the Darién
    assert sum(link.value[i] for i in darien) == pytest.approx(abs(change))
    assert {link.color[i] for i in darien} == {charts._alpha(charts.FEWER_COLOUR, 0.6)}
    assert {t.name for t in fig.data[1:]} == {"more than the baseline", "fewer than the baseline"}


def test_each_cards_interval_is_read_as_the_card_reads_its_change():
    """With every draw the same pair of runs, each card's 90% interval is its own change at
    both ends: a yearly average for a per-year card, not the total over the years, and the
    card's own outcome, not another whose label starts alike."""
    from migflow.app import brief

    base, _ = runs.run(load_scenario("baseline"))
    more, _ = runs.run(load_scenario("enforcement_darien_more"))
    years = (2026, 2030)
    table = brief.headline_table(more, base, years, ([base.summary] * 3, [more.summary] * 3))
    for change, interval in zip(table["change"], table["90% interval of the change"], strict=True):
        alone = change.split(" (")[0]
        assert interval == f"{alone} to {alone}", (change, interval)


def test_a_lever_change_runs_from_the_baselines_saved_state_and_gives_the_full_runs_numbers(
    monkeypatch,
):
    """The baseline's run keeps its state at the month levers start by default; a lever
    from that month runs only from there, and gives what a run from the start gives."""
    runs._saved_states.clear()
    this_year = state.THIS_YEAR
    # a short window around the month levers start by default keeps the test fast
    window = load_scenario("baseline").clipped(f"{this_year - 2}-01", f"{this_year + 1}-12")
    edited = window.with_changes(
        scale=1000,
        seed=24680,
        enforcement=[
            *window.enforcement,
            {"edge": "COL-PAN", "interdiction": 0.5, "start": f"{this_year}-01"},
        ],
    )
    reference = runs.baseline_for(edited)
    runs.run(reference)  # what the first visit does
    runs_from_start = []
    engine = importlib.import_module("migflow.model.run")
    real = engine.run_until
    monkeypatch.setattr(
        engine, "run_until", lambda *a, **k: runs_from_start.append(a) or real(*a, **k)
    )
    results, baseline, _, _ = runs.run_with_baseline(edited)
    assert runs_from_start == []  # the saved state was used
    full = run_scenario(edited)
    for table in ("summary", "stocks", "flows", "events", "spending"):
        assert getattr(results, table).equals(getattr(full, table)), table
    assert not results.flows.equals(baseline.flows)


def test_the_baseline_warmed_up_at_server_start_is_the_run_the_first_visitor_sees(monkeypatch):
    """``migflow app`` runs the baseline before the server listens (runs.warm_up); the first
    visitor's page must take that run from the cache, not run it again."""
    runs._run_cached.clear()
    runs_made = []
    real_run_until = runs.run_until

    def counted(*args, **kwargs):
        runs_made.append(args[0].name)
        return real_run_until(*args, **kwargs)

    monkeypatch.setattr(runs, "run_until", counted)
    runs.warm_up()
    assert runs_made == ["baseline"]
    at = start_app()
    assert runs_made == ["baseline"]
    assert number(metric(at, "Darién crossings, per year").value) > 0


def test_an_upload_that_changes_a_fitted_push_level_says_so_in_words():
    """A scenario may point a push knot at another fitted level (``fitted_push``); the
    changes the page lists name it as a change of the pressure to leave, by country."""
    base = load_scenario("baseline")
    data = base.model_dump(mode="json", exclude_none=True)
    data["fitted_push"]["GTM"] = {"2021-01": "push_nca_lull"}
    edited = loads_scenario(tomli_w.dumps({**data, "name": "nca_lull"}), "nca_lull.toml")
    rows = state.changes_from(edited, base)
    assert [(r["lever"], r["what"]) for r in rows] == [
        ("Pressure to leave", "Guatemala: a different path over the years")
    ]


def test_a_termination_in_an_upload_is_listed_in_words():
    """A programme whose status is later taken back (``status_ends``) says from when, in
    the app's words, not under its field name."""
    base = load_scenario("baseline")
    data = base.model_dump(mode="json", exclude_none=True)
    data["regularisation"].append(
        {"host": "COL", "name": "A protection", "capacity_per_month": 1000,
         "origins": ["VEN"], "start": "2026-01", "end": "2026-12", "status_ends": "2028-01"}
    )  # fmt: skip
    edited = loads_scenario(tomli_w.dumps({**data, "name": "ended"}), "ended.toml")
    [row] = state.changes_from(edited, base)
    assert "status taken back from 2028-01" in row["what"]
    assert "status_ends" not in row["what"]
