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


def _run_one(job: tuple[Scenario, Parameters | None, bool]) -> Results | object:
    scenario, parameters, summary_only = job
    results = run_scenario(scenario, parameters)
    return results.summary if summary_only else results


def run_scenarios(
    jobs: list[tuple[Scenario, Parameters | None]],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    summary_only: bool = False,
) -> list:
    """Run several scenarios side by side (one process per core, at most ``workers``), in
    the order given: each run's numbers depend only on its scenario, seed and parameters,
    never on the process or the order. ``progress(done, total)`` after each; with
    ``summary_only`` only the yearly summaries come back (cheap to pass between processes).

    Worker processes are forked, so they start with everything already imported."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    total = len(jobs)
    workers = max(1, min(workers or os.cpu_count() or 1, total))
    items = [(s, p, summary_only) for s, p in jobs]
    if workers == 1:
        out = []
        for i, item in enumerate(items):
            out.append(_run_one(item))
            if progress is not None:
                progress(i + 1, total)
        return out
    out = [None] * total
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_run_one, item): i for i, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            out[futures[future]] = future.result()
            if progress is not None:
                progress(done, total)
    return out


def run_scenarios_on(
    client,
    jobs: list[tuple[Scenario, Parameters | None]],
    progress: Callable[[int, int], None] | None = None,
    summary_only: bool = False,
) -> list:
    """``run_scenarios`` on a Dask ``client`` (a local cluster or a remote scheduler's), in
    the order given; ``progress(done, total)`` after each run. A run that fails raises."""
    from dask.distributed import as_completed

    items = [(s, p, summary_only) for s, p in jobs]
    futures = [client.submit(_run_one, item, pure=False) for item in items]
    index = {future.key: i for i, future in enumerate(futures)}
    out = [None] * len(items)
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            out[index[future.key]] = future.result()
            if progress is not None:
                progress(done, len(items))
    finally:
        client.cancel([f for f in futures if not f.done()])
    return out
