"""Hostile and careless input (issue 19): the contract every file and command line keeps.

Either the input is refused with exit status 2 and one line that names the file and the
field, with no traceback and nothing written, before any work starts; or the run goes
ahead and everything it writes stays inside the chosen folder.

Hypothesis mutates the real shipped files (scenarios, the example sweep, the calibration
targets): wrong types, non-finite numbers, deep nesting, hostile names. Every class of the
issue also has explicit cases below, so each is checked on every run, whatever hypothesis
draws. Runs are short (two years at 1,000 people per agent).
"""

from __future__ import annotations

import copy
import csv
import os
import tempfile
import tomllib
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from migflow.calibration.paths import DEFAULT_TARGETS
from migflow.calibration.paths import SHIPPED as SHIPPED_FIT
from migflow.calibration.targets import load_targets
from migflow.cli import app
from migflow.model.errors import InputError
from migflow.model.scenario import SCENARIO_DIR, list_scenarios, load_scenario, save_scenario

runner = CliRunner()
SHIPPED = list_scenarios()
EXAMPLE_SWEEP = SCENARIO_DIR / "sweeps" / "example.toml"


# ------------------------------------------------------------------------------ helpers


def _refused(result, *names: str) -> str:
    """Exit 2, one line on stderr naming every one of ``names``, no traceback."""
    text = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("error: "), text
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


class _Started(Exception):
    """Raised by a stand-in for the simulation: the command got as far as starting it."""


@contextmanager
def _no_simulation():
    """Any attempt to simulate fails the test: checks must all come before."""

    def refuse(*args, **kwargs):
        raise _Started

    # imported before the patch, so that no module binds the stand-in by name for the
    # rest of the session (patching report.simulate_draws would import it under the patch)
    import migflow.calibration.report  # noqa: F401

    with (
        mock.patch("migflow.model.run.run_scenario", refuse),
        mock.patch("migflow.calibration.report.simulate_draws", refuse),
    ):
        yield


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _small(tmp: Path, name: str = "small", **changes) -> Path:
    """A valid scenario file: the baseline on two years at 1,000 people per agent."""
    path = tmp / "small.toml"
    scenario = load_scenario("baseline").clipped(end="2016-12")
    scenario = scenario.with_changes(scale=1000, **changes)
    save_scenario(scenario, path)
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data["name"] = name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _leaves(data, prefix=()):
    """(path, value) of every number, boolean and string in a parsed TOML document."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _leaves(value, (*prefix, i))
    else:
        yield prefix, data


def _set(data, path, value):
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _field(path) -> str:
    """A location as messages write it: enforcement[0].interdiction."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _nested(depth: int, kind: str) -> str:
    """TOML text of a value nested ``depth`` levels deep."""
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return "{a = " * depth + "1" + "}" * depth


def _wrong_type(value):
    """Values of the wrong TOML type for ``value``'s field: a TOML author who typed one
    meant something the model must not guess."""
    if isinstance(value, bool):
        return st.sampled_from([1, 0, "true", "yes", 1.0])
    if isinstance(value, int | float):
        return st.sampled_from(
            [str(value), True, False, float("nan"), float("inf"), -float("inf"), [value], {}]
        )
    return st.sampled_from([1, 2.5, True, ["x"]])


# Numbers nobody can run, or a sum of them that overflows: refused by the documented maxima.
OVERSIZED = [1e308, 1e12, 1_000_000.0]


# ------------------------------------------ 2. strict types: generated from the shipped files


def _typed_leaves(data):
    """Leaves whose type the schema fixes (free text too: a note must be a string)."""
    return [(path, value) for path, value in _leaves(data) if path[0] != "extends"]


def _with_one_wrong_value(source: Path, data, folder: Path) -> tuple[Path, tuple]:
    """``source`` written to ``folder``/mutated.toml with one typed value replaced by a
    value of another type (drawn by hypothesis); the file and the replaced leaf."""
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    leaf, value = data.draw(st.sampled_from(_typed_leaves(raw)))
    bad = folder / "mutated.toml"
    bad.write_text(tomli_w.dumps(_set(raw, leaf, data.draw(_wrong_type(value)))), "utf-8")
    return bad, leaf


