// One rendered view of a VAEWidget: assembles the header and toolbar, the
// parameter inputs, the banners and alerts, and the panels (loss curves, KL
// per dimension, rate-distortion, disentanglement, the image grids, the
// selection), reads the model's traits and hands each panel its data.
//
// Each panel is a module of its own (see panel.js for the interface); the
// metric and epoch histories live in state.js (shared by the views of one
// model; a change there redraws the `metrics` parts). Here:
// which traits feed which panel (PARTS), coalesced redraws (redraw.js), theme
// and size changes, and clicks turned into messages.

import { toUint8 } from "../common/buffers.js";
import { banner } from "../common/controls.js";
import { h } from "../common/dom.js";
import { command } from "../common/schema.js";
import { ViewBase } from "../common/view_base.js";
import { AlertsPanel } from "./alerts_panel.js";
import { CurvesPanel } from "./curves_panel.js";
import { GridPanel } from "./grid_panel.js";
import { GRID_KINDS } from "./grids.js";
import { HeaderBar } from "./header.js";
import { KLPanel } from "./kl_panel.js";
import { MigPanel } from "./mig.js";
import { ParamsBar } from "./params_bar.js";
import { RDPanel } from "./rd_panel.js";
import { Redraw } from "./redraw.js";
import { SelectionPanel } from "./selection.js";

const STATUS_TRAITS = ["status", "step", "epoch", "target_epoch", "epochs", "mode"];

/**
 * The panels and what feeds them: `traits` whose change redraws the part
 * (the metric history redraws the `metrics` parts), and `draw(view)`, which
 * reads the model and calls the panel's update (false: retry, no width yet).
 */
const PARTS = {
  curves: {
    metrics: true,
    traits: ["marks"],
    draw: (v) => v.panels.curves.update(v.store.cols, v.shared.epochs.cols, v.model.get("marks")),
  },
  kl: {
    metrics: true,
    traits: ["marks", "active_units", "latent_dim"],
    draw: (v) =>
      v.panels.kl.update(v.store, { marks: v.model.get("marks") || [], latentDim: v.model.get("latent_dim"), activeUnits: v.model.get("active_units") }),
  },
  rd: {
    metrics: true,
    traits: [],
    draw: (v) => v.panels.rd.update(v.store, v.shared.epochs.cols),
  },
  mig: {
    traits: ["disentanglement"],
    draw: (v) => {
      const ok = v.panels.mig.update(v.model.get("disentanglement"));
      v.root.dataset.mig = v.panels.mig.score.dataset.mig;
      return ok;
    },
  },
  ...Object.fromEntries(
    GRID_KINDS.map((kind) => [
      kind,
      {
        traits: ["grids", `grid_${kind}`],
        draw: (v) => {
          const ok = v.panels[kind].update((v.model.get("grids") || {})[kind], toUint8(v.model.get(`grid_${kind}`)), v.model.get("status"));
          v.root.dataset.grids = String(GRID_KINDS.reduce((n, k) => n + v.panels[k].draws, 0));
          return ok;
        },
      },
    ]),
  ),
  selection: {
    traits: ["selection", "grid_selection"],
    draw: (v) => v.panels.selection.update(v.model.get("selection"), toUint8(v.model.get("grid_selection"))),
  },
};

export class VAEView extends ViewBase {
  constructor(model, el, shared) {
    super(model);
    this.shared = shared;
    this.hiddenParts = new Set(); // panels hidden by showPanel()
    this.lastWidth = -1;
    this.redraw = new Redraw((part) => this._draw(part), { first: ["size"] });
    this._build(el);
    this.follow(this.root, [this.root]); // the host theme and this view's width (resized)
    this.themeChanged(this.theme, true);
    this._wire();
    this._syncAll();
  }

  get store() {
    return this.shared.store;
  }

  // ---------------------------------------------------------------- DOM
  _build(el) {
    const m = this.model;
    const root = (this.root = h("div.vw-root.vw-vae", { dataset: { status: "", step: "0", epoch: "0", metrics: "0", grids: "0", alerts: "0" } }));
    this.header = new HeaderBar(root, { onCommand: (action) => m.send(command(action)), root: () => this.root });
    this.params = new ParamsBar(root, { onSet: (name, value) => m.send(command("set", { [name]: value })) });
    this.error = banner("vw-error");
    this.notice = banner("vw-notice", { dismissable: true, autoHideMs: 10000 });
    root.append(this.error.el, this.notice.el);
    this.alerts = new AlertsPanel(root);

    const grid = h("div.vw-panels");
    // two stacks, so a tall traversal does not leave a hole beside the short reconstructions
    const stack1 = h("div.vw-panel-stack"), stack2 = h("div.vw-panel-stack");
    const p = (this.panels = {});
    p.curves = new CurvesPanel(grid);
    p.kl = new KLPanel(grid);
    p.rd = new RDPanel(grid);
    p.mig = new MigPanel(grid); // hidden without factors=
    grid.append(stack1, stack2);
    p.reconstructions = new GridPanel(stack1, "reconstructions");
    p.samples = new GridPanel(stack1, "samples", { headExtras: [this.params.temperature.el] });
    p.traversal = new GridPanel(stack2, "traversal");
    p.interpolation = new GridPanel(stack2, "interpolation");
    // points selected in a linked t-SNE map (hidden while there are none)
    p.selection = new SelectionPanel(grid, {
      onClear: () => {
        m.set("selection_indices", []);
        m.save_changes();
      },
    });
    root.append(grid);
    el.append(root);
  }

