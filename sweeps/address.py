"""Addresses: how a sweep input names the number it changes in a scenario.

Two forms:

* ``parameter:NAME``: a behavioural parameter of ``model/parameters.py``, set under the
  scenario's ``[parameters]`` (e.g. ``parameter:beta_enforcement``,
  ``parameter:emigration_base.VEN``).
* ``GROUP[SELECTOR].FIELD``: a numeric field of one lever entry. ``GROUP`` is a lever list of
  the scenario (integration, regularisation, pathways, enforcement, asylum, root_causes);
  ``SELECTOR`` picks the entry, either by position (``[0]``) or by ``key=value`` pairs
  separated by commas (``[host=PER]``, ``[edge=COL-PAN, start=2024-01]``,
  ``[name="Labour visas, NCA"]``; quote values that hold commas or brackets). A list field
  (``origins``) matches when it contains the value. ``GROUP.FIELD`` without a selector picks
  the group's only entry.

Parsing is pure: matching against a scenario happens in ``spec.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args

from migflow.model.parameters import SPEC_BY_NAME
from migflow.model.scenario import LEVER_GROUPS, Scenario

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AddressError(ValueError):
    """An address that cannot be parsed or names nothing; the message is for the user."""


def lever_class(group: str):
    """The pydantic model of one entry of a lever group."""
    return get_args(Scenario.model_fields[group].annotation)[0]


def numeric_fields(group: str) -> dict[str, type]:
    """The fields of a lever group that a sweep can vary (float or int)."""
    fields = lever_class(group).model_fields
    return {k: f.annotation for k, f in fields.items() if f.annotation in (float, int)}


@dataclass(frozen=True)
class Address:
    """A parsed address. ``parameter`` is set for parameters; the other fields for levers."""

    text: str
    parameter: str | None = None
    group: str | None = None
    index: int | None = None
    selector: tuple[tuple[str, str], ...] = ()
    field: str | None = None

    @property
    def is_parameter(self) -> bool:
        return self.parameter is not None

    @property
    def is_int(self) -> bool:
        return not self.is_parameter and numeric_fields(self.group)[self.field] is int

    def matches(self, entry: dict[str, Any]) -> bool:
        """Whether a lever entry (as a JSON dict) satisfies the ``key=value`` selector."""
        for key, want in self.selector:
            have = entry.get(key)
            if isinstance(have, list):
                if want not in [str(v) for v in have]:
                    return False
            elif not _same(have, want):
                return False
        return True


def _same(have: Any, want: str) -> bool:
    if have is None:
        return want.lower() in ("", "none")
    if isinstance(have, int | float) and not isinstance(have, bool):
        try:
            return float(want) == float(have)
        except ValueError:
            return False
    return str(have) == want


def parse_address(text: str) -> Address:
    """Parse ``parameter:NAME`` or ``GROUP[SELECTOR].FIELD``; raise AddressError if bad."""
    text = text.strip()
    if text.startswith("parameter:"):
        name = text.removeprefix("parameter:").strip()
        if name not in SPEC_BY_NAME:
            close = [n for n in SPEC_BY_NAME if n.split(".")[0] == name.split(".")[0]]
            hint = f" (e.g. {', '.join(close[:3])})" if close else "; see docs/scenarios.md"
            raise AddressError(f"unknown parameter {name!r}{hint}")
        return Address(text=text, parameter=name)
    match = _NAME.match(text)
    if not match:
        raise AddressError(
            f"cannot read address {text!r}; write parameter:NAME or GROUP[key=value].FIELD, "
            "e.g. integration[host=PER].funding_musd_per_year"
        )
    group, pos = match.group(), match.end()
    if group not in LEVER_GROUPS:
        raise AddressError(
            f"unknown lever group {group!r}; allowed: {', '.join(LEVER_GROUPS)} "
            "(or parameter:NAME for a model parameter)"
        )
    index, selector = None, ()
    if pos < len(text) and text[pos] == "[":
        body, pos = _bracket(text, pos)
        if re.fullmatch(r"\s*\d+\s*", body):
            index = int(body)
        elif body.strip():
            selector = _selector(body, group, text)
    if not text[pos:].startswith("."):
        raise AddressError(f"{text!r}: expected .FIELD after {text[:pos]!r}")
    field = text[pos + 1 :].strip()
    allowed = numeric_fields(group)
    if field not in allowed:
        raise AddressError(
            f"{text!r}: {field!r} is not a numeric field of {group}; allowed: {', '.join(allowed)}"
        )
    return Address(text=text, group=group, index=index, selector=selector, field=field)


def _bracket(text: str, start: int) -> tuple[str, int]:
    """The text between ``[`` at ``start`` and its closing ``]`` (quotes respected)."""
    quote = None
    for i in range(start + 1, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "]":
            return text[start + 1 : i], i + 1
    raise AddressError(f"{text!r}: unclosed '['")


_PAIR = re.compile(r"""\s*([A-Za-z_]+)\s*=\s*("[^"]*"|'[^']*'|[^,]*?)\s*(,|$)""")


def _selector(body: str, group: str, text: str) -> tuple[tuple[str, str], ...]:
    fields = lever_class(group).model_fields
    pairs, pos = [], 0
    while pos < len(body):
        m = _PAIR.match(body, pos)
        if not m or m.end() == pos:
            raise AddressError(
                f"{text!r}: cannot read selector {body!r}; write key=value pairs separated by "
                'commas, quoting values with commas: [name="A, B"]'
            )
        key, value = m.group(1), m.group(2)
        if key not in fields:
            raise AddressError(
                f"{text!r}: {key!r} is not a field of {group}; allowed: {', '.join(fields)}"
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((key, value))
        pos = m.end()
    return tuple(pairs)
