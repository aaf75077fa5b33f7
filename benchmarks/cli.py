"""How fast the command line answers: whole-process times, median of several runs.

Prints, for ``migflow --help``, ``--version``, ``list`` and ``run baseline``, the median
wall time of N fresh processes (imports included, as a user waits for them; compiled modules
cached, as Python caches them for a user), and the model's own run time for the baseline
(timed inside a fresh process of its own, in turn with the command's runs), so the overhead
of ``migflow run`` over the model is visible. Targets (issue 18): help and version within
0.5 s, list within 1 s, run baseline within 1.5 times the model's own time.

    python benchmarks/cli.py            # 7 runs each
    python benchmarks/cli.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def user_environment() -> dict[str, str]:
    """This process's environment as a user's Python has it: compiled modules are cached.

    Some machines (this project's sandbox among them) set PYTHONDONTWRITEBYTECODE, which
    makes every process compile migflow's own modules again (an editable install has no
    compiled copies; a wheel's are made at install time); that would charge a cost to every
    command that no user's installation pays."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def wall(args: list[str], runs: int, cwd: Path) -> float:
    """Median seconds of ``runs`` fresh processes of ``args``, after one warm-up process
    (which also writes the compiled modules, as a user's first command does)."""
    env = user_environment()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# One model run in a fresh process, timed inside it: imports and scenario loading excluded,
# freed memory kept as the command line keeps it (model/memory.py).
_MODEL_ONLY = """
import time
from migflow.model.memory import keep_freed_memory
from migflow.model.run import run_scenario
from migflow.model.scenario import load_scenario
keep_freed_memory()
scenario = load_scenario("baseline")
began = time.perf_counter()
run_scenario(scenario)
print(time.perf_counter() - began)
"""


def run_and_model(command: list[str], runs: int, cwd: Path) -> tuple[float, float]:
    """Median seconds of ``command`` as a whole process, and median seconds of the model's
    own run in a fresh process of its own, measured in turn (one of each, ``runs`` times,
    after a warm-up of each) so that a machine that speeds up or slows down meanwhile
    weighs on both alike."""
    env = user_environment()
    model_only = [sys.executable, "-c", _MODEL_ONLY]
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=env)
    subprocess.run(model_only, cwd=cwd, check=True, capture_output=True, env=env)
    whole, model = [], []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=env)
        whole.append(time.perf_counter() - start)
        done = subprocess.run(model_only, cwd=cwd, check=True, capture_output=True, env=env)
        model.append(float(done.stdout.decode().split()[-1]))
    return statistics.median(whole), statistics.median(model)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per command")
    args = parser.parse_args(argv)
    exe = shutil.which("migflow")
    if exe is None:
        print('migflow is not installed: python -m pip install -e ".[test]"', file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        rows = [
            ("migflow --help", wall([exe, "--help"], args.runs, cwd), "0.5 s"),
            ("migflow --version", wall([exe, "--version"], args.runs, cwd), "0.5 s"),
            ("migflow list", wall([exe, "list"], args.runs, cwd), "1 s"),
        ]
        run = [exe, "run", "baseline", "--quiet", "--out", str(cwd / "out")]
        whole, model = run_and_model(run, args.runs, cwd)
    print(
        f"{'command (whole process, median of ' + str(args.runs) + ')':<44} {'seconds':>8}  target"
    )
    for name, seconds, target in rows:
        print(f"{name:<44} {seconds:>8.2f}  {target}")
    print(f"{'migflow run baseline --quiet':<44} {whole:>8.2f}  {1.5 * model:.2f} s (1.5x model)")
    print(f"{'  the model run alone (in its own process)':<44} {model:>8.2f}")
    print(f"{'  run overhead: whole / model':<44} {whole / model:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
