"""Batch parameter sweeps on Dask: sample inputs, run, store, analyse (issue 5).

One module per job, in the order data flows:

* ``address``: how an input names a number of a scenario (``parameter:NAME``,
  ``integration[host=PER].funding_musd_per_year``);
* ``spec``: the sweep-file schema, validation, and the resolved ``SweepPlan``;
* ``sample``: the design (SALib Sobol/Saltelli, Morris, Latin hypercube; full grid) and run ids;
* ``outcomes``: numbers from a run's Results;
* ``evaluate``: one run (the Dask task);
* ``store``: the Parquet store (atomic batches, resume, ``load_results``);
* ``runner``: Dask distributed (LocalCluster or an existing scheduler);
* ``analyze`` and ``prim``: sensitivity indices and scenario discovery;
* ``report``: CSV tables and PNG charts; ``commands``: ``migflow sweep`` / ``sweep-report``.

Importing this package imports none of them: the names below load their module on first
use (PEP 562), so the command line starts without SALib, pandas or Dask.
"""

import importlib

_WHERE = {
    "discover": "analyze",
    "distributions": "analyze",
    "indices": "analyze",
    "PrimResult": "prim",
    "prim": "prim",
    "Design": "sample",
    "design": "sample",
    "GoalSpec": "spec",
    "SweepPlan": "spec",
    "load_sweep": "spec",
    "sweep_from_dict": "spec",
    "SweepResults": "store",
    "load_results": "store",
    "read_runs": "store",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Design",
    "GoalSpec",
    "PrimResult",
    "SweepPlan",
    "SweepResults",
    "design",
    "discover",
    "distributions",
    "indices",
    "load_results",
    "load_sweep",
    "prim",
    "read_runs",
    "sweep_from_dict",
]
