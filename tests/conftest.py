"""Shared fixtures: small, fast scenarios for property tests.

Property tests run many short scenarios (three years, 1,000 people per agent), which keeps
each run to a fraction of a second while exercising every mechanism."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI: a fixed example sequence (reproducible); locally, fresh examples each run.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=12,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
# tests/mutation.py: each surviving mutant runs every selected test, so fewer examples
settings.register_profile(
    "mutation",
    derandomize=True,
    deadline=None,
    max_examples=4,
    suppress_health_check=[HealthCheck.too_slow],
)
# an explicit profile wins; CI's is the default on CI
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
