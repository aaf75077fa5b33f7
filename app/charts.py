"""Plotly figures: time series with documented figures, the flow diagram, comparisons.

Every documented point is a separate trace named after its publisher ("documented: Panama
Servicio Nacional de Migración") with the full source and period in its hover text, so a
reader can always tell simulated lines from published figures. Annual flows are drawn at the
middle of their year, stocks at the end of theirs, documented figures likewise at the middle
(flows) or end (stocks) of their own period (a US fiscal year runs October to September).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from migflow.model.geography import DARIEN, ORIGINS
from migflow.model.outcomes import MAIN_HOSTS, rounded, signed
from migflow.model.results import Results

from .documented import documented_until, midpoint, month_end, points
from .state import country_name

SCENARIO_COLOUR = "#1f5aa6"
BASELINE_COLOUR = "#7f7f7f"
DOCUMENTED_COLOUR = "#d62728"
MORE_COLOUR, FEWER_COLOUR = "#d62728", "#1f77b4"  # a change against the baseline
PALETTE = qualitative.Plotly + qualitative.D3
ORIGIN_COLOURS = {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(ORIGINS)}
HOST_COLOURS = {h: qualitative.Safe[i] for i, h in enumerate(MAIN_HOSTS)}
MODELLED_NATIONALITIES = tuple(o for o in ORIGINS if o != "XCO")

#: Edges that run back towards the origins (returns, back-and-forth in South America). The
#: flow diagram leaves them out, so it reads left to right: origin → transit → host.
BACK_EDGES = ("COL-VEN", "ECU-COL", "PER-ECU", "CHL-PER", "ARG-CHL", "NIC-CRI")


@dataclass(frozen=True)
class Series:
    title: str
    column: str
    y_title: str
    quantity: str | None = None  # documented quantity drawn over the lines
    nationalities: tuple[str, ...] | None = None
    note: str = ""


SERIES: dict[str, Series] = {
    "darien": Series(
        "Darién crossings per year",
        "darien_crossings",
        "people a year",
        "darien_crossings",
        note="Documented: irregular crossings into Panama recorded by Panama's migration service "
        "(all nationalities, including some the model does not have).",
    ),
    "us": Series(
        "Arrivals at the US southwest border per year",
        "us_border_arrivals",
        "people a year",
        "us_border_arrivals",
        MODELLED_NATIONALITIES,
        note="Documented: CBP encounters of the modelled nationalities, by US fiscal year "
        "(Oct–Sep); encounters count repeat crossings; Mexicans are outside the model.",
    ),
    "regularisations": Series(
        "People regularised per year", "regularisations", "people a year", note=""
    ),
    "pathways": Series(
        "Legal pathway arrivals per year", "legal_pathway_arrivals", "people a year", note=""
    ),
    "deaths": Series(
        "Deaths in the Darién per year (expected)",
        "expected_deaths_darien",
        "people a year",
        "darien_deaths",
        note="Documented: IOM Missing Migrants Project, a minimum count (revised upwards). "
        "Modelled: the expected number, each crossing's probability of dying summed over the "
        "crossings (deaths drawn one agent at a time come in steps of 100 people at the "
        "default scale).",
    ),
}


def _mid_year(years) -> list[pd.Timestamp]:
    return [midpoint(f"{y}-01", f"{y}-12") for y in years]


def _year_end(years) -> list[pd.Timestamp]:
    return [month_end(f"{y}-12") for y in years]


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=y_title,
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
        hovermode="x unified",
        showlegend=True,
    )
    fig.update_yaxes(rangemode="tozero", separatethousands=True)
    return fig


def _documented_traces(fig: go.Figure, pts: pd.DataFrame, colour: str, prefix: str = "") -> None:
    for label, group in pts.groupby("label", sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["x"],
                y=group["value"],
                mode="markers",
                name=f"{prefix}documented: {label}",
                marker={"color": colour, "size": 9, "symbol": "diamond", "line": {"width": 1}},
                customdata=group[["period", "source"]].to_numpy(),
                hovertemplate="%{y:,.0f} (%{customdata[0]})<br>%{customdata[1]}"
                "<extra>documented</extra>",
            )
        )


def _mark_projection(fig: go.Figure, documented: pd.DataFrame | None) -> None:
    """Shade the years after the last documented figure: there the lines are the model's
    alone (history as it happened is only an input there, its counts are not used). Drawn as
    a plain shape and note (``add_vrect`` takes 20-30 ms a chart to place the same two)."""
    until = documented_until(documented)
    ends = [max(trace.x) for trace in fig.data if trace.x is not None and len(trace.x)]
    last = max((pd.Timestamp(x) for x in ends), default=None)
    if until is None or last is None or last <= until:
        return
    fig.add_shape(
        type="rect", xref="x", yref="y domain", x0=until, x1=last, y0=0, y1=1,
        fillcolor="#888888", opacity=0.08, layer="below", line_width=0,
    )  # fmt: skip
    fig.add_annotation(
        xref="x", yref="y domain", x=until, y=1, xanchor="left", yanchor="top",
        text=f"after {until.year}: model only, no documented counts",
        showarrow=False, font_size=11,
    )  # fmt: skip


def _band_trace(fig: go.Figure, x, band: pd.DataFrame, colour: str, name: str) -> None:
    fig.add_trace(
        go.Scatter(x=x, y=band["hi"], mode="lines", line={"width": 0}, showlegend=False,
                   hoverinfo="skip")
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x,
            y=band["lo"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=_alpha(colour, 0.18),
            name=name,
            hoverinfo="skip",
        )
    )


def _alpha(hex_colour: str, alpha: float) -> str:
    if hex_colour.startswith("rgb"):
        return hex_colour.replace("rgb(", "rgba(").replace(")", f", {alpha})")
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def series_figure(
    key: str,
    results: Results,
    baseline: Results | None,
    documented: pd.DataFrame | None = None,
    band: pd.DataFrame | None = None,
    names: tuple[str, str] = ("scenario", "baseline"),
) -> go.Figure:
    """One yearly indicator: scenario line, baseline line, documented points, band."""
    spec = SERIES[key]
    fig = go.Figure()
    x = _mid_year(results.summary["year"])
    if band is not None:
        _band_trace(fig, x, band, SCENARIO_COLOUR, f"{names[0]}: 5–95% of posterior draws")
    if baseline is not None:
        fig.add_trace(
            go.Scatter(
                x=_mid_year(baseline.summary["year"]),
                y=baseline.summary[spec.column],
                name=names[1],
                mode="lines",
                line={"color": BASELINE_COLOUR, "dash": "dash"},
                hovertemplate="%{y:,.0f}",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=results.summary[spec.column],
            name=names[0],
            mode="lines+markers",
            line={"color": SCENARIO_COLOUR, "width": 3},
            marker={"size": 4},
            hovertemplate="%{y:,.0f}",
        )
    )
    if documented is not None and spec.quantity is not None:
        pts = points(documented, spec.quantity, months=12, nationalities=spec.nationalities)
        _documented_traces(fig, pts, DOCUMENTED_COLOUR)
    _mark_projection(fig, documented)
    return _layout(fig, spec.title, spec.y_title)


def venezuelans_figure(
    results: Results,
    baseline: Results | None,
    documented: pd.DataFrame | None = None,
    bands: dict[str, pd.DataFrame] | None = None,
    names: tuple[str, str] = ("scenario", "baseline"),
) -> go.Figure:
    """Venezuelans in each main host at the end of each year, with UNHCR's end-year counts."""
    fig = go.Figure()
    x = _year_end(results.summary["year"])
    for host in MAIN_HOSTS:
        colour, col, name = HOST_COLOURS[host], f"venezuelans_in_{host}", country_name(host)
        if bands and host in bands:
            _band_trace(fig, x, bands[host], colour, f"{name}: 5–95% of posterior draws")
        if baseline is not None:
            fig.add_trace(
                go.Scatter(
                    x=_year_end(baseline.summary["year"]),
                    y=baseline.summary[col],
                    name=f"{name} ({names[1]})",
                    mode="lines",
                    line={"color": colour, "dash": "dot", "width": 1.5},
                    hovertemplate="%{y:,.0f}",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=results.summary[col],
                name=f"{name} ({names[0]})",
                mode="lines",
                line={"color": colour, "width": 3},
                hovertemplate="%{y:,.0f}",
            )
        )
        if documented is not None:
            pts = points(documented, "stock", country=host, nationalities=("VEN",))
            _documented_traces(fig, pts, colour, prefix=f"{name}: ")
    _mark_projection(fig, documented)
    return _layout(fig, "Venezuelans in the main hosts (end of year)", "people", height=460)


