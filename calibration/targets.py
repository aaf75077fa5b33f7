"""The targets table: documented figures the model is fitted to, one row each.

Format (CSV, UTF-8, header row; see docs/calibration.md):

=============  ==========================================================================
column         meaning
=============  ==========================================================================
id             unique name of the row
group          target group, for weights and the ARD report (e.g. darien_annual, stocks)
quantity       darien_crossings | stock | us_border_arrivals | darien_deaths |
               deaths (expected deaths on the segment that ends in ``country``: MEX for
               IOM's Central America region, USA for the US-Mexico border) |
               regularised_by_programme | air_arrivals (people of the nationality landing
               in ``country`` on the model's flights, whatever they do next) |
               darien_third_country_share (the share, 0 to 1, of the nationality's Darién
               crossers whose journey began in a country other than their own: those who had
               lived in a host before moving on) | regular_share (the share, 0 to 1, of
               the nationality's people living in ``country`` at ``end`` who hold a regular
               status: Migración Colombia's split of Venezuelans into regular and irregular)
start, end     months YYYY-MM, inclusive. Flows and counts are summed over them; a stock is
               read at ``end``
country        ISO3 country where it is measured (stock, regularisations), or empty
nationality    ISO3 of a modelled origin, OTHER (every modelled origin but VEN, HTI, CUB, ECU, COL)
               or ALL
value          the documented figure (people, or a share for a share quantity), >= 0
weight         relative weight (> 0); rows of a group share the group's weight
error          relative (|sim - data| / data), minimum (a lower bound: only a shortfall
               counts, for counts known to be incomplete such as IOM's missing migrants) or
               maximum (an upper bound: only an excess counts, for a figure that includes
               people the model cannot have, such as a census count of everyone born
               abroad, most of whom arrived before the model's window) or change (the
               month is fitted as its ratio to the month before in the same series, which
               must be a row of its own: for the months of a natural experiment, whose
               measure is the fall or the rise, not the level it reached)
source         where the figure comes from
=============  ==========================================================================

A user can bring a file with newer figures: ``migflow calibrate --targets FILE``. Any row
whose months lie before the model window (2015-01) is reported but not fitted; months must
lie in the years a scenario can have (2010-01..2050-12).

Numbers are plain decimals (``1000``, ``0.5``, ``2.5e3``): ``1_000``, ``nan``, ``inf`` or a
number with spaces around it is refused, naming the row, as is a row with more or fewer
fields than the header. A figure typed in a way the model would have to guess at is not one
it should be fitted to.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from migflow.model.calendar import parse_month
from migflow.model.errors import InputError, read_user_file
from migflow.model.geography import CODES, ORIGINS
from migflow.model.scenario import WINDOW_MAX, WINDOW_MIN

from .paths import DEFAULT_TARGETS

COLUMNS = (
    "id", "group", "quantity", "start", "end", "country", "nationality",
    "value", "weight", "error", "source",
)  # fmt: skip
QUANTITIES = (
    "darien_crossings",
    "stock",
    "us_border_arrivals",
    "darien_deaths",
    "deaths",
    "regularised_by_programme",
    "darien_third_country_share",
    "air_arrivals",
    "regular_share",
)
#: quantities that are shares (0..1), not people
SHARES = ("darien_third_country_share", "regular_share")
NATIONALITIES = (*ORIGINS, "OTHER", "ALL")
ERRORS = ("relative", "minimum", "maximum", "change")
BOUND_ERRORS = ("minimum", "maximum")  # error kinds that bound rather than give a value
SERIES = ["quantity", "country", "nationality"]  # the columns that name one series
MAX_FILE_BYTES = 5_000_000
MAX_VALUE = 1e10  # people: above everyone in the Americas
MAX_WEIGHT = 1e6
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _read_rows(path: Path, source: str) -> list[list[str]]:
    """The CSV's records, header first, every way the file can fail being one InputError."""
    text = read_user_file(path, source, "CSV", MAX_FILE_BYTES, encoding="utf-8-sig")
    if "\x00" in text:
        raise InputError("not a text file (it holds NUL characters)", source=source)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file: {exc}", source=source) from None
    if not rows:
        raise InputError(f"empty file; expected a header row {','.join(COLUMNS)}", source=source)
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise InputError(
                f"row {number} has {len(row)} fields and the header {width}; "
                "a comma inside a field needs the field in double quotes",
                source=source,
            )
    return rows


