"""Hypothesis strategies that generate valid scenarios with random levers."""

from __future__ import annotations

from hypothesis import strategies as st

from migflow.model.calendar import format_month, parse_month
from migflow.model.geography import EDGES, HOSTS, ORIGINS
from migflow.model.scenario import Scenario, load_scenario

START, END = "2015-01", "2017-12"

#: The seed documents' instruments that happened: each has a ``<name>_without.toml`` and a
#: ``<name>_more.toml`` in scenarios/.
SEED_INSTRUMENTS = (
    "assistance_240m",
    "colombia_tps",
    "ecuador_registration",
    "labour_visas_nca",
    "cuban_family_reunification_parole",
    "safe_mobility_offices",
    "enforcement_darien",
    "root_causes_6_3b",
    "los_angeles_declaration",
)
FIRST, LAST = parse_month(START), parse_month(END)


def small_baseline(scale: int = 1000, seed: int = 1, end: str = END) -> Scenario:
    """The shipped baseline on a short window, coarse scale: fast but complete."""
    return load_scenario("baseline").clipped(end=end).with_changes(scale=scale, seed=seed)


months = st.integers(FIRST, LAST).map(format_month)


@st.composite
def spans(draw):
    a, b = sorted((draw(st.integers(FIRST, LAST)), draw(st.integers(FIRST, LAST))))
    return {"start": format_month(a), "end": format_month(b)}


integration = st.builds(
    lambda host, f, s, span: {
        "host": host, "funding_musd_per_year": f, "services_per_month": s, **span
    },
    st.sampled_from(HOSTS),
    st.floats(0, 500),
    st.floats(0, 5000),
    spans(),
)  # fmt: skip
enforcement = st.builds(
    lambda edge, p, expel, who, span: {
        "edge": edge, "interdiction": p, "expulsion": expel,
        **({"origins": who} if who else {}), **span,
    },
    st.sampled_from([e.name for e in EDGES]),
    st.floats(0, 1),
    st.booleans(),
    st.lists(st.sampled_from(ORIGINS), max_size=3, unique=True),  # empty: everyone
    spans(),
)  # fmt: skip
_pathway = st.builds(
    lambda kind, origins, dest, cap, dur, referral, span: {
        "name": "generated",
        "kind": kind,
        "origins": origins,
        "destination": dest,
        "capacity_per_year": cap,
        "duration_months": dur,
        "referral_countries": referral,
        **span,
    },
    st.sampled_from(["labour", "parole", "resettlement", "safe_mobility"]),
    st.lists(st.sampled_from(ORIGINS), min_size=1, max_size=3, unique=True),
    st.sampled_from(["USA", "MEX", "CAN", "COL"]),
    st.floats(0, 50_000),
    st.integers(0, 24),
    # offices in transit countries, or (parole) open at home and where migrants live
    st.lists(
        st.sampled_from(["COL", "CRI", "GTM", "PAN", "VEN", "HTI", "PER", "CHL"]),
        max_size=3,
        unique=True,
    ),
    spans(),
)
_programme = st.builds(
    lambda host, cap, origins, cutoff, span: {
        "host": host,
        "capacity_per_month": cap,
        "origins": origins,
        "arrived_before": cutoff,
        **span,
    },
    st.sampled_from(HOSTS),
    st.floats(0, 100_000),
    st.lists(st.sampled_from(ORIGINS), min_size=1, max_size=3, unique=True),
    st.one_of(st.none(), months),
    spans(),
)


@st.composite
def _maybe_terminated(draw, levers) -> dict:
    """A lever that gives a status, which in half the draws is terminated some months after
    its start (possibly after the window, where nothing happens)."""
    lever = draw(levers)
    if draw(st.booleans()):
        first = parse_month(lever["start"]) + 1
        lever["status_ends"] = format_month(draw(st.integers(first, LAST + 6)))
    return lever


pathway = _maybe_terminated(_pathway)
programme = _maybe_terminated(_programme)


@st.composite
def scenarios(draw, scale: int = 1000) -> Scenario:
    """A short baseline plus a random set of levers and a random seed."""
    base = small_baseline(scale=scale, seed=draw(st.integers(0, 2**32 - 1)))
    data = base.model_dump(mode="json", exclude_none=True)
    data["integration"] += draw(st.lists(integration, max_size=3))
    data["enforcement"] += draw(st.lists(enforcement, max_size=3))
    data["pathways"] += draw(st.lists(pathway, max_size=2))
    data["regularisation"] += draw(st.lists(programme, max_size=2))
    # a share of those left without a place on a pathway wait for one (0 = nobody waits)
    data["parameters"] = {**data["parameters"], "pathway_wait_share": draw(st.floats(0, 1))}
    return Scenario.model_validate(data)
