"""Countries, route edges and the paths migrants can take between them.

The network is the model's minimum geography (docs/ODD.md, section 2): origins (Venezuela,
Haiti, Cuba, Ecuador, Colombia, Nicaragua, northern Central America, and an
"extra-continental" origin arriving by air), the transit corridor Colombia -> Darién ->
Panama -> Costa Rica -> Nicaragua -> Honduras -> Guatemala -> Mexico -> United States, and
the South American hosts. Canada is a
destination reached only by legal pathways (the seeds' Canada labour pathways).

Distances are great-circle distances between the representative points below (capital
cities, and El Paso for the US southwest border where northbound migrants arrive); they
feed travel time and the distance term of destination choice. Air edges have no overland
distance: they cost ``air_km_equivalent`` (a model parameter) in choice and take a tenth of a
month to travel.

Paths are enumerated once: every simple path from each node to each host, keeping the
cheapest few. A migrant picks a *path* (destination and route together), so a route that
enforcement makes costly is weighed against the others in the same logit choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

# code: (name, latitude, longitude, roles)
# Coordinates: capital cities (El Paso, Texas for the US southwest border), rounded to 0.1
# degree; public geographic facts. XCO (extra-continental) has no point.
COUNTRIES: dict[str, tuple[str, float | None, float | None, frozenset[str]]] = {
    "VEN": ("Venezuela", 10.5, -66.9, frozenset({"origin"})),
    "HTI": ("Haiti", 18.5, -72.3, frozenset({"origin"})),
    "CUB": ("Cuba", 23.1, -82.4, frozenset({"origin"})),
    "ECU": ("Ecuador", -0.2, -78.5, frozenset({"origin", "transit", "host"})),
    "COL": ("Colombia", 4.7, -74.1, frozenset({"origin", "transit", "host"})),
    "NIC": ("Nicaragua", 12.1, -86.3, frozenset({"origin", "transit"})),
    "GTM": ("Guatemala", 14.6, -90.5, frozenset({"origin", "transit"})),
    "HND": ("Honduras", 14.1, -87.2, frozenset({"origin", "transit"})),
    "SLV": ("El Salvador", 13.7, -89.2, frozenset({"origin"})),
    "XCO": ("Extra-continental (arrives by air)", None, None, frozenset({"origin"})),
    "PER": ("Peru", -12.0, -77.0, frozenset({"host", "transit"})),
    "CHL": ("Chile", -33.4, -70.7, frozenset({"host", "transit"})),
    "BRA": ("Brazil", -15.8, -47.9, frozenset({"host", "transit"})),
    "ARG": ("Argentina", -34.6, -58.4, frozenset({"host"})),
    "PAN": ("Panama", 9.0, -79.5, frozenset({"transit", "host"})),
    "CRI": ("Costa Rica", 9.9, -84.1, frozenset({"transit", "host"})),
    "MEX": ("Mexico", 19.4, -99.1, frozenset({"transit", "host"})),
    "USA": ("United States (southwest border)", 31.8, -106.4, frozenset({"host"})),
    "CAN": ("Canada (legal pathways only)", 45.4, -75.7, frozenset({"host"})),
}

CODES: tuple[str, ...] = tuple(COUNTRIES)
INDEX: dict[str, int] = {code: i for i, code in enumerate(CODES)}

#: Origins whose emigrants the model creates. Mexico is a host and transit country here;
#: Mexican emigration to the US is outside the model's scope (see docs/ODD.md).
ORIGINS: tuple[str, ...] = ("VEN", "HTI", "CUB", "ECU", "COL", "NIC", "GTM", "HND", "SLV", "XCO")
ORIGIN_INDEX: dict[str, int] = {code: i for i, code in enumerate(ORIGINS)}
# the nationalities Panama's Darién counts are reported by in the summary; the rest is "other"
DARIEN_NATIONALITIES: tuple[str, ...] = ("VEN", "HTI", "CUB", "ECU", "COL")
#: The country (node) index where each origin's emigrants start.
ORIGIN_NODE = np.array([INDEX[o] for o in ORIGINS], dtype=np.int16)
HOSTS: tuple[str, ...] = tuple(c for c in CODES if "host" in COUNTRIES[c][3])
HOST_MASK = np.array([c in HOSTS for c in CODES])
NORTHERN_CENTRAL_AMERICA = ("GTM", "HND", "SLV")

DARIEN = "COL-PAN"
US_BORDER = "MEX-USA"
MEXICO_SOUTHERN_BORDER = "GTM-MEX"


@dataclass(frozen=True)
class Edge:
    """A directed route between two countries."""

    src: str
    dst: str
    kind: str  # "land", "jungle" (the Darién), "air"
    nationals_only: str | None = None  # an air link open only to one nationality

    @property
    def name(self) -> str:
        return f"{self.src}-{self.dst}"


def _edges() -> tuple[Edge, ...]:
    land = [
        ("VEN", "COL"), ("VEN", "BRA"), ("COL", "ECU"), ("ECU", "COL"), ("ECU", "PER"),
        ("PER", "ECU"), ("PER", "CHL"), ("CHL", "PER"), ("CHL", "ARG"), ("ARG", "CHL"),
        ("BRA", "ARG"), ("BRA", "PER"), ("PAN", "CRI"), ("CRI", "NIC"), ("NIC", "CRI"),
        ("NIC", "HND"), ("HND", "GTM"), ("SLV", "GTM"), ("GTM", "MEX"), ("MEX", "USA"),
        ("COL", "VEN"),
    ]  # fmt: skip
    edges = [Edge(a, b, "land") for a, b in land]
    edges.append(Edge("COL", "PAN", "jungle"))
    air = [
        ("HTI", "CHL", None), ("HTI", "BRA", None), ("CUB", "ECU", None), ("CUB", "NIC", None),
        ("VEN", "MEX", None), ("ECU", "MEX", "ECU"), ("XCO", "ECU", None), ("XCO", "BRA", None),
        ("VEN", "PER", None), ("VEN", "CHL", None), ("VEN", "ARG", None), ("VEN", "PAN", None),
        # Bogotá to Mexico: Colombians needed no Mexican visa, and most of the 125,172
        # Colombians met at the US southwest border in FY2022 (US CBP) had flown to Mexico;
        # Venezuelans living in Colombia took it too until Mexico's visa of 2022-01
        ("COL", "MEX", None),
        # Caracas to Miami: Venezuelans with a US visa flew to the United States and stayed
        # (most of those in the US before 2021 came this way, not across the southwest
        # border, where CBP met 2,787 Venezuelans in FY2020)
        ("VEN", "USA", None),
    ]  # fmt: skip
    edges.extend(Edge(a, b, "air", only) for a, b, only in air)
    return tuple(edges)


EDGES: tuple[Edge, ...] = _edges()
EDGE_INDEX: dict[str, int] = {e.name: i for i, e in enumerate(EDGES)}

#: Overland segments where migrants die on the way, as the IOM Missing Migrants Project
#: counts them (each has its own mortality parameter, ``model/parameters.py``): the Darién;
#: IOM's "Central America" region, which covers the isthmus from Panama to Guatemala and
#: "much of México" (IOM, 2019-08-16), carried by the crossing into Mexico that every
#: overland migrant makes; and the US-Mexico border crossing. Flights and the South
#: American land routes carry no modelled risk.
SEGMENT_EDGES: dict[str, tuple[str, ...]] = {
    "darien": (DARIEN,),
    "central_america_mexico": (MEXICO_SOUTHERN_BORDER,),
    "us_border": (US_BORDER,),
}
SEGMENTS: tuple[str, ...] = tuple(SEGMENT_EDGES)
#: Segment index of each edge, -1 where the edge has no modelled risk.
EDGE_SEGMENT = np.full(len(EDGES), -1, dtype=np.int64)
for _k, _names in enumerate(SEGMENT_EDGES.values()):
    EDGE_SEGMENT[[EDGE_INDEX[n] for n in _names]] = _k


def great_circle_km(a: str, b: str) -> float:
    """Great-circle distance between two countries' representative points (haversine)."""
    _, lat1, lon1, _ = COUNTRIES[a]
    _, lat2, lon2, _ = COUNTRIES[b]
    if lat1 is None or lat2 is None:
        return 0.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


