"""What a result was made with: package version, source commit, calibration, parameters.

Every manifest (``migflow run``), calibration and sweep records these, so that a figure can
be traced to the code and the calibration that produced it, and a sweep resumed after a
refit or an upgrade is refused instead of mixing results of two models.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .parameters import CALIBRATED_POINT

SOURCE = Path(__file__).resolve().parent.parent


def package_version() -> str:
    try:
        return metadata.version("migflow")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the source tree when running from a git checkout (``+dirty`` if it has
    uncommitted changes), else None (an installed wheel has no history to name)."""
    if not (SOURCE / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=SOURCE, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=SOURCE,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def digest(value) -> str:
    """A short, stable hash of a JSON-able value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def calibration_identity() -> str | None:
    """Hash of the shipped calibration's point estimate, or None if none is shipped."""
    if not CALIBRATED_POINT.is_file():
        return None
    return hashlib.sha256(CALIBRATED_POINT.read_bytes()).hexdigest()[:16]


def provenance(parameters: Mapping[str, float]) -> dict:
    """The record a manifest carries: version, commit, calibration and parameter hashes."""
    return {
        "package_version": package_version(),
        "git_commit": git_commit(),
        "calibration_sha256": calibration_identity(),
        "parameters_sha256": digest(dict(parameters)),
    }
