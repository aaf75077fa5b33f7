"""Country agents.

Each country is a ``mesa.Agent`` holding its role(s) and giving a readable view of its
policy state this month and of the migrants it hosts. Migrants themselves are not Mesa
agents (see ``population.py``): there are millions of them and they live in numpy columns.
"""

from __future__ import annotations

import mesa

from .geography import COUNTRIES, EDGES, INDEX, ORIGINS


class Country(mesa.Agent):
    """A country of origin, transit and/or destination."""

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
        sched, t = self.model.schedule, self.model.t
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
