"""The what-if page's sidebar: pick or upload a scenario, change its levers, run it.

Widget values live in ``st.session_state`` under keys starting with ``lv_``; a copy kept in
``lv_saved`` puts them back when the user returns from another page (Streamlit forgets the
values of widgets that are not drawn). Picking or uploading a scenario applies it
at once and resets the levers; the levers are changes on top of it and apply when the user
presses "Run scenario". The scenario whose results the page shows is kept as TOML text in
``st.session_state["applied_toml"]``.
"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

from migflow.model.errors import InputError
from migflow.model.scenario import Scenario, dumps_scenario, loads_scenario

from . import state
from .state import (
    BORDERS,
    HOSTS,
    MAX_FUNDING_MUSD,
    MAX_PLACES,
    MAX_SERVED,
    PATHWAYS,
    ROOT_CAUSE_ORIGINS,
    LeverInputs,
    country_name,
)

UPLOAD_PREFIX = "upload: "
SCALES = (10, 20, 50, 100, 200, 500, 1000)
DEFAULT_CHANGE_START = state.DEFAULT_CHANGE_START


def base_options() -> list[str]:
    """Shipped scenario names (baseline first), then uploaded ones."""
    return [*state.shipped_scenarios(), *st.session_state.get("uploads", {})]


def base_scenario(choice: str) -> Scenario:
    uploads = st.session_state.get("uploads", {})
    if choice in uploads:
        return loads_scenario(uploads[choice], source=choice)
    return state.shipped_scenario(choice)


# The applied scenario is read on every page run; scenarios are immutable, so its text
# (which names everything it holds) is parsed once.
@lru_cache(maxsize=64)
def _scenario_from_text(text: str) -> Scenario:
    return loads_scenario(text, source="app")


def applied_scenario() -> Scenario:
    """The scenario whose results are shown (the baseline until the user picks another)."""
    if "applied_toml" not in st.session_state:
        st.session_state["base_choice"] = "baseline"
        base = base_scenario("baseline")
        reset_levers(base)
        st.session_state["applied_toml"] = dumps_scenario(base)
    return _scenario_from_text(st.session_state["applied_toml"])


def reset_levers(base: Scenario) -> None:
    """Put every lever widget back to 'no change' for ``base``."""
    ss = st.session_state
    months = state.months_between(base.start, base.end)
    start = DEFAULT_CHANGE_START if DEFAULT_CHANGE_START in months else months[len(months) // 2]
    ss["lv_period"] = (start, base.end)
    ss["lv_version"] = ss.get("lv_version", 0) + 1
    for host in HOSTS:
        ss[f"lv_int_{host}"] = 0.0
        ss[f"lv_srv_{host}"] = 0.0
        ss[f"lv_reg_{host}"] = 0.0
    ss["lv_reg_origins"] = ["VEN"]
    ss["lv_reg_cutoff"] = True
    for key in PATHWAYS:
        ss[f"lv_path_{key}"] = 0.0
    defaults = {edge: float(state.enforcement_at(base, edge, start)) for edge in BORDERS}
    for edge, value in defaults.items():
        ss[f"lv_enf_{edge}"] = value
    ss["lv_asylum"] = round(state.asylum_at(base, start))
    ss["lv_defaults"] = {"enforcement": defaults, "asylum": ss["lv_asylum"]}
    for origin in ROOT_CAUSE_ORIGINS:
        ss[f"lv_rc_{origin}"] = 0.0
    ss["lv_name"] = ""
    ss["lv_seed"] = int(base.seed)
    ss["lv_scale"] = int(base.scale)


def _on_base_change() -> None:
    base = base_scenario(st.session_state["base_choice"])
    reset_levers(base)
    st.session_state["applied_toml"] = dumps_scenario(base)
    st.session_state["message"] = None
    st.session_state["upload_message"] = None


def _on_reset() -> None:
    reset_levers(base_scenario(st.session_state["base_choice"]))
    st.session_state["message"] = None


def _on_upload() -> None:
    ss = st.session_state
    uploaded = ss.get("upload")
    if uploaded is None:  # the file was taken away: its message goes with it
        ss["upload_message"] = None
        return
    try:
        scenario = state.scenario_from_upload(uploaded.getvalue(), uploaded.name)
    except InputError as exc:
        ss["upload_message"] = ("error", f"Upload refused: {exc}")
        return
    label = UPLOAD_PREFIX + scenario.name
    ss.setdefault("uploads", {})[label] = dumps_scenario(scenario)
    ss["base_choice"] = label
    reset_levers(scenario)
    ss["applied_toml"] = dumps_scenario(scenario)
    ss["message"] = None
    ss["upload_message"] = ("success", f"Loaded {uploaded.name}: {scenario.name}.")


def _on_run() -> None:
    """Run the levers as they are in the boxes (before the page is drawn again, so the boxes
    can still be corrected): out-of-range entries are brought inside their range and said so,
    and levers that cannot make a scenario are refused in words, both beside the button."""
    ss = st.session_state
    period = ss.get(f"period_widget_{ss.get('lv_version', 0)}")
    if period is not None:
        ss["lv_period"] = tuple(period)
    fixed, notes = state.corrected({k: ss[k] for k in state.number_boxes() if k in ss})
    ss.update(fixed)
    inputs = inputs_from_widgets()
    problems = state.lever_problems(inputs)
    if problems:
        ss["message"] = ("error", " ".join(["Cannot run these levers.", *notes, *problems]))
        return
    try:
        scenario = state.build_scenario(base_scenario(ss["base_choice"]), inputs)
    except InputError as exc:
        ss["message"] = ("error", f"Cannot run these levers. {state.in_words(exc)}")
        return
    ss["applied_toml"] = dumps_scenario(scenario)
    ss["message"] = ("warning", " ".join(["Run with corrections.", *notes])) if notes else None
    ss["upload_message"] = None  # what is shown now is this run, not the last upload


def _show(box, message) -> None:
    if message:
        {"error": box.error, "warning": box.warning, "success": box.success}[message[0]](message[1])


def _allowed(key: str) -> str:
    box = state.number_boxes()[key]
    return f" Allowed: {box.low:,.0f} to {box.high:,.0f}."


def _money(label: str, key: str, help: str, step: float = 10.0) -> None:
    st.number_input(label, step=step, format="%.1f", key=key, help=help + _allowed(key))


def _people(label: str, key: str, help: str, step: float = 1000.0) -> None:
    st.number_input(label, step=step, format="%.0f", key=key, help=help + _allowed(key))


def lever_widgets(base: Scenario) -> None:
    """The lever widgets (inside the sidebar form), grouped as the seed documents group them."""
    ss = st.session_state
    months = state.months_between(base.start, base.end)
    # The range is kept in ``lv_period``; the widget's key changes when the levers are reset,
    # so its default is never also set through the Session State API.
    ss["lv_period"] = st.select_slider(
        "Changes apply from … to … (months, inclusive)",
        options=months,
        value=tuple(ss["lv_period"]),  # a pair makes it a range slider
        key=f"period_widget_{ss.get('lv_version', 0)}",
        help="Every change below starts in the first month and stops after the second. "
        "Funding is spent at a twelfth of the yearly amount each month.",
    )
    start = ss["lv_period"][0]
    with st.expander("Integration funding and services, per host"):
        st.caption(
            f"Extra funding ($ million a year, up to {MAX_FUNDING_MUSD:,.0f}) buys integration "
            "services for settled "
            "migrants, with diminishing returns; 'served' adds people reached directly a "
            f"month (up to {MAX_SERVED:,.0f}), e.g. integration centres."
        )
        for host in HOSTS:
            st.markdown(f"**{country_name(host)}**")
            c1, c2 = st.columns(2)
            with c1:
                _money(
                    "$M a year",
                    f"lv_int_{host}",
                    f"Extra integration funding in {country_name(host)}, $ million a year "
                    "Integrated migrants return and move on less and apply more to "
                    "regularisation programmes (docs/scenarios.md § 5.1).",
                )
            with c2:
                _people(
                    "served/mo",
                    f"lv_srv_{host}",
                    f"Extra people a month given integration services in {country_name(host)} "
                    "without a cost in the model.",
                )
    with st.expander("Regularisation programmes"):
        st.caption(
            f"A new programme per host: places a month (up to {MAX_PLACES:,.0f}). Eligibility "
            "below."
        )
        for host in HOSTS:
            _people(
                f"{country_name(host)}: places/month",
                f"lv_reg_{host}",
                f"Places a month in a new regularisation programme in {country_name(host)} "
                "A share of the eligible migrants without papers apply each month "
                "(a share fitted to the documented figures); an open programme "
                "also draws newcomers who could still qualify.",
            )
        st.multiselect(
            "Open to nationals of",
            state.REGULARISATION_ORIGINS,
            key="lv_reg_origins",
            format_func=country_name,
            help="Origins eligible for the new programmes (at least one).",
        )
        st.checkbox(
            "Only people who arrived before the changes start",
            key="lv_reg_cutoff",
            help="A cut-off like Colombia's TPS (arrived before 31 January 2021). Without it, "
            "newcomers qualify too, and the programme attracts them.",
        )
    with st.expander("Legal pathways"):
        st.caption(
            f"Extra places a year (up to {MAX_PLACES:,.0f}) on legal routes that replace "
            "irregular journeys."
        )
        for key, preset in PATHWAYS.items():
            existing = state.pathway_capacity(base, preset, start)
            _people(
                f"{preset.label}: extra places/yr",
                f"lv_path_{key}",
                f"{preset.help} Already open in this scenario in {start}: {existing:,.0f} a year.",
            )
    with st.expander("Enforcement at the borders"):
        st.caption(
            "Probability (0–1) that one irregular crossing is stopped, from the changes' "
            "start. It also deters people from the route."
        )
        for edge, label in BORDERS.items():
            st.slider(
                f"{label}: interdiction",
                min_value=0.0,
                max_value=1.0,
                step=0.05,
                key=f"lv_enf_{edge}",
                help=f"Share of irregular crossings of {edge} stopped (0 = none, 1 = closed; "
                f"{ss['lv_defaults']['enforcement'][edge]:.2f} in this scenario at {start}). "
                "Stopped migrants are deported or stranded and may try again"
                + (
                    "; in the Darién enforcement also raises the risk of death."
                    if edge == "COL-PAN"
                    else "."
                ),
            )
        st.slider(
            "US asylum processing time (months)",
            min_value=1,
            max_value=120,
            step=1,
            key="lv_asylum",
            help="Months to decide an asylum case at the US (1–120; "
            f"{ss['lv_defaults']['asylum']} in this scenario). Shorter means grants and "
            "removals come sooner; the share of cases granted stays as it is.",
        )
    with st.expander("Root-cause funding, per origin"):
        st.caption(
            f"$ million a year (up to {MAX_FUNDING_MUSD:,.0f}). Lowers emigration with a lag "
            "(24 months by default), "
            "up to a maximum share, with diminishing returns; the effect persists."
        )
        for origin in ROOT_CAUSE_ORIGINS:
            _money(
                f"{country_name(origin)}: $M/yr",
                f"lv_rc_{origin}",
                f"Root-cause funding in {country_name(origin)}, $ million a year.",
                step=25.0,
            )
    with st.expander("Advanced: name, seed and scale"):
        st.text_input(
            "Name of your scenario",
            key="lv_name",
            max_chars=80,
            help="Used in the downloads; empty: '<scenario>_edited'.",
        )
        st.number_input(
            "Random seed",
            step=1,
            key="lv_seed",
            help=f"A whole number from 0 to {state.number_boxes()['lv_seed'].high:,}. Same "
            "scenario and seed give "
            "identical results; the "
            "baseline is run with the same seed, so differences are the levers' effect.",
        )
        options = sorted({*SCALES, int(ss["lv_scale"])})
        st.selectbox(
            "Scale (people per agent)",
            options,
            key="lv_scale",
            help="1–100,000 people per simulated agent. 100 runs 2015–2030 in about a second; "
            "smaller is finer (less sampling noise in small flows) but slower.",
        )


def inputs_from_widgets() -> LeverInputs:
    ss = st.session_state
    defaults = ss["lv_defaults"]
    enforcement = {}
    for edge in BORDERS:
        value = float(ss[f"lv_enf_{edge}"])
        enforcement[edge] = None if abs(value - defaults["enforcement"][edge]) < 1e-9 else value
    asylum = int(ss["lv_asylum"])
    return LeverInputs(
        start=ss["lv_period"][0],
        end=ss["lv_period"][1],
        integration_musd={h: ss[f"lv_int_{h}"] for h in HOSTS},
        integration_services={h: ss[f"lv_srv_{h}"] for h in HOSTS},
        regularisation={h: ss[f"lv_reg_{h}"] for h in HOSTS},
        regularisation_origins=tuple(ss["lv_reg_origins"]),
        regularisation_cutoff=bool(ss["lv_reg_cutoff"]),
        pathways={k: ss[f"lv_path_{k}"] for k in PATHWAYS},
        enforcement=enforcement,
        asylum_months=None if asylum == defaults["asylum"] else float(asylum),
        root_causes={o: ss[f"lv_rc_{o}"] for o in ROOT_CAUSE_ORIGINS},
        name=ss["lv_name"],
        seed=int(ss["lv_seed"]),
        scale=int(ss["lv_scale"]),
    )


def render_sidebar() -> Scenario:
    """Draw the sidebar; return the scenario to show (after applying a submitted form)."""
    applied_scenario()  # initialises the session on the first visit
    for key, value in st.session_state.get("lv_saved", {}).items():
        if key not in st.session_state:  # back from another page
            st.session_state[key] = value
    sb = st.sidebar
    sb.header("Scenario")
    options = base_options()
    if st.session_state.get("base_choice") not in options:
        st.session_state["base_choice"] = "baseline"
    titles = state.scenario_titles()
    sb.selectbox(
        "Start from",
        options,
        key="base_choice",
        format_func=lambda name: titles.get(name, name),
        on_change=_on_base_change,
        help="A shipped scenario (history without one instrument, or with more of it from "
        "2026) or one you uploaded. Picking one runs it at once.",
    )
    sb.file_uploader(
        "…or upload a scenario (TOML, at most 1,000 kB)",
        type=["toml"],
        key="upload",
        on_change=_on_upload,
        # no limit in the browser: a file refused there leaves the last message standing;
        # the size is checked with the rest of the file (state.scenario_from_upload)
        help="A scenario file as `migflow run` reads it (docs/scenarios.md). It is only "
        "parsed and validated; it may extend only a file in scenarios/.",
    )
    _show(sb, st.session_state.get("upload_message"))
    base = base_scenario(st.session_state["base_choice"])
    with sb.form("levers", border=False):
        st.subheader("Change levers")
        lever_widgets(base)
        st.form_submit_button("Run scenario", type="primary", width="stretch", on_click=_on_run)
    _show(sb, st.session_state.get("message"))  # beside the button, in sight when pressing it
    sb.button("Reset levers", on_click=_on_reset, width="stretch")
    ss = st.session_state
    ss["lv_saved"] = {k: ss[k] for k in list(ss) if str(k).startswith("lv_") and k != "lv_saved"}
    return applied_scenario()
