"""How this model works, and what it cannot tell you."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from migflow.app import runs

ROOT = Path(__file__).resolve().parent.parent.parent
ODD = ROOT / "docs" / "ODD.md"
CALIBRATION_REPORT = ROOT / "docs" / "calibration.md"
SCENARIOS_DOC = ROOT / "docs" / "scenarios.md"

st.title("How this model works, and what it cannot tell you")

posterior, why = runs.load_posterior_safely()
if posterior is None:
    st.warning(
        "The behavioural parameters are **uncalibrated starting values** "
        f"({why}). Treat absolute numbers as illustrative; differences between scenarios "
        "run with the same seed show each lever's mechanism."
    )
else:
    st.success("A calibration posterior is shipped: see the calibration report below.")

st.markdown(
    """
### How it works

* **People, not averages.** Each migrant (or, at the default scale, each group of 100 people)
  is an agent with an origin, a location, a status (in transit, irregular, regularised,
  returned, dead) and a path. Countries are agents holding the policies.
* **A month in five steps.** (1) People leave their country at a rate driven by push factors
  (an assumed index per origin), the diaspora already abroad and root-cause funding.
  (2) They choose a destination and route together, weighing opportunity, their own diaspora,
  open regularisation programmes, distance, the risk of death and enforcement.
  (3) They travel: enforcement stops some crossings (deported, expelled or stranded, who may
  try again); people can die in the Darién Gap, crossing Central America and Mexico, and at
  the US border, at rates taken from IOM's counts; legal pathways take people who would
  otherwise travel irregularly, up to their places.
  (4) In a host, people are regularised (programmes, ordinary channels, US asylum), receive
  integration services, move on or return. (5) Everything is counted.
* **Levers are policy, parameters are behaviour.** The sidebar's levers are the instruments of
  the Los Angeles Declaration statements: integration funding, regularisation
  programmes, legal pathways, enforcement, asylum processing, root-cause funding. How strongly
  people respond to them is set by parameters that calibration fits to documented figures.
* **Same seed, same random numbers.** A scenario and its baseline share their random draws,
  so the difference between them is the effect of the levers, not chance.

### What it cannot tell you

* **Absolute numbers are not forecasts.** Calibration fits the parameters to documented
  figures of 2015-2023 (without it they are starting values; the banner above says which).
  The baseline holds the policies of 2024-2025 as they happened, then keeps them; the push
  factors after 2023 are assumed levels, so later years are what-ifs, not projections.
* **The 2023 wave is short and uncertain.** The model puts about 390,000 to 440,000 people
  through the Darién in 2023, against 520,085 counted by Panama, and too few of them are
  Venezuelans (about 130,000 to 160,000 against 328,650) and too many Haitians (about 100,000
  to 130,000 against 46,422); 2022 is too high (about 270,000 to 330,000 against 248,284).
  How big a wave grows is sensitive in the model, so effects of levers on the Darién in
  2023-like conditions are uncertain.
* **It starts empty.** Nobody who left before the start year (2015) is abroad, so modelled
  stocks fall short of published ones, and old diasporas (e.g. in the US) barely pull.
* **Costs are unit costs.** Each lever is priced by what it did in the run times a cost per
  person (a regularisation, a visa, a parole arrival, a removal) from public sources, some
  of them rough; patrols and staff are not priced. The sources are in `docs/levers.md`.
* **Waiting for a legal pathway rests on one episode.** How many people wait for a parole
  place instead of crossing the Darién is fitted to the months after the US parole of
  January 2023, when Cubans and Haitians in the Darién fell; larger pathways are an
  extrapolation from it.
* **The pull of regularisation rests on one episode.** How strongly an open programme draws
  newcomers is fitted to the 2021 rush of Haitians towards the US after its Temporary
  Protected Status for Haiti; a programme with no arrival cut-off may pull more people than
  it would in reality.
* **Enforcement is a probability, not a budget.** The model cannot say what money buys what
  interdiction rate.
* **Deaths are expected values.** The model multiplies each crossing by a death rate from
  IOM's counts; it does not know who dies, and IOM's own counts are minimums.
* **Geography is coarse.** One point per country; no sea routes, no Caribbean islands, no
  Mexican emigrants; the US stands for its southwest border.
* **Countries do not react.** Policies are fixed by the scenario; hosts do not grow
  congested and there is no backlash.

The full list is in the model description (ODD), § 8 "What the model cannot tell you".
"""
)

st.subheader("Read more")
if ODD.is_file():
    st.markdown(
        "* The model description in the ODD protocol: `docs/ODD.md` (shown below).\n"
        "* The scenario-file reference, every lever and parameter: `docs/scenarios.md`.\n"
        "* This app: `docs/app.md`."
    )
    with st.expander("The model description (docs/ODD.md)"):
        st.markdown(ODD.read_text(encoding="utf-8"))
report = CALIBRATION_REPORT
if report.is_file():
    with st.expander(f"The calibration report ({report.relative_to(ROOT)})"):
        st.markdown(report.read_text(encoding="utf-8"))
else:
    st.info(
        "The calibration report (`docs/calibration.md`) is not shipped yet; it will appear "
        "here when calibration lands."
    )
if SCENARIOS_DOC.is_file():
    with st.expander("The scenario-file reference (docs/scenarios.md)"):
        st.markdown(SCENARIOS_DOC.read_text(encoding="utf-8"))
