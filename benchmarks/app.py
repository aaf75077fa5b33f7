"""App benchmark: how long the what-if app takes to show results.

Prints figures; asserts nothing (timings are not tests). Target (issue 4, on the 2-core
reference machine): the default run, which the app shows on opening, returns in under
2 seconds.

    python benchmarks/app.py

1. App start (AppTest, no browser): a new session of the real app script, from nothing to the
   baseline's indicators and its year-by-year table (the first view; the charts are drawn when
   their tab is chosen), once with an empty cache (as if ``migflow app`` had not run the
   baseline before listening; includes importing the app) and once with the run cached (every
   visitor).
2. The default run, cold and uncached, through the function the app's cache calls on a miss
   (``app.runs.run_uncached``: parse the scenario's TOML text, run it): the first call in this
   process, then the median of three more.
3. An edited scenario with its baseline (what pressing "Run scenario" costs the first time:
   the baseline, then the scenario from the baseline's state at its first changed month),
   again (cached), and with another value of one lever (the scenario alone, resumed).
4. In headless Chromium (Debian's, driven by Playwright; skipped without it), as a user waits:
   ``migflow app`` on a free port, a new visit until the baseline's headline cards show (the
   first visit after the server starts, and a second one), and a lever change (double the
   labour visas, press "Run scenario"; the clock starts at the press, once the lever's group
   has finished opening) until the changed card shows, then another value of the same lever.
   Targets (issue 17): a new visit within 3 s, a lever change within 2 s.

    python benchmarks/app.py --browser-only     # part 4 alone
"""

from __future__ import annotations

import logging
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" notes in bare mode


def app_start() -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    times = []
    for _ in range(2):
        began = time.perf_counter()
        at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
        at.run()
        times.append(time.perf_counter() - began)
        assert not at.exception, [e.value for e in at.exception]
    return times[0], times[1]


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking"]  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_times() -> tuple[float, float, float, float, float] | None:
    """Seconds until the baseline's cards show on a first and a second new visit, until the
    page's title shows on the second (the browser's own start: Streamlit's script loaded, the
    session connected), and until a lever change shows its changed card, the first time (the
    baseline is run up to the lever's first month, then the scenario from there) and for
    another value of the same lever (the scenario alone, from the baseline's saved state);
    None without Chromium."""
    import os
    import signal
    import subprocess
    import urllib.request

    if not CHROMIUM.is_file():
        return None
    from playwright.sync_api import expect, sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "migflow", "app", "--headless", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://localhost:{port}/"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            visits = []
            for _ in range(2):
                page = browser.new_page(viewport={"width": 1400, "height": 1800})
                expect.set_options(timeout=120_000)
                began = time.perf_counter()
                page.goto(url, wait_until="commit")
                expect(page.get_by_text("What if …? Migrant flows in the Americas")).to_be_visible()
                title = time.perf_counter() - began
                expect(page.get_by_text("Darién crossings, per year").first).to_be_visible()
                visits.append(time.perf_counter() - began)
            page.get_by_text("Legal pathways", exact=True).click()
            visas = page.get_by_role("spinbutton", name=re.compile("Temporary worker visas"))
            cards = page.locator('[data-testid="stMetric"]').filter(has_text="Legal pathway")
            changes = []
            run_button = page.get_by_role("button", name="Run scenario")
            for value, shown in (("9800", "+"), ("19600", "+")):
                before = cards.locator('[data-testid="stMetricDelta"]').all_inner_texts()
                visas.fill(value)
                # the clock starts at the press: as a user's hand reaches the button, the
                # group just opened has stopped moving (Playwright's click waits for that, which
                # took 0.9 s of the first change when the clock started before the click)
                run_button.hover()
                began = time.perf_counter()
                run_button.click()
                delta = cards.locator('[data-testid="stMetricDelta"]')
                expect(delta).to_contain_text(shown)
                expect(delta).not_to_have_text(before[0] if before else "")
                changes.append(time.perf_counter() - began)
            browser.close()
        return visits[0], visits[1], title, changes[0], changes[1]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    if "--browser-only" not in sys.argv:
        in_process()
    timed = browser_times()
    if timed is None:
        print("headless Chromium: not installed at /usr/bin/chromium; skipped")
        return
    first, second, title, change, again = timed
    print("in headless Chromium, as a user waits (migflow app, new server)")
    print(f"  first visit until the baseline's cards show:  {first:6.2f} s   (target 3 s)")
    print(f"  a second new visit:                           {second:6.2f} s   (target 3 s)")
    print(f"    of which until the page's title shows:      {title:6.2f} s")
    print(f"  a lever change until its changed card shows:  {change:6.2f} s   (target 2 s)")
    print(f"  another value of the same lever:              {again:6.2f} s   (target 2 s)")


def in_process() -> None:
    cold_start, warm_start = app_start()
    print("app start (AppTest: a new session until the baseline's results are drawn)")
    print(f"  empty cache (first visitor; includes imports): {cold_start:6.2f} s")
    print(f"  cached run (every later visitor):              {warm_start:6.2f} s")

    from migflow.app import runs
    from migflow.app.state import LeverInputs, build_scenario
    from migflow.model.scenario import dumps_scenario, load_scenario

    baseline = load_scenario("baseline")
    text = dumps_scenario(baseline)
    began = time.perf_counter()
    runs.run_uncached(text)
    first = time.perf_counter() - began
    repeats = []
    for _ in range(3):
        began = time.perf_counter()
        runs.run_uncached(text)
        repeats.append(time.perf_counter() - began)
    months = baseline.n_months
    print(f"default run: baseline {baseline.start}..{baseline.end} ({months} months), "
          f"scale {baseline.scale}, uncached")  # fmt: skip
    print(f"  first in this process:  {first:6.2f} s")
    print(f"  median of 3 more:       {statistics.median(repeats):6.2f} s   (target < 2 s)")

    inputs = LeverInputs(
        start="2023-01",
        end="2030-12",
        integration_musd={"PER": 100.0},
        pathways={"labour_nca": 9800.0},
        enforcement={"COL-PAN": 0.3},
        seed=424242,  # a seed nothing else used, so nothing is cached yet
    )
    edited = build_scenario(baseline, inputs)
    began = time.perf_counter()
    runs.run_with_baseline(edited)
    both = time.perf_counter() - began
    began = time.perf_counter()
    runs.run_with_baseline(edited)
    cached = time.perf_counter() - began
    more = build_scenario(baseline, replace(inputs, integration_musd={"PER": 200.0}))
    began = time.perf_counter()
    runs.run_with_baseline(more)
    resumed = time.perf_counter() - began
    print("edited scenario (Peru integration, labour visas, Darién enforcement), new seed")
    print(f"  scenario + its baseline, uncached: {both:6.2f} s")
    print(f"  the same scenario again, cached:   {cached * 1000:6.1f} ms")
    print(f"  another value of one of its levers: {resumed:6.2f} s   (from the baseline's "
          "state in 2023-01)")  # fmt: skip


if __name__ == "__main__":
    main()
