"""The shipped scenario files: where they are, which they are, and what each says it is.

Light on purpose (no pydantic, no numpy): ``migflow list`` answers from here without loading
the model. Reading a scenario properly (validated, with what it extends) is
``model/scenario.py``'s ``load_scenario``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import InputError

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


def list_scenarios() -> list[Path]:
    """The shipped scenario files, baseline first."""
    files = sorted(SCENARIO_DIR.glob("*.toml"))
    return sorted(files, key=lambda p: (p.stem != "baseline", p.name))


def description(path: Path) -> str:
    """The ``description`` a scenario file gives itself (every shipped file has one)."""
    try:
        with open(path, "rb") as f:
            return str(tomllib.load(f).get("description", ""))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot be read as TOML ({exc})", source=str(path)) from None
