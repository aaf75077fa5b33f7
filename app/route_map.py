"""The map: countries and routes, each route drawn as wide as the people crossing it.

Drawn on plain longitude-latitude axes from country shapes shipped with the app
(``data/americas.geojson``, Natural Earth, see ``data/README.md``), not on a map service: an
offline ministry machine reaches no tile server, and Plotly's own maps fetch their outlines
from a CDN. Routes run between the model's country points (capitals; the US point is its
southwest border); flights are dashed. The second view shows the change against the baseline:
red where more people cross, blue where fewer, as wide as the change.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from migflow.model.geography import COUNTRIES, DARIEN, EDGE_INDEX, EDGES
from migflow.model.outcomes import rounded, signed
from migflow.model.results import Results

from .charts import FEWER_COLOUR, MORE_COLOUR, flow_links
from .state import country_name

SHAPES = Path(__file__).resolve().parent / "data" / "americas.geojson"
MORE, FEWER, FLOW = MORE_COLOUR, FEWER_COLOUR, "#1f5aa6"
WIDEST = 18.0  # pixels, for the largest flow (or change) on the map
LABELS = 8  # routes with their number written on the map (the largest)
#: degrees between the numbers written on routes: the Central American chain's routes carry
#: the same people and lie a few degrees apart, so their numbers would print on each other
LABEL_GAP = 4.0
#: where each country's name goes against its point: the isthmus's capitals are a degree or
#: two apart, so their names fan out to both sides instead of all to the left
NAME_POSITION = {
    "GTM": "top left", "SLV": "bottom left", "HND": "top right", "NIC": "middle right",
    "CRI": "bottom left", "PAN": "bottom right", "COL": "middle right", "ECU": "middle left",
    "VEN": "top right",
}  # fmt: skip
#: the frame: Mexico's north to Chile's south
LON, LAT = (-118.0, -34.0), (-56.0, 36.0)


@cache
def country_outlines() -> tuple[list[float | None], list[float | None]]:
    """Every country's outline as one line of points, rings separated by None."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for feature in json.loads(SHAPES.read_text(encoding="utf-8"))["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            ring = polygon[0]
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
    return xs, ys


def edge_flows(results: Results, baseline: Results | None, years: tuple[int, int]) -> pd.DataFrame:
    """People a year crossing each route over ``years`` (edge, people, and with a baseline
    the baseline's figure and the change), for routes between two mapped countries."""
    n_years = years[1] - years[0] + 1

    def per_year(r: Results) -> pd.Series:
        return flow_links(r, years).groupby("edge")["people"].sum() / n_years

    table = pd.DataFrame({"people": per_year(results)})
    if baseline is not None:
        table = table.join(per_year(baseline).rename("baseline"), how="outer").fillna(0.0)
        table["change"] = table["people"] - table["baseline"]
    mapped = [e for e in table.index if all(COUNTRIES[c][1] is not None for c in e.split("-"))]
    return table.loc[mapped].rename_axis("edge").reset_index()


