"""Scenario files: every shipped file validates and runs; load -> save -> load round-trips;
generated invalid files are refused with exit status 2 and a message naming the field."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from strategies import SEED_INSTRUMENTS
from typer.testing import CliRunner

from migflow.cli import app
from migflow.model.checkpoint import SavedStates
from migflow.model.errors import InputError
from migflow.model.parameters import SPECS, parameter_problem
from migflow.model.run import run_from_reference, run_scenario
from migflow.model.scenario import (
    Scenario,
    dumps_scenario,
    list_scenarios,
    load_scenario,
    loads_scenario,
)
from migflow.model.shipped import description

SHIPPED = list_scenarios()
runner = CliRunner()


# Each seed instrument that happened is two questions (history without it, more of it from
# 2026); the two that never happened are one what-if each (tests/test_scenario_without.py).
INSTRUMENTS = {
    f"{name}_{question}" for name in SEED_INSTRUMENTS for question in ("without", "more")
} | {"enforcement_mexico_south", "faster_asylum"}


def test_the_baseline_and_the_files_for_each_instrument_are_shipped():
    assert {p.stem for p in SHIPPED} >= {"baseline", *INSTRUMENTS}
    assert SHIPPED[0].stem == "baseline"


def test_every_policy_scenario_extends_the_baseline_and_cites_its_source():
    for path in SHIPPED[1:]:
        text = path.read_text()
        assert 'extends = "baseline.toml"' in text, path.name
        assert "seed" in text.lower() and text.lstrip().startswith("#"), path.name


# The baseline's states at the months the shipped scenarios part from it, shared by them.
_BASELINE_STATES = SavedStates()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_and_runs(path):
    scenario = load_scenario(path).with_changes(scale=1000)
    # its whole window at 1,000 people per agent: every lever compiled and run, in a tenth of
    # the time of the default scale (the default scale is run by test_regression); from the
    # baseline's state at the month the scenario first differs from it, which gives the
    # numbers of a run from the start (tests/test_checkpoint.py) in the scenario's own months
    baseline = load_scenario("baseline").with_changes(scale=1000, seed=scenario.seed)
    if (baseline.start, baseline.end) == (scenario.start, scenario.end):
        results = run_from_reference(scenario, baseline, _BASELINE_STATES)
    else:
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
    (["unit_costs"], {"teleportation": 10.0}, "unit_costs"),
    (["unit_costs"], {"parole": -1.0}, "unit_costs"),
    (["unit_costs"], {"parole": "cheap"}, "unit_costs"),
    (["unit_costs"], {"parole": float("inf")}, "unit_costs"),
    (["unit_costs"], {"parole": True}, "unit_costs"),
]  # fmt: skip


def _refused(data: dict, via_run: bool):
    """Write ``data`` as a scenario file and pass it to ``validate`` or ``run``: the
    CLI's result and the file's name; asserts that nothing was written."""
    with tempfile.TemporaryDirectory() as tmp:
        bad, out = Path(tmp) / "bad.toml", Path(tmp) / "out"
        bad.write_text(tomli_w.dumps(data))
        args = (
            ["run", str(bad), "--out", str(out), "--quiet"] if via_run else ["validate", str(bad)]
        )
        result = runner.invoke(app, args)
        assert not out.exists(), "nothing may be written for a bad file"
    return result


def _assert_one_line_naming(result, field: str) -> None:
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in message + result.stdout
    assert "bad.toml" in message and field in message, message
    assert len(message.strip().splitlines()) <= 3  # one message (rich may wrap it)


@pytest.mark.parametrize("via_run", [False, True], ids=["validate", "run"])
@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=lambda c: c[2])
def test_invalid_files_are_refused_with_exit_2_naming_the_field(corruption, via_run):
    """Every case, every run (not a hypothesis sample of them), through both commands."""
    path, value, field = corruption
    _assert_one_line_naming(_refused(_set(_baseline_data(), path, value), via_run), field)


# ------------------------------------------------ every numeric field at and beyond its bounds

# (lever list, field, the rest of a valid row). Every numeric field of every lever is here:
# ``test_every_numeric_lever_field_is_covered`` fails when the schema gains one that is not.
ROWS = {
    "integration": {"host": "PER", "start": "2016-01"},
    "regularisation": {"host": "COL", "capacity_per_month": 10.0, "start": "2016-01"},
    "pathways": {
        "name": "t", "kind": "labour", "origins": ["HND"], "destination": "USA",
        "capacity_per_year": 10.0, "start": "2016-01",
    },
    "enforcement": {"edge": "COL-PAN", "interdiction": 0.5, "start": "2016-01"},
    "asylum": {"processing_months": 6.0, "start": "2016-01"},
    "root_causes": {"origin": "HND", "funding_musd_per_year": 10.0, "start": "2016-01"},
}  # fmt: skip
# The bounds each field must have, whatever else the schema adds: probabilities in [0, 1],
# counts and money never negative, a processing time strictly positive.
REQUIRED_BOUNDS = {
    ("integration", "funding_musd_per_year"): (0, None),
    ("integration", "services_per_month"): (0, None),
    ("regularisation", "capacity_per_month"): (0, None),
    ("pathways", "capacity_per_year"): (0, None),
    ("pathways", "duration_months"): (0, 600),
    ("enforcement", "interdiction"): (0, 1),
    ("asylum", "processing_months"): ("> 0", 240),
    ("root_causes", "funding_musd_per_year"): (0, None),
    (None, "scale"): (1, 100_000),
    (None, "seed"): (0, 2**32 - 1),
}


def _schema_bounds(group: str | None, field: str) -> tuple:
    """(ge, gt, le) that the pydantic schema declares for a field."""
    from migflow.model.scenario import Scenario

    if group is None:
        info = Scenario.model_fields[field]
    else:
        row_model = Scenario.model_fields[group].annotation.__args__[0]
        info = row_model.model_fields[field]
    found = {"ge": None, "gt": None, "le": None}
    for meta in info.metadata:
        for key in found:
            if getattr(meta, key, None) is not None:
                found[key] = getattr(meta, key)
    return found["ge"], found["gt"], found["le"]


def _with_value(group: str | None, field: str, value) -> dict:
    data = _baseline_data()
    if group is None:
        data[field] = value
    else:
        data[group] = [*data[group], {**ROWS[group], field: value}]
    return data


def _field_name(group: str | None, field: str) -> str:
    if group is None:
        return field
    return f"{group}[{len(_baseline_data()[group])}].{field}"


def _cases():
    for (group, field), (low, high) in REQUIRED_BOUNDS.items():
        ge, gt, le = _schema_bounds(group, field)
        is_int = field in ("duration_months", "scale", "seed")
        if low == "> 0":
            assert gt == 0, (group, field, "must be strictly positive")
            yield group, field, 1e-9, True
            yield group, field, 0, False
        else:
            assert ge == low, (group, field, f"lower bound must be {low}", ge)
            yield group, field, low, True
            yield group, field, low - 1 if is_int else low - 1e-9, False
        upper = high if high is not None else le
        if high is not None:
            assert le == high, (group, field, f"upper bound must be {high}", le)
        if upper is not None:
            yield group, field, upper, True
            yield group, field, upper + 1 if is_int else upper * (1 + 1e-9) + 1e-9, False


BOUND_CASES = list(_cases())


@pytest.mark.parametrize(
    "group, field, value, accepted",
    BOUND_CASES,
    ids=[f"{g or 'top'}.{f}={v}:{'ok' if a else 'refused'}" for g, f, v, a in BOUND_CASES],
)
def test_every_numeric_field_is_accepted_at_its_bounds_and_refused_beyond(
    group, field, value, accepted
):
    data = _with_value(group, field, value)
    if accepted:
        from migflow.model.scenario import scenario_from_dict

        scenario_from_dict(data, source="bad.toml")
    else:
        _assert_one_line_naming(_refused(data, via_run=False), _field_name(group, field))


def test_every_numeric_lever_field_is_covered():
    from migflow.model.scenario import Scenario

    for group in ROWS:
        row_model = Scenario.model_fields[group].annotation.__args__[0]
        for name, info in row_model.model_fields.items():
            if info.annotation in (int, float) and name not in ("start", "end"):
                assert (group, name) in REQUIRED_BOUNDS, (group, name)


PARAMETER_CASES = [
    (spec.name, value, ok)
    for spec in SPECS
    for value, ok in (
        (spec.low, True),
        (spec.high, True),
        (spec.low - max(abs(spec.low), 1.0) * 1e-6, False),
        (spec.high + max(abs(spec.high), 1.0) * 1e-6, False),
    )
]


@pytest.mark.parametrize(
    "name, value, accepted",
    PARAMETER_CASES,
    ids=[f"{n}={v:g}:{'ok' if a else 'refused'}" for n, v, a in PARAMETER_CASES],
)
def test_every_parameter_is_accepted_at_its_range_ends_and_refused_beyond(name, value, accepted):
    problem = parameter_problem(name, value)
    assert (problem is None) == accepted, problem
    if not accepted:
        assert name in problem and "allowed" in problem


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
    """The baseline brings twenty-three enforcement rows; the file's own first row is its [0],
    not [23]. A mistake in a parent's row is
    reported against the parent file, numbered as the parent numbers it."""
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
    assert "parent.toml: enforcement[0].edge: unknown route edge" in result.stderr
    assert "child.toml" not in result.stderr


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


def test_the_documented_parameter_and_edge_tables_match_the_code():
    """docs/scenarios.md and docs/ODD.md list every parameter with its default and range,
    and docs/scenarios.md every edge, as the code defines them: the docs are where users
    look them up."""
    import re
    from pathlib import Path

    from migflow.model.geography import EDGES
    from migflow.model.parameters import SPECS

    docs = Path(__file__).resolve().parents[1] / "docs"
    row = re.compile(r"^\| `([\w.]+)` \| ([-\d.,e+]+) \| ([-\d.,e+]+) \.\. ([-\d.,e+]+) \|", re.M)
    for name in ("scenarios.md", "ODD.md"):
        text = (docs / name).read_text()
        documented = {
            m[0]: tuple(float(x.replace(",", "")) for x in m[1:]) for m in row.findall(text)
        }
        for spec in SPECS:
            assert documented.get(spec.name) == pytest.approx(
                (spec.default, spec.low, spec.high), rel=1e-6
            ), (name, spec.name)
    edges = set(re.findall(r"^\| `(\w+-\w+)` \|", (docs / "scenarios.md").read_text(), re.M))
    assert edges == {e.name for e in EDGES}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_migflow_list_shows_the_description_the_loaded_scenario_has(path):
    """``migflow list`` reads each file's description without loading the model
    (model/shipped.py); it must be the one the validated scenario carries."""
    assert description(path) == load_scenario(path).description


# ----------------------------------------------------------------- fitted push levels


def _fitted(knots: dict, push: dict | None = None) -> Scenario:
    data = load_scenario("baseline").model_dump(mode="json", exclude_none=True)
    data["push"]["GTM"] = push or {"2015-01": 1.0}
    data["fitted_push"] = {"GTM": knots}
    return Scenario.model_validate(data)


def test_a_fitted_push_knot_takes_its_parameter_and_replaces_the_knot_of_its_month():
    """The baseline's push levels that the calibration fits (``fitted_push``) are knots like
    any other once the parameter is read: the trajectory passes through the parameter's
    value at its months, replaces a number given for the same month, and other origins and
    months far from the knot keep their own values."""
    from migflow.model.calendar import parse_month
    from migflow.model.geography import ORIGIN_INDEX
    from migflow.model.parameters import default_parameters
    from migflow.model.policy import PolicySchedule

    scenario = _fitted(
        {"2021-01": "push_nca_surge", "2021-03": "push_nca_surge"},
        push={"2015-01": 1.0, "2021-01": 9.0, "2025-01": 1.0},
    )
    for level in (0.7, 2.5):
        sched = PolicySchedule.compile(scenario, default_parameters({"push_nca_surge": level}))
        gtm = sched.push[:, ORIGIN_INDEX["GTM"]]
        at = {m: int(np.flatnonzero(sched.months == parse_month(m))[0]) for m in
              ("2015-01", "2021-01", "2021-02", "2021-03", "2025-01")}  # fmt: skip
        assert gtm[at["2021-01"]] == pytest.approx(level)  # not the 9.0 given for that month
        assert gtm[at["2021-02"]] == pytest.approx(level)
        assert gtm[at["2021-03"]] == pytest.approx(level)
        assert gtm[at["2015-01"]] == gtm[at["2025-01"]] == pytest.approx(1.0)
    plain = PolicySchedule.compile(scenario, default_parameters())
    other = [i for o, i in ORIGIN_INDEX.items() if o != "GTM"]
    np.testing.assert_array_equal(sched.push[:, other], plain.push[:, other])


@pytest.mark.parametrize(
    "knots, expected",
    [
        ({"2021-01": "beta_distance"}, "unknown push level 'beta_distance'; allowed: push_nca"),
        ({"2021-01": "../etc/passwd"}, "unknown push level"),
        ({"2021-13": "push_nca_surge"}, "2021-13"),
        ({"2021-01": 1.5}, "must be the name of a push level, in quotes: push_nca_lull"),
        ({}, "at least one"),
    ],
    ids=["not a push level", "a path", "bad month", "a number", "empty"],
)
def test_a_bad_fitted_push_knot_is_refused_naming_the_field(tmp_path, knots, expected):
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps({"name": "bad", "fitted_push": {"GTM": knots}}))
    with pytest.raises(InputError) as refused:
        load_scenario(bad)
    assert "bad.toml" in str(refused.value) and "fitted_push" in str(refused.value)
    assert expected in str(refused.value)


def test_a_fitted_push_for_an_unknown_origin_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps({"name": "bad", "fitted_push": {"MARS": {"2021-01": "x"}}}))
    with pytest.raises(InputError, match=r"bad\.toml.*fitted_push.*unknown origin 'MARS'"):
        load_scenario(bad)


def test_a_higher_fitted_push_level_raises_emigration_in_its_months_only():
    """Common random numbers: raising the fitted surge of northern Central America
    (``push_nca_surge``, knots 2020-12..2021-07) leaves every month before the knot's ramp
    (2020-11) as it was and sends more Guatemalans, Hondurans and Salvadorans in 2021."""
    from migflow.model.calendar import parse_month
    from migflow.model.geography import NORTHERN_CENTRAL_AMERICA, ORIGIN_INDEX
    from migflow.model.recorder import KIND_INDEX

    scenario = load_scenario("baseline").clipped(end="2021-12").with_changes(scale=1000)
    nca = [ORIGIN_INDEX[o] for o in NORTHERN_CENTRAL_AMERICA]
    left = []
    for level in (1.3, 2.0):
        rec = run_scenario(scenario.with_changes(parameters={"push_nca_surge": level}))
        left.append(rec.dense("events")[:, KIND_INDEX["emigrated"]][..., nca].sum(axis=(1, 2)))
    ramp = parse_month("2020-11") - scenario.first_month
    np.testing.assert_array_equal(left[0][:ramp], left[1][:ramp])
    year = slice(parse_month("2021-01") - scenario.first_month, None)
    assert left[1][year].sum() > 1.2 * left[0][year].sum()
