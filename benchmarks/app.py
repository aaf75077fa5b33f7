"""App benchmark: how long the what-if app takes to show results.

Prints figures; asserts nothing (timings are not tests). Target (issue 4, on the 2-core
reference machine): the default run, which the app shows on opening, returns in under
2 seconds.

    python benchmarks/app.py

1. App start (AppTest, no browser): a new session of the real app script, from nothing to the
   baseline's indicators and charts, once with an empty cache (the first visitor after the
   server starts; includes importing the app) and once with the run cached (every later one).
2. The default run, cold and uncached, through the function the app's cache calls on a miss
   (``app.runs.run_uncached``: parse the scenario's TOML text, run it): the first call in this
   process, then the median of three more.
3. A cached run (``app.runs.run``, the cache the app uses) and an edited scenario with its
   baseline (two runs: what pressing "Run scenario" costs the first time).
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" notes in bare mode


def app_start() -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    times = []
    for _ in range(2):
        began = time.perf_counter()
        at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
        at.run()
        times.append(time.perf_counter() - began)
        assert not at.exception, [e.value for e in at.exception]
    return times[0], times[1]


def main() -> None:
    cold_start, warm_start = app_start()
    print("app start (AppTest: a new session until the baseline's results are drawn)")
    print(f"  empty cache (first visitor; includes imports): {cold_start:6.2f} s")
    print(f"  cached run (every later visitor):              {warm_start:6.2f} s")

    from migflow.app import runs
    from migflow.app.state import LeverInputs, build_scenario
    from migflow.model.scenario import dumps_scenario, load_scenario

    baseline = load_scenario("baseline")
    text = dumps_scenario(baseline)
    began = time.perf_counter()
    runs.run_uncached(text)
    first = time.perf_counter() - began
    repeats = []
    for _ in range(3):
        began = time.perf_counter()
        runs.run_uncached(text)
        repeats.append(time.perf_counter() - began)
    months = baseline.n_months
    print(f"default run: baseline {baseline.start}..{baseline.end} ({months} months), "
          f"scale {baseline.scale}, uncached")  # fmt: skip
    print(f"  first in this process:  {first:6.2f} s")
    print(f"  median of 3 more:       {statistics.median(repeats):6.2f} s   (target < 2 s)")

    edited = build_scenario(
        baseline,
        LeverInputs(
            start="2023-01",
            end="2030-12",
            integration_musd={"PER": 100.0},
            pathways={"labour_nca": 9800.0},
            enforcement={"COL-PAN": 0.3},
            seed=424242,  # a seed nothing else used, so nothing is cached yet
        ),
    )
    began = time.perf_counter()
    runs.run_with_baseline(edited)
    both = time.perf_counter() - began
    began = time.perf_counter()
    runs.run(edited)
    cached = time.perf_counter() - began
    print("edited scenario (Peru integration, labour visas, Darién enforcement), new seed")
    print(f"  scenario + its baseline, uncached: {both:6.2f} s")
    print(f"  the same scenario again, cached:   {cached * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
