"""``migflow app``: start the Streamlit what-if app on localhost.

Joined to the ``migflow`` command line by ``migflow/cli.py``. Streamlit
is imported only when the command runs, so other commands start as fast as before.
"""

from __future__ import annotations

import os
import sys
import threading
import time
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


def _warm_up_once_serving(wait_seconds: float = 120.0) -> None:
    """Fill the server's cache with the baseline's run (``migflow.app.runs.warm_up``) as soon
    as the server exists; the app's modules are imported only then, so their caches are the
    server's."""
    from streamlit import runtime

    began = time.monotonic()
    while not runtime.exists():
        if time.monotonic() - began > wait_seconds:
            return
        time.sleep(0.05)
    from migflow.app.runs import warm_up

    warm_up()


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

    threading.Thread(target=_warm_up_once_serving, name="migflow-warm-up", daemon=True).start()
    headless = headless or not can_open_browser()
    typer.echo(f"migflow app: open http://{address}:{port} in a browser; Ctrl+C stops it")
    try:
        streamlit_cli.main(args=streamlit_args(port, address, headless), prog_name="streamlit")
    except SystemExit as exc:  # click exits when the server stops
        raise typer.Exit(exc.code if isinstance(exc.code, int) else 0) from None
