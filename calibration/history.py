"""The scenario the model is fitted on: what actually happened up to the targets' dates.

The shipped baseline is history as it happened to the end of 2025, then the status quo: it
holds every policy input of docs/historical_inputs.md that the levers can represent,
including the instruments of the seed documents that did happen (Colombia's protection cards
and Ecuador's registrations, which two seed figures measure directly, among them). So the fit
runs the baseline itself, clipped to the end of the targets. The fitted parameters are
behavioural, so they apply to every scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migflow.model.calendar import format_month
from migflow.model.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import pandas as pd

#: Scenario files once added to the baseline for the fit. Empty: the baseline holds history
#: (kept, empty, for the calibration settings that record it).
HISTORY_INSTRUMENTS: tuple[str, ...] = ()


def history_scenario(end: str, scale: int = 100, seed: int = 20221006) -> Scenario:
    """The baseline (history) on the window 2015-01..``end``."""
    base = load_scenario("baseline")
    return base.clipped(end=end).with_changes(
        name="history",
        title="History as it happened, to the targets' end",
        description="history as it happened, to the targets' end",
        scale=scale,
        seed=seed,
    )


def history_for(targets: pd.DataFrame, scale: int = 100, seed: int = 20221006) -> Scenario:
    """The history scenario on the window of ``targets`` (to their last month): what the fit,
    its report and its measurements all run."""
    return history_scenario(format_month(int(targets["end_month"].max())), scale, seed)
