"""Results: the tidy tables of README.md, a yearly summary, and a manifest.

``stocks(month, country, origin, status, people)``, ``flows(month, edge, origin, people)``,
``events(month, kind, country, origin, people)``, ``spending(month, country, lever, musd)``
and ``summary`` (headline indicators per year). A month is a date, the first of the month.
Stocks of ``returned`` and ``dead`` are cumulative, so for every origin and month the stocks
add up to everyone who ever left. Zero rows are left out. Results are written as Parquet
plus ``manifest.json`` (scenario, parameters, seed, scale, versions), atomically: a failed
write leaves nothing half-done.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .calendar import format_month, parse_month, year_of
from .costs import SPENDING_LEVERS, priced_spending
from .geography import (
    CODES,
    DARIEN,
    DARIEN_END,
    DARIEN_NATIONALITIES,
    EDGE_INDEX,
    EDGES,
    ORIGIN_INDEX,
    ORIGINS,
)
from .outcomes import MAIN_HOSTS
from .parameters import parameter_source
from .population import SETTLED, STATUS_NAMES
from .provenance import provenance
from .recorder import EVENT_KINDS, KIND_INDEX, REMOVED_NAMES

TABLES = ("stocks", "flows", "events", "spending", "summary")


def _categories(name: str, labels: tuple) -> pd.Index:
    """An axis's categories: months are dates (the first of the month), so that tables
    sort, filter and plot as time in any tool that reads them; the rest are codes."""
    if name == "month":
        return pd.DatetimeIndex(pd.to_datetime(list(labels), format="%Y-%m"))
    return pd.Index(list(labels))


def _tidy(array: np.ndarray, axes: list[tuple[str, tuple]], value: str) -> pd.DataFrame:
    idx = np.nonzero(array)
    data = {}
    for (name, labels), positions in zip(axes, idx, strict=True):
        data[name] = pd.Categorical.from_codes(
            positions, categories=_categories(name, labels), ordered=(name == "month")
        )
    data[value] = array[idx]
    return pd.DataFrame(data)


def _axes(months: tuple[str, ...]) -> dict[str, list[tuple[str, tuple]]]:
    """The axes of each array-backed table, in the order of the model's definitions."""
    month, country, origin = ("month", months), ("country", CODES), ("origin", ORIGINS)
    return {
        "stocks": [month, country, origin, ("status", STATUS_NAMES + REMOVED_NAMES)],
        "flows": [month, ("edge", tuple(e.name for e in EDGES)), origin],
        "events": [month, ("kind", EVENT_KINDS), country, origin],
        "spending": [month, country, ("lever", SPENDING_LEVERS)],
    }


