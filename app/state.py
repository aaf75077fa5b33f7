"""Building Scenarios from the sidebar's widgets, and validating uploads.

Everything here is plain Python (no Streamlit), so it is tested directly. The widgets hold
*changes on top of* the scenario the user starts from, because that is how the scenario
format combines levers (docs/scenarios.md § 6): funding and capacities add up, so a widget
value is extra money or extra places; enforcement and asylum are states, so a widget value
replaces the scenario's value while the change applies. A change applies from ``start`` to
``end`` (months, inclusive), the range chosen at the top of the sidebar form.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from migflow.model.calendar import format_month, parse_month
from migflow.model.errors import InputError
from migflow.model.geography import COUNTRIES, US_BORDER
from migflow.model.limits import check_agents, check_time, estimate_work
from migflow.model.parameters import SPEC_BY_NAME
from migflow.model.policy import DEFAULT_ASYLUM_MONTHS
from migflow.model.scenario import (
    LEVER_GROUPS,
    MAX_FILE_BYTES,
    MAX_SEED,
    Scenario,
    list_scenarios,
    load_scenario,
    loads_scenario,
    parse_toml,
    scenario_from_dict,
)

NOTE = "added in the migflow app"

#: Hosts offered for integration and regularisation, the five main hosts of the seeds first.
HOSTS = ("COL", "PER", "ECU", "CHL", "BRA", "ARG", "PAN", "CRI", "MEX", "USA")
#: Origins offered for root-cause funding (XCO, the extra-continental origin, is left out).
ROOT_CAUSE_ORIGINS = ("GTM", "HND", "SLV", "VEN", "HTI", "CUB", "NIC", "ECU", "COL")
REGULARISATION_ORIGINS = ("VEN", "HTI", "CUB", "ECU", "COL", "NIC", "GTM", "HND", "SLV", "XCO")

#: Borders with an enforcement slider: route edge -> label.
BORDERS = {
    "COL-PAN": "Darién Gap (Colombia → Panama)",
    "GTM-MEX": "Mexico's southern border (Guatemala → Mexico)",
    US_BORDER: "US southwest border (Mexico → US)",
}


#: The year the app is used in: what-ifs change levers "from now on" (January of it) and
#: every figure is read from it to the end, unless the user chooses otherwise.
THIS_YEAR = date.today().year
DEFAULT_CHANGE_START = f"{THIS_YEAR}-01"  # what-ifs act from now on


def country_name(code: str) -> str:
    return COUNTRIES[code][0] if code in COUNTRIES else code


@dataclass(frozen=True)
class PathwayPreset:
    """A legal pathway the sidebar offers, with extra places per year as its one input."""

    label: str
    kind: str
    origins: tuple[str, ...]
    destination: str
    duration_months: int = 0
    referral_countries: tuple[str, ...] = ()
    help: str = ""


PATHWAYS: dict[str, PathwayPreset] = {
    "labour_nca": PathwayPreset(
        "Temporary worker visas: Guatemala, Honduras, El Salvador → US",
        "labour",
        ("GTM", "HND", "SLV"),
        "USA",
        duration_months=8,
        help="Seasonal work visas (8 months, then people return). The seeds: 'from approximately "
        "9,800 to more than 19,000' a year; 9,200 extra places double the baseline's 9,800.",
    ),
    "parole_cub": PathwayPreset(
        "Cuban Family Reunification Parole → US",
        "parole",
        ("CUB",),
        "USA",
        help="Permanent legal entry for Cubans who would otherwise travel irregularly to the US.",
    ),
    "safe_mobility": PathwayPreset(
        "Safe Mobility Offices in Colombia, Costa Rica, Guatemala → US",
        "safe_mobility",
        ("VEN", "HTI", "CUB", "NIC", "COL", "ECU"),
        "USA",
        referral_countries=("COL", "CRI", "GTM"),
        help="Referrals of migrants already in or passing through Colombia, Costa Rica or "
        "Guatemala who are heading for the US (they then travel legally, without the Darién "
        "for those still in Colombia).",
    ),
    "resettlement_us": PathwayPreset(
        "Refugee resettlement to the US: Venezuelans, Haitians, Cubans, Nicaraguans",
        "resettlement",
        ("VEN", "HTI", "CUB", "NIC"),
        "USA",
        help="Legal entry from the origin for people who would otherwise set out irregularly "
        "for the US.",
    ),
    "labour_can": PathwayPreset(
        "Labour pathway to Canada: Guatemala, Honduras, El Salvador",
        "labour",
        ("GTM", "HND", "SLV"),
        "CAN",
        duration_months=8,
        help="Seasonal work visas for Canada. Canada has no irregular route in the model, so "
        "these places divert people who would have gone to the US border.",
    ),
}


@dataclass
class LeverInputs:
    """The sidebar's values. Zero (or ``None`` for enforcement and asylum) means no change."""

    start: str
    end: str
    integration_musd: dict[str, float] = field(default_factory=dict)
    integration_services: dict[str, float] = field(default_factory=dict)
    regularisation: dict[str, float] = field(default_factory=dict)
    regularisation_origins: tuple[str, ...] = ("VEN",)
    regularisation_cutoff: bool = True
    pathways: dict[str, float] = field(default_factory=dict)
    enforcement: dict[str, float | None] = field(default_factory=dict)
    asylum_months: float | None = None
    root_causes: dict[str, float] = field(default_factory=dict)
    name: str = ""
    seed: int | None = None
    scale: int | None = None


