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

Importing this package does not import Dask or matplotlib.
"""

from .analyze import discover, distributions, indices
from .prim import PrimResult, prim
from .sample import Design, design
from .spec import GoalSpec, SweepPlan, load_sweep, sweep_from_dict
from .store import SweepResults, load_results, read_runs

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
