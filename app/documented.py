"""Documented figures to draw over the simulated lines, each with its source.

The app reads ``calibration/data/targets.csv`` (the calibration targets) when it exists and
can be read, and otherwise its own copy ``app/data/documented.csv`` (same columns; see
``app/data/README.md``). It never reads ``shared/`` at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from migflow.model.calendar import format_month, parse_month

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "calibration" / "data" / "targets.csv"
FALLBACK = Path(__file__).resolve().parent / "data" / "documented.csv"
COLUMNS = ("group", "quantity", "start", "end", "country", "nationality", "value", "source")
POINT_COLUMNS = ("x", "value", "period", "source", "label")


def load_documented(
    paths: tuple[Path, ...] = (TARGETS, FALLBACK),
) -> tuple[pd.DataFrame, Path | None]:
    """The first readable table among ``paths`` and its path (empty and None if none is).

    Read once per file version and shared by every page run and session: treat it as
    read-only (the charts' documented points are memoised on it, ``points``)."""
    for path in paths:
        try:
            version = path.stat().st_mtime_ns
        except OSError:
            continue
        table = _read_documented(path, version)
        if table is not None:
            return table, path
    return pd.DataFrame(columns=list(COLUMNS)), None


@lru_cache(maxsize=4)
def _read_documented(path: Path, version: int) -> pd.DataFrame | None:
    """The table at ``path`` (at its modification time ``version``), or None if unreadable."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if any(c not in table.columns for c in COLUMNS):
        return None
    table = table[list(COLUMNS)].copy()
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    ok = table["value"].notna()
    for col in ("start", "end"):
        ok &= table[col].map(_is_month)
    return table[ok].reset_index(drop=True)


# Results computed from a documented table, by (the table's id, what was asked). Each entry
# keeps its table alive, so an id cannot be reused by another table while the entry exists.
_MEMO: dict[tuple, tuple[pd.DataFrame, object]] = {}


def _memoised(table: pd.DataFrame, key: tuple, compute: Callable[[], object]):
    """``compute()`` for ``table`` and ``key``, once per table: a page run draws seven charts
    from the same table, and every run of every session reads the same one."""
    found = _MEMO.get((id(table), *key))
    if found is not None and found[0] is table:
        return found[1]
    if len(_MEMO) > 512:
        _MEMO.clear()
    value = compute()
    _MEMO[(id(table), *key)] = (table, value)
    return value


def documented_until(table: pd.DataFrame) -> pd.Timestamp | None:
    """The last day of the last month any documented figure covers (None for no figures):
    where history as documented ends and the model alone goes on."""
    if table is None or table.empty:
        return None
    return _memoised(table, ("until",), lambda: month_end(max(table["end"], key=parse_month)))


def _is_month(text: str) -> bool:
    try:
        parse_month(text)
    except ValueError:
        return False
    return True


def short_source(source: str) -> str:
    """A legend label for a source: its publisher ("Panama Servicio Nacional de Migración")."""
    if source.lower().startswith("seed"):
        return "Los Angeles Declaration statements"
    return re.split(r",| \(|;", source, maxsplit=1)[0].strip() or "documented"


def month_start(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01")


def month_end(month: str) -> pd.Timestamp:
    return month_start(format_month(parse_month(month) + 1)) - pd.Timedelta(days=1)


def midpoint(start: str, end: str) -> pd.Timestamp:
    """The middle of the months ``start`` .. ``end`` (where a flow over them is drawn)."""
    a, b = month_start(start), month_end(end) + pd.Timedelta(days=1)
    return (a + (b - a) / 2).normalize()


def points(
    table: pd.DataFrame,
    quantity: str,
    *,
    months: int | None = None,
    country: str | None = None,
    nationalities: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Documented values of ``quantity`` as chart points (x, value, period, source, label).

    Flows (``months`` = the length of the period, e.g. 12 for a year, 1 for a month) are
    summed over nationalities per period and drawn at the period's middle; a period with an
    ``ALL`` row uses that row. Stocks (``months`` None) are drawn at the end of their month.
    ``country`` selects the host of a stock; ``nationalities`` restricts the rows summed.
    """
    key = ("points", quantity, months, country, nationalities)
    found = _memoised(table, key, lambda: _points(table, quantity, months, country, nationalities))
    return found.copy()


def _points(table, quantity, months, country, nationalities) -> pd.DataFrame:
    rows = table[table["quantity"] == quantity]
    if country is not None:
        rows = rows[rows["country"] == country]
    if nationalities is not None:
        rows = rows[rows["nationality"].isin(nationalities)]
    if months is not None:
        length = rows["end"].map(parse_month) - rows["start"].map(parse_month) + 1
        rows = rows[length == months]
    out = []
    keys = ["start", "end"] if months is not None else ["start", "end", "source"]
    for key, group in rows.groupby(keys, sort=True):
        start, end = key[0], key[1]
        every = group[group["nationality"] == "ALL"]
        used = every if len(every) else group
        sources = sorted({short_source(s) for s in used["source"]})
        out.append(
            {
                "x": month_end(end) if months is None else midpoint(start, end),
                "value": float(used["value"].sum()),
                "period": end if months is None else (start if start == end else f"{start}..{end}"),
                "source": "; ".join(sorted(set(used["source"]))),
                "label": ", ".join(sources),
            }
        )
    return pd.DataFrame(out, columns=list(POINT_COLUMNS))
