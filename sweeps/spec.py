"""Sweep files: the pydantic schema, loading, and resolution against the base scenario.

A sweep file (TOML) names a base scenario, the inputs to vary (addresses of ``address.py``
with a ``range`` or a list of ``values``), the sampler, the number of samples and
replications, the outcomes to record and optionally goals for scenario discovery. See
docs/sweeps.md for the format.

``load_sweep`` validates everything before anything runs or is written: the schema, every
address against the base scenario (an address that matches no lever entry is refused unless
the input says how to ``add`` one), and every input's range against the Scenario schema (the
scenario is built at both ends of each range). Any problem is one ``InputError`` naming the
file and the field.

The result is a ``SweepPlan``: everything a worker needs to turn a row of inputs and a seed
into a Scenario, serialisable to JSON (``DIR/sweep.json``) with a fingerprint that resume
checks.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from migflow.model.errors import InputError
from migflow.model.limits import MAX_NAME_CHARS, checked_name
from migflow.model.parameters import SPEC_BY_NAME, calibrated_draws, default_parameters
from migflow.model.provenance import calibration_identity, package_version, provenance
from migflow.model.scenario import (
    Scenario,
    _format_validation_error,
    load_scenario,
    locate_scenario,
    read_toml,
)

from .address import Address, AddressError, lever_class, parse_address
from .outcomes import COST_PER_CROSSING_AVERTED, INDICATORS, measure_names
from .sample import count_runs

FORMAT = "migflow-sweep/1"
MAX_RUNS = 1_000_000
SAMPLERS = ("sobol", "morris", "latin", "grid")
RESERVED = frozenset(
    {"run_id", "kind", "sample", "replication", "seed", "reference_id", "error", "worker"}
    | {"seconds", "status"}
)
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


class _Strict(BaseModel):
    # As in scenario files: no coercion between strings, booleans and numbers; every number
    # finite. A strict float still takes a TOML integer.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class InputSpec(_Strict):
    """One input: what it changes (``path``) and the values it takes."""

    path: str = Field(min_length=1)
    range: list[float] | None = None
    values: list[float] | None = None
    levels: int | None = Field(default=None, ge=2, le=1000)
    add: dict[str, Any] | None = None
    note: str = ""

    @field_validator("range")
    @classmethod
    def _range(cls, v):
        if v is None:
            return v
        if len(v) != 2:
            raise ValueError(f"range needs exactly two numbers [low, high] (got {len(v)})")
        low, high = v
        if low == high:
            raise ValueError(
                f"empty range: low and high are both {low}; give two different numbers, "
                f"or use values = [{low}] to fix the input"
            )
        if low > high:
            raise ValueError(f"inverted bounds: low {low} is above high {high}; write [low, high]")
        return v

    @field_validator("values")
    @classmethod
    def _values(cls, v):
        if v is None:
            return v
        if not v:
            raise ValueError("empty list of values; give at least one number")
        if len(set(v)) != len(v):
            raise ValueError("values must be different from each other")
        return v

    @model_validator(mode="after")
    def _one_domain(self):
        if (self.range is None) == (self.values is None):
            raise ValueError("give either range = [low, high] or values = [...], not both")
        return self


class SamplerSpec(_Strict):
    """How the inputs are sampled. ``samples`` is SALib's N: Sobol runs N*(D+2) points
    (N*(2D+2) with second_order), Morris N trajectories of D+1 points, Latin hypercube N
    points; a grid runs every combination (``levels`` points for each range input)."""

    method: str
    samples: int | None = Field(default=None, ge=1, le=MAX_RUNS)
    second_order: bool = False
    levels: int = Field(default=4, ge=2, le=1000)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, v):
        if not isinstance(v, str):
            raise ValueError(f"must be a string: sobol, morris, latin or grid (got {v!r})")
        name = v.strip().lower()
        name = {"saltelli": "sobol", "lhs": "latin", "latin_hypercube": "latin"}.get(name, name)
        if name not in SAMPLERS:
            raise ValueError(
                f"unknown sampler {v!r}; allowed: sobol (Saltelli), morris, latin, grid"
            )
        return name

    @model_validator(mode="after")
    def _samples(self):
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"samples is required for the {self.method} sampler")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(
                f"samples must be a power of 2 for the sobol sampler (got {self.samples}); "
                "e.g. 32, 64 or 128"
            )
        if self.second_order and self.method != "sobol":
            raise ValueError("second_order applies only to the sobol sampler")
        return self


class OutcomeSpec(_Strict):
    """One recorded outcome: an indicator over a span of years (see outcomes.py)."""

    indicator: str
    years: list[int] | None = None
    year: int | None = None
    difference: bool = False
    note: str = ""

    @field_validator("indicator")
    @classmethod
    def _indicator(cls, v):
        if v not in INDICATORS:
            raise ValueError(f"unknown indicator {v!r}; allowed: {', '.join(INDICATORS)}")
        return v

    @model_validator(mode="after")
    def _span(self):
        if (self.years is None) == (self.year is None):
            raise ValueError("give either years = [first, last] or year = YYYY")
        if self.years is not None:
            if len(self.years) != 2:
                raise ValueError("years needs two years [first, last]")
            if self.years[0] > self.years[1]:
                raise ValueError(f"inverted years: {self.years[0]} is after {self.years[1]}")
        if self.difference and self.indicator == COST_PER_CROSSING_AVERTED:
            raise ValueError("cost_per_crossing_averted is already relative to the base")
        return self

    @property
    def span(self) -> tuple[int, int]:
        return (self.year, self.year) if self.year is not None else tuple(self.years)


class GoalSpec(_Strict):
    """A goal for scenario discovery: ``outcome`` below (or above) a threshold in at least
    ``density`` of the runs inside the box PRIM finds."""

    outcome: str
    below: float | None = None
    above: float | None = None
    density: float = Field(default=0.8, gt=0, le=1)
    over: Literal["levers", "inputs"] = "levers"
    name: str = ""

    @model_validator(mode="after")
    def _one_side(self):
        if (self.below is None) == (self.above is None):
            raise ValueError("give either below = NUMBER or above = NUMBER")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        side = f"< {self.below:g}" if self.below is not None else f"> {self.above:g}"
        return f"{self.outcome} {side}"


class SweepFile(_Strict):
    """The whole sweep file."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    description: str = ""
    base: str = Field(min_length=1)
    scale: int | None = Field(default=None, ge=1, le=100_000)
    window: list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    replications: int = Field(default=1, ge=1, le=10_000)
    seeds: list[int] | None = None
    # each replication runs with its own draw of the calibrated posterior (the same draw at
    # every sample point and in its reference), so the sweep's spread carries what the data
    # leave open about the behavioural parameters, as `migflow run --draws` does
    posterior_draws: bool = False
    sampler: SamplerSpec
    inputs: dict[str, InputSpec] = Field(min_length=1)
    outcomes: dict[str, OutcomeSpec] = Field(min_length=1)
    goals: list[GoalSpec] = Field(default_factory=list)

    _name = field_validator("name")(checked_name)

    @field_validator("window")
    @classmethod
    def _window(cls, v):
        if v is not None and len(v) != 2:
            raise ValueError('window needs two months ["YYYY-MM", "YYYY-MM"]')
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        if v is None:
            return v
        if not v:
            raise ValueError("empty list of seeds")
        if len(set(v)) != len(v):
            raise ValueError("seeds must be different from each other")
        for s in v:
            if not 0 <= s < 2**32:
                raise ValueError(f"seed {s} is outside 0..4294967295")
        return v

    @field_validator("inputs", "outcomes")
    @classmethod
    def _names(cls, v):
        for name in v:
            if not _IDENT.fullmatch(name) or name in RESERVED:
                raise ValueError(
                    f"{name!r} cannot be a column name; use letters, digits, _ . - "
                    f"(starting with a letter), not {', '.join(sorted(RESERVED))}"
                )
        return v

    @model_validator(mode="after")
    def _cross(self):
        both = set(self.inputs) & set(self.outcomes)
        if both:
            raise ValueError(f"{sorted(both)[0]!r} is both an input and an outcome")
        for goal in self.goals:
            if goal.outcome not in self.outcomes:
                known = ", ".join(self.outcomes)
                raise ValueError(f"goal on unknown outcome {goal.outcome!r}; outcomes: {known}")
        if self.seeds is not None and self.seed is not None:
            raise ValueError("give either seed = N (with replications) or seeds = [...], not both")
        if self.seeds is not None and "replications" in self.model_fields_set:
            if self.replications != len(self.seeds):
                raise ValueError("give either seeds = [...] or replications = N, not both")
        return self