def load_targets(path: str | Path = DEFAULT_TARGETS) -> pd.DataFrame:
    """Read and validate a targets file; a bad row is refused naming the row."""
    path = Path(path)
    source = str(path)
    rows = _read_rows(path, source)
    if len(set(rows[0])) != len(rows[0]):
        raise InputError("the header names a column twice", source=source)
    table = pd.DataFrame(rows[1:], columns=rows[0], dtype=str)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; required: {', '.join(COLUMNS)}", source=source
        )
    if table.empty:
        raise InputError("no targets: the file has a header and no rows", source=source)
    table = table[list(COLUMNS)].copy()
    for i, row in table.iterrows():
        _check_row(row, f"row {i + 2} ({row['id'] or 'no id'})", source)
    duplicated = table["id"].duplicated(keep=False)
    if duplicated.any():
        first = table.index[duplicated][0]
        raise InputError(f"row {first + 2}: duplicate id {table.at[first, 'id']!r}", source=source)
    # a minimum and a maximum of one quantity make an interval, not a duplicate
    key = ["quantity", "start", "end", "country", "nationality", "error"]
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
    table = table.reset_index(drop=True)
    _check_changes(table, source)
    return table


def previous_rows(targets: pd.DataFrame) -> np.ndarray:
    """For each ``change`` row, the position of the row of the month before in the same
    series (-1 for other rows and for a change row without one)."""
    out = np.full(len(targets), -1)
    change = (targets["error"] == "change").to_numpy()
    if not change.any():
        return out
    single = targets["start_month"] == targets["end_month"]
    key = zip(*(targets[c] for c in [*SERIES, "start_month"]), strict=True)
    position = {k: i for i, k in enumerate(key) if single.iat[i]}
    for i in np.flatnonzero(change):
        row = targets.iloc[i]
        before = (*(row[c] for c in SERIES), row["start_month"] - 1)
        out[i] = position.get(before, -1)
    return out


def _check_changes(table: pd.DataFrame, source: str) -> None:
    """A change row is one month, and its month before is a row of the same series."""
    before = previous_rows(table)
    for i in np.flatnonzero((table["error"] == "change").to_numpy()):
        where = f"row {i + 2} ({table.at[i, 'id']})"
        if table.at[i, "start"] != table.at[i, "end"]:
            raise InputError(
                f"{where}: a change is one month's ratio to the month before; start and end "
                f"must be the same month (got {table.at[i, 'start']}..{table.at[i, 'end']})",
                source=source, field="error",
            )  # fmt: skip
        if before[i] < 0:
            raise InputError(
                f"{where}: a change needs the month before ({', '.join(SERIES)} alike, one "
                "month) as a row of its own; add it or use error = relative",
                source=source, field="error",
            )  # fmt: skip


def _check_row(row: pd.Series, where: str, source: str) -> None:
    def bad(field: str, message: str):
        raise InputError(f"{where}: {message}", source=source, field=field)

    if not row["id"]:
        bad("id", "must not be empty")
    if row["quantity"] not in QUANTITIES:
        bad("quantity", f"unknown {row['quantity']!r}; allowed: {', '.join(QUANTITIES)}")
    for field in ("start", "end"):
        try:
            month = parse_month(row[field])
        except ValueError as exc:
            bad(field, str(exc))
        if not parse_month(WINDOW_MIN) <= month <= parse_month(WINDOW_MAX):
            bad(field, f"{row[field]} is outside the years allowed, {WINDOW_MIN}..{WINDOW_MAX}")
    if parse_month(row["end"]) < parse_month(row["start"]):
        bad("end", "is before start")
    if row["country"] and row["country"] not in CODES:
        bad("country", f"unknown country {row['country']!r}; allowed: {', '.join(CODES)}")
    needs_country = ("stock", "deaths", "regularised_by_programme", "air_arrivals")
    if row["quantity"] in needs_country and not row["country"]:
        bad("country", f"a target of {row['quantity']} needs a country")
    if row["nationality"] not in NATIONALITIES:
        bad("nationality", f"unknown {row['nationality']!r}; allowed: {', '.join(NATIONALITIES)}")
    for field, most in (("value", MAX_VALUE), ("weight", MAX_WEIGHT)):
        if not _DECIMAL.fullmatch(row[field]):
            bad(field, f"{row[field]!r} is not a plain decimal number (e.g. 1000 or 0.5)")
        number = float(row[field])
        if not np.isfinite(number) or not 0 <= number <= most:
            bad(field, f"must be a number from 0 to {most:g} (got {row[field]})")
    if row["quantity"] in SHARES and float(row["value"]) > 1:
        bad("value", f"a {row['quantity']} is a share, from 0 to 1 (got {row['value']})")
    if float(row["weight"]) == 0:
        bad("weight", "must be positive (leave the row out instead)")
    if row["error"] not in ERRORS:
        bad("error", f"unknown {row['error']!r}; allowed: {', '.join(ERRORS)}")
    if not row["source"].strip():
        bad("source", "every figure needs its source")
