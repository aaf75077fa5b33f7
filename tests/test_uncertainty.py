"""One definition of a posterior band: the command line and the app draw the same runs."""

from __future__ import annotations

import pandas as pd
from strategies import small_baseline

from migflow.app import runs
from migflow.calibration.uncertainty import posterior_runs, run_draws, summary_bands


def test_the_app_and_the_command_line_give_the_same_bands():
    scenario = small_baseline(scale=1000, seed=5, end="2015-12")
    cli = run_draws(scenario, 3)
    app = summary_bands([r.summary for r in runs.band_runs(scenario, 3)])
    pd.testing.assert_frame_equal(cli, app)


def test_draws_keep_the_scenarios_overrides_and_take_seeds_after_its_own():
    scenario = small_baseline(seed=2**32 - 2).with_changes(parameters={"deport_share": 0.3})
    chosen = posterior_runs(scenario, 4)
    assert [s.seed for s, _ in chosen] == [2**32 - 2, 2**32 - 1, 0, 1]
    assert all(p["deport_share"] == 0.3 for _, p in chosen)
    assert len({tuple(sorted(dict(p).items())) for _, p in chosen}) == 4, "four different draws"


def test_runs_side_by_side_give_what_runs_one_by_one_give():
    from migflow.model.run import run_scenario, run_scenarios

    jobs = [(small_baseline(seed=s, end="2015-12"), None) for s in (1, 2, 3)]
    done = []
    parallel = run_scenarios(jobs, workers=2, progress=lambda d, n: done.append((d, n)))
    for (scenario, _), results in zip(jobs, parallel, strict=True):
        pd.testing.assert_frame_equal(results.summary, run_scenario(scenario).summary)
        pd.testing.assert_frame_equal(results.stocks, run_scenario(scenario).stocks)
    assert done[-1] == (3, 3) and len(done) == 3
