"""Step 5: recording.

Everything that happens is tallied into dense numpy arrays indexed by month (stocks by
country, origin and status; flows by route edge and origin; events by kind, country and
origin), in people (agents times ``scale``). Tidy tables are built from them once, at the
end (``results.py``). Migrants who return or die leave the population here and are kept as
cumulative counts, so conservation can be checked from the stocks table alone.
"""

from __future__ import annotations

import numpy as np

from .geography import CODES, EDGE_DST, EDGES, ORIGINS
from .population import N_LIVE_STATUS

EVENT_KINDS = (
    "emigrated",
    "arrived",
    "us_border_arrival",
    "interdicted",
    "stranded",
    "deported",
    "died",
    "returned",
    "regularised",
    "regularised_by_programme",
    "status_terminated",
    "integrated",
    "departed_onward",
    "pathway_labour",
    "pathway_parole",
    "pathway_resettlement",
    "pathway_safe_mobility",
    "expected_deaths",
    "darien_from_third_country",
    "rerouted",
    "waiting_for_pathway",
)
KIND_INDEX = {k: i for i, k in enumerate(EVENT_KINDS)}
REMOVAL_STATUS = {"died": 0, "deported": 1, "returned": 1}  # -> dead, returned
REMOVED_NAMES = ("dead", "returned")
N_C, N_O = len(CODES), len(ORIGINS)


class Recorder:
    def __init__(self, n_months: int, scale: int):
        self.scale = scale
        self.t = 0
        self.events = np.zeros((n_months, len(EVENT_KINDS), N_C, N_O))
        self.flow = np.zeros((n_months, len(EDGES), N_O))
        #: people removed home after being stopped, by the route edge they were stopped on
        #: (what a removal costs depends on who removes them: model/costs.py)
        self.removed_by_edge = np.zeros((n_months, len(EDGES)))
        self.stocks = np.zeros((n_months, N_C, N_O, N_LIVE_STATUS))
        self.removed_stocks = np.zeros((n_months, N_C, N_O, 2))
        self._removed = np.zeros((N_C, N_O, 2))

    def _tally(self, countries, origins) -> np.ndarray:
        # a single country broadcasts in the arithmetic (no broadcast copy needed)
        cells = np.asarray(countries, dtype=np.int64) * N_O + np.asarray(origins, dtype=np.int64)
        counts = np.bincount(cells.ravel(), minlength=N_C * N_O)
        return counts.reshape(N_C, N_O) * float(self.scale)

    def event(self, kind: str, country: int, origin: int, people: float) -> None:
        self.events[self.t, KIND_INDEX[kind], country, origin] += people

    def events_at(self, kind: str, countries, origins) -> None:
        """One agent (``scale`` people) per entry of ``origins``."""
        if len(origins):
            self.events[self.t, KIND_INDEX[kind]] += self._tally(countries, origins)

    def expected_at(self, kind: str, country: int, origins, probability) -> None:
        """People expected to meet an event: agent ``i`` of origin ``origins[i]`` meets it
        with ``probability[i]``. A rare event (a death in the Darién, about 1 in 2,600
        crossings) drawn agent by agent shows at 100 people per agent as 0 in most years and
        100 in a few; its expectation shows the level and how a policy moves it."""
        if len(origins):
            people = np.bincount(origins, weights=probability, minlength=N_O) * self.scale
            self.events[self.t, KIND_INDEX[kind], country] += people

    def expected_deaths(self, edges: np.ndarray, origins: np.ndarray, probability) -> None:
        """``expected_at`` for crossers of several edges: each death is expected where the
        edge ends (the Darién's in Panama, the US border's in the United States)."""
        if len(origins):
            cell = EDGE_DST.take(edges).astype(np.int64) * N_O + origins
            people = np.bincount(cell, weights=probability, minlength=N_C * N_O)
            self.events[self.t, KIND_INDEX["expected_deaths"]] += people.reshape(N_C, N_O) * (
                self.scale
            )

    def flows(self, edges: np.ndarray, origins: np.ndarray) -> None:
        if len(edges):
            idx = np.asarray(edges, dtype=np.int64) * N_O + origins
            counts = np.bincount(idx, minlength=len(EDGES) * N_O)
            self.flow[self.t] += counts.reshape(len(EDGES), N_O) * float(self.scale)

    def removals(self, edges: np.ndarray) -> None:
        if len(edges):
            counts = np.bincount(np.asarray(edges, dtype=np.int64), minlength=len(EDGES))
            self.removed_by_edge[self.t] += counts * float(self.scale)

    def remove(self, model, rows: np.ndarray, kind: str, countries) -> None:
        """Take migrants out of the population as returned or dead, keeping the count."""
        if len(rows) == 0:
            return
        origins = model.pop.origin[rows]
        tally = self._tally(countries, origins)
        self.events[self.t, KIND_INDEX[kind]] += tally
        self._removed[:, :, REMOVAL_STATUS[kind]] += tally
        model.pop.mark_removed(rows)

    def end_month(self, group_counts: np.ndarray) -> None:
        """Store this month's stocks from the per-group agent counts (country, origin,
        status, flags) and advance."""
        by_status = group_counts.reshape(N_C, N_O, 4, -1).sum(axis=3)
        self.stocks[self.t] = by_status[:, :, :N_LIVE_STATUS] * float(self.scale)
        self.removed_stocks[self.t] = self._removed
        self.t += 1
