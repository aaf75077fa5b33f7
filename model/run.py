"""Run a scenario and get its results: the one entry point the CLI, app and sweeps share."""

from __future__ import annotations

from collections.abc import Callable

from .model import MigrationModel
from .parameters import Parameters
from .results import Results
from .scenario import Scenario


def run_scenario(
    scenario: Scenario,
    parameters: Parameters | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Run ``scenario`` to the end of its window and return its tidy results."""
    model = MigrationModel(scenario, parameters)
    model.run(progress)
    return Results.from_model(model)
