"""The app in a real browser: `migflow app` serves it on localhost, headless Chromium (Debian's
package, driven by Playwright) opens it, waits for the charts, types an out-of-range number
(which a browser box with bounds would silently refuse, blocking the Run button), resets,
changes a lever, clicks "Run scenario" and checks that the page shows the new results,
downloads its brief, opens the Sweeps page and fills in its form, and that
no request left the machine and the browser console logged no error. The server runs in a
fresh folder, as a user's would. The screenshot is saved in the test's temporary folder (its
path is printed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# This machine's notes: headless, no sandbox (root), no GPU, and no background connections,
# which the closed network would refuse.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 60
LOCAL = {"localhost", "127.0.0.1", None}  # None: data: and blob: addresses
PAGE_WAIT_MS = 90_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_server(tmp_path):
    """`migflow app` on a free localhost port; stopped (its whole process group) at the end."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    command = "import sys; from migflow.cli import main; sys.argv[0] = 'migflow'; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", command, "app", "--port", str(port), "--headless"],
        cwd=tmp_path,  # a user's folder, not the checkout: results and sweeps are written here
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://localhost:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server stopped: {(tmp_path / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within {SERVER_START_S} s")
            time.sleep(0.25)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)
        log.close()


def test_app_in_headless_chromium_runs_a_scenario_and_shows_results(app_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    began = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1800},
        )
        try:
            page = browser.new_page()
            elsewhere, console_errors = [], []
            page.on(
                "request",
                lambda r: urlparse(r.url).hostname not in LOCAL and elsewhere.append(r.url),
            )
            page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
            page.set_default_timeout(PAGE_WAIT_MS)
            # ``expect`` has its own timeout (5 s by default), separate from the page's: a
            # scenario run plus its baseline can take longer than that on a loaded machine
            expect.set_options(timeout=PAGE_WAIT_MS)
            page.goto(app_server, wait_until="domcontentloaded")
            # Opens on the baseline, already run: charts drawn, indicators shown.
            page.get_by_role("tab", name="Time series").click()  # a visit opens on the table
            page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()
            expect(page.get_by_text("Darién crossings, per year").first).to_be_visible()
            expect(page.get_by_text("This is the baseline.")).to_be_visible()

            # An out-of-range entry is corrected on Run with a message beside the button,
            # and Reset puts the box back.
            page.get_by_text("Integration funding and services, per host", exact=True).click()
            colombia = page.get_by_role("spinbutton", name="$M a year").first
            colombia.fill("99999")
            page.get_by_role("button", name="Run scenario").click()
            expect(page.get_by_text("99,999 is more than the 5,000 allowed")).to_be_visible()
            expect(colombia).to_have_value("5000.0")
            page.get_by_role("button", name="Reset levers").click()
            expect(colombia).to_have_value("0.0")
            expect(page.get_by_text("99,999 is more than the 5,000 allowed")).to_have_count(0)

            # Double the labour visas and run.
            page.get_by_text("Legal pathways", exact=True).click()
            visas = page.get_by_role(
                "spinbutton",
                name="Temporary worker visas: Guatemala, Honduras, El Salvador → US: extra "
                "places/yr",
            )
            visas.fill("9800")
            page.get_by_role("button", name="Run scenario").click()

            # The page now shows the edited scenario against the baseline.
            expect(page.get_by_text("baseline_edited").first).to_be_visible()
            pathways = page.locator('[data-testid="stMetric"]').filter(
                has_text="Legal pathway arrivals"
            )
            expect(pathways.locator('[data-testid="stMetricDelta"]')).to_contain_text("+")
            page.get_by_role("tab", name="Time series").click()  # a visit opens on the table
            page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()
            expect(page.get_by_text("Cost per Darién crossing averted")).to_be_visible()
            # Each tab is drawn when chosen: the map, then the flow diagram.
            for tab, drawn in (("Map", "chart_map"), ("Flows", "chart_sankey")):
                page.get_by_role("tab", name=tab).click()
                page.locator(f".st-key-{drawn} .main-svg").first.wait_for()
            page.get_by_role("tab", name="Time series").click()
            # The brief for a meeting downloads as one page that names the change.
            with page.expect_download() as download:
                page.get_by_role("button", name="Brief for a meeting (HTML, prints to PDF)").click()
            saved = tmp_path / "brief.html"
            download.value.save_as(saved)
            assert "<h1>What if: Baseline: history as it happened, then no change, with your " in (
                saved.read_text(encoding="utf-8")
            )
            time.sleep(1.0)  # let the charts finish drawing before the screenshot
            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)

            # The Sweeps page opens with its form, the fewest runs reachable from the keyboard
            # (a sweep started there runs in a process of its own, which
            # test_sweeps_app.py starts, follows to the end and draws)
            page.get_by_role("link", name="Sweeps").click()
            page.get_by_label("Name of the sweep").fill("browser_check")
            page.get_by_role("slider", name="Runs").press("Home")  # the fewest: 8
            expect(page.get_by_role("slider", name="Runs")).to_have_value("8")
            expect(page.get_by_role("button", name="Start the sweep")).to_be_enabled()
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    assert elsewhere == [], f"requests to other hosts: {elsewhere[:5]}"
    assert console_errors == [], console_errors[:5]
    print(f"screenshot: {shot} (browser test took {time.monotonic() - began:.1f} s)")