def darien_monthly_figure(
    results: Results, baseline: Results | None, documented: pd.DataFrame | None = None,
    names: tuple[str, str] = ("scenario", "baseline"),
) -> go.Figure:  # fmt: skip
    """Darién crossings per month, with the documented monthly counts (2020-2021)."""
    fig = go.Figure()
    for res, name, style in (
        (baseline, names[1], {"color": BASELINE_COLOUR, "dash": "dash"}),
        (results, names[0], {"color": SCENARIO_COLOUR, "width": 2}),
    ):
        if res is None:
            continue
        f = res.flows[res.flows["edge"] == DARIEN]
        monthly = f.groupby("month", observed=False)["people"].sum()
        x = [midpoint(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in monthly.index]
        fig.add_trace(go.Scatter(x=x, y=monthly.to_numpy(), name=name, mode="lines", line=style,
                                 hovertemplate="%{y:,.0f}"))  # fmt: skip
    if documented is not None:
        _documented_traces(fig, points(documented, "darien_crossings", months=1), DOCUMENTED_COLOUR)
    _mark_projection(fig, documented)
    return _layout(fig, "Darién crossings per month", "people a month")


def flow_links(
    results: Results, years: tuple[int, int], origins: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """People crossing each forward route edge over ``years``, by origin (edge, origin, people)."""
    f = results.flows
    year = f["month"].astype("datetime64[ns]").dt.year
    keep = (year >= years[0]) & (year <= years[1]) & ~f["edge"].astype(str).isin(BACK_EDGES)
    if origins is not None:
        keep &= f["origin"].astype(str).isin(origins)
    links = (
        f[keep]
        .assign(edge=lambda d: d["edge"].astype(str), origin=lambda d: d["origin"].astype(str))
        .groupby(["edge", "origin"], as_index=False)["people"]
        .sum()
    )
    return links[links["people"] > 0].reset_index(drop=True)


def _sankey(
    links: pd.DataFrame, colours: list[str], numbers: list[str], legend: dict[str, str],
    node_numbers: bool, title: str,
) -> go.Figure:  # fmt: skip
    """A left-to-right Sankey of ``links`` (edge, origin, people >= 0), each link coloured and
    numbered as given, with ``legend`` (name: colour) beside it; a Sankey has no legend of
    its own, so the entries are markers off any axis."""
    countries = sorted(
        set(links["edge"].str.split("-").str[0]) | set(links["edge"].str.split("-").str[1]),
        key=lambda c: (c not in ORIGINS, c),
    )
    index = {c: i for i, c in enumerate(countries)}
    hover = [
        f"{country_name(o)}: {country_name(e.split('-')[0])} → {country_name(e.split('-')[1])}"
        + (" (the Darién)" if e == DARIEN else "")
        + f": {n} people"
        for e, o, n in zip(links["edge"], links["origin"], numbers, strict=True)
    ]
    names = [country_name(c).split(" (")[0] for c in countries]
    if node_numbers:  # the larger of what enters and what leaves, as the node's height shows
        names = [
            f"{name} " + rounded(max(
                links.loc[links["edge"].str.endswith(f"-{c}"), "people"].sum(),
                links.loc[links["edge"].str.startswith(f"{c}-"), "people"].sum(),
            ))
            for name, c in zip(names, countries, strict=True)
        ]  # fmt: skip
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            domain={"x": [0.0, 0.84]},  # the legend to the right of it
            node={"label": names, "pad": 18, "thickness": 14, "color": "#cfd8e3",
                  "hovertemplate": "%{label}<extra></extra>"},
            link={
                "source": [index[e.split("-")[0]] for e in links["edge"]],
                "target": [index[e.split("-")[1]] for e in links["edge"]],
                "value": links["people"].to_numpy(),
                "color": colours,
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
        )
    )  # fmt: skip
    for name, colour in legend.items():
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=name,
            marker={"size": 12, "color": colour, "symbol": "square"},
        ))  # fmt: skip
    fig.update_layout(
        title=title, height=620, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"visible": False}, yaxis={"visible": False}, plot_bgcolor="white",
    )  # fmt: skip
    return fig


