// The VAE view's parameter inputs (params.js says which): a row of fields
// under the toolbar, plus the sampling temperature slider, which the view
// places in the samples panel. An edit is sent through `onSet(name, value)`;
// the kernel validates it and either updates the trait (`set(name, value)`)
// or sets a notice, and the view calls `revert()`.

import { paramField, selectField, sliderField } from "../common/controls.js";
import { h } from "../common/dom.js";
import { PARAMS, TEMPERATURE } from "./params.js";

export class ParamsBar {
  /** @param {HTMLElement} host  the row of fields is appended to it */
  constructor(host, { onSet }) {
    this.fields = PARAMS.map((spec) => (spec.kind === "select" ? selectField(spec, onSet) : paramField(spec, onSet)));
    /** the temperature slider: its `el` goes wherever the view puts it */
    this.temperature = sliderField(TEMPERATURE, onSet);
    this.el = h("div.vw-params", {}, this.fields.map((f) => f.el));
    this.fields.push(this.temperature);
    host.append(this.el);
  }

  /** The trait names of the fields (each field shows the trait of that name). */
  get names() {
    return this.fields.map((f) => f.input.dataset.param);
  }

  /** Show the kernel's value of `name`. */
  set(name, value) {
    for (const f of this.fields) if (f.input.dataset.param === name) f.set(value);
  }

  /** The kernel refused an edit: inputs still waiting for an answer go back to the kernel's values. */
  revert() {
    for (const f of this.fields) f.revert();
  }

  destroy() {
    for (const f of this.fields) f.destroy();
    this.el.remove();
    this.temperature.el.remove();
  }
}
