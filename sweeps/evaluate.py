"""One run: inputs and seed -> scenario -> results -> measures.

This is the function a Dask worker executes. It receives the plan as JSON text (small; the
parsed plan is cached per process) and one run description from ``sample.Design.runs``. It
never raises: a run that fails returns its error text, and the sweep goes on.
"""

from __future__ import annotations

import gc
import json
import math
import os
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from migflow.model.checkpoint import SavedStates
from migflow.model.run import run_from_reference, run_scenario

from .outcomes import measure
from .spec import SweepPlan, plan_from_json


@lru_cache(maxsize=4)
def _plan(payload: str) -> SweepPlan:
    return plan_from_json(json.loads(payload))


_HEAP_FROZEN = False


@contextmanager
def _release_models() -> Iterator[None]:
    """Free the models created inside the block as soon as it ends.

    A model and its country agents refer to each other (so does a Mesa model and its own
    wrapped ``step``), so a finished model (and its population arrays) is freed only when
    Python's cyclic collector next runs, which counts objects, not bytes: a worker running
    hundreds of runs could hold many dead models. Collecting after each run keeps its memory
    flat. A full collection walks every object of the process (about 155,000 after the
    imports: 0.09 s, a quarter of a short run), so before its first run a worker moves what
    it has imported into the collector's permanent generation (``gc.freeze``): later
    collections walk only what the runs made (0.0003 s). (Nothing else keeps a model alive:
    country agents count their ids in a weak dictionary, model/agents.py, so Mesa's
    class-level id table stays empty, measured after three runs.)"""
    global _HEAP_FROZEN
    if not _HEAP_FROZEN:
        gc.collect()
        gc.freeze()
        _HEAP_FROZEN = True
    try:
        yield
    finally:
        gc.collect()


#: this worker's latest reference states: runs of a sweep that share a reference (the same
#: seed and parameter values: every run of a sweep over levers alone) run only their own
#: months once the worker has it (model/checkpoint.py)
_STATES = SavedStates(keep=4)


def evaluate(plan: SweepPlan, run: dict) -> dict:
    """Run one scenario of the sweep and return a stored row (inputs, measures, error)."""
    started = time.perf_counter()
    row = {
        "run_id": run["run_id"],
        "kind": run["kind"],
        "seed": int(run["seed"]),
        **{f"input:{n}": float(run["inputs"].get(n, math.nan)) for n in plan.input_names},
        **{f"measure:{m}": math.nan for m in plan.measure_names},
        "error": None,
    }
    try:
        reference = plan.reference_for(run["inputs"], run["seed"])
        with _release_models():
            if run["kind"] == "reference":
                results = run_scenario(reference)
            else:
                scenario = plan.scenario_for(run["inputs"], run["seed"])
                results = run_from_reference(scenario, reference, _STATES)
            for name, value in measure(results, plan.outcomes).items():
                row[f"measure:{name}"] = float(value)
            del results
    except Exception as exc:  # a failed run is recorded, never fatal
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        row["error"] = f"{type(exc).__name__}: {exc}{where}"
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row["seconds"] = time.perf_counter() - started
    return row


def evaluate_payload(payload: str, run: dict) -> dict:
    """The Dask task: ``payload`` is ``json.dumps(plan.to_json())``."""
    try:
        plan = _plan(payload)
    except Exception as exc:
        return {
            "run_id": run["run_id"],
            "kind": run["kind"],
            "seed": int(run["seed"]),
            "error": f"cannot read the sweep plan: {type(exc).__name__}: {exc}",
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "seconds": 0.0,
        }
    return evaluate(plan, run)
