// The bipartite graph: northeast regions left, eastern right, a link's width and colour by score.
import { client, ok } from "../api";
import { field, fmt, h, s, select } from "../dom";
import { t } from "../i18n";
import type { Page } from "../main";
import { nameOf, type Region } from "../state";
import { explainLink } from "./explain";

const view = { channel: "", level: "", selected: "" };

export async function renderGraph(page: Page): Promise<void> {
  const { root, shared } = page;
  const graph = await ok(client.GET("/graph"));
  const byId = new Map(shared.regions.map((r) => [r.id, r]));
  const ties = new Map<string, { official: boolean; start: string }>();
  for (const r of shared.regions) {
    for (const tie of r.ties) {
      const key = `${tie.northeast}|${tie.east}`;
      const before = ties.get(key);
      ties.set(key, { official: (before?.official ?? false) || tie.kind === "official", start: tie.start });
    }
  }
  const detail = h("div", { class: "detail-panel", "aria-live": "polite" }, h("p", {}, t("clickLink")));
  const drawing = h("div", { class: "graph-box" });

  const channelSelect = select(
    [{ value: "", label: t("all") }, ...shared.taxonomy.channels.map((c) => ({ value: c.id, label: nameOf(shared, c.id) }))],
    view.channel,
    (v) => {
      view.channel = v;
      draw();
    },
  );
  const levelSelect = select(
    [
      { value: "", label: t("all") },
      { value: "province", label: t("province") },
      { value: "city", label: t("city") },
    ],
    view.level,
    (v) => {
      view.level = v;
      draw();
    },
  );

  async function show(ne: string, ea: string): Promise<void> {
    view.selected = `${ne}|${ea}`;
    detail.replaceChildren(h("p", {}, t("loading")));
    try {
      detail.replaceChildren(await explainLink(shared, ne, ea));
      page.clearError();
    } catch (e) {
      detail.replaceChildren();
      page.fail(e);
    }
  }

  function draw(): void {
    const keep = (r: Region | undefined): boolean => r !== undefined && (!view.level || r.level === view.level);
    const left = shared.regions.filter((r) => r.side === "northeast" && keep(r));
    const right = shared.regions.filter((r) => r.side === "east" && keep(r));
    const rows = Math.max(left.length, right.length, 1);
    const height = 60 + rows * 56;
    const y = (i: number, n: number): number => 40 + ((i + 0.5) * (height - 80)) / n;
    const pos = new Map<string, { x: number; y: number }>();
    left.forEach((r, i) => pos.set(r.id, { x: 190, y: y(i, left.length) }));
    right.forEach((r, i) => pos.set(r.id, { x: 610, y: y(i, right.length) }));
    const value = (l: (typeof graph.links)[number]): number =>
      view.channel ? (l.contributions[view.channel] ?? 0) : l.score;
    const links = graph.links.filter((l) => pos.has(l.source) && pos.has(l.target));
    const values = links.map(value);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const scale = (v: number): number => (hi > lo ? (v - lo) / (hi - lo) : 1);
    const svg = s("svg", {
      viewBox: `0 0 800 ${height}`,
      role: "group",
      "aria-label": `${t("graph")}: ${t("northeast")} – ${t("east")}`,
      class: "graph",
    });
    svg.append(
      s("text", { x: 190, y: 22, "text-anchor": "middle", class: "side" }, t("northeast")),
      s("text", { x: 610, y: 22, "text-anchor": "middle", class: "side" }, t("east")),
    );
    const sorted = [...links].sort((a, b) => value(a) - value(b));
    for (const l of sorted) {
      const a = pos.get(l.source)!;
      const b = pos.get(l.target)!;
      const tie = ties.get(`${l.source}|${l.target}`);
      const w = scale(value(l));
      const kind = tie?.official ? "official" : tie ? "tie" : "plain";
      const label = `${nameOf(shared, l.source)} – ${nameOf(shared, l.target)}: ${t("score")} ${fmt(value(l))}${
        tie ? ` (${tie.official ? t("official") : t("tie")} ${tie.start})` : ""
      }`;
      const line = s(
        "line",
        {
          x1: a.x,
          y1: a.y,
          x2: b.x,
          y2: b.y,
          class: `link ${kind}${view.selected === `${l.source}|${l.target}` ? " selected" : ""}`,
          "stroke-width": (1 + 7 * w).toFixed(2),
          "stroke-opacity": (0.25 + 0.75 * w).toFixed(2),
          tabindex: 0,
          role: "button",
          "aria-label": label,
          "data-northeast": l.source,
          "data-east": l.target,
        },
        s("title", {}, label),
      );
      const open = (): void => {
        svg.querySelectorAll(".link.selected").forEach((e) => e.classList.remove("selected"));
        line.classList.add("selected");
        void show(l.source, l.target);
      };
      line.addEventListener("click", open);
      line.addEventListener("keydown", (e) => {
        const key = (e as KeyboardEvent).key;
        if (key === "Enter" || key === " ") {
          e.preventDefault();
          open();
        }
      });
      svg.append(line);
    }
    for (const [id, p] of pos) {
      const r = byId.get(id)!;
      const isLeft = r.side === "northeast";
      svg.append(
        s(
          "g",
          { class: `node ${r.side} ${r.level}` },
          s("circle", { cx: p.x, cy: p.y, r: r.level === "province" ? 9 : 6 }),
          s(
            "text",
            { x: isLeft ? p.x - 16 : p.x + 16, y: p.y + 5, "text-anchor": isLeft ? "end" : "start" },
            nameOf(shared, id),
          ),
        ),
      );
    }
    drawing.replaceChildren(svg);
  }

  root.append(
    h("h2", {}, t("graph")),
    h(
      "div",
      { class: "controls" },
      field(t("channel"), channelSelect),
      field(t("level"), levelSelect),
      h(
        "ul",
        { class: "legend" },
        h("li", {}, h("span", { class: "swatch official" }), t("official")),
        h("li", {}, h("span", { class: "swatch tie" }), t("tie")),
        h("li", {}, h("span", { class: "swatch plain" }), t("score")),
      ),
    ),
    h("div", { class: "split" }, drawing, detail),
  );
  draw();
  document.body.dataset["graphRenderedMs"] = performance.now().toFixed(0);
  if (view.selected) {
    const [ne, ea] = view.selected.split("|");
    if (ne && ea) void show(ne, ea);
  }
}
