"""Shared fixtures: small, fast scenarios for property tests.

Property tests run many short scenarios (three years, 1,000 people per agent), which keeps
each run to a fraction of a second while exercising every mechanism."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Every profile: no deadline (a model run takes a variable fraction of a second) and no
# complaint about slow data generation (each example builds a scenario).
_ALWAYS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
# ci: a fixed example sequence (reproducible); dev: fresh examples each run; thorough: for a
# deeper look; mutation: tests/mutation.py, where each surviving mutant runs every test
for name, examples, fixed in (
    ("ci", 12, True),
    ("dev", 12, False),
    ("thorough", 200, False),
    ("mutation", 4, True),
):
    settings.register_profile(name, max_examples=examples, derandomize=fixed, **_ALWAYS)
# an explicit profile wins; CI's is the default on CI
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
