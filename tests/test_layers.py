"""Imports go one way: model <- {calibration, sweeps} <- {app, cli} (docs/architecture.md).

Read from the source with ``ast``, so an upward import anywhere in a layer (even inside a
function, where it would not show at import time) fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {  # folder: the migflow packages it must not import
    "model": {"calibration", "sweeps", "app", "cli"},
    "calibration": {"sweeps", "app", "cli"},
    "sweeps": {"calibration", "app", "cli"},
    "app": {"cli"},
}


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", LAYERS)
def test_no_layer_imports_a_layer_above_it_or_beside_it(folder):
    banned = LAYERS[folder]
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _imported(path):
            parts = name.split(".")
            if parts[0] == "migflow" and len(parts) > 1 and parts[1] in banned:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
            if parts[0] in ("model", "calibration", "sweeps", "app"):
                found.append(f"{path.relative_to(ROOT)} imports {name} outside the migflow name")
    assert not found, "\n".join(found)
