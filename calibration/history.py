"""The scenario the model is fitted on: what actually happened up to the targets' dates.

The shipped baseline deliberately leaves out the instruments of the Los Angeles
Declaration period (each is a policy scenario). Some of them were in force when the
documented figures were taken, and two seed figures measure them directly (Colombia's 1.4 M
protection cards, Ecuador's 100,000 registrations), so the fit runs the baseline plus those
instruments. The fitted parameters are behavioural, so they apply to every scenario.
"""

from __future__ import annotations

from migflow.model.scenario import LEVER_GROUPS, Scenario, load_scenario

#: Instruments in force before the last target (scenario files in scenarios/).
HISTORY_INSTRUMENTS = ("colombia_tps", "labour_visas_nca", "ecuador_registration")


def history_scenario(end: str, scale: int = 100, seed: int = 20221006) -> Scenario:
    """Baseline + the historical instruments, on the window 2015-01..``end``."""
    base = load_scenario("baseline")
    data = base.model_dump(mode="json", exclude_none=True)
    for name in HISTORY_INSTRUMENTS:
        extra = load_scenario(name).model_dump(mode="json", exclude_none=True)
        for group in LEVER_GROUPS:
            for lever in extra[group]:
                if lever not in data[group]:
                    data[group].append(lever)
    data.update(name="history", description="baseline + instruments already in force")
    return Scenario.model_validate(data).clipped(end=end).with_changes(scale=scale, seed=seed)
