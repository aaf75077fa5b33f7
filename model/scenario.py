"""Scenario files: the pydantic schema, loading (with ``extends``), saving, error messages.

A scenario is everything a policy person can change: the time window, seed and scale, the
push-factor trajectories of the origins, host opportunity, and every lever of docs/scenarios.md
(integration funding and services, regularisation programmes, legal pathways, enforcement per
route edge, US asylum processing time, root-cause funding). Behavioural parameters may be
overridden under ``[parameters]``, and the price of each lever under ``[unit_costs]``.

A policy scenario usually ``extends = "baseline.toml"``: tables (push, opportunity,
parameters, unit_costs) are merged key by key, lists of levers are appended, scalars are
replaced. A lever may carry an ``id`` (a short slug naming the instrument it belongs to;
several rows may share one), and a file that extends another may list ``without =
["colombia_tps", ...]`` to drop the inherited levers with those ids: "history without one
instrument". The loaded scenario is always fully resolved, so saving and loading it again
gives the same scenario without needing the parent file.

Any problem becomes one ``InputError`` naming the file, the field and what is allowed.
Types are strict: a number must be a TOML number, a boolean a TOML boolean, a string a
string. A shared file with ``interdiction = true`` or ``seed = "7"`` was written by someone
who meant something the model cannot guess, so it is refused rather than coerced. Numbers
must be finite and below the documented maxima of ``model/limits.py``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .calendar import format_month, parse_month
from .costs import unit_cost_problem
from .errors import InputError, read_user_file
from .geography import CODES, EDGE_INDEX, HOSTS, ORIGINS
from .limits import (
    MAX_INDEX,
    MAX_MUSD_PER_YEAR,
    MAX_NAME_CHARS,
    MAX_PEOPLE,
    MAX_SCALE,
    MAX_SEED,
    checked_name,
)
from .parameters import PUSH_LEVELS, parameter_problem
from .shipped import SCENARIO_DIR, list_scenarios  # noqa: F401 (part of this module's API)

WINDOW_MIN, WINDOW_MAX = "2010-01", "2050-12"
MAX_FILE_BYTES = 1_000_000
#: Regularisation rows, and pathway rows, of one scenario, extends included: a migrant
#: records the row that gave them their status in 16 bits (model/population.py,
#: ``granted_by``; policy.py numbers the two lists apart).
MAX_STATUS_GRANTS = 15_000
#: Tables and arrays inside each other: a scenario needs 3 (push.VEN."2015-01"), a sweep 5.
MAX_DEPTH = 10


def _month_or_none(value: Any) -> str | None:
    """An optional month: None, or the month checked (``_check_month``)."""
    return None if value is None else _check_month(value)


def _check_month(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a month; write it as a string YYYY-MM, e.g. '2021-06'")
    index = parse_month(value)
    if not parse_month(WINDOW_MIN) <= index <= parse_month(WINDOW_MAX):
        raise ValueError(
            f"{value} is outside the supported years; allowed {WINDOW_MIN}..{WINDOW_MAX}"
        )
    return format_month(index)


#: A lever id: a short slug, so that it can never be mistaken for a file name or a path.
_LEVER_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
LEVER_ID_RULE = (
    "a lever id is lowercase letters, digits and _, starting with a letter, at most 64 "
    "characters (e.g. 'colombia_tps')"
)


def lever_id_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a lever id, or None."""
    if not isinstance(value, str):
        return f"must be a lever id in quotes, e.g. 'colombia_tps' (got {_shown(value)})"
    if not _LEVER_ID.fullmatch(value):
        hint = " (not a file name or a path)" if any(c in value for c in "./\\") else ""
        return f"{_shown(value)} is not a lever id{hint}; {LEVER_ID_RULE}"
    return None


def _each_valid(table: dict[str, float], problem_of) -> dict[str, float]:
    """``table`` if ``problem_of(key, value)`` finds nothing wrong with any entry."""
    for key, value in table.items():
        problem = problem_of(key, value)
        if problem:
            raise ValueError(problem)
    return table