@given(st.sampled_from(SHIPPED), st.data())
def test_a_shipped_scenario_with_one_value_of_the_wrong_type_is_refused_naming_it(path, data):
    with tempfile.TemporaryDirectory() as tmp:
        bad, leaf = _with_one_wrong_value(path, data, Path(tmp))
        result = runner.invoke(app, ["validate", str(bad)])
    _refused(result, "mutated.toml", _field(leaf))


@given(st.data())
def test_the_example_sweep_with_one_value_of_the_wrong_type_is_refused_naming_it(data):
    with tempfile.TemporaryDirectory() as tmp:
        bad, leaf = _with_one_wrong_value(EXAMPLE_SWEEP, data, Path(tmp))
        result = runner.invoke(app, ["sweep", str(bad), "--dry-run", "--out", f"{tmp}/o"])
        assert not (Path(tmp) / "o").exists()
    # an entry added by an input is checked as a lever: named by its input and its field
    names = [str(p) for p in leaf if not isinstance(p, int)]
    _refused(result, "mutated.toml", *names)


def _target_rows() -> list[list[str]]:
    with open(DEFAULT_TARGETS, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _write_rows(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


HOSTILE_NUMBERS = ["1_000", "nan", "inf", "-inf", " 5", "1e999", "0x10", "1,000", "ten", "", "-1"]


@given(st.data())
def test_the_shipped_targets_with_one_hostile_number_are_refused_naming_row_and_field(data):
    rows = _target_rows()
    header = rows[0]
    row = data.draw(st.integers(1, len(rows) - 1))
    column = data.draw(st.sampled_from(["value", "weight"]))
    rows[row][header.index(column)] = data.draw(st.sampled_from(HOSTILE_NUMBERS))
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "targets.csv"
        _write_rows(bad, rows)
        with pytest.raises(InputError) as info:
            load_targets(bad)
    message = str(info.value)
    assert "targets.csv" in message and f"row {row + 1}" in message and column in message


@pytest.mark.parametrize(
    "leaf, value, field",
    [
        (["enforcement", 0, "interdiction"], "0.2", "enforcement[0].interdiction"),
        (["enforcement", 0, "interdiction"], True, "enforcement[0].interdiction"),
        (["enforcement", 0, "expulsion"], 1, "enforcement[0].expulsion"),
        (["seed"], True, "seed"),
        (["scale"], "100", "scale"),
        (["scale"], 100.0, "scale"),
        (["pathways", 0, "duration_months"], "8", "pathways[0].duration_months"),
        (["parameters"], {"deport_share": "0.5"}, "parameters.deport_share"),
        (["parameters"], {"deport_share": True}, "parameters.deport_share"),
        (["push", "VEN", "2018-06"], "1.0", "push.VEN.2018-06"),
        (["push", "VEN", "2018-06"], float("nan"), "push.VEN.2018-06"),
        (["push", "VEN", "2018-06"], float("inf"), "push.VEN.2018-06"),
        (["push", "VEN", "2018-06"], 1_000_000.0, "push.VEN.2018-06"),
        (["push", "VEN", "2018-06"], 1e308, "push.VEN.2018-06"),
        (["opportunity", "COL", "2020-03"], 1e308, "opportunity.COL.2020-03"),
        (["regularisation", 0, "capacity_per_month"], 1e308, "capacity_per_month"),
        (["regularisation", 0, "capacity_per_month"], float("inf"), "capacity_per_month"),
        (["pathways", 0, "capacity_per_year"], 1e308, "pathways[0].capacity_per_year"),
        (["name"], 7, "name"),
        (["start"], 2015, "start"),
        (["regularisation", 0, "status_ends"], 2025, "regularisation[0].status_ends"),
        (["regularisation", 0, "status_ends"], "2025-13", "regularisation[0].status_ends"),
        (["regularisation", 0, "status_ends"], "2017-01", "status_ends 2017-01 must come after"),
        (["pathways", 0, "status_ends"], True, "pathways[0].status_ends"),
    ],
)  # fmt: skip
def test_each_class_of_bad_value_is_refused_naming_the_field(tmp_path, leaf, value, field):
    raw = tomllib.loads((SCENARIO_DIR / "baseline.toml").read_text(encoding="utf-8"))
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(_set(raw, leaf, value)), encoding="utf-8")
    out = tmp_path / "out"
    with _no_simulation():
        result = runner.invoke(app, ["run", str(bad), "--out", str(out), "--quiet"])
    _refused(result, "bad.toml", field)
    assert not out.exists()


@pytest.mark.parametrize(
    "group, row, field",
    [
        ("integration", {"host": "COL", "start": "2016-01"}, "funding_musd_per_year"),
        ("integration", {"host": "COL", "start": "2016-01"}, "services_per_month"),
        ("root_causes", {"origin": "GTM", "start": "2016-01"}, "funding_musd_per_year"),
    ],
)
@pytest.mark.parametrize("value", [float("inf"), *OVERSIZED[:2]])
def test_budgets_are_finite_and_bounded(tmp_path, group, row, field, value):
    """Accepted by validate and a traceback in run, before: two entries of 1e308 add up to
    inf."""
    raw = tomllib.loads((SCENARIO_DIR / "baseline.toml").read_text(encoding="utf-8"))
    index = len(raw.get(group, []))  # the row comes after the baseline's own
    raw[group] = [*raw.get(group, []), {**row, field: value}]
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(raw), encoding="utf-8")
    _refused(runner.invoke(app, ["validate", str(bad)]), "bad.toml", f"{group}[{index}].{field}")


