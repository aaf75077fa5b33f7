"""What each lever costs: a price per unit of what the lever does, with its public source.

Integration and root-cause levers are amounts of money already. Every other lever is priced
by what it does in the run: a person regularised by a programme, a person arriving on a legal
pathway, a person removed home after being stopped on a route, a US asylum case decided.
Spending is the count in the run times the unit cost, month by month, so a lever that does
nothing costs nothing and a cost-effectiveness figure (extra dollars per crossing averted)
compares like with like.

The defaults below are the best public figures found (docs/levers.md gives the quotes and
the arithmetic). They are fees, appeals or averages, not audited marginal costs, and a
scenario file can replace any of them under ``[unit_costs]``. A unit cost of 0 marked
``unpriced`` means no public figure was found: the lever then costs nothing in the model,
which the tables say instead of hiding it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geography import CODES, EDGE_INDEX, ORIGINS
from .population import IRREGULAR

#: The lever groups whose spending the model counts, in the order of the spending table.
SPENDING_LEVERS: tuple[str, ...] = (
    "integration", "root_causes", "regularisation", "pathways", "enforcement", "asylum",
)  # fmt: skip


@dataclass(frozen=True)
class UnitCost:
    key: str  # the name under [unit_costs] in a scenario file
    lever: str  # the spending lever it adds to (SPENDING_LEVERS)
    per: str  # the unit, in plain words
    usd: float  # the default
    low: float  # the range the sources span (a figure's alternatives, not a statistical interval)
    high: float
    basis: str  # what the figure is, in plain words
    source: str  # where it comes from: a public URL
    #: what the run counts: event kinds (country, origin), ``removed:<edge>`` (people removed
    #: home after being stopped on that route edge) or ``asylum_decisions``
    counts: tuple[str, ...] = ()

    @property
    def priced(self) -> bool:
        return self.usd > 0


UNIT_COSTS: tuple[UnitCost, ...] = (
    UnitCost(
        "regularised_by_programme", "regularisation", "person regularised by a programme",
        50.0, 0.0, 50.0,
        "Ecuador's 2019-20 humanitarian visa: free, but a USD 50 application form, a fee set "
        "to recover processing (Foreign Minister José Valencia). No state or donor cost per "
        "permit is published for Colombia's, Peru's or Ecuador's later programmes; Colombia "
        "charged nothing.",
        "https://www.elcomercio.com/actualidad/tramite-visa-humanitaria-venezolanos-ecuador.html",
        ("regularised_by_programme",),
    ),
    UnitCost(
        "labour_visa", "pathways", "worker arriving on a labour visa",
        277.0, 228.0, 277.0,
        "US government fees per H-2A worker (paid by the employer), for a petition of 20 "
        "workers: USCIS petition USD 1,130 (from April 2024; USD 460 before) shared by 20, "
        "Labor Department certification USD 15 a worker, State Department visa fee USD 205 "
        "(USD 190 before May 2023, 88 FR 18248). Fees recover processing costs.",
        "https://laborci.com/uscis-final-rule-regarding-fee-increases/ ; "
        "http://federal.elaws.us/citation/88-FR-18248",
        ("pathway_labour",),
    ),
    UnitCost(
        "parole", "pathways", "person arriving on parole",
        575.0, 0.0, 630.0,
        "USCIS fee for the travel document of Cuban Family Reunification Parole, charged to "
        "'recover costs incurred by USCIS to adjudicate' (79 FR 75579); USD 630 from April "
        "2024. The 2022-23 parole processes for Venezuelans and CHNV charged no fee and "
        "publish no cost per case.",
        "https://www.govinfo.gov/content/pkg/FR-2014-12-18/html/2014-29486.htm",
        ("pathway_parole",),
    ),
    UnitCost(
        "resettlement", "pathways", "refugee resettled",
        1800.0, 1800.0, 1800.0,
        "US Reception and Placement grant per refugee (State Department, from 2010); "
        "processing abroad is not included.",
        "https://2009-2017.state.gov/r/pa/prs/ps/2010/01/135800.htm",
        ("pathway_resettlement",),
    ),
    UnitCost(
        "safe_mobility", "pathways", "person arriving through a Safe Mobility Office",
        6340.0, 1800.0, 6340.0,
        "USD 81.7 M of US funding for the offices' partners over about 18,000 people resettled "
        "(House Judiciary Committee majority staff report, November 2024, as reported; low "
        "confidence: the sum may cover more than the offices), plus the Reception and "
        "Placement grant of USD 1,800.",
        "https://libertyonenews.com/gop-claims-biden-harris-admin-spent-81-7-million-to-"
        "facilitate-illegal-immigration/",
        ("pathway_safe_mobility",),
    ),
    UnitCost(
        "removal_darien", "enforcement",
        "person removed home after being stopped in the Darién",
        1450.0, 1450.0, 2080.0,
        "US-funded removal flights from Panama: USD 1,140,846 for 19 flights carrying 787 "
        "people, 1 July to 22 October 2024 (US Embassy in Panama, reported by La Estrella de "
        "Panamá); USD 900,000 for 433 people in the first month (Panama's migration director).",
        "https://laestrella.com.pa/panama/ee-uu-financio-19-vuelos-de-repatriacion-de-"
        "migrantes-costaron-mas-de-11-millones-CB9047163",
        ("removed:COL-PAN",),
    ),
    UnitCost(
        "removal_us_border", "enforcement",
        "person removed home after being stopped at the US border",
        10854.0, 1978.0, 10854.0,
        "ICE's average cost per removal in fiscal 2016, detention to flight home (an ICE "
        "official to CNNMoney); the flight alone was USD 1,978. Expulsions to Mexico under "
        "Title 42 remove nobody home and are not priced.",
        "https://theaviatorsafrica.com/much-costs-ice-deport-illegal-immigrants/",
        ("removed:MEX-USA",),
    ),
    UnitCost(
        "removal_mexico_south", "enforcement",
        "person removed home after being stopped in southern Mexico",
        0.0, 0.0, 0.0,
        "Unpriced: Mexico's migration institute and National Guard publish budgets, not a "
        "cost per person removed.",
        "",
        ("removed:GTM-MEX",),
    ),
    UnitCost(
        "asylum_decision", "asylum", "US asylum case decided",
        1854.0, 1200.0, 1854.0,
        "US immigration courts: USD 760 M enacted for fiscal 2022 over 410,009 case "
        "completions (375,842 in 11 months, TRAC); outside estimates USD 1,200-1,500 a case. "
        "A case is decided for every person awaiting one, once per processing time.",
        "https://trac.syr.edu/reports/695 ; https://openomb.org/file/11231158",
        ("asylum_decisions",),
    ),
)  # fmt: skip
UNIT_COST: dict[str, UnitCost] = {c.key: c for c in UNIT_COSTS}
_USA = CODES.index("USA")


def unit_cost_problem(key: str, value: float) -> str | None:
    """Why ``key = value`` cannot stand under ``[unit_costs]``, or None."""
    if key not in UNIT_COST:
        return f"unknown unit cost {key!r}; allowed: {', '.join(UNIT_COST)}"
    if not 0 <= value <= 1e7:
        return f"{key}: must be 0..10,000,000 US dollars per {UNIT_COST[key].per} (got {value})"
    return None


def priced_spending(rec, sched, overrides: dict[str, float] | None = None) -> np.ndarray:
    """Spending in $M by month, country and lever (``SPENDING_LEVERS``), from what the run
    did (``rec``: the recorder) and the schedule's funding. Removals are counted where the
    route edge ends, asylum cases in the United States."""
    from .recorder import KIND_INDEX

    usd = {c.key: c.usd for c in UNIT_COSTS} | (overrides or {})
    n_months = rec.events.shape[0]
    out = np.zeros((n_months, len(CODES), len(SPENDING_LEVERS)))
    out[:, :, 0] = sched.integration_funding_musd
    origin_country = [CODES.index(o) for o in ORIGINS]
    out[:, origin_country, 1] = sched.root_cause_musd
    for cost in UNIT_COSTS:
        lever = SPENDING_LEVERS.index(cost.lever)
        for what in cost.counts:
            if what.startswith("removed:"):
                edge = what.split(":", 1)[1]
                people = rec.removed_by_edge[:, EDGE_INDEX[edge]]
                out[:, CODES.index(edge.split("-")[1]), lever] += people * usd[cost.key] / 1e6
            elif what == "asylum_decisions":
                waiting = rec.stocks[:, _USA, :, IRREGULAR].sum(axis=1)
                decided = waiting / np.asarray(sched.asylum_months, dtype=float)
                out[:, _USA, lever] += decided * usd[cost.key] / 1e6
            else:
                people = rec.events[:, KIND_INDEX[what]].sum(axis=2)  # (T, C)
                out[:, :, lever] += people * usd[cost.key] / 1e6
    return out
