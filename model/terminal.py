"""Terminal plumbing shared by every layer's commands (run, calibrate, sweep, app).

One console for results and one for errors, and one rule for turning an ``InputError`` into
a single line with exit status 2, so that every command of ``migflow`` reports bad input the
same way. It lives in the model layer so that calibration's and the sweeps' commands can use
it without importing the command line that assembles them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from .errors import InputError
from .limits import MAX_DRAWS, MIN_DRAWS

console = Console()
err = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn input problems into one line and exit status 2."""
    try:
        yield
    except InputError as exc:
        err.print("error: " + str(exc), highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2) from None


YES = typer.Option(False, "--yes", help="Start a run estimated to take over two minutes")


def check_draws(draws: int, field: str = "--draws", allow_none: bool = True) -> None:
    """0 (none, where allowed) or MIN_DRAWS..MAX_DRAWS: one draw has no interval."""
    if allow_none and draws == 0:
        return
    if not MIN_DRAWS <= draws <= MAX_DRAWS:
        none = "0 for none, or " if allow_none else ""
        raise InputError(
            f"must be {none}{MIN_DRAWS}..{MAX_DRAWS} (got {draws}); "
            "a 90% interval needs at least 2 draws",
            field=field,
        )
