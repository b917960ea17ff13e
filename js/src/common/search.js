// The search box: what is typed becomes the `query` trait (debounced); the
// kernel answers with `matches` (point indices) and `n_matches`, which light
// up on the map (overlay) and can become the selection ("select").

import { toUint32 } from "./buffers.js";
import { h, setText } from "./dom.js";
import { fmtInt } from "./format.js";

const DEBOUNCE_MS = 200;

/** "12 matches" / "1 match" / "no match" / "" for an empty query. */
export function matchText(query, n) {
  if (!String(query || "").trim()) return "";
  if (!n) return "no match";
  return `${fmtInt(n)} ${n === 1 ? "match" : "matches"}`;
}

export class SearchBox {
  /** onSelect(indices): make the matches the selection; onMatches(): they changed */
  constructor(view, { onSelect, onMatches }) {
    const m = view.model;
    this.model = m;
    this.input = h("input.vw-search", {
      type: "search", placeholder: "search…", spellcheck: false, autocomplete: "off",
      attrs: { "aria-label": "search the table (case-insensitive)" },
    });
    this.countEl = h("span.vw-search-count");
    this.selectBtn = h("button.vw-search-select", { type: "button", hidden: true, title: "Select the matching points" }, "select");
    this.el = h("div.vw-searchbox", { title: "" }, this.input, this.countEl, this.selectBtn);
    let timer = null;
    view.listen(this.input, "input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => view.save("query", this.input.value), DEBOUNCE_MS);
    });
    view.listen(this.input, "keydown", (e) => {
      if (e.key === "Enter") {
        clearTimeout(timer);
        view.save("query", this.input.value);
      }
      e.stopPropagation(); // typing here must not trigger notebook shortcuts
    });
    view.offs.push(() => clearTimeout(timer));
    view.listen(this.selectBtn, "click", () => onSelect(Array.from(this.matches())));
    view.on(["query"], () => this.update());
    view.on(["matches", "n_matches"], () => {
      this.update();
      onMatches?.();
    });
    view.on(["search_columns"], () => this._title());
    this._title();
    this.update();
  }

  matches() {
    return toUint32(this.model.get("matches"));
  }

  update() {
    const q = this.model.get("query") || "";
    if (document.activeElement !== this.input && this.input.value !== q) this.input.value = q;
    const n = Number(this.model.get("n_matches")) || 0;
    setText(this.countEl, matchText(q, n));
    this.selectBtn.hidden = !(q.trim() && n > 0);
  }

  _title() {
    const cols = this.model.get("search_columns") || [];
    this.el.title = cols.length ? `Searches ${cols.join(", ")} (case-insensitive)` : "No text column to search";
    this.el.hidden = cols.length === 0;
  }
}