@dataclass(frozen=True)
class NumberBox:
    """A number box of the sidebar: what it is in the widget's words and what it allows.

    The boxes carry no bounds in the browser: a browser box with bounds refuses an
    out-of-range entry by turning red and ignoring every later press of "Run scenario" without
    a word. Out-of-range entries are instead corrected on Run, with a message beside the
    button (``corrected``)."""

    words: str
    high: float
    low: float = 0.0
    whole: bool = False


#: the most a sidebar box allows: funding ($M a year), people served a month, places
MAX_FUNDING_MUSD, MAX_SERVED, MAX_PLACES = 5000.0, 200_000.0, 500_000.0


@cache
def number_boxes() -> dict[str, NumberBox]:
    """Every number box of the sidebar by its session key (built once: read for each box's
    help and on every Run; do not change the mapping returned)."""
    boxes = {}
    for host in HOSTS:
        name = country_name(host)
        boxes[f"lv_int_{host}"] = NumberBox(
            f"Integration funding in {name}, $M a year", MAX_FUNDING_MUSD
        )
        boxes[f"lv_srv_{host}"] = NumberBox(f"People served a month in {name}", MAX_SERVED)
        boxes[f"lv_reg_{host}"] = NumberBox(f"{name}: regularisation places a month", MAX_PLACES)
    for key, preset in PATHWAYS.items():
        boxes[f"lv_path_{key}"] = NumberBox(f"{preset.label}: extra places a year", MAX_PLACES)
    for origin in ROOT_CAUSE_ORIGINS:
        boxes[f"lv_rc_{origin}"] = NumberBox(
            f"Root-cause funding in {country_name(origin)}, $M a year", MAX_FUNDING_MUSD
        )
    boxes["lv_seed"] = NumberBox("Random seed", MAX_SEED, whole=True)
    return boxes


def correct(box: NumberBox, value: object) -> tuple[float, str | None]:
    """``value`` brought inside what ``box`` allows, and why it had to change (None if it
    did not). An empty box counts as its lowest value."""
    number = float(value) if isinstance(value, int | float) else float("nan")
    if number != number:  # empty (or not a number)
        new, why = box.low, "was empty"
    elif number > box.high:
        new, why = box.high, f"{number:,.0f} is more than the {box.high:,.0f} allowed"
    elif number < box.low:
        new, why = box.low, f"{number:,.0f} is less than the {box.low:,.0f} allowed"
    else:
        new, why = number, None
    if box.whole and why is None and new != round(new):
        new, why = float(round(new)), f"{number} is not a whole number"
    new = int(new) if box.whole else new
    return new, None if why is None else f"{box.words}: {why}; set to {new:,.0f}."


def corrected(values: dict[str, object]) -> tuple[dict[str, float], list[str]]:
    """The sidebar boxes' ``values`` (by session key) brought inside what each allows, and one
    sentence per box that had to change, in the widget's words."""
    fixed, notes = {}, []
    for key, box in number_boxes().items():
        if key in values:
            fixed[key], note = correct(box, values[key])
            notes += [note] if note else []
    return fixed, notes