def map_figure(
    results: Results, baseline: Results | None, years: tuple[int, int], change: bool = False
) -> go.Figure:
    """The routes over ``years``: people a year on each, or (``change``) the difference from
    ``baseline``, drawn to scale on a map of the countries."""
    flows = edge_flows(results, baseline if change else None, years)
    column = "change" if change else "people"
    flows = flows[flows[column].abs() >= 0.5]
    fig = go.Figure()
    xs, ys = country_outlines()
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="lines", fill="toself", fillcolor="#eef1f5",
        line={"color": "#9aa5b1", "width": 0.6}, hoverinfo="skip", showlegend=False,
    ))  # fmt: skip
    largest = float(flows[column].abs().max()) if len(flows) else 0.0
    for row in flows.sort_values(column, key=np.abs).itertuples():
        value = getattr(row, column)
        src, dst = row.edge.split("-")
        (y0, x0), (y1, x1) = (COUNTRIES[src][1:3], COUNTRIES[dst][1:3])
        air = EDGES[EDGE_INDEX[row.edge]].kind == "air"
        colour = FLOW if not change else (MORE if value > 0 else FEWER)
        words = f"{country_name(src)} → {country_name(dst)}" + (
            " (the Darién)" if row.edge == DARIEN else " (by air)" if air else ""
        )
        figure = signed(value) if change else rounded(value)
        fig.add_trace(go.Scatter(
            x=[x0, x1], y=[y0, y1], mode="lines",
            line={"color": colour, "width": max(1.0, WIDEST * abs(value) / largest),
                  "dash": "dash" if air else "solid"},
            opacity=0.75, showlegend=False,
            hovertemplate=f"{words}: {figure} people a year<extra></extra>",
        ))  # fmt: skip
    # numbers on the largest routes only, at their middle, apart from each other
    spots = route_labels(flows, column)
    fig.add_trace(go.Scatter(
        x=[x for x, _, _ in spots], y=[y for _, y, _ in spots],
        text=[signed(v) if change else rounded(v) for _, _, v in spots],
        mode="text", textfont={"size": 11, "color": "#222"}, hoverinfo="skip", showlegend=False,
    ))  # fmt: skip
    mapped = [c for c, v in COUNTRIES.items() if v[1] is not None]
    fig.add_trace(go.Scatter(
        x=[COUNTRIES[c][2] for c in mapped], y=[COUNTRIES[c][1] for c in mapped],
        text=[country_name(c).split(" (")[0] for c in mapped], mode="markers+text",
        textposition=[NAME_POSITION.get(c, "middle left") for c in mapped],
        textfont={"size": 10, "color": "#555"},
        marker={"size": 5, "color": "#555"}, hoverinfo="skip", showlegend=False,
    ))  # fmt: skip
    _legend(fig, change, largest)
    span = f"{years[0]}–{years[1]}" if years[0] != years[1] else str(years[0])
    title = (
        f"Change in people crossing each route a year against the baseline, {span}"
        if change
        else f"People crossing each route, a year on average, {span}"
    )
    fig.update_layout(
        title=title, height=720, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        plot_bgcolor="#d8e6f3", legend={"x": 0.01, "y": 0.01, "bgcolor": "rgba(255,255,255,0.8)"},
    )  # fmt: skip
    fig.update_xaxes(range=LON, visible=False)
    fig.update_yaxes(range=LAT, visible=False, scaleanchor="x", scaleratio=1)
    return fig


def route_labels(flows: pd.DataFrame, column: str) -> list[tuple[float, float, float]]:
    """(longitude, latitude, value) of the numbers written on routes: at each route's middle,
    the largest routes first, at most ``LABELS``, and none within ``LABEL_GAP`` degrees of
    one already placed (a route there goes unlabelled; its figure is in its hover text)."""
    spots: list[tuple[float, float, float]] = []
    for row in flows.reindex(flows[column].abs().sort_values(ascending=False).index).itertuples():
        src, dst = row.edge.split("-")
        x = (COUNTRIES[src][2] + COUNTRIES[dst][2]) / 2
        y = (COUNTRIES[src][1] + COUNTRIES[dst][1]) / 2
        if all(np.hypot(x - a, y - b) >= LABEL_GAP for a, b, _ in spots):
            spots.append((x, y, getattr(row, column)))
        if len(spots) == LABELS:
            break
    return spots


def _legend(fig: go.Figure, change: bool, largest: float) -> None:
    """What colours and widths mean, as legend entries (lines off the map)."""
    entries = (
        [(MORE, "solid", "more than the baseline"), (FEWER, "solid", "fewer than the baseline")]
        if change
        else [(FLOW, "solid", "over land or the Darién")]
    ) + [("#555", "dash", "by air")]
    for colour, dash, name in entries:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="lines", name=name,
            line={"color": colour, "dash": dash, "width": 4},
        ))  # fmt: skip
    if largest:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="lines",
            name=f"widest line: {'a change of ' if change else ''}{rounded(largest)} people a year",
            line={"color": "#555", "width": WIDEST},
        ))  # fmt: skip
