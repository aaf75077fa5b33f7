"""Part of step 4, settlement: a status terminated.

A government can end, for everyone it gave it to, a status it had granted: the United States
terminated Temporary Protected Status for Venezuela in 2025 and the CHNV parole the same
year (scenarios/baseline.toml). Each migrant records the lever that regularised them
(``granted_by``, set by settlement.py and pathways.py); in the month a lever's
``status_ends`` names, its holders who still hold that status are irregular again where they
live, and face from then on what an irregular migrant faces: a higher return hazard, no stay
bonus for a regular status, and any programme still open to them. No random draw is
involved: a termination reaches every holder.
"""

from __future__ import annotations

import numpy as np

from ..population import IRREGULAR, REGULARISED


def end_terminated_statuses(model) -> None:
    """Turn the holders of each status terminated this month irregular, and record them."""
    grants = model.policy.status_lapses.get(model.t)
    if grants is None:
        return
    pop = model.pop
    rows = np.flatnonzero((pop.status == REGULARISED) & np.isin(pop.granted_by, grants))
    if len(rows) == 0:
        return
    pop.status[rows] = IRREGULAR
    pop.granted_by[rows] = 0
    model.recorder.events_at("status_terminated", pop.loc[rows], pop.origin[rows])