EDGE_KM = np.array([0.0 if e.kind == "air" else great_circle_km(e.src, e.dst) for e in EDGES])
EDGE_IS_AIR = np.array([e.kind == "air" for e in EDGES])
EDGE_SRC = np.array([INDEX[e.src] for e in EDGES], dtype=np.int16)
EDGE_DST = np.array([INDEX[e.dst] for e in EDGES], dtype=np.int16)
#: Where the Darién crossing ends (Panama): its crossings' deaths are recorded there.
DARIEN_END = int(EDGE_DST[EDGE_INDEX[DARIEN]])

MAX_PATH_EDGES = 11
PATHS_PER_PAIR = 3


@dataclass(eq=False)  # compared and hashed by identity: one table per flight price, shared
class PathTable:
    """All candidate paths, as padded arrays (the movement step indexes them per agent).
    The arrays are read-only: one table serves every model with the same flight price."""

    nodes: np.ndarray  # (P, MAX_PATH_EDGES + 1) int16, -1 padded
    edges: np.ndarray  # (P, MAX_PATH_EDGES) int16, -1 padded
    n_edges: np.ndarray  # (P,) int16
    start: np.ndarray  # (P,) int16
    end: np.ndarray  # (P,) int16
    land_km: np.ndarray  # (P,) float64
    n_air: np.ndarray  # (P,) int16
    restricted_to: np.ndarray  # (P,) int16: origin index the path is limited to, or -1
    crosses: np.ndarray = field(repr=False, default=None)  # (P, E) bool: path uses edge

    @cached_property
    def by_start(self) -> dict[int, np.ndarray]:
        return {s: np.flatnonzero(self.start == s) for s in np.unique(self.start)}

    @cached_property
    def towards_origin(self) -> np.ndarray:
        """(P, O) bool: whether the path is, for a migrant moving on from a host, a step
        back the way they came: it ends nearer the origin's country than it starts
        (great-circle, between the countries' representative points; Peru to Ecuador to
        Colombia, for a Venezuelan), without crossing the Darién or ending in the United
        States. Those are the way north, nearer the Caribbean origins as the crow flies
        (Haitians from Chile) but not back. Never for an origin without a point
        (extra-continental)."""
        km = np.array([[great_circle_km(o, c) for c in CODES] for o in ORIGINS])  # (O, C)
        north = self.crosses[:, EDGE_INDEX[DARIEN]] | (self.end == INDEX["USA"])
        out = (km[:, self.end] < km[:, self.start]).T & ~north[:, None]
        out.flags.writeable = False
        return out

    def alternatives(
        self, start: int, origin: int, exclude_ends: tuple[int, ...] = ()
    ) -> np.ndarray:
        """Paths an origin's migrant at ``start`` may take (not ending in ``exclude_ends``)."""
        cand = self.by_start.get(start, np.empty(0, dtype=np.int64))
        ok = (self.restricted_to[cand] < 0) | (self.restricted_to[cand] == origin)
        ok &= ~np.isin(self.end[cand], exclude_ends)
        return cand[ok]