def test_sweep_ranges_goals_and_counts_must_be_numbers(tmp_path):
    raw = tomllib.loads(EXAMPLE_SWEEP.read_text(encoding="utf-8"))
    darien = ["inputs", "darien_enforcement", "range"]
    cases = [
        (darien, ["0", "0.5"], "inputs.darien_enforcement.range"),
        (darien, [False, True], "inputs.darien_enforcement.range"),
        (darien, [0.0, float("nan")], "inputs.darien_enforcement.range"),
        (["replications"], "2", "replications"),
        (["sampler", "samples"], 64.0, "sampler.samples"),
        (["sampler", "method"], True, "sampler.method"),
        (["goals"], [{"outcome": "darien", "below": "1000"}], "goals[0].below"),
        (["goals"], [{"outcome": "darien", "below": float("nan")}], "goals[0].below"),
    ]  # fmt: skip
    for leaf, value, field in cases:
        bad = tmp_path / "sweep.toml"
        bad.write_text(tomli_w.dumps(_set(raw, leaf, value)), encoding="utf-8")
        result = runner.invoke(app, ["sweep", str(bad), "--dry-run", "--out", str(tmp_path / "o")])
        _refused(result, "sweep.toml", field)
    assert not (tmp_path / "o").exists()


def test_targets_numbers_are_plain_decimals(tmp_path):
    rows = _target_rows()
    value = rows[0].index("value")
    for text in ("1_000", "nan", "inf", "1e999"):
        changed = copy.deepcopy(rows)
        changed[3][value] = text
        _write_rows(tmp_path / "t.csv", changed)
        with pytest.raises(InputError, match=r"t\.csv: value: row 4"):
            load_targets(tmp_path / "t.csv")


# -------------------------------------------------------- 4. every way a file can be broken


@pytest.mark.parametrize("kind", ["array", "inline table"])
@pytest.mark.parametrize("depth", [12, 1000, 5000])
def test_deep_nesting_is_refused_in_scenario_and_sweep_files(tmp_path, kind, depth):
    for command in (["validate"], ["sweep", "--dry-run"]):
        bad = tmp_path / "deep.toml"
        bad.write_text(f'name = "x"\nvalue = {_nested(depth, kind)}\n', encoding="utf-8")
        result = runner.invoke(app, [*command, str(bad)])
        _refused(result, "deep.toml", "nested")


def test_deep_nesting_is_refused_in_an_upload():
    from migflow.app.state import scenario_from_upload

    with pytest.raises(InputError, match="nested too deeply"):
        scenario_from_upload(f"name = {_nested(3000, 'array')}".encode(), "deep.toml")


