// Enterprises: partner search for a registered enterprise or a typed profile, the registry with
// paging, an enterprise's page, and a matchmaking round with its schedule.
import { client, ok, type PartnerList } from "../api";
import { csvRow, download, field, fmt, h, select } from "../dom";
import { t } from "../i18n";
import type { Page } from "../main";
import { nameOf, sectors, turns, type Shared } from "../state";

type Ownership = "state" | "private" | "foreign" | "mixed";
type Size = "micro" | "small" | "medium" | "large";
const OWNERSHIPS: Ownership[] = ["state", "private", "foreign", "mixed"];
const SIZES: Size[] = ["micro", "small", "medium", "large"];

const view = {
  mode: "profile" as "enterprise" | "profile",
  enterprise: "",
  region: "",
  offers: [] as [string, number][],
  seeks: [] as [string, number][],
  partnerRegion: "",
  ownership: "" as Ownership | "",
  size: "" as Size | "",
  channel: "",
  k: 10,
  listRegion: "",
  cursor: null as string | null,
};

/** Partners shown this many to a page (a search returns up to `k`, at most 100). */
const PAGE_SIZE = 10;

function partnersTable(shared: Shared, list: PartnerList): HTMLElement {
  if (!list.partners.length) return h("p", {}, t("noResults"));
  if (list.partners.length <= PAGE_SIZE) return partnerRows(shared, list.partners);
  // Pages of the partners found, turned without asking the API again.
  const box = h("div", { class: "paged" });
  const show = (start: number): void => {
    const end = Math.min(start + PAGE_SIZE, list.partners.length);
    box.replaceChildren(
      partnerRows(shared, list.partners.slice(start, end)),
      h(
        "div",
        { class: "row" },
        start > 0 ? h("button", { type: "button", class: "prev", onclick: () => show(start - PAGE_SIZE) }, t("prev")) : null,
        h("span", { class: "range" }, `${start + 1}–${end} / ${list.partners.length}`),
        end < list.partners.length ? h("button", { type: "button", class: "next", onclick: () => show(end) }, t("next")) : null,
      ),
    );
  };
  show(0);
  return box;
}

function partnerRows(shared: Shared, partners: PartnerList["partners"]): HTMLElement {
  return h(
    "table",
    { class: "partners" },
    h("caption", {}, t("results")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("name")), h("th", { scope: "col" }, t("region")), h("th", { scope: "col" }, t("size")), h("th", { scope: "col" }, t("ownership")), h("th", { scope: "col" }, t("score")), h("th", { scope: "col" }, t("largestTerms")))),
    h(
      "tbody",
      {},
      partners.map((p) =>
        h(
          "tr",
          { "data-id": p.id },
          h("td", {}, h("a", { href: `#/enterprises/${encodeURIComponent(p.id)}` }, p.name)),
          h("td", {}, nameOf(shared, p.region)),
          h("td", {}, p.size),
          h("td", {}, p.ownership),
          h("td", { class: "num" }, fmt(p.score)),
          h("td", {}, [...p.terms].sort((a, b) => b.value - a.value).slice(0, 3).map((x) => `${nameOf(shared, x.sector)} ${fmt(x.value, 3)}`).join("; ")),
        ),
      ),
    ),
  );
}

function optional<T extends string>(values: readonly T[], current: T | "", onChange: (v: T | "") => void): HTMLSelectElement {
  return select([{ value: "", label: t("any") }, ...values.map((v) => ({ value: v, label: v }))], current, (v) => onChange(values.find((x) => x === v) ?? ""));
}

