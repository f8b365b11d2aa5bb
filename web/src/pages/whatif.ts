// What-if: weights, capacity, threshold, pins and forbidden pairs; the plan, its diff against the
// baseline and every weight's sensitivity interval, re-evaluated on every change (no reload).
import {
  client,
  ok,
  type Diff,
  type PairOut,
  type SavedScenario,
  type ScenarioBody,
  type ScenarioResult,
  type WeightInterval,
} from "../api";
import { csvRow, download, field, fmt, h, s, select } from "../dom";
import { t } from "../i18n";
import type { Page } from "../main";
import { components, nameOf, regionsOf, type Shared } from "../state";

type Result = ScenarioResult;
type Pair = [string, string];

interface State {
  weights: Record<string, number>;
  capacity: number;
  minScore: number;
  pinned: Pair[];
  forbidden: Pair[];
}

let state: State | null = null;
let last: Result | null = null;

function defaults(shared: Shared): State {
  return {
    weights: Object.fromEntries(components(shared).map((c) => [c.id, c.weight])),
    capacity: 2,
    minScore: 0,
    pinned: [],
    forbidden: [],
  };
}

/** The request body of a state: only the weights that differ from their defaults. */
export function scenarioOf(shared: Shared, st: State): ScenarioBody {
  const channels: Record<string, number> = {};
  const factors: Record<string, number> = {};
  for (const c of components(shared)) {
    const w = st.weights[c.id] ?? c.weight;
    if (w !== c.weight) (c.kind === "channel" ? channels : factors)[c.id] = w;
  }
  return {
    weights: { channels, factors },
    capacity: st.capacity,
    min_score: st.minScore,
    pinned: st.pinned,
    forbidden: st.forbidden,
    same_level: false,
    k: 3,
    links: 20,
    moves: 10,
  };
}

function pairs(list: string[][] | undefined): Pair[] {
  const out: Pair[] = [];
  for (const [a, b] of list ?? []) if (a !== undefined && b !== undefined) out.push([a, b]);
  return out;
}

function stateOf(shared: Shared, sc: SavedScenario["scenario"]): State {
  const st = defaults(shared);
  Object.assign(st.weights, sc.weights?.channels ?? {}, sc.weights?.factors ?? {});
  st.capacity = sc.capacity ?? 2;
  st.minScore = sc.min_score ?? 0;
  st.pinned = pairs(sc.pinned);
  st.forbidden = pairs(sc.forbidden);
  return st;
}