def test_an_upload_asking_for_a_long_run_is_refused_by_the_app():
    """The shared app has no --yes: it says how long and where to run it instead."""
    from migflow.app.state import scenario_from_upload

    text = b'extends = "baseline.toml"\nname = "x"\nscale = 3\n[push.VEN]\n"2015-01" = 8.0\n'
    with pytest.raises(InputError, match=r"big\.toml: .*minutes.*migflow run --yes"):
        scenario_from_upload(text, "big.toml")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "name: required field is missing"),
        (b"\xff\xfe\x00n\x00a", "not a text file"),
        (b"name = 'x'\n" + b"# " + b"x" * 1_100_000, "larger than"),
        (b"name = \n", "invalid TOML"),
    ],
    ids=["empty", "utf16", "oversized", "invalid"],
)
def test_broken_scenario_files_are_one_line(tmp_path, content, expected):
    bad = tmp_path / "broken.toml"
    bad.write_bytes(content)
    _refused(runner.invoke(app, ["validate", str(bad)]), "broken.toml", expected)


def test_a_folder_given_as_a_scenario_is_one_line(tmp_path):
    _refused(runner.invoke(app, ["validate", str(tmp_path)]), str(tmp_path), "not a file")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty file"),
        ("id,group\n", "missing column"),
        (None, "no targets"),
        ("EXTRA", "fields and the header"),
        ("SHORT", "fields and the header"),
        ("LATE", "outside the years allowed"),
        ("\x00", "NUL"),
    ],
)
def test_broken_targets_files_are_one_line(tmp_path, text, expected):
    rows = _target_rows()
    path = tmp_path / "targets.csv"
    if text is None:
        _write_rows(path, rows[:1])
    elif text in ("EXTRA", "SHORT", "LATE"):
        row = rows[5]
        if text == "EXTRA":
            row.append("surplus")
        elif text == "SHORT":
            row.pop()
        else:
            row[rows[0].index("end")] = "2099-12"
        _write_rows(path, rows)
    else:
        path.write_text(text, encoding="utf-8")
    with _no_simulation():
        result = runner.invoke(
            app, ["calibration-report", "--targets", str(path), "--out", str(tmp_path / "o")]
        )
    _refused(result, "targets.csv", expected)
    assert not (tmp_path / "o").exists()


def test_targets_with_nothing_in_the_window_blame_the_file_not_until(tmp_path):
    rows = _target_rows()
    early = [rows[0], *(r for r in rows[1:] if r[rows[0].index("start")] < "2015-01")]
    assert len(early) > 1
    _write_rows(tmp_path / "early.csv", early)
    with _no_simulation():
        result = runner.invoke(
            app, ["calibration-report", "--targets", str(tmp_path / "early.csv")]
        )
    line = _refused(result, "early.csv", "2015-01")
    assert "--until" not in line


# ------------------------------------------------- 1. output folders and names from files

PATH_NAMES = [
    "/.",
    "/..",
    "../escape",
    "/tmp/x",
    "..",
    ".",
    " . ",
    "a/../../b",
    "C:\\Windows\\x",
    "~root",
]
ODD_NAMES = ["-rf", "name with spaces", "é" * 120, "a..b", ".hidden", "x~"]


