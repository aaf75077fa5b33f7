"""Lever ids and ``without``: a file that extends another may drop the levers it inherits by
id ("history without one instrument"); the shipped two-question files do exactly that, or add
only levers from 2026; every bad ``without`` or ``id`` is refused with one line naming the
file, the field and what is allowed."""

from __future__ import annotations

import pytest
from strategies import SEED_INSTRUMENTS
from typer.testing import CliRunner

from migflow.cli import app
from migflow.model.errors import InputError
from migflow.model.scenario import (
    LEVER_GROUPS,
    SCENARIO_DIR,
    dumps_scenario,
    load_scenario,
    loads_scenario,
)

runner = CliRunner()
BASELINE = load_scenario("baseline")
WITHOUT = sorted(SCENARIO_DIR.glob("*_without.toml"))
MORE = sorted(SCENARIO_DIR.glob("*_more.toml"))
WHAT_IFS = [SCENARIO_DIR / "enforcement_mexico_south.toml", SCENARIO_DIR / "faster_asylum.toml"]


def _rows(scenario) -> list[tuple[str, dict]]:
    return [
        (group, lever.model_dump(mode="json"))
        for group in LEVER_GROUPS
        for lever in getattr(scenario, group)
    ]


def _ids(scenario) -> set[str]:
    return {row["id"] for _, row in _rows(scenario) if row.get("id")}


# ------------------------------------------------------------------ the shipped files


def test_every_lever_of_the_baseline_has_an_id():
    assert all(row.get("id") for _, row in _rows(BASELINE))


def test_each_seed_instrument_is_asked_as_two_questions_or_one_what_if():
    stems = {p.stem for p in SCENARIO_DIR.glob("*.toml")}
    for name in SEED_INSTRUMENTS:
        assert {f"{name}_without", f"{name}_more"} <= stems, name
        assert name not in stems  # the old one-question file is gone
    assert {"enforcement_mexico_south", "faster_asylum"} <= stems


@pytest.mark.parametrize("path", WITHOUT, ids=lambda p: p.stem)
def test_a_without_file_is_the_baseline_minus_the_rows_of_its_ids(path):
    """History without an instrument: every other row of the baseline, in the same order,
    with the same window, seed and scale (so a comparison keeps common random numbers)."""
    scenario = load_scenario(path)
    dropped = _ids(BASELINE) - _ids(scenario)
    assert dropped, "a without file must drop something"
    expected = [(g, row) for g, row in _rows(BASELINE) if row["id"] not in dropped]
    assert _rows(scenario) == expected
    for key in ("start", "end", "seed", "scale", "push", "opportunity", "parameters"):
        assert getattr(scenario, key) == getattr(BASELINE, key), key


@pytest.mark.parametrize("path", MORE + WHAT_IFS, ids=lambda p: p.stem)
def test_a_more_or_what_if_file_adds_levers_from_2026_only(path):
    scenario = load_scenario(path)
    rows = _rows(scenario)
    base = _rows(BASELINE)
    assert rows[: len(base)] == base or all(r in rows for r in base)
    added = [row for row in rows if row not in base]
    assert added
    assert all(row["start"] >= "2026-01" for _, row in added), path.name
    for key in ("start", "end", "seed", "scale", "push", "opportunity", "parameters"):
        assert getattr(scenario, key) == getattr(BASELINE, key), key


def test_the_declaration_package_files_drop_and_add_what_the_single_files_do():
    package = load_scenario("los_angeles_declaration_without")
    singles = set()
    for path in WITHOUT:
        if path.stem != "los_angeles_declaration_without":
            singles |= _ids(BASELINE) - _ids(load_scenario(path))
    assert _ids(BASELINE) - _ids(package) == singles
    more = _rows(load_scenario("los_angeles_declaration_more"))
    for path in [p for p in MORE if p.stem != "los_angeles_declaration_more"] + WHAT_IFS:
        for row in _rows(load_scenario(path)):
            assert row in more, (path.name, row)


