// A link's explanation: its contributions and the largest sector terms, adding up to its score.
import { client, ok, weightsParam, type LinkDetail } from "../api";
import { fmt, h } from "../dom";
import { t } from "../i18n";
import { nameOf, type Shared } from "../state";

export async function explainLink(
  shared: Shared,
  northeast: string,
  east: string,
  weights: Record<string, number> = {},
): Promise<HTMLElement> {
  const link = await ok(
    client.GET("/links/{northeast_id}/{east_id}", {
      params: { path: { northeast_id: northeast, east_id: east }, query: { weights: weightsParam(weights) } },
    }),
  );
  return explanation(shared, link);
}

export function explanation(shared: Shared, link: LinkDetail): HTMLElement {
  const terms = link.explanation
    .flatMap((c) => c.terms.map((term) => ({ component: c.component, term })))
    .filter((x) => x.term.sector !== null && x.term.value > 0)
    .sort((a, b) => b.term.value - a.term.value)
    .slice(0, 8);
  const rows = [...link.explanation].sort((a, b) => b.value - a.value);
  return h(
    "section",
    { class: "explanation", "aria-label": t("explanation") },
    h(
      "h3",
      {},
      `${nameOf(shared, link.northeast)} – ${nameOf(shared, link.east)}: ${t("score")} `,
      h("span", { class: "score", "data-score": link.score }, fmt(link.score)),
      link.existing ? h("span", { class: "badge" }, t("existing")) : null,
    ),
    h(
      "table",
      { class: "contributions" },
      h("caption", {}, t("contributions")),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col" }, t("component")), h("th", { scope: "col" }, t("weight")), h("th", { scope: "col" }, t("value"))),
      ),
      h(
        "tbody",
        {},
        rows.map((c) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, nameOf(shared, c.component)),
            h("td", { class: "num" }, fmt(c.weight, 3)),
            h("td", { class: "num" }, fmt(c.value)),
          ),
        ),
      ),
      h(
        "tfoot",
        {},
        h("tr", {}, h("th", { scope: "row" }, t("total")), h("td", {}), h("td", { class: "num" }, fmt(link.score))),
      ),
    ),
    terms.length
      ? h(
          "table",
          { class: "terms" },
          h("caption", {}, t("largestTerms")),
          h(
            "thead",
            {},
            h("tr", {}, h("th", { scope: "col" }, t("sector")), h("th", { scope: "col" }, t("channel")), h("th", { scope: "col" }, t("direction")), h("th", { scope: "col" }, t("value"))),
          ),
          h(
            "tbody",
            {},
            terms.map((x) =>
              h(
                "tr",
                {},
                h("td", {}, nameOf(shared, x.term.sector ?? "")),
                h("td", {}, nameOf(shared, x.component)),
                h("td", {}, x.term.direction.replace(/_/g, " ")),
                h("td", { class: "num" }, fmt(x.term.value, 5)),
              ),
            ),
          ),
        )
      : null,
  );
}