def _keep_distinct(found: list[tuple[float, list[int]]]) -> list[list[int]]:
    """The cheapest paths of one (start, end) pair: the cheapest through the Darién and the
    cheapest avoiding it are always kept (so enforcement there has an alternative to weigh),
    then the next cheapest up to PATHS_PER_PAIR, dropping detours over three times as long."""
    darien = EDGE_INDEX[DARIEN]
    ranked = sorted(found, key=lambda item: (item[0], item[1]))
    best = ranked[0][0]
    kept: list[list[int]] = []
    for wants_darien in (True, False):
        for _, edge_ids in ranked:
            if (darien in edge_ids) == wants_darien:
                kept.append(edge_ids)
                break
    for cost, edge_ids in ranked:
        if len(kept) >= PATHS_PER_PAIR:
            break
        if edge_ids not in kept and cost <= 3.0 * best + 1000.0:
            kept.append(edge_ids)
    return kept


@lru_cache(maxsize=16)
def build_paths(air_km_equivalent: float = 1500.0) -> PathTable:
    """Enumerate simple paths from every node to every host; keep the cheapest few per pair.

    Cost for ranking is land distance plus ``air_km_equivalent`` per flight. Paths through a
    host are kept (a Venezuelan bound for the US walks through Colombia and Panama). No path
    ends in Panama straight after the Darién: under Panama's "controlled flow" operation
    (with Costa Rica, since 2016) migrants arriving from the jungle are taken on to the
    Costa Rican border, so the Darién is a transit route, not a way to settle in Panama."""
    out: dict[tuple[int, int], list[tuple[float, list[int]]]] = {}
    adjacency: dict[str, list[int]] = {c: [] for c in CODES}
    for i, e in enumerate(EDGES):
        adjacency[e.src].append(i)

    def walk(start: str, node: str, visited: set[str], edge_ids: list[int], cost: float):
        if edge_ids and node in HOSTS and edge_ids[-1] != EDGE_INDEX[DARIEN]:
            out.setdefault((INDEX[start], INDEX[node]), []).append((cost, list(edge_ids)))
        if len(edge_ids) >= MAX_PATH_EDGES:
            return
        for ei in adjacency[node]:
            e = EDGES[ei]
            if e.dst in visited:
                continue
            if e.kind == "air" and edge_ids:  # flights only leave the starting country
                continue
            step = air_km_equivalent if e.kind == "air" else EDGE_KM[ei]
            edge_ids.append(ei)
            visited.add(e.dst)
            walk(start, e.dst, visited, edge_ids, cost + step)
            visited.discard(e.dst)
            edge_ids.pop()

    for code in CODES:
        walk(code, code, {code}, [], 0.0)

    rows: list[list[int]] = []
    for key in sorted(out):
        rows.extend(_keep_distinct(out[key]))

    n_paths = len(rows)
    nodes = np.full((n_paths, MAX_PATH_EDGES + 1), -1, dtype=np.int16)
    edges = np.full((n_paths, MAX_PATH_EDGES), -1, dtype=np.int16)
    restricted = np.full(n_paths, -1, dtype=np.int16)
    for p, edge_ids in enumerate(rows):
        nodes[p, 0] = EDGE_SRC[edge_ids[0]]
        for k, ei in enumerate(edge_ids):
            edges[p, k] = ei
            nodes[p, k + 1] = EDGE_DST[ei]
            only = EDGES[ei].nationals_only
            if only is not None:
                restricted[p] = ORIGIN_INDEX[only]
    n_edges = np.array([len(r) for r in rows], dtype=np.int16)
    crosses = np.zeros((n_paths, len(EDGES)), dtype=bool)
    for p, edge_ids in enumerate(rows):
        crosses[p, edge_ids] = True
    table = PathTable(
        nodes=nodes,
        edges=edges,
        n_edges=n_edges,
        start=nodes[:, 0].copy(),
        end=nodes[np.arange(n_paths), n_edges].astype(np.int16),
        land_km=np.array([EDGE_KM[r].sum() for r in rows]),
        n_air=np.array([EDGE_IS_AIR[r].sum() for r in rows], dtype=np.int16),
        restricted_to=restricted,
        crosses=crosses,
    )
    # enumerating the paths takes longer than a short run's month; a calibration or a sweep
    # builds thousands of models with a handful of flight prices, so tables are cached and
    # shared, hence frozen
    for name in ("nodes", "edges", "n_edges", "start", "end", "land_km", "n_air",
                 "restricted_to", "crosses"):  # fmt: skip
        getattr(table, name).flags.writeable = False
    return table
