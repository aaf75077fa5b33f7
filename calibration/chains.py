"""Point-estimate chains run side by side on the Dask workers; the best one wins.

Powell proposes one point at a time, so a single search keeps one core busy while the others
idle. The chains all start from the same point (the documented defaults, or where each was
interrupted) but take Powell's directions in different orders (even chains first to last,
odd chains last to first), so they follow different paths to different local optima, in the
wall time of one.

Each chain sends its best-so-far to the client through a Dask ``Variable`` (which works on a
remote cluster too, where the workers do not share the client's disk); the client writes one
checkpoint per chain, tagged with the set-up, so an interrupted calibration resumes every
chain where it stopped and never a chain of another set-up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from migflow.model.scenario import Scenario

from .fit import FitLog, point_estimate
from .space import ParameterSpace

REPORT_SECONDS = 60.0


def run_chain(
    scenario: Scenario,
    targets: pd.DataFrame,
    space: ParameterSpace,
    start: dict[str, float] | None,
    budget: int,
    reverse: bool,
    channel: str,
    seeds: int = 1,
) -> None:
    """One Powell search, in a worker; its best-so-far is published on ``channel``. If the
    worker died and Dask runs the task again, it goes on from what it had published."""
    from distributed import Variable

    board, t0 = Variable(channel), time.time()
    spent, earlier = 0, 0.0
    previous = _read(board)
    if previous is not None:
        start, spent, earlier = previous["values"], previous["evaluations"], previous["seconds"]

    def publish(log: FitLog, final: bool = False) -> None:
        if final or log.history[-1] <= log.best_loss or log.evaluations % 25 == 0:
            board.set(json.dumps({
                "values": space.to_values(log.best_unit), "loss": log.best_loss,
                "evaluations": spent + log.evaluations, "seconds": earlier + time.time() - t0,
            }))  # fmt: skip

    left = max(budget - spent, 1)
    _, _, log = point_estimate(scenario, targets, start, left, space, publish, reverse, seeds)
    publish(log, final=True)  # the client's checkpoint then holds the chain's result


def run_chains(
    client,
    scenario: Scenario,
    targets: pd.DataFrame,
    space: ParameterSpace,
    chains: int,
    budget: int,
    work: Path,
    setup: str,
    say: Callable[[str], None] = print,
    start: dict[str, float] | None = None,
    seeds: int = 1,
) -> tuple[dict[str, float], float, list[dict]]:
    """Run (or resume) ``chains`` searches of ``budget`` evaluations each, from ``start``
    (the defaults if None), each point's loss averaged over ``seeds`` seeds; return the best
    values, their loss and one summary per chain (loss, evaluations). The results come from
    the checkpoints, which keep each chain's best across interruptions."""
    from distributed import Variable, wait

    saved = [_resume(_path(work, k), setup) for k in range(chains)]
    for k, state in enumerate(saved):
        if state is not None:
            say(f"resuming point-estimate chain {k} after {state['evaluations']} evaluations "
                f"(loss {state['loss']:.4f})")  # fmt: skip
    left = [budget - (state["evaluations"] if state else 0) for state in saved]
    running = [k for k in range(chains) if left[k] > 0]  # a finished chain is not rerun
    channels = {k: f"migflow-chain-{setup[:12]}-{k}-{time.time_ns()}" for k in running}
    for channel in channels.values():  # set before any read: a read never waits (and times out)
        Variable(channel, client=client).set(json.dumps(None))
    futures = []
    for k in running:
        origin = saved[k]["values"] if saved[k] else start
        futures.append(client.submit(
            run_chain, scenario, targets, space, origin, left[k], bool(k % 2), channels[k],
            seeds, pure=False,
        ))  # fmt: skip
    latest: list[dict | None] = [None] * chains
    t0, last_report = time.time(), time.time()
    while True:
        try:
            wait(futures, timeout=5)
            finished = True
        except TimeoutError:
            finished = False
        for k in running:
            news = _read(Variable(channels[k], client=client))
            if news is not None and news != latest[k]:
                latest[k] = news
                _checkpoint(_path(work, k), news, saved[k], setup)
        if finished:
            break
        if time.time() - last_report >= REPORT_SECONDS:
            last_report = time.time()
            say("point estimate: " + "; ".join(
                f"chain {k}: {_done(saved[k], news)} evaluations, best loss {news['loss']:.4f}"
                for k, news in enumerate(latest) if news is not None
            ) + f" ({time.time() - t0:.0f} s)")  # fmt: skip
    client.gather(futures)  # raises a chain's error, if any
    states = [_resume(_path(work, k), setup) for k in range(chains)]
    summaries = [
        {"chain": k, "loss": st["loss"], "evaluations": st["evaluations"]}
        for k, st in enumerate(states)
    ]
    best = min(states, key=lambda st: st["loss"])
    return best["values"], best["loss"], summaries


def seconds_spent(work: Path, chains: int, setup: str) -> float:
    """Wall time this set-up's chains already took before an interruption (they run side by
    side, so the longest one's)."""
    states = [_resume(_path(work, k), setup) for k in range(chains)]
    return max([0.0, *(st["seconds"] for st in states if st is not None)])


def _path(work: Path, chain: int) -> Path:
    return work / f"point_estimate_{chain}.json"


def _resume(path: Path, setup: str) -> dict | None:
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    return state if state.get("setup") == setup else None


def _read(board) -> dict | None:
    """The chain's last report, or None before its first."""
    return json.loads(board.get(timeout=10))


def _done(before: dict | None, news: dict) -> int:
    return news["evaluations"] + (before["evaluations"] if before else 0)


def _checkpoint(path: Path, news: dict, before: dict | None, setup: str) -> None:
    """Keep the chain's best point and how far it got (the evaluations and seconds of any
    earlier, interrupted part included)."""
    if before is not None and before["loss"] < news["loss"]:
        news = {**news, "values": before["values"], "loss": before["loss"]}
    state = {
        **news,
        "evaluations": _done(before, news),
        "seconds": news["seconds"] + (before["seconds"] if before else 0.0),
        "setup": setup,
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state))
    temporary.replace(path)  # never a half-written checkpoint
