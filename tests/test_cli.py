"""The command line: run writes tables and a manifest; compare and validate work; bad input
exits 2 without a traceback and without touching what was already written."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
from strategies import small_baseline
from typer.testing import CliRunner

from migflow.cli import app
from migflow.model.results import Results
from migflow.model.run import run_scenario
from migflow.model.scenario import load_scenario, save_scenario

runner = CliRunner()


def _small_file(tmp_path, name="small", **changes):
    path = tmp_path / f"{name}.toml"
    save_scenario(small_baseline(scale=1000).with_changes(name=name, **changes), path)
    return path


def test_run_writes_parquet_tables_and_a_manifest_that_reproduce_the_run(tmp_path):
    path = _small_file(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "Darién" in result.stdout
    for table in ("stocks", "flows", "events", "spending", "summary"):
        assert (out / f"{table}.parquet").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["scale"] == 1000
    assert manifest["package_version"]
    written = Results.read(out)
    again = run_scenario(small_baseline(scale=1000).with_changes(name="small", seed=5))
    pd.testing.assert_frame_equal(written.summary, again.summary)


def test_a_failed_run_leaves_earlier_results_untouched(tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(_small_file(tmp_path)), "--out", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[[integration]]\nhost = "ZZZ"\nstart = "2016-01"\n')
    result = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_missing_file_and_bad_options_exit_2_with_one_line(tmp_path):
    for args in (
        ["run", str(tmp_path / "nope.toml")],
        ["run", str(_small_file(tmp_path)), "--scale", "0"],
        ["validate", str(tmp_path / "nope.toml")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output
        assert result.stderr.strip().startswith("error:")


def test_compare_prints_differences_between_two_scenarios(tmp_path):
    a = _small_file(tmp_path, "a")
    b = _small_file(tmp_path, "b", scale=500)
    result = runner.invoke(app, ["compare", str(a), str(b), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Darién crossings" in result.stdout and "difference" in result.stdout


def test_compare_reads_results_folders(tmp_path):
    out = tmp_path / "out"
    runner.invoke(app, ["run", str(_small_file(tmp_path)), "--out", str(out), "--quiet"])
    result = runner.invoke(app, ["compare", str(out), str(out)])
    assert result.exit_code == 0, result.output
    assert "+0.0%" in result.stdout  # every difference is nothing


def test_validate_accepts_the_shipped_baseline():
    result = runner.invoke(app, ["validate", "scenarios/baseline.toml"])
    assert result.exit_code == 0 and "ok" in result.stdout


def test_the_console_entry_point_ends_with_its_status_and_all_its_output(tmp_path):
    """``main`` ends the process without the interpreter's teardown: its output must still
    arrive whole through a pipe, its status must be the command's, and what it wrote must be
    complete."""
    path = _small_file(tmp_path)
    out = tmp_path / "out"

    def migflow(*args):
        command = [sys.executable, "-c", "from migflow.cli import main; main()", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    ran = migflow("run", str(path), "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    # the terminal's width may wrap a long folder name anywhere
    assert "Darién crossings by nationality" in ran.stdout
    assert f"wrote{out}" in "".join(ran.stderr.split())
    assert Results.read(out).summary.equals(run_scenario(load_scenario(path)).summary)
    refused = migflow("run", str(tmp_path / "nosuch.toml"))
    assert refused.returncode == 2 and "file not found" in refused.stderr
    assert "Traceback" not in refused.stderr