def _allowed(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {kind} {value!r}; allowed: {', '.join(allowed)}")
    return value


Month = Annotated[str, Field(description="a month, YYYY-MM")]
Origins = Annotated[
    list[str], AfterValidator(lambda v: [_allowed("origin", o, ORIGINS) for o in v])
]
NonNegative = Annotated[float, Field(ge=0)]
Money = Annotated[float, Field(ge=0, le=MAX_MUSD_PER_YEAR)]
People = Annotated[float, Field(ge=0, le=MAX_PEOPLE)]
Index = Annotated[float, Field(ge=0, le=MAX_INDEX)]


class _Strict(BaseModel):
    # strict: no str -> number, bool -> number or number -> bool coercion (a strict float
    # still takes a TOML integer); allow_inf_nan: every number in a file is finite.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _Dated(_Strict):
    """A lever active from ``start`` to ``end`` inclusive (``end`` omitted: to the window's end).
    ``id`` names the instrument the row belongs to, so that a file extending this one can
    drop it with ``without``; several rows (one per host, say) may share an id."""

    start: Month
    end: Month | None = None
    id: str | None = Field(default=None, description="the instrument's id, e.g. 'colombia_tps'")

    _month = field_validator("start", "end")(_month_or_none)

    @field_validator("id")
    @classmethod
    def _id(cls, v):
        problem = None if v is None else lever_id_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and parse_month(self.end) < parse_month(self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class IntegrationLever(_Dated):
    """Integration funding and services in one host (seeds: $240 M assistance; nine Migrant
    Integration Centers in Colombia). Funding buys integration services at
    ``integration_cost_usd`` per person; ``services_per_month`` adds capacity directly."""

    host: str
    funding_musd_per_year: Money = 0.0
    services_per_month: People = 0.0
    note: str = ""

    _host = field_validator("host")(lambda v: _allowed("host", v, HOSTS))


class _GrantsStatus(_Dated):
    """A lever that gives migrants regular status, which a government may later end for
    everyone it gave it to (the US terminations of Temporary Protected Status and of the
    CHNV parole in 2025): from ``status_ends`` they are irregular again where they live."""

    status_ends: Month | None = Field(
        default=None,
        description="the first month in which those this lever regularised no longer hold "
        "that status (a termination); omitted: the status is kept",
    )

    _ends = field_validator("status_ends")(_month_or_none)

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.status_ends is not None and parse_month(self.status_ends) <= parse_month(
            self.start
        ):
            raise ValueError(
                f"status_ends {self.status_ends} must come after start {self.start}: "
                "a status can only end once someone holds it"
            )
        return self


class RegularisationProgramme(_GrantsStatus):
    """A regularisation programme (seeds: Colombia's 10-year Temporary Protective Status,
    Ecuador's registration, Peru's regularisation)."""

    host: str
    name: str = ""
    capacity_per_month: People
    origins: Origins = Field(default_factory=lambda: list(ORIGINS), min_length=1)
    arrived_before: Month | None = None
    exchanges_permits: bool = Field(
        default=False,
        description="Holders of an earlier status in the host (from an earlier programme "
        "or ordinary channels) who arrived before the cut-off may exchange it for this "
        "programme's, in the places newcomers to papers leave: Colombia's ETPV took in the "
        "PEP holders, and its count of permits includes them.",
    )
    note: str = ""

    _host = field_validator("host")(lambda v: _allowed("host", v, HOSTS))

    _cutoff = field_validator("arrived_before")(_month_or_none)


class Pathway(_GrantsStatus):
    """A legal pathway that moves eligible migrants without the irregular route, up to its
    capacity: labour visas, parole, resettlement, Safe Mobility referrals.

    Applicants are migrants who want to reach ``destination`` (the United States, for a
    destination no route reaches, such as Canada), whether its irregular roads are open or
    not (docs/ODD.md § 7.5). With ``referral_countries`` empty, they are would-be emigrants
    at the origin; with countries listed (Safe Mobility Offices), migrants settled there who
    reconsider where to live and want to go there, and migrants passing through on a road
    that ends there."""

    name: str
    kind: Literal["labour", "parole", "resettlement", "safe_mobility"]
    origins: Origins = Field(min_length=1)
    destination: str
    capacity_per_year: People
    duration_months: int = Field(default=0, ge=0, le=600)
    referral_countries: list[str] = Field(default_factory=list)
    arrived_before: Month | None = Field(
        default=None,
        description="Only migrants who arrived in the referral country before this month "
        "may apply there (the registration cut-offs of Safe Mobility Offices); a pathway "
        "at the origin has none.",
    )
    note: str = ""

    _dest = field_validator("destination")(lambda v: _allowed("destination", v, HOSTS))

    @field_validator("referral_countries")
    @classmethod
    def _referral(cls, v):
        return [_allowed("country", c, CODES) for c in v]

    _cutoff = field_validator("arrived_before")(_month_or_none)

    @model_validator(mode="after")
    def _cutoff_needs_referral(self):
        if self.arrived_before is not None and not self.referral_countries:
            raise ValueError(
                "arrived_before applies where migrants apply away from home: give "
                "referral_countries, or leave arrived_before out"
            )
        return self


class Enforcement(_Dated):
    """Enforcement on one route edge: the probability that an irregular crossing attempt is
    interdicted (1 = closed). Seeds: border strengthening, anti-smuggling, biometrics.
    ``origins`` restricts it to some nationalities (a visa requirement, removals of one
    nationality); without it, it applies to everyone crossing."""

    edge: str
    interdiction: float = Field(ge=0, le=1)
    origins: Origins | None = Field(default=None, min_length=1)
    expulsion: bool = Field(
        default=False,
        description="Interdicted migrants are expelled back across the border to the "
        "edge's source country (US Title 42: 'to their country of last transit'), instead "
        "of being deported home or stranded by the usual rule; there they may try again.",
    )
    note: str = ""

    _edge = field_validator("edge")(lambda v: _allowed("route edge", v, tuple(EDGE_INDEX)))


class AsylumPolicy(_Dated):
    """US asylum processing time (seed: cases resolved 'in months, not years')."""

    processing_months: float = Field(gt=0, le=240)
    note: str = ""


class RootCauses(_Dated):
    """Root-cause funding in one origin (seed: $6.3 B on root causes)."""

    origin: str
    funding_musd_per_year: Money
    note: str = ""

    _origin = field_validator("origin")(lambda v: _allowed("origin", v, ORIGINS))


Trajectory = dict[str, Index]
LEVER_GROUPS = ("integration", "regularisation", "pathways", "enforcement", "asylum", "root_causes")


class Scenario(_Strict):
    """A complete, resolved scenario."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    #: what the app and reports call the scenario, in plain words (empty: its name); one
    #: file's own, never inherited through ``extends``
    title: str = Field(default="", max_length=120)
    description: str = ""
    start: Month = "2015-01"
    end: Month = "2030-12"
    seed: int = Field(default=20221006, ge=0, le=MAX_SEED)
    scale: int = Field(default=100, ge=1, le=MAX_SCALE)
    parameters: dict[str, float] = Field(default_factory=dict)
    push: dict[str, Trajectory] = Field(default_factory=dict)
    opportunity: dict[str, Trajectory] = Field(default_factory=dict)
    #: push knots whose level is a fitted parameter, origin -> {month: parameter name}: a
    #: level the record implies but no indicator measures (model/parameters.py, unit "push
    #: index"); it replaces a knot of ``push`` of the same month
    fitted_push: dict[str, dict[str, str]] = Field(default_factory=dict)
    integration: list[IntegrationLever] = Field(default_factory=list)
    regularisation: list[RegularisationProgramme] = Field(default_factory=list)
    pathways: list[Pathway] = Field(default_factory=list)
    enforcement: list[Enforcement] = Field(default_factory=list)
    asylum: list[AsylumPolicy] = Field(default_factory=list)
    root_causes: list[RootCauses] = Field(default_factory=list)
    #: US dollars per unit, replacing the defaults of model/costs.py (UNIT_COSTS)
    unit_costs: dict[str, float] = Field(default_factory=dict)

    @field_validator("start", "end")
    @classmethod
    def _month(cls, v):
        return _check_month(v)

    _name = field_validator("name")(checked_name)

    @field_validator("title")
    @classmethod
    def _title(cls, v):
        if not v.isprintable():
            raise ValueError("must be one line of printable text")
        return v.strip()

    @property
    def shown_title(self) -> str:
        """The title, or the name for a scenario without one."""
        return self.title or self.name

    _parameters = field_validator("parameters")(lambda v: _each_valid(v, parameter_problem))
    _unit_costs = field_validator("unit_costs")(lambda v: _each_valid(v, unit_cost_problem))

    _push = field_validator("push")(lambda v: _trajectories(v, "origin", ORIGINS))
    _fitted_push = field_validator("fitted_push")(
        lambda v: _trajectories(v, "origin", ORIGINS, levels=PUSH_LEVELS)
    )
    _opportunity = field_validator("opportunity")(lambda v: _trajectories(v, "host", HOSTS))

    @model_validator(mode="after")
    def _within_window(self):
        first, last = parse_month(self.start), parse_month(self.end)
        if last < first + 11:
            raise ValueError(f"end {self.end} must be at least a year after start {self.start}")
        for group in LEVER_GROUPS:
            for i, lever in enumerate(getattr(self, group)):
                for attr in ("start", "end"):
                    value = getattr(lever, attr)
                    if value is not None and not first <= parse_month(value) <= last:
                        raise ValueError(
                            f"{group}[{i}].{attr} = {value} is outside the scenario window; "
                            f"allowed {self.start}..{self.end}"
                        )
        for group in ("regularisation", "pathways"):
            if len(getattr(self, group)) > MAX_STATUS_GRANTS:
                raise ValueError(
                    f"{len(getattr(self, group))} {group} rows; at most {MAX_STATUS_GRANTS} "
                    "(each migrant records which one gave them their status)"
                )
        return self

    @property
    def first_month(self) -> int:
        return parse_month(self.start)

    @property
    def last_month(self) -> int:
        return parse_month(self.end)

    @property
    def n_months(self) -> int:
        return self.last_month - self.first_month + 1

    def clipped(self, start: str | None = None, end: str | None = None) -> Scenario:
        """A copy on a narrower window: levers wholly outside it are dropped and the others
        clipped to it. (A user's file with a lever outside its own window is an error; this
        is for deliberate re-windowing, e.g. a short test run or a hindcast.)"""
        data = self.model_dump(mode="json")
        lo = parse_month(start or self.start)
        hi = parse_month(end or self.end)
        data["start"], data["end"] = format_month(lo), format_month(hi)
        for group in LEVER_GROUPS:
            kept = []
            for lever in data[group]:
                first = parse_month(lever["start"])
                last = hi if lever.get("end") is None else parse_month(lever["end"])
                if last < lo or first > hi:
                    continue
                lever["start"] = format_month(max(first, lo))
                lever["end"] = format_month(min(last, hi))
                kept.append(lever)
            data[group] = kept
        return Scenario.model_validate(data)

    def with_changes(self, **changes: Any) -> Scenario:
        """A validated copy with top-level fields replaced (used by the CLI, app and sweeps)."""
        data = self.model_dump(mode="json")
        data.update(changes)
        return Scenario.model_validate(data)


def _trajectories(tables: dict, kind: str, allowed: tuple[str, ...], levels=()) -> dict:
    """Trajectories keyed by country code (an origin's push, a host's opportunity); where
    ``levels`` is given, each knot names one of those fitted parameters instead of a number."""
    for code, knots in tables.items():
        _allowed(kind, code, allowed)
        _trajectory(knots)
        for name in knots.values() if levels else ():
            _allowed("push level", name, levels)
    return tables


def _trajectory(traj: dict[str, float]) -> None:
    if not traj:
        raise ValueError("a trajectory needs at least one 'YYYY-MM' = value entry")
    for month in traj:
        _check_month(month)


# ---------------------------------------------------------------- loading and saving

# pydantic's words for a value of the wrong type, said the way a TOML author can act on.
_TYPE_MESSAGES = {
    "float_type": "must be a number, written without quotes (e.g. 0.5); not a string or boolean",
    "int_type": "must be a whole number, written without quotes (e.g. 7); not a string, "
    "boolean or decimal",
    "bool_type": "must be true or false, written without quotes; not a string or number",
    "string_type": "must be a string in quotes",
    "finite_number": "must be a finite number; nan and inf are not allowed",
    "list_type": "must be a list [...]",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "literal_error": None,
}


def _shown(value: Any) -> str:
    """A value as the message shows it: short, one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_validation_error(
    error: ValidationError, inherited: dict[str, int] | None = None
) -> tuple[str, str]:
    """The field (as the user's file numbers it) and a one-line message. ``inherited``:
    rows each list took from the ``extends`` chain, which come before the file's own rows
    in the merged scenario, so ``enforcement[11]`` is the file's ``enforcement[0]`` when
    the baseline has eleven."""
    first = error.errors()[0]
    parts, note = list(first["loc"]), ""
    rows_before = (inherited or {}).get(parts[0], 0) if parts else 0
    if rows_before and len(parts) > 1 and isinstance(parts[1], int):
        if parts[1] >= rows_before:
            parts[1] -= rows_before
        else:
            note = " (in a row inherited through extends)"
    return _dotted(parts) + note, _message(first)


def _dotted(parts: list) -> str:
    loc = ""
    for part in parts:
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    return loc or "(top level)"


def _message(first: dict) -> str:
    msg = first["msg"].removeprefix("Value error, ")
    kind = first["type"]
    if kind == "extra_forbidden":
        return "unknown field; see docs/scenarios.md for the fields allowed here"
    if kind == "missing":
        return "required field is missing"
    msg = _TYPE_MESSAGES.get(kind) or msg
    if kind == "string_type" and first["loc"][:1] == ("fitted_push",):
        msg = f"must be the name of a push level, in quotes: {', '.join(PUSH_LEVELS)}"
    if "input" in first and kind != "value_error" and not isinstance(first["input"], dict):
        msg = f"{msg} (got {_shown(first['input'])})"
    return msg


#: top-level tables an ``extends`` child merges key by key into its parent's
_TABLES_MERGED_BY_KEY = ("parameters", "push", "fitted_push", "opportunity", "unit_costs")


def _merge(parent: dict, child: dict) -> dict:
    merged = dict(parent)
    for key, value in child.items():
        if key in _TABLES_MERGED_BY_KEY and isinstance(value, dict):
            merged[key] = {**parent.get(key, {}), **value}
        elif isinstance(value, list) and isinstance(parent.get(key), list):
            merged[key] = parent[key] + value
        else:
            merged[key] = value
    return merged


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in ``value`` (without recursion: the point is to
    refuse hostile depth before anything recursive sees it)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_toml(text: str, source: str) -> dict:
    """TOML text as a table, or an InputError naming ``source``: invalid TOML, tables
    nested deeper than ``MAX_DEPTH`` (tomllib recurses, so a thousand levels would end in a
    RecursionError), or nothing that could be a file of ours."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise InputError(f"file is larger than {MAX_FILE_BYTES // 1000} kB", source=source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", source=source) from None
    except RecursionError:
        raise InputError(
            f"tables or arrays are nested too deeply; at most {MAX_DEPTH} levels", source=source
        ) from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(
            f"tables or arrays are nested too deeply; at most {MAX_DEPTH} levels", source=source
        )
    return data


def read_toml(path: Path, source: str | None = None, kind: str = "TOML") -> dict:
    """Read a TOML file we were asked to read, with every way it can fail as one
    InputError naming the file: missing, a folder, unreadable, too large, not UTF-8,
    empty of anything but comments is fine (the schema then says what is missing)."""
    source = source or str(path)
    text = read_user_file(path, source, kind, MAX_FILE_BYTES)
    return parse_toml(text, source)


def find_scenario(name: str, base_dir: Path | None = None) -> Path | None:
    """The file a scenario name refers to, wherever a name is accepted (``extends``,
    ``migflow run NAME``, a sweep's ``base``): next to the referring file first, then among
    the shipped scenarios; ``.toml`` may be left out. None if there is no such file."""
    names = [name] if name.endswith(".toml") else [name, f"{name}.toml"]
    folders = ([base_dir] if base_dir is not None else []) + [SCENARIO_DIR]
    for folder in folders:
        for candidate in names:
            try:
                if (folder / candidate).is_file():
                    return folder / candidate
            except (OSError, ValueError):  # a name too long, a NUL character
                return None
    return None


def scenario_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a parent scenario (``extends``, a sweep's ``base``), or
    None. Only a file name is accepted, so a shared file can read nothing but a scenario
    file beside it or a shipped one: never ``/etc/passwd`` or ``../elsewhere.toml``."""
    if not isinstance(name, str) or not name:
        return "must be the name of a scenario file, e.g. 'baseline.toml'"
    if (
        not name.isprintable()
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or len(name) > 255
        or Path(name).suffix not in ("", ".toml")
    ):
        return (
            f"{_shown(name)} is not a scenario file name; give the name of a .toml file "
            "beside this file or in scenarios/, e.g. 'baseline.toml' (no folders)"
        )
    return None


@dataclass
class _Owners:
    """Which file of an ``extends`` chain wrote each part of the merged scenario, so an
    error is reported against the file that holds the mistake, numbered as that file
    numbers its rows."""

    keys: dict[str, str] = field(default_factory=dict)  # top-level key -> source
    entries: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, key)
    # group -> for each row of the merged list: the file and the row's index there
    rows: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, data: dict, source: str, parent: dict) -> None:
        for key, value in data.items():
            if key in _TABLES_MERGED_BY_KEY and isinstance(value, dict):
                for sub in value:
                    self.entries[key, str(sub)] = source
            if isinstance(value, list):
                before = self.rows.get(key, []) if isinstance(parent.get(key), list) else []
                self.rows[key] = [*before, *((source, i) for i in range(len(value)))]
            self.keys[key] = source

    def keep_rows(self, group: str, kept: list[bool]) -> None:
        """Forget the rows of ``group`` that ``without`` dropped (``kept`` is False)."""
        if group in self.rows:
            self.rows[group] = [row for row, k in zip(self.rows[group], kept, strict=True) if k]

    def locate(self, loc: list, default: str) -> tuple[str, list]:
        """The file and the location in it of ``loc`` in the merged scenario."""
        if not loc:
            return default, loc
        head = loc[0]
        if len(loc) > 1 and isinstance(loc[1], int) and head in self.rows:
            if loc[1] < len(self.rows[head]):
                source, index = self.rows[head][loc[1]]
                return source, [head, index, *loc[2:]]
        if len(loc) > 1 and (head, str(loc[1])) in self.entries:
            return self.entries[head, str(loc[1])], loc
        return self.keys.get(head, default), loc


def locate_scenario(
    name, base_dir: Path | None, source: str, field: str, what: str = "scenario"
) -> Path:
    """The file a scenario name given in a file names (``extends``, a sweep's ``base``):
    the name is checked first (a file name, no folders), then looked up beside the file and
    among the shipped scenarios; a problem is the referring file's, at ``field``."""
    problem = scenario_name_problem(name)
    if problem:
        raise InputError(problem, source=source, field=field)
    path = find_scenario(name, base_dir)
    if path is None:
        raise InputError(
            f"{what} {name!r} not found next to the file or in scenarios/",
            source=source,
            field=field,
        )
    return path


def _resolve(
    data: dict, base_dir: Path | None, source: str, depth: int = 0
) -> tuple[dict, _Owners]:
    parent_name = data.pop("extends", None)
    without = data.pop("without", None)
    if parent_name is None:
        if without is not None:
            raise InputError(
                "without drops levers inherited through extends, and this file extends "
                "nothing; add extends = 'baseline.toml' or remove without",
                source=source,
                field="without",
            )
        owners = _Owners()
        owners.add(data, source, {})
        return data, owners
    if depth >= 5:
        raise InputError(
            "extends chain is longer than 5 files (a loop?)", source=source, field="extends"
        )
    parent_path = locate_scenario(parent_name, base_dir, source, "extends", "parent scenario")
    parent_source = str(parent_path)
    raw = read_toml(parent_path, parent_source, kind="TOML scenario")
    parent, owners = _resolve(raw, parent_path.parent, parent_source, depth + 1)
    if without is not None:
        parent = _without(parent, without, owners, source, parent_path.name)
    owners.add(data, source, parent)
    parent = {k: v for k, v in parent.items() if k != "title"}  # a title names one file
    return _merge(parent, data), owners


def _lever_ids(data: dict) -> set[str]:
    """The ids of the levers in a (merged, not yet validated) scenario table."""
    return {
        row["id"]
        for group in LEVER_GROUPS
        if isinstance(data.get(group), list)
        for row in data[group]
        if isinstance(row, dict) and isinstance(row.get("id"), str)
    }


def _without(parent: dict, without: Any, owners: _Owners, source: str, parent_name: str) -> dict:
    """``parent`` without its levers whose id ``without`` lists. Each entry must be a lever
    id that some inherited lever has: a misspelt id would otherwise silently drop nothing."""
    if not isinstance(without, list):
        raise InputError(
            f"must be a list of lever ids, e.g. without = ['colombia_tps'] (got {_shown(without)})",
            source=source,
            field="without",
        )
    inherited = _lever_ids(parent)
    for i, name in enumerate(without):
        problem = lever_id_problem(name)
        if problem is None and name in without[:i]:
            problem = f"{name!r} is listed twice"
        if problem is None and name not in inherited:
            close = difflib.get_close_matches(name, sorted(inherited), n=3)
            if close:
                hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
            elif inherited:
                shown = sorted(inherited)
                hint = "its ids include " + ", ".join(shown[:6])
                hint += f" ({len(shown)} in all)" if len(shown) > 6 else ""
            else:
                hint = "it has no lever with an id"
            problem = f"no lever inherited from {parent_name} has id {name!r}; {hint}"
        if problem:
            raise InputError(problem, source=source, field=f"without[{i}]")
    dropped = set(without)
    parent = dict(parent)
    for group in LEVER_GROUPS:
        rows = parent.get(group)
        if not isinstance(rows, list):
            continue
        kept = [not (isinstance(row, dict) and row.get("id") in dropped) for row in rows]
        parent[group] = [row for row, k in zip(rows, kept, strict=True) if k]
        owners.keep_rows(group, kept)
    return parent


def scenario_from_dict(
    data: dict, source: str = "scenario", base_dir: Path | None = None
) -> Scenario:
    """Validate a mapping (as read from TOML) into a Scenario, resolving ``extends``.
    Without ``base_dir`` (text with no file, an upload), a parent can only be shipped."""
    if not isinstance(data, dict):
        raise InputError("a scenario must be a TOML table", source=source)
    if _depth(data) > MAX_DEPTH:
        raise InputError(
            f"tables or arrays are nested too deeply; at most {MAX_DEPTH} levels", source=source
        )
    data, owners = _resolve(dict(data), base_dir, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where, loc = owners.locate(list(first["loc"]), source)
        raise InputError(_message(first), source=where, field=_dotted(loc)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file. A bare name (``baseline``) is looked up in scenarios/."""
    path = Path(path)
    try:
        found = path.exists()
    except (OSError, ValueError):
        found = False
    if not found:
        path = find_scenario(str(path)) or path  # a shipped name; else "file not found" below
    source = str(path)
    data = read_toml(path, source, kind="TOML scenario")
    return scenario_from_dict(data, source=source, base_dir=path.parent)


def loads_scenario(text: str, source: str = "upload") -> Scenario:
    """Validate scenario TOML text (an upload); never executes or unpickles anything."""
    data = parse_toml(text, source)
    parent = data.get("extends")
    if parent is not None and (
        not isinstance(parent, str) or Path(parent).name != parent or parent.startswith(".")
    ):
        raise InputError(
            "an uploaded scenario may only extend a shipped scenario by name, e.g. 'baseline.toml'",
            source=source,
            field="extends",
        )
    return scenario_from_dict(data, source=source)


def dumps_scenario(scenario: Scenario) -> str:
    """The resolved scenario as TOML text that ``load_scenario`` accepts."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)


def save_scenario(scenario: Scenario, path: str | Path) -> None:
    """Write atomically, so an interrupted save never leaves a half-written file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps_scenario(scenario), encoding="utf-8")
    tmp.replace(path)
