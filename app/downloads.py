"""What the app offers for download: results (CSV or Parquet, zipped) and the scenario.

The Parquet zip holds exactly the files ``migflow run --out`` writes (``Results.write``),
the CSV zip the same tables as CSV, and both add ``scenario.toml``, which ``migflow run``
accepts and which reproduces the run. Zip entries carry a fixed date, so the same results
give the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

from migflow.model.results import TABLES, Results
from migflow.model.scenario import Scenario, dumps_scenario

_FIXED_DATE = (2000, 1, 1, 0, 0, 0)


def file_stem(name: str) -> str:
    """A safe file name for a scenario name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def scenario_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML (every lever, no ``extends``), with a header comment."""
    header = (
        f"# {scenario.name}: saved from the migflow app.\n"
        "# Run it with: migflow run <this file>   (every lever is written out; no extends)\n"
    )
    return header + dumps_scenario(scenario)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def results_zip(results: Results, scenario: Scenario, fmt: str) -> bytes:
    """The run's tables as ``fmt`` ("csv" or "parquet") plus manifest.json and scenario.toml."""
    files: dict[str, bytes] = {}
    if fmt == "parquet":
        with tempfile.TemporaryDirectory() as tmp:
            out = results.write(Path(tmp) / "results")
            for path in sorted(out.iterdir()):
                files[path.name] = path.read_bytes()
    elif fmt == "csv":
        for name in TABLES:
            files[f"{name}.csv"] = getattr(results, name).to_csv(index=False).encode("utf-8")
        # as Results.write writes it
        manifest = json.dumps(results.manifest, indent=2, sort_keys=True)
        files["manifest.json"] = manifest.encode("utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}; allowed: csv, parquet")
    files["scenario.toml"] = scenario_toml(scenario).encode("utf-8")
    return _zip(files)
