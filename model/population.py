"""Migrants as columns of numpy arrays (struct-of-arrays).

Millions of migrants must step in well under a second, so a migrant is a row across a few
narrow arrays owned by the model rather than a Python object: about 23 bytes per agent.
Each agent stands for ``scale`` people. Migrants who return or die leave the arrays (they are
tallied by the recorder), so the per-month cost follows the number of people still abroad.
"""

from __future__ import annotations

import numpy as np

from .random_streams import KEY_DTYPE

# Status codes
TRANSIT, IRREGULAR, REGULARISED, REMOVED = 0, 1, 2, 3
STATUS_NAMES = ("in_transit", "irregular", "regularised")
N_LIVE_STATUS = 3
#: the statuses of people living in a country (a host's stock): everyone alive not in transit
SETTLED = slice(IRREGULAR, REGULARISED + 1)

# Flag bits
INTEGRATED = np.int8(1)  # received integration services
TEMPORARY = np.int8(2)  # on a temporary legal pathway (returns when it ends)
STRANDED = np.int8(4)  # stopped at a border and stranded there (likely to try again soon)
N_FLAG_CODES = 8

#: the type of the ``granted_by`` column (scenario.py caps the levers at MAX_STATUS_GRANTS)
GRANT_DTYPE = np.int16

# Steps that touch every migrant go through the columns in blocks of this many rows: a
# block's temporaries stay in the CPU cache, where a pass over all rows at once would go to
# main memory and back for each of its numpy operations (measured: about half the time).
BLOCK_ROWS = 1 << 18

COLUMNS = {
    "key": KEY_DTYPE,  # random-stream key (common random numbers)
    "origin": np.int8,  # index into geography.ORIGINS
    "loc": np.int8,  # current country, index into geography.CODES
    "status": np.int8,
    "flags": np.int8,
    "path": np.int16,  # path being travelled (-1 when settled)
    "hop": np.int8,  # edges of the path already crossed
    "leg_left": np.float32,  # months of travel left on the current edge
    "arrived": np.int16,  # month index of arrival where the migrant is
    # which lever gave the migrant regular status (policy.py: a programme's or pathway's
    # ``grant``; 0: ordinary channels or none), so that a termination takes it back
    "granted_by": GRANT_DTYPE,
}


class Population:
    """Growable columns; ``n`` rows are in use, read as ``pop.key``, ``pop.loc``, ...
    (properties, ``_column``: a run reads them some 30,000 times)."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cols = {name: np.zeros(capacity, dtype=dt) for name, dt in COLUMNS.items()}
        self._removed = 0

    @property
    def capacity(self) -> int:
        return len(self._cols["key"])

    @property
    def nbytes(self) -> int:
        return sum(col.nbytes for col in self._cols.values())

    def add(self, count: int, **values) -> slice:
        """Append ``count`` rows; ``values`` maps column name to a scalar or array."""
        needed = self.n + count
        if needed > self.capacity:
            new_cap = max(needed, int(self.capacity * 1.5) + 1024)
            for name, col in self._cols.items():
                grown = np.zeros(new_cap, dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self._cols[name] = grown
        rows = slice(self.n, needed)
        self.n = needed
        for name in COLUMNS:
            self._cols[name][rows] = values.get(name, -1 if name == "path" else 0)
        return rows

    def blocks(self):
        """Slices of at most ``BLOCK_ROWS`` rows covering the rows in use, in order."""
        for start in range(0, self.n, BLOCK_ROWS):
            yield slice(start, min(start + BLOCK_ROWS, self.n))

    def rows_with_status(self, status: int) -> np.ndarray:
        """Row numbers (ascending) of the migrants with this status, found block by block."""
        found = [np.flatnonzero(self.status[b] == status) + b.start for b in self.blocks()]
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def mark_removed(self, idx: np.ndarray) -> None:
        """Mark rows as gone (returned or dead); ``compact`` drops them later."""
        self._cols["status"][idx] = REMOVED
        self._removed += len(idx)

    def compact(self, threshold: float = 0.05) -> None:
        """Drop removed rows once they are more than ``threshold`` of the arrays, keeping
        order (so every run of the same scenario and seed has the same row layout)."""
        if self._removed == 0 or self._removed < threshold * max(self.n, 1):
            return
        m = 0
        for block in self.blocks():  # rows only move towards the front
            keep = np.flatnonzero(self.status[block] != REMOVED) + block.start
            for col in self._cols.values():
                col[m : m + len(keep)] = col[keep]
            m += len(keep)
        self.n = m
        self._removed = 0


def _column(name: str) -> property:
    """The rows in use of column ``name`` (a view)."""
    return property(lambda self: self._cols[name][: self.n], doc=f"the rows in use of {name}")


for _name in COLUMNS:
    setattr(Population, _name, _column(_name))
