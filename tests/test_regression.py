"""The calibrated baseline's results have not moved (``tests/regression_baseline.py``).

A failure here means the model's output changed: if the change was intended, regenerate the
baseline with ``python tests/regression_baseline.py`` and commit it with the change; if not,
this is a regression. The comparison is to 1e-12 relative: the baseline is deterministic
(seeded streams), so anything looser would hide a small change of mechanism.
"""

from __future__ import annotations

import pandas as pd
from regression_baseline import read_checked_in, yearly_figures


def test_the_calibrated_baseline_reproduces_its_checked_in_yearly_figures():
    expected, got = read_checked_in(), yearly_figures()
    assert list(got.columns) == list(expected.columns), "the figures recorded have changed"
    moved = (got - expected).abs() > 1e-12 * expected.abs().clip(lower=1.0)
    if moved.any().any():
        where = moved.stack()
        first = where[where].index[:5].tolist()
        report = pd.DataFrame(
            {"expected": [expected.loc[i] for i in first], "got": [got.loc[i] for i in first]},
            index=pd.MultiIndex.from_tuples(first),
        )
        raise AssertionError(f"{int(moved.sum().sum())} figures moved, first:\n{report}")
