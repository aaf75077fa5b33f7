"""Country agents.

Each country is a ``mesa.Agent`` holding its role(s) and giving a readable view of its
policy state this month and of the migrants it hosts. Migrants themselves are not Mesa
agents (see ``population.py``): there are millions of them and they live in numpy columns.
"""

from __future__ import annotations

import itertools
import weakref

from .geography import COUNTRIES, EDGES, INDEX, ORIGINS
from .mesa_core import mesa


class _IdCounters(weakref.WeakKeyDictionary):
    """Agent id counters per model that do not keep the models alive.

    Mesa 3's ``Agent._ids`` is a class-level ``defaultdict`` keyed by model, so every model
    that ever created an agent stays in memory for the life of the process: measured 5.6 MB
    per run of the history scenario, 13 GB over a 2,400-run calibration chain, enough for
    Dask's nanny to kill the worker and restart the chain from scratch."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


class Country(mesa.Agent):
    """A country of origin, transit and/or destination."""

    _ids = _IdCounters()

    def __init__(self, model, code: str):
        super().__init__(model)
        self.code = code
        self.index = INDEX[code]
        self.name, _, _, self.roles = COUNTRIES[code]

    @property
    def migrants_by_origin(self) -> dict[str, float]:
        """People settled here now (irregular and regularised), by origin."""
        stock = self.model.host_stock_people[self.index]
        return {o: float(stock[i]) for i, o in enumerate(ORIGINS) if stock[i] > 0}

    @property
    def policy(self) -> dict[str, float]:
        """This month's levers acting in this country."""
        sched, t = self.model.policy, self.model.t
        t = min(t, len(sched.months) - 1)
        incoming = {
            f"interdiction_{e.name}": float(sched.interdiction[t, i].max())  # most targeted
            for i, e in enumerate(EDGES)
            if e.dst == self.code
        }
        return {
            "integration_funding_musd_per_year": float(
                sched.integration_funding_musd[t, self.index] * 12
            ),
            "integration_served_per_month": float(sched.integration_capacity[t, self.index]),
            "opportunity_index": float(sched.opportunity[t, self.index]),
            **incoming,
        }

    def __repr__(self) -> str:
        return f"Country({self.code})"
