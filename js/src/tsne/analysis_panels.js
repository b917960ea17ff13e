// The read-outs beside the t-SNE map after a run: map quality
// (trustworthiness, kNN preservation) and the points placed with add_points()
// (their count and drift score).

import { h, setText } from "../common/dom.js";
import { fmtInt } from "../common/format.js";
import { driftText, qualityText } from "./analysis.js";

export class QualityPanel {
  constructor(model) {
    this.model = model;
    this.titleEl = h("div.vw-panel-title");
    this.bodyEl = h("div.vw-quality-body");
    this.el = h("div.vw-quality", { hidden: true }, this.titleEl, this.bodyEl);
  }

  /** Returns the trustworthiness shown ("" when none). */
  update() {
    const q = qualityText(this.model.get("quality"));
    this.el.hidden = !q;
    if (!q) return "";
    setText(this.titleEl, q.title);
    this.bodyEl.replaceChildren(
      ...q.lines.map(([name, value, help]) =>
        h("div.vw-quality-row", { title: help }, h("span.vw-quality-name", {}, name), h("span.vw-quality-value", {}, value)),
      ),
      h("div.vw-quality-sample", {}, q.sample),
    );
    return String(this.model.get("quality").trustworthiness);
  }
}

export class NewPointsPanel {
  constructor(model) {
    this.model = model;
    this.textEl = h("span.vw-newpoints-text");
    this.driftEl = h("div.vw-drift", {
      title: "mean distance of the new points to their 10 nearest reference points, over the reference points' own mean: ≈1 like the reference, ≫1 off it",
    });
    this.el = h(
      "div.vw-newpoints", { hidden: true, title: "Points placed with add_points() on the finished map" },
      h("div.vw-newpoints-entry", {}, h("span.vw-ring-swatch"), this.textEl), this.driftEl,
    );
  }

  update() {
    const n = this.model.get("n_new") || 0;
    this.el.hidden = n === 0;
    setText(this.textEl, `new points: ${fmtInt(n)}`);
    setText(this.driftEl, driftText(this.model.get("drift")));
  }
}
