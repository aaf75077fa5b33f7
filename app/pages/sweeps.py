"""Sweeps: start a small parameter sweep, or browse one, without writing code.

A self-contained page. A small sweep (a few levers of a short menu, their ranges, a run
budget) is built in plain words (``app.sweep_builder``), written as the sweep file
``migflow sweep`` reads and run by that command in a process of its own, whose progress the
page follows from the runs stored. Any sweep under
``results/sweeps/`` (the app's own, or one written by ``migflow sweep --out
results/sweeps/NAME``) can then be read: the outcome distributions, the sensitivity indices
with their confidence intervals, and the PRIM box for a goal the user sets. Only folders
under ``results/sweeps/`` are offered: the page never opens a path typed by a user.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from migflow.app import state
from migflow.app.sweep_builder import (
    LEVERS,
    MAX_RUNS,
    MIN_RUNS,
    SCALES,
    SWEEPS_DIR,
    launch,
    sweep_file,
    sweep_folder,
    sweep_log,
    sweep_toml,
)
from migflow.model.errors import InputError
from migflow.sweeps import GoalSpec, discover, indices, load_results
from migflow.sweeps.store import RUNS, SWEEP_JSON


def _signature(folder: str) -> tuple:
    """Changes whenever runs are added, so cached tables refresh during a running sweep."""
    batches = sorted((Path(folder) / RUNS).glob("batch-*.parquet"))
    return (len(batches), batches[-1].name if batches else "")


@st.cache_resource(max_entries=4, show_spinner="Reading the sweep...")
def _load(folder: str, signature: tuple):
    return load_results(folder)


@st.cache_data(max_entries=8, show_spinner="Computing sensitivity indices...")
def _indices(folder: str, signature: tuple) -> tuple[pd.DataFrame, list[str]]:
    return indices(_load(folder, signature))


def _start_sweep() -> None:
    """Check the form's sweep, then start it (``sweep_builder.launch``); the page follows it
    from the runs stored in its folder."""
    from migflow.sweeps.spec import sweep_from_dict

    ss = st.session_state
    chosen = ss.get("sw_levers") or []
    ranges = {k: (float(ss[f"sw_low_{k}"]), float(ss[f"sw_high_{k}"])) for k in chosen}
    try:
        data = sweep_file(
            ss["sw_name"], ss["sw_base"], ranges, int(ss["sw_runs"]), int(ss["sw_from"]),
            int(ss["sw_scale"]),
        )  # fmt: skip
        out = sweep_folder(ss["sw_name"])
        if out.exists() or sweep_toml(out).exists():
            raise InputError(
                f"a sweep named {out.name!r} exists; give this one another name", source="sweep"
            )
        sweep_from_dict(data, source="sweep")  # every check before anything is written
    except InputError as exc:
        st.error(f"Cannot start this sweep. {exc}")
        return
    launch(data, out)
    st.success(f"Sweep {out.name!r} started: {int(ss['sw_runs']):,} runs. Its results fill in "
               "below as they come.")  # fmt: skip
    ss["sweep_folder"] = str(out)


@st.fragment(run_every="3s")
def _follow(folder: str, starting: bool = False) -> None:
    """A running sweep's progress, read again every few seconds (``starting``: before its
    first runs are stored); the whole page again once there is more to show."""
    if starting:
        if (Path(folder) / SWEEP_JSON).exists():
            st.rerun()
        log = sweep_log(Path(folder))
        last = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        st.info(
            "Starting the sweep on this machine..." + (f" Last message: {last[0]}" if last else "")
        )
        return
    res = _load(folder, _signature(folder))
    if res.complete:
        st.rerun()
    st.progress(
        res.stored / max(res.expected, 1),
        text=f"{res.stored:,} of {res.expected:,} runs stored (this refreshes by itself)",
    )


def _known_folders() -> list[str]:
    """Sweep folders under results/sweeps/: those of migflow sweep, and those the app has
    just started."""
    if not SWEEPS_DIR.is_dir():
        return []
    done = {p.parent for p in SWEEPS_DIR.glob(f"*/{SWEEP_JSON}")}
    started = {p.with_suffix("") for p in SWEEPS_DIR.glob("*.log")}
    return sorted(str(p) for p in done | {s for s in started if sweep_toml(s).is_file()})


st.title("Parameter sweeps")
st.caption(
    "Run one scenario many times with a few levers varied over ranges, to see which lever "
    "drives an outcome and under which settings a goal holds."
)

known = _known_folders()
with st.expander("Start a small sweep", expanded=not known):
    titles = state.scenario_titles()
    with st.form("new_sweep", border=False):
        st.text_input("Name of the sweep", value="my_sweep", max_chars=60, key="sw_name")
        st.selectbox(
            "Scenario to vary", list(titles), format_func=titles.get, key="sw_base",
        )  # fmt: skip
        st.multiselect(
            "Levers to vary (one to three)", list(LEVERS), default=["darien_enforcement"],
            format_func=lambda k: LEVERS[k].words, max_selections=3, key="sw_levers",
        )  # fmt: skip
        st.caption(
            "Ranges, for the levers chosen above (the others are ignored): each run draws "
            "one value of each lever from its range."
        )
        for key, lever in LEVERS.items():
            c1, c2 = st.columns(2)
            c1.number_input(f"{lever.words}: from", value=lever.default[0], key=f"sw_low_{key}")
            c2.number_input("to", value=lever.default[1], key=f"sw_high_{key}")
        c1, c2, c3 = st.columns(3)
        c1.slider(
            "Runs", MIN_RUNS, MAX_RUNS, 32, step=8, key="sw_runs",
            help="Each run takes about a second at 1,000 people per agent on two cores.",
        )  # fmt: skip
        c2.selectbox("From year", list(range(state.THIS_YEAR, 2030)), key="sw_from",
                     help="The levers act from January of this year; outcomes are read from "
                     "it to 2030.")  # fmt: skip
        c3.selectbox("People per agent", SCALES, key="sw_scale",
                     help="Larger is faster and coarser.")  # fmt: skip
        started = st.form_submit_button("Start the sweep", type="primary")
    if started:
        _start_sweep()
        known = _known_folders()

if not known:
    st.info("No sweep yet under results/sweeps/: start one above.")
    st.stop()
if st.session_state.get("sweep_folder") not in known:
    st.session_state["sweep_folder"] = known[-1]
folder = st.selectbox(
    "Sweep",
    known,
    key="sweep_folder",
    format_func=lambda f: Path(f).name,
    help="The sweeps under results/sweeps/: the app's, and those run with "
    "`migflow sweep FILE --out results/sweeps/NAME`.",
)

if not (Path(folder) / SWEEP_JSON).exists():
    _follow(folder, starting=True)
    st.stop()
try:
    signature = _signature(folder)
    res = _load(folder, signature)
except InputError as exc:
    st.error(str(exc))
    st.stop()

plan = res.plan
ok = res.ok
# The goal widgets below keep their values across reruns; a goal set for another sweep
# folder (or, for the threshold, another outcome) would be shown for this one without this.
_GOAL_KEYS = ("prim_outcome", "prim_side", "prim_threshold", "prim_density", "prim_over")
if st.session_state.get("_prim_folder") != folder:
    for key in _GOAL_KEYS:
        st.session_state.pop(key, None)
    st.session_state["_prim_folder"] = folder
cols = st.columns(4)
cols[0].metric("runs stored", f"{res.stored:,} / {res.expected:,}")
cols[1].metric("failed runs", f"{res.failed:,}")
cols[2].metric("sampler", plan.file.sampler.method)
cols[3].metric("seeds per point", len(plan.seeds))
if not res.complete:
    _follow(folder)
    st.warning(
        "The sweep is incomplete (stopped, or still running). `migflow sweep "
        f"{sweep_toml(Path(folder))} --out {folder}` finishes it without repeating a run "
        "(for a sweep started in the app)."
    )
with st.expander("Inputs and outcomes"):
    st.markdown("\n".join(f"- {i.describe()}" for i in plan.inputs))
    st.markdown(
        "\n".join(
            f"- **{name}**: {o.indicator}, {o.span[0]}-{o.span[1]}"
            + (" (minus the base scenario)" if o.difference else "")
            for name, o in plan.outcomes.items()
        )
    )
if ok.empty:
    st.info("No successful runs stored yet.")
    st.stop()

outcomes = list(plan.outcomes)
tab_dist, tab_si, tab_prim, tab_runs = st.tabs(
    ["Outcomes", "Sensitivity", "Scenario discovery", "Runs"]
)

with tab_dist:
    outcome = st.selectbox("Outcome", outcomes, key="dist_outcome")
    values = ok[outcome].dropna()
    st.caption(f"{len(values):,} runs with a value")
    st.plotly_chart(px.histogram(ok, x=outcome, nbins=40, title=f"Distribution of {outcome}"))
    against = st.selectbox("Against input", plan.input_names, key="dist_input")
    st.plotly_chart(
        px.scatter(ok, x=against, y=outcome, opacity=0.5, title=f"{outcome} by {against}")
    )

with tab_si:
    table, notes = _indices(folder, signature)
    for note in notes:
        st.info(note)
    if table.empty:
        st.write("No outcome could be analysed.")
    else:
        si_outcome = st.selectbox(
            "Outcome", list(dict.fromkeys(table["outcome"])), key="si_outcome"
        )
        t = table[table["outcome"] == si_outcome]
        fig = go.Figure()
        if t["method"].iloc[0] == "morris":
            fig.add_bar(
                y=t["input"], x=t["mu_star"], orientation="h", name="mu*",
                error_x={"type": "data", "array": t["mu_star_conf"]},
            )  # fmt: skip
        else:
            fig.add_bar(
                y=t["input"], x=t["S1"], orientation="h", name="first order",
                error_x={"type": "data", "array": t["S1_conf"]},
            )  # fmt: skip
            if t["ST"].notna().any():
                fig.add_bar(
                    y=t["input"], x=t["ST"], orientation="h", name="total",
                    error_x={"type": "data", "array": t["ST_conf"]},
                )  # fmt: skip
        fig.update_layout(
            barmode="group",
            title=f"{t['method'].iloc[0]} indices of {si_outcome} (bars: 95% interval)",
            yaxis={"autorange": "reversed"},
        )
        st.plotly_chart(fig)
        st.dataframe(table.dropna(axis=1, how="all"), hide_index=True)

with tab_prim:
    goals = plan.goals
    default = goals[0] if goals else None
    c1, c2, c3 = st.columns(3)
    goal_outcome = c1.selectbox(
        "Outcome",
        outcomes,
        index=outcomes.index(default.outcome) if default else 0,
        key="prim_outcome",
    )
    side = c2.radio(
        "Goal",
        ["below", "above"],
        index=0 if default is None or default.below is not None else 1,
        horizontal=True,
        key="prim_side",
    )
    if default is not None and default.outcome == goal_outcome:
        start = default.below if default.below is not None else default.above
    else:
        start = float(ok[goal_outcome].median())
    if st.session_state.get("_prim_threshold_outcome") != goal_outcome:
        st.session_state.pop("prim_threshold", None)  # another outcome has another scale
        st.session_state["_prim_threshold_outcome"] = goal_outcome
    threshold = c3.number_input("Threshold", value=float(start), key="prim_threshold")
    density = st.slider(
        "Share of runs in the box that must meet the goal",
        0.5, 1.0, float(default.density if default else 0.8), 0.05, key="prim_density",
    )  # fmt: skip
    over = st.radio(
        "Box over",
        ["levers", "inputs"],
        horizontal=True,
        key="prim_over",
        help="levers: the goal must hold across the uncertain parameters and seeds",
    )
    goal = GoalSpec(outcome=goal_outcome, density=density, over=over, **{side: float(threshold)})
    result, used = discover(res, goal)
    m = st.columns(4)
    m[0].metric("goal met in", f"{result.base_density:.0%} of runs")
    m[1].metric("coverage", f"{result.box.coverage:.2f}")
    m[2].metric("density", f"{result.box.density:.2f}")
    m[3].metric("runs in box", f"{result.box.runs:,}")
    if not result.reached:
        st.warning(f"No box reaches density {density:.2f}; the densest box is shown.")
    st.caption(
        f"PRIM on {result.runs:,} runs"
        + (
            " (the independent A and B points of the Saltelli design)"
            if plan.file.sampler.method == "sobol"
            else ""
        )
        + ". qp: chance of a density this high without the restriction (large: likely noise)."
    )
    if result.left_out:
        st.caption(
            f"Left out, no effect on {goal_outcome} in any Saltelli pair: "
            + ", ".join(result.left_out)
        )
    limits = result.limits()
    if limits.empty:
        st.write("The goal needs no restriction of the inputs at this density.")
    else:
        st.dataframe(limits.drop(columns="restricted"), hide_index=True)
    traj = result.trajectory_frame()
    fig = px.scatter(
        traj, x="coverage", y="density", color="restricted", hover_data=["step", "mass", "runs"],
        title="Peeling trajectory: coverage against density",
    )  # fmt: skip
    fig.add_hline(y=density, line_dash="dash")
    fig.add_scatter(
        x=[result.box.coverage], y=[result.box.density], mode="markers", name="chosen box",
        marker={"symbol": "star", "size": 16, "color": "red"},
    )  # fmt: skip
    st.plotly_chart(fig)

with tab_runs:
    st.dataframe(res.runs, hide_index=True)
    st.download_button(
        "Download runs (CSV)",
        res.runs.to_csv(index=False).encode(),
        file_name=f"{plan.name}_runs.csv",
        mime="text/csv",
    )
