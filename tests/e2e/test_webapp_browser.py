"""The web app in Debian's Chromium against a live server: every page, checked against the API.

Screenshots of each page go to docs/screenshots/ (linked from the README). The figures the issue
asks for (first render of the graph page, a what-if update) are printed with a baseline measured
in the same browser, not asserted.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ADMIN_KEY, ROOT

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"
DEFAULT_BODY: dict[str, Any] = {
    "capacity": 2,
    "min_score": 0,
    "pinned": [],
    "forbidden": [],
    "same_level": False,
    "k": 3,
    "links": 20,
    "moves": 10,
}


def scenario(channels: dict[str, float] | None = None, **changes: Any) -> dict[str, Any]:
    """The body the What-if page sends for these changes."""
    return {**DEFAULT_BODY, "weights": {"channels": channels or {}, "factors": {}}, **changes}


def pair_ids(pairs: list[dict[str, Any]]) -> list[str]:
    return [f"{p['northeast']}|{p['east']}" for p in pairs]


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A 1280x800 page that may load nothing from another host (such requests fail the test)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    outside: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(server) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    context.route("**/*", route)
    p = context.new_page()
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.set_default_timeout(15_000)
    p.base = server
    yield p
    context.close()
    assert outside == [], f"requests to another host: {outside}"
    assert errors == [], f"uncaught errors in the page: {errors}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_page(page: Any, path: str) -> None:
    page.goto(f"{page.base}/#/{path}")


def wait_for_update(page: Any, before: str | None) -> None:
    page.wait_for_function(
        "v => document.body.dataset.whatifVersion !== undefined"
        " && document.body.dataset.whatifVersion !== v",
        arg=before,
    )


def whatif_version(page: Any) -> str | None:
    value: str | None = page.evaluate("document.body.dataset.whatifVersion ?? null")
    return value


def test_graph_page_draws_every_link_and_explains_one(page: Any, api: httpx.Client) -> None:
    graph = api.get("/graph").json()
    regions = api.get("/regions").json()["regions"]
    official = {
        (t["northeast"], t["east"]) for r in regions for t in r["ties"] if t["kind"] == "official"
    }
    open_page(page, "graph")
    page.wait_for_selector("svg.graph .link")
    assert page.locator("svg.graph .link").count() == len(graph["links"])
    assert page.locator("svg.graph .link.official").count() == len(official)
    # Keyboard: focus a link and press Enter for its explanation.
    link = page.locator('.link[data-northeast="harbin"][data-east="beijing"]')
    link.focus()
    page.keyboard.press("Enter")
    detail = api.get("/links/harbin/beijing").json()
    score = page.locator(".explanation .score")
    score.wait_for()
    assert score.inner_text() == f"{detail['score']:.4f}"
    values = page.locator(".explanation table.contributions tbody td:last-child").all_inner_texts()
    assert len(values) == len(detail["contributions"])
    assert abs(sum(float(v) for v in values) - detail["score"]) < 1e-3
    shot(page, "graph")
    # Filters: a channel re-weighs the drawing, a level keeps its regions only.
    page.select_option(".page-graph .controls select >> nth=0", "agriculture")
    label = link.get_attribute("aria-label")
    assert f"{detail['contributions']['agriculture']:.4f}" in label
    page.select_option(".page-graph .controls select >> nth=1", "city")
    cities = [r for r in regions if r["level"] == "city"]
    assert page.locator("svg.graph .node").count() == len(cities)


def test_first_render_of_the_graph_page(browser: Any, server: str) -> None:
    renders, fetches = [], []
    for _ in range(5):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        p = context.new_page()
        p.goto(f"{server}/#/graph")
        p.wait_for_function("() => document.body.dataset.graphRenderedMs !== undefined")
        renders.append(float(p.evaluate("document.body.dataset.graphRenderedMs")))
        fetches.append(
            p.evaluate(
                """async () => { const t = performance.now();
                await Promise.all(['/taxonomy', '/regions', '/graph'].map(
                  u => fetch(u, {cache: 'no-store'}).then(r => r.json())));
                return performance.now() - t; }"""
            )
        )
        context.close()
    print(
        "\n[figure] graph page first render (navigation start to graph drawn, 5 loads): "
        f"median {statistics.median(renders):.0f} ms, max {max(renders):.0f} ms "
        "(target < 1000 ms); baseline in the same browser, its 3 API calls alone: "
        f"median {statistics.median(fetches):.0f} ms"
    )


def test_what_if_slider_updates_plan_and_diff_to_what_the_api_answers(
    page: Any, api: httpx.Client
) -> None:
    open_page(page, "what-if")
    page.wait_for_selector(".plan .objective")
    baseline = api.post("/scenarios/evaluate", json=scenario()).json()
    assert page.inner_text(".plan .objective") == f"{baseline['plan']['objective']:.4f}"

    before = whatif_version(page)
    page.fill('input[data-component="agriculture"]', "0.3")
    wait_for_update(page, before)
    expected = api.post("/scenarios/evaluate", json=scenario({"agriculture": 0.3})).json()
    assert expected["diff"]["entered"], "the chosen weight changes the plan"
    rows = page.locator(".plan-pairs tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.pair)"
    )
    assert rows == pair_ids(expected["plan"]["pairs"])
    assert page.inner_text(".plan .objective") == f"{expected['plan']['objective']:.4f}"
    entered = page.locator(".diff ul.entered li[data-pair]").evaluate_all(
        "items => items.map(i => i.dataset.pair)"
    )
    left = page.locator(".diff ul.left li[data-pair]").evaluate_all(
        "items => items.map(i => i.dataset.pair)"
    )
    assert entered == pair_ids(expected["diff"]["entered"])
    assert left == pair_ids(expected["diff"]["left"])
    assert f"({expected['diff']['moved_total']} " in page.inner_text(".diff")
    assert page.locator(".sensitivity g.interval").count() == len(expected["sensitivity"])

    # Keyboard: a slider moves with the arrow keys, and the plan follows.
    before = whatif_version(page)
    page.focus('input[data-component="innovation"]')
    page.keyboard.press("ArrowRight")
    wait_for_update(page, before)
    moved = api.post(
        "/scenarios/evaluate", json=scenario({"agriculture": 0.3, "innovation": 0.11})
    ).json()
    assert page.inner_text(".plan .objective") == f"{moved['plan']['objective']:.4f}"

    with page.expect_download() as download:
        page.click("text=Download the plan (CSV)")
    lines = Path(download.value.path()).read_text().strip().splitlines()
    assert lines[0].startswith("northeast,east,score,pinned")
    assert len(lines) == 1 + len(moved["plan"]["pairs"])
    shot(page, "what-if")

    # Figure: slider change to the plan drawn, against the API call alone in the same browser.
    updates, calls = [], []
    for value in ["0.32", "0.34", "0.36", "0.38", "0.40", "0.42", "0.44", "0.46", "0.48", "0.5"]:
        before = whatif_version(page)
        page.fill('input[data-component="agriculture"]', value)
        wait_for_update(page, before)
        updates.append(float(page.evaluate("document.body.dataset.whatifMs")))
        body = scenario({"agriculture": float(value), "innovation": 0.11})
        calls.append(
            page.evaluate(
                """async body => { const t = performance.now();
                await (await fetch('/scenarios/evaluate', {method: 'POST',
                  body: JSON.stringify(body), headers: {'Content-Type': 'application/json'}}))
                  .json();
                return performance.now() - t; }""",
                body,
            )
        )
    print(
        f"\n[figure] what-if update (slider input to plan, diff and bars drawn, 10 changes, "
        f"60 ms debounce included): median {statistics.median(updates):.0f} ms, "
        f"max {max(updates):.0f} ms (target < 300 ms); baseline in the same browser, "
        f"POST /scenarios/evaluate alone: median {statistics.median(calls):.0f} ms"
    )


def test_save_open_and_compare_scenarios(page: Any, api: httpx.Client) -> None:
    open_page(page, "what-if")
    page.wait_for_selector(".plan .objective")
    page.fill("#admin-key", ADMIN_KEY)
    page.press("#admin-key", "Tab")

    before = whatif_version(page)
    page.fill('input[data-component="agriculture"]', "0.5")
    wait_for_update(page, before)
    page.fill("#scenario-name", "agriculture 0.5")
    page.click("button.save")
    page.wait_for_selector(".saved-list li:has-text('agriculture 0.5')")

    page.click("text=Reset to defaults")
    page.wait_for_function(
        "() => document.querySelector('input[data-component=\"agriculture\"]').value === '0.14'"
    )
    # The plan shown is the defaults' again, not the last scenario's.
    baseline = api.post("/scenarios/evaluate", json=scenario()).json()["plan"]["objective"]
    page.wait_for_function(
        "text => document.querySelector('.plan .objective')?.textContent === text",
        arg=f"{baseline:.4f}",
    )
    page.fill("#scenario-name", "defaults")
    page.click("button.save")
    page.wait_for_selector(".saved-list li:has-text('defaults')")

    saved = {s["name"]: s["id"] for s in api.get("/scenarios").json()["items"]}
    a, b = saved["agriculture 0.5"], saved["defaults"]
    page.select_option("#compare-a", str(a))
    page.select_option("#compare-b", str(b))
    page.click("button.compare-go")
    page.wait_for_selector(".compare .side-plan >> nth=1")
    comparison = api.get(f"/scenarios/{a}/compare/{b}").json()
    entered = page.locator(".compare ul.entered li[data-pair]").evaluate_all(
        "items => items.map(i => i.dataset.pair)"
    )
    assert entered == pair_ids(comparison["diff"]["entered"])
    assert comparison["diff"]["entered"], "the two scenarios differ"
    shot(page, "what-if-compare")

    page.click("button[aria-label='Open agriculture 0.5']")
    page.wait_for_function(
        "() => document.querySelector('input[data-component=\"agriculture\"]')?.value === '0.5'"
    )


def test_suggestions_page_lists_the_api_partners_with_explanations(
    page: Any, api: httpx.Client
) -> None:
    open_page(page, "suggestions")
    page.wait_for_selector("#suggest-region")
    page.select_option("#suggest-region", "harbin")
    expected = api.get("/regions/harbin/suggestions", params={"k": 5}).json()["suggestions"]
    first = expected[0]["partner"]
    page.wait_for_selector(f"li[data-partner='{first}']")
    shown = page.locator("ol.suggestions > li").evaluate_all(
        "items => items.map(i => i.dataset.partner)"
    )
    assert shown == [s["partner"] for s in expected]
    page.click(f"li[data-partner='{first}'] button")
    score = page.locator(f"li[data-partner='{first}'] .explanation .score")
    score.wait_for()
    assert score.inner_text() == f"{api.get(f'/links/harbin/{first}').json()['score']:.4f}"
    shot(page, "suggestions")


ENTERPRISES = [
    {"id": "ne-e2e-1", "name": "Dalian Grain Co", "region": "dalian",
     "offers": {"grain": 0.8}, "seeks": {"finance_capital": 0.6}, "ownership": "private"},
    {"id": "ne-e2e-2", "name": "Harbin Robotics", "region": "harbin",
     "offers": {"robotics_intelligent_equipment": 0.9}, "seeks": {"venture_capital": 0.7},
     "size": "medium", "ownership": "state"},
    {"id": "ea-e2e-1", "name": "Shanghai Capital", "region": "shanghai",
     "offers": {"finance_capital": 0.8, "venture_capital": 0.6}, "seeks": {"grain": 0.7},
     "ownership": "private"},
    {"id": "ea-e2e-2", "name": "Shenzhen Ventures", "region": "shenzhen",
     "offers": {"venture_capital": 0.9}, "seeks": {"robotics_intelligent_equipment": 0.6},
     "size": "large", "ownership": "private"},
]  # fmt: skip


def test_enterprise_search_page_and_round(page: Any, api: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for e in ENTERPRISES:
        assert api.post("/enterprises", json=e, headers=headers).status_code in (200, 201)
    open_page(page, "enterprises")
    page.wait_for_selector(".registry li")
    registered = api.get("/enterprises", params={"limit": 20}).json()["items"]
    shown = page.locator(".registry li").evaluate_all("items => items.map(i => i.dataset.id)")
    assert shown == [e["id"] for e in registered]
    assert {e["id"] for e in ENTERPRISES} <= set(shown)

    # A profile typed into the form.
    page.select_option("#ent-region", "dalian")
    page.click("text=Add (Offers)")
    page.select_option(".offers .row select", "grain")
    page.fill(".offers .row input[type=number]", "0.8")
    page.click("text=Add (Seeks)")
    page.select_option(".seeks .row select", "finance_capital")
    page.fill(".seeks .row input[type=number]", "0.6")
    page.click("button.search-go")
    page.wait_for_selector("table.partners tbody tr")
    expected = api.post(
        "/partners/search",
        json={"region": "dalian", "offers": {"grain": 0.8}, "seeks": {"finance_capital": 0.6},
              "k": 10},
    ).json()["partners"]  # fmt: skip
    shown = page.locator("table.partners tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )
    assert shown == [p["id"] for p in expected] and shown
    shot(page, "enterprises")

    # A registered enterprise, filtered by ownership.
    page.check("#mode-enterprise")
    page.fill("#ent-id", "ne-e2e-2")
    page.select_option("#ent-ownership", "private")
    page.click("button.search-go")
    expected = api.get(
        "/enterprises/ne-e2e-2/partners", params={"k": 10, "ownership": "private"}
    ).json()["partners"]
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('table.partners tbody tr')]"
        ".map(r => r.dataset.id)) === JSON.stringify(ids)",
        arg=[p["id"] for p in expected],
    )

    # An enterprise's page.
    page.click(".registry a:has-text('Harbin Robotics')")
    page.wait_for_selector("dl.profile")
    assert "Harbin Robotics" in page.inner_text("h2")
    shot(page, "enterprise")

    # A round and its schedule.
    page.goto(f"{page.base}/#/enterprises")
    page.wait_for_selector("#round-ne")
    page.fill("#round-ne", "ne-e2e-1, ne-e2e-2")
    page.fill("#round-east", "ea-e2e-1\nea-e2e-2")
    page.click("button.round-go")
    page.wait_for_selector("table.meetings tbody tr")
    body = {"northeast": ["ne-e2e-1", "ne-e2e-2"], "east": ["ea-e2e-1", "ea-e2e-2"], "b": 1}
    meetings = api.post("/rounds", json=body).json()["meetings"]
    assert page.locator("table.meetings tbody tr").count() == len(meetings)
    with page.expect_download() as download:
        page.click("text=Download the schedule (CSV)")
    assert len(Path(download.value.path()).read_text().strip().splitlines()) == 1 + len(meetings)


def test_registry_pages_by_cursor(page: Any, api: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for n in range(21):
        body = {"id": f"ea-page-{n:02d}", "name": f"Beijing Firm {n}", "region": "beijing",
                "offers": {"software_digital": 0.5 + n / 100}}  # fmt: skip
        assert api.post("/enterprises", json=body, headers=headers).status_code in (200, 201)
    first = api.get("/enterprises", params={"region": "beijing", "limit": 20}).json()
    second = api.get(
        "/enterprises", params={"region": "beijing", "limit": 20, "cursor": first["next_cursor"]}
    ).json()
    open_page(page, "enterprises")
    page.select_option("#list-region", "beijing")
    listed = "() => [...document.querySelectorAll('.registry li')].map(li => li.dataset.id)"
    page.wait_for_function(f"ids => JSON.stringify(({listed})()) === JSON.stringify(ids)",
                           arg=[e["id"] for e in first["items"]])  # fmt: skip
    page.click(".registry button.next")
    page.wait_for_function(f"ids => JSON.stringify(({listed})()) === JSON.stringify(ids)",
                           arg=[e["id"] for e in second["items"]])  # fmt: skip
    assert page.locator(".registry button.next").count() == (1 if second["next_cursor"] else 0)
    page.click("text=First page")
    page.wait_for_function(f"ids => JSON.stringify(({listed})()) === JSON.stringify(ids)",
                           arg=[e["id"] for e in first["items"]])  # fmt: skip

    # Partners found beyond a page (the 21 firms above offer software) are paged ten at a time.
    expected = api.post(
        "/partners/search",
        json={"region": "harbin", "seeks": {"software_digital": 0.8}, "k": 25},
    ).json()["partners"]
    assert len(expected) > 20
    page.select_option("#ent-region", "harbin")
    page.click("text=Add (Seeks)")
    page.select_option(".seeks .row select", "software_digital")
    page.fill(".seeks .row input[type=number]", "0.8")
    page.fill("#ent-k", "25")
    page.dispatch_event("#ent-k", "change")
    page.click("button.search-go")
    rows = "() => [...document.querySelectorAll('table.partners tbody tr')].map(r => r.dataset.id)"
    for start in (0, 10, 20):
        page.wait_for_function(f"ids => JSON.stringify(({rows})()) === JSON.stringify(ids)",
                               arg=[p["id"] for p in expected[start:start + 10]])  # fmt: skip
        if start + 10 < len(expected):
            page.click(".paged button.next")
    page.click(".paged button.prev")
    page.wait_for_function(f"ids => JSON.stringify(({rows})()) === JSON.stringify(ids)",
                           arg=[p["id"] for p in expected[10:20]])  # fmt: skip


def test_language_switch_and_keyboard_navigation(page: Any) -> None:
    open_page(page, "graph")
    page.wait_for_selector("svg.graph .link")
    page.select_option("#lang", "zh")
    page.wait_for_selector("svg.graph .link")
    assert "关系图" in page.inner_text("nav")
    assert "哈尔滨" in page.text_content("svg.graph")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    shot(page, "graph-zh")
    page.select_option("#lang", "en")
    page.wait_for_selector("nav >> text=Graph")
    # From the top of the page, Tab reaches the skip link, then the pages' links.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "What-if"
    page.keyboard.press("Enter")
    page.wait_for_selector(".plan .objective")


def test_api_errors_are_shown_in_plain_words(page: Any, api: httpx.Client) -> None:
    open_page(page, "what-if")
    page.wait_for_selector(".plan .objective")
    # Saving without the key: the API's 401 detail.
    page.fill("#scenario-name", "no key")
    page.click("button.save")
    unauthorised = api.post("/scenarios", json={"name": "no key", "scenario": scenario()})
    assert unauthorised.status_code == 401
    page.wait_for_selector("#error.shown")
    assert page.inner_text("#error .detail") == unauthorised.json()["detail"]
    page.click("#error button.dismiss")
    # Pinning an existing tie: the plan's 422 detail.
    page.select_option(".pins select >> nth=0", "harbin")
    page.select_option(".pins select >> nth=1", "shenzhen")
    page.click(".pins button.add")
    page.wait_for_selector("#error.shown")
    refused = api.post("/scenarios/evaluate", json=scenario(pinned=[["harbin", "shenzhen"]]))
    assert refused.status_code == 422
    assert page.inner_text("#error .detail") == refused.json()["detail"]
    shot(page, "error")


def test_evaluation_page_shows_the_report_and_its_charts(page: Any, api: httpx.Client) -> None:
    open_page(page, "evaluation")
    page.wait_for_selector("table.league tbody tr")
    report = api.get("/evaluation/report", params={"first_year": 2017, "last_year": 2026}).json()
    page.fill("#eval-last", "2026")
    page.click("text=Show")
    page.wait_for_selector("table.league tbody tr")
    assert page.locator("table.league tbody tr").count() == len(report["league"])
    page.wait_for_function(
        "() => [...document.querySelectorAll('.charts img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator(".charts img").count() == 4
    shot(page, "evaluation")


def test_docs_and_redoc_work_offline(page: Any) -> None:
    page.goto(f"{page.base}/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    shot(page, "docs")
    page.goto(f"{page.base}/redoc")
    page.wait_for_selector("h1:has-text('counterpart')")


@pytest.mark.parametrize("path", ["graph", "what-if", "suggestions", "enterprises", "evaluation"])
def test_pages_fit_a_narrow_screen(browser: Any, server: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    p = context.new_page()
    p.goto(f"{server}/#/{path}")
    p.wait_for_selector(".page h2")
    p.wait_for_load_state("networkidle")
    overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if path in ("graph", "what-if"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        p.screenshot(path=str(SHOTS / f"narrow-{path}.png"), full_page=True)
    context.close()
    assert overflow <= 1, f"{path} is {overflow} px wider than a 390 px screen"
