"""Mutation testing of the engine: how many deliberate one-line bugs do the tests catch?

Runs mutmut on ``model/mechanisms/``, ``model/policy.py`` and ``model/recorder.py`` against the
tests of behaviour, and prints the share of mutants killed per module. mutmut names a mutant
after its file's path, so it runs in a staging copy of the repository laid out as installed
(``.mutation/migflow/model/...``), where file paths and import names (``migflow.model``)
agree. Not part of the test suite: a habit before and after changing the engine or its tests
(see docs/testing.md for the last figures and the surviving mutants judged harmless).

A surviving mutant runs every selected test, so a full run takes hours on two cores. By
default a stratified random sample of mutants is run (``--sample``, reproducible with
``--seed``) and the share killed is printed with a 95% interval; ``--sample 0`` runs them all.

    python -m pip install -e ".[test,mutation]"
    python tests/mutation.py --sample 300 --children 2
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from scipy.stats import beta

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".mutation"
# the repository's folders as they are installed (pyproject.toml's package-dir)
LAYOUT = {
    "migflow": "migflow",
    "model": "migflow/model",
    "calibration": "migflow/calibration",
    "sweeps": "migflow/sweeps",
    "app": "migflow/app",
    "scenarios": "migflow/scenarios",
    "tests": "tests",
}
TARGETS = {  # the three parts of the engine under test, by mutant-name prefix
    "model/mechanisms/": "migflow.model.mechanisms.",
    "model/policy.py": "migflow.model.policy.",
    "model/recorder.py": "migflow.model.recorder.",
}
# The tests of behaviour. The regression baseline (tests/test_regression.py) is left out on
# purpose: it fails for any change at all, so a mutant it alone kills says nothing about
# whether a test of behaviour would catch that bug; it gives a second figure below.
SELECTION = [
    "tests/test_accounts.py",
    "tests/test_invariants.py",
    "tests/test_lever_directions.py",
    "tests/test_mechanisms.py",
    "tests/test_mechanism_units.py",
    "tests/test_choice.py",
    "tests/test_onward_movement.py",
    "tests/test_every_lever.py",
]
MUTMUT_CONFIG = f"""[tool.mutmut]
source_paths = ["migflow/"]
only_mutate = ["migflow/model/mechanisms/*", "migflow/model/policy.py", "migflow/model/recorder.py"]
also_copy = ["migflow/scenarios/", "migflow/calibration/", "migflow/app/"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "-n", "0"]
pytest_add_cli_args_test_selection = {SELECTION!r}
"""
DETECTED = {"killed", "timeout", "segfault"}
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}
REGRESSION = "tests/test_regression.py"
LINE = re.compile(r"^\s*(\S+): (.+)$")


def stage() -> None:
    """Copy the repository into STAGE as installed (mutants already there are kept: a
    rerun resumes, and mutmut itself notices source files that changed)."""
    STAGE.mkdir(exist_ok=True)
    for source, target in LAYOUT.items():
        if source == "migflow":
            (STAGE / target).mkdir(exist_ok=True)
            shutil.copy2(ROOT / "migflow" / "__init__.py", STAGE / target / "__init__.py")
            continue
        shutil.copytree(
            ROOT / source,
            STAGE / target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", ".*"),
        )
    (STAGE / "pyproject.toml").write_text(MUTMUT_CONFIG)


def mutmut(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=STAGE,
        env=env,
        capture_output=True,
        text=True,
    )


def statuses(env: dict) -> dict[str, str]:
    """Every mutant's name and its status as mutmut reports it."""
    out = mutmut("results", "--all", "true", env=env).stdout
    return {m.group(1): m.group(2).strip() for m in map(LINE.match, out.splitlines()) if m}


def regression_baseline_catches(name: str, env: dict) -> bool:
    """Whether the checked-in regression baseline (tests/test_regression.py) fails with this
    mutant active: a second figure, for the survivors of the tests of behaviour only."""
    mutants = STAGE / "mutants"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            REGRESSION,
        ],
        cwd=mutants,
        env={**env, "MUTANT_UNDER_TEST": name, "PYTHONPATH": str(mutants)},
        capture_output=True,
    )
    return result.returncode != 0


