"""Mesa is imported without its spaces (model/mesa_core.py), and they still work on use.

Each check runs in a fresh interpreter: this test process has imported Mesa already."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_running_the_model_loads_neither_meshes_nor_graphs():
    loaded = _run(
        "import sys\n"
        "from migflow.model.model import MigrationModel\n"
        "from migflow.model.scenario import load_scenario\n"
        "from migflow.model.parameters import default_parameters\n"
        "s = load_scenario('baseline').clipped(end='2016-01').with_changes(scale=10000)\n"
        "MigrationModel(s, default_parameters()).run()\n"
        "print(sorted(m for m in ('scipy.spatial', 'networkx') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_the_deferred_parts_of_mesa_work_when_used():
    out = _run(
        "import migflow.model.model\n"
        "import mesa\n"
        "from mesa.experimental import continuous_space\n"
        "from mesa.experimental import *\n"
        "print(continuous_space.ContinuousSpace.__name__, mesa.space.MultiGrid.__name__,\n"
        "      mesa.discrete_space.OrthogonalMooreGrid.__name__, devs.__name__,\n"
        "      type(mesa.space).__name__)"
    )
    assert out == "ContinuousSpace MultiGrid OrthogonalMooreGrid mesa.experimental.devs module"


def test_mesa_imported_first_is_left_alone():
    out = _run(
        "import mesa, sys\n"
        "import migflow.model.model\n"
        "print(type(sys.modules['mesa.space']).__name__, 'scipy.spatial' in sys.modules)"
    )
    assert out == "module True"


def test_mesa_names_its_loggers_as_it_would_and_inspect_is_left_as_it_was():
    probe = (
        "import inspect, mesa.mesa_logging as ml, mesa.model\n"
        "wrapped = [c.cell_contents for c in mesa.model.Model.__init__.__closure__\n"
        "           if isinstance(c.cell_contents, str)]\n"
        "print(sorted(ml._module_loggers), wrapped, inspect.stack.__qualname__,\n"
        "      inspect.getouterframes.__qualname__)"
    )
    ours = _run("import migflow.model.model\n" + probe)
    plain = _run(probe)
    assert ours == plain
    assert "'Model'" in ours and " stack getouterframes" in ours
