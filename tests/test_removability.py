"""US asylum removals act only on the people the US can send home (model/removability.py)."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import small_baseline

from migflow.model.geography import INDEX, ORIGIN_INDEX, ORIGINS
from migflow.model.mechanisms.settlement import N_F, N_S, RETURN, raw_hazards
from migflow.model.model import MigrationModel
from migflow.model.population import IRREGULAR
from migflow.model.removability import ENCOUNTERS, REFERENCE, REMOVABLE, REMOVALS


def test_the_index_is_removals_per_encounter_against_central_americas():
    assert ((REMOVABLE >= 0) & (REMOVABLE <= 1)).all()
    reference = sum(sum(REMOVALS[c]) for c in REFERENCE) / sum(
        sum(ENCOUNTERS[c]) for c in REFERENCE
    )
    for code in ("VEN", "CUB", "ECU"):
        expected = sum(REMOVALS[code]) / sum(ENCOUNTERS[code]) / reference
        assert REMOVABLE[ORIGIN_INDEX[code]] == pytest.approx(min(1.0, expected))
    assert REMOVABLE[ORIGIN_INDEX["VEN"]] < 0.05 and REMOVABLE[ORIGIN_INDEX["CUB"]] < 0.05
    assert REMOVABLE[ORIGIN_INDEX["XCO"]] == 1.0  # no figure: as before


def test_a_denied_case_is_removed_at_the_rate_its_nationality_allows():
    model = MigrationModel(small_baseline())
    model.step()
    prob, _ = raw_hazards(model)
    prob = prob.reshape(-1, len(ORIGINS), N_S, N_F, prob.shape[-1])
    p, months = model.params, model.policy.asylum_months[model.t]
    at_us = prob[INDEX["USA"], :, IRREGULAR, 0, RETURN]
    denied = (1 - p["asylum_grant_rate"]) / months
    np.testing.assert_allclose(at_us, p["return_hazard"] + denied * REMOVABLE)
