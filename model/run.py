"""Run a scenario and get its results: the one entry point the CLI, app and sweeps share."""

from __future__ import annotations

from collections.abc import Callable

from .checkpoint import first_difference, resume, run_until, snapshot
from .model import MigrationModel
from .parameters import Parameters, default_parameters
from .policy import PolicySchedule
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


def shared_months(
    reference: Scenario, scenario: Scenario, parameters: Parameters | None = None
) -> tuple[int, PolicySchedule]:
    """How many months ``scenario`` shares with ``reference`` (same window, seed, scale and
    parameters, same policy read in every month before), and ``scenario``'s compiled policy."""
    pa = parameters or default_parameters(reference.parameters)
    pb = parameters or default_parameters(scenario.parameters)
    schedule = PolicySchedule.compile(scenario, pb)
    if (reference.seed, reference.scale) != (scenario.seed, scenario.scale) or dict(pa) != dict(pb):
        return 0, schedule
    return first_difference(PolicySchedule.compile(reference, pa), schedule), schedule


def run_from(
    state: bytes | None,
    scenario: Scenario,
    schedule: PolicySchedule,
    parameters: Parameters | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Run ``scenario`` from a reference's ``state`` (``checkpoint.snapshot``, taken at the
    month ``shared_months`` gave), or from the start without one."""
    model = (
        MigrationModel(scenario, parameters) if state is None else resume(state, scenario, schedule)
    )
    model.run(progress)
    return Results.from_model(model)


def run_pair(
    reference: Scenario, scenario: Scenario, parameters: Parameters | None = None
) -> tuple[Results, Results]:
    """Results of ``reference`` and of ``scenario``, the second started from the first's
    state at the first month their policies differ (model/checkpoint.py): the numbers of two
    runs from the start, in the time of one run plus the scenario's own months."""
    t0, schedule = shared_months(reference, scenario, parameters)
    model = run_until(reference, parameters, t0)
    state = snapshot(model) if t0 > 0 else None
    model.run()
    return Results.from_model(model), run_from(state, scenario, schedule, parameters)


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
