"""Posterior bands, defined once: which runs make them and how they are summarised.

``migflow run --draws``, the app's bands and anything else that shows "how sure" use the same
runs (``posterior_runs``) and the same percentiles (``band_of``), so the command line and the
app never disagree about an interval. Draw ``i`` is the ``i``-th parameter set chosen from
the shipped ensemble with the scenario's seed, run with seed ``seed + i``: the interval
carries parameter uncertainty and sampling noise together. Two scenarios with the same seed
get the same draws and seeds, so their bands differ only by the policy (common random
numbers); ``paired_runs`` and ``difference_bands`` give a comparison's differences per draw and
their interval, for ``migflow compare --draws`` and the app alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from migflow.model.errors import InputError
from migflow.model.parameters import Parameters
from migflow.model.run import run_scenarios
from migflow.model.scenario import Scenario

from .posterior import load_posterior

#: The percentiles of every band: a 90% interval around the median.
BAND_PERCENTILES = (5, 50, 95)


def posterior_runs(
    scenario: Scenario, draws: int, posterior=None
) -> list[tuple[Scenario, Parameters]]:
    """The (scenario, parameters) of each of ``draws`` posterior runs of ``scenario``; the
    scenario's own parameter overrides are kept in every draw."""
    posterior = posterior if posterior is not None else load_posterior()
    if posterior is None:
        raise InputError(
            "no calibration posterior is shipped; run `migflow calibrate`", field="--draws"
        )
    if draws < 2:
        raise InputError("needs at least 2 draws", field="--draws")
    sets = posterior.draws(draws, seed=scenario.seed, overrides=dict(scenario.parameters))
    return [
        (scenario.with_changes(seed=(scenario.seed + i) % 2**32), params)
        for i, params in enumerate(sets)
    ]


def band_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p05, median, p95) over the first axis (the draws) of ``values``."""
    low, mid, high = np.percentile(np.asarray(values, dtype=float), BAND_PERCENTILES, axis=0)
    return low, mid, high


def summary_bands(summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Long table (year, indicator, median, p05, p95) of several runs' yearly summaries."""
    stacked = np.stack([s.drop(columns="year").to_numpy() for s in summaries])
    columns = summaries[0].columns.drop("year")
    years = summaries[0]["year"].to_numpy()
    rows = []
    for j, name in enumerate(columns):
        q05, q50, q95 = band_of(stacked[:, :, j])
        rows.append(
            pd.DataFrame({"year": years, "indicator": name, "median": q50, "p05": q05, "p95": q95})
        )
    return pd.concat(rows, ignore_index=True)


def run_draws(scenario: Scenario, draws: int, progress=None) -> pd.DataFrame:
    """Bands of the yearly summary over ``draws`` posterior runs (``summary_bands``), run
    side by side on every core; ``progress(done, total)`` after each run."""
    runs = posterior_runs(scenario, draws)
    return summary_bands(run_scenarios(runs, progress=progress, summary_only=True))


def paired_runs(
    first: Scenario, second: Scenario, draws: int, posterior=None
) -> tuple[list[tuple[Scenario, Parameters]], list[tuple[Scenario, Parameters]]]:
    """The runs of a comparison: draw ``i`` of both sides has the same parameter set and the
    same seed (``first``'s), so each draw's difference carries the policy and its
    uncertainty, not two independent samples of noise (common random numbers). Each side
    keeps its own parameter overrides."""
    posterior = posterior if posterior is not None else load_posterior()
    return (
        posterior_runs(first, draws, posterior),
        posterior_runs(second.with_changes(seed=first.seed), draws, posterior),
    )


def outcome_differences(
    summaries_a: list[pd.DataFrame], summaries_b: list[pd.DataFrame]
) -> pd.DataFrame:
    """Per draw and outcome (``model/outcomes.py``, over the whole window: flows summed,
    stocks at the end): the value of each side and the difference B - A."""
    from migflow.model.outcomes import OUTCOMES

    rows = []
    for draw, (sa, sb) in enumerate(zip(summaries_a, summaries_b, strict=True)):
        first, last = int(sa["year"].min()), int(sa["year"].max())
        for outcome in OUTCOMES:
            a, b = outcome.over(sa, first, last), outcome.over(sb, first, last)
            rows.append(
                {"draw": draw, "outcome": outcome.name, "a": a, "b": b, "difference": b - a}
            )
    return pd.DataFrame(rows)


def difference_bands(per_draw: pd.DataFrame) -> pd.DataFrame:
    """Median and 90% interval of each side and of the difference, per outcome (in the
    order of the outcome registry), from ``outcome_differences``."""
    rows = []
    for name, part in per_draw.groupby("outcome", sort=False):
        row = {"outcome": name, "draws": len(part)}
        for column in ("a", "b", "difference"):
            low, mid, high = band_of(part[column].to_numpy())
            row |= {f"{column}_median": mid, f"{column}_p05": low, f"{column}_p95": high}
        rows.append(row)
    return pd.DataFrame(rows)


#: Cost-effectiveness: (outcome, how its change counts as an effect, what a unit is). An
#: effect is a crossing or death averted (A minus B) or an extra person regularised (B minus A).
EFFECTS: tuple[tuple[str, int, str], ...] = (
    ("darien_crossings", -1, "Darién crossing averted"),
    ("expected_deaths", -1, "death on the way averted"),
    ("regularisations", +1, "extra person regularised"),
)
#: what is not in ``cost_musd``: said wherever a cost-effectiveness figure is shown
UNPRICED = (
    "Not priced: patrols, border staff and detention (enforcement costs only its removals "
    "home), removals from Mexico and Central America, and anything a lever costs beyond its "
    "unit cost."
)


def cost_effectiveness(per_draw: pd.DataFrame) -> pd.DataFrame:
    """US dollars of every lever's extra cost (``cost_musd``, B minus A) per unit of effect,
    draw by draw, then its median and 90% interval over the draws. The ratio is given only
    when there is an effect in every draw: where the effect's own interval reaches zero, a
    cost per unit is unbounded and its percentiles mean nothing, so it is left missing (NaN)
    and ``draws_with_effect`` says in how many draws there was one. A negative ratio means B
    costs less than A while doing more (a net saving)."""
    table = per_draw.pivot(index="draw", columns="outcome", values="difference")
    extra_usd = table["cost_musd"].to_numpy() * 1e6
    rows = []
    for outcome, sign, unit in EFFECTS:
        effect = sign * table[outcome].to_numpy()
        has = effect > 0
        row = {"effect": unit, "outcome": outcome, "draws": len(effect),
               "draws_with_effect": int(has.sum()), "usd_median": np.nan,
               "usd_p05": np.nan, "usd_p95": np.nan}  # fmt: skip
        if has.all():
            low, mid, high = band_of(extra_usd / effect)
            row |= {"usd_median": mid, "usd_p05": low, "usd_p95": high}
        rows.append(row)
    return pd.DataFrame(rows)
