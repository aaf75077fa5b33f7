"""Scenario files: every shipped file validates and runs; load -> save -> load round-trips;
generated invalid files are refused with exit status 2 and a message naming the field."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from model.cli import app
from model.run import run_scenario
from model.scenario import dumps_scenario, list_scenarios, load_scenario, loads_scenario

SHIPPED = list_scenarios()
runner = CliRunner()


INSTRUMENTS = {
    "assistance_240m",
    "colombia_tps",
    "ecuador_registration",
    "labour_visas_nca",
    "cuban_family_reunification_parole",
    "safe_mobility_offices",
    "enforcement_darien",
    "enforcement_mexico_south",
    "root_causes_6_3b",
    "faster_asylum",
    "los_angeles_declaration",
}


def test_the_baseline_and_one_file_per_instrument_are_shipped():
    assert {p.stem for p in SHIPPED} >= {"baseline", *INSTRUMENTS}
    assert SHIPPED[0].stem == "baseline"


def test_every_policy_scenario_extends_the_baseline_and_cites_its_source():
    for path in SHIPPED[1:]:
        text = path.read_text()
        assert 'extends = "baseline.toml"' in text, path.name
        assert "seed" in text.lower() and text.lstrip().startswith("#"), path.name


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_and_runs(path):
    scenario = load_scenario(path)
    results = run_scenario(scenario)
    assert results.summary["emigrants"].sum() > 0
    assert len(results.summary) == scenario.n_months // 12


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_load_save_load_round_trips(path, tmp_path):
    scenario = load_scenario(path)
    saved = tmp_path / "saved.toml"
    saved.write_text(dumps_scenario(scenario))
    assert load_scenario(saved) == scenario


# ------------------------------------------------------------- generated invalid files


def _baseline_data() -> dict:
    return load_scenario("baseline").model_dump(mode="json", exclude_none=True)


def _set(data: dict, path: list, value) -> dict:
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


# (path to corrupt, bad value, text the message must name)
CORRUPTIONS = [
    (["integration"], [{"host": "XYZ", "start": "2016-01"}], "integration[0].host"),
    (["enforcement", 0, "edge"], "COL-XXX", "enforcement[0].edge"),
    (["enforcement", 0, "interdiction"], 1.5, "enforcement[0].interdiction"),
    (["enforcement", 0, "origins"], ["ATLANTIS"], "enforcement[0].origins"),
    (["enforcement", 0, "origins"], [], "enforcement[0].origins"),
    (["enforcement", 0, "expulsion"], "sometimes", "enforcement[0].expulsion"),
    (["pathways", 0, "origins"], ["ATLANTIS"], "pathways[0].origins"),
    (["pathways", 0, "capacity_per_year"], -10.0, "pathways[0].capacity_per_year"),
    (["pathways", 0, "kind"], "teleport", "pathways[0].kind"),
    (["integration"], [{"host": "PER", "funding_musd_per_year": -1, "start": "2016-01"}],
     "integration[0].funding_musd_per_year"),
    (["regularisation"], [{"host": "COL", "capacity_per_month": -5, "start": "2016-01"}],
     "regularisation[0].capacity_per_month"),
    (["start"], "2015-13", "start"),
    (["end"], "20xx-01", "end"),
    (["asylum", 0, "start"], "2014-01", "asylum[0].start"),
    (["asylum", 0, "processing_months"], "fast", "asylum[0].processing_months"),
    (["scale"], 0, "scale"),
    (["seed"], "abc", "seed"),
    (["push"], {"ATLANTIS": {"2015-01": 1.0}}, "push"),
    (["parameters"], {"no_such_parameter": 1.0}, "parameters"),
    (["parameters"], {"deport_share": 7.0}, "parameters"),
    (["colour"], "blue", "colour"),
]  # fmt: skip


@given(st.sampled_from(CORRUPTIONS), st.booleans())
def test_generated_invalid_files_are_refused_with_exit_2_naming_the_field(corruption, via_run):
    path, value, field = corruption
    data = _set(_baseline_data(), path, value)
    with tempfile.TemporaryDirectory() as tmp:
        bad, out = Path(tmp) / "bad.toml", Path(tmp) / "out"
        bad.write_text(tomli_w.dumps(data))
        args = (
            ["run", str(bad), "--out", str(out), "--quiet"] if via_run else ["validate", str(bad)]
        )
        result = runner.invoke(app, args)
        assert not out.exists(), "nothing may be written for a bad file"
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in message + result.stdout
    assert "bad.toml" in message and field in message, message
    assert len(message.strip().splitlines()) <= 3  # one message (rich may wrap it)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name = ", "invalid TOML"),
        ("\x00\x01binary", "invalid TOML"),
        ("[[integration]\nhost='PER'", "invalid TOML"),
        ("description = 'no name'", "name"),
    ],
)
def test_corrupt_uploads_are_refused_with_one_clear_message(text, expected):
    with pytest.raises(Exception) as info:
        loads_scenario(text)
    assert type(info.value).__name__ == "InputError"
    assert expected in str(info.value)


def test_an_oversized_upload_is_refused():
    with pytest.raises(Exception, match="larger than"):
        loads_scenario("# " + "x" * 2_000_000)


def test_extends_merges_tables_and_appends_levers(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "baseline.toml"\nname = "child"\n'
        '[push.VEN]\n"2015-01" = 2.0\n'
        '[[integration]]\nhost = "PER"\nfunding_musd_per_year = 10\nstart = "2023-01"\n'
    )
    base, loaded = load_scenario("baseline"), load_scenario(child)
    assert loaded.push["VEN"]["2015-01"] == 2.0
    assert loaded.push["HTI"] == base.push["HTI"]
    assert loaded.enforcement == base.enforcement
    assert loaded.integration[-1].host == "PER"
    data = tomllib.loads(dumps_scenario(loaded))
    assert "extends" not in data  # saved scenarios are self-contained


def test_an_error_in_an_extending_file_names_the_row_as_that_file_numbers_it(tmp_path):
    """The baseline brings eleven enforcement rows; the file's own first row is its [0],
    not [11] (which the message said until this test)."""
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "baseline.toml"\nname = "child"\n'
        '[[enforcement]]\nedge = "COL-PAN"\ninterdiction = 0.5\norigins = ["ATL"]\n'
        'start = "2023-01"\n'
    )
    result = runner.invoke(app, ["validate", str(child)])
    assert result.exit_code == 2
    assert "enforcement[0].origins" in result.stderr, result.stderr

    broken_parent = tmp_path / "parent.toml"
    broken_parent.write_text(
        'name = "parent"\nstart = "2015-01"\nend = "2016-12"\n'
        '[[enforcement]]\nedge = "COL-XXX"\ninterdiction = 0.5\nstart = "2015-01"\n'
    )
    child.write_text(
        'extends = "parent.toml"\nname = "child"\n'
        '[[enforcement]]\nedge = "COL-PAN"\ninterdiction = 0.5\nstart = "2015-01"\n'
    )
    result = runner.invoke(app, ["validate", str(child)])
    assert result.exit_code == 2
    assert "enforcement[0].edge (in a row inherited through extends)" in result.stderr


@pytest.mark.parametrize("parent", ["/etc/passwd", "../secret.toml", "sub/baseline.toml"])
def test_an_upload_may_only_extend_a_shipped_scenario_by_name(parent):
    with pytest.raises(Exception, match="extend a shipped scenario") as info:
        loads_scenario(f'extends = "{parent}"\nname = "x"\n')
    assert type(info.value).__name__ == "InputError"


def test_a_scenario_name_means_the_same_file_wherever_it_is_accepted(tmp_path):
    """``baseline`` and ``baseline.toml`` work alike in ``extends``, ``migflow run`` and a
    sweep's ``base``; a file next to the referring one comes before the shipped one."""
    base = load_scenario("baseline")
    for parent in ("baseline", "baseline.toml"):
        child = tmp_path / f"child_{parent.replace('.', '_')}.toml"
        child.write_text(f'extends = "{parent}"\nname = "child"\n')
        assert load_scenario(child).enforcement == base.enforcement
        assert loads_scenario(f'extends = "{parent}"\nname = "x"\n').push == base.push
    (tmp_path / "baseline.toml").write_text('name = "local"\nstart = "2016-01"\nend = "2017-12"\n')
    near = tmp_path / "near.toml"
    near.write_text('extends = "baseline"\nname = "near"\n')
    assert load_scenario(near).start == "2016-01"
