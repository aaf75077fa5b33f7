"""The sweep store: a folder of Parquet files that only ever holds complete runs.

::

    DIR/sweep.json          the resolved sweep (file, base scenario, seeds) and its fingerprint
    DIR/design.parquet      every planned (sample, replication): seed, run_id, reference_id
    DIR/runs/batch-*.parquet  finished runs, one file per batch, appended as runs finish
    DIR/.lock               pid and host of the sweep writing here (removed when it ends)

A batch is written to a hidden temporary file and renamed into place, so a process killed at
any moment leaves only complete files (and perhaps a temporary one, removed by the next
writer). Resuming reads the run ids already stored and computes the rest. Each stored row has
the run id, kind (sample or reference), seed, input values (``input:NAME``), measures
(``measure:NAME``), the error text of a failed run, and which worker ran it in how long.

``load_results`` joins the design, the stored runs and their reference runs into one table
with the outcomes of outcomes.py: what the report, the app and users read.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from migflow.model.errors import InputError

from .outcomes import finalise
from .sample import Design, design
from .spec import SweepPlan, plan_from_json

SWEEP_JSON = "sweep.json"
DESIGN = "design.parquet"
RUNS = "runs"
LOCK = ".lock"


def schema(plan: SweepPlan) -> pa.Schema:
    return pa.schema(
        [
            ("run_id", pa.string()),
            ("kind", pa.string()),
            ("seed", pa.int64()),
            *((f"input:{n}", pa.float64()) for n in plan.input_names),
            *((f"measure:{m}", pa.float64()) for m in plan.measure_names),
            ("error", pa.string()),
            ("worker", pa.string()),
            ("seconds", pa.float64()),
        ]
    )


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_plan(root: str | Path) -> SweepPlan:
    """The plan stored in a sweep folder."""
    root = Path(root)
    path = root / SWEEP_JSON
    if not path.is_file():
        raise InputError("not a sweep folder (no sweep.json)", source=str(root))
    try:
        return plan_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read sweep.json: {exc}", source=str(root)) from None


def check_folder(root: Path, plan: SweepPlan) -> bool:
    """Whether ``root`` can take this sweep (True if it already holds some of it). Reads
    only: raises InputError for a file, a foreign folder or a different sweep."""
    if not root.exists():
        return False
    if not root.is_dir():
        raise InputError("exists and is not a folder", source=str(root), field="--out")
    sweep_json = root / SWEEP_JSON
    if not sweep_json.is_file():
        if any(not p.name.startswith(".tmp-") for p in root.iterdir()):
            raise InputError(
                "is not empty and holds no sweep; choose a new folder",
                source=str(root),
                field="--out",
            )
        return False
    try:
        stored = json.loads(sweep_json.read_text(encoding="utf-8")).get("fingerprint")
    except ValueError:
        stored = None
    if stored != plan.fingerprint:
        raise InputError(
            "holds a different sweep (its base, inputs, sampler, seeds or outcomes differ, or "
            "it was run with another version of migflow or another calibration); choose a "
            "new folder, or run the sweep file it was made with",
            source=str(root),
            field="--out",
        )
    return True


class SweepStore:
    """Writer of one sweep folder. Use as a context manager: it takes the folder's lock."""

    def __init__(self, root: str | Path, plan: SweepPlan):
        self.root = Path(root)
        self.plan = plan
        self.runs_dir = self.root / RUNS
        self.schema = schema(plan)
        self._locked = False

    # -- lifecycle
    def __enter__(self) -> SweepStore:
        check_folder(self.root, self.plan)
        self.root.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.plan.to_json(), indent=2, sort_keys=True)
        sweep_json = self.root / SWEEP_JSON
        if not sweep_json.is_file():  # first, so the folder is always a sweep's
            _atomic_write(sweep_json, lambda p: p.write_text(text, encoding="utf-8"))
        self._lock()
        # The fingerprint matched (check_folder), so only what the report reads can differ
        # (goals, names, descriptions): keep it current, so that editing a goal in the sweep
        # file and running the same command again reports on the new goal.
        if sweep_json.read_text(encoding="utf-8") != text:
            _atomic_write(sweep_json, lambda p: p.write_text(text, encoding="utf-8"))
        self.runs_dir.mkdir(exist_ok=True)
        for stale in self.runs_dir.glob(".tmp-*"):
            stale.unlink(missing_ok=True)
        if not (self.root / DESIGN).is_file():
            table = design(self.plan).table
            _atomic_write(self.root / DESIGN, lambda p: table.to_parquet(p, index=False))
        return self

    def __exit__(self, *exc) -> None:
        self._unlock()

    def _lock(self) -> None:
        path = self.root / LOCK
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    held = json.loads(path.read_text())
                except (OSError, ValueError):
                    held = {}
                if held.get("host") == me["host"] and not psutil.pid_exists(held.get("pid", -1)):
                    path.unlink(missing_ok=True)  # left by a sweep that was killed
                    continue
                raise InputError(
                    f"another sweep is writing here (pid {held.get('pid')} on "
                    f"{held.get('host')}); if none is, remove {path}",
                    source=str(self.root),
                    field="--out",
                ) from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self._locked = True
            return
        raise InputError("cannot take the folder's lock", source=str(self.root), field="--out")

    def _unlock(self) -> None:
        if self._locked:
            (self.root / LOCK).unlink(missing_ok=True)
            self._locked = False

    # -- contents
    def run_ids(self) -> set[str]:
        ids: set[str] = set()
        for path in _batches(self.root):
            ids.update(pq.read_table(path, columns=["run_id"]).column(0).to_pylist())
        return ids

    def write_batch(self, rows: list[dict]) -> Path | None:
        """Append finished runs as one new Parquet file, atomically."""
        if not rows:
            return None
        names = self.schema.names
        table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows], self.schema)
        path = self.runs_dir / f"batch-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        _atomic_write(path, lambda p: pq.write_table(table, p))
        return path


