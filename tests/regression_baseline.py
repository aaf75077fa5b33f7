"""The calibrated baseline's yearly figures, checked in (``tests/baselines/``) and compared
by ``tests/test_regression.py``, in the manner of Starsim's regression baselines.

The yearly summary users read, plus every event kind's yearly total and the year-end stock of
every status, of ``migflow run baseline`` as shipped (calibrated parameters, default seed and
scale). Any change to the model's results shows here first, separately from the calibration's
stored loss. After an intended change, regenerate and commit the file with the change:

    python tests/regression_baseline.py

and say in the commit message which figures moved and why.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from migflow.model.calendar import year_of
from migflow.model.model import MigrationModel
from migflow.model.population import STATUS_NAMES
from migflow.model.recorder import EVENT_KINDS, REMOVED_NAMES
from migflow.model.results import Results
from migflow.model.scenario import load_scenario

BASELINE_FILE = Path(__file__).resolve().parent / "baselines" / "baseline_yearly.csv"


def yearly_figures() -> pd.DataFrame:
    """One row a year of the shipped baseline: summary, events by kind, stocks by status."""
    model = MigrationModel(load_scenario("baseline"))
    model.run()
    rec = model.recorder
    table = Results.from_model(model).summary.set_index("year")
    years = np.array([year_of(m) for m in model.policy.months])
    for year in table.index:
        in_year = years == year
        last = np.flatnonzero(in_year)[-1]
        for k, kind in enumerate(EVENT_KINDS):
            table.loc[year, f"events_{kind}"] = rec.events[in_year, k].sum()
        for s, status in enumerate(STATUS_NAMES):
            table.loc[year, f"stock_{status}"] = rec.stocks[last, ..., s].sum()
        for s, status in enumerate(REMOVED_NAMES):
            table.loc[year, f"stock_{status}"] = rec.removed_stocks[last, ..., s].sum()
    return table.astype(float)


def read_checked_in() -> pd.DataFrame:
    return pd.read_csv(BASELINE_FILE, index_col="year").astype(float)


def main() -> int:
    BASELINE_FILE.parent.mkdir(parents=True, exist_ok=True)
    yearly_figures().to_csv(BASELINE_FILE, float_format="%.17g")
    print(f"wrote {BASELINE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