#: The scenario file's lever groups in the words of the sidebar's sections, for messages.
GROUP_WORDS = {
    "integration": "Integration funding and services",
    "regularisation": "Regularisation programmes",
    "pathways": "Legal pathways",
    "enforcement": "Enforcement at the borders",
    "asylum": "US asylum processing time",
    "root_causes": "Root-cause funding",
    "name": "Name of your scenario",
    "seed": "Random seed",
    "scale": "Scale",
}


def lever_problems(inputs: LeverInputs) -> list[str]:
    """What stops ``inputs`` from making a scenario, in the sidebar's words (empty: none)."""
    problems = []
    if any(v > 0 for v in inputs.regularisation.values()) and not inputs.regularisation_origins:
        problems.append(
            "Regularisation programmes: choose at least one nationality under 'Open to "
            "nationals of', or set the places to 0."
        )
    return problems


def in_words(error: InputError) -> str:
    """A scenario error from the levers, named by the sidebar section it comes from instead
    of the scenario file's field (``regularisation[3].origins``)."""
    head = (error.field or "").split("[")[0].split(".")[0]
    return f"{GROUP_WORDS.get(head, 'The changes')}: {error.message}"


def _active(lever, month: int) -> bool:
    first = parse_month(lever.start)
    last = parse_month(lever.end) if lever.end is not None else 10**9
    return first <= month <= last


def enforcement_at(scenario: Scenario, edge: str, month: str) -> float:
    """Interdiction on ``edge`` in ``month`` for everyone crossing: the last entry for all
    nationalities covering it wins (0 if none). Entries for some nationalities only (a visa,
    Title 42) are not what the app's border slider sets, so they are left out."""
    m, value = parse_month(month), 0.0
    for lever in scenario.enforcement:
        if lever.edge == edge and lever.origins is None and _active(lever, m):
            value = lever.interdiction
    return value


def asylum_at(scenario: Scenario, month: str) -> float:
    """US asylum processing time in ``month``, months (the model's default if no entry)."""
    m, value = parse_month(month), float(DEFAULT_ASYLUM_MONTHS)
    for lever in scenario.asylum:
        if _active(lever, m):
            value = lever.processing_months
    return value


def pathway_capacity(scenario: Scenario, preset: PathwayPreset, month: str) -> float:
    """Places a year already open in ``month`` on pathways like ``preset`` (same kind and
    destination, an origin in common)."""
    m = parse_month(month)
    return sum(
        p.capacity_per_year
        for p in scenario.pathways
        if p.kind == preset.kind
        and p.destination == preset.destination
        and set(p.origins) & set(preset.origins)
        and _active(p, m)
    )


def months_between(start: str, end: str) -> list[str]:
    return [format_month(m) for m in range(parse_month(start), parse_month(end) + 1)]


def changes(inputs: LeverInputs) -> list[str]:
    """The changes the inputs make, one short phrase each (for the name and the page)."""
    out = []
    for host in HOSTS:
        if inputs.integration_musd.get(host, 0) > 0:
            out.append(f"integration {host} +${inputs.integration_musd[host]:,.0f} M/yr")
        if inputs.integration_services.get(host, 0) > 0:
            out.append(f"integration services {host} +{inputs.integration_services[host]:,.0f}/mo")
        if inputs.regularisation.get(host, 0) > 0:
            out.append(f"regularisation {host} {inputs.regularisation[host]:,.0f}/mo")
    for key, preset in PATHWAYS.items():
        if inputs.pathways.get(key, 0) > 0:
            places = inputs.pathways[key]
            out.append(f"{preset.kind} pathway → {preset.destination} +{places:,.0f}/yr")
    for edge, value in inputs.enforcement.items():
        if value is not None:
            out.append(f"interdiction {edge} {value:.2f}")
    if inputs.asylum_months is not None:
        out.append(f"US asylum {inputs.asylum_months:g} months")
    for origin in ROOT_CAUSE_ORIGINS:
        if inputs.root_causes.get(origin, 0) > 0:
            out.append(f"root causes {origin} ${inputs.root_causes[origin]:,.0f} M/yr")
    return out


