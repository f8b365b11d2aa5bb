import "./style.css";
import { ApiError, getKey, setKey } from "./api";
import { field, h, select } from "./dom";
import { getLang, setLang, t, type Lang, type TextKey } from "./i18n";
import { renderEnterprises } from "./pages/enterprises";
import { renderEvaluation } from "./pages/evaluation";
import { renderGraph } from "./pages/graph";
import { renderSuggestions } from "./pages/suggestions";
import { renderWhatIf } from "./pages/whatif";
import { loadShared, type Shared } from "./state";

export interface Page {
  root: HTMLElement;
  shared: Shared;
  /** Path segments after the page's own, e.g. an enterprise id. */
  rest: string[];
  fail: (e: unknown) => void;
  clearError: () => void;
}

type Render = (page: Page) => void | Promise<void>;

const PAGES: { path: string; label: TextKey; render: Render }[] = [
  { path: "graph", label: "graph", render: renderGraph },
  { path: "what-if", label: "whatif", render: renderWhatIf },
  { path: "suggestions", label: "suggestions", render: renderSuggestions },
  { path: "enterprises", label: "enterprises", render: renderEnterprises },
  { path: "evaluation", label: "evaluation", render: renderEvaluation },
];

const app = document.getElementById("app") as HTMLElement;
const errorBox = h("div", { id: "error", role: "alert", "aria-live": "assertive" });
const main = h("main", { id: "main", tabindex: "-1" });

function showError(e: unknown): void {
  if (e instanceof DOMException && e.name === "AbortError") return;
  errorBox.replaceChildren();
  if (e instanceof ApiError) {
    errorBox.append(
      h("strong", {}, `${t("error")}: `),
      h("span", { class: "detail" }, e.detail),
    );
    // Several problems are listed; one that only repeats the detail is not.
    const more = e.problems.filter((p) => !p.endsWith(e.detail));
    if (more.length) errorBox.append(h("ul", {}, more.map((p) => h("li", {}, p))));
  } else {
    errorBox.append(h("strong", {}, `${t("error")}: `), h("span", { class: "detail" }, String(e)));
  }
  errorBox.append(
    h("button", { type: "button", class: "dismiss", onclick: () => clearError() }, t("dismiss")),
  );
  errorBox.classList.add("shown");
}

function clearError(): void {
  errorBox.replaceChildren();
  errorBox.classList.remove("shown");
}

function current(): { page: (typeof PAGES)[number]; rest: string[] } {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const page = PAGES.find((p) => p.path === parts[0]) ?? PAGES[0]!;
  return { page, rest: parts.slice(1).map(decodeURIComponent) };
}

function header(): HTMLElement {
  const here = current().page.path;
  const lang = select(
    [
      { value: "en", label: "English" },
      { value: "zh", label: "中文" },
    ],
    getLang(),
    (v) => {
      setLang(v as Lang);
      void route();
    },
  );
  lang.id = "lang";
  const key = h("input", { type: "password", value: getKey(), autocomplete: "off", size: 14 });
  key.id = "admin-key";
  key.addEventListener("change", () => setKey(key.value.trim()));
  return h(
    "header",
    {},
    h(
      "div",
      { class: "brand" },
      h("h1", {}, t("title")),
      h("span", { class: "tagline" }, t("tagline")),
    ),
    h(
      "nav",
      { "aria-label": t("nav") },
      h(
        "ul",
        {},
        PAGES.map((p) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: `#/${p.path}`, "aria-current": p.path === here ? "page" : undefined },
              t(p.label),
            ),
          ),
        ),
        h("li", {}, h("a", { href: "/docs" }, t("docs"))),
      ),
    ),
    h("div", { class: "settings" }, field(t("language"), lang), field(t("key"), key)),
  );
}

let generation = 0;

async function route(): Promise<void> {
  generation += 1;
  const mine = generation;
  const { page, rest } = current();
  app.replaceChildren(header(), errorBox, main);
  main.replaceChildren(h("p", { class: "loading" }, t("loading")));
  document.title = `${t(page.label)} · ${t("title")}`;
  try {
    const shared = await loadShared();
    if (mine !== generation) return;
    const root = h("div", { class: `page page-${page.path}` });
    main.replaceChildren(root);
    await page.render({ root, shared, rest, fail: showError, clearError });
  } catch (e) {
    if (mine === generation) {
      main.replaceChildren();
      showError(e);
    }
  }
}

setLang(getLang());
window.addEventListener("hashchange", () => {
  clearError();
  void route().then(() => main.focus());
});
void route();