def target_of(name: str) -> str | None:
    for target, prefix in TARGETS.items():
        if name.startswith(prefix):
            return target
    return None


def interval(killed: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95% interval for the share killed."""
    low = beta.ppf(0.025, killed, n - killed + 1) if killed else 0.0
    high = beta.ppf(0.975, killed + 1, n - killed) if killed < n else 1.0
    return float(low), float(high)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="mutants to run (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--children", type=int, default=2, help="mutants run at once")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    args = parser.parse_args(argv)
    if args.sample < 0 or args.children < 1:
        parser.error("--sample must be >= 0 and --children >= 1")
    if shutil.which("mutmut") is None:
        print('mutmut is not installed: python -m pip install -e ".[mutation]"', file=sys.stderr)
        return 2
    if args.fresh:
        shutil.rmtree(STAGE, ignore_errors=True)
    stage()
    # fewer hypothesis examples per test (a survivor runs them all); the CI profile is not
    # wanted here, so CI's variable is dropped
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["HYPOTHESIS_PROFILE"] = "mutation"

    if not statuses(env):  # generate the mutants (and the per-test coverage) once
        mutmut("run", "migflow.__no_such_mutant__", env=env)
    every = {n: s for n, s in statuses(env).items() if target_of(n)}
    if not every:
        print(f"mutmut generated no mutants; see {STAGE}", file=sys.stderr)
        return 1
    by_target = defaultdict(list)
    for name in sorted(every):
        by_target[target_of(name)].append(name)
    chosen = sorted(every)
    if args.sample:
        rng = random.Random(args.seed)
        # the same share of each target's mutants, so each gets its own estimate
        share = min(1.0, args.sample / len(every))
        chosen = sorted(
            name
            for names in by_target.values()
            for name in rng.sample(names, max(1, round(share * len(names))))
        )
    pending = [n for n in chosen if every[n] in NOT_RUN]
    print(f"{len(every)} mutants; running {len(pending)} of the {len(chosen)} chosen", flush=True)
    for start in range(0, len(pending), 200):  # keep the command line short
        mutmut("run", "--max-children", str(args.children), *pending[start : start + 200], env=env)

    final = statuses(env)
    print(f"\n{'part of the engine':<20} {'mutants':>8} {'killed':>7} {'share':>6}  95% interval")
    totals = Counter()
    survivors = []
    for target, names in by_target.items():
        ran = [n for n in names if n in chosen and final.get(n) not in NOT_RUN]
        killed = sum(final[n] in DETECTED for n in ran)
        survivors += [f"{n}: {final[n]}" for n in ran if final[n] not in DETECTED]
        totals.update(ran=len(ran), killed=killed)
        if ran:
            low, high = interval(killed, len(ran))
            print(
                f"{target:<20} {len(ran):>8} {killed:>7} {killed / len(ran):>6.1%}"
                f"  {low:.1%}-{high:.1%}"
            )
    if totals["ran"]:
        low, high = interval(totals["killed"], totals["ran"])
        share = totals["killed"] / totals["ran"]
        print(f"{'all three':<20} {totals['ran']:>8} {totals['killed']:>7} {share:>6.1%}", end="")
        print(f"  {low:.1%}-{high:.1%}")
    print("\nsurvivors of the tests of behaviour (inspect one with: mutmut show NAME);")
    print("'regression' marks those the checked-in regression baseline catches:")
    caught = 0
    for line in survivors:
        name = line.split(":")[0]
        hit = regression_baseline_catches(name, env)
        caught += hit
        print(f"{line}{'  regression' if hit else ''}", flush=True)
    if totals["ran"]:
        share = (totals["killed"] + caught) / totals["ran"]
        print(f"\nwith the regression baseline too: {totals['killed'] + caught} of {totals['ran']}")
        print(f"killed ({share:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
