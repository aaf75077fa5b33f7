"""The outcomes of a run, declared once (as EMA Workbench declares its outcomes).

Each outcome is a column of the yearly summary (``Results.summary``) with a label, a unit and
a kind, and knows how to be read over a window of years. The command line's tables, the app's
comparison table and the sweeps' indicators all take their outcomes from here, so that a
number called "Darién crossings" means the same thing wherever it is shown.

Kinds:

* ``flow``: events counted in each year (crossings, arrivals, deaths, spending). Over a
  window it is either the total (``total``) or the average a year (``per_year``).
* ``stock``: people at the end of a year (Venezuelans in a host). Over a window it is the
  value at the end of the window's last year (``at_end``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .geography import COUNTRIES, DARIEN_NATIONALITIES

if TYPE_CHECKING:
    import pandas as pd

#: The hosts whose Venezuelan population the summary follows (the five largest in the region).
MAIN_HOSTS: tuple[str, ...] = ("COL", "PER", "ECU", "CHL", "BRA")

_NATIONALITY = {
    "VEN": "Venezuelans", "HTI": "Haitians", "CUB": "Cubans", "ECU": "Ecuadorians",
    "COL": "Colombians",
}  # fmt: skip


def within(summary: pd.DataFrame, years: tuple[int, int] | None) -> pd.DataFrame:
    """The rows of a yearly summary in ``years`` (inclusive; all of them for None): the
    window an outcome is read over, flows summed in it and stocks at its end."""
    if years is None:
        return summary
    return summary[(summary["year"] >= years[0]) & (summary["year"] <= years[1])]


def rounded(x: float, digits: int = 3, whole: bool = True) -> str:
    """``x`` to ``digits`` significant figures, with thousands separators: a figure over a few
    dozen model runs is not known to the person, and printing it so is false precision.
    ``whole``: no decimals (people); otherwise as many as the significant figures need
    (money in millions: 6.54)."""
    if x == 0 or not math.isfinite(x):
        return f"{x:,.0f}"
    places = digits - 1 - math.floor(math.log10(abs(x)))
    value = round(x, places)
    if value:  # rounding may carry into a new digit: 99.95 -> 100
        places = digits - 1 - math.floor(math.log10(abs(value)))
    text = f"{value:,.{0 if whole else max(places, 0)}f}"
    return "0" if text.strip("-0.,") == "" else text


def signed(
    x: float, plus: str = "+", minus: str = "−", prefix: str = "", whole: bool = True
) -> str:
    """``rounded`` with its sign in front of ``prefix``: "+1,200", "−$5,610"; no sign on 0."""
    text = rounded(abs(x), whole=whole)
    if text == "0":
        return prefix + text
    return (plus if x > 0 else minus) + prefix + text


@dataclass(frozen=True)
class Outcome:
    name: str  # the column of Results.summary
    label: str  # plain words, for tables and the app
    unit: str
    kind: Literal["flow", "stock"]
    #: what is counted, in plain words for policy staff (the app's help; no period: the
    #: reader adds it)
    counts: str = ""

    @property
    def heading(self) -> str:
        """The label with its unit when it does not count people: "Cost of every lever ($M)"."""
        return self.label if self.unit == "people" else f"{self.label} ({self.unit})"

    def _years(self, summary: pd.DataFrame, first: int, last: int):
        return summary.loc[(summary["year"] >= first) & (summary["year"] <= last), self.name]

    def total(self, summary: pd.DataFrame, first: int, last: int) -> float:
        """A flow summed over the years ``first..last``."""
        self._flow_only()
        return float(self._years(summary, first, last).sum())

    def per_year(self, summary: pd.DataFrame, first: int, last: int) -> float:
        """A flow's average a year over ``first..last``."""
        self._flow_only()
        values = self._years(summary, first, last)
        return float(values.mean()) if len(values) else 0.0

    def at_end(self, summary: pd.DataFrame, last: int) -> float:
        """A stock at the end of the year ``last``."""
        if self.kind != "stock":
            raise ValueError(f"{self.name} is a flow: read it with total or per_year")
        return float(summary.loc[summary["year"] == last, self.name].sum())

    def over(self, summary: pd.DataFrame, first: int, last: int) -> float:
        """The natural reading over a window: a flow's total, a stock at the end."""
        if self.kind == "stock":
            return self.at_end(summary, last)
        return self.total(summary, first, last)

    def _flow_only(self) -> None:
        if self.kind != "flow":
            raise ValueError(f"{self.name} is a stock: read it with at_end")


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("emigrants", "Emigrants", "people", "flow",
            "People leaving their country of origin (the modelled origins only)."),
    Outcome("darien_crossings", "Darién crossings", "people", "flow",
            "Irregular crossings of the Darién Gap (Colombia → Panama)."),
    *(
        Outcome(f"darien_{n}", f"Darién crossings, {_NATIONALITY[n]}", "people", "flow",
                f"Irregular crossings of the Darién Gap by {_NATIONALITY[n]}.")
        for n in DARIEN_NATIONALITIES
    ),
    Outcome("darien_other", "Darién crossings, other nationalities", "people", "flow",
            "Irregular crossings of the Darién Gap by everyone else modelled (Nicaraguans, "
            "Central Americans, and people from outside the Americas)."),
    Outcome("us_border_arrivals", "US border arrivals", "people", "flow",
            "Irregular arrivals at the US southwest border. Every attempt counts, so a "
            "migrant who tries again counts again (like CBP encounters, but only the "
            "modelled nationalities)."),
    *(
        Outcome(f"venezuelans_in_{h}", f"Venezuelans in {COUNTRIES[h][0]}", "people", "stock",
                f"Venezuelans living in {COUNTRIES[h][0]} (irregular or regularised), "
                "counting only those who left since the scenario's start.")
        for h in MAIN_HOSTS
    ),
    Outcome("regularisations", "People regularised", "people", "flow",
            "Migrants given regular status in a host: programmes, ordinary channels and US "
            "asylum grants. People arriving on a legal pathway are counted apart."),
    Outcome("legal_pathway_arrivals", "Legal pathway arrivals", "people", "flow",
            "People who travelled on a legal pathway (labour visas, parole, resettlement, "
            "Safe Mobility referrals) instead of an irregular route."),
    Outcome("interdictions", "Interdictions", "people", "flow",
            "Migrants stopped on a route by enforcement (turned back, expelled or removed)."),
    Outcome("deaths", "Deaths on the way (drawn, whole agents)", "people", "flow",
            "Dead or missing on the way, drawn one agent at a time: steps of 100 people at "
            "the default scale, so 0 in most years."),
    Outcome("expected_deaths", "Deaths on the way (expected)", "people", "flow",
            "Expected dead or missing on the way: in the Darién, crossing Central America "
            "and Mexico, and at the US border (IOM's counts per crossing): each crossing's "
            "probability of dying, summed over the crossings."),
    Outcome("expected_deaths_darien", "Deaths in the Darién (expected)", "people", "flow",
            "Expected dead or missing in the Darién Gap."),
    Outcome("returns", "Returns", "people", "flow",
            "Migrants going back to their country of origin, by choice or deported."),
    Outcome("integration_musd", "Integration funding", "$M", "flow",
            "Money spent on integration in the hosts, $ million."),
    Outcome("root_causes_musd", "Root-cause funding", "$M", "flow",
            "Money spent on root causes in the origins, $ million."),
    Outcome("funding_musd", "Integration + root-cause funding", "$M", "flow",
            "Money spent on integration in the hosts and on root causes in the origins, "
            "$ million."),
    Outcome("regularisation_musd", "Cost of regularisation programmes", "$M", "flow",
            "People regularised by a programme times the cost per person (model/costs.py), "
            "$ million."),
    Outcome("pathways_musd", "Cost of legal pathways", "$M", "flow",
            "Arrivals on each legal pathway times its cost per arrival (labour visas, parole, "
            "resettlement, Safe Mobility), $ million."),
    Outcome("enforcement_musd", "Cost of removals", "$M", "flow",
            "People removed home after being stopped in the Darién or at the US border, "
            "times the cost per removal there, $ million. Patrols, and removals in Mexico and "
            "Central America, are not priced."),
    Outcome("asylum_musd", "Cost of US asylum decisions", "$M", "flow",
            "US asylum cases decided times the cost per case, $ million."),
    Outcome("cost_musd", "Cost of every lever", "$M", "flow",
            "Integration, root causes, regularisation programmes, legal pathways, removals "
            "and asylum decisions, $ million (unit costs and their sources: docs/levers.md)."),
)  # fmt: skip
OUTCOME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
FLOWS: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.kind == "flow")
STOCKS: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.kind == "stock")