# ------------------------------------------------------------------------ resolution


@dataclass(frozen=True)
class ResolvedInput:
    """An input bound to its target in the base scenario."""

    name: str
    address: Address
    low: float | None
    high: float | None
    values: tuple[float, ...] | None
    levels: int
    index: int | None  # position of the lever entry in the expanded base (levers only)
    added: bool
    is_int: bool

    @property
    def kind(self) -> str:
        return "parameter" if self.address.is_parameter else "lever"

    @property
    def bounds(self) -> tuple[float, float]:
        """The SALib interval: the range itself, or [0, k) for k listed values."""
        if self.values is not None:
            return (0.0, float(len(self.values)))
        return (self.low, self.high)

    def value_of(self, u: float) -> float:
        """The input's value for a point ``u`` of its SALib interval."""
        if self.values is not None:
            k = len(self.values)
            return self.values[min(max(int(u), 0), k - 1)]
        return float(round(u)) if self.is_int else float(u)

    def grid(self) -> tuple[float, ...]:
        if self.values is not None:
            return self.values
        points = [
            self.low + (self.high - self.low) * i / (self.levels - 1) for i in range(self.levels)
        ]
        if self.is_int:
            points = sorted({float(round(p)) for p in points})
        return tuple(points)

    def describe(self) -> str:
        domain = (
            f"values {list(self.values)}"
            if self.values is not None
            else f"range [{self.low:g}, {self.high:g}]"
        )
        extra = " (added entry)" if self.added else ""
        return f"{self.name}: {self.address.text}{extra}, {domain}"


