"""The targets table: documented figures the model is fitted to, one row each.

Format (CSV, UTF-8, header row; see docs/calibration.md):

=============  ==========================================================================
column         meaning
=============  ==========================================================================
id             unique name of the row
group          target group, for weights and the ARD report (e.g. darien_annual, stocks)
quantity       darien_crossings | stock | us_border_arrivals | darien_deaths |
               regularised_by_programme
start, end     months YYYY-MM, inclusive. Flows and counts are summed over them; a stock is
               read at ``end``
country        ISO3 country where it is measured (stock, regularisations), or empty
nationality    ISO3 of a modelled origin, OTHER (every modelled origin but VEN, HTI, CUB)
               or ALL
value          the documented figure (people), >= 0
weight         relative weight (> 0); rows of a group share the group's weight
error          relative (|sim - data| / data), minimum (a lower bound: only a shortfall
               counts, for counts known to be incomplete such as IOM's missing migrants) or
               maximum (an upper bound: only an excess counts, for a figure that includes
               people the model cannot have, such as a census count of everyone born
               abroad, most of whom arrived before the model's window)
source         where the figure comes from
=============  ==========================================================================

A user can bring a file with newer figures: ``migflow calibrate --targets FILE``. Any row
whose months lie outside the model window is reported but not fitted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from model.calendar import parse_month
from model.errors import InputError
from model.geography import CODES, ORIGINS

DEFAULT_TARGETS = Path(__file__).resolve().parent / "data" / "targets.csv"
COLUMNS = (
    "id", "group", "quantity", "start", "end", "country", "nationality",
    "value", "weight", "error", "source",
)  # fmt: skip
QUANTITIES = (
    "darien_crossings",
    "stock",
    "us_border_arrivals",
    "darien_deaths",
    "regularised_by_programme",
)
NATIONALITIES = (*ORIGINS, "OTHER", "ALL")
ERRORS = ("relative", "minimum", "maximum")
BOUND_ERRORS = ("minimum", "maximum")  # error kinds that bound rather than give a value


def load_targets(path: str | Path = DEFAULT_TARGETS) -> pd.DataFrame:
    """Read and validate a targets file; a bad row is refused naming the row."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("file not found", source=source)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file: {exc}", source=source) from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; required: {', '.join(COLUMNS)}", source=source
        )
    table = table[list(COLUMNS)].copy()
    for i, row in table.iterrows():
        _check_row(row, f"row {i + 2} ({row['id'] or 'no id'})", source)
    duplicated = table["id"].duplicated(keep=False)
    if duplicated.any():
        first = table.index[duplicated][0]
        raise InputError(f"row {first + 2}: duplicate id {table.at[first, 'id']!r}", source=source)
    key = ["quantity", "start", "end", "country", "nationality"]
    same = table.duplicated(subset=key, keep="first")
    if same.any():
        i = table.index[same][0]
        raise InputError(
            f"row {i + 2}: duplicates an earlier row ({', '.join(key)})", source=source
        )
    table["value"] = table["value"].astype(float)
    table["weight"] = table["weight"].astype(float)
    table["start_month"] = table["start"].map(parse_month)
    table["end_month"] = table["end"].map(parse_month)
    return table.reset_index(drop=True)


def _check_row(row: pd.Series, where: str, source: str) -> None:
    def bad(field: str, message: str):
        raise InputError(f"{where}: {message}", source=source, field=field)

    if not row["id"]:
        bad("id", "must not be empty")
    if row["quantity"] not in QUANTITIES:
        bad("quantity", f"unknown {row['quantity']!r}; allowed: {', '.join(QUANTITIES)}")
    for field in ("start", "end"):
        try:
            parse_month(row[field])
        except ValueError as exc:
            bad(field, str(exc))
    if parse_month(row["end"]) < parse_month(row["start"]):
        bad("end", "is before start")
    if row["country"] and row["country"] not in CODES:
        bad("country", f"unknown country {row['country']!r}; allowed: {', '.join(CODES)}")
    if row["quantity"] in ("stock", "regularised_by_programme") and not row["country"]:
        bad("country", f"a {row['quantity']} target needs a country")
    if row["nationality"] not in NATIONALITIES:
        bad("nationality", f"unknown {row['nationality']!r}; allowed: {', '.join(NATIONALITIES)}")
    for field in ("value", "weight"):
        try:
            number = float(row[field])
        except ValueError:
            bad(field, f"{row[field]!r} is not a number")
        if not np.isfinite(number) or number < 0:
            bad(field, f"must be a non-negative number (got {row[field]})")
    if float(row["weight"]) == 0:
        bad("weight", "must be positive (leave the row out instead)")
    if row["error"] not in ERRORS:
        bad("error", f"unknown {row['error']!r}; allowed: {', '.join(ERRORS)}")
    if not row["source"].strip():
        bad("source", "every figure needs its source")
