"""A package split into its instruments (model/instruments.py, ``migflow compare --split``):
each instrument is the lever rows of one id, measured alone and last."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from strategies import small_baseline
from typer.testing import CliRunner

from migflow.cli import app
from migflow.model.instruments import (
    instruments,
    other_differences,
    with_instrument,
    without_instrument,
)
from migflow.model.scenario import LEVER_GROUPS, load_scenario, save_scenario

runner = CliRunner()


def _rows(scenario) -> Counter:
    return Counter(
        (g, lever.model_dump_json()) for g in LEVER_GROUPS for lever in getattr(scenario, g)
    )


def test_the_package_of_every_more_file_splits_into_the_instruments_it_adds():
    base, package = load_scenario("baseline"), load_scenario("los_angeles_declaration_more")
    found = instruments(base, package)
    ids = {i.id for i in found}
    assert {"safe_mobility_offices_2026", "enforcement_darien_2026", "root_causes_2026"} <= ids
    assert all(i.added and not i.removed for i in found)
    for instrument in found:
        alone = with_instrument(base, instrument)
        assert _rows(alone) - _rows(base) == Counter((g, r) for g, r in _key(instrument.added))
        last = without_instrument(package, instrument)
        assert _rows(package) - _rows(last) == _rows(alone) - _rows(base)
        assert _rows(with_instrument(last, instrument)) == _rows(package)
    assert other_differences(base, package) == []


def _key(rows):
    from migflow.model.scenario import Scenario

    for group, row in rows:
        model = Scenario.model_fields[group].annotation.__args__[0]
        yield group, model.model_validate(row).model_dump_json()


def test_history_without_an_instrument_splits_into_what_it_removes():
    base, without = load_scenario("baseline"), load_scenario("colombia_tps_without")
    found = instruments(without, base)  # what the instrument did: baseline minus without
    assert [i.id for i in found] == ["colombia_tps"]
    assert found[0].added and not found[0].removed
    back = instruments(base, without)
    assert back[0].removed and not back[0].added


def _file(tmp_path, name, scenario):
    path = tmp_path / f"{name}.toml"
    save_scenario(scenario.with_changes(name=name), path)
    return path


def test_an_instrument_alone_in_its_package_is_the_package_both_ways(tmp_path):
    """Common random numbers: with one instrument, A plus it is B and B without it is A, so
    alone, last and the whole package are the same figures exactly."""
    a = small_baseline(scale=1000, end="2016-12")
    stop = {"id": "darien_stop", "edge": "COL-PAN", "interdiction": 0.5, "start": "2015-06"}
    b = a.with_changes(enforcement=[*(e.model_dump() for e in a.enforcement), stop])
    out = tmp_path / "split"
    args = ["compare", str(_file(tmp_path, "a", a)), str(_file(tmp_path, "b", b)), "--split"]
    result = runner.invoke(app, [*args, "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "split.csv")
    assert set(table["instrument"]) == {"whole package", "darien_stop"}
    by = table.set_index(["measured", "figure"])["median"]
    for figure in ("Darién crossings", "deaths (expected)", "cost $M"):
        assert by["alone", figure] == by["last", figure] == by["package", figure]
    assert by["package", "Darién crossings"] < 0


@pytest.mark.parametrize(
    "second, expected", [("same", "nothing to split"), ("folder", "results folder")]
)
def test_a_split_needs_two_scenarios_that_differ_in_levers(tmp_path, second, expected):
    a = _file(tmp_path, "a", small_baseline(scale=1000, end="2016-12"))
    other = str(a)
    if second == "folder":
        other = str(tmp_path / "run")
        assert runner.invoke(app, ["run", str(a), "--out", other, "--quiet"]).exit_code == 0
    result = runner.invoke(app, ["compare", str(a), other, "--split"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and expected in result.stderr