@dataclass
class SweepPlan:
    """A validated sweep, bound to its base scenario. Built by ``load_sweep`` or
    ``plan_from_json``; the only thing workers receive."""

    file: SweepFile
    source: str
    scenario: Scenario  # the base as loaded (before window and scale)
    base: Scenario  # window and scale applied: the reference scenario
    expanded: dict  # base + entries added by inputs, as JSON
    inputs: tuple[ResolvedInput, ...]
    seeds: tuple[int, ...]
    # with ``posterior_draws``: one parameter set per seed, drawn from the posterior once
    # (stored with the plan, so every worker runs the same draws)
    draws: tuple[dict[str, float], ...] = ()

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def outcomes(self) -> dict[str, OutcomeSpec]:
        return dict(self.file.outcomes)

    @property
    def goals(self) -> list[GoalSpec]:
        return list(self.file.goals)

    @property
    def needs_reference(self) -> bool:
        return any(
            o.difference or o.indicator == COST_PER_CROSSING_AVERTED
            for o in self.file.outcomes.values()
        )

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]

    @property
    def lever_inputs(self) -> list[str]:
        return [i.name for i in self.inputs if i.kind == "lever"]

    @property
    def parameter_inputs(self) -> list[str]:
        return [i.name for i in self.inputs if i.kind == "parameter"]

    @property
    def measure_names(self) -> list[str]:
        return [m for n, o in self.file.outcomes.items() for m in measure_names(n, o.indicator)]

    # -- building scenarios
    def _with_draw(self, data: dict, seed: int) -> dict:
        """The run's posterior draw under the scenario's parameters (a draw already holds
        the base scenario's own values, which win over it)."""
        if self.draws:
            data["parameters"] = dict(self.draws[self.seeds.index(int(seed))])
        return data

    def scenario_for(self, values: dict[str, float], seed: int) -> Scenario:
        """The scenario of one run: the expanded base with every input set."""
        data = self._with_draw(copy.deepcopy(self.expanded), seed)
        _set_inputs(data, self.inputs, values)
        data["seed"] = int(seed)
        return Scenario.model_validate(data)

    def reference_for(self, values: dict[str, float], seed: int) -> Scenario:
        """The reference of a run: the base scenario (no lever changed or added) with the
        run's parameter values and seed."""
        data = self._with_draw(self.base.model_dump(mode="json"), seed)
        params = [i for i in self.inputs if i.kind == "parameter"]
        _set_inputs(data, params, values)
        data["seed"] = int(seed)
        return Scenario.model_validate(data)

    # -- serialisation
    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "provenance": provenance(default_parameters(self.base.parameters)),
            "sweep": self.file.model_dump(mode="json"),
            "order": {"inputs": self.input_names, "outcomes": list(self.file.outcomes)},
            "base_scenario": self.scenario.model_dump(mode="json"),
            "posterior_draws": list(self.draws),
        }

    @property
    def fingerprint(self) -> str:
        """What the stored numbers depend on: changing any of it needs a new folder. Goals,
        names and descriptions are left out (they only affect the report)."""
        core = {
            "format": FORMAT,
            # the model the numbers come from: an upgrade or a refit is a new sweep
            "package_version": package_version(),
            "calibration": calibration_identity(),
            "parameters": default_parameters(self.base.parameters).as_dict(),
            "expanded": self.expanded,
            "reference": self.base.model_dump(mode="json"),
            "inputs": [
                [i.name, i.address.text, i.index, i.low, i.high, i.values, i.levels]
                for i in self.inputs
            ],
            "sampler": self.file.sampler.model_dump(mode="json"),
            "seeds": list(self.seeds),
            "posterior_draws": list(self.draws),
            "outcomes": {
                k: [o.indicator, list(o.span), o.difference] for k, o in self.file.outcomes.items()
            },
        }
        text = json.dumps(core, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _set_inputs(data: dict, inputs, values: dict[str, float]) -> None:
    for inp in inputs:
        value = values[inp.name]
        value = round(float(value)) if inp.is_int else float(value)
        if inp.kind == "parameter":
            data["parameters"] = {**data.get("parameters", {}), inp.address.parameter: value}
        else:
            data[inp.address.group][inp.index][inp.address.field] = value


def _fail(source: str, field: str, message: str) -> InputError:
    return InputError(message, source=source, field=field)


def _validation_message(exc: ValidationError) -> tuple[str, str]:
    field, msg = _format_validation_error(exc)
    return field, msg.replace("docs/scenarios.md", "docs/sweeps.md")


def resolve(
    file: SweepFile, scenario: Scenario, source: str = "sweep file", draws: list | None = None
) -> SweepPlan:
    """Bind a validated sweep file to its base scenario; raise InputError if anything does
    not fit. ``draws``: the posterior draws a stored plan was made with (else, with
    ``posterior_draws``, drawn now from the shipped posterior)."""
    base = scenario
    if file.window is not None:
        try:
            base = base.clipped(*file.window)
        except (ValidationError, ValueError) as exc:
            msg = _validation_message(exc)[1] if isinstance(exc, ValidationError) else str(exc)
            raise _fail(source, "window", msg) from None
    if file.scale is not None:
        base = base.with_changes(scale=file.scale)
    data = base.model_dump(mode="json")

    # 1. parse addresses, append the entries that inputs add
    parsed: dict[str, Address] = {}
    added_at: dict[str, int] = {}
    for name, spec in file.inputs.items():
        field = f"inputs.{name}.path"
        try:
            address = parse_address(spec.path)
        except AddressError as exc:
            raise _fail(source, field, str(exc)) from None
        parsed[name] = address
        if spec.add is None:
            continue
        if address.is_parameter:
            raise _fail(source, f"inputs.{name}.add", "add applies to levers, not parameters")
        if address.index is not None or not address.selector:
            raise _fail(
                source,
                f"inputs.{name}.add",
                "an added entry needs a key=value selector that names it "
                "(e.g. enforcement[edge=COL-PAN]), not a position",
            )
        first = spec.values[0] if spec.values is not None else spec.range[0]
        entry = {**dict(address.selector), **spec.add, address.field: first}
        if address.is_int:
            entry[address.field] = round(float(first))
        try:
            lever_class(address.group).model_validate(entry)
        except ValidationError as exc:
            sub, msg = _validation_message(exc)
            raise _fail(source, f"inputs.{name}.add", f"{sub}: {msg}") from None
        data[address.group].append(entry)
        added_at[name] = len(data[address.group]) - 1
        try:  # scenario-level rules too, e.g. the entry's months inside the window
            Scenario.model_validate(data)
        except ValidationError as exc:
            sub, msg = _validation_message(exc)
            detail = msg if sub == "(top level)" else f"{sub}: {msg}"
            raise _fail(source, f"inputs.{name}.add", detail) from None

    # 2. bind each input to exactly one target
    resolved, targets = [], {}
    for name, spec in file.inputs.items():
        address, field = parsed[name], f"inputs.{name}.path"
        index = added_at.get(name)
        if address.is_parameter:
            target = ("parameter", address.parameter)
            _check_parameter_domain(source, name, address.parameter, spec)
        else:
            if index is None:
                index = _match(source, field, address, data, scenario_name=base.name)
            target = (address.group, index, address.field)
        if target in targets:
            raise _fail(source, field, f"changes the same number as input {targets[target]!r}")
        targets[target] = name
        resolved.append(
            ResolvedInput(
                name=name,
                address=address,
                low=None if spec.range is None else float(spec.range[0]),
                high=None if spec.range is None else float(spec.range[1]),
                values=None if spec.values is None else tuple(float(v) for v in spec.values),
                levels=spec.levels or file.sampler.levels,
                index=index,
                added=name in added_at,
                is_int=address.is_int,
            )
        )
    inputs = tuple(resolved)

    # 3. the scenario must be valid at both ends of every range and at every listed value
    corner = {i.name: (i.values[0] if i.values is not None else i.low) for i in inputs}
    for inp in inputs:
        points = inp.values if inp.values is not None else (inp.low, inp.high)
        which = "values" if inp.values is not None else "range"
        for value in points:
            trial = copy.deepcopy(data)
            _set_inputs(trial, inputs, {**corner, inp.name: value})
            try:
                Scenario.model_validate(trial)
            except ValidationError as exc:
                sub, msg = _validation_message(exc)
                raise _fail(
                    source,
                    f"inputs.{inp.name}.{which}",
                    f"{value:g} is not allowed for {inp.address.text} ({sub}: {msg})",
                ) from None

    # 4. outcomes inside the window
    first_year, last_year = int(base.start[:4]), int(base.end[:4])
    for name, outcome in file.outcomes.items():
        lo, hi = outcome.span
        if not first_year <= lo <= hi <= last_year:
            raise _fail(
                source,
                f"outcomes.{name}",
                f"years {lo}..{hi} are outside the scenario window; "
                f"allowed {first_year}..{last_year}",
            )

    seeds = tuple(file.seeds) if file.seeds else _derived_seeds(file, base)
    if file.posterior_draws and draws is None:
        draws = _posterior_draws(source, base, seeds)
    chosen = tuple(dict(d) for d in draws or ()) if file.posterior_draws else ()
    plan = SweepPlan(file, source, scenario, base, data, inputs, seeds, chosen)
    n = count_runs(plan)
    if n > MAX_RUNS:
        raise _fail(source, "sampler", f"the sweep has {n:,} runs; the limit is {MAX_RUNS:,}")
    return plan


def _posterior_draws(source: str, base: Scenario, seeds: tuple[int, ...]) -> list[dict]:
    """One parameter set per seed from the shipped posterior ensemble (the base's own
    parameters win), drawn reproducibly from the first seed."""
    drawn = calibrated_draws(len(seeds), seed=seeds[0])
    if not drawn:
        raise _fail(source, "posterior_draws", "no calibration posterior is shipped to draw from")
    return [{**d, **(base.parameters or {})} for d in drawn]


def _derived_seeds(file: SweepFile, base: Scenario) -> tuple[int, ...]:
    first = base.seed if file.seed is None else file.seed
    return tuple((first + r) % 2**32 for r in range(file.replications))


def _check_parameter_domain(source: str, name: str, parameter: str, spec: InputSpec) -> None:
    ps = SPEC_BY_NAME[parameter]
    points = spec.values if spec.values is not None else spec.range
    which = "values" if spec.values is not None else "range"
    for value in points:
        if not ps.low <= value <= ps.high:
            raise _fail(
                source,
                f"inputs.{name}.{which}",
                f"{value:g} is outside the range of parameter {parameter}; "
                f"allowed {ps.low:g}..{ps.high:g} ({ps.unit})",
            )


def _match(source: str, field: str, address: Address, data: dict, scenario_name: str) -> int:
    entries = data[address.group]
    if address.index is not None:
        if not 0 <= address.index < len(entries):
            raise _fail(
                source,
                field,
                f"{address.group} has {len(entries)} entries in the base scenario "
                f"{scenario_name!r}; position {address.index} does not exist",
            )
        return address.index
    found = [i for i, e in enumerate(entries) if address.matches(e)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise _fail(
            source,
            field,
            f"{address.text} matches no {address.group} entry in the base scenario "
            f"{scenario_name!r}; to create one, give the input an add table, "
            'e.g. add = { start = "2024-01" }',
        )
    raise _fail(
        source,
        field,
        f"{address.text} matches {len(found)} {address.group} entries of the base scenario "
        f"(positions {', '.join(map(str, found))}); narrow the selector (e.g. start=YYYY-MM) "
        "or use a position, e.g. [0]",
    )


# ---------------------------------------------------------------------------- loading


def sweep_from_dict(
    data: dict, source: str = "sweep file", base_dir: Path | None = None
) -> SweepPlan:
    """Validate a mapping (as read from TOML) and resolve it against its base scenario."""
    if not isinstance(data, dict):
        raise InputError("a sweep file must be a TOML table", source=source)
    try:
        file = SweepFile.model_validate(data)
    except ValidationError as exc:
        field, msg = _validation_message(exc)
        raise InputError(msg, source=source, field=field) from None
    return resolve(file, _load_base(file.base, base_dir, source), source)


def _load_base(name: str, base_dir: Path | None, source: str) -> Scenario:
    """The base scenario, found as ``extends`` finds a parent: a file beside the sweep
    file or a shipped one; a problem finding it is the sweep file's."""
    return load_scenario(locate_scenario(name, base_dir, source, "base", "base scenario"))


def load_sweep(path: str | Path) -> SweepPlan:
    """Load, validate and resolve a sweep file. The base is looked up next to the file,
    then in scenarios/ (a bare name such as ``baseline`` works)."""
    path = Path(path)
    source = str(path)
    data = read_toml(path, source, kind="TOML sweep")
    return sweep_from_dict(data, source=source, base_dir=path.parent)


def plan_from_json(data: dict) -> SweepPlan:
    """The plan stored in ``DIR/sweep.json`` (no file needed: the base is stored whole)."""
    if data.get("format") != FORMAT:
        raise InputError(f"not a {FORMAT} sweep description", source="sweep.json")
    sweep = dict(data["sweep"])
    order = data.get("order", {})
    for key in ("inputs", "outcomes"):  # JSON writers may sort keys; the design needs order
        names = order.get(key) or list(sweep[key])
        sweep[key] = {n: sweep[key][n] for n in names}
    file = SweepFile.model_validate(sweep)
    scenario = Scenario.model_validate(data["base_scenario"])
    return resolve(
        file, scenario, data.get("source", "sweep.json"), data.get("posterior_draws") or None
    )