@contextmanager
def _cwd(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _run_default_folder(tmp: Path, name: str):
    """Run a small scenario named ``name`` without --out, in ``tmp``: the result and every
    file it wrote."""
    work = tmp / "work"
    work.mkdir()
    scenario = _small(tmp, name=name)
    outside_before = _files_under(tmp) - _files_under(work)
    with _cwd(work):
        result = runner.invoke(app, ["run", str(scenario), "--quiet"])
    outside_after = _files_under(tmp) - _files_under(work)
    assert outside_after == outside_before, "wrote outside the working folder"
    return result, work


def _assert_one_folder_under_results(work: Path) -> Path:
    children = list(work.iterdir())
    assert [c.name for c in children] == ["results"], children
    folders = list((work / "results").iterdir())
    assert len(folders) == 1 and folders[0].is_dir(), folders
    folder = folders[0]
    assert not folder.name.startswith(".") and len(folder.name) <= 80
    assert {p.name for p in folder.iterdir()} >= {"summary.parquet", "manifest.json"}
    assert all(p.parent == folder for p in folder.rglob("*")), "no temporary folder left"
    return folder


@pytest.mark.parametrize("name", PATH_NAMES)
def test_a_name_that_reads_as_a_path_is_refused(tmp_path, name):
    result, work = _run_default_folder(tmp_path, name)
    _refused(result, "small.toml", "name", "reads as a path")
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_name_makes_a_safe_folder_under_results(tmp_path, name):
    result, work = _run_default_folder(tmp_path, name)
    assert result.exit_code == 0, result.output
    _assert_one_folder_under_results(work)


@pytest.mark.parametrize("name", ["bad\x00name", "two\nlines", "x" * 300, "tab\there"])
def test_a_name_that_cannot_be_printed_on_one_line_is_refused(tmp_path, name):
    result, work = _run_default_folder(tmp_path, name)
    _refused(result, "small.toml", "name")
    assert list(work.iterdir()) == []


# Names built from the characters that matter to paths, and any text at all.
NAME_TEXT = st.one_of(
    st.lists(st.sampled_from(["..", ".", "/", "\\", "~", "-", "a", "é", " ", "\x00", "\n"]))
    .map("".join)
    .filter(bool),
    st.text(min_size=1, max_size=300),
)


@given(NAME_TEXT)
def test_any_name_either_is_refused_or_writes_only_under_results(name):
    with tempfile.TemporaryDirectory() as tmp:
        result, work = _run_default_folder(Path(tmp), name)
        if result.exit_code == 2:
            _refused(result, "name")
            assert list(work.iterdir()) == []
        else:
            assert result.exit_code == 0, result.output
            _assert_one_folder_under_results(work)


@pytest.mark.parametrize("case", ["file", "under a file", "long name", "NUL", "unwritable"])
def test_a_bad_out_is_refused_before_the_run(tmp_path, case):
    scenario = _small(tmp_path)
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    out = {
        "file": str(existing),
        "under a file": str(existing / "out"),
        "long name": str(tmp_path / ("x" * 300)),
        "NUL": str(tmp_path / "a\x00b"),
        "unwritable": "/proc/1/migflow-out",
    }[case]
    with _no_simulation():
        result = runner.invoke(app, ["run", str(scenario), "--out", out, "--quiet"])
    _refused(result, "--out")
    assert existing.read_text() == "keep me"


def test_a_bad_out_is_refused_before_a_sweep_or_report(tmp_path):
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    for args in (
        ["sweep", str(EXAMPLE_SWEEP), "--out", str(existing / "o")],
        ["calibration-report", "--out", str(existing)],
    ):
        with _no_simulation():
            _refused(runner.invoke(app, args), "--out")
    assert existing.read_text() == "keep me"


def test_the_draws_are_written_in_the_same_atomic_set(tmp_path):
    """``--draws`` tables land in the folder with the others; nothing beside it."""
    scenario = _small(tmp_path)
    out = tmp_path / "out"
    with mock.patch("migflow.calibration.uncertainty.run_draws") as draws:
        import pandas as pd

        draws.return_value = pd.DataFrame({"year": [2015], "indicator": ["x"], "median": [1.0]})
        result = runner.invoke(
            app, ["run", str(scenario), "--out", str(out), "--quiet", "--draws", "2"]
        )
    assert result.exit_code == 0, result.output
    assert (out / "summary_draws.parquet").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small.toml"]


# ---------------------------------------------------------------- extends and sweep bases


@pytest.mark.parametrize(
    "parent", ["/etc/passwd", "../secret.toml", "sub/baseline.toml", "baseline.txt", ".hidden"]
)
def test_extends_reads_only_scenario_files_beside_or_shipped(tmp_path, parent):
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{parent}"\nname = "child"\n', encoding="utf-8")
    line = _refused(runner.invoke(app, ["validate", str(child)]), "child.toml", "extends")
    assert "root:" not in line  # nothing of /etc/passwd is read or shown


def test_an_error_in_a_parent_is_reported_against_the_parent(tmp_path):
    (tmp_path / "parent.toml").write_text(
        'extends = "baseline.toml"\nname = "parent"\n'
        '[[enforcement]]\nedge = "COL-PAN"\ninterdiction = "0.5"\nstart = "2016-01"\n',
        encoding="utf-8",
    )
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\nname = "child"\n', encoding="utf-8")
    line = _refused(runner.invoke(app, ["validate", str(child)]), "parent.toml")
    assert "enforcement[0].interdiction" in line and "child.toml" not in line
    (tmp_path / "parent.toml").write_text("name = [[[", encoding="utf-8")
    _refused(runner.invoke(app, ["validate", str(child)]), "parent.toml", "invalid TOML")


def test_an_extends_loop_is_one_line(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname = "a"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname = "b"\n', encoding="utf-8")
    _refused(runner.invoke(app, ["validate", str(tmp_path / "a.toml")]), "extends")


def test_a_missing_or_hostile_sweep_base_names_the_sweep_file(tmp_path):
    raw = tomllib.loads(EXAMPLE_SWEEP.read_text(encoding="utf-8"))
    for base in ("no_such_scenario", "/etc/passwd", "../x.toml"):
        bad = tmp_path / "sweep.toml"
        bad.write_text(tomli_w.dumps({**raw, "base": base}), encoding="utf-8")
        result = runner.invoke(app, ["sweep", str(bad), "--dry-run"])
        _refused(result, "sweep.toml", "base")


@pytest.mark.parametrize("name", PATH_NAMES)
def test_a_sweep_name_that_reads_as_a_path_is_refused(tmp_path, name):
    raw = tomllib.loads(EXAMPLE_SWEEP.read_text(encoding="utf-8"))
    bad = tmp_path / "sweep.toml"
    bad.write_text(tomli_w.dumps({**raw, "name": name}), encoding="utf-8")
    with _cwd(tmp_path):
        result = runner.invoke(app, ["sweep", str(bad)])
    _refused(result, "sweep.toml", "name", "reads as a path")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.toml"]


# ------------------------------------------------------------ 3. bounds on the work asked


def test_a_run_too_big_for_memory_is_refused_even_with_yes(tmp_path):
    raw = tomllib.loads(_small(tmp_path).read_text(encoding="utf-8"))
    raw["push"] = {o: {"2015-01": 100.0} for o in ("VEN", "HTI", "CUB", "GTM", "HND")}
    raw["scale"] = 1
    bad = tmp_path / "huge.toml"
    bad.write_text(tomli_w.dumps(raw), encoding="utf-8")
    with _no_simulation():
        result = runner.invoke(
            app, ["run", str(bad), "--quiet", "--yes", "--out", str(tmp_path / "o")]
        )
    _refused(result, "huge.toml", "agents")


def test_a_long_run_says_how_long_and_needs_yes(tmp_path):
    raw = tomllib.loads((SCENARIO_DIR / "baseline.toml").read_text(encoding="utf-8"))
    raw["push"]["VEN"] = {"2015-01": 8.0}
    raw["scale"] = 3  # long, but under the limit on agents
    bad = tmp_path / "long.toml"
    bad.write_text(tomli_w.dumps(raw), encoding="utf-8")
    args = ["run", str(bad), "--quiet", "--out", str(tmp_path / "o")]
    with _no_simulation():
        result = runner.invoke(app, args)
        line = _refused(result, "long.toml", "--yes", "minutes")
        assert "about" in line
        started = runner.invoke(app, [*args, "--yes"])
    assert isinstance(started.exception, _Started), started.output


@pytest.mark.parametrize(
    "args, expected",
    [
        (["calibration-report", "--draws", "0"], "at least 2 draws"),
        (["calibration-report", "--draws", "1"], "at least 2 draws"),
        (["calibration-report", "--draws", "-3"], "at least 2 draws"),
        (["calibration-report", "--draws", "100000"], "2..1000"),
        (["calibration-report", "--draws", "500"], "--yes"),
        (["calibration-report", "--coverage", "-1"], "--coverage"),
        (["calibration-report", "--coverage", "501"], "--coverage"),
        (["calibration-report", "--coverage", "400"], "--yes"),
        (["calibration-report", "--importance", "-1"], "--importance"),
        (["calibration-report", "--importance", "501"], "--importance"),
        (["calibration-report", "--importance", "400"], "--yes"),
        (["run", "baseline", "--draws", "1"], "at least 2 draws"),
        (["run", "baseline", "--draws", "100000"], "2..1000"),
        (["run", "baseline", "--draws", "1000"], "--yes"),
        (["run", "baseline", "--seed", "-1"], "--seed"),
        (["compare", "baseline", "baseline", "--draws", "1"], "at least 2 draws"),
        (["compare", "baseline", "baseline", "--draws", "1000"], "--yes"),
        (["compare", "baseline", "baseline", "--workers", "0"], "--workers"),
        (["compare", "baseline", "baseline", "--seed", "-1"], "--seed"),
        (["compare", "baseline", "nowhere_to_be_found", "--draws", "20"], "not found"),
        (["run", "baseline", "--scale", "1000000"], "--scale"),
        (["calibrate", "--scale", "0"], "--scale"),
        (["calibrate", "--max-evaluations", "-5"], "--max-evaluations"),
        (["calibrate", "--ensemble", "1"], "--ensemble"),
        (["calibrate", "--waves", "0"], "--waves"),
        (["calibrate", "--runs-per-wave", "-3"], "--runs-per-wave"),
        (["calibrate", "--truths", "501"], "--truths"),
        (["calibrate", "--posterior", "mcmc"], "--posterior"),
        (["calibrate", "--population", "1"], "--population"),
        (["calibrate", "--fit-seeds", "0"], "--fit-seeds"),
        (["calibrate", "--fit-seeds", "65"], "--fit-seeds"),
        (["calibrate", "--search", "stay_utility"], "--search"),  # no --start to hold the rest
        (["calibrate", "--start", str(SHIPPED_FIT), "--search", "beta_vibes"], "--search"),
        (["calibrate", "--start", str(SHIPPED_FIT), "--search", "stay_utility,,"], "--search"),
    ],
)
def test_counts_on_the_command_line_are_bounded_before_any_work(tmp_path, args, expected):
    with _no_simulation(), mock.patch("migflow.calibration.calibrate.calibrate") as fit:
        fit.side_effect = _Started
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    _refused(result, expected)
    assert not (tmp_path / "o").exists()


def test_a_sweep_above_the_soft_limit_needs_yes(tmp_path):
    result = runner.invoke(
        app, ["sweep", str(EXAMPLE_SWEEP), "--workers", "1", "--out", str(tmp_path / "o")]
    )
    _refused(result, "example.toml", "--yes", "1,536 runs")
    assert not (tmp_path / "o").exists()


def test_a_sweep_with_failed_runs_exits_non_zero_and_says_how_many(tmp_path, monkeypatch):
    from migflow.model import cluster
    from migflow.sweeps import runner as sweep_runner

    raw = tomllib.loads(EXAMPLE_SWEEP.read_text(encoding="utf-8"))
    raw.update(scale=1000, window=["2024-01", "2030-12"], replications=1)
    raw["sampler"] = {"method": "latin", "samples": 4, "seed": 1}
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(tomli_w.dumps(raw), encoding="utf-8")

    @contextmanager
    def no_cluster(workers, scheduler):
        yield None

    def all_fail(plan, out, client, **kwargs):
        return sweep_runner.SweepSummary(
            total=8, already=0, computed=8, failed=8, interrupted=False, seconds=1.0
        )

    monkeypatch.setattr(cluster, "dask_client", no_cluster)
    monkeypatch.setattr(sweep_runner, "run_sweep", all_fail)
    result = runner.invoke(app, ["sweep", str(sweep), "--quiet", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert "8 of 8 runs failed" in result.stderr


# ------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run"], "Missing argument"),
        (["run", "baseline", "--bogus"], "--bogus"),
        (["run", "baseline", "--seed", "abc"], "--seed"),
        (["frobnicate"], "frobnicate"),
        (["calibration-report", "--draws", "x"], "--draws"),
    ],
)
def test_usage_errors_are_one_line(args, expected):
    _refused(runner.invoke(app, args), expected)


def test_a_valid_small_run_writes_only_inside_its_folder(tmp_path):
    """The other half of the contract, for the ordinary case."""
    scenario = _small(tmp_path)
    out = tmp_path / "deep" / "out"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert {p.relative_to(tmp_path).parts[0] for p in _files_under(tmp_path)} == {
        "deep",
        "small.toml",
    }
    assert all(p.parent == out for p in out.rglob("*"))
