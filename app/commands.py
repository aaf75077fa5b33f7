"""``migflow app``: start the Streamlit what-if app on localhost.

Joined to the ``migflow`` command line by ``migflow/cli.py``. Streamlit
is imported only when the command runs, so other commands start as fast as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

commands = typer.Typer()  # joined to the ``migflow`` command line by migflow/cli.py


MAIN = Path(__file__).resolve().parent / "main.py"


def streamlit_args(port: int, address: str, headless: bool) -> list[str]:
    """The arguments of ``streamlit run`` that start the app."""
    return [
        "run",
        str(MAIN),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        # in MB: well above the app's own limit (1,000 kB, checked with the rest of an
        # upload), so a file a little too large gets the app's message, not the browser's
        "--server.maxUploadSize",
        "20",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def can_open_browser() -> bool:
    """Whether a browser can be opened for the user: a terminal to answer in and, on Linux,
    a screen. Otherwise the server runs headless; not headless, Streamlit's first run on a
    machine waits at a prompt for an e-mail address, which a machine with no screen (or a
    script) would never answer."""
    has_screen = sys.platform != "linux" or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    return has_screen and sys.stdin.isatty()


def _warm_up() -> None:
    """Run the baseline into the cache the server's sessions share (``migflow.app.runs.warm_up``)
    before the server starts to listen: a server that answers is one whose first visitor sees
    the baseline as soon as every later one. The cache is made before the server, so
    Streamlit's note that it has no server yet is silenced."""
    import logging

    import streamlit.runtime.caching.cache_data_api  # noqa: F401 (makes the logger first)

    note = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = note.level
    note.setLevel(logging.ERROR)
    try:
        from migflow.app.runs import warm_up

        warm_up()
    finally:
        note.setLevel(level)


@commands.command("app")
def app_command(
    port: int = typer.Option(8501, "--port", help="Port to serve on"),
    address: str = typer.Option("localhost", "--address", help="Address to serve on"),
    headless: bool = typer.Option(
        False, "--headless", help="Do not open a browser (for servers and tests)"
    ),
) -> None:
    """Start the what-if app (a Streamlit server on localhost); Ctrl+C stops it."""
    from streamlit.web import cli as streamlit_cli

    headless = headless or not can_open_browser()
    typer.echo("migflow app: running the baseline once, for every visitor (a few seconds)")
    _warm_up()
    typer.echo(f"migflow app: open http://{address}:{port} in a browser; Ctrl+C stops it")
    try:
        streamlit_cli.main(args=streamlit_args(port, address, headless), prog_name="streamlit")
    except SystemExit as exc:  # click exits when the server stops
        raise typer.Exit(exc.code if isinstance(exc.code, int) else 0) from None