# ------------------------------------------------------------------ how without works


def _write(folder, name: str, text: str):
    path = folder / name
    path.write_text(text)
    return path


def test_without_drops_every_row_with_the_id_and_nothing_else(tmp_path):
    child = _write(
        tmp_path,
        "child.toml",
        'extends = "baseline.toml"\nname = "child"\nwithout = ["assistance_240m"]\n',
    )
    loaded = load_scenario(child)
    assert len(BASELINE.integration) - len(loaded.integration) == 5  # one row per host
    assert "assistance_240m" not in _ids(loaded)
    assert _ids(BASELINE) - _ids(loaded) == {"assistance_240m"}
    again = loads_scenario(dumps_scenario(loaded))  # saved: resolved, no without, no extends
    assert again == loaded


def test_a_file_may_drop_an_instrument_and_add_its_own_version(tmp_path):
    child = _write(
        tmp_path,
        "child.toml",
        'extends = "baseline.toml"\nname = "child"\nwithout = ["colombia_tps"]\n'
        '[[regularisation]]\nid = "colombia_tps"\nhost = "COL"\norigins = ["VEN"]\n'
        'capacity_per_month = 1000\nstart = "2021-05"\n',
    )
    rows = [r for r in load_scenario(child).regularisation if r.id == "colombia_tps"]
    assert [r.capacity_per_month for r in rows] == [1000]


def test_without_reaches_levers_inherited_through_a_chain(tmp_path):
    _write(tmp_path, "middle.toml", 'extends = "colombia_tps_more.toml"\nname = "middle"\n')
    child = _write(
        tmp_path,
        "child.toml",
        'extends = "middle.toml"\nname = "child"\n'
        'without = ["colombia_tps", "colombia_tps_2026"]\n',
    )
    ids = _ids(load_scenario(child))
    assert "colombia_tps" not in ids and "colombia_tps_2026" not in ids


def test_an_upload_may_use_without():
    loaded = loads_scenario('extends = "baseline.toml"\nname = "u"\nwithout = ["cbp_one"]\n')
    assert "cbp_one" not in _ids(loaded)


def test_without_an_empty_list_changes_nothing(tmp_path):
    child = _write(
        tmp_path, "child.toml", 'extends = "baseline.toml"\nname = "child"\nwithout = []\n'
    )
    assert _rows(load_scenario(child)) == _rows(BASELINE)


# ------------------------------------------------------------------ refusals


def _refusal(path) -> str:
    """The one line ``migflow validate`` prints for ``path``, checking exit status 2."""
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) <= 3  # one message (rich may wrap it)
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    "without, field, message",
    [
        ('"colombia_tps"', "without",
         "must be a list of lever ids, e.g. without = ['colombia_tps']"),
        ("[3]", "without[0]", "must be a lever id in quotes, e.g. 'colombia_tps' (got 3)"),
        ('["colombia_tps.toml"]', "without[0]", "is not a lever id (not a file name or a path)"),
        ('["../baseline"]', "without[0]", "is not a lever id (not a file name or a path)"),
        ('["Colombia TPS"]', "without[0]", "lowercase letters, digits and _"),
        ('["colombia_tp"]', "without[0]",
         "no lever inherited from baseline.toml has id 'colombia_tp'; "
         "did you mean 'colombia_tps' or 'colombia_pep_3' or 'colombia_pep_2'?"),
        ('["qqqqqq"]', "without[0]",
         "no lever inherited from baseline.toml has id 'qqqqqq'; its ids include"),
        ('["colombia_tps", "colombia_tps"]', "without[1]", "'colombia_tps' is listed twice"),
        ("{ id = 'colombia_tps' }", "without", "must be a list of lever ids"),
    ],
)  # fmt: skip
def test_a_bad_without_is_refused_naming_the_file_the_entry_and_what_is_allowed(
    tmp_path, without, field, message
):
    bad = _write(
        tmp_path, "bad.toml", f'extends = "baseline.toml"\nname = "bad"\nwithout = {without}\n'
    )
    line = _refusal(bad)
    assert f"bad.toml: {field}: " in line, line
    assert message in line, line


