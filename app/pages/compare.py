"""Compare two or more scenarios side by side, with a difference chart."""

from __future__ import annotations

import streamlit as st

from migflow.app import charts, documented, indicators, runs, state
from migflow.app.sidebar import SCALES, UPLOAD_PREFIX, applied_scenario, base_scenario
from migflow.model.outcomes import rounded, signed
from migflow.model.scenario import dumps_scenario

CURRENT_PREFIX = "current: "

st.title("Compare scenarios")
st.markdown(
    "Every scenario runs with the **same seed and scale**, so the differences between them "
    "are the effects of their levers (common random numbers), not noise."
)

current = applied_scenario()
shipped = state.shipped_scenarios()
uploads = st.session_state.get("uploads", {})
options = [*shipped, *uploads]
current_label = None
if dumps_scenario(current) not in {
    dumps_scenario(base_scenario(name)) for name in options
}:  # the user's edited scenario is not one of the files: offer it too
    current_label = CURRENT_PREFIX + current.name
    options.append(current_label)

if "cmp_choice" not in st.session_state or any(
    c not in options for c in st.session_state["cmp_choice"]
):
    package = "los_angeles_declaration_more"
    second = current_label or (package if package in options
                               else options[min(1, len(options) - 1)])  # fmt: skip
    st.session_state["cmp_choice"] = ["baseline", second] if second != "baseline" else ["baseline"]

titles = state.scenario_titles()


def shown(label: str) -> str:
    """What a choice is called on the page: its title, in plain words."""
    if label == current_label:
        return CURRENT_PREFIX + current.shown_title
    return titles.get(label, label)


chosen = st.multiselect(
    "Scenarios (the first is the reference)",
    options,
    key="cmp_choice",
    max_selections=6,
    format_func=shown,
    help="Shipped scenarios, files you uploaded on the What-if page "
    f"({UPLOAD_PREFIX}…) and the scenario you edited there ({CURRENT_PREFIX}…).",
)
with st.expander("Seed and scale for all of them"):
    c1, c2 = st.columns(2)
    # no bounds in the browser, where an out-of-range entry would be silently ignored
    seed = c1.number_input(
        "Random seed", value=int(current.seed), step=1, key="cmp_seed",
        help=f"A whole number from 0 to {state.number_boxes()['lv_seed'].high:,}; the same "
        "for every scenario compared.",
    )  # fmt: skip
    seed, seed_note = state.correct(state.number_boxes()["lv_seed"], seed)
    if seed_note:
        c1.warning(seed_note)
    scale = c2.selectbox(
        "Scale (people per agent)", sorted({*SCALES, int(current.scale)}),
        index=sorted({*SCALES, int(current.scale)}).index(int(current.scale)), key="cmp_scale",
        help="1–100,000 people per agent; 100 takes about a second per scenario.",
    )  # fmt: skip

if len(chosen) < 2:
    st.info("Pick two or more scenarios to compare.")
    st.stop()

named = []
for label in chosen:
    scenario = current if label == current_label else base_scenario(label)
    scenario = scenario.with_changes(seed=int(seed), scale=int(scale))
    results, _ = runs.run(scenario)
    named.append((shown(label), results))

common = sorted(set.intersection(*(set(indicators.years_of(r)) for _, r in named)))
if not common:
    st.error("These scenarios have no year in common; compare scenarios with overlapping windows.")
    st.stop()
if len({tuple(indicators.years_of(r)) for _, r in named}) > 1:
    st.warning(
        f"The scenarios cover different years; the comparison uses {common[0]}–{common[-1]}."
    )
period = st.select_slider(
    "Years the indicators cover",
    options=common,
    value=(max(common[0], min(2022, common[-1])), common[-1]),
    key="cmp_period",
    help="Flows per year are averaged, totals summed over these years; stocks are read at the "
    "end of the last one.",
)

table = indicators.comparison_table(named, period)
st.subheader(f"Side by side, {period[0]}–{period[1]}")
height = 35 * (len(table) + 1) + 3  # every row, no inner scrolling
# three significant figures: what the model can tell, not the digits it prints
st.dataframe(table.style.format(rounded), height=height, key="cmp_table")
reference = shown(chosen[0])
diff = table.drop(columns=reference).sub(table[reference], axis=0)
st.markdown(f"**Difference from {reference}** (scenario minus reference)")
st.dataframe(diff.style.format(signed), height=height, key="cmp_diff")
st.plotly_chart(charts.percent_change_figure(table, reference), key="cmp_pct")

series = {spec.title: spec.column for spec in charts.SERIES.values()}
series.update(
    {f"Venezuelans in {state.country_name(h)}": f"venezuelans_in_{h}" for h in charts.MAIN_HOSTS}
)
title = st.selectbox("Year by year", list(series), key="cmp_series")
documented_table, _ = documented.load_documented()
st.plotly_chart(
    charts.difference_figure(named, series[title], title, documented_table), key="cmp_years"
)

# ------------------------------------------------------------------ how sure
st.subheader("How sure are these differences?")
posterior, why = runs.load_posterior_safely()
if posterior is None:
    st.info(f"Intervals appear once a calibration posterior is shipped ({why}).")
    st.stop()
c1, c2 = st.columns([1, 2])
sure = c1.checkbox(
    "Compute 90% intervals", key="cmp_sure",
    help="Runs every scenario once per posterior draw, each draw with the same parameters and "
    "seed for all of them, and shows the spread of each difference (as `migflow compare "
    "--draws` does).",
)  # fmt: skip
k = c2.slider("Posterior draws", 5, 40, 20, key="cmp_k")
if sure:
    if k < 20:
        st.warning(f"{k} draws give a rough interval; use 20 or more for figures you report.")
    reference_scenario = (
        current if chosen[0] == current_label else base_scenario(chosen[0])
    ).with_changes(seed=int(seed), scale=int(scale))
    for label in chosen[1:]:
        other = (current if label == current_label else base_scenario(label)).with_changes(
            seed=int(seed), scale=int(scale)
        )
        bar = st.progress(0.0, text=f"{shown(label)}: running {2 * k} runs")
        pairs = runs.paired_band_summaries(
            reference_scenario, other, k,
            progress=lambda done, total, bar=bar: bar.progress(done / total),
        )  # fmt: skip
        bar.empty()
        differences, value = indicators.difference_intervals(*pairs, period)
        st.markdown(
            f"**{shown(label)} minus {reference}**, {period[0]}–{period[1]}: median and 90% "
            f"interval over {k} posterior draws (three significant figures)"
        )
        st.dataframe(differences, hide_index=True, key=f"cmp_sure_{label}")
        st.dataframe(value, hide_index=True, key=f"cmp_value_{label}")
    st.caption(
        "Costs: every lever's extra spending at the unit costs of docs/levers.md. Not priced: "
        "patrols, border staff and detention, and removals from Mexico and Central America. "
        "A cost per unit is n/a when the effect is not there in every draw."
    )