export async function renderEnterprises(page: Page): Promise<void> {
  const id = page.rest[0];
  if (id) return renderEnterprise(page, id);
  const { root, shared } = page;
  const regionOpts = shared.regions.map((r) => ({ value: r.id, label: nameOf(shared, r.id) }));
  const sectorOpts = sectors(shared).map((x) => ({ value: x.id, label: nameOf(shared, x.id) }));
  if (!view.region) view.region = regionOpts[0]?.value ?? "";
  const results = h("div", { class: "results", "aria-live": "polite" });

  function sectorRows(label: string, rows: [string, number][], cls: string): HTMLElement {
    const box = h("fieldset", { class: `sectors ${cls}` }, h("legend", {}, label));
    const list = h("div", {});
    const redraw = (): void => {
      list.replaceChildren(
        ...rows.map((row, n) => {
          const sel = select(sectorOpts, row[0], (v) => (row[0] = v));
          const val = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: String(row[1]) });
          val.addEventListener("change", () => (row[1] = Number(val.value)));
          return h(
            "div",
            { class: "row" },
            field(t("sector"), sel),
            field(t("value"), val),
            h("button", { type: "button", "aria-label": `${t("remove")} ${nameOf(shared, row[0])}`, onclick: () => { rows.splice(n, 1); redraw(); } }, "×"),
          );
        }),
      );
    };
    redraw();
    box.append(list, h("button", { type: "button", class: "add", onclick: () => { rows.push([sectorOpts[0]?.value ?? "", 0.8]); redraw(); } }, `${t("add")} (${label})`));
    return box;
  }

  const enterpriseId = h("input", { type: "text", value: view.enterprise, id: "ent-id", maxlength: 100 });
  enterpriseId.addEventListener("change", () => (view.enterprise = enterpriseId.value.trim()));
  const profileRegion = select(regionOpts, view.region, (v) => (view.region = v));
  profileRegion.id = "ent-region";
  const byEnterprise = h("div", { class: "by-enterprise" }, field(t("enterpriseId"), enterpriseId));
  const byProfile = h("div", { class: "by-profile" }, field(t("region"), profileRegion), sectorRows(t("offers"), view.offers, "offers"), sectorRows(t("seeks"), view.seeks, "seeks"));
  const showMode = (): void => {
    byEnterprise.hidden = view.mode !== "enterprise";
    byProfile.hidden = view.mode !== "profile";
  };
  const modeRadios = (["enterprise", "profile"] as const).map((m) => {
    const input = h("input", { type: "radio", name: "mode", value: m, id: `mode-${m}`, checked: view.mode === m });
    input.addEventListener("change", () => {
      view.mode = m;
      showMode();
    });
    return h("span", { class: "radio" }, input, h("label", { for: input.id }, t(m === "enterprise" ? "anEnterprise" : "aProfile")));
  });
  showMode();
  const partnerRegion = select([{ value: "", label: t("any") }, ...regionOpts], view.partnerRegion, (v) => (view.partnerRegion = v));
  partnerRegion.id = "ent-partner-region";
  const ownership = optional(OWNERSHIPS, view.ownership, (v) => (view.ownership = v));
  ownership.id = "ent-ownership";
  const size = optional(SIZES, view.size, (v) => (view.size = v));
  size.id = "ent-size";
  const channel = select([{ value: "", label: t("any") }, ...shared.taxonomy.channels.map((c) => ({ value: c.id, label: nameOf(shared, c.id) }))], view.channel, (v) => (view.channel = v));
  const k = h("input", { type: "number", min: 1, max: 100, value: String(view.k), id: "ent-k" });
  k.addEventListener("change", () => (view.k = Number(k.value)));

  const searchTurn = turns();
  async function search(): Promise<void> {
    results.replaceChildren(h("p", {}, t("loading")));
    const isLatest = searchTurn();
    try {
      const filters = {
        k: view.k,
        channel: view.channel || undefined,
        ownership: view.ownership || undefined,
        size: view.size || undefined,
      };
      const list =
        view.mode === "enterprise"
          ? await ok(client.GET("/enterprises/{enterprise_id}/partners", { params: { path: { enterprise_id: view.enterprise }, query: { ...filters, region: view.partnerRegion || undefined } } }))
          : await ok(client.POST("/partners/search", { body: { ...filters, region: view.region, partner_region: view.partnerRegion || undefined, offers: Object.fromEntries(view.offers), seeks: Object.fromEntries(view.seeks) } }));
      if (!isLatest()) return;
      page.clearError();
      results.replaceChildren(partnersTable(shared, list));
    } catch (e) {
      results.replaceChildren();
      page.fail(e);
    }
  }

  // The registry, paged by cursor.
  const registry = h("div", { class: "registry" });
  const listRegion = select([{ value: "", label: t("any") }, ...regionOpts], view.listRegion, (v) => {
    view.listRegion = v;
    view.cursor = null;
    void loadList();
  });
  listRegion.id = "list-region";
  const listTurn = turns();
  async function loadList(): Promise<void> {
    const isLatest = listTurn();
    try {
      const page_ = await ok(client.GET("/enterprises", { params: { query: { region: view.listRegion || undefined, cursor: view.cursor ?? undefined, limit: 20 } } }));
      if (!isLatest()) return;
      registry.replaceChildren(
        page_.items.length
          ? h("ul", {}, page_.items.map((e) => h("li", { "data-id": e.id }, h("a", { href: `#/enterprises/${encodeURIComponent(e.id)}` }, `${e.name}`), ` · ${e.id} · ${nameOf(shared, e.region)} · ${e.size} · ${e.ownership}`)))
          : h("p", {}, t("noResults")),
        h(
          "div",
          { class: "row" },
          view.cursor ? h("button", { type: "button", onclick: () => { view.cursor = null; void loadList(); } }, t("first")) : null,
          page_.next_cursor ? h("button", { type: "button", class: "next", onclick: () => { view.cursor = page_.next_cursor; void loadList(); } }, t("next")) : null,
        ),
      );
    } catch (e) {
      page.fail(e);
    }
  }

  // A matchmaking round.
  const neIds = h("textarea", { rows: 3, id: "round-ne" });
  const eaIds = h("textarea", { rows: 3, id: "round-east" });
  const b = h("input", { type: "number", min: 1, max: 20, value: "1", id: "round-b" });
  const schedule = h("div", { class: "schedule", "aria-live": "polite" });
  const ids = (text: string): string[] => text.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
  async function round(): Promise<void> {
    try {
      const r = await ok(client.POST("/rounds", { body: { northeast: ids(neIds.value), east: ids(eaIds.value), b: Number(b.value), min_score: 0, exclude_existing: false, candidates: 20 } }));
      page.clearError();
      const csv = [csvRow(["slot", "northeast", "east", "score", "pinned"]), ...r.meetings.map((m) => csvRow([m.slot, m.northeast, m.east, m.score, m.pinned]))].join("\n") + "\n";
      schedule.replaceChildren(
        h("p", {}, `${t("objective")} ${fmt(r.objective)} · ${r.meetings.length} · ${t("slot")} ${r.slots}`),
        h(
          "table",
          { class: "meetings" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("slot")), h("th", { scope: "col" }, t("northeast")), h("th", { scope: "col" }, t("east")), h("th", { scope: "col" }, t("score")))),
          h("tbody", {}, r.meetings.map((m) => h("tr", {}, h("td", { class: "num" }, String(m.slot)), h("td", {}, m.northeast), h("td", {}, m.east), h("td", { class: "num" }, fmt(m.score))))),
        ),
        h("button", { type: "button", onclick: () => download("round.csv", csv) }, t("downloadSchedule")),
      );
    } catch (e) {
      schedule.replaceChildren();
      page.fail(e);
    }
  }

  root.append(
    h("h2", {}, t("enterprises")),
    h(
      "form",
      { class: "search", onsubmit: (e: Event) => { e.preventDefault(); void search(); } },
      h("fieldset", { class: "mode" }, h("legend", {}, t("searchFor")), ...modeRadios),
      byEnterprise,
      byProfile,
      h(
        "div",
        { class: "row" },
        field(t("partnerRegion"), partnerRegion),
        field(t("ownership"), ownership),
        field(t("size"), size),
        field(t("channel"), channel),
        field(t("k"), k),
      ),
      h("button", { type: "submit", class: "search-go" }, t("search")),
    ),
    results,
    h("section", {}, h("h3", {}, t("list")), h("div", { class: "row" }, field(t("region"), listRegion)), registry),
    h(
      "section",
      { class: "round" },
      h("h3", {}, t("round")),
      h("p", {}, t("roundHelp")),
      h("div", { class: "row" }, field(t("northeast"), neIds), field(t("east"), eaIds), field(t("meetingsPer"), b)),
      h("button", { type: "button", class: "round-go", onclick: () => void round() }, t("propose")),
      schedule,
    ),
  );
  await loadList();
}

