"""Months as integers.

The model steps one calendar month at a time. Months are written ``YYYY-MM`` in scenario
files and tables, and held as integer indices (months since 2000-01) inside the engine so
that comparisons and arithmetic are cheap and unambiguous.
"""

from __future__ import annotations

import re

EPOCH_YEAR = 2000
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """Return the month index of ``YYYY-MM``; raise ValueError with the allowed form."""
    match = _MONTH_RE.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2021-06")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} has month {month}; months run from 01 to 12")
    return (year - EPOCH_YEAR) * 12 + (month - 1)


def format_month(index: int) -> str:
    """Return ``YYYY-MM`` for a month index."""
    year, month0 = divmod(int(index), 12)
    return f"{year + EPOCH_YEAR:04d}-{month0 + 1:02d}"


def year_of(index: int) -> int:
    """Calendar year of a month index."""
    return int(index) // 12 + EPOCH_YEAR