def test_without_in_a_file_that_extends_nothing_is_refused(tmp_path):
    bad = _write(
        tmp_path,
        "bad.toml",
        'name = "bad"\nwithout = ["colombia_tps"]\n',
    )
    line = _refusal(bad)
    assert "bad.toml: without: without drops levers inherited through extends" in line, line


def test_an_unknown_id_in_a_parent_without_ids_says_so(tmp_path):
    _write(tmp_path, "parent.toml", 'name = "parent"\nstart = "2015-01"\nend = "2016-12"\n')
    bad = _write(tmp_path, "bad.toml", 'extends = "parent.toml"\nname = "bad"\nwithout = ["x"]\n')
    line = _refusal(bad)
    assert "bad.toml: without[0]: no lever inherited from parent.toml has id 'x'" in line
    assert "it has no lever with an id" in line


@pytest.mark.parametrize(
    "value, message",
    [
        ('"Colombia TPS"', "'Colombia TPS' is not a lever id; a lever id is lowercase letters"),
        ('"tps/2021"', "is not a lever id (not a file name or a path)"),
        ("7", "must be a string in quotes (got 7)"),
        ('"' + "a" * 65 + '"', "at most 64 characters"),
    ],
)
def test_a_bad_lever_id_is_refused_at_its_row(tmp_path, value, message):
    bad = _write(
        tmp_path,
        "bad.toml",
        'extends = "baseline.toml"\nname = "bad"\n'
        f'[[enforcement]]\nid = {value}\nedge = "COL-PAN"\ninterdiction = 0.5\nstart = "2026-01"\n',
    )
    line = _refusal(bad)
    assert "bad.toml: enforcement[0].id: " in line and message in line, line


def test_rows_keep_their_own_file_numbers_after_without(tmp_path):
    """Dropping a parent's rows does not renumber them: a mistake in the parent's third row
    is still its enforcement[2], and the child's own first row is still its [0]."""
    _write(
        tmp_path,
        "parent.toml",
        'name = "parent"\nstart = "2015-01"\nend = "2016-12"\n'
        '[[enforcement]]\nid = "a"\nedge = "COL-PAN"\ninterdiction = 0.5\nstart = "2015-01"\n'
        '[[enforcement]]\nid = "b"\nedge = "COL-PAN"\ninterdiction = 0.5\nstart = "2015-01"\n'
        '[[enforcement]]\nid = "c"\nedge = "COL-XXX"\ninterdiction = 0.5\nstart = "2015-01"\n',
    )
    child = _write(
        tmp_path, "child.toml", 'extends = "parent.toml"\nname = "child"\nwithout = ["a"]\n'
    )
    line = _refusal(child)
    assert "parent.toml: enforcement[2].edge: unknown route edge" in line, line

    _write(
        tmp_path,
        "parent.toml",
        'name = "parent"\nstart = "2015-01"\nend = "2016-12"\n'
        '[[enforcement]]\nid = "a"\nedge = "COL-PAN"\ninterdiction = 0.5\nstart = "2015-01"\n',
    )
    child.write_text(
        'extends = "parent.toml"\nname = "child"\nwithout = ["a"]\n'
        '[[enforcement]]\nedge = "COL-PAN"\ninterdiction = 0.5\norigins = ["ATL"]\n'
        'start = "2015-01"\n'
    )
    line = _refusal(child)
    assert "child.toml: enforcement[0].origins: unknown origin 'ATL'" in line, line


def test_a_bad_without_in_an_upload_names_the_upload():
    with pytest.raises(InputError, match=r"^upload: without\[0\]: no lever inherited"):
        loads_scenario('extends = "baseline.toml"\nname = "u"\nwithout = ["nope_nope"]\n')