def sankey_figure(
    results: Results, years: tuple[int, int], origins: tuple[str, ...] | None = None
) -> go.Figure:
    """Origin → transit → host: people crossing each border over ``years``, coloured by
    nationality. A country's node is as tall as the larger of what enters and what leaves it;
    the part that enters and does not leave stayed there (or returned, or is still on its way)."""
    links = flow_links(results, years, origins)
    fig = _sankey(
        links,
        [_alpha(ORIGIN_COLOURS[o], 0.55) for o in links["origin"]],
        [rounded(p) for p in links["people"]],
        {country_name(o): ORIGIN_COLOURS[o] for o in dict.fromkeys(links["origin"])},
        node_numbers=True,
        title=f"Who crossed which border, {years[0]}–{years[1]}: people in all, "
        "colour = nationality",
    )
    fig.update_layout(legend={"title": {"text": "Nationality"}})
    return fig


def sankey_change_figure(
    results: Results, baseline: Results, years: tuple[int, int],
    origins: tuple[str, ...] | None = None,
) -> go.Figure:  # fmt: skip
    """The change against ``baseline`` of the people crossing each border over ``years``, by
    nationality: each link as wide as the change, red where more cross, blue where fewer."""
    keys = ["edge", "origin"]
    both = (
        flow_links(results, years, origins)
        .merge(flow_links(baseline, years, origins), on=keys, how="outer", suffixes=("", "_base"))
        .fillna(0.0)
    )
    change = both["people"] - both["people_base"]
    links = both.assign(people=change.abs())[change.abs() >= 0.5].reset_index(drop=True)
    signs = change[change.abs() >= 0.5].to_numpy()
    return _sankey(
        links,
        [_alpha(MORE_COLOUR if v > 0 else FEWER_COLOUR, 0.6) for v in signs],
        [signed(v) for v in signs],
        {"more than the baseline": MORE_COLOUR, "fewer than the baseline": FEWER_COLOUR},
        node_numbers=False,
        title=f"Change against the baseline in who crossed which border, {years[0]}–{years[1]}",
    )


