"""Engine benchmark: the baseline at scale 1 (every migrant an agent) and at scale 100.

Prints figures; asserts nothing (timings are not tests). Targets (issue 2, on the 2-core
reference machine): at most 25 ns per agent-step and 100 bytes per agent at scale 1; one run
at scale 100 in under 1 second.

    python benchmarks/engine.py            # both
    python benchmarks/engine.py --quick    # scale 100 only

Agent-steps count the migrants alive (in transit or settled) at each month's step. Memory
per agent is the growth of the process's peak resident memory during the run divided by the
largest number of agents alive at once (it includes every temporary array of the step), and
the population's own columns are reported separately.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migflow.model.model import MigrationModel
from migflow.model.run import run_scenario
from migflow.model.scenario import load_scenario


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def scale_one() -> None:
    scenario = load_scenario("baseline").with_changes(scale=1)
    rss_before = peak_rss_bytes()
    model = MigrationModel(scenario)
    agent_steps, peak_agents = 0, 0
    t0 = time.perf_counter()
    while model.running:
        live_before = int(model.recorder.stocks[model.t - 1].sum()) if model.t else 0
        model.step()
        agent_steps += max(live_before, 0)
        peak_agents = max(peak_agents, model.pop.n)
    wall = time.perf_counter() - t0
    growth = peak_rss_bytes() - rss_before
    final = int(model.recorder.stocks[-1].sum())
    print("baseline at scale 1 (every migrant an agent)")
    print(f"  months (steps)            {model.n_months}")
    print(f"  agents alive at the end   {final:,}")
    print(f"  most agents at once       {peak_agents:,}")
    print(f"  agent-steps               {agent_steps:,}")
    print(f"  wall time                 {wall:.2f} s")
    print(f"  ns per agent-step         {1e9 * wall / max(agent_steps, 1):.1f}   (target <= 25)")
    print(f"  peak memory growth        {growth / 2**20:,.0f} MiB")
    print(f"  bytes per agent (peak)    {growth / max(peak_agents, 1):.1f}   (target <= 100)")
    print(
        f"  population columns        {model.pop.nbytes / max(model.pop.capacity, 1):.1f} B/agent"
    )


def scale_hundred(repeats: int = 5) -> None:
    scenario = load_scenario("baseline")
    run_scenario(scenario)  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_scenario(scenario)
        times.append(time.perf_counter() - t0)
    print(f"baseline at scale {scenario.scale} ({scenario.start}..{scenario.end})")
    print(f"  one run, median of {repeats}  {statistics.median(times):.3f} s   (target < 1 s)")
    print(f"  fastest / slowest         {min(times):.3f} / {max(times):.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 100 only")
    args = parser.parse_args()
    scale_hundred()
    if not args.quick:
        scale_one()
