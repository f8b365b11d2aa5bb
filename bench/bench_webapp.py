"""Benchmark: the web app in Debian's Chromium on the shipped dataset (needs `make web browser`).

Run with ``.venv/bin/python bench/bench_webapp.py``. Prints, each beside its baseline measured in
the same browser and run:

* the graph page's first render: from navigation start (a fresh browser context, nothing cached)
  to the graph drawn, against the three API calls it makes (/taxonomy, /regions, /graph) alone;
* a what-if update: from a slider's input event to the plan, diff and sensitivity bars drawn
  (the page's 60 ms debounce included), against POST /scenarios/evaluate alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from measure import cpu_model, free_port, percentile
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("COUNTERPART_CHROMIUM", "/usr/bin/chromium")
API_ALONE = """async () => { const t = performance.now();
  await Promise.all(['/taxonomy', '/regions', '/graph'].map(
    u => fetch(u, {cache: 'no-store'}).then(r => r.json())));
  return performance.now() - t; }"""
EVALUATE_ALONE = """async body => { const t = performance.now();
  await (await fetch('/scenarios/evaluate', {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json'}})).json();
  return performance.now() - t; }"""
BODY: dict[str, Any] = {"capacity": 2, "min_score": 0, "pinned": [], "forbidden": [],
                        "same_level": False, "k": 3, "links": 20, "moves": 10}  # fmt: skip


def line(name: str, times: list[float], baseline_name: str, baseline: list[float]) -> None:
    print(
        f"  {name:44s} median {statistics.median(times):6.0f} ms  p95 "
        f"{percentile(times, 0.95):6.0f} ms   | {baseline_name}: median "
        f"{statistics.median(baseline):5.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10, help="fresh loads of the graph page")
    parser.add_argument("--changes", type=int, default=30, help="slider changes on What-if")
    args = parser.parse_args()
    if not (ROOT / "app" / "static" / "index.html").is_file():
        sys.exit("the web app is not built: make web")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port),
             "--log-level", "warning"],
            env={**os.environ, "COUNTERPART_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/health").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                renders, alone = [], []
                for _ in range(args.loads):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = context.new_page()
                    page.goto(f"{base}/#/graph")
                    page.wait_for_function("() => document.body.dataset.graphRenderedMs")
                    renders.append(float(page.evaluate("document.body.dataset.graphRenderedMs")))
                    alone.append(page.evaluate(API_ALONE))
                    context.close()
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(f"{base}/#/what-if")
                page.wait_for_selector(".plan .objective")
                updates, calls = [], []
                for n in range(args.changes):
                    weight = round(0.15 + 0.01 * n, 2)
                    before = page.evaluate("document.body.dataset.whatifVersion")
                    page.fill('input[data-component="agriculture"]', str(weight))
                    page.wait_for_function(
                        "v => document.body.dataset.whatifVersion !== v", arg=before
                    )
                    updates.append(float(page.evaluate("document.body.dataset.whatifMs")))
                    body = {**BODY, "weights": {"channels": {"agriculture": weight}}}
                    calls.append(page.evaluate(EVALUATE_ALONE, body))
                browser.close()
        finally:
            server.terminate()
            server.wait()
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    print(f"web app, shipped dataset; {cpu_model()}; {version.strip()}")
    line(f"graph page first render ({args.loads} fresh loads)", renders,
         "its 3 API calls alone", alone)  # fmt: skip
    line(f"what-if update ({args.changes} slider changes)", updates,
         "POST /scenarios/evaluate alone", calls)  # fmt: skip
    print("  targets: first render < 1000 ms, what-if update < 300 ms")


if __name__ == "__main__":
    main()