def percent_change_figure(table: pd.DataFrame, reference: str) -> go.Figure:
    """Change of each indicator against ``reference``, in percent, one bar per scenario."""
    fig = go.Figure()
    ref = table[reference]
    for i, name in enumerate(c for c in table.columns if c != reference):
        pct = (table[name] - ref) / ref.where(ref != 0) * 100
        fig.add_trace(
            go.Bar(
                y=table.index,
                x=pct,
                name=name,
                orientation="h",
                marker_color=PALETTE[(i + 1) % len(PALETTE)],
                customdata=(table[name] - ref).to_numpy(),
                texttemplate="%{x:+.1f}%",
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{x:+.1f}% (%{customdata:+,.0f})<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title=f"Change against {reference} (%)",
        barmode="group",
        height=120 + 36 * len(table.index) * max(1, len(table.columns) - 1) ** 0.5,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        yaxis={"autorange": "reversed"},
        xaxis_title="% change (blank: the reference is 0)",
        legend={"orientation": "h", "yanchor": "top", "y": -0.1},
    )
    return fig


def difference_figure(
    named: list[tuple[str, Results]], column: str, title: str,
    documented: pd.DataFrame | None = None,
) -> go.Figure:  # fmt: skip
    """Yearly difference of ``column`` for each scenario minus the first one; the years after
    the last of the ``documented`` figures shaded as the model's alone."""
    ref_name, ref = named[0]
    fig = go.Figure()
    base = ref.summary.set_index("year")[column]
    for i, (name, res) in enumerate(named[1:]):
        diff = res.summary.set_index("year")[column] - base
        fig.add_trace(
            go.Bar(
                x=diff.index,
                y=diff.to_numpy(),
                name=name,
                marker_color=PALETTE[(i + 1) % len(PALETTE)],
                hovertemplate="%{y:+,.0f}",
            )
        )
    fig.add_hline(y=0, line_color="#444", line_width=1)
    fig.update_layout(
        title=f"{title}: difference from {ref_name}",
        barmode="group",
        height=380,
        yaxis_title="people (scenario minus reference)",
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
    )
    until = documented_until(documented)
    last = max(int(r.summary["year"].max()) for _, r in named)
    if until is not None and last > until.year:
        fig.add_vrect(
            x0=until.year + 0.5, x1=last + 0.5, fillcolor="#888888", opacity=0.08,
            layer="below", line_width=0, annotation_position="top left",
            annotation_text=f"after {until.year}: model only, no documented counts",
            annotation_font_size=11,
        )  # fmt: skip
    return fig
