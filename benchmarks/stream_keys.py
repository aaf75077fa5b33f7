"""How many migrants of a scale-1 baseline run share a random-stream key with another.

Two migrants with one key draw the same random number for every decision of the run, so
keys must be wide enough that this (almost) never happens. A scale-1 run has about 30
million migrants; running it takes minutes, but keys depend only on (month, cohort, rank),
so this runs the baseline at scale 100, records each cohort the model creates, and keys
cohorts a hundred times larger (what scale 1 creates, up to sampling noise) as the model
keys them. It prints the count with the model's 64-bit keys, and with the same keys cut to
their low 32 bits (what a 32-bit key would give).

    python benchmarks/stream_keys.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migflow.model.model import MigrationModel
from migflow.model.scenario import load_scenario


def shared(keys: np.ndarray) -> int:
    """Migrants whose key another migrant also has."""
    _, counts = np.unique(keys, return_counts=True)
    return int(counts[counts > 1].sum())


def main() -> None:
    model = MigrationModel(load_scenario("baseline"))
    cohorts: list[tuple[int, int, int]] = []
    make, make_all = model.streams.new_agent_keys, model.streams.cohort_keys

    def record(month: int, of_month, counts) -> np.ndarray:
        cohorts.extend((month, int(c), int(n)) for c, n in zip(of_month, counts, strict=True))
        return make_all(month, of_month, counts)

    model.streams.cohort_keys = record  # every cohort the model creates is keyed here
    model.run()
    assert cohorts, "the model created no cohort through cohort_keys"
    model.streams.cohort_keys = make_all
    keys = np.concatenate([make(m, c, n * model.scale) for m, c, n in cohorts])
    print(f"migrants of a scale-1 baseline run (2015-2030)   {len(keys):,}")
    print(f"sharing their key, {keys.dtype.itemsize * 8}-bit keys (the model's)   {shared(keys):,}")
    low = keys.astype(np.uint32)
    print(f"sharing their key, the same keys cut to 32 bits  {shared(low):,}")


if __name__ == "__main__":
    main()
