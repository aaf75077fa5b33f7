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

from model.scenario import Scenario

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
) -> dict:
    """One Powell search, in a worker; its best-so-far is published on ``channel``. If the
    worker died and Dask runs the task again, it goes on from what it had published."""
    from distributed import Variable

    board, t0 = Variable(channel), time.time()
    spent, earlier = 0, 0.0
    previous = _read(board)
    if previous is not None:
        start, spent, earlier = previous["values"], previous["evaluations"], previous["seconds"]

    def publish(log: FitLog) -> None:
        if log.history[-1] <= log.best_loss or log.evaluations % 25 == 0:
            board.set(json.dumps({
                "values": space.to_values(log.best_unit), "loss": log.best_loss,
                "evaluations": spent + log.evaluations, "seconds": earlier + time.time() - t0,
            }))  # fmt: skip

    left = max(budget - spent, 1)
    values, best, log = point_estimate(scenario, targets, start, left, space, publish, reverse)
    return {"values": values, "loss": best, "evaluations": spent + log.evaluations}


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
) -> tuple[dict[str, float], float, list[dict]]:
    """Run (or resume) ``chains`` searches of ``budget`` evaluations each; return the best
    values, their loss and one summary per chain (loss, evaluations, seconds)."""
    from distributed import Variable, wait

    saved = [_resume(work / f"point_estimate_{k}.json", setup) for k in range(chains)]
    for k, state in enumerate(saved):
        if state is not None:
            say(f"resuming point-estimate chain {k} after {state['evaluations']} evaluations "
                f"(loss {state['loss']:.4f})")  # fmt: skip
    channels = [f"migflow-chain-{setup[:12]}-{k}-{time.time_ns()}" for k in range(chains)]
    for channel in channels:  # set before anyone reads it: a read never waits (and times out)
        Variable(channel, client=client).set(json.dumps(None))
    futures = []
    for k, state in enumerate(saved):
        start = state["values"] if state else None
        left = max(budget - (state["evaluations"] if state else 0), 1)
        futures.append(client.submit(
            run_chain, scenario, targets, space, start, left, bool(k % 2), channels[k],
            pure=False,
        ))  # fmt: skip
    latest: list[dict | None] = [None] * chains
    t0, last_report = time.time(), time.time()
    while True:
        try:
            wait(futures, timeout=5)
            finished = True
        except TimeoutError:
            finished = False
        for k in range(chains):
            news = _read(Variable(channels[k], client=client))
            if news is not None and news != latest[k]:
                latest[k] = news
                _checkpoint(work / f"point_estimate_{k}.json", news, saved[k], setup)
        if finished:
            break
        if time.time() - last_report >= REPORT_SECONDS:
            last_report = time.time()
            say("point estimate: " + "; ".join(
                f"chain {k}: {_done(saved[k], news)} evaluations, best loss {news['loss']:.4f}"
                for k, news in enumerate(latest) if news is not None
            ) + f" ({time.time() - t0:.0f} s)")  # fmt: skip
    results = client.gather(futures)
    summaries = []
    for k, result in enumerate(results):
        state = saved[k]
        # a resumed chain that found nothing better keeps the loss it had before
        if state is not None and state["loss"] < result["loss"]:
            result = {**result, "values": state["values"], "loss": state["loss"]}
        done = result["evaluations"] + (state["evaluations"] if state else 0)
        summaries.append({"chain": k, "loss": result["loss"], "evaluations": done})
        results[k] = result
    best = min(range(chains), key=lambda k: results[k]["loss"])
    return results[best]["values"], results[best]["loss"], summaries


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