def build_scenario(base: Scenario, inputs: LeverInputs) -> Scenario:
    """``base`` plus the changes in ``inputs``, validated. Raises ``InputError`` (one line,
    naming the field) if the result is not a valid scenario."""
    data = base.model_dump(mode="json", exclude_none=True)
    dated = {"start": inputs.start, "end": inputs.end, "note": NOTE}
    for host in HOSTS:
        musd = float(inputs.integration_musd.get(host, 0) or 0)
        served = float(inputs.integration_services.get(host, 0) or 0)
        if musd > 0 or served > 0:
            data["integration"].append(
                {"host": host, "funding_musd_per_year": musd, "services_per_month": served, **dated}
            )
        capacity = float(inputs.regularisation.get(host, 0) or 0)
        if capacity > 0:
            programme = {
                "host": host,
                "name": f"Regularisation programme in {country_name(host)} (app)",
                "capacity_per_month": capacity,
                "origins": list(inputs.regularisation_origins),
                **dated,
            }
            if inputs.regularisation_cutoff:
                programme["arrived_before"] = inputs.start
            data["regularisation"].append(programme)
    for key, preset in PATHWAYS.items():
        places = float(inputs.pathways.get(key, 0) or 0)
        if places > 0:
            data["pathways"].append(
                {
                    "name": f"{preset.label} (app)",
                    "kind": preset.kind,
                    "origins": list(preset.origins),
                    "destination": preset.destination,
                    "capacity_per_year": places,
                    "duration_months": preset.duration_months,
                    "referral_countries": list(preset.referral_countries),
                    **dated,
                }
            )
    for edge, value in inputs.enforcement.items():
        if value is not None:
            data["enforcement"].append({"edge": edge, "interdiction": float(value), **dated})
    if inputs.asylum_months is not None:
        data["asylum"].append({"processing_months": float(inputs.asylum_months), **dated})
    for origin in ROOT_CAUSE_ORIGINS:
        musd = float(inputs.root_causes.get(origin, 0) or 0)
        if musd > 0:
            data["root_causes"].append({"origin": origin, "funding_musd_per_year": musd, **dated})
    made = changes(inputs)
    if inputs.name.strip():
        data["title"] = inputs.name.strip()
    elif made:
        data["title"] = f"{base.shown_title}, with your changes"
    if made:
        data["name"] = inputs.name.strip() or f"{base.name}_edited"
        window = f" ({inputs.start}..{inputs.end})"
        data["description"] = f"{base.name} + " + "; ".join(made) + window
    elif inputs.name.strip():
        data["name"] = inputs.name.strip()
    if inputs.seed is not None:
        data["seed"] = int(inputs.seed)
    if inputs.scale is not None:
        data["scale"] = int(inputs.scale)
    return scenario_from_dict(data, source="edited scenario")


def shipped_scenarios() -> dict[str, Path]:
    """Shipped scenario files by name (file stem), baseline first."""
    return {p.stem: p for p in list_scenarios()}


@cache
def shipped_scenario(name: str) -> Scenario:
    """A shipped scenario, parsed once per server (a page run reads the baseline several
    times, at about 40 ms a parse): scenarios are immutable, and the shipped files are read
    as they were when first asked for, as their titles are (``scenario_titles``)."""
    return load_scenario(shipped_scenarios()[name])


@cache
def scenario_titles() -> dict[str, str]:
    """The plain-words title of each shipped scenario by name (the name if it has none), read
    from each file's own ``title`` without resolving what it extends."""
    titles = {}
    for name, path in shipped_scenarios().items():
        title = tomllib.loads(path.read_text(encoding="utf-8")).get("title")
        titles[name] = title if isinstance(title, str) and title.strip() else name
    return titles


