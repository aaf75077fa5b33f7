"""The shipped calibration result: the embedded default of every run.

``calibration/posterior/`` holds ``point.json`` (the best parameter set and its fit),
``ensemble.csv`` (posterior parameter sets with weights), ``targets.csv`` (the targets used)
and ``settings.json`` (settings, package version, the in-sample fit). The CLI and the app use
the point estimate by default and draws from the ensemble for uncertainty bands.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from migflow.model.errors import InputError
from migflow.model.parameters import SPEC_BY_NAME, Parameters

from .assumptions import draw_assumed
from .paths import SHIPPED


@dataclass
class Posterior:
    point: dict[str, float]
    ensemble: pd.DataFrame
    settings: dict
    folder: Path

    @property
    def box_width(self) -> float:
        """The half-width of the box the ensemble was drawn in (ABC), 0 for a posterior
        over the whole ranges."""
        settings = self.settings.get("settings", {})
        if settings.get("posterior", "abc") != "abc":
            return 0.0
        return float(settings.get("prior_width", 0.0))

    def left_at_prior(self) -> list[str]:
        """The fitted parameters the data leave at their prior: what rests on them rests
        on their range. Those the local measure at the point says so of
        (``parameter_information.csv``, ``information.py``), and, for an ensemble drawn
        over the whole ranges, those whose spread in it is as wide as the prior's. The local
        measure is always consulted: an ensemble drawn in a box says nothing of it, and the
        emulated ensemble is kept near its runs (a trust region), so it can be narrower
        than the data allow in the directions they leave open (docs/calibration.md)."""
        from .identification import VERDICTS, spread_table

        open_ = set()
        local = self.folder / "parameter_information.csv"
        if local.is_file():
            table = pd.read_csv(local)
            open_ |= set(table.loc[table["verdict"] == VERDICTS[2], "parameter"])
        if self.box_width == 0:
            table = spread_table(self.ensemble, self.point)
            open_ |= set(table.loc[table["verdict"] == VERDICTS[2], "parameter"])
        return [n for n in self.settings.get("free_parameters", sorted(open_)) if n in open_]

    def point_parameters(self, overrides: dict | None = None) -> Parameters:
        return Parameters({**self.point, **(overrides or {})})

    def draws(self, k: int, seed: int = 0, overrides: dict | None = None) -> list[Parameters]:
        """``k`` parameter sets drawn from the ensemble by weight, each with the assumed
        lever parameters drawn from their ranges (``assumptions.py``) unless the ensemble
        fitted them; reproducible by seed. ``overrides`` (a scenario's own parameters) win."""
        rng = np.random.default_rng(seed)
        weights = self.ensemble["weight"].to_numpy()
        rows = rng.choice(len(self.ensemble), size=k, replace=True, p=weights / weights.sum())
        names = [c for c in self.ensemble.columns if c != "weight"]
        assumed = draw_assumed(rng, k)
        return [
            Parameters({
                **{n: v for n, v in extra.items() if n not in names},
                **{n: float(self.ensemble.iloc[r][n]) for n in names},
                **(overrides or {}),
            })
            for r, extra in zip(rows, assumed, strict=True)
        ]  # fmt: skip


def load_posterior(folder: str | Path = SHIPPED) -> Posterior | None:
    """The posterior in ``folder`` (the shipped one by default), or None if there is none."""
    folder = Path(folder)
    if not (folder / "point.json").is_file():
        return None
    try:
        point = json.loads((folder / "point.json").read_text())["parameters"]
        ensemble = pd.read_csv(folder / "ensemble.csv")
        settings = json.loads((folder / "settings.json").read_text())
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read the calibration result: {exc}", source=str(folder)) from None
    unknown = [n for n in point if n not in SPEC_BY_NAME]
    if unknown:
        raise InputError(f"unknown parameters {unknown}", source=str(folder / "point.json"))
    return Posterior(point, ensemble, settings, folder)


def write_posterior(
    folder: Path, point: dict, point_fit: dict, ensemble: pd.DataFrame, targets_file: Path,
    settings: dict, extra: dict[str, pd.DataFrame] | None = None,
) -> None:  # fmt: skip
    """Write atomically: a new folder is filled, then swapped in. ``extra`` tables (the
    coverage check's) are written beside the four files."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        (tmp / "point.json").write_text(json.dumps({"parameters": point, **point_fit}, indent=2))
        ensemble.to_csv(tmp / "ensemble.csv", index=False)
        shutil.copyfile(targets_file, tmp / "targets.csv")
        (tmp / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
        for name, table in (extra or {}).items():
            table.to_csv(tmp / name, index=False)
        keep = [p for p in folder.glob("*.db")] if folder.exists() else []
        for db in keep:  # an ABC database stays with its run (for resuming)
            os.replace(db, tmp / db.name)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
