"""Sweep benchmark: runs per second at scale 100 with 1 and 2 Dask workers, the speed-up,
peak memory per worker, and the time of the shipped 1,000-run example sweep.

Prints figures; asserts nothing (timings are not tests). Targets (issue 5, on the 2-core
reference machine): at least 1.8x more runs per second with 2 workers than with 1; the
example sweep (scenarios/sweeps/example.toml: 1,024 runs plus 512 reference runs) in minutes.

    python benchmarks/sweeps.py                 # 1 and 2 workers on a slice of the example
    python benchmarks/sweeps.py --samples 4     # a bigger slice (8 x samples points)
    python benchmarks/sweeps.py --full          # also run the whole example on 2 workers

Last, the same slice over its levers alone (no uncertain parameter, at least 4 base samples),
twice: as sweeps run, each scenario from its reference's state kept by the worker
(model/checkpoint.py), and with no state kept, each from 2015.

The slice is the example sweep with fewer Sobol base samples and one seed: the same inputs,
scale (100), window (2015-2030) and outcomes, so a run costs what it costs in the example.
Each cluster is started and every worker warmed up (imports, one run) before timing; the
time is from the first task submitted to the last batch stored. Memory per worker is the
peak resident set of each worker process (``ru_maxrss``). The load average and the share of
a core each worker actually got are printed because the machine may be shared: other
processes competing for the cores lower the 2-worker figure most.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migflow.model.cluster import dask_client  # noqa: E402
from migflow.sweeps.evaluate import evaluate  # noqa: E402
from migflow.sweeps.runner import run_sweep  # noqa: E402
from migflow.sweeps.sample import design  # noqa: E402
from migflow.sweeps.spec import load_sweep, sweep_from_dict  # noqa: E402

EXAMPLE = ROOT / "scenarios" / "sweeps" / "example.toml"


def worker_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def worker_cpu_seconds() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def warm_up(plan, run) -> float:
    started = time.perf_counter()
    evaluate(plan, run)
    return time.perf_counter() - started


def keep_states(keep: int) -> None:
    """In a worker: how many reference states to keep (0: every scenario runs from 2015)."""
    import importlib

    from migflow.model.checkpoint import SavedStates

    importlib.import_module("migflow.sweeps.evaluate")._STATES = SavedStates(keep=keep)


def measure(plan, workers: int, keep: int = 4) -> dict:
    runs = design(plan).runs(plan)
    with dask_client(workers) as client:
        client.wait_for_workers(workers)
        client.run(warm_up, plan, runs[0])
        client.run(keep_states, keep)
        cpu_before = sum(client.run(worker_cpu_seconds).values())
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            summary = run_sweep(plan, Path(tmp) / "sweep", client)
            seconds = time.perf_counter() - started
        cpu = sum(client.run(worker_cpu_seconds).values()) - cpu_before
        peaks = sorted(client.run(worker_peak_mb).values())
    assert summary.computed == len(runs) and summary.failed == 0, summary
    return {
        "runs": len(runs),
        "seconds": seconds,
        "rate": len(runs) / seconds,
        "peak_mb": peaks,
        "cpu_per_run": cpu / len(runs),
        "share": cpu / (seconds * workers),  # of a core per worker: below 1 = waiting for CPU
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2, help="Sobol base samples in the slice")
    parser.add_argument("--full", action="store_true", help="also run the whole example sweep")
    args = parser.parse_args()

    data = tomllib.loads(EXAMPLE.read_text())
    data["sampler"]["samples"] = args.samples
    data["replications"] = 1
    plan = sweep_from_dict(data, source=str(EXAMPLE), base_dir=EXAMPLE.parent)
    example = load_sweep(EXAMPLE)
    example_runs = len(design(example).runs(example))
    references = sum(r["kind"] == "reference" for r in design(example).runs(example))

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"slice of {EXAMPLE.relative_to(ROOT)}: {len(design(plan).runs(plan))} runs "
        f"(scale {plan.base.scale}, {plan.base.start}..{plan.base.end})"
    )
    results = {}
    for workers in (1, 2):
        r = measure(plan, workers)
        results[workers] = r
        print(
            f"{workers} worker{'s' if workers > 1 else ' '}: {r['runs']} runs in "
            f"{r['seconds']:.1f} s = {r['rate']:.2f} runs/s; peak memory per worker "
            + ", ".join(f"{mb:.0f} MB" for mb in r["peak_mb"])
            + f"; {r['cpu_per_run']:.2f} CPU s per run, each worker got {r['share']:.0%} of a core"
        )
    ratio = results[2]["rate"] / results[1]["rate"]
    print(f"speed-up 1 -> 2 workers: {ratio:.2f}x (target >= 1.8x)")
    ideal = 2 * results[1]["cpu_per_run"] / results[2]["cpu_per_run"]
    print(
        f"  CPU-normalised speed-up (if each worker had a core to itself: 2 x CPU s per run "
        f"with 1 worker / with 2): {ideal:.2f}x"
    )
    minutes = example_runs / results[2]["rate"] / 60
    print(
        f"example sweep: {example_runs} runs ({example_runs - references:,} + {references:,} "
        f"reference); EXTRAPOLATED from the "
        f"2-worker rate: {minutes:.1f} min"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")

    # a sweep over levers alone: every run shares its seed's reference, whose state each
    # worker keeps, so a run computes only the months from the levers' start (2024-01)
    levers = dict(
        data,
        inputs={k: v for k, v in data["inputs"].items() if "add" in v},
        sampler=dict(data["sampler"], samples=max(args.samples, 4)),
    )
    lever_plan = sweep_from_dict(levers, source=str(EXAMPLE), base_dir=EXAMPLE.parent)
    resumed, from_start = measure(lever_plan, 2), measure(lever_plan, 2, keep=0)
    print(
        f"levers only ({len(lever_plan.input_names)} levers from 2024, {resumed['runs']} runs, "
        f"2 workers): {resumed['rate']:.2f} runs/s from the reference's state, "
        f"{from_start['rate']:.2f} runs/s each from 2015"
    )

    if args.full:
        with dask_client(2) as client, tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            summary = run_sweep(example, Path(tmp) / "example", client)
            seconds = time.perf_counter() - started
        print(
            f"example sweep MEASURED on 2 workers: {summary.computed} runs in "
            f"{seconds / 60:.1f} min ({summary.computed / seconds:.2f} runs/s, "
            f"{summary.failed} failed); load average {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
