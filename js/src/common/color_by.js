// "colour by" menu (any column of the table, or one colour) and the toggle for
// category names on the map. Both are traits (`color`, `show_labels`): the
// kernel validates and encodes the colour, Python sees the choice.

import { h } from "./dom.js";

/** Menu entries: [{label, options: [{value, text}]}], table columns first, embedded features last. */
export function colorOptions(columns) {
  const shown = (columns || []).filter((c) => !c.feature);
  const features = (columns || []).filter((c) => c.feature);
  const out = [{ label: "", options: [{ value: "", text: "(one colour)" }] }];
  if (shown.length) out.push({ label: "columns", options: shown.map((c) => ({ value: c.name, text: c.name })) });
  if (features.length && features.length <= 64)
    out.push({ label: "embedded features", options: features.map((c) => ({ value: c.name, text: c.name })) });
  return out;
}

export class ColorBy {
  constructor(view) {
    this.view = view;
    this.model = view.model;
    this.select = h("select.vw-colorby", { attrs: { "aria-label": "colour the points by" }, title: "Colour the points by a column" });
    this.labelsBox = h("input.vw-labels-toggle", { type: "checkbox", title: "Write each category's name at the centre of its points" });
    this.el = h(
      "div.vw-colorby-box", {},
      h("label.vw-colorby-label", {}, "colour by", this.select),
      h("label.vw-labels-label", {}, this.labelsBox, "labels"),
    );
    view.listen(this.select, "change", () => view.save("color", this.select.value));
    view.listen(this.labelsBox, "change", () => view.save("show_labels", this.labelsBox.checked));
    view.on(["columns"], () => this.options());
    view.on(["color", "color_kind"], () => this.update());
    view.on(["show_labels"], () => this.update());
    this.options();
  }

  options() {
    const groups = colorOptions(this.model.get("columns"));
    this.select.replaceChildren(
      ...groups.map((g) => {
        const opts = g.options.map((o) => h("option", { value: o.value }, o.text));
        return g.label ? h("optgroup", { label: g.label }, ...opts) : opts;
      }).flat(),
    );
    this.el.hidden = (this.model.get("columns") || []).length === 0;
    this.update();
  }

  update() {
    const v = this.model.get("color") || "";
    if (this.select.value !== v) this.select.value = v;
    this.labelsBox.checked = Boolean(this.model.get("show_labels"));
    this.labelsBox.parentElement.hidden = this.model.get("color_kind") !== "categorical";
  }
}
