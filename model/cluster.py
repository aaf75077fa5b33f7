"""A Dask cluster for many model runs at once, shared by calibration and sweeps.

Both run the engine thousands of times on the same kind of workers (single-threaded
processes, one per core, tuned below), so they share one way of getting a Client: on a new
``LocalCluster`` or on a running scheduler (``--scheduler``, e.g. a cluster's). It sits in
the model layer so that neither of them imports the other. Dask is imported only when a
cluster is asked for.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import InputError

# Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers to hand memory back to the OS. Setting
# it disables glibc's adaptive mmap threshold, so every large numpy temporary of the model is a
# fresh mmap with page faults: runs are about 40% slower (measured: 30 short runs 2.1 s -> 3.0 s
# CPU). Sweep tasks are short and free everything when they end, so the variable is unset.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(workers: int | None = None, **kwargs):
    """A LocalCluster of single-threaded worker processes, configured for sweeps."""
    import dask
    from dask.distributed import LocalCluster

    options = {
        "n_workers": workers or os.cpu_count() or 1,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": ":0",  # a free port: never clash with another cluster
        "silence_logs": logging.ERROR,
        **kwargs,
    }
    # Worker processes ignore Ctrl-C (an ignored signal survives exec; a handler does not):
    # a terminal sends SIGINT to the whole process group, and only the driver should react,
    # writing what has finished and closing the cluster. Ctrl-C during these seconds of
    # start-up is therefore ignored too.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    try:
        with dask.config.set(WORKER_CONFIG):
            return LocalCluster(**options)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator:
    """A Dask Client: on ``scheduler`` if given, else on a new LocalCluster of ``workers``
    single-threaded processes (default: one per CPU)."""
    from dask.distributed import Client

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot connect to the Dask scheduler at {scheduler}: {exc}", field="--scheduler"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = local_cluster(workers)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
