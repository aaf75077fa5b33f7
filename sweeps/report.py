"""The sweep report: tables (CSV) and charts (PNG) of a stored sweep.

``build_report`` computes, ``write_report`` writes into a folder (default ``DIR/report``):

* ``distributions.csv``: per outcome, runs with a value, mean, sd, 5th/50th/95th percentile;
* ``indices.csv`` and ``sensitivity.png``: the sensitivity indices of ``analyze.indices``
  with their confidence intervals, one panel per outcome;
* ``prim.csv``, ``prim_trajectory.csv`` and ``prim.png``: for each goal, the PRIM box (the
  restricted inputs with their limits), its coverage and density, and the peeling
  trajectory.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .analyze import discover, distributions, indices
from .prim import PrimResult
from .store import SweepResults


@dataclass
class Discovery:
    goal: object  # GoalSpec
    result: PrimResult | None
    note: str = ""


@dataclass
class Report:
    results: SweepResults
    distributions: pd.DataFrame
    indices: pd.DataFrame
    notes: list[str]
    discoveries: list[Discovery] = field(default_factory=list)

    def prim_table(self) -> pd.DataFrame:
        rows = []
        for d in self.discoveries:
            if d.result is None:
                continue
            head = {
                "goal": d.goal.label,
                "density_goal": d.goal.density,
                "coverage": d.result.box.coverage,
                "density": d.result.box.density,
                "mass": d.result.box.mass,
                "runs_in_box": d.result.box.runs,
                "reached": d.result.reached,
            }
            limits = d.result.limits()
            if limits.empty:
                rows.append({**head, "input": "(no restriction)"})
            for lim in limits.to_dict("records"):
                rows.append({**head, **lim})
        return pd.DataFrame(rows)


def build_report(res: SweepResults, goals=None) -> Report:
    """Compute the report of a sweep; ``goals`` default to the sweep file's."""
    table, notes = indices(res)
    report = Report(res, distributions(res), table, notes)
    for goal in res.plan.goals if goals is None else goals:
        try:
            result, _ = discover(res, goal)
            report.discoveries.append(Discovery(goal, result))
        except ValueError as exc:
            report.discoveries.append(Discovery(goal, None, str(exc)))
    return report


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_report(report: Report, out_dir: str | Path) -> list[Path]:
    """Write the report's CSV tables and PNG charts; return the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def csv(name: str, frame: pd.DataFrame) -> None:
        path = out / name
        _atomic(path, lambda p: frame.to_csv(p, index=False))
        written.append(path)

    csv("distributions.csv", report.distributions)
    csv("indices.csv", report.indices)
    path = out / "sensitivity.png"
    _atomic(path, lambda p: sensitivity_chart(report, p))
    written.append(path)
    if report.discoveries:
        csv("prim.csv", report.prim_table())
        trajectories = [
            d.result.trajectory_frame().assign(goal=d.goal.label)
            for d in report.discoveries
            if d.result is not None
        ]
        if trajectories:
            csv("prim_trajectory.csv", pd.concat(trajectories, ignore_index=True))
        path = out / "prim.png"
        _atomic(path, lambda p: prim_chart(report, p))
        written.append(path)
    return written


def _figure(rows: int, cols: int, width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    return plt, fig, axes


def sensitivity_chart(report: Report, path: Path) -> None:
    """One panel per analysed outcome: S1 and ST (or mu*) with confidence intervals."""
    table = report.indices
    outcomes = list(dict.fromkeys(table["outcome"])) if not table.empty else []
    n = max(1, len(outcomes))
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    plt, fig, axes = _figure(rows, cols, 6.5 * cols, 0.5 + 2.6 * rows)
    for ax in axes.flat[len(outcomes) :]:
        ax.axis("off")
    if not outcomes:
        axes[0, 0].text(0.5, 0.5, "no outcome could be analysed", ha="center", va="center")
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        t = table[table["outcome"] == outcome].reset_index(drop=True)
        ypos = range(len(t))
        method = t["method"].iloc[0]
        if method == "morris":
            ax.barh(list(ypos), t["mu_star"], xerr=t["mu_star_conf"], color="#4c72b0")
            ax.set_xlabel("Morris mu* (mean absolute elementary effect)")
        else:
            h = 0.4
            ax.barh([y - h / 2 for y in ypos], t["S1"], h, xerr=t["S1_conf"], label="first order")
            if t["ST"].notna().any():
                ax.barh([y + h / 2 for y in ypos], t["ST"], h, xerr=t["ST_conf"], label="total")
            ax.axvline(0, color="grey", lw=0.5)
            ax.set_xlabel(f"{method} index (bars: 95% confidence interval)")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_yticks(list(ypos), t["input"])
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize=10)
    fig.suptitle(f"Sensitivity: sweep {report.results.plan.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def prim_chart(report: Report, path: Path) -> None:
    """Per goal: the peeling trajectory (coverage against density) and the chosen box."""
    found = [d for d in report.discoveries if d.result is not None]
    n = max(1, len(found))
    plt, fig, axes = _figure(n, 2, 12, 0.5 + 3.2 * n)
    if not found:
        axes[0, 0].text(0.5, 0.5, "no goal could be analysed", ha="center", va="center")
    for (ax_t, ax_b), d in zip(axes, found, strict=False):
        r = d.result
        traj = r.trajectory_frame()
        sc = ax_t.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis")
        ax_t.scatter([r.box.coverage], [r.box.density], marker="*", s=220, color="red")
        ax_t.axhline(r.threshold, color="grey", ls="--", lw=0.8)
        ax_t.set_xlabel("coverage")
        ax_t.set_ylabel("density")
        ax_t.set_title(f"{d.goal.label}: peeling trajectory (star: chosen box)", fontsize=10)
        fig.colorbar(sc, ax=ax_t, label="inputs restricted")
        limits = r.limits(restricted_only=False)
        span = (limits["range_high"] - limits["range_low"]).where(lambda s: s > 0, 1.0)
        lo = (limits["low"] - limits["range_low"]) / span
        hi = (limits["high"] - limits["range_low"]) / span
        ypos = list(range(len(limits)))
        ax_b.barh(ypos, [1.0] * len(ypos), color="#dddddd")
        ax_b.barh(
            ypos,
            hi - lo,
            left=lo,
            color=["#c44e52" if x else "#8fb0d8" for x in limits["restricted"]],
        )
        for y, row in zip(ypos, limits.to_dict("records"), strict=True):
            ax_b.text(1.01, y, f"{row['low']:.3g} .. {row['high']:.3g}", va="center", fontsize=8)
        ax_b.set_yticks(ypos, limits["input"])
        ax_b.invert_yaxis()
        ax_b.set_xlim(0, 1.3)
        ax_b.set_xlabel("share of the input's range (red: restricted)")
        ax_b.set_title(
            f"box: coverage {r.box.coverage:.2f}, density {r.box.density:.2f} "
            f"(goal {r.threshold:.2f})",
            fontsize=10,
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