export async function renderWhatIf(page: Page): Promise<void> {
  const { root, shared } = page;
  const st: State = state ?? defaults(shared);
  state = st;
  const pairName = (ne: string, ea: string): string => `${nameOf(shared, ne)} – ${nameOf(shared, ea)}`;

  const status = h("p", { class: "status", "aria-live": "polite" });
  const planBox = h("section", { class: "plan", "aria-label": t("plan") });
  const diffBox = h("section", { class: "diff", "aria-label": t("diff") });
  const sensBox = h("section", { class: "sensitivity", "aria-label": t("sensitivity") });
  const savedBox = h("section", { class: "saved", "aria-label": t("saved") });
  const compareBox = h("div", { class: "compare" });

  let controller: AbortController | null = null;
  let timer: number | undefined;
  let changedAt = 0;

  function changed(): void {
    changedAt = performance.now();
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void evaluate(), 60);
  }

  async function evaluate(): Promise<void> {
    controller?.abort();
    controller = new AbortController();
    const started = changedAt || performance.now();
    status.textContent = t("loading");
    try {
      const result = await ok(
        client.POST("/scenarios/evaluate", { body: scenarioOf(shared, st), signal: controller.signal }),
      );
      last = result;
      drawResult(result);
      const ms = performance.now() - started;
      status.textContent = `${t("updatedIn")} ${ms.toFixed(0)} ms`;
      document.body.dataset["whatifMs"] = ms.toFixed(0);
      document.body.dataset["whatifVersion"] = String(Number(document.body.dataset["whatifVersion"] ?? "0") + 1);
      page.clearError();
    } catch (e) {
      status.textContent = "";
      page.fail(e);
    }
  }

  function drawResult(r: Result): void {
    planBox.replaceChildren(
      h("h3", {}, `${t("plan")} — ${t("objective")} `, h("span", { class: "objective" }, fmt(r.plan.objective))),
      h("p", { class: "message" }, r.plan.message),
      h(
        "table",
        { class: "plan-pairs" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("northeast")), h("th", { scope: "col" }, t("east")), h("th", { scope: "col" }, t("score")))),
        h(
          "tbody",
          {},
          r.plan.pairs.map((p) =>
            h(
              "tr",
              { "data-pair": `${p.northeast}|${p.east}` },
              h("td", {}, nameOf(shared, p.northeast)),
              h("td", {}, nameOf(shared, p.east), p.pinned ? h("span", { class: "badge" }, t("pinned")) : null),
              h("td", { class: "num" }, fmt(p.score)),
            ),
          ),
        ),
      ),
      h("button", { type: "button", onclick: () => downloadPlan(r) }, t("downloadCsv")),
    );
    diffBox.replaceChildren(h("h3", {}, t("diff")), diffView(r.diff));
    sensBox.replaceChildren(h("h3", {}, t("sensitivity")), sensitivityChart(r.sensitivity));
  }

  function diffView(d: Diff): HTMLElement {
    const pairs = (cls: string, list: PairOut[]): HTMLElement =>
      h(
        "ul",
        { class: cls },
        list.length ? list.map((p) => h("li", { "data-pair": `${p.northeast}|${p.east}` }, pairName(p.northeast, p.east))) : h("li", { class: "none" }, t("none")),
      );
    return h(
      "div",
      {},
      h(
        "p",
        {},
        `${t("baseline")} ${fmt(d.baseline_objective)} → ${t("scenario")} ${fmt(d.scenario_objective)}`,
      ),
      h("div", { class: "cols" }, h("div", {}, h("h4", {}, t("entered")), pairs("entered", d.entered)), h("div", {}, h("h4", {}, t("left")), pairs("left", d.left))),
      h("h4", {}, `${t("moved")} (${d.moved_total} ${t("movedTotal")})`),
      d.moves.length
        ? h(
            "table",
            { class: "moves" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("partner")), h("th", { scope: "col" }, t("rank")), h("th", { scope: "col" }, t("score")))),
            h(
              "tbody",
              {},
              d.moves.map((m) =>
                h(
                  "tr",
                  {},
                  h("td", {}, pairName(m.northeast, m.east)),
                  h("td", { class: "num" }, `${m.baseline_rank} → ${m.scenario_rank}`),
                  h("td", { class: "num" }, `${fmt(m.baseline_score)} → ${fmt(m.scenario_score)}`),
                ),
              ),
            ),
          )
        : null,
    );
  }

  function sensitivityChart(list: WeightInterval[]): SVGElement {
    const top = Math.max(...list.map((i) => Math.max(i.upper ?? 0, i.weight, i.lower)), 0.01) * 1.15;
    const width = 620;
    const x0 = 240;
    const x = (v: number): number => x0 + (Math.min(v, top) / top) * (width - x0 - 10);
    const svg = s("svg", { viewBox: `0 0 ${width} ${list.length * 24 + 24}`, class: "bars", role: "img", "aria-label": t("sensitivity") });
    list.forEach((i, n) => {
      const y = 10 + n * 24;
      const upper = i.upper ?? top;
      const label = `${nameOf(shared, i.component)}: ${fmt(i.lower, 3)} – ${i.upper === null ? t("unbounded") : fmt(i.upper, 3)} (${t("weight")} ${fmt(i.weight, 3)})`;
      svg.append(
        s(
          "g",
          { class: `interval ${i.kind}` },
          s("title", {}, label),
          s("text", { x: x0 - 8, y: y + 13, "text-anchor": "end" }, nameOf(shared, i.component)),
          s("rect", { x: x(i.lower), y: y + 3, width: Math.max(1, x(upper) - x(i.lower)), height: 12, class: i.upper === null ? "open" : "closed" }),
          s("line", { x1: x(i.weight), x2: x(i.weight), y1: y, y2: y + 18, class: "current" }),
        ),
      );
    });
    svg.append(s("text", { x: x0, y: list.length * 24 + 20, class: "axis" }, "0"), s("text", { x: width - 10, y: list.length * 24 + 20, "text-anchor": "end", class: "axis" }, fmt(top, 2)));
    return svg;
  }

  function downloadPlan(r: Result): void {
    const lines = [csvRow(["northeast", "east", "score", "pinned", ...Object.keys(r.plan.pairs[0]?.contributions ?? {})])];
    for (const p of r.plan.pairs) {
      lines.push(csvRow([p.northeast, p.east, p.score, p.pinned, ...Object.values(p.contributions)]));
    }
    download("plan.csv", lines.join("\n") + "\n");
  }

  // --- controls
  const sliders = h("fieldset", { class: "weights" }, h("legend", {}, t("weights")));
  for (const c of components(shared)) {
    const out = h("output", {}, fmt(st.weights[c.id] ?? c.weight, 2));
    const input = h("input", {
      type: "range",
      min: 0,
      max: 0.6,
      step: 0.01,
      value: String(st.weights[c.id] ?? c.weight),
      "data-component": c.id,
    });
    out.setAttribute("for", (input.id = `w-${c.id}`));
    input.addEventListener("input", () => {
      st.weights[c.id] = Number(input.value);
      out.textContent = fmt(Number(input.value), 2);
      changed();
    });
    sliders.append(h("div", { class: `slider ${c.kind}` }, h("label", { for: input.id }, nameOf(shared, c.id)), input, out));
  }
  const capacity = h("input", { type: "number", min: 0, max: 50, step: 1, value: String(st.capacity), id: "capacity" });
  capacity.addEventListener("change", () => {
    st.capacity = Math.max(0, Math.round(Number(capacity.value)));
    changed();
  });
  const minScore = h("input", { type: "number", min: 0, max: 1, step: 0.01, value: String(st.minScore), id: "min-score" });
  minScore.addEventListener("change", () => {
    st.minScore = Number(minScore.value);
    changed();
  });

  function pairEditor(label: string, list: Pair[], cls: string): HTMLElement {
    const ne = regionsOf(shared, "northeast");
    const ea = regionsOf(shared, "east");
    let a = ne[0]?.id ?? "";
    let b = ea[0]?.id ?? "";
    const items = h("ul", { class: "pairs" });
    const redraw = (): void => {
      items.replaceChildren(
        ...list.map((p, n) =>
          h(
            "li",
            {},
            pairName(p[0], p[1]),
            " ",
            h(
              "button",
              {
                type: "button",
                "aria-label": `${t("remove")} ${pairName(p[0], p[1])}`,
                onclick: () => {
                  list.splice(n, 1);
                  redraw();
                  changed();
                },
              },
              "×",
            ),
          ),
        ),
      );
    };
    redraw();
    const sa = select(ne.map((r) => ({ value: r.id, label: nameOf(shared, r.id) })), a, (v) => (a = v));
    const sb = select(ea.map((r) => ({ value: r.id, label: nameOf(shared, r.id) })), b, (v) => (b = v));
    return h(
      "fieldset",
      { class: cls },
      h("legend", {}, label),
      h("div", { class: "row" }, field(t("northeast"), sa), field(t("east"), sb), h("button", { type: "button", class: "add", onclick: () => {
        list.push([a, b]);
        redraw();
        changed();
      } }, t("add"))),
      items,
    );
  }

  // --- saved scenarios
  const name = h("input", { type: "text", maxlength: 200, id: "scenario-name" });
  async function save(): Promise<void> {
    try {
      await ok(client.POST("/scenarios", { body: { name: name.value.trim(), description: "", scenario: scenarioOf(shared, st) } }));
      name.value = "";
      page.clearError();
      await listSaved();
    } catch (e) {
      page.fail(e);
    }
  }

  async function listSaved(): Promise<void> {
    const list = await ok(client.GET("/scenarios", { params: { query: { limit: 50 } } }));
    const opts = list.items.map((i) => ({ value: String(i.id), label: `#${i.id} ${i.name}` }));
    let a = opts[0]?.value ?? "";
    let b = opts[1]?.value ?? a;
    const sa = select(opts, a, (v) => (a = v));
    const sb = select(opts, b, (v) => (b = v));
    sa.id = "compare-a";
    sb.id = "compare-b";
    savedBox.replaceChildren(
      h("h3", {}, t("saved")),
      list.items.length
        ? h(
            "ul",
            { class: "saved-list" },
            list.items.map((i) =>
              h(
                "li",
                {},
                `#${i.id} ${i.name} `,
                h("button", { type: "button", "aria-label": `${t("open")} ${i.name}`, onclick: () => void openSaved(i.id) }, t("open")),
              ),
            ),
          )
        : h("p", {}, t("none")),
      list.items.length >= 2
        ? h("div", { class: "row" }, field(t("compare"), sa), field(t("compareWith"), sb), h("button", { type: "button", class: "compare-go", onclick: () => void compare(Number(a), Number(b)) }, t("compare")))
        : "",
      compareBox,
    );
  }

  async function openSaved(id: number): Promise<void> {
    try {
      const saved = await ok(client.GET("/scenarios/{scenario_id}", { params: { path: { scenario_id: id } } }));
      state = stateOf(shared, saved.scenario);
      last = saved.result;
      controller?.abort();
      window.clearTimeout(timer);
      root.replaceChildren();
      await renderWhatIf(page);
    } catch (e) {
      page.fail(e);
    }
  }

  async function compare(a: number, b: number): Promise<void> {
    try {
      const [one, two, cmp] = await Promise.all([
        ok(client.GET("/scenarios/{scenario_id}", { params: { path: { scenario_id: a } } })),
        ok(client.GET("/scenarios/{scenario_id}", { params: { path: { scenario_id: b } } })),
        ok(client.GET("/scenarios/{scenario_id}/compare/{other_id}", { params: { path: { scenario_id: a, other_id: b } } })),
      ]);
      const side = (sv: SavedScenario): HTMLElement =>
        h(
          "div",
          { class: "side-plan" },
          h("h4", {}, `#${sv.id} ${sv.name}: ${fmt(sv.result.plan.objective)}`),
          h("ul", {}, sv.result.plan.pairs.map((p) => h("li", {}, `${pairName(p.northeast, p.east)} ${fmt(p.score)}`))),
        );
      compareBox.replaceChildren(
        h("div", { class: "cols side-by-side" }, side(one), side(two)),
        h("h4", {}, `${cmp.scenario.name} → ${cmp.other.name}`),
        diffView(cmp.diff),
      );
      page.clearError();
    } catch (e) {
      page.fail(e);
    }
  }

  root.append(
    h("h2", {}, t("whatif")),
    h(
      "div",
      { class: "whatif" },
      h(
        "div",
        { class: "controls-col" },
        sliders,
        h("div", { class: "row" }, field(t("capacity"), capacity), field(t("threshold"), minScore)),
        pairEditor(t("pins"), st.pinned, "pins"),
        pairEditor(t("forbidden"), st.forbidden, "forbidden"),
        h("button", { type: "button", onclick: () => {
          // A fresh page on the default state: it evaluates it (the old page's result is gone).
          state = defaults(shared);
          last = null;
          controller?.abort();
          window.clearTimeout(timer);
          root.replaceChildren();
          void renderWhatIf(page);
        } }, t("reset")),
        h("div", { class: "row" }, field(t("name"), name), h("button", { type: "button", class: "save", onclick: () => void save() }, t("save"))),
      ),
      h("div", { class: "results-col" }, status, planBox, diffBox, sensBox),
    ),
    savedBox,
  );
  if (last) drawResult(last);
  else await evaluate();
  try {
    await listSaved();
  } catch (e) {
    page.fail(e);
  }
}
