"""Run a sweep on Dask distributed: one task per run, results stored as they finish.

The Client comes from ``migflow.model.cluster.dask_client`` (a ``LocalCluster`` of
single-threaded worker processes, or an existing scheduler), shared with calibration. ``run_sweep``
opens the store (checking that the folder holds this sweep or nothing), skips the runs already
stored, and keeps a bounded window of tasks in flight; each finished run is buffered and the
buffer is written as one Parquet file every ``batch_size`` runs or ``flush_seconds`` seconds.

Nothing is lost:
* Ctrl-C (KeyboardInterrupt) or ``stop_after``: the buffer is written, tasks cancelled.
* A killed driver: at most the unwritten buffer is lost; the next run recomputes it.
* A lost worker: Dask reruns its tasks elsewhere; a run that kills workers repeatedly
  (``KilledWorker``) is recorded as failed, like a run whose model raised.
A run's numbers depend only on its inputs and seed, never on the worker or the order.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from .evaluate import evaluate, evaluate_payload
from .sample import design
from .spec import SweepPlan
from .store import SweepStore


@dataclass
class SweepProgress:
    done: int  # runs stored or finished (this session and before)
    total: int
    failed: int  # failed this session
    session_done: int  # finished this session
    elapsed: float  # seconds this session


@dataclass
class SweepSummary:
    total: int
    already: int  # stored before this session
    computed: int  # finished and stored this session
    failed: int  # failed this session
    interrupted: bool
    seconds: float


class _Recorder:
    """Buffers finished runs, writes batches, counts and reports progress."""

    def __init__(self, store, total, already, batch_size, flush_seconds, progress, stop_after):
        self.store, self.total, self.already = store, total, already
        self.batch_size, self.flush_seconds = batch_size, flush_seconds
        self.progress, self.stop_after = progress, stop_after
        self.buffer: list[dict] = []
        self.session_done = self.failed = 0
        self.started = self.last_flush = time.monotonic()

    def add(self, row: dict) -> bool:
        """Record one finished run; True when the sweep should stop (``stop_after``)."""
        self.buffer.append(row)
        self.session_done += 1
        self.failed += row.get("error") is not None
        now = time.monotonic()
        if len(self.buffer) >= self.batch_size or now - self.last_flush >= self.flush_seconds:
            self.flush()
        self.report()
        return self.stop_after is not None and self.session_done >= self.stop_after

    def flush(self) -> None:
        self.store.write_batch(self.buffer)
        self.buffer = []
        self.last_flush = time.monotonic()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(
                SweepProgress(
                    self.already + self.session_done,
                    self.total,
                    self.failed,
                    self.session_done,
                    time.monotonic() - self.started,
                )
            )

    def summary(self, interrupted: bool) -> SweepSummary:
        return SweepSummary(
            self.total,
            self.already,
            self.session_done,
            self.failed,
            interrupted,
            time.monotonic() - self.started,
        )


def _failed_row(run: dict, error: str) -> dict:
    return {"run_id": run["run_id"], "kind": run["kind"], "seed": run["seed"], "error": error}


def run_sweep(
    plan: SweepPlan,
    out,
    client,
    *,
    batch_size: int = 100,
    flush_seconds: float = 5.0,
    progress: Callable[[SweepProgress], None] | None = None,
    stop_after: int | None = None,
) -> SweepSummary:
    """Run every run of ``plan`` not yet stored in ``out`` on the Dask ``client``."""
    from dask.distributed import as_completed
    from distributed.scheduler import KilledWorker

    with SweepStore(out, plan) as store:
        runs, todo_list = _pending(store, plan)
        todo = iter(todo_list)
        rec = _Recorder(
            store, len(runs), len(runs) - len(todo_list), batch_size, flush_seconds, progress,
            stop_after,
        )  # fmt: skip
        rec.report()
        payload = json.dumps(plan.to_json(), sort_keys=True)
        in_flight: dict[str, tuple[object, dict]] = {}
        pool = as_completed(loop=client.loop)
        window = {"size": 8, "checked": 0.0}

        def refill() -> None:
            now = time.monotonic()
            if now - window["checked"] > 2.0:
                threads = sum(client.nthreads().values()) or 1
                window["size"], window["checked"] = max(8, 4 * threads + 4), now
            while len(in_flight) < window["size"]:
                run = next(todo, None)
                if run is None:
                    return
                future = client.submit(
                    evaluate_payload, payload, run, key=f"migflow-run-{run['run_id']}"
                )
                in_flight[future.key] = (future, run)
                pool.add(future)

        interrupted = False
        try:
            refill()
            for future in pool:
                _, run = in_flight.pop(future.key)
                try:
                    row = future.result()
                except KilledWorker as exc:
                    row = _failed_row(run, f"KilledWorker: the run killed its worker ({exc})")
                future.release()
                if rec.add(row):
                    interrupted = True
                    break
                refill()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            rec.flush()
            if in_flight:
                with contextlib.suppress(Exception):  # the scheduler may be gone already
                    client.cancel([f for f, _ in in_flight.values()])
        return rec.summary(interrupted)


def _pending(store, plan: SweepPlan) -> tuple[list[dict], list[dict]]:
    """Every run of the plan, and those not yet in the store (a resumed sweep skips them)."""
    runs = design(plan).runs(plan)
    stored = store.run_ids()
    return runs, [r for r in runs if r["run_id"] not in stored]


def run_sweep_serial(
    plan: SweepPlan,
    out,
    *,
    batch_size: int = 100,
    progress: Callable[[SweepProgress], None] | None = None,
    stop_after: int | None = None,
) -> SweepSummary:
    """The same sweep in this process, without Dask (for small checks and debugging)."""
    with SweepStore(out, plan) as store:
        runs, todo = _pending(store, plan)
        rec = _Recorder(
            store, len(runs), len(runs) - len(todo), batch_size, 1e9, progress, stop_after
        )
        interrupted = False
        try:
            for run in todo:
                if rec.add(evaluate(plan, run)):
                    interrupted = True
                    break
        except KeyboardInterrupt:
            interrupted = True
        finally:
            rec.flush()
        return rec.summary(interrupted)