def _batches(root: Path) -> list[Path]:
    return sorted((Path(root) / RUNS).glob("batch-*.parquet"))


def read_runs(root: str | Path, plan: SweepPlan | None = None) -> pd.DataFrame:
    """Every stored row, as written (one per run id unless something went badly wrong)."""
    root = Path(root)
    plan = plan or read_plan(root)
    tables = [pq.read_table(p) for p in _batches(root)]
    if not tables:
        return schema(plan).empty_table().to_pandas()
    return pa.concat_tables(tables, promote_options="default").to_pandas()


# --------------------------------------------------------------------------- reading


@dataclass
class SweepResults:
    """A sweep as stored: one row per (sample, replication) in ``runs`` with its inputs,
    outcomes, ``error`` and ``status`` (ok, failed, missing); ``references`` holds the
    reference runs; counts say how far the sweep got."""

    root: Path
    plan: SweepPlan
    design: Design
    runs: pd.DataFrame
    references: pd.DataFrame
    expected: int  # distinct runs the sweep needs
    stored: int  # distinct runs stored
    failed: int  # stored runs that failed

    @property
    def complete(self) -> bool:
        return self.stored >= self.expected

    @property
    def ok(self) -> pd.DataFrame:
        """Sample rows with every outcome computed from successful runs."""
        return self.runs[self.runs["status"] == "ok"]


def load_results(root: str | Path) -> SweepResults:
    """Read a (finished or partial) sweep folder into tables of inputs and outcomes."""
    root = Path(root)
    plan = read_plan(root)
    des = design(plan)
    raw = read_runs(root, plan).drop_duplicates("run_id", keep="first").set_index("run_id")
    needed = des.runs(plan)
    measures = [f"measure:{m}" for m in plan.measure_names]

    table = des.table.join(des.points, on="sample")
    run = raw.reindex(table["run_id"])
    if plan.needs_reference:
        ref = raw.reindex(table["reference_id"])
        ref_error = ref["error"].where(ref["error"].isna(), "reference run: " + ref["error"])
        ref_missing = ref["kind"].isna().to_numpy()
    else:
        ref, ref_error, ref_missing = None, None, False
    outcomes = finalise(
        run[measures].reset_index(drop=True),
        None if ref is None else ref[measures].reset_index(drop=True),
        plan.outcomes,
    )
    error = run["error"].reset_index(drop=True)
    if ref_error is not None:
        error = error.fillna(ref_error.reset_index(drop=True))
    missing = run["kind"].isna().to_numpy() | ref_missing
    status = pd.Series("ok", index=table.index)
    status[error.notna().to_numpy()] = "failed"
    status[missing] = "missing"
    runs = pd.concat(
        [table.reset_index(drop=True), outcomes, error.rename("error")], axis=1
    ).assign(status=status.to_numpy())

    refs = raw[raw["kind"] == "reference"].reset_index()
    stored = sum(1 for r in needed if r["run_id"] in raw.index)
    failed = int(raw["error"].notna().sum())
    return SweepResults(root, plan, des, runs, refs, len(needed), stored, failed)
