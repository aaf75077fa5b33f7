"""Limits that keep a run finite, and an estimate of the work a run asks for.

A scenario or a command line can ask for any amount of work: a push index of a million,
one person per agent over forty years, a hundred thousand posterior draws. Each number is
bounded by a documented maximum (docs/scenarios.md § 11), and the work a run asks for is
estimated before it starts from the people who would emigrate: above a hard limit the run
is refused, above a soft limit it starts only with ``--yes``, having said how long it will
take. Nothing starts silently that would not finish in a sensible time and memory.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

#: Push and opportunity indices: 1 is the reference level, the baseline stays below 3.
MAX_INDEX = 100.0
#: Money in one lever entry, $M per year ($1 trillion a year: far above any budget, and
#: finite when every entry of a file is added up).
MAX_MUSD_PER_YEAR = 1_000_000.0
#: People in one capacity (a programme a month, a pathway a year, services a month).
MAX_PEOPLE = 1_000_000_000.0
#: People per agent (1 = every person) and the random seed (32 bits).
MAX_SCALE = 100_000
MAX_SEED = 2**32 - 1
#: Scenario name, printed in tables and turned into the default output folder.
MAX_NAME_CHARS = 200
#: Posterior draws of ``--draws``; an interval needs at least two.
MIN_DRAWS, MAX_DRAWS = 2, 1000

#: Refused outright: about 30 bytes an agent at peak (29.6 measured), so this is some 7.5 GB.
MAX_AGENTS = 250_000_000
#: Longer than this (estimated) needs ``--yes``.
SOFT_SECONDS = 120.0
#: Measured on the 2-core reference machine: 20 ns an agent-step in long runs where most
#: agents have settled, 60-75 ns in short crowded ones (many agents in transit), and about
#: 2 ms a month of fixed cost. 40 ns puts the estimate within a factor of two of both.
SECONDS_PER_AGENT_STEP = 40e-9
SECONDS_PER_MONTH = 0.002

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FOLDER_CHARS = 80


@dataclass(frozen=True)
class Work:
    """What one run asks for: agents created, agent-months simulated, and the time that
    takes (an upper-end estimate, not a promise)."""

    agents: float
    agent_steps: float
    seconds: float

    def __mul__(self, k: float) -> Work:
        return Work(self.agents * k, self.agent_steps * k, self.seconds * k)


def estimate_work(scenario, parameters=None) -> Work:
    """The agents and time a run of ``scenario`` asks for, from the expected emigrants.

    Emigration follows the model's own rule (push x base x network, less root-cause
    reduction) with everyone who ever left counted as diaspora, so it errs high; nobody
    leaves the population, so every agent is simulated from its month to the end."""
    import numpy as np  # here, not at the top: the command line imports this module to start

    from .parameters import default_parameters
    from .policy import PolicySchedule

    params = parameters or default_parameters(scenario.parameters)
    sched = PolicySchedule.compile(scenario, params)
    base = np.array([params[f"emigration_base.{o}"] for o in _origins()])
    elasticity = params["emigration_network_elasticity"]
    abroad = np.zeros_like(base)
    agents = agent_steps = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(scenario.n_months):
            people = base * sched.push[t] * (1.0 + abroad / 100_000.0) ** elasticity
            people *= 1.0 - sched.root_cause_reduction[t]
            abroad += people
            agents += float(people.sum()) / scenario.scale
            agent_steps += agents
    if not math.isfinite(agent_steps):
        agents = agent_steps = float("inf")
    seconds = agent_steps * SECONDS_PER_AGENT_STEP + scenario.n_months * SECONDS_PER_MONTH
    return Work(agents, agent_steps, seconds)


def _origins():
    from .geography import ORIGINS

    return ORIGINS


def duration(seconds: float) -> str:
    """'about 3 minutes', for a message."""
    if not math.isfinite(seconds):
        return "longer than anyone can wait"
    if seconds < 90:
        return f"about {max(round(seconds), 1)} seconds"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.1f} hours"
    return f"about {seconds / 86400:.0f} days"


def _count(x: float) -> str:
    if not math.isfinite(x):
        return "more than can be counted"
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if x >= size:
            return f"{x / size:.3g} {word}"
    return f"{x:,.0f}"


def check_agents(work: Work, *, source: str | None, what: str = "the run") -> None:
    """Refuse a run that would not fit in memory, whatever the flags."""
    if not work.agents <= MAX_AGENTS:
        raise InputError(
            f"{what} would create {_count(work.agents)} agents, more than the limit of "
            f"{_count(MAX_AGENTS)}; lower the push or raise scale (people per agent)",
            source=source,
        )


def check_time(
    seconds: float,
    *,
    yes: bool,
    source: str | None,
    what: str = "the run",
    hint: str = "add --yes to start it anyway",
) -> None:
    """Start a long request only when the user said so: refuse above ``SOFT_SECONDS``
    without ``--yes``, naming how long it would take."""
    if seconds > SOFT_SECONDS and not yes:
        message = f"{what} would take {duration(seconds)} on this machine; {hint}"
        raise InputError(message, source=source)


def checked_name(name: str) -> str:
    """``name`` (a scenario's or a sweep's), or a ``ValueError`` saying why it cannot be
    used, for the validators of those files. A name is free text that arrives in shared
    files and becomes the default output folder; one that reads as a path (``../x``,
    ``/tmp/x``, ``~root``, ``.``) would seem to choose where results go, so it is refused
    rather than quietly rewritten."""
    if not name.isprintable():
        raise ValueError("must be printable text on one line (no control characters)")
    if "/" in name or "\\" in name or name.startswith("~") or name.strip(" .") == "":
        raise ValueError(
            f"{name!r} reads as a path; a name is text without '/' or '\\', not starting "
            "with '~' and not only dots (results go in results/<name>/, or where --out says)"
        )
    return name


def safe_folder_name(name: str, fallback: str = "scenario") -> str:
    """A folder name made from a scenario or sweep name: letters, digits, ``.``, ``_``
    and ``-`` only, never starting with a dot (so never ``..`` or hidden), at most
    ``MAX_FOLDER_CHARS`` characters. A name is free text that arrives in shared files;
    only its safe form may become a path."""
    safe = _UNSAFE.sub("_", name)[:MAX_FOLDER_CHARS].strip("._")
    return safe or fallback


def default_folder(root: Path, name: str, fallback: str = "scenario") -> Path:
    """``root/<safe name>``: where results go without ``--out``."""
    return root / safe_folder_name(name, fallback)


def check_output_folder(target: Path, *, field: str = "--out") -> Path:
    """Refuse, before any work starts, an output folder that cannot be written: a path
    that is an existing file, lies under a file, has a name too long for the filesystem or
    a NUL character, or sits where this user cannot create anything. Checks by creating
    (and removing) an empty folder in the nearest existing parent; writes nothing else."""
    import os
    import tempfile

    text = str(target)
    if "\x00" in text:
        raise InputError("the path contains a NUL character", field=field)
    absolute = Path(os.path.abspath(target))
    if len(os.fsencode(str(absolute))) >= 4000:
        raise InputError(f"the path is too long ({len(text)} characters)", field=field)
    for part in absolute.parts:
        if len(os.fsencode(part)) > 255:
            raise InputError(
                f"a folder name is too long ({len(part)} characters; at most 255 bytes)",
                field=field,
            )
    try:
        if absolute.exists() and not absolute.is_dir():
            raise InputError(f"{text} exists and is not a folder", field=field)
        probe = absolute
        while not probe.exists():
            probe = probe.parent
    except OSError as exc:
        raise InputError(f"cannot use {text}: {exc.strerror or exc}", field=field) from None
    if not probe.is_dir():
        raise InputError(f"{text} is inside {probe}, which is not a folder", field=field)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".migflow-check-", dir=probe))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write in {probe}: {reason}", field=field) from None
    return target
