// Suggestions: a region's best partners beyond its existing ties, each with its explanation.
import { client, ok } from "../api";
import { field, fmt, h, select } from "../dom";
import { t } from "../i18n";
import type { Page } from "../main";
import { nameOf, turns } from "../state";
import { explainLink } from "./explain";

const view = { region: "", k: 5, channel: "", level: "" };

export async function renderSuggestions(page: Page): Promise<void> {
  const { root, shared } = page;
  if (!view.region) view.region = shared.regions[0]?.id ?? "";
  const list = h("div", { class: "suggestion-list", "aria-live": "polite" });
  const region = select(shared.regions.map((r) => ({ value: r.id, label: `${nameOf(shared, r.id)} (${t(r.side)})` })), view.region, (v) => {
    view.region = v;
    void load();
  });
  region.id = "suggest-region";
  const k = h("input", { type: "number", min: 1, max: 20, value: String(view.k), id: "suggest-k" });
  k.addEventListener("change", () => {
    view.k = Number(k.value);
    void load();
  });
  const channel = select(
    [{ value: "", label: t("all") }, ...shared.taxonomy.channels.map((c) => ({ value: c.id, label: nameOf(shared, c.id) }))],
    view.channel,
    (v) => {
      view.channel = v;
      void load();
    },
  );
  const level = select(
    [{ value: "", label: t("all") }, { value: "province", label: t("province") }, { value: "city", label: t("city") }],
    view.level,
    (v) => {
      view.level = v;
      void load();
    },
  );

  const loadTurn = turns();
  async function load(): Promise<void> {
    list.replaceChildren(h("p", {}, t("loading")));
    const isLatest = loadTurn();
    try {
      const res = await ok(
        client.GET("/regions/{region_id}/suggestions", {
          params: {
            path: { region_id: view.region },
            query: {
              k: view.k,
              channel: view.channel || undefined,
              level: view.level === "province" || view.level === "city" ? view.level : undefined,
            },
          },
        }),
      );
      if (!isLatest()) return;
      page.clearError();
      const northeast = res.side === "northeast";
      list.replaceChildren(
        res.suggestions.length
          ? h(
              "ol",
              { class: "suggestions" },
              res.suggestions.map((sg) => {
                const detail = h("div", { class: "detail-panel" });
                const button = h("button", { type: "button", "aria-expanded": "false" }, t("explanation"));
                button.addEventListener("click", () => {
                  if (button.getAttribute("aria-expanded") === "true") {
                    detail.replaceChildren();
                    button.setAttribute("aria-expanded", "false");
                    return;
                  }
                  button.setAttribute("aria-expanded", "true");
                  const [ne, ea] = northeast ? [res.region, sg.partner] : [sg.partner, res.region];
                  explainLink(shared, ne, ea)
                    .then((el) => detail.replaceChildren(el))
                    .catch((e: unknown) => page.fail(e));
                });
                return h(
                  "li",
                  { "data-partner": sg.partner },
                  h("strong", {}, nameOf(shared, sg.partner)),
                  ` (${t(sg.level === "province" ? "province" : "city")}) — ${t("score")} `,
                  h("span", { class: "score" }, fmt(sg.score)),
                  sg.channel_score !== null && sg.channel_score !== undefined ? ` · ${nameOf(shared, view.channel)} ${fmt(sg.channel_score)}` : "",
                  " ",
                  button,
                  detail,
                );
              }),
            )
          : h("p", {}, t("noResults")),
      );
    } catch (e) {
      list.replaceChildren();
      page.fail(e);
    }
  }

  root.append(
    h("h2", {}, t("suggestions")),
    h("div", { class: "controls" }, field(t("region"), region), field(t("k"), k), field(t("channel"), channel), field(t("level"), level)),
    list,
  );
  await load();
}
