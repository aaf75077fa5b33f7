"""What ``migflow compare A B --split`` adds: each instrument of the package B measured alone
(A plus it) and last (B without it), with its cost and cost-effectiveness
(``model/instruments.py`` says why both). The package's dollars are never divided by its
total effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from migflow.model.errors import InputError
from migflow.model.instruments import (
    instruments,
    other_differences,
    with_instrument,
    without_instrument,
)
from migflow.model.outcomes import rounded
from migflow.model.terminal import console, err

from .scenario_commands import counting

if TYPE_CHECKING:
    import pandas as pd

    from migflow.model.scenario import Scenario

#: the figures shown per instrument: (outcome, label)
SHOWN = (("darien_crossings", "Darién crossings"), ("expected_deaths", "deaths (expected)"),
         ("cost_musd", "cost $M"))  # fmt: skip
MAX_INSTRUMENTS = 30
_HEADERS = {
    "Darién crossings": "Darién\ncrossings",
    "deaths (expected)": "deaths\n(expected)",
    "cost $M": "cost\n$M",
    "$ per crossing averted": "$ per\ncrossing\naverted",
}


def split_scenarios(first: Scenario, second: Scenario) -> tuple[list, list[Scenario]]:
    """The instruments B differs from A by, and the scenarios to run: A, B, then A plus each
    instrument, then B without each; all with A's seed."""
    found = instruments(first, second)
    if not found:
        raise InputError(
            "the two scenarios have the same levers: nothing to split", field="--split"
        )
    if len(found) > MAX_INSTRUMENTS:
        raise InputError(
            f"{len(found)} instruments differ; at most {MAX_INSTRUMENTS} can be split (give "
            "lever rows an id to group them)",
            field="--split",
        )
    second = second.with_changes(seed=first.seed)
    scenarios = [first, second]
    scenarios += [with_instrument(first, i) for i in found]
    scenarios += [without_instrument(second, i) for i in found]
    return found, scenarios


def run_split(
    scenarios: list[Scenario], draws: int, workers: int | None, scheduler: str | None,
    quiet: bool,
) -> list[list[pd.DataFrame]]:  # fmt: skip
    """Each scenario's yearly summaries: one per draw (the same draws and seeds for all), or
    one at the point estimate without draws."""
    if not draws:
        from migflow.model.run import run_scenarios

        with counting("the package and its instruments", "runs", quiet) as progress:
            done = run_scenarios(
                [(s, None) for s in scenarios], progress=progress, summary_only=True
            )
        return [[summary] for summary in done]
    from migflow.calibration.uncertainty import posterior_runs
    from migflow.model.cluster import dask_client
    from migflow.model.run import run_scenarios_on

    jobs = [job for s in scenarios for job in posterior_runs(s, draws)]
    with dask_client(workers, scheduler) as client:
        with counting(f"the package and its instruments, {draws} draws", "runs", quiet) as progress:
            done = run_scenarios_on(client, jobs, progress, summary_only=True)
    return [done[i * draws : (i + 1) * draws] for i in range(len(scenarios))]


def split_table(found, summaries: list[list[pd.DataFrame]]) -> pd.DataFrame:
    """Long table: instrument, measured (alone / last / package), figure, median, p05, p95."""
    import pandas as pd

    from migflow.calibration.uncertainty import (
        cost_effectiveness,
        difference_bands,
        outcome_differences,
    )

    n = len(found)
    pairs = [("whole package", "package", summaries[0], summaries[1])]
    for k, instrument in enumerate(found):
        pairs.append((instrument.id, "alone", summaries[0], summaries[2 + k]))
        pairs.append((instrument.id, "last", summaries[2 + n + k], summaries[1]))
    rows = []
    for name, measured, before, after in pairs:
        per_draw = outcome_differences(before, after)
        bands = difference_bands(per_draw).set_index("outcome")
        for outcome, label in SHOWN:
            r = bands.loc[outcome]
            rows.append({"instrument": name, "measured": measured, "figure": label,
                         "median": r["difference_median"], "p05": r["difference_p05"],
                         "p95": r["difference_p95"]})  # fmt: skip
        value = cost_effectiveness(per_draw).set_index("outcome").loc["darien_crossings"]
        rows.append({"instrument": name, "measured": measured,
                     "figure": "$ per crossing averted", "median": value["usd_median"],
                     "p05": value["usd_p05"], "p95": value["usd_p95"]})  # fmt: skip
    return pd.DataFrame(rows)


def _cell(row, many: bool) -> str:
    import math

    if math.isnan(row["median"]):
        return "n/a"
    text = rounded(row["median"])
    return f"{text}\n({rounded(row['p05'])} to {rounded(row['p95'])})" if many else text


def print_split(table: pd.DataFrame, name_a: str, name_b: str, draws: int, span: str) -> None:
    from rich.table import Table

    from migflow.calibration.uncertainty import UNPRICED

    many = draws > 1
    out = Table(
        title=f"Each instrument of {name_b} against {name_a}: alone ({name_a} plus it) and last "
        f"({name_b} without it); {span}"
        + (f"; median (90% interval) over {draws} draws" if many else "")
    )
    figures = list(dict.fromkeys(table["figure"]))
    out.add_column("instrument\n  measured", justify="left", overflow="fold", min_width=20)
    for col in figures:  # headers broken by hand, so that the numbers keep their width
        out.add_column(_HEADERS[col], justify="right", overflow="fold")
    for (name, measured), part in table.groupby(["instrument", "measured"], sort=False):
        cells = {r["figure"]: _cell(r, many) for _, r in part.iterrows()}
        label = name if measured == "package" else f"{name}\n  {measured}"
        out.add_row(label, *(cells[f] for f in figures))
    console.print(out)
    console.print(
        "An instrument's figures alone and last agree when it acts independently of the "
        "others; the gap is their interaction. n/a: no crossings averted in every draw. "
        + UNPRICED,
        highlight=False,
    )


def warn_other_differences(first: Scenario, second: Scenario) -> None:
    other = other_differences(first, second)
    if other:
        err.print(
            f"warning: the scenarios also differ in {', '.join(other)}, which stay with the "
            "package (they are not instruments and are not split)",
            highlight=False,
            markup=False,
        )


def write_split(target: Path, table: pd.DataFrame) -> None:
    from migflow.model.results import write_folder

    write_folder(target, lambda tmp: table.to_csv(tmp / "split.csv", index=False))