def write_folder(out_dir: str | Path, fill: Callable[[Path], None]) -> Path:
    """Write a set of files into ``out_dir`` atomically: ``fill(tmp)`` writes them into a
    temporary folder inside ``out_dir``, and they are moved in only when all are complete, so
    nothing is ever written outside the chosen folder and a failed write replaces nothing. A
    folder this call created is removed again if the write fails."""
    out = Path(out_dir)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        fill(tmp)
        for item in tmp.iterdir():
            os.replace(item, out / item.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def living(stocks: np.ndarray) -> np.ndarray:
    """People living in each place (irregular or regularised), from the dense ``stocks``
    (..., status): what ``Results.settled`` gives, for a caller that holds the table."""
    return stocks[..., SETTLED].sum(axis=-1)


@dataclass
class Results:
    stocks: pd.DataFrame
    flows: pd.DataFrame
    events: pd.DataFrame
    spending: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict = field(default_factory=dict)

    # -------------------------------------------------------------- building
    @classmethod
    def from_model(cls, model) -> Results:
        rec, sched = model.recorder, model.policy
        months = tuple(format_month(m) for m in sched.months)
        axes = _axes(months)
        stock_array = np.concatenate([rec.stocks, rec.removed_stocks], axis=3)
        stocks = _tidy(stock_array, axes["stocks"], "people")
        flows = _tidy(rec.flow, axes["flows"], "people")
        events = _tidy(rec.events, axes["events"], "people")
        spend = priced_spending(rec, sched, model.scenario.unit_costs)
        spending = _tidy(spend, axes["spending"], "musd")
        summary = _summary(rec, sched, spend)
        manifest = {
            "scenario": model.scenario.model_dump(mode="json", exclude_none=True),
            "parameters": model.params.as_dict(),
            "parameter_source": parameter_source(),
            "seed": model.scenario.seed,
            "scale": model.scale,
            "stream_key": model.streams.stream_key,
            "months": [months[0], months[-1]],
            **provenance(model.params),
            "versions": {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "mesa": metadata.version("mesa"),
            },
        }
        return cls(stocks, flows, events, spending, summary, manifest)

    # -------------------------------------------------------------- reading
    def total(self, kind: str, origin: str | None = None) -> float:
        ev = self.events[self.events["kind"] == kind]
        if origin is not None:
            ev = ev[ev["origin"] == origin]
        return float(ev["people"].sum())

    def darien_crossings(self) -> float:
        return float(self.flows.loc[self.flows["edge"] == DARIEN, "people"].sum())

    def dense(self, table: str) -> np.ndarray:
        """A tidy table back as the array it was made from, zeros where rows were left out:
        ``stocks`` (month, country, origin, status), ``flows`` (month, edge, origin),
        ``events`` (month, kind, country, origin), ``spending`` (month, country, lever).
        The month axis runs over every month of the run, the others over every category of
        their column, in the order of the model's definitions. Calibration reads a run this
        way: the same tables a user gets, at the cost of indexing, not of filtering."""
        frame = getattr(self, table)
        value = "musd" if table == "spending" else "people"
        axes = [c for c in frame.columns if c != value]
        shape = tuple(len(frame[c].cat.categories) for c in axes)
        out = np.zeros(shape)
        out[tuple(frame[c].cat.codes.to_numpy() for c in axes)] = frame[value].to_numpy()
        return out

    def settled(self) -> np.ndarray:
        """People living in each country (irregular or regularised) by origin, at the end of
        every month of the run: (month, country, origin)."""
        return living(self.dense("stocks"))

    # -------------------------------------------------------------- writing
    def write(self, out_dir: str | Path, extra: dict[str, pd.DataFrame] | None = None) -> Path:
        """Write Parquet tables (and ``extra`` ones, e.g. ``summary_draws``) and
        manifest.json into ``out_dir``, all or nothing (``write_folder``)."""

        def fill(tmp: Path) -> None:
            tables = {name: getattr(self, name) for name in TABLES} | (extra or {})
            for name, table in tables.items():
                table.to_parquet(tmp / f"{name}.parquet", index=False)
            (tmp / "manifest.json").write_text(json.dumps(self.manifest, indent=2, sort_keys=True))

        return write_folder(out_dir, fill)

    @classmethod
    def read(cls, out_dir: str | Path) -> Results:
        out = Path(out_dir)
        tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
        manifest = json.loads((out / "manifest.json").read_text())
        # Parquet keeps a column's categories only when it has rows: the axes are set again
        # from their definitions, so that ``dense`` has its shape whatever the run held
        first, last = (parse_month(m) for m in manifest["months"])
        months = tuple(format_month(m) for m in range(first, last + 1))
        for name, axes in _axes(months).items():
            for column, labels in axes:
                categories = _categories(column, labels)
                values = tables[name][column]
                values = pd.to_datetime(values) if column == "month" else values.astype(str)
                tables[name][column] = pd.Categorical(
                    values, categories=categories, ordered=(column == "month")
                )
        return cls(**tables, manifest=manifest)


def _summary(rec, sched, spend: np.ndarray) -> pd.DataFrame:
    years = np.array([year_of(m) for m in sched.months])
    kinds = KIND_INDEX
    darien = rec.flow[:, EDGE_INDEX[DARIEN], :]  # (T, O)
    host_idx = {h: CODES.index(h) for h in MAIN_HOSTS}
    ven = ORIGIN_INDEX["VEN"]
    live = rec.stocks[:, :, :, SETTLED].sum(axis=3)  # settled people (T, C, O)
    rows = []
    for year in np.unique(years):
        in_year = years == year
        last = np.flatnonzero(in_year)[-1]
        ev = rec.events[in_year].sum(axis=(0, 2))  # (K, O)
        row = {"year": int(year)}
        row["emigrants"] = ev[kinds["emigrated"]].sum()
        row["darien_crossings"] = darien[in_year].sum()
        for nat in DARIEN_NATIONALITIES:
            row[f"darien_{nat}"] = darien[in_year, ORIGIN_INDEX[nat]].sum()
        row["darien_other"] = row["darien_crossings"] - sum(
            row[f"darien_{n}"] for n in DARIEN_NATIONALITIES
        )
        row["us_border_arrivals"] = ev[kinds["us_border_arrival"]].sum()
        for host, c in host_idx.items():
            row[f"venezuelans_in_{host}"] = live[last, c, ven]
        row["regularisations"] = ev[kinds["regularised"]].sum()
        row["legal_pathway_arrivals"] = sum(
            ev[kinds[k]].sum() for k in EVENT_KINDS if k.startswith("pathway_")
        )
        row["interdictions"] = ev[kinds["interdicted"]].sum()
        row["deaths"] = ev[kinds["died"]].sum()
        row["expected_deaths"] = ev[kinds["expected_deaths"]].sum()
        row["expected_deaths_darien"] = rec.events[
            in_year, kinds["expected_deaths"], DARIEN_END
        ].sum()
        row["returns"] = ev[kinds["returned"]].sum() + ev[kinds["deported"]].sum()
        musd = dict(zip(SPENDING_LEVERS, spend[in_year].sum(axis=(0, 1)), strict=True))
        row["integration_musd"], row["root_causes_musd"] = musd["integration"], musd["root_causes"]
        row["funding_musd"] = musd["integration"] + musd["root_causes"]
        for lever in ("regularisation", "pathways", "enforcement", "asylum"):
            row[f"{lever}_musd"] = musd[lever]
        row["cost_musd"] = sum(musd.values())
        rows.append(row)
    return pd.DataFrame(rows)
