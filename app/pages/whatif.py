"""What if …? The scenario against the baseline: indicators, time series, flows, downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from migflow.app import brief, charts, documented, downloads, indicators, route_map, runs
from migflow.app.sidebar import applied_scenario, render_sidebar
from migflow.app.state import changes_from

# The browser draws the page in the order it arrives, so the headlines go first and the
# sidebar's fifty-odd lever boxes after them; the scenario is known before the sidebar is
# drawn (its buttons apply their changes in callbacks, before this script runs).
scenario = applied_scenario()

st.title("What if …? Migrant flows in the Americas")
results, baseline, reference, seconds = runs.run_with_baseline(scenario)
is_baseline = results is baseline
calibrated, status = runs.calibration_status(results)
(st.success if calibrated else st.warning)(
    status, icon=":material/verified:" if calibrated else ":material/warning:"
)

st.markdown(
    f"**{scenario.shown_title}**  \n{scenario.description or 'no description'}  \n"
    f"{scenario.start} to {scenario.end} · file name {scenario.name} · seed {scenario.seed} · "
    f"{scenario.scale} people per agent · computed in {seconds:.1f} s (cached runs return at "
    "once)"
)
if is_baseline:
    st.info(
        "This is the baseline. Pick a scenario or change levers in the sidebar and press "
        "**Run scenario** to see what changes."
    )
else:
    added = changes_from(scenario, reference)
    left_out = changes_from(reference, scenario)
    with st.expander(
        f"What differs from the baseline ({len(added)} lever entries added, "
        f"{len(left_out)} of the baseline's left out)"
    ):
        # plain tables: an interactive one loads a heavy script the first time it is shown
        for rows, what in ((added, "Added"), (left_out, "The baseline's, left out")):
            if rows:
                st.markdown(f"**{what}**")
                st.table(pd.DataFrame(rows).set_index("lever"))
        if not added and not left_out:
            st.caption("No lever differs: only the name or the seed does.")

# ------------------------------------------------------------------ headline indicators
years = indicators.years_of(results)
# From the scenario's first change until the user moves the window; then where they put it,
# whatever the scenario (a slider's key that follows the default makes Streamlit draw it anew
# at the new default when the scenario changes).
moved = st.session_state.get("window_moved", False)
if moved:
    chosen = st.session_state["window"]
else:
    chosen = indicators.default_period(years, indicators.first_change_year(scenario, reference))
chosen = tuple(min(max(y, years[0]), years[-1]) for y in chosen)
slider_key = "window_slider" if moved else f"window_slider_{chosen[0]}_{chosen[1]}"


def _window_moved(key: str) -> None:
    st.session_state["window"] = st.session_state[key]
    st.session_state["window_moved"] = True


period = st.select_slider(
    "Years the figures cover",
    options=years,
    value=chosen,
    key=slider_key,
    on_change=_window_moved,
    args=(slider_key,),
    help="Every figure below is read over these years: flows per year or in total, "
    "Venezuelans at the end of the last year. By default from the first year the scenario "
    "changes something to the end (for the baseline, from this year); once you move it, it "
    "stays where you put it when you change scenario.",
)
st.session_state["window"] = period
note = indicators.earlier_change(scenario, reference, period)
if note:
    st.info(note)

st.subheader("Headline indicators")
span = f"{period[0]}–{period[1]}" if period[0] != period[1] else str(period[0])
st.caption(
    f"Per-year figures are averages over {span}; totals are summed over {span}; Venezuelans "
    f"are counted at the end of {period[1]}."
    + ("" if is_baseline else " Below each value: the change against the baseline.")
)
if not is_baseline:
    paired = None
    if st.session_state.get("bands"):  # the bands below are on: give the changes intervals
        k = int(st.session_state.get("band_k", 10))
        paired = runs.paired_band_summaries(reference, scenario, k)
    st.markdown(indicators.change_sentence(results, baseline, period, paired))
heads = indicators.headline(results, baseline, period)
for row in range(0, len(heads), 3):
    for col, ind in zip(st.columns(3), heads[row : row + 3], strict=False):
        col.metric(
            ind.label,
            indicators.fmt(ind.value, ind.unit),
            None if is_baseline else indicators.fmt_change(ind),
            delta_color="off",  # neutral grey: more or fewer is not in itself good or bad
            delta_arrow=indicators.arrow(ind),
            help=f"{ind.help} Baseline: {indicators.fmt(ind.baseline, ind.unit)}.",
            border=True,
        )
if not is_baseline:
    value = indicators.costs(results, baseline, period)
    for col, cost in zip(st.columns(len(value)), value, strict=True):
        col.metric(
            cost.label,
            "n/a" if cost.usd is None else indicators.fmt_usd(cost.usd),
            help=cost.help,
            border=True,
        )
        if cost.usd is None:
            col.caption(cost.why)
        elif cost.usd < 0:
            col.caption("Negative: this scenario costs less than the baseline and does more.")
    st.caption(
        "Costs: every lever's extra spending against the baseline, at the unit costs of "
        "docs/levers.md. Not priced: patrols, border staff and detention (enforcement costs "
        "only its removals home), and removals from Mexico and Central America."
    )
    st.download_button(
        "Brief for a meeting (HTML, prints to PDF)",
        # made when pressed: the charts' script makes it a few megabytes
        data=lambda: brief.brief_html(
            scenario, reference, results, baseline, period, status, paired
        ),
        file_name=f"{downloads.file_stem(scenario.name)}_brief.html",
        mime="text/html",
        help="One page to print or send: the question, these changes (with their 90% "
        "intervals when the uncertainty bands are on), costs, three charts, the levers and the "
        "evidence they rest on, and the scenario files that reproduce it. Opens offline.",
        key="download_brief",
    )
st.caption(
    "Differences use the same seed for both runs (common random numbers), so they show the "
    "levers' effect, not noise. Absolute numbers depend on the parameters (see the banner above)."
)

render_sidebar()

# ------------------------------------------------------------------ charts
shown_baseline = None if is_baseline else baseline
# A widget not drawn in a run loses its value; the chart tabs' widgets are drawn only while
# their tab is open, so their values are carried over here (Streamlit's documented way).
# (Their defaults are set here too, not in the widgets: a widget may not have both.)
for key, default in (
    ("bands", False),
    ("band_k", 10),
    ("map_change", False),
    ("sankey_change", False),
    ("flow_origins", list(charts.ORIGINS)),
):
    st.session_state[key] = st.session_state.get(key, default)
table, documented_path = documented.load_documented()
# Only the chosen tab is computed and drawn (switching tabs reruns the page): the browser
# shows nothing of a page until it has drawn all of it, and the charts' library (Plotly) alone
# takes 2-3 s to load there on a 2-core machine. So a visit opens on the year-by-year table,
# which draws at once, and each chart tab is drawn when chosen.
tab_years, tab_series, tab_map, tab_flows, tab_data = st.tabs(
    ["Year by year", "Time series", "Map", "Flows", "Tables and downloads"],
    key="view",
    on_change="rerun",
)

if tab_years.open:
    with tab_years:
        st.table(indicators.yearly_table(results, shown_baseline, period).T)
        until = documented.documented_until(table)
        st.caption(
            f"Each year of {span}: flows in that year, Venezuelans at its end"
            + ("" if is_baseline else "; in brackets, the change against the baseline")
            + ". The charts (Time series) set them against the documented figures"
            + (f" through {until.year}." if until is not None else ".")
        )

if tab_series.open:
    with tab_series:
        band_summaries = None
        posterior, why = runs.load_posterior_safely()
        if posterior is None:
            st.info(f"Uncertainty: {runs.NO_POSTERIOR} ({why}).")
        else:
            c1, c2 = st.columns([1, 2])
            show = c1.checkbox(
                "Show uncertainty bands",
                key="bands",
                help="Runs the scenario once per posterior draw, same seed; the band spans the "
                "5th to 95th percentile of those runs (parameter uncertainty only).",
            )
            k = c2.slider("Posterior draws", 5, 40, key="band_k")
            if show:
                band_runs = runs.band_runs(scenario, k) or []
                band_summaries = [r.summary for r in band_runs] or None
            if band_summaries:
                outside = indicators.outside_band(results.summary, band_summaries)
                st.caption(
                    f"Bands: the 5th–95th percentile of {k} runs of this scenario, one per "
                    "parameter set drawn from the calibration posterior, all with the same seed. "
                    "The line is the run everyone sees (the calibrated point estimate), which the "
                    "posterior's spread need not contain"
                    + (
                        f": here it lies outside the band in {outside:.0%} of the years of the "
                        "series drawn, a sign that the point estimate and the posterior ensemble "
                        "disagree (see the calibration report)."
                        if outside > 0
                        else "."
                    )
                )
        names = ("this scenario", "baseline")
        left, right = st.columns(2)
        for i, key in enumerate(("darien", "us", "regularisations", "pathways", "deaths")):
            column = charts.SERIES[key].column
            band = indicators.band(band_summaries, column) if band_summaries else None
            fig = charts.series_figure(key, results, shown_baseline, table, band, names)
            (left if i % 2 == 0 else right).plotly_chart(fig, key=f"chart_{key}")
            if charts.SERIES[key].note:
                (left if i % 2 == 0 else right).caption(charts.SERIES[key].note)
        host_bands = (
            {h: indicators.band(band_summaries, f"venezuelans_in_{h}") for h in charts.MAIN_HOSTS}
            if band_summaries
            else None
        )
        right.plotly_chart(
            charts.darien_monthly_figure(results, shown_baseline, table, names), key="chart_monthly"
        )
        right.caption(
            "Documented: Panama's monthly counts, 2020–2021 (none in April, May, July 2020)."
        )
        st.plotly_chart(
            charts.venezuelans_figure(results, shown_baseline, table, host_bands, names),
            key="chart_venezuelans",
        )
        st.caption(
            "Documented: UNHCR end-year counts of Venezuelans (refugees, asylum-seekers and "
            "others in need of protection) and figures from the Los Angeles Declaration "
            "statements. The model counts only those who left since its start year, so it falls "
            "short of stocks built up before."
        )
        if documented_path is not None:
            where = documented_path.relative_to(documented.ROOT)
            st.caption(f"Documented figures read from `{where}`.")

if tab_map.open:
    with tab_map:
        change = not is_baseline and st.toggle("Change against the baseline", key="map_change")
        st.plotly_chart(
            route_map.map_figure(results, baseline, period, change=change), key="chart_map"
        )
        st.caption(
            "Each line joins two countries' points (capitals; the United States at its southwest "
            "border) and is as wide as the people crossing that way a year on average, over the "
            "years chosen above; dashed lines are flights. Numbers are on the eight largest; "
            "hover over a line for its figure. Only crossings that succeed are counted (an "
            "attempt stopped at a border is not), and returns and back-and-forth moves are left "
            "out."
        )

if tab_flows.open:
    with tab_flows:
        origins = st.multiselect(
            "Nationalities",
            charts.ORIGINS,
            format_func=charts.country_name,
            key="flow_origins",
        )
        if origins:
            if not is_baseline and st.toggle("Change against the baseline", key="sankey_change"):
                fig = charts.sankey_change_figure(results, baseline, period, tuple(origins))
            else:
                fig = charts.sankey_figure(results, period, tuple(origins))
            st.plotly_chart(fig, key="chart_sankey")
            st.caption(
                "People crossing each border in the years chosen above, left to right from origin "
                "through transit to host; returns and back-and-forth moves are left out. What "
                "enters a country and does not leave it stayed there, returned, died on the way "
                "or was still on the way."
            )
        else:
            st.info("Pick at least one nationality.")

if tab_data.open:
    with tab_data:
        st.markdown("**Yearly summary** (whole window)")
        st.dataframe(results.summary, hide_index=True)
        stem = downloads.file_stem(scenario.name)
        toml_text = st.session_state["applied_toml"]
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "Results (CSV, zip)",
            runs.packed_results(toml_text, "csv", results, scenario),
            file_name=f"{stem}_results_csv.zip",
            mime="application/zip",
            help="stocks, flows, events, spending, summary as CSV, plus manifest.json and "
            "scenario.toml",
            key="download_csv",
        )
        c2.download_button(
            "Results (Parquet, zip)",
            runs.packed_results(toml_text, "parquet", results, scenario),
            file_name=f"{stem}_results_parquet.zip",
            mime="application/zip",
            help="The same files `migflow run --out` writes, plus scenario.toml",
            key="download_parquet",
        )
        c3.download_button(
            "Scenario (TOML)",
            downloads.scenario_toml(scenario),
            file_name=f"{stem}.toml",
            mime="application/toml",
            help="The scenario with every lever written out; `migflow run` accepts it and "
            "reproduces these results.",
            key="download_toml",
        )
