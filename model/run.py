"""Run a scenario and get its results: the one entry point the CLI, app and sweeps share."""

from __future__ import annotations

from collections.abc import Callable

from .checkpoint import (
    SavedStates,
    first_difference,
    resume,
    run_until,
    small_enough,
    snapshot,
)
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


def run_from_reference(
    scenario: Scenario,
    reference: Scenario,
    states: SavedStates,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """``scenario``'s results, started from ``reference``'s state at the first month their
    policies differ: taken from ``states``, or run and kept there for the next scenario that
    parts from the same reference at the same month (a lever change in the app, the runs of
    a sweep over levers). A state too big to keep: the scenario runs from the start."""
    shared, schedule = shared_months(reference, scenario)
    state = states.get(reference, shared) if shared else None
    if shared and state is None:
        model = run_until(reference, None, shared, progress)
        if small_enough(model):
            state = snapshot(model)
            states.save(reference, shared, state)
    return run_from(state, scenario, schedule, progress=progress)


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


Job = tuple[Scenario, Parameters | None]


def _run_pair_one(job: tuple[Job, Job, bool]) -> tuple:
    (reference, pa), (scenario, pb), summary_only = job
    if pa is pb or (pa is not None and pb is not None and dict(pa) == dict(pb)):
        pair = run_pair(reference, scenario, pa)
    else:  # different parameter sets share nothing
        pair = run_scenario(reference, pa), run_scenario(scenario, pb)
    return tuple(r.summary for r in pair) if summary_only else pair


def run_scenarios(
    jobs: list[Job],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    summary_only: bool = False,
) -> list:
    """Run several scenarios side by side (one process per core, at most ``workers``), in
    the order given: each run's numbers depend only on its scenario, seed and parameters,
    never on the process or the order. ``progress(done, total)`` after each; with
    ``summary_only`` only the yearly summaries come back (cheap to pass between processes).

    Worker processes are forked, so they start with everything already imported."""
    items = [(s, p, summary_only) for s, p in jobs]
    return _in_processes(_run_one, items, workers, progress)


def _per_pair(progress):
    return None if progress is None else (lambda done, total: progress(2 * done, 2 * total))


def _in_processes(task, items: list, workers: int | None, progress) -> list:
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    total = len(items)
    workers = max(1, min(workers or os.cpu_count() or 1, total))
    if workers == 1:
        out = []
        for i, item in enumerate(items):
            out.append(task(item))
            if progress is not None:
                progress(i + 1, total)
        return out
    out = [None] * total
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(task, item): i for i, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            out[futures[future]] = future.result()
            if progress is not None:
                progress(done, total)
    return out


def run_scenarios_on(
    client,
    jobs: list[Job],
    progress: Callable[[int, int], None] | None = None,
    summary_only: bool = False,
) -> list:
    """``run_scenarios`` on a Dask ``client`` (a local cluster or a remote scheduler's), in
    the order given; ``progress(done, total)`` after each run. A run that fails raises."""
    items = [(s, p, summary_only) for s, p in jobs]
    return _on_client(client, _run_one, items, progress)


def run_pairs_on(
    client,
    pairs: list[tuple[Job, Job]],
    progress: Callable[[int, int], None] | None = None,
    summary_only: bool = False,
) -> list[tuple]:
    """``run_scenarios_on`` for pairs (a reference, a scenario): each pair in one task, the
    scenario started from the reference's state where they part (``run_pair``); a pair
    (results or summaries) per pair, in order. ``progress`` counts runs, two per pair."""
    items = [(a, b, summary_only) for a, b in pairs]
    return _on_client(client, _run_pair_one, items, _per_pair(progress))


def _on_client(client, task, items: list, progress) -> list:
    from dask.distributed import as_completed

    futures = [client.submit(task, item, pure=False) for item in items]
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