def scenario_from_upload(data: bytes, filename: str) -> Scenario:
    """Validate an uploaded scenario file. Only TOML is parsed: nothing is executed or
    unpickled. ``extends`` may name only a file shipped in ``scenarios/``. Raises
    ``InputError`` with one line naming the file, the field and what is allowed."""
    source = Path(filename).name or "upload"
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"file is larger than {MAX_FILE_BYTES // 1000} kB", source=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a text file (expected UTF-8 TOML)", source=source) from None
    raw = parse_toml(text, source)  # also refuses nesting deep enough to crash tomllib
    parent = raw.get("extends")
    if parent is not None:
        allowed = sorted(p.name for p in list_scenarios())
        if not isinstance(parent, str) or parent not in allowed:
            raise InputError(
                "an uploaded file can extend only a file in scenarios/; "
                f"allowed: {', '.join(allowed)}",
                source=source,
                field="extends",
            )
    scenario = loads_scenario(text, source=source)
    # The app is shared and has no --yes: a file asking for a run longer than the soft
    # limit is refused here rather than left to occupy it (migflow run --yes can run it).
    work = estimate_work(scenario)
    check_agents(work, source=source)
    hint = "the app runs at most two minutes; use migflow run --yes for this file"
    check_time(work.seconds, yes=False, source=source, hint=hint)
    return scenario


def same_policy(a: Scenario, b: Scenario) -> bool:
    """True if two scenarios differ at most in name and description (so one run serves both)."""
    skip = {"name", "description"}
    return a.model_dump(mode="json", exclude=skip) == b.model_dump(mode="json", exclude=skip)


#: A lever entry's fields in the app's words (fields not listed are not shown).
FIELD_WORDS = {
    "host": "in",
    "origin": "in",
    "funding_musd_per_year": "$M a year",
    "services_per_month": "people served a month",
    "capacity_per_month": "places a month",
    "capacity_per_year": "places a year",
    "origins": "for nationals of",
    "destination": "to",
    "referral_countries": "applications taken in",
    "arrived_before": "for those who arrived before",
    "status_ends": "status taken back from",
    "duration_months": "stay (months)",
    "edge": "border",
    "interdiction": "share of crossings stopped",
    "expulsion": "expelled",
    "processing_months": "months to decide an asylum case",
}


def _words(field: str, value) -> str:
    """One field of a lever entry in words: country codes as names, numbers with commas."""
    if field == "edge":
        value = " → ".join(country_name(c) for c in str(value).split("-"))
    elif isinstance(value, list):
        value = ", ".join(country_name(v) for v in value)
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, int | float):
        value = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"
    elif field in ("host", "origin", "destination"):
        value = country_name(str(value))
    return f"{FIELD_WORDS[field]} {value}"


#: the scenario's trajectory tables in words (a fitted push knot is a push, set by the fit)
TRAJECTORY_WORDS = {
    "push": "Pressure to leave",
    "fitted_push": "Pressure to leave",
    "opportunity": "Opportunity",
}


def changes_from(scenario: Scenario, reference: Scenario) -> list[dict[str, str]]:
    """The lever entries (and parameter or trajectory changes) of ``scenario`` that
    ``reference`` does not have, one row each in words: lever, what, from, to, note."""
    ref = reference.model_dump(mode="json")
    mine = scenario.model_dump(mode="json")
    rows = []
    for group in LEVER_GROUPS:
        for lever in mine[group]:
            if lever in ref[group]:
                continue
            what = "; ".join(
                _words(k, v)
                for k, v in lever.items()
                if k in FIELD_WORDS
                and v not in ("", [], None)
                # a zero or "no" is the field's default, except a border left open
                and (k == "interdiction" or v not in (0, False))
            )
            if lever.get("name"):
                what = f"{lever['name']}: {what}"
            rows.append(
                {
                    "lever": GROUP_WORDS[group],
                    "what": what,
                    "from": lever["start"],
                    "to": lever.get("end") or scenario.end,
                    "note": lever.get("note", ""),
                }
            )
    for name, value in mine["parameters"].items():
        if ref["parameters"].get(name) != value:
            spec = SPEC_BY_NAME.get(name.split(".")[0])
            rows.append(
                {
                    "lever": "How migrants behave (a model parameter)",
                    "what": f"{spec.doc if spec else name} Set to {value:,.4g}.",
                    "from": scenario.start,
                    "to": scenario.end,
                    "note": f"for the whole run ({name})",
                }
            )
    for table in ("push", "fitted_push", "opportunity"):
        for code, trajectory in mine[table].items():
            if ref[table].get(code) != trajectory:
                rows.append(
                    {
                        "lever": TRAJECTORY_WORDS[table],
                        "what": f"{country_name(code)}: a different path over the years",
                        "from": min(trajectory),
                        "to": max(trajectory),
                        "note": "",
                    }
                )
    return rows