  /**
   * Show or hide a panel (by its PARTS name), e.g. when this model produces no
   * such data. A hidden panel is not drawn; shown again, it draws the current data.
   */
  showPanel(name, on) {
    const panel = this.panels[name];
    if (!panel || this.hiddenParts.has(name) === !on) return;
    if (on) this.hiddenParts.delete(name);
    else this.hiddenParts.add(name);
    panel.hidden = !on;
    if (on) this.redraw.schedule(name);
  }

  // ---------------------------------------------------------------- wiring
  _wire() {
    const m = this.model;
    for (const t of STATUS_TRAITS) this.on(t, () => this._status());
    this.on("error", () => this.error.set(m.get("error")));
    this.on("notice", () => this._notice());
    this.on("info", () => this.header.setInfo(m.get("info")));
    this.on("alerts", () => this._alerts());
    for (const name of this.params.names) this.on(name, () => this.params.set(name, m.get(name)));
    const byTrait = new Map();
    for (const [part, spec] of Object.entries(PARTS)) for (const t of spec.traits) byTrait.set(t, [...(byTrait.get(t) || []), part]);
    for (const [t, parts] of byTrait) this.on(t, () => this.redraw.schedule(...parts));
  }

  resized() {
    const w = this.root.clientWidth;
    if (w > 0) this.redraw.retrySkipped();
    if (w === this.lastWidth) return;
    this.lastWidth = w;
    this.redraw.schedule("size", ...Object.keys(PARTS));
  }

  _syncAll() {
    const m = this.model;
    this._status();
    this.error.set(m.get("error"));
    if (m.get("notice")) this._notice();
    this.header.setInfo(m.get("info"));
    for (const name of this.params.names) this.params.set(name, m.get(name));
    this._alerts();
    this.onMetrics();
    this.redraw.now(...Object.keys(PARTS).filter((p) => !PARTS[p].metrics));
  }

  _draw(part) {
    if (part === "size") return this.panels.curves.resize();
    if (this.hiddenParts.has(part)) return true;
    return PARTS[part].draw(this);
  }

  /** Called by the shared state when the metric history changed. */
  onMetrics() {
    if (this.destroyed) return;
    this.shared.flush();
    this.root.dataset.metrics = String(this.store.length);
    this.redraw.now(...Object.keys(PARTS).filter((p) => PARTS[p].metrics));
  }

  // ---------------------------------------------------------------- status, banners, alerts
  _status() {
    const m = this.model;
    const status = m.get("status") || "idle";
    const step = Number(m.get("step")) || 0;
    const epoch = Number(m.get("epoch")) || 0;
    const mode = m.get("mode") || "train";
    this.root.dataset.status = status;
    this.root.dataset.step = String(step);
    this.root.dataset.epoch = String(epoch);
    this.root.dataset.mode = mode;
    this.header.update({ status, step, epoch, targetEpoch: Number(m.get("target_epoch")) || 0, epochs: Number(m.get("epochs")) || 0, mode });
    // a user's loop owns beta, the learning rate and its epochs: no inputs for them
    this.params.el.hidden = mode === "watch";
    this.panels.curves.setStatus(status, mode);
    for (const kind of GRID_KINDS) this.panels[kind].setStatus(status, mode);
  }

  _notice() {
    const text = this.model.get("notice") || "";
    this.notice.set(text);
    if (text) this.params.revert();
  }

  _alerts() {
    const list = this.model.get("alerts");
    this.root.dataset.alerts = String(Array.isArray(list) ? list.length : 0);
    this.alerts.update(list);
  }

  // ---------------------------------------------------------------- theme, teardown
  themeChanged(theme, initial = false) {
    const redraw = Object.keys(PARTS).filter((name) => this.panels[name].setTheme(theme));
    if (!initial) this.redraw.schedule(...redraw);
  }

  destroy() {
    super.destroy();
    this.redraw.destroy();
    this.params.destroy();
    this.error.destroy();
    this.notice.destroy();
    for (const panel of Object.values(this.panels)) panel.destroy();
    this.root.remove();
  }
}
