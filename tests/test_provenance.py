"""Every result says what made it: version, commit, calibration, parameters; a sweep made
with another model is never resumed into."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from test_sweeps_spec import sweep_dict

from migflow.model import provenance
from migflow.model.parameters import CALIBRATED_POINT
from migflow.model.run import run_scenario
from migflow.model.scenario import load_scenario
from migflow.sweeps.spec import sweep_from_dict
from migflow.sweeps.store import check_folder


def _manifest(tmp_path, **parameters):
    scenario = load_scenario("baseline").clipped(end="2015-12")
    scenario = scenario.with_changes(scale=1000, parameters=parameters)
    results = run_scenario(scenario)
    results.write(tmp_path)
    return json.loads((tmp_path / "manifest.json").read_text())


def test_a_manifest_names_the_version_commit_calibration_and_parameters(tmp_path):
    manifest = _manifest(tmp_path / "a")
    assert manifest["package_version"]
    shipped = hashlib.sha256(CALIBRATED_POINT.read_bytes()).hexdigest()[:16]
    assert manifest["calibration_sha256"] == shipped
    commit = manifest["git_commit"]
    if (provenance.SOURCE / ".git").exists():  # a checkout; an installed wheel has none
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit), commit
    other = _manifest(tmp_path / "b", deport_share=0.4)
    assert other["parameters_sha256"] != manifest["parameters_sha256"]
    assert _manifest(tmp_path / "c")["parameters_sha256"] == manifest["parameters_sha256"]


@pytest.mark.parametrize("changed", ["calibration_identity", "package_version"])
def test_a_sweep_made_with_another_calibration_or_version_is_not_resumed(
    tmp_path, monkeypatch, changed
):
    """The fingerprint covers the model behind the numbers, not only the sweep file."""
    plan = sweep_from_dict(sweep_dict(sampler={"method": "latin", "samples": 2}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.json").write_text(json.dumps(plan.to_json()))
    assert check_folder(out, plan) is True  # the same sweep resumes
    monkeypatch.setattr("migflow.sweeps.spec." + changed, lambda: "something-else", raising=True)
    again = sweep_from_dict(sweep_dict(sampler={"method": "latin", "samples": 2}))
    with pytest.raises(Exception, match="another calibration"):
        check_folder(out, again)
