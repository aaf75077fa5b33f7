"""A small sweep from the app: a few levers, their ranges and a run budget, in plain words.

Policy staff who do not write sweep files pick levers from a short menu; this module turns
the choice into the sweep file ``migflow sweep`` reads (``migflow.sweeps.spec``), so the app's
sweep is one a modeller can rerun, extend or resume from the command line, and starts that
command on it in a process of its own (``launch``). Plain Python (no Streamlit), tested
directly.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from migflow.model.errors import InputError
from migflow.model.geography import US_BORDER
from migflow.model.limits import checked_name

from .state import BORDERS, PATHWAYS, number_boxes

#: where the app writes sweeps and the only place its sweeps page reads them from
SWEEPS_DIR = Path("results") / "sweeps"

SCALES = (1000, 500, 100)
MIN_RUNS, MAX_RUNS = 8, 256


@dataclass(frozen=True)
class SweptLever:
    """A lever the app can sweep: its words, the sweep path and the range it allows."""

    words: str
    path: str
    low: float
    high: float
    default: tuple[float, float]
    add: dict = field(default_factory=dict)


def _levers() -> dict[str, SweptLever]:
    """The menu: each border of the sidebar's enforcement sliders, integration funding in
    the two largest hosts, worker visas and root-cause funding, in the sidebar's words."""
    levers = {}
    for key, edge, default in (
        ("darien_enforcement", "COL-PAN", (0.0, 0.5)),
        ("us_border_enforcement", US_BORDER, (0.1, 0.6)),
        ("mexico_south_enforcement", "GTM-MEX", (0.0, 0.5)),
    ):
        levers[key] = SweptLever(
            f"{BORDERS[edge]}: share of crossings stopped",
            f"enforcement[edge={edge}].interdiction", 0.0, 1.0, default,
        )  # fmt: skip
    boxes = number_boxes()
    for host in ("COL", "PER"):
        box = boxes[f"lv_int_{host}"]
        levers[f"integration_{host}"] = SweptLever(
            box.words, f"integration[host={host}].funding_musd_per_year", 0.0, box.high,
            (0.0, 300.0),
        )  # fmt: skip
    visas = PATHWAYS["labour_nca"]
    levers["labour_visas"] = SweptLever(
        f"{visas.label}: extra places a year",
        f'pathways[name="{visas.label} (swept in the app)"].capacity_per_year',
        0.0, boxes["lv_path_labour_nca"].high, (0.0, 40_000.0),
        {"kind": visas.kind, "origins": list(visas.origins), "destination": visas.destination,
         "duration_months": visas.duration_months},
    )  # fmt: skip
    box = boxes["lv_rc_HND"]
    levers["root_causes_HND"] = SweptLever(
        box.words, "root_causes[origin=HND].funding_musd_per_year", 0.0, box.high,
        (0.0, 1000.0),
    )  # fmt: skip
    return levers


LEVERS: dict[str, SweptLever] = _levers()

#: what every app sweep measures, over the years its levers act (name: indicator, words)
OUTCOMES = {
    "darien_crossings": ("darien_crossings", "Darién crossings a year"),
    "us_border_arrivals": ("us_border_arrivals", "US border arrivals a year"),
    "deaths": ("expected_deaths", "deaths on the way a year (expected)"),
    "cost_musd": ("cost_musd", "cost of every lever, $M a year"),
}


def _name(name: str) -> str:
    if not name.strip():
        raise InputError("name of the sweep: give the sweep a name", source="sweep")
    try:
        return checked_name(name.strip())
    except ValueError as exc:
        raise InputError(f"name of the sweep: {exc}", source="sweep") from None


def sweep_folder(name: str) -> Path:
    """The folder of the app's sweep ``name``: always directly under ``SWEEPS_DIR``."""
    return SWEEPS_DIR / _name(name)


def sweep_toml(folder: Path) -> Path:
    """The sweep file the app writes for the sweep in ``folder``, beside it (``migflow sweep``
    wants an empty folder to start in): the sweep can be rerun, extended or finished from it."""
    return folder.parent / f"{folder.name}.toml"


def sweep_log(folder: Path) -> Path:
    """What the app's ``migflow sweep`` process printed, beside the folder."""
    return folder.parent / f"{folder.name}.log"


def sweep_file(
    name: str,
    base: str,
    ranges: dict[str, tuple[float, float]],
    runs: int,
    from_year: int,
    scale: int = 1000,
    end_year: int = 2030,
) -> dict:
    """The sweep file of the app's choices: a Latin hypercube of ``runs`` points over the
    chosen levers' ``ranges``, each lever acting from January of ``from_year``, outcomes
    over ``from_year``..``end_year``. Raises ``InputError`` in the form's words."""
    problems = []
    if not ranges:
        problems.append("choose at least one lever")
    for key, (low, high) in ranges.items():
        lever = LEVERS[key]
        if not (lever.low <= low < high <= lever.high):
            problems.append(
                f"{lever.words}: from {low:,g} to {high:,g} is not a range inside "
                f"{lever.low:,g}..{lever.high:,g} with the first number below the second"
            )
    if not MIN_RUNS <= runs <= MAX_RUNS:
        problems.append(f"runs: {runs} is outside {MIN_RUNS}..{MAX_RUNS}")
    if scale not in SCALES:
        problems.append(f"scale: {scale} is not one of {', '.join(map(str, SCALES))}")
    if problems:
        raise InputError("; ".join(problems), source="sweep")
    start = f"{from_year}-01"
    inputs = {
        key: {
            "path": LEVERS[key].path,
            "range": [float(low), float(high)],
            "add": {**LEVERS[key].add, "start": start, "note": "swept in the app"},
        }
        for key, (low, high) in ranges.items()
    }
    return {
        "name": _name(name),
        "description": "A sweep started in the migflow app",
        "base": base,
        "scale": int(scale),
        "sampler": {"method": "latin", "samples": int(runs), "seed": 1},
        "inputs": inputs,
        "outcomes": {
            key: {"indicator": indicator, "years": [from_year, end_year]}
            for key, (indicator, _) in OUTCOMES.items()
        },
    }


def launch(data: dict, folder: Path) -> subprocess.Popen:
    """Write the sweep file of ``data`` beside ``folder`` and start ``migflow sweep`` on it in
    a process of its own (two local workers, its output in ``sweep_log``), which goes on if
    the page is closed. Not a cluster started in the app's process: Streamlit runs a page as
    ``__main__``, which every worker process of a local cluster would run again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    sweep_toml(folder).write_text(tomli_w.dumps(data), encoding="utf-8")
    command = [
        sys.executable, "-m", "migflow", "sweep", str(sweep_toml(folder)), "--out", str(folder),
        "--workers", "2", "--batch-size", "8", "--quiet", "--yes",
    ]  # fmt: skip
    with open(sweep_log(folder), "wb") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
