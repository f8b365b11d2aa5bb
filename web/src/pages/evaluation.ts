// Evaluation: the effectiveness report's tables and the server-drawn charts.
import { client, ok } from "../api";
import { field, fmt, h } from "../dom";
import { t } from "../i18n";
import type { Page } from "../main";
import { nameOf, turns } from "../state";

const view = { first: 2017, last: new Date().getFullYear() };
const CHARTS = ["trend", "channels", "league", "attainment"] as const;

export async function renderEvaluation(page: Page): Promise<void> {
  const { root, shared } = page;
  const body = h("div", { class: "report", "aria-live": "polite" });
  const first = h("input", { type: "number", min: 1990, max: 2100, value: String(view.first), id: "eval-first" });
  const last = h("input", { type: "number", min: 1990, max: 2100, value: String(view.last), id: "eval-last" });
  const pair = (ne: string, ea: string): string => `${nameOf(shared, ne)} – ${nameOf(shared, ea)}`;

  const loadTurn = turns();
  async function load(): Promise<void> {
    view.first = Number(first.value);
    view.last = Number(last.value);
    body.replaceChildren(h("p", {}, t("loading")));
    const isLatest = loadTurn();
    try {
      const r = await ok(client.GET("/evaluation/report", { params: { query: { first_year: view.first, last_year: view.last } } }));
      if (!isLatest()) return;
      page.clearError();
      const q = `first_year=${view.first}&last_year=${view.last}`;
      body.replaceChildren(
        h("p", {}, `${t("outcomes")}: ${r.outcomes} · ${r.first_year}–${r.last_year}`),
        h(
          "table",
          { class: "indicators" },
          h("caption", {}, t("trend")),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("indicator")), h("th", { scope: "col" }, t("total")), ...r.years.map((y) => h("th", { scope: "col" }, String(y))), h("th", { scope: "col" }, "/yr"))),
          h(
            "tbody",
            {},
            r.indicators.map((i) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, `${i.indicator.replace(/_/g, " ")} (${i.unit})`),
                h("td", { class: "num" }, i.total.toLocaleString()),
                ...i.by_year.map((v) => h("td", { class: "num" }, v ? v.toLocaleString() : "·")),
                h("td", { class: "num" }, i.slope === null || i.slope === undefined ? "–" : i.slope.toFixed(1)),
              ),
            ),
          ),
        ),
        h(
          "table",
          { class: "league" },
          h("caption", {}, t("league")),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("rank")), h("th", { scope: "col" }, t("partner")), h("th", { scope: "col" }, t("index")), h("th", { scope: "col" }, t("outcomes")), h("th", { scope: "col" }, t("channels")))),
          h(
            "tbody",
            {},
            r.league.map((l) =>
              h(
                "tr",
                {},
                h("td", { class: "num" }, String(l.rank)),
                h("td", {}, pair(l.northeast, l.east)),
                h("td", { class: "num" }, fmt(l.index, 3)),
                h("td", { class: "num" }, String(l.outcomes)),
                h("td", {}, l.channels.map((c) => nameOf(shared, c)).join(", ")),
              ),
            ),
          ),
        ),
        r.attainment.length
          ? h(
              "table",
              { class: "attainment" },
              h("caption", {}, t("attainment")),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("partner")), h("th", { scope: "col" }, t("years")), h("th", { scope: "col" }, t("indicator")), h("th", { scope: "col" }, t("target")), h("th", { scope: "col" }, t("actual")))),
              h("tbody", {}, r.attainment.map((a) => h("tr", { class: a.met ? "met" : "unmet" }, h("td", {}, pair(a.northeast, a.east)), h("td", {}, String(a.year)), h("td", {}, a.indicator), h("td", { class: "num" }, String(a.target)), h("td", { class: "num" }, String(a.actual))))),
            )
          : "",
        h("h3", {}, t("inactive")),
        h("p", {}, r.inactive.length ? r.inactive.map((p) => pair(p.northeast, p.east)).join(" · ") : t("none")),
        h("h3", {}, t("gaps")),
        h("ul", {}, r.gaps.map((g) => h("li", {}, h("strong", {}, nameOf(shared, g.northeast)), ": ", g.channels.length ? g.channels.map((c) => nameOf(shared, c)).join(", ") : t("none")))),
        h("h3", {}, t("charts")),
        h("div", { class: "charts" }, CHARTS.map((c) => h("figure", {}, h("img", { src: `/evaluation/charts/${c}.svg?${q}`, alt: `${t("charts")}: ${c}`, loading: "lazy" }), h("figcaption", {}, c)))),
      );
    } catch (e) {
      body.replaceChildren();
      page.fail(e);
    }
  }

  root.append(
    h("h2", {}, t("evaluation")),
    h("form", { class: "controls", onsubmit: (e: Event) => { e.preventDefault(); void load(); } }, field(t("from"), first), field(t("to"), last), h("button", { type: "submit" }, t("show"))),
    body,
  );
  await load();
}