async function renderEnterprise(page: Page, id: string): Promise<void> {
  const { root, shared } = page;
  root.append(h("p", {}, h("a", { href: "#/enterprises" }, `← ${t("back")}`)));
  const [e, partners] = await Promise.all([
    ok(client.GET("/enterprises/{enterprise_id}", { params: { path: { enterprise_id: id } } })),
    ok(client.GET("/enterprises/{enterprise_id}/partners", { params: { path: { enterprise_id: id }, query: { k: 10 } } })),
  ]);
  const sectorList = (m: Record<string, number> | undefined): string =>
    Object.entries(m ?? {}).map(([k, v]) => `${nameOf(shared, k)} ${fmt(v, 2)}`).join("; ") || t("none");
  root.append(
    h("h2", {}, e.name),
    h(
      "dl",
      { class: "profile" },
      h("dt", {}, t("enterpriseId")), h("dd", {}, e.id),
      h("dt", {}, t("region")), h("dd", {}, nameOf(shared, e.region)),
      h("dt", {}, t("size")), h("dd", {}, e.size ?? ""),
      h("dt", {}, t("ownership")), h("dd", {}, e.ownership ?? ""),
      h("dt", {}, t("founded")), h("dd", {}, e.founded === null || e.founded === undefined ? "–" : String(e.founded)),
      h("dt", {}, t("offers")), h("dd", {}, sectorList(e.offers)),
      h("dt", {}, t("seeks")), h("dd", {}, sectorList(e.seeks)),
    ),
    partnersTable(shared, partners),
  );
}
